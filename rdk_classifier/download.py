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

Files arrive atomically (a temporary file in the same folder, renamed once complete and
checked), so an interrupted or broken download never leaves a file the node would load.
"""

import argparse
import os
from pathlib import Path
import sys
import tempfile
from typing import List, Optional
import urllib.request

from rdk_classifier.catalog import default_cache_dir, find_model

CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """A download that failed; nothing was left behind."""


def check_model_file(path: Path, name: str) -> None:
    """Raise DownloadError unless ``path`` loads as the kind of model file ``name`` names."""
    if path.stat().st_size == 0:
        raise DownloadError('%s is empty' % name)
    if name.endswith('.onnx'):
        import onnxruntime
        try:
            onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
        except Exception as exc:  # noqa: B902 - ORT raises several unrelated types
            raise DownloadError('%s does not open as an ONNX model' % name) from exc
        return
    from rdk_classifier.engines import ENGINES
    if not ENGINES['hobot_dnn'].missing():
        from rdk_classifier.engines.hobot import import_pyeasy_dnn
        try:
            if not import_pyeasy_dnn().load(str(path)):
                raise DownloadError('pyeasy_dnn loaded no model from %s' % name)
        except DownloadError:
            raise
        except Exception as exc:  # noqa: B902 - pyeasy_dnn raises plain RuntimeErrors
            raise DownloadError('%s does not load: %s' % (name, exc)) from exc


def download(url: str, target: Path, progress=sys.stderr) -> Path:
    """Fetch ``url`` into ``target`` atomically, showing progress; return ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(suffix=target.suffix + '.part', dir=str(target.parent))
    try:
        with os.fdopen(fd, 'wb') as stream, urllib.request.urlopen(url, timeout=30) as response:
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
        check_model_file(Path(temporary), target.name)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except (OSError, ValueError) as exc:
        raise DownloadError('%s: %s' % (url, exc)) from exc
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
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
