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
The seeds' table for the node: latency, FPS and drops per zoo model, CPU per frame, ceiling.

Everything runs over real ROS 2 topics between processes: a camera_sim process publishes, the
classifier node classifies, this process listens. Without a board, the fake engine stands in for
the BPU: each forward holds the GIL for the model's published 1-thread latency, and the simulated
device runs one forward at a time for 1 / (published 4-thread FPS), so the ideal throughput of
every configuration is known: min(threads / latency, published 4-thread FPS).

    .venv/bin/python benchmarks/bench_node.py                 # all 17 models, CPU, ceiling
    .venv/bin/python benchmarks/bench_node.py --skip-models --seconds 4

CPU per frame is what the node process (all its threads) and, separately, its worker processes
spend per classified frame at 30 FPS (each thread's time on a CPU, /proc/<pid>/task/*/schedstat),
beside a zero-work echo node (subscribe, publish the header back) spun by the same executor: their
ratio is what the node adds to transport. The ceiling is the FPS for 224x224 nv12 frames with a 0
ms engine, of the node and of the echo node (their ratio: how much of what the executor can take
the node keeps). Both are measured for each executor in the same run, --repeats times round all
configurations (medians reported: the machine may be shared). Where hbm_img_msgs is installed,
1080p NV12 frames as the RDK's shared-memory camera sends them (HbmMsg1080P from hbm_camera_sim,
with hobot_shm's Fast DDS variables) are compared with the same frames as sensor_msgs/Image: node
CPU per frame, and results / frames sent (at 30 FPS with a 0 ms engine nothing should be lost).

One program for the node's whole table set (models, CPU, ceiling, hbmem; their charts), which
is why it is longer than 450 lines: each section is a measuring function and a report block.

Prints markdown tables (figures and ratios measured in this run) and writes them with PNG
charts into --out. Frames over 512 KB are published through config/fastdds_large_frames.xml.
"""

import argparse
from dataclasses import dataclass
import os
from pathlib import Path
import signal
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import qos_profile_sensor_data
from rdk_classifier.catalog import load_catalog
from rdk_classifier.paths import package_config_path
from rdk_classifier.ros.main import make_executor, reuse_freed_frame_buffers, spin_until_shutdown
from sensor_msgs.msg import Image
from vision_msgs.msg import Classification

TOPIC = '/bench/cam/image_raw'
RESULTS = '/bench/cam/classification'
#: Frame sizes of the CPU table: a VGA camera, a 1080p NV12 camera, one already at model size.
CPU_FRAMES = ((640, 480, 'bgr8'), (1920, 1080, 'nv12'), (224, 224, 'nv12'))


class Listener:
    """Records (arrival time, latency ms) of every classification, in its own thread."""

    def __init__(self) -> None:
        rclpy.init()
        self.node = rclpy.create_node('bench_listener')
        #: Appended by the executor thread only; read by index from the main thread.
        self.arrivals: List[Tuple[float, float]] = []
        self.node.create_subscription(Classification, RESULTS, self._on_result, 100)
        # The fastest executor here, so that the listener is not what limits the ceiling.
        self._executor = make_executor('auto')
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        try:
            spin_until_shutdown(self._executor)
        except ExternalShutdownException:
            pass

    def _on_result(self, msg: Classification) -> None:
        now = self.node.get_clock().now().nanoseconds
        stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        self.arrivals.append((time.monotonic(), (now - stamp) / 1e6))

    def close(self) -> None:
        rclpy.shutdown()
        self._thread.join(5.0)
        self._executor.shutdown()
        self.node.destroy_node()


def start_node(executor: str, *params: str) -> subprocess.Popen:
    """Start the classifier node (default middleware settings) and wait until it runs."""
    command = [sys.executable, '-m', 'rdk_classifier.ros.main', '--ros-args',
               '--params-file', str(package_config_path('classifier.yaml')),
               '-p', 'image_topics:=[%s]' % TOPIC, '-p', 'infer_timeout_ms:=0',
               '-p', 'executor:=%s' % executor]
    for param in params:
        command += ['-p', param]
    return _start(command, 'classifying')


def start_echo_node(executor: str) -> subprocess.Popen:
    """Start the zero-work reference node (subscribes, publishes the header back)."""
    return _start([sys.executable, __file__, '--echo-node', executor], 'echo ready')


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
    command = [sys.executable, '-m', 'rdk_classifier.programs.camera_sim', '--topic', TOPIC,
               '--width', str(width), '--height', str(height), '--encoding', encoding,
               '--rate', str(rate), '--count', str(count)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def hbm_camera(rate: float, count: int) -> subprocess.Popen:
    """Start hbm_camera_sim: 1920x1080 HbmMsg1080P with hobot_shm's Fast DDS variables."""
    command = [sys.executable, '-m', 'rdk_classifier.programs.hbm_camera_sim', '--topic', TOPIC,
               '--rate', str(rate), '--count', str(count)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def cpu_seconds(pid: int) -> float:
    """
    Return the CPU seconds of a process so far, all its threads (0 once it is gone).

    Summed from each thread's schedstat (nanoseconds on a CPU): utime and stime in /proc/pid/stat
    count 10 ms ticks, and a node at 30 FPS spends only a few ticks in a 5 s window.
    """
    total = 0
    try:
        for task in Path('/proc/%d/task' % pid).iterdir():
            try:
                total += int((task / 'schedstat').read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass  # the thread just ended (the node's threads live as long as it does)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return total / 1e9


def children_of(pid: int) -> List[int]:
    """Return the process ids of the direct children of ``pid`` (the node's workers)."""
    children = []
    for task in Path('/proc/%d/task' % pid).glob('*/children'):
        children += [int(c) for c in task.read_text().split()]
    return children


@dataclass
class CpuSnapshot:
    """CPU seconds of a node process and of its child processes, at one moment."""

    node: float
    children: Dict[int, float]

    @classmethod
    def of(cls, pid: int) -> 'CpuSnapshot':
        return cls(cpu_seconds(pid), {child: cpu_seconds(child) for child in children_of(pid)})


@dataclass
class Measurement:
    """What one node did with one camera's frames, after the warm-up."""

    fps: float
    received: int
    p50: float
    p99: float
    #: CPU milliseconds per classified frame in the window: node process, its workers.
    node_ms: float = float('nan')
    workers_ms: float = float('nan')


def measure(listener: Listener, publisher: subprocess.Popen, warmup_s: float,
            watched: Optional[int] = None) -> Measurement:
    """
    Run until the publisher is done; return FPS, latency and CPU per frame after the warm-up.

    The window opens ``warmup_s`` after the first result and closes when the camera stops; CPU
    is that of process ``watched`` (and of its children) over the window.
    """
    first = len(listener.arrivals)
    while len(listener.arrivals) == first and publisher.poll() is None:
        time.sleep(0.01)
    time.sleep(warmup_s)
    opened_at = len(listener.arrivals)
    before = CpuSnapshot.of(watched) if watched else None
    publisher.wait()
    after = CpuSnapshot.of(watched) if watched else None
    closed_at = len(listener.arrivals)
    time.sleep(0.5)  # results still on their way count for FPS and latency, not for CPU
    arrivals = listener.arrivals[first:]
    steady = listener.arrivals[opened_at:]
    if len(steady) < 3:
        return Measurement(0.0, len(arrivals), float('nan'), float('nan'))
    span = steady[-1][0] - steady[0][0]
    latencies = np.array([latency for _, latency in steady])
    result = Measurement(fps=(len(steady) - 1) / span if span > 0 else 0.0,
                         received=len(arrivals), p50=float(np.percentile(latencies, 50)),
                         p99=float(np.percentile(latencies, 99)))
    frames = closed_at - opened_at
    if before and frames > 0:
        result.node_ms = 1000.0 * (after.node - before.node) / frames
        workers = sum(after.children.get(pid, seconds) - seconds
                      for pid, seconds in before.children.items())
        result.workers_ms = 1000.0 * workers / frames
    return result


def bench_models(listener: Listener, names: Sequence[str], seconds: float,
                 executor: str) -> List[dict]:
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
            node = start_node(executor, 'engine:=fake', 'model:=%s' % info.name,
                              'threads:=%d' % threads,
                              'fake.latency_ms:=%s' % float(info.latency_ms_1t),
                              'fake.hold_gil:=true', 'fake.device_fps:=%s' % float(info.fps_4t))
            try:
                sent = int(rate * seconds)
                result = measure(listener, camera(224, 224, 'nv12', rate, sent), warmup_s=0.5)
            finally:
                stop(node)
            row['fps_%dt' % threads] = result.fps
            row['lat_%dt' % threads] = result.p50
            row['ideal_%dt' % threads] = ideal
            row['dropped_%dt' % threads] = sent - result.received
        rows.append(row)
        print('%-22s 1t %6.1f FPS (%.0f%% of ideal)  4t %6.1f FPS (%.0f%% of ideal)'
              % (info.name, row['fps_1t'], 100 * row['fps_1t'] / row['ideal_1t'],
                 row['fps_4t'], 100 * row['fps_4t'] / row['ideal_4t']), flush=True)
    return rows


def median_of(runs: Sequence[Measurement]) -> Measurement:
    """Return the field-by-field median of repeated measurements."""
    return Measurement(*(float(np.median([getattr(run, name) for run in runs]))
                         for name in ('fps', 'received', 'p50', 'p99', 'node_ms', 'workers_ms')))


@dataclass
class CpuRow:
    """One frame size through one executor: the echo node and the classifier node (medians)."""

    frame: str
    executor: str
    echo: Measurement
    node: Measurement
    #: Node over echo CPU per frame, median of the ratios of runs made back to back.
    ratio: float


def bench_cpu(listener: Listener, seconds: float, executors: Sequence[str],
              repeats: int) -> List[CpuRow]:
    """CPU per frame at 30 FPS of the echo node and of the node (0 ms engine, 1 worker)."""
    count = int(30 * (seconds + 1.0))
    runs: Dict[Tuple[str, str], List[Dict[str, Measurement]]] = {}
    # Repeats go round every configuration, so that a burst of load elsewhere on the machine
    # lands in one run of each rather than in every run of one.
    for _ in range(repeats):
        for width, height, encoding in CPU_FRAMES:
            frame = '%dx%d %s' % (width, height, encoding)
            for executor in executors:
                figures = {}
                for label, starter in (
                        ('echo', lambda: start_echo_node(executor)),
                        ('node', lambda: start_node(executor, 'engine:=fake', 'threads:=1'))):
                    process = starter()
                    try:
                        figures[label] = measure(
                            listener, camera(width, height, encoding, 30, count), warmup_s=1.0,
                            watched=process.pid)
                    finally:
                        stop(process)
                runs.setdefault((frame, executor), []).append(figures)
                print('%-18s %-15s echo %.3f ms/frame, node %.3f ms/frame, workers %.3f'
                      % (frame, executor, figures['echo'].node_ms, figures['node'].node_ms,
                         figures['node'].workers_ms), flush=True)
    return [CpuRow(frame, executor, median_of([run['echo'] for run in done]),
                   median_of([run['node'] for run in done]),
                   float(np.median([run['node'].node_ms / run['echo'].node_ms for run in done])))
            for (frame, executor), done in runs.items()]


@dataclass
class HbmRow:
    """1080p NV12 frames as sensor_msgs/Image and as HbmMsg1080P through one executor."""

    executor: str
    image: Measurement
    hbm: Measurement
    #: Frames sent per run (each camera), for the results / sent figure.
    sent: int


def bench_hbm(listener: Listener, seconds: float, executors: Sequence[str],
              repeats: int) -> List[HbmRow]:
    """Node CPU per frame at 30 FPS for 1080p nv12: Image (camera_sim) vs hbmem (the RDK's)."""
    count = int(30 * (seconds + 1.0))
    runs: Dict[str, Dict[str, List[Measurement]]] = {
        executor: {'image': [], 'hbm': []} for executor in executors}
    for _ in range(repeats):
        for executor in executors:
            for label, publisher in (('image', lambda: camera(1920, 1080, 'nv12', 30, count)),
                                     ('hbm', lambda: hbm_camera(30, count))):
                node = start_node(executor, 'engine:=fake', 'threads:=1')
                try:
                    runs[executor][label].append(measure(listener, publisher(), warmup_s=1.0,
                                                         watched=node.pid))
                finally:
                    stop(node)
            print('1080p nv12 %-15s Image %.3f ms/frame (%d/%d), hbmem %.3f ms/frame (%d/%d)'
                  % (executor, runs[executor]['image'][-1].node_ms,
                     runs[executor]['image'][-1].received, count,
                     runs[executor]['hbm'][-1].node_ms, runs[executor]['hbm'][-1].received,
                     count), flush=True)
    return [HbmRow(executor, median_of(done['image']), median_of(done['hbm']), count)
            for executor, done in runs.items()]


@dataclass
class Ceiling:
    """The ceiling per executor of the node and of the echo node (medians), and the ratios."""

    per_executor: Dict[str, Measurement]
    echo: Dict[str, Measurement]
    #: Per executor, node FPS over the echo node's FPS, run by run (back to back).
    ratios: Dict[str, List[float]]
    gains: List[float]
    repeats: int


def bench_ceiling(listener: Listener, seconds: float, executors: Sequence[str],
                  repeats: int) -> Ceiling:
    """Highest FPS for 224x224 nv12 frames with a 0 ms engine per executor: node and echo."""
    runs: Dict[str, List[Measurement]] = {executor: [] for executor in executors}
    echo_runs: Dict[str, List[Measurement]] = {executor: [] for executor in executors}
    ratios: Dict[str, List[float]] = {executor: [] for executor in executors}
    gains = []
    rate = 4000.0
    for _ in range(repeats):
        for executor in executors:
            for done, starter in (
                    (echo_runs, lambda: start_echo_node(executor)),
                    (runs, lambda: start_node(executor, 'engine:=fake', 'threads:=4'))):
                process = starter()
                try:
                    done[executor].append(measure(
                        listener, camera(224, 224, 'nv12', rate, int(rate * seconds)), 0.5,
                        watched=process.pid))
                finally:
                    stop(process)
            node_fps, echo_fps = runs[executor][-1].fps, echo_runs[executor][-1].fps
            ratios[executor].append(node_fps / max(echo_fps, 1e-9))
            print('ceiling %-15s node %.0f FPS, echo %.0f FPS' % (executor, node_fps, echo_fps),
                  flush=True)
        if 'events' in runs and 'single_threaded' in runs:
            gains.append(runs['events'][-1].fps / max(runs['single_threaded'][-1].fps, 1e-9))
    return Ceiling({executor: median_of(done) for executor, done in runs.items()},
                   {executor: median_of(done) for executor, done in echo_runs.items()},
                   ratios, gains, repeats)


def echo_node(executor_choice: str) -> int:
    """Run the zero-work reference node with the node's executor and memory settings."""
    reuse_freed_frame_buffers()
    rclpy.init()
    node = rclpy.create_node('bench_echo')
    publisher = node.create_publisher(Classification, RESULTS, 10)
    node.create_subscription(Image, TOPIC, lambda msg: publisher.publish(
        Classification(header=msg.header)), qos_profile_sensor_data)
    executor = make_executor(executor_choice)
    executor.add_node(node)
    print('echo ready', flush=True)
    try:
        spin_until_shutdown(executor)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    rclpy.try_shutdown()
    return 0


def write_report(rows: List[dict], cpu: List[CpuRow], ceiling: Optional[Ceiling],
                 hbm: List[HbmRow], out: Path) -> str:
    lines = []
    out.mkdir(parents=True, exist_ok=True)
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
        _models_chart(rows, out / 'bench_node_models.png')
    if cpu:
        lines += ['', '| 30 FPS, 0 ms engine (medians) | executor | echo node CPU ms/frame | '
                  'node CPU ms/frame | node / echo | workers CPU ms/frame | FPS echo / node | '
                  'p50 / p99 ms echo | p50 / p99 ms node |',
                  '|---|---|---|---|---|---|---|---|---|']
        for row in cpu:
            echo, node = row.echo, row.node
            lines.append(
                '| %s | %s | %.3f | %.3f | %.2fx | %.3f | %.1f / %.1f | %.2f / %.2f '
                '| %.2f / %.2f |' % (row.frame, row.executor, echo.node_ms, node.node_ms,
                                     row.ratio, node.workers_ms, echo.fps, node.fps, echo.p50,
                                     echo.p99, node.p50, node.p99))
        _cpu_chart(cpu, out / 'bench_node_cpu.png')
    if ceiling:
        lines += ['', '| ceiling, 224x224 nv12, 0 ms engine, 4 workers (median of %d) | '
                  'node FPS | echo FPS | node / echo | node CPU ms/frame | '
                  'workers CPU ms/frame |' % ceiling.repeats, '|---|---|---|---|---|---|']
        for executor, figures in ceiling.per_executor.items():
            ratio = float(np.median(ceiling.ratios[executor]))
            lines.append('| %s | %.0f | %.0f | %.2fx (%s, target >= 0.6x) | %.3f | %.3f |' % (
                executor, figures.fps, ceiling.echo[executor].fps, ratio,
                'PASS' if ratio >= 0.6 else 'MISS', figures.node_ms, figures.workers_ms))
        if ceiling.gains:
            events = ceiling.per_executor['events'].fps
            gain = float(np.median(ceiling.gains))
            lines.append('\nevents executor: %.0f FPS (%s, target >= 1500), %.2fx the '
                         'SingleThreadedExecutor run next to it (median; %.2fx to %.2fx; %s, '
                         'target >= 1.6x)' % (
                             events, 'PASS' if events >= 1500 else 'MISS', gain,
                             min(ceiling.gains), max(ceiling.gains),
                             'PASS' if gain >= 1.6 else 'MISS'))
        _ceiling_chart(ceiling, out / 'bench_node_ceiling.png')
    if hbm:
        lines += ['', '| 1920x1080 nv12 at 30 FPS, 0 ms engine (medians) | executor | '
                  'node CPU ms/frame: Image | hbmem (HbmMsg1080P) | hbmem / Image | '
                  'results / sent: Image | hbmem |', '|---|---|---|---|---|---|---|']
        for pair in hbm:
            lines.append('| 1080p | %s | %.3f | %.3f | %.2fx | %d / %d | %d / %d |' % (
                pair.executor, pair.image.node_ms, pair.hbm.node_ms,
                pair.hbm.node_ms / pair.image.node_ms, pair.image.received, pair.sent,
                pair.hbm.received, pair.sent))
    report = '\n'.join(lines)
    (out / 'bench_node.md').write_text(report + '\n')
    return report


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot
    return pyplot


def _models_chart(rows: List[dict], path: Path) -> None:
    pyplot = _pyplot()
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
    _save(pyplot, figure, axes, path)


def _save(pyplot, figure, axes, path: Path) -> None:
    """Add the legend, write the chart as a PNG and free it."""
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def _cpu_chart(cpu: List[CpuRow], path: Path) -> None:
    pyplot = _pyplot()
    x = np.arange(len(cpu))
    figure, axes = pyplot.subplots(figsize=(max(7, len(cpu) * 1.1), 4.5))
    axes.bar(x - 0.27, [row.echo.node_ms for row in cpu], 0.27, label='echo node')
    axes.bar(x, [row.node.node_ms for row in cpu], 0.27, label='node process')
    axes.bar(x + 0.27, [row.node.workers_ms for row in cpu], 0.27, label='workers')
    axes.set_xticks(x, ['%s\n%s' % (row.frame, row.executor) for row in cpu], fontsize=7)
    axes.set_ylabel('CPU ms per classified frame')
    axes.set_title('CPU per frame at 30 FPS, 0 ms engine')
    _save(pyplot, figure, axes, path)


def _ceiling_chart(ceiling: Ceiling, path: Path) -> None:
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(figsize=(5, 4))
    names = list(ceiling.per_executor)
    x = np.arange(len(names))
    axes.bar(x - 0.2, [ceiling.echo[name].fps for name in names], 0.4, label='echo node')
    axes.bar(x + 0.2, [ceiling.per_executor[name].fps for name in names], 0.4, label='node')
    axes.set_xticks(x, names)
    axes.axhline(1500, color='gray', linestyle='--', label='target 1500 FPS')
    axes.set_ylabel('FPS')
    axes.set_title('ceiling: 224x224 nv12, 0 ms engine, 4 workers')
    _save(pyplot, figure, axes, path)


def _have_hbm_img_msgs() -> bool:
    try:
        import hbm_img_msgs.msg  # noqa: F401
    except ImportError:
        print('hbm_img_msgs is not installed: no hbmem figures', flush=True)
        return False
    return True


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('--models', default='all', help='comma-separated names, or all')
    parser.add_argument('--seconds', type=float, default=3.0, help='per measurement')
    parser.add_argument('--executors', default='events,single_threaded',
                        help='executors compared in the CPU and ceiling tables; the first one '
                        'runs the models table')
    parser.add_argument('--repeats', type=int, default=3,
                        help='runs of each CPU and ceiling configuration (medians reported)')
    parser.add_argument('--skip-models', action='store_true')
    parser.add_argument('--skip-cpu', action='store_true')
    parser.add_argument('--skip-ceiling', action='store_true')
    parser.add_argument('--skip-hbm', action='store_true',
                        help='skip 1080p hbmem vs Image (skipped anyway without hbm_img_msgs)')
    parser.add_argument('--out', default='bench_results')
    parser.add_argument('--echo-node', metavar='EXECUTOR', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.echo_node:
        return echo_node(args.echo_node)
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    os.environ.setdefault('ROS_LOCALHOST_ONLY', '1')
    names = [i.name for i in load_catalog().values()] if args.models == 'all' \
        else args.models.split(',')
    executors = args.executors.split(',')
    listener = Listener()
    try:
        rows = [] if args.skip_models else bench_models(listener, names, args.seconds,
                                                        executors[0])
        cpu = [] if args.skip_cpu else bench_cpu(listener, max(args.seconds, 5.0), executors,
                                                 args.repeats)
        ceiling = None if args.skip_ceiling else bench_ceiling(listener, args.seconds,
                                                               executors, args.repeats)
        hbm = [] if args.skip_hbm or not _have_hbm_img_msgs() else bench_hbm(
            listener, max(args.seconds, 5.0), executors, args.repeats)
    finally:
        listener.close()
    print(write_report(rows, cpu, ceiling, hbm, Path(args.out)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
