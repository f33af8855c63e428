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
The node's invariants under worker faults at random moments (issue 13), process level.

The node runs as a subprocess (python -m rdk_classifier.ros.main) with the fake engine; frames of
known class go out on 1-3 cameras while workers are SIGKILLed and forwards raise, hang past
infer_timeout_ms or exit, and reloads are slow or fail (test/node_faults.py). Checked from what the
node publishes: every classification has its frame's class, on its frame's camera topic;
/diagnostics accounts for every received frame; worker_restarts counts every worker that ended;
after the faults every camera is classified again; the node exits with 0 within STOP_BOUND_S of
SIGINT (also during a reload) and leaves no worker process or shared memory behind. A few hundred
frames here; benchmarks/fault_soak.py runs thousands.
"""

from node_faults import NodeFaultRun
import pytest

pytestmark = pytest.mark.ros

FRAMES = 120
RATE = 100.0
FAULT_EVERY = 12
#: The node's exit after SIGINT. The pipeline's stop() takes < 2 s (issue 13, checked in
#: test_pipeline_invariants); the process adds rclpy's and the interpreter's shutdown, which a
#: busy machine stretches (0.56 s seen beside two CPU hogs, 2.1 s for a similar exit during a
#: loaded whole-suite run). What the bound must catch takes far longer: waiting for a hung
#: forward (30 s here) or a reload in progress (30 s).
STOP_BOUND_S = 10.0


@pytest.mark.parametrize('threads, cameras, seed, while_reloading', [
    (1, 2, 1, False), (2, 3, 2, True), (4, 1, 3, False), (3, 2, 4, True),
], ids=['1-thread-2-cameras', '2-threads-3-cameras-stop-reloading', '4-threads-1-camera',
        '3-threads-2-cameras-stop-reloading'])
def test_results_keep_their_frames_through_worker_faults(client, threads, cameras, seed,
                                                         while_reloading):
    run = NodeFaultRun(client, threads, cameras, seed, 'faults%d' % seed)
    try:
        run.start()
        run.run(FRAMES, RATE, FAULT_EVERY)
        run.classify_on_every_camera(RATE)
        run.settle()
    finally:
        run.stop(while_reloading)
    report = run.report
    context = '%s\nnode output:\n%s' % (report, run.node.output[-3000:])
    assert sum(report.faults.values()) >= 3, context
    assert report.results >= cameras, context
    assert report.misattributed == 0, context
    assert report.out_of_order == 0, context
    assert report.unaccounted == 0, context
    assert report.results <= report.published, context
    assert report.worker_restarts == report.ended_workers, context
    assert report.reloading_at_stop == while_reloading, context
    assert report.exit_code == 0, context
    assert report.stop_s < STOP_BOUND_S, context
    assert report.workers_left == 0 and report.shared_memory_left == 0, context
    assert 'Traceback' not in run.node.output, context
