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
Long fault run of the node (issue 13): thousands of frames while workers crash, hang and reload.

    .venv/bin/python benchmarks/fault_soak.py [--frames 3000] [--rate 60] [--fault-every 60]

For each setup (threads 1-4, cameras 1-3) the node runs as a subprocess with the fake engine;
frames of known class are published while faults are injected at random moments (SIGKILL of one
of the node's workers, and one-shot raise, hang past infer_timeout_ms, exit, slow and failed
reloads through fake.fault_file); half the setups are stopped while a worker reloads. Prints one
row per setup: faults, frames, results, misattributed (must be 0), frames not accounted for in
/diagnostics (must be 0), worker_restarts against the workers that ended, exit time and
leftovers. The same run, shorter, is test/test_fault_invariants.py.
"""

import argparse
import os
from pathlib import Path
import sys
from typing import List, Optional

import rclpy

# The fault run is shared with the test suite.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'test'))
from node_faults import FILE_FAULTS, NodeFaultRun  # noqa: E402, I100
import scenarios  # noqa: E402

#: (threads, cameras, stop while a worker reloads)
SETUPS = ((1, 1, False), (1, 2, True), (2, 3, False), (3, 1, True), (4, 2, False), (4, 3, True))
KINDS = ('kill',) + tuple(fault.split()[0] for fault in FILE_FAULTS)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('--frames', type=int, default=3000, help='frames per setup')
    parser.add_argument('--rate', type=float, default=60.0, help='frames a second')
    parser.add_argument('--fault-every', type=int, default=60,
                        help='one fault every N frames on average')
    parser.add_argument('--latency-ms', type=float, default=5.0, help='fake forward time')
    parser.add_argument('--seed', type=int, default=13)
    args = parser.parse_args(argv)
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    os.environ.setdefault('ROS_LOCALHOST_ONLY', '1')
    context = rclpy.Context()
    rclpy.init(context=context)
    client = scenarios.ScenarioClient(context)
    print('| threads | cameras | stop | faults (%s) | frames sent | received | published '
          '| results | misattributed | unaccounted | restarts / ended workers | exit s '
          '| exit code | workers, shm left |' % ' / '.join(KINDS))
    print('|' + '---|' * 14)
    failed = 0
    totals = dict.fromkeys(('faults', 'sent', 'results', 'misattributed'), 0)
    try:
        for index, (threads, cameras, reloading) in enumerate(SETUPS):
            run = NodeFaultRun(client, threads, cameras, args.seed + index, 'soak%d' % index,
                               args.latency_ms)
            try:
                run.start()
                run.run(args.frames, args.rate, args.fault_every)
                run.settle()
            finally:
                run.stop(reloading)
            report = run.report
            ok = (report.misattributed == 0 and report.out_of_order == 0
                  and report.reloading_at_stop == reloading
                  and report.unaccounted == 0 and report.exit_code == 0
                  and report.worker_restarts == report.ended_workers
                  and report.stop_s < 2.0 and not report.workers_left
                  and not report.shared_memory_left)
            failed += not ok
            totals['faults'] += sum(report.faults.values())
            totals['sent'] += report.frames_sent
            totals['results'] += report.results
            totals['misattributed'] += report.misattributed
            print('| %d | %d | %s | %d (%s) | %d | %d | %d | %d | %d | %d | %d / %d | %.2f | %s '
                  '| %d, %d |%s' % (
                      threads, cameras, 'reloading' if reloading else 'quiet',
                      sum(report.faults.values()),
                      ' / '.join(str(report.faults.get(k, 0)) for k in KINDS),
                      report.frames_sent, report.received, report.published, report.results,
                      report.misattributed, report.unaccounted, report.worker_restarts,
                      report.ended_workers, report.stop_s, report.exit_code,
                      report.workers_left, report.shared_memory_left,
                      '' if ok else ' MISS %s' % report.examples), flush=True)
    finally:
        client.close()
        rclpy.shutdown(context=context)
    print('\n%d faults, %d frames sent, %d results, %d misattributed: %s' % (
        totals['faults'], totals['sent'], totals['results'], totals['misattributed'],
        'PASS' if not failed else 'MISS (%d setups)' % failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
