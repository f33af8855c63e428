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
Lifecycle transition times of the managed node, through its real lifecycle services.

    .venv/bin/python benchmarks/bench_lifecycle.py [--cycles 20] [--threads 2]
                                                   [--latency-ms 0] [--model RepViT_m0_9]

Each cycle configures (the workers load the model), activates, deactivates and cleans up; the
time of each ChangeState call is measured at the caller, from request to response. Target:
activate after configure in < 100 ms, since the model is already loaded.
"""

import argparse
import statistics
import subprocess
import sys
import threading
import time
from typing import Dict, List

from lifecycle_msgs.srv import ChangeState
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rdk_classifier.paths import package_config_path

TRANSITIONS = ('configure', 'activate', 'deactivate', 'cleanup')
ACTIVATE_TARGET_MS = 100.0


def start_managed_node(args: argparse.Namespace) -> subprocess.Popen:
    command = [sys.executable, '-c',
               'import sys; from rdk_classifier.ros.main import main_managed; '
               'sys.exit(main_managed())',
               '--ros-args', '--params-file', str(package_config_path('classifier.yaml')),
               '-r', '__node:=bench_lifecycle', '-p', 'engine:=fake', '-p', 'model:=' + args.model,
               '-p', 'threads:=%d' % args.threads, '-p', 'fake.latency_ms:=%s' % args.latency_ms,
               '-p', 'image_topics:=[/bench_lifecycle/image_raw]']
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def change_state(client, transition: str) -> float:
    """Request a transition; return its round trip in ms (RuntimeError if it failed)."""
    request = ChangeState.Request()
    request.transition.label = transition
    start = time.perf_counter()
    future = client.call_async(request)
    while not future.done():
        time.sleep(0.0005)
    elapsed_ms = (time.perf_counter() - start) * 1e3
    if not future.result().success:
        raise RuntimeError('transition %s failed' % transition)
    return elapsed_ms


def main() -> int:
    """Run the cycles and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--cycles', type=int, default=20)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--latency-ms', type=float, default=0.0)
    parser.add_argument('--model', default='RepViT_m0_9')
    args = parser.parse_args()
    rclpy.init()
    node = rclpy.create_node('bench_lifecycle_client')
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    managed = start_managed_node(args)
    times: Dict[str, List[float]] = {t: [] for t in TRANSITIONS}
    try:
        client = node.create_client(ChangeState, '/bench_lifecycle/change_state')
        if not client.wait_for_service(timeout_sec=60.0):
            raise RuntimeError('the managed node did not start')
        for _ in range(args.cycles):
            for transition in TRANSITIONS:
                times[transition].append(change_state(client, transition))
    finally:
        managed.terminate()
        managed.wait(30)
        executor.shutdown()
        rclpy.try_shutdown()
    print('Lifecycle transitions of the managed node (%s, fake engine, %d workers, %d cycles)'
          % (args.model, args.threads, args.cycles))
    print()
    print('| transition | p50 ms | max ms |')
    print('|---|---|---|')
    for transition in TRANSITIONS:
        samples = times[transition]
        print('| %s | %.1f | %.1f |' % (transition, statistics.median(samples), max(samples)))
    activate = statistics.median(times['activate'])
    print()
    print('activate after configure: p50 %.1f ms (target < %.0f ms): %s'
          % (activate, ACTIVATE_TARGET_MS, 'PASS' if activate < ACTIVATE_TARGET_MS else 'MISS'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
