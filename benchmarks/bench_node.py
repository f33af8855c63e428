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
The seeds' table for the node: latency, FPS and drops per zoo model, and the node's overhead.

Everything runs over real ROS 2 topics between processes: a camera_sim process publishes, the
classifier node classifies, this process listens. Without a board, the fake engine stands in for
the BPU: each forward holds the GIL for the model's published 1-thread latency, and the simulated
device runs one forward at a time for 1 / (published 4-thread FPS), so the ideal throughput of
every configuration is known: min(threads / latency, published 4-thread FPS).

    .venv/bin/python benchmarks/bench_node.py                 # all 17 models, overhead, ceiling
    .venv/bin/python benchmarks/bench_node.py --models RepViT_m0_9 --skip-overhead

Prints markdown tables (figures and ratios measured in this run) and writes them with a PNG chart
into --out. Frames over 512 KB are published through config/fastdds_large_frames.xml.
"""

import argparse
import os
from pathlib import Path
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import List, Optional, Sequence

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import qos_profile_sensor_data
from rdk_classifier.catalog import load_catalog, package_config_path
from sensor_msgs.msg import Image
from vision_msgs.msg import Classification

TOPIC = '/bench/cam/image_raw'
RESULTS = '/bench/cam/classification'


class Listener:
    """Collects (arrival time, header stamp) of every classification, in its own thread."""

    def __init__(self) -> None:
        rclpy.init()
        self.node = rclpy.create_node('bench_listener')
        self.arrivals: 'queue.Queue[tuple]' = queue.Queue()
        self.node.create_subscription(Classification, RESULTS, self._on_result, 100)
        self._executor = SingleThreadedExecutor()
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._executor.spin, daemon=True)
        self._thread.start()

    def _on_result(self, msg: Classification) -> None:
        now = self.node.get_clock().now().nanoseconds
        stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        self.arrivals.put((time.monotonic(), (now - stamp) / 1e6))

    def drain(self) -> List[tuple]:
        items = []
        while not self.arrivals.empty():
            items.append(self.arrivals.get())
        return items

    def close(self) -> None:
        self._executor.shutdown()
        self._thread.join(5.0)
        self.node.destroy_node()
        rclpy.shutdown()


def start_node(*params: str) -> subprocess.Popen:
    """Start the classifier node (default middleware settings) and wait until it runs."""
    command = [sys.executable, '-m', 'rdk_classifier.node', '--ros-args',
               '--params-file', str(package_config_path('classifier.yaml')),
               '-p', 'image_topics:=[%s]' % TOPIC, '-p', 'infer_timeout_ms:=0']
    for param in params:
        command += ['-p', param]
    return _start(command, 'classifying')


def start_echo_node() -> subprocess.Popen:
    """Start the zero-work reference node (subscribes, publishes the header back)."""
    return _start([sys.executable, __file__, '--echo-node'], 'echo ready')


def _start(command: Sequence[str], ready_text: str) -> subprocess.Popen:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    for line in process.stdout:
        if ready_text in line:
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process
    raise RuntimeError('%s did not start (exit code %s)' % (command[2:], process.wait()))


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def camera(width: int, height: int, encoding: str, rate: float, count: int) -> subprocess.Popen:
    """Start a camera_sim process (it publishes through the large-frames profile)."""
    command = [sys.executable, '-m', 'rdk_classifier.camera_sim', '--topic', TOPIC,
               '--width', str(width), '--height', str(height), '--encoding', encoding,
               '--rate', str(rate), '--count', str(count)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def measure(listener: Listener, publisher: subprocess.Popen, warmup_s: float) -> dict:
    """Run until the publisher is done; return FPS and latency after the warm-up."""
    listener.drain()
    publisher.wait()
    time.sleep(0.5)  # the last results
    arrivals = listener.drain()
    if len(arrivals) < 3:
        return {'fps': 0.0, 'received': len(arrivals), 'p50': float('nan'),
                'p99': float('nan')}
    start = arrivals[0][0] + warmup_s
    steady = [a for a in arrivals if a[0] >= start] or arrivals
    span = steady[-1][0] - steady[0][0]
    latencies = np.array([latency for _, latency in steady])
    return {'fps': (len(steady) - 1) / span if span > 0 else 0.0,
            'received': len(arrivals),
            'p50': float(np.percentile(latencies, 50)),
            'p99': float(np.percentile(latencies, 99))}


def bench_models(listener: Listener, names: Sequence[str], seconds: float) -> List[dict]:
    rows = []
    catalog = load_catalog()
    for name in names:
        info = catalog[name.lower()]
        if not (info.latency_ms_1t and info.fps_4t):
            print('%s: no published latency/FPS, skipped' % info.name, flush=True)
            continue
        row = {'model': info.name, 'pub_lat_1t': info.latency_ms_1t,
               'pub_fps_4t': info.fps_4t}
        for threads in (1, 4):
            ideal = min(threads * 1000.0 / info.latency_ms_1t, info.fps_4t)
            rate = ideal * 1.15  # keep every worker busy; the node drops the excess
            node = start_node('engine:=fake', 'model:=%s' % info.name,
                              'threads:=%d' % threads,
                              'fake.latency_ms:=%s' % float(info.latency_ms_1t),
                              'fake.hold_gil:=true', 'fake.device_fps:=%s' % float(info.fps_4t))
            try:
                sent = int(rate * seconds)
                result = measure(listener, camera(224, 224, 'nv12', rate, sent), warmup_s=0.5)
            finally:
                stop(node)
            row['fps_%dt' % threads] = result['fps']
            row['lat_%dt' % threads] = result['p50']
            row['ideal_%dt' % threads] = ideal
            row['dropped_%dt' % threads] = sent - result['received']
        rows.append(row)
        print('%-22s 1t %6.1f FPS (%.0f%% of ideal)  4t %6.1f FPS (%.0f%% of ideal)'
              % (info.name, row['fps_1t'], 100 * row['fps_1t'] / row['ideal_1t'],
                 row['fps_4t'], 100 * row['fps_4t'] / row['ideal_4t']), flush=True)
    return rows


def bench_overhead(listener: Listener, seconds: float) -> dict:
    """Measure the node (0 ms engine) and a zero-work echo node at 30 FPS 640x480 bgr8."""
    figures = {}
    count = int(30 * seconds)
    for label, starter in (('echo', start_echo_node),
                           ('node', lambda: start_node('engine:=fake', 'threads:=1'))):
        process = starter()
        try:
            figures[label] = measure(listener, camera(640, 480, 'bgr8', 30, count),
                                     warmup_s=1.0)
        finally:
            stop(process)
    return figures


def bench_ceiling(listener: Listener, seconds: float) -> dict:
    """Highest FPS of the node for 224x224 nv12 frames with a 0 ms engine."""
    node = start_node('engine:=fake', 'threads:=4')
    try:
        rate = 4000.0
        return measure(listener, camera(224, 224, 'nv12', rate, int(rate * seconds)), 0.5)
    finally:
        stop(node)


def echo_node() -> int:
    """Run the zero-work reference node."""
    rclpy.init()
    node = rclpy.create_node('bench_echo')
    publisher = node.create_publisher(Classification, RESULTS, 10)
    node.create_subscription(Image, TOPIC, lambda msg: publisher.publish(
        Classification(header=msg.header)), qos_profile_sensor_data)
    print('echo ready', flush=True)
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        pass
    rclpy.try_shutdown()
    return 0


def write_report(rows: List[dict], overhead: Optional[dict], ceiling: Optional[dict],
                 out: Path) -> str:
    lines = []
    if rows:
        lines += ['| model | seeds 1t ms | seeds 4t FPS | node 1t FPS (% of ideal) | '
                  'node 4t FPS (% of ideal) | 4t/1t gain (seeds) | e2e p50 ms 1t / 4t | '
                  'dropped 1t / 4t |', '|---|---|---|---|---|---|---|---|']
        for r in rows:
            # The zoo publishes no 1-thread FPS: its 1-thread ideal is 1000 / latency.
            seeds_gain = r['pub_fps_4t'] * r['pub_lat_1t'] / 1000.0
            lines.append(
                '| %s | %.2f | %.1f | %.1f (%.0f%%) | %.1f (%.0f%%) | %.2fx (%.2fx) | %.1f / %.1f '
                '| %d / %d |' % (
                    r['model'], r['pub_lat_1t'], r['pub_fps_4t'],
                    r['fps_1t'], 100 * r['fps_1t'] / r['ideal_1t'],
                    r['fps_4t'], 100 * r['fps_4t'] / r['ideal_4t'],
                    r['fps_4t'] / max(r['fps_1t'], 1e-9), seeds_gain,
                    r['lat_1t'], r['lat_4t'], r['dropped_1t'], r['dropped_4t']))
        worst = min(r['fps_4t'] / r['ideal_4t'] for r in rows)
        lines.append('\nthreads=4 FPS >= 95%% of the simulated ideal for every model: %s '
                     '(worst %.1f%%)' % ('PASS' if worst >= 0.95 else 'MISS', 100 * worst))
    if overhead:
        echo, node = overhead['echo'], overhead['node']
        added50, added99 = node['p50'] - echo['p50'], node['p99'] - echo['p99']
        lines += ['', '| 30 FPS 640x480 bgr8, 0 ms engine | p50 ms | p99 ms | FPS |',
                  '|---|---|---|---|',
                  '| echo node (zero work) | %.2f | %.2f | %.1f |' % (
                      echo['p50'], echo['p99'], echo['fps']),
                  '| rdk_classifier | %.2f | %.2f | %.1f |' % (
                      node['p50'], node['p99'], node['fps']),
                  '| added by the node | %.2f (%s, target <= 1) | %.2f (%s, target <= 3) | |' % (
                      added50, 'PASS' if added50 <= 1 else 'MISS', added99,
                      'PASS' if added99 <= 3 else 'MISS')]
    if ceiling:
        lines += ['', 'ceiling, 224x224 nv12, 0 ms engine, 4 workers: %.0f FPS (%s, target >= '
                  '1000)' % (ceiling['fps'], 'PASS' if ceiling['fps'] >= 1000 else 'MISS')]
    report = '\n'.join(lines)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'bench_node.md').write_text(report + '\n')
    if rows:
        _chart(rows, out / 'bench_node.png')
    return report


def _chart(rows: List[dict], path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use('Agg')
        from matplotlib import pyplot
    except ImportError:
        print('matplotlib is not installed: no chart', file=sys.stderr)
        return
    x = np.arange(len(rows))
    figure, axes = pyplot.subplots(figsize=(max(8, len(rows) * 0.8), 4.5))
    for offset, key, label in ((-0.3, 'fps_1t', 'node 1 thread'),
                               (-0.1, 'ideal_1t', 'ideal 1 thread'),
                               (0.1, 'fps_4t', 'node 4 threads'),
                               (0.3, 'ideal_4t', 'ideal 4 threads')):
        axes.bar(x + offset, [r[key] for r in rows], 0.2, label=label)
    axes.set_xticks(x, [r['model'] for r in rows], rotation=60, ha='right', fontsize=8)
    axes.set_ylabel('FPS')
    axes.set_title('rdk_classifier on a simulated RDK X5 BPU (fake engine)')
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('--models', default='all', help='comma-separated names, or all')
    parser.add_argument('--seconds', type=float, default=3.0, help='per measurement')
    parser.add_argument('--skip-models', action='store_true')
    parser.add_argument('--skip-overhead', action='store_true')
    parser.add_argument('--out', default='bench_results')
    parser.add_argument('--echo-node', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.echo_node:
        return echo_node()
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    os.environ.setdefault('ROS_LOCALHOST_ONLY', '1')
    names = [i.name for i in load_catalog().values()] if args.models == 'all' \
        else args.models.split(',')
    listener = Listener()
    try:
        rows = [] if args.skip_models else bench_models(listener, names, args.seconds)
        overhead = ceiling = None
        if not args.skip_overhead:
            overhead = bench_overhead(listener, max(args.seconds, 10.0))
            ceiling = bench_ceiling(listener, args.seconds)
    finally:
        listener.close()
    print(write_report(rows, overhead, ceiling, Path(args.out)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
