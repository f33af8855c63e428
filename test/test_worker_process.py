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
Worker processes import the worker modules only, whatever program started the node.

A program whose main module imports rclpy and the node (as ``python -m rdk_classifier.ros.node``
and the console scripts do) runs a pipeline; its workers are started with Python's import log
(PYTHONPROFILEIMPORTTIME, read at interpreter start, so the program's own imports are not
logged), which lists every module a worker imported: what its sys.modules holds.
"""

import os
from pathlib import Path
import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent("""
    import os
    import threading

    import rclpy  # what a node's main module has imported
    import rdk_classifier.ros.node

    from rdk_classifier.engines import EngineSpec
    from rdk_classifier.inference.pipeline import Frame, InferencePipeline

    os.environ['PYTHONPROFILEIMPORTTIME'] = '1'  # for the workers only
    done = threading.Event()
    pipeline = InferencePipeline(EngineSpec('fake', '', {'input_size': [8, 8]}), ['cam'], 1,
                                 lambda result: done.set(), print)
    pipeline.start()
    try:
        pipeline.submit(Frame('cam', bytes(96), 'nv12', 8, 8, 8))
        assert done.wait(60), 'no result'
    finally:
        pipeline.stop()
    print('classified')
""")


def test_a_worker_imports_neither_rclpy_nor_the_node(tmp_path):
    program = tmp_path / 'node_like.py'
    program.write_text(PROGRAM)
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [root] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    env.pop('PYTHONPROFILEIMPORTTIME', None)
    run = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert 'classified' in run.stdout, run.stdout + run.stderr
    imported = {line.rsplit('|', 1)[-1].strip() for line in run.stderr.splitlines()
                if line.startswith('import time:')}
    assert 'rdk_classifier.inference.worker' in imported, run.stderr[-2000:]
    assert not {m for m in imported if m == 'rclpy' or m.startswith('rclpy.')}
    assert not {m for m in imported if m.startswith('rdk_classifier.ros')}
    assert 'cv2' not in imported  # the fake engine's worker needs no OpenCV
