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
Several cameras at once: every camera should get its fair share of the workers.

    .venv/bin/python benchmarks/load_cameras.py [--seconds 10]

Two and four cameras publish 640x480 bgr8 at 30 FPS (separate processes, through the
large-frames profile) to one node whose fake engine takes 10 ms a forward on one worker, so the
workers can serve 100 frames a second in all. Each camera should get min(30, 100 / cameras)
results a second; prints the measured rate per camera, its ratio to that share, and the spread.
"""

import argparse
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import List, Optional

from diagnostic_msgs.msg import DiagnosticArray
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rdk_classifier.paths import package_config_path


RATE = 30.0
LATENCY_MS = 10.0


def camera_topic(index: int) -> str:
    return '/load/cam%d/image_raw' % index


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('--seconds', type=float, default=10.0)
    args = parser.parse_args(argv)
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    rclpy.init()
    listener = rclpy.create_node('load_listener')
    # The node's own counters, with the time it published them: exact rates per camera.
    snapshots: 'queue.Queue[tuple]' = queue.Queue()
    listener.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda array: snapshots.put((
            array.header.stamp.sec + array.header.stamp.nanosec * 1e-9,
            {s.name.rsplit(' ', 1)[-1]: {kv.key: kv.value for kv in s.values}
             for s in array.status})), 10)
    executor = SingleThreadedExecutor()
    executor.add_node(listener)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    print('| cameras | camera | frames in/s | dropped while busy | results/s | fair share '
          '| ratio |')
    print('|---|---|---|---|---|---|---|')
    verdicts = []
    try:
        for cameras in (2, 4):
            verdicts.append(run(cameras, args.seconds, snapshots))
    finally:
        executor.shutdown()
        spinner.join(5)
        listener.destroy_node()
        rclpy.shutdown()
    print('\nevery camera within 5%% of its fair share: %s'
          % ('PASS' if all(verdicts) else 'MISS'))
    return 0


def run(cameras: int, seconds: float, snapshots: 'queue.Queue[tuple]') -> bool:
    topics = [camera_topic(i) for i in range(cameras)]
    node = subprocess.Popen(
        [sys.executable, '-m', 'rdk_classifier.ros.main', '--ros-args', '--params-file',
         str(package_config_path('classifier.yaml')), '-p', 'engine:=fake', '-p', 'threads:=1',
         '-p', 'fake.latency_ms:=%s' % LATENCY_MS, '-p', 'fake.hold_gil:=true',
         '-p', 'image_topics:=[%s]' % ', '.join(topics)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    count = int(RATE * (seconds + 3))
    publishers = [subprocess.Popen(
        [sys.executable, '-m', 'rdk_classifier.programs.camera_sim', '--topic', topic, '--rate',
         str(RATE), '--count', str(count)],
        stdout=subprocess.DEVNULL) for topic in topics]
    try:
        time.sleep(3.0)  # discovery and warm-up
        while not snapshots.empty():
            snapshots.get()
        first = snapshots.get(timeout=5)
        time.sleep(seconds)
        last = first
        while not snapshots.empty():
            last = snapshots.get()
    finally:
        for process in publishers + [node]:
            process.send_signal(signal.SIGINT)
        for process in publishers + [node]:
            process.wait(10)
    share = min(RATE, 1000.0 / LATENCY_MS / cameras)
    span = last[0] - first[0]
    within = True
    for index, topic in enumerate(topics):
        delta = {key: int(last[1][topic][key]) - int(first[1][topic][key])
                 for key in ('received', 'published', 'dropped_busy')}
        rate = delta['published'] / span
        within &= abs(rate / share - 1.0) <= 0.05
        print('| %d | %d | %.1f | %d | %.1f | %.1f | %.2f |' % (
            cameras, index, delta['received'] / span, delta['dropped_busy'], rate, share,
            rate / share))
    return within


if __name__ == '__main__':
    sys.exit(main())
