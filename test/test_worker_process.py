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
import signal
import subprocess
import sys
import textwrap
import time

from node_process import alive

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


#: Starts a pipeline, has a worker replaced (so a spare process is started too), prints the
#: process ids of its worker processes and waits to be killed.
KILLED_PROGRAM = textwrap.dedent("""
    import os
    from pathlib import Path
    import signal
    import time

    from rdk_classifier.engines import EngineSpec
    from rdk_classifier.inference.pipeline import InferencePipeline
    from rdk_classifier.inference.processes import WORKER_MODULE


    def workers():
        pids = []
        for task in Path('/proc/self/task').glob('*/children'):
            for pid in task.read_text().split():
                cmdline = Path('/proc/%s/cmdline' % pid).read_bytes()
                if WORKER_MODULE.encode() in cmdline:
                    pids.append(pid)
        return pids


    pipeline = InferencePipeline(EngineSpec('fake', '', {'input_size': [8, 8]}), ['cam'], 2,
                                 print, print)
    pipeline.start()
    os.kill(pipeline.worker_pids[0], signal.SIGKILL)
    while len(workers()) < 3:  # two workers and the spare
        time.sleep(0.05)
    print(' '.join(workers()), flush=True)
    time.sleep(600)
""")


def _environment() -> dict:
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [root] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    env.pop('PYTHONPROFILEIMPORTTIME', None)
    return env


def test_a_worker_imports_neither_rclpy_nor_the_node(tmp_path):
    program = tmp_path / 'node_like.py'
    program.write_text(PROGRAM)
    run = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                         env=_environment(), timeout=120)
    assert 'classified' in run.stdout, run.stdout + run.stderr
    imported = {line.rsplit('|', 1)[-1].strip() for line in run.stderr.splitlines()
                if line.startswith('import time:')}
    assert 'rdk_classifier.inference.worker' in imported, run.stderr[-2000:]
    assert not {m for m in imported if m == 'rclpy' or m.startswith('rclpy.')}
    assert not {m for m in imported if m.startswith('rdk_classifier.ros')}
    assert 'cv2' not in imported  # the fake engine's worker needs no OpenCV


def test_workers_and_the_spare_die_with_a_killed_node(tmp_path):
    """PR_SET_PDEATHSIG: a node killed without a chance to stop its pipeline leaves no worker."""
    program = tmp_path / 'killed.py'
    program.write_text(KILLED_PROGRAM)
    node = subprocess.Popen([sys.executable, str(program)], stdout=subprocess.PIPE, text=True,
                            env=_environment())
    try:
        assert node.stdout is not None
        pids = [int(pid) for pid in node.stdout.readline().split()]
        assert len(pids) == 3 and all(alive(pid) for pid in pids), pids
    finally:
        node.send_signal(signal.SIGKILL)
        node.wait()
    deadline = time.monotonic() + 30.0
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if alive(pid)], 'workers outlived the node'
