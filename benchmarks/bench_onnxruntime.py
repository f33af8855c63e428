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

    .venv/bin/python benchmarks/bench_onnxruntime.py [--runs 50]

Looks up each model's .onnx file the way the node does (export them first with
`export_onnx --all`, which needs timm). Prints latency and FPS of one forward on one NV12 frame,
and the weights each file carries: random-init exports are for speed only.
"""

import argparse
import os
import sys
import time
from typing import List, Optional

import numpy as np
from rdk_classifier.catalog import ConfigError, load_catalog, resolve_model
from rdk_classifier.engines import create_engine, EngineSpec


def weights_of(path: str) -> str:
    """Return the 'weights' metadata the export wrote into the file."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}.get('weights', 'unknown')


def main(argv: Optional[List[str]] = None) -> int:
    """Print the table; models without an exported file are listed as missing."""
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('--runs', type=int, default=50)
    parser.add_argument('--threads', type=int, default=os.cpu_count() or 1,
                        help='ONNX Runtime intra-op threads (default: all cores)')
    args = parser.parse_args(argv)
    print('| model | weights | params M | ms / forward | FPS |')
    print('|---|---|---|---|---|')
    rng = np.random.default_rng(0)
    for info in load_catalog().values():
        try:
            model = resolve_model(info.name, 'onnxruntime')
        except ConfigError:
            print('| %s | not exported | | | |' % info.name)
            continue
        engine = create_engine(EngineSpec('onnxruntime', model.path, {
            'mean': list(info.mean), 'std': list(info.std), 'intra_op_threads': args.threads}))
        nv12 = rng.integers(0, 256, engine.input_nbytes, dtype=np.uint8)
        for _ in range(5):
            engine.infer(nv12)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            engine.infer(nv12)
            times.append(time.perf_counter() - start)
        seconds = float(np.median(times))
        print('| %s | %s | %s | %.2f | %.1f |' % (
            info.name, weights_of(model.path), info.params_m, seconds * 1e3, 1.0 / seconds),
            flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
