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
    .venv/bin/python benchmarks/soak_node.py bombs [--seconds 60]

soak: frames at the node's full speed (fake engine, 0 ms; --rate, default 800 a second: what
this 2-core machine's node serves next to the publisher); prints the node's RSS, open
file descriptors, threads and worker processes after warm-up and at the end, and checks that no
camera ever got a result older than one it already had.
fuzz: random good and malformed frames (test/fuzz_frames.py); prints cases, crashes, and the
node's own counts (received, dropped_bad, dropped_busy) against what was sent and classified.
bombs: what any process on the robot's network can send, for a while: a 20000x20000 PNG of
zeros (a few hundred KB), a 12000x12000 JPEG and good photos to a compressed node, then raw
frames that lie about their size (60000x60000 with 1 KB of data, 2^32-1 dimensions) and good
frames to a raw node; prints each node's peak RSS (VmHWM) and counts. Target: < 300 MB.
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

import cv2
from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from rdk_classifier.paths import package_config_path
from rdk_classifier.programs.camera_sim import use_large_frames_profile
from sensor_msgs.msg import CompressedImage, Image
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
            'peak_rss_mb': int(fields['VmHWM'].split()[0]) / 1024.0,
            'fds': len(os.listdir('/proc/%d/fd' % pid)),
            'threads': int(fields['Threads']), 'children': len(children)}


def start_node(*params: str) -> subprocess.Popen:
    command = [sys.executable, '-m', 'rdk_classifier.ros.main', '--ros-args', '--params-file',
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

    def __init__(self, reliable: bool, compressed: bool = False) -> None:
        rclpy.init()
        self.node = rclpy.create_node('soak_client')
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE) if reliable \
            else qos_profile_sensor_data
        self.source = TOPIC + '/compressed' if compressed else TOPIC
        self.publisher = self.node.create_publisher(
            CompressedImage if compressed else Image, self.source, qos)
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
            if status.name.endswith(' ' + self.source):
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


def bombs(seconds: float) -> int:
    # Bombs are up to a few MB: sent as a camera driver should, so that none is lost on the way.
    use_large_frames_profile()
    photo = cv2.imread(str(Path(__file__).resolve().parents[1] / 'rdk_classifier' / 'data'
                           / 'samples' / 'n01440764_tench.JPEG'))
    compressed = [
        ('png', cv2.imencode('.png', np.zeros((20000, 20000), np.uint8))[1].tobytes(), False),
        ('jpeg', cv2.imencode('.jpg', np.zeros((12000, 12000), np.uint8))[1].tobytes(), False),
        ('jpeg', cv2.imencode('.jpg', photo)[1].tobytes(), True)]
    good_raw = (bytes([100]) * (224 * 224) + bytes([128]) * (224 * 224 // 2), 224, 224, 224)
    raw = [
        ('mono8', 60000, 60000, 60000, bytes(1024), False),
        ('bgr8', 2**32 - 1, 2**32 - 1, 2**32 - 1, bytes(1024), False),
        ('nv12',) + good_raw[1:] + (good_raw[0], True)]
    rows = []
    for transport, payloads in (('compressed', compressed), ('raw', raw)):
        node = start_node('threads:=1', 'image_transport:=' + transport)
        client = Client(reliable=True, compressed=transport == 'compressed')
        sent = bad = index = 0
        deadline = time.monotonic() + seconds / 2
        while time.monotonic() < deadline:
            payload = payloads[index % len(payloads)]
            index += 1
            if transport == 'compressed':
                msg = CompressedImage(format=payload[0], data=payload[1])
                msg.header.stamp.sec = index
            else:
                msg = client.image(*payload[:5], stamp_ns=index * 10**9)
            client.publisher.publish(msg)
            sent += 1
            bad += not payload[-1]
            time.sleep(0.05)
        time.sleep(2.0)  # the last results and a /diagnostics message
        classified = len(client.drain())
        figures = process_figures(node.pid)
        crashed = node.poll() is not None
        code = stop(node) if not crashed else node.returncode
        client.close()
        rows.append((transport, sent, bad, int(client.counters.get('dropped_bad', -1)),
                     classified, figures['peak_rss_mb'], crashed, code))
    print('| node | frames sent | hostile | node dropped_bad | classified | peak RSS MB | '
          'crashed | exit code |')
    print('|---|---|---|---|---|---|---|---|')
    for row in rows:
        print('| %s | %d | %d | %d | %d | %.1f | %s | %s |' % row)
    ok = all(not crashed and code == 0 and dropped == hostile and classified > 0
             and peak < 300 for _, _, hostile, dropped, classified, peak, crashed, code in rows)
    print('\nevery hostile frame dropped as malformed, good ones classified, peak RSS < 300 MB, '
          'no crash: %s' % ('PASS' if ok else 'MISS'))
    return 0 if ok else 1


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('run', choices=('soak', 'fuzz', 'bombs'))
    parser.add_argument('--frames', type=int, default=50000)
    parser.add_argument('--rate', type=float, default=800.0, help='soak frames per second')
    parser.add_argument('--cases', type=int, default=10000)
    parser.add_argument('--seconds', type=float, default=60.0, help='bombs: both nodes')
    args = parser.parse_args(argv)
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    if args.run == 'bombs':
        return bombs(args.seconds)
    return soak(args.frames, args.rate) if args.run == 'soak' else fuzz(args.cases)


if __name__ == '__main__':
    sys.exit(main())
