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
Several cameras at once: does every camera get its fair share of the workers?

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

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rdk_classifier.catalog import package_config_path
from vision_msgs.msg import Classification
from diagnostic_msgs.msg import DiagnosticArray

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
    arrivals: 'queue.Queue[tuple]' = queue.Queue()
    diagnostics: dict = {}
    listener.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda array: diagnostics.update({s.name.rsplit(' ', 1)[-1]: {
            kv.key: kv.value for kv in s.values} for s in array.status}), 10)
    for index in range(4):
        listener.create_subscription(
            Classification, '/load/cam%d/classification' % index,
            lambda msg, index=index: arrivals.put((index, time.monotonic())), 50)
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
            verdicts.append(run(cameras, args.seconds, arrivals, diagnostics))
    finally:
        executor.shutdown()
        spinner.join(5)
        listener.destroy_node()
        rclpy.shutdown()
    print('\nevery camera within 5%% of its fair share: %s'
          % ('PASS' if all(verdicts) else 'MISS'))
    return 0


def run(cameras: int, seconds: float, arrivals: 'queue.Queue[tuple]',
        diagnostics: dict) -> bool:
    topics = [camera_topic(i) for i in range(cameras)]
    node = subprocess.Popen(
        [sys.executable, '-m', 'rdk_classifier.node', '--ros-args', '--params-file',
         str(package_config_path('classifier.yaml')), '-p', 'engine:=fake', '-p', 'threads:=1',
         '-p', 'fake.latency_ms:=%s' % LATENCY_MS, '-p', 'fake.hold_gil:=true',
         '-p', 'image_topics:=[%s]' % ', '.join(topics)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    count = int(RATE * (seconds + 3))
    publishers = [subprocess.Popen(
        [sys.executable, '-m', 'rdk_classifier.camera_sim', '--topic', topic, '--rate',
         str(RATE), '--count', str(count), '--large-frames-profile'],
        stdout=subprocess.DEVNULL) for topic in topics]
    try:
        time.sleep(3.0)  # discovery and warm-up
        while not arrivals.empty():
            arrivals.get()
        before = {t: dict(diagnostics.get(t, {})) for t in topics}
        time.sleep(seconds)
        counts = [0] * cameras
        while not arrivals.empty():
            index, _ = arrivals.get()
            counts[index] += 1
        after = {t: dict(diagnostics.get(t, {})) for t in topics}
    finally:
        for process in publishers + [node]:
            process.send_signal(signal.SIGINT)
        for process in publishers + [node]:
            process.wait(10)
    share = min(RATE, 1000.0 / LATENCY_MS / cameras)
    within = True
    for index, received in enumerate(counts):
        rate = received / seconds
        within &= abs(rate / share - 1.0) <= 0.05
        delta = {key: int(after[topics[index]].get(key, 0)) - int(before[topics[index]].get(key, 0))
                 for key in ('received', 'dropped_busy')}
        print('| %d | %d | %.1f | %d | %.1f | %.1f | %.2f |' % (
            cameras, index, delta['received'] / seconds, delta['dropped_busy'], rate, share,
            rate / share))
    return within


if __name__ == '__main__':
    sys.exit(main())
