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
Soak and fuzz runs of the node: long, so scripts rather than tests (the suite runs short ones).

    .venv/bin/python benchmarks/soak_node.py soak [--frames 50000]
    .venv/bin/python benchmarks/soak_node.py fuzz [--cases 10000]

soak: frames at the node's full speed (fake engine, 0 ms; --rate, default 800 a second: what
this 2-core machine's node serves next to the publisher); prints the node's RSS, open
file descriptors, threads and worker processes after warm-up and at the end, and checks that no
camera ever got a result older than one it already had.
fuzz: random good and malformed frames (test/fuzz_frames.py); prints cases, crashes, and the
node's own counts (received, dropped_bad, dropped_busy) against what was sent and classified.
"""

import argparse
import os
from pathlib import Path
import queue
import subprocess
import sys
import threading
import time
from typing import List, Optional

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from rdk_classifier.catalog import package_config_path
from sensor_msgs.msg import Image
from vision_msgs.msg import Classification

# The fuzz frames are shared with the test suite.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'test'))
from fuzz_frames import random_frame  # noqa: E402, I100

TOPIC = '/soak/cam/image_raw'
RESULTS = '/soak/cam/classification'


def process_figures(pid: int) -> dict:
    """Return RSS (MB), open fds, threads and child processes of ``pid``."""
    status = Path('/proc/%d/status' % pid).read_text()
    fields = dict(line.split(':', 1) for line in status.splitlines() if ':' in line)
    children = []
    for task in Path('/proc/%d/task' % pid).glob('*/children'):
        children += task.read_text().split()
    return {'rss_mb': int(fields['VmRSS'].split()[0]) / 1024.0,
            'fds': len(os.listdir('/proc/%d/fd' % pid)),
            'threads': int(fields['Threads']), 'children': len(children)}


def start_node(*params: str) -> subprocess.Popen:
    command = [sys.executable, '-m', 'rdk_classifier.node', '--ros-args', '--params-file',
               str(package_config_path('classifier.yaml')), '-p', 'engine:=fake',
               '-p', 'image_topics:=[%s]' % TOPIC]
    for param in params:
        command += ['-p', param]
    node = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in node.stdout:
        if 'classifying' in line:
            threading.Thread(target=node.stdout.read, daemon=True).start()
            return node
    raise RuntimeError('the node did not start')


def stop(node: subprocess.Popen) -> int:
    node.send_signal(2)
    return node.wait(10)


class Client:
    """Publishes frames and collects classification stamps, spinning in a thread."""

    def __init__(self, reliable: bool) -> None:
        rclpy.init()
        self.node = rclpy.create_node('soak_client')
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE) if reliable \
            else qos_profile_sensor_data
        self.publisher = self.node.create_publisher(Image, TOPIC, qos)
        self.results: 'queue.Queue[int]' = queue.Queue()
        self.counters: dict = {}
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        self.node.create_subscription(
            Classification, RESULTS,
            lambda msg: self.results.put(msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec),
            100)
        self._executor = SingleThreadedExecutor()
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._executor.spin, daemon=True)
        self._thread.start()
        while self.publisher.get_subscription_count() == 0:
            time.sleep(0.05)
        time.sleep(0.5)

    def _on_diagnostics(self, array: DiagnosticArray) -> None:
        for status in array.status:
            if status.name.endswith(' ' + TOPIC):
                self.counters = {kv.key: kv.value for kv in status.values}

    def image(self, encoding: str, width: int, height: int, step: int, data: bytes,
              stamp_ns: int) -> Image:
        msg = Image(encoding=encoding, width=width, height=height, step=step, data=data)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 10**9)
        return msg

    def drain(self) -> List[int]:
        stamps = []
        while not self.results.empty():
            stamps.append(self.results.get())
        return stamps

    def close(self) -> None:
        self._executor.shutdown()
        self._thread.join(5.0)
        self.node.destroy_node()
        rclpy.shutdown()


def soak(frames: int, rate: float) -> int:
    node = start_node('threads:=2')
    client = Client(reliable=False)
    data = bytes([100]) * (224 * 224) + bytes([128]) * (224 * 224 // 2)
    stamps: List[int] = []
    warm = None
    start = time.monotonic()
    next_time = time.monotonic()
    for index in range(1, frames + 1):
        client.publisher.publish(client.image('nv12', 224, 224, 224, data, index))
        if index == min(5000, frames // 10):
            warm = process_figures(node.pid)
        if index % 1000 == 0:
            stamps += client.drain()
        next_time += 1.0 / rate
        time.sleep(max(0.0, next_time - time.monotonic()))
    time.sleep(1.0)
    stamps += client.drain()
    elapsed = time.monotonic() - start
    end = process_figures(node.pid)
    out_of_order = sum(1 for a, b in zip(stamps, stamps[1:]) if b <= a)
    code = stop(node)
    client.close()
    print('| soak | frames sent | results | elapsed s | RSS MB | fds | threads | workers |')
    print('|---|---|---|---|---|---|---|---|')
    print('| after warm-up | %d | | | %.1f | %d | %d | %d |' % (
        min(5000, frames // 10), warm['rss_mb'], warm['fds'], warm['threads'], warm['children']))
    print('| end | %d | %d | %.1f | %.1f | %d | %d | %d |' % (
        frames, len(stamps), elapsed, end['rss_mb'], end['fds'], end['threads'],
        end['children']))
    growth = end['rss_mb'] - warm['rss_mb']
    ok = (growth < 10 and end['fds'] == warm['fds'] and end['threads'] == warm['threads']
          and end['children'] == warm['children'] and out_of_order == 0 and code == 0)
    print('\nRSS growth %.1f MB (< 10), fds/threads/workers constant, %d stale results, '
          'exit code %d: %s' % (growth, out_of_order, code, 'PASS' if ok else 'MISS'))
    return 0 if ok else 1


def fuzz(cases: int) -> int:
    node = start_node('threads:=1')
    client = Client(reliable=True)
    rng = np.random.default_rng(7)
    bad = 0
    for index in range(1, cases + 1):
        frame = random_frame(rng)
        bad += not frame.valid
        client.publisher.publish(client.image(frame.encoding, frame.width, frame.height,
                                              frame.step, frame.data, index))
        time.sleep(0.004)  # slower than the node: no frame replaced while waiting
    time.sleep(3.0)  # the last results and a /diagnostics message
    classified = len(client.drain())
    counts = {key: int(client.counters.get(key, -1)) for key in (
        'received', 'dropped_bad', 'dropped_busy', 'published')}
    crashed = node.poll() is not None
    code = stop(node) if not crashed else node.returncode
    client.close()
    print('| fuzz cases | malformed | node received | node dropped_bad | dropped_busy | '
          'classified | node crashed | exit code |')
    print('|---|---|---|---|---|---|---|---|')
    print('| %d | %d | %d | %d | %d | %d | %s | %s |' % (
        cases, bad, counts['received'], counts['dropped_bad'], counts['dropped_busy'],
        classified, crashed, code))
    # Frames can be lost between processes (best effort) or replaced while the worker is
    # busy; every malformed frame that arrived must be counted, every other one classified.
    ok = (not crashed and code == 0 and counts['dropped_bad'] <= bad
          and counts['received'] - counts['dropped_bad'] - counts['dropped_busy'] == classified)
    print('\nno crash, every frame the node received either counted as malformed, replaced '
          'while busy, or classified: %s' % ('PASS' if ok else 'MISS'))
    return 0 if ok else 1


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('run', choices=('soak', 'fuzz'))
    parser.add_argument('--frames', type=int, default=50000)
    parser.add_argument('--rate', type=float, default=800.0, help='soak frames per second')
    parser.add_argument('--cases', type=int, default=10000)
    args = parser.parse_args(argv)
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    return soak(args.frames, args.rate) if args.run == 'soak' else fuzz(args.cases)


if __name__ == '__main__':
    sys.exit(main())
