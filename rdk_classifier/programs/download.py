# Copyright 2026 rdk_classifier developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
Download zoo models by catalog name into the model cache (for robots with internet).

    ros2 run rdk_classifier download RepViT_m0_9 [--onnx URL] [--dir DIR]

Files arrive atomically (files.atomic_write: renamed into place once complete and
checked), so an interrupted or broken download never leaves a file the node would load. A .bin
file is checked, where pyeasy_dnn is installed, by building the hobot_dnn engine on it in a
short-lived child process: the BPU runtime keeps every model a process loads until that process
exits. Everything runs in the calling thread.
"""

import argparse
from pathlib import Path
import subprocess
import sys
from typing import List, Optional
import urllib.request

from rdk_classifier.catalog import default_cache_dir, find_model
from rdk_classifier.files import atomic_write

CHUNK = 1 << 16
#: How long the child process checking a .bin file may take (loading a model takes seconds).
BIN_CHECK_TIMEOUT_S = 120
#: The child's program: build the hobot_dnn engine on the file as a worker would.
_BIN_CHECK = '\n'.join([
    'import sys',
    'from rdk_classifier.engines import create_engine, EngineError, EngineSpec',
    'try:',
    '    create_engine(EngineSpec("hobot_dnn", sys.argv[1], {})).close()',
    'except EngineError as exc:',
    '    sys.exit(str(exc))'])


class DownloadError(RuntimeError):
    """A download that failed; nothing was left behind."""


def check_model_file(path: Path, name: str) -> None:
    """Raise DownloadError unless ``path`` is a model file of the kind ``name`` names."""
    with open(path, 'rb') as stream:
        head = stream.read(64)
    if not head:
        raise DownloadError('%s is empty' % name)
    if head.lstrip().lower().startswith((b'<!doctype html', b'<html')):
        raise DownloadError('%s is a web page, not a model; check the address' % name)
    if name.endswith('.onnx'):
        import onnxruntime
        try:
            onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
        except Exception as exc:  # noqa: B902 - ORT raises several unrelated types
            raise DownloadError('%s does not open as an ONNX model' % name) from exc
        return
    from rdk_classifier.engines import ENGINES
    if not ENGINES['hobot_dnn'].missing():
        _check_bin_in_child(path, name)


def _check_bin_in_child(path: Path, name: str) -> None:
    """Build the hobot_dnn engine on ``path`` in a child process; DownloadError if it fails."""
    try:
        done = subprocess.run([sys.executable, '-c', _BIN_CHECK, str(path)],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=BIN_CHECK_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise DownloadError('%s: loading it on the BPU took over %d s' % (
            name, BIN_CHECK_TIMEOUT_S)) from exc
    if done.returncode != 0:
        # The engine's one line comes last, after anything the BPU runtime logged.
        lines = done.stderr.strip().splitlines() or ['exit code %d' % done.returncode]
        raise DownloadError('%s does not load on the BPU: %s' % (name, lines[-1]))


def download(url: str, target: Path, progress=sys.stderr) -> Path:
    """Fetch ``url`` into ``target`` atomically, showing progress; return ``target``."""
    try:
        with atomic_write(target) as temporary:
            with open(temporary, 'wb') as stream, \
                    urllib.request.urlopen(url, timeout=30) as response:
                total = int(response.headers.get('Content-Length') or 0)
                done = 0
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    stream.write(chunk)
                    done += len(chunk)
                    if total:
                        progress.write('\r%s %5.1f%% of %.1f MB'
                                       % (target.name, 100.0 * done / total, total / 1e6))
                progress.write('\n')
                if total and done != total:
                    raise DownloadError('%s: got %d of %d bytes' % (url, done, total))
            check_model_file(temporary, target.name)
    except (OSError, ValueError) as exc:
        raise DownloadError('%s: %s' % (url, exc)) from exc
    return target


def main(argv: Optional[List[str]] = None) -> int:
    """Download the named models; exit 1 with one line on failure."""
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('models', nargs='+', help='catalog names, e.g. RepViT_m0_9')
    parser.add_argument('--dir', default=str(default_cache_dir() / 'models'),
                        help='destination folder (default: %(default)s)')
    parser.add_argument('--url', help="download from this address instead of the catalog's")
    args = parser.parse_args(argv)
    try:
        for name in args.models:
            info = find_model(name)
            if info is None:
                raise DownloadError('%s is not in the catalog (config/models.yaml)' % name)
            url = args.url or info.bin_url
            if not url:
                raise DownloadError('%s has no download address; see config/models.yaml'
                                    % info.name)
            filename = info.onnx_file if url.endswith('.onnx') else info.bin_file
            print('downloaded %s' % download(url, Path(args.dir) / filename))
    except DownloadError as exc:
        print('download: %s' % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
