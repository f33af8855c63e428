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

    ros2 run rdk_classifier download --list
    ros2 run rdk_classifier download RepViT_m0_9 [--url URL] [--dir DIR]

--list shows every zoo model with its published RDK X5 figures and whether its file is already
where the node looks. A .bin runs on the RDK X5's BPU only; on a PC, export_onnx makes the
.onnx that the onnxruntime engine runs.

Files arrive atomically (files.atomic_write: renamed into place once complete and
checked), so an interrupted or broken download never leaves a file the node would load. A .bin
file is checked, where pyeasy_dnn is installed, by building the hobot_dnn engine on it in a
short-lived child process: the BPU runtime keeps every model a process loads until that process
exits. Everything runs in the calling thread.
"""

from pathlib import Path
import subprocess
import sys
from typing import List, Optional, Sequence
import urllib.error
import urllib.request

from rdk_classifier import hints
from rdk_classifier.catalog import (default_cache_dir, default_model_dirs, find_model,
                                    load_catalog, ModelInfo)
from rdk_classifier.files import atomic_write
from rdk_classifier.programs.cli import argument_parser

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


def zoo_models() -> List[ModelInfo]:
    """Return the catalog's zoo models (those with a .bin to download), in catalog order."""
    return [info for info in load_catalog().values() if info.bin_url]


def present_files(info: ModelInfo, folders: Sequence[str]) -> List[str]:
    """Return which of the model's files ('bin', 'onnx') are in one of ``folders``."""
    found = []
    for kind, filename in (('bin', info.bin_file), ('onnx', info.onnx_file)):
        if filename and any((Path(folder).expanduser() / filename).is_file()
                            for folder in folders):
            found.append(kind)
    return found


def _figure(value: Optional[float], text: str) -> str:
    return '-' if value is None else text % value


def model_table(folders: Sequence[str]) -> str:
    """Return the --list text: the zoo models, their RDK X5 figures and what is in ``folders``."""
    rows = [('name', 'input', 'top-1', 'top-1 float', 'FPS 4 threads', 'ms 1 thread',
             'present')]
    for info in zoo_models():
        rows.append((info.name, '%dx%d' % (info.input_width, info.input_height),
                     _figure(info.top1_quant, '%.2f%%'), _figure(info.top1_float, '%.2f%%'),
                     _figure(info.fps_4t, '%.1f'), _figure(info.latency_ms_1t, '%.2f'),
                     ', '.join(present_files(info, folders)) or 'no'))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ['  '.join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in rows]
    lite0 = find_model(hints.LITE0)
    lite0_here = ', '.join(present_files(lite0, folders)) if lite0 else ''
    return '\n'.join([
        "%d RDK Model Zoo classifiers, the zoo's RDK X5 figures (top-1: ImageNet-1k, on the "
        'board):' % len(rows[1:])] + lines + [
        'present: its .bin (board) or .onnx (PC) is in %s' % ', '.join(folders),
        '%s, the PC default, has no .bin: export_onnx builds it (present: %s)'
        % (hints.LITE0, lite0_here or 'no'),
        'download one with:%s' % hints.ros2_run('download', 'NAME')])


def download_model(name: str, folder: Path, url: Optional[str] = None) -> Path:
    """Download the catalog model ``name`` into ``folder``; DownloadError if it cannot be."""
    info = find_model(name)
    if info is None:
        raise DownloadError(hints.unknown_model(name, [i.name for i in load_catalog().values()]))
    url = url or info.bin_url
    if not url:
        raise DownloadError('%s has no download: it is built on this machine:%s'
                            % (info.name, hints.ros2_run('export_onnx', info.name)))
    filename = info.onnx_file if url.endswith('.onnx') else info.bin_file
    try:
        path = download(url, folder / filename)
    except DownloadError as exc:
        # An HTTP error is an answer from the server; any other URLError means no connection.
        offline = (isinstance(exc.__cause__, urllib.error.URLError)
                   and not isinstance(exc.__cause__, urllib.error.HTTPError))
        if not offline:
            raise
        raise DownloadError('%s\nwithout internet here, fetch it on a machine that has it and '
                            'copy it to %s:%s' % (exc, folder / filename,
                                                  hints.command('wget', url))) from exc
    if filename.endswith('.bin') and not hints.on_board():
        print('note: this machine has no hobot_dnn (a PC): the .bin runs on the RDK X5 only; '
              'copy it there, or export the ONNX model for this PC:%s'
              % hints.ros2_run('export_onnx', info.name), file=sys.stderr)
    return path


def main(argv: Optional[List[str]] = None) -> int:
    """Download the named models, or list them; exit 1 with the reason on failure."""
    parser = argument_parser(__doc__)
    parser.add_argument('models', nargs='*', metavar='MODEL',
                        help='zoo names (any case), e.g. RepViT_m0_9; see --list')
    parser.add_argument('--list', action='store_true',
                        help='list the zoo models, their RDK X5 figures and which are here')
    parser.add_argument('--dir', default=str(default_cache_dir() / 'models'),
                        help='destination folder, where the node also looks')
    parser.add_argument('--url', help="download from this address (default: the catalog's)")
    args = parser.parse_args(argv)
    if args.list:
        folders = list(default_model_dirs())
        if str(Path(args.dir).expanduser()) not in folders:
            folders.insert(0, args.dir)
        print(model_table(folders))
        return 0
    if not args.models:
        parser.error('name the models to download, or --list to see them')
    try:
        for name in args.models:
            print('downloaded %s' % download_model(name, Path(args.dir), args.url))
    except DownloadError as exc:
        print('download: %s' % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
