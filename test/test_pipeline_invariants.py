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
The pipeline's invariants under faults at moments hypothesis chooses (issue 13).

Each example starts a pipeline (1-4 workers, 1-3 cameras) on the fake engine and runs a
schedule of frame bursts and faults: SIGKILL of a worker (also while a hung forward has a frame
queued behind it), a forward that hangs past infer_timeout, raises or exits, a slow or failed
reload. Then it stops the pipeline at a quiet moment, while frames are in flight, or while a
worker reloads, and may start it again. Checked (see rdk_classifier/inference/pipeline.py):

- every result has the class of the frame whose token it carries, on that frame's camera, and
  a camera's results never go back to an older frame;
- received == published + drops for every camera once idle, and again once stopped;
- worker_restarts == the worker processes that ended: killed here, that took a hang, exit or
  fail_load fault (the fault file records which process took each), or that the dispatcher
  killed for a timeout (the drop message names the process);
- stop() returns in < 2 s (a generous bound on a busy machine; the design needs ~0.1 s), and
  leaves no worker process and no shared memory behind.
"""

import os
import re
import signal
import tempfile
import time
from typing import List, Optional, Set

from hypothesis import given, HealthCheck, settings, strategies as st
from pipeline_faults import (content_frame, living, make_pipeline, own_shared_memory,
                             own_workers, Recorder, unaccounted, wait_for)

from rdk_classifier.engines.fake import add_fault, taken_faults

#: Faults whose worker process ends (and is replaced).
ENDING_FAULTS = ('hang', 'exit', 'fail_load')
TIMED_OUT = re.compile(r'worker process (\d+): inference took longer than')
INFER_TIMEOUT_S = 1.0
STOP_BOUND_S = 2.0
SETTLE_S = 30.0

FRAMES = st.tuples(st.just('frames'), st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 255)), min_size=1, max_size=6))
STEPS = st.one_of(
    FRAMES,
    st.tuples(st.just('kill'), st.integers(0, 3)),
    st.tuples(st.just('kill_behind_hang'), st.integers(0, 3)),
    st.tuples(st.just('fault'), st.sampled_from(
        ['raise', 'hang 30', 'exit', 'slow_load 0.3', 'fail_load'])),
    st.tuples(st.just('settle'), st.just(0)),
    st.tuples(st.just('paused'), st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 255)), min_size=1, max_size=4)),
)


class Run:
    """One example: the pipeline, what was sent and done to it, and the checks."""

    def __init__(self, threads: int, cameras: int, latency_ms: float, folder: str) -> None:
        self.cameras = ['cam%d' % i for i in range(cameras)]
        self.fault_file = os.path.join(folder, 'faults')
        open(self.fault_file, 'w').close()
        self.recorder = Recorder()
        self.pipeline = make_pipeline(self.recorder, self.cameras, threads, self.fault_file,
                                      INFER_TIMEOUT_S, latency_ms=latency_ms)
        self.killed: Set[int] = set()
        self.seen_workers: Set[int] = set()
        self.segments: Set[str] = set()

    def start(self) -> None:
        before = own_shared_memory()
        self.pipeline.start()
        self.segments |= own_shared_memory() - before
        self.seen_workers |= set(self.pipeline.worker_pids)

    def send(self, frames: List[tuple]) -> None:
        for camera_index, y in frames:
            camera = self.cameras[camera_index % len(self.cameras)]
            self.pipeline.submit(content_frame(camera, y, self.recorder.token(camera, y)))

    def kill(self, index: int) -> bool:
        """SIGKILL one current worker process; False if there was none to kill."""
        pids = self.pipeline.worker_pids
        if not pids:
            return False
        pid = pids[index % len(pids)]
        self.seen_workers.add(pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return False  # replaced meanwhile
        self.killed.add(pid)
        return True

    def paused(self, frames: List[tuple]) -> None:
        """
        Send frames, pause while they are in flight, send them again, resume.

        Once pause() returned, nothing may be handed over until resume().
        """
        self.send(frames)
        self.pipeline.pause()
        handed_over = len(self.recorder.results)
        self.send(frames)
        wait_for(lambda: self.pipeline.in_flight == 0, SETTLE_S, 'forwards in flight to end')
        assert len(self.recorder.results) == handed_over, 'a result was handed over while paused'
        self.pipeline.resume()

    def kill_behind_hang(self, index: int) -> None:
        """Hang the next forward, send a frame per camera, kill the worker of the hung one."""
        add_fault(self.fault_file, 'hang 30', first=True)
        hangs = self._taken('hang')
        self.send([(camera, 17 + 40 * camera) for camera in range(len(self.cameras))])
        deadline = time.monotonic() + 2.0
        while self._taken('hang') == hangs and time.monotonic() < deadline:
            time.sleep(0.005)
        # With one worker and several cameras, the next frame is queued behind the hung one.
        while self.pipeline.in_flight < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        hung = [pid for pid, fault in taken_faults(self.fault_file) if fault.startswith('hang')]
        if hung and hung[-1] in self.pipeline.worker_pids:
            self.kill(self.pipeline.worker_pids.index(hung[-1]))
        else:
            self.kill(index)

    def _taken(self, kind: str) -> int:
        return sum(f.startswith(kind) for _, f in taken_faults(self.fault_file))

    def ended_workers(self) -> Set[int]:
        """Return the worker processes that ended while running (see the module docstring)."""
        # Timeouts also cover a forward that a busy machine stalled past infer_timeout_s.
        faulted = {pid for pid, fault in taken_faults(self.fault_file)
                   if fault.split()[0] in ENDING_FAULTS}
        timed_out = {int(match.group(1)) for _, _, message in list(self.recorder.drops)
                     for match in [TIMED_OUT.search(message)] if match}
        return self.killed | faulted | timed_out

    def settle(self, restarts: Optional[int] = None) -> None:
        """
        Wait until every frame is accounted for and every ended worker replaced; check.

        ``restarts``: the expected worker_restarts, if not one per ended worker.
        """
        pipeline = self.pipeline

        def expected() -> int:
            return len(self.ended_workers()) if restarts is None else restarts

        def settled() -> bool:
            return (pipeline.in_flight == 0
                    and not any(unaccounted(pipeline, self.cameras).values())
                    and pipeline.snapshot().worker_restarts >= expected())
        wait_for(settled, SETTLE_S, 'idle: %s, %d in flight, %d restarts for %d ended workers'
                 % (unaccounted(pipeline, self.cameras), pipeline.in_flight,
                    pipeline.snapshot().worker_restarts, expected()))
        assert pipeline.snapshot().worker_restarts == expected(), (
            self.killed, taken_faults(self.fault_file), self.recorder.drops)
        self.seen_workers |= set(pipeline.worker_pids)
        self.check_results()

    def stop(self) -> None:
        """Stop, and check the stop bound, the accounting and that nothing is left behind."""
        self.seen_workers |= set(self.pipeline.worker_pids)
        self.seen_workers |= {pid for pid, _ in taken_faults(self.fault_file)}
        started = time.monotonic()
        self.pipeline.stop()
        took = time.monotonic() - started
        assert took < STOP_BOUND_S, 'stop() took %.2f s' % took
        assert not any(unaccounted(self.pipeline, self.cameras).values()), (
            unaccounted(self.pipeline, self.cameras))
        assert not living(self.seen_workers | own_workers()), 'worker processes left behind'
        assert not [s for s in self.segments if os.path.exists(s)], 'shared memory left behind'
        assert not own_shared_memory() & self.segments, 'shared memory still mapped'
        self.check_results()

    def check_results(self) -> None:
        assert not self.recorder.misattributed(), [
            (r.camera, r.token, r.top[0][0]) for r in self.recorder.misattributed()]
        assert not self.recorder.out_of_order()
        assert all(camera in self.cameras for camera, _, _ in self.recorder.drops)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(threads=st.integers(1, 4), cameras=st.integers(1, 3),
       latency_ms=st.sampled_from([0.0, 5.0, 30.0]),
       steps=st.lists(STEPS, min_size=1, max_size=10),
       ending=st.sampled_from(['quiet', 'frames in flight', 'reloading']),
       restart=st.booleans())
def test_results_and_counters_survive_any_fault_schedule(threads, cameras, latency_ms, steps,
                                                         ending, restart):
    with tempfile.TemporaryDirectory() as folder:
        run = Run(threads, cameras, latency_ms, folder)
        run.start()
        try:
            for kind, argument in steps:
                if kind == 'frames':
                    run.send(argument)
                elif kind == 'kill':
                    run.kill(argument)
                elif kind == 'kill_behind_hang':
                    run.kill_behind_hang(argument)
                elif kind == 'fault':
                    add_fault(run.fault_file, argument)
                elif kind == 'paused':
                    run.paused(argument)
                else:
                    run.settle()
            run.send([(camera, 200) for camera in range(cameras)])
            run.settle()
            if ending == 'frames in flight':
                run.send([(camera, 90 + camera) for camera in range(cameras)] * 2)
            elif ending == 'reloading':
                add_fault(run.fault_file, 'slow_load 30', first=True)
                wait_for(lambda: run.kill(0), 10.0, 'a worker to kill')
                wait_for(lambda: run._taken('slow_load 30'), 10.0, 'a reload in progress')
        finally:
            run.stop()
        if restart:
            # Load faults still waiting would hit the new workers' first load.
            open(run.fault_file, 'w').close()
            restarts = run.pipeline.snapshot().worker_restarts
            run.start()
            try:
                run.send([(camera, 30 + 50 * camera) for camera in range(cameras)])
                run.settle(restarts)
                camera_results = {r.camera for r in run.recorder.results[-cameras:]}
                assert camera_results == set(run.cameras)
            finally:
                run.stop()
