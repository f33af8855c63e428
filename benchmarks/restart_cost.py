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
What a worker restart costs (issue 22): kill-to-next-result time, worker RSS, a kill schedule.

    .venv/bin/python benchmarks/restart_cost.py [--kills 10] [--seconds 30] [--seed 22]

Runs the worker pipeline in this process on the fake engine. Like ``python -m
rdk_classifier.ros.node`` (and the console scripts), this main module imports rclpy and the
node, so a worker start that re-runs the main module pays for them as a node's worker would.

1. Kill-to-next-result: frames at 100 FPS, 0 ms forwards, one worker; the worker is SIGKILLed
   ``--kills`` times; each time, the seconds from the kill to the next result (median, max).
2. Worker RSS (VmRSS of a loaded worker process, fake engine).
3. Kill schedule: threads=1, 40 ms forwards, 30 FPS for ``--seconds`` s, the worker SIGKILLed
   every 0.2-0.9 s (uniform): the fraction of frames answered (target >= 1/4) and results
   whose class is not their frame's (must be 0).
"""

import argparse
import os
import random
import signal
import statistics
import sys
import threading
import time
from typing import List, Optional

import rclpy  # noqa: F401 - what a node's main module has imported (see the docstring)

from rdk_classifier.engines import EngineSpec
from rdk_classifier.inference.pipeline import Frame, InferencePipeline, Settings
try:
    import rdk_classifier.ros.node  # noqa: F401 - as above
except ImportError:  # the node's module moved: rclpy alone still shows the effect
    pass

SIZE = 32
NUM_CLASSES = 1000


def content_frame(index: int, y: int) -> Frame:
    """Return a uniform NV12 frame of luma ``y``; its token is (index, expected class)."""
    data = bytes([y]) * (SIZE * SIZE) + bytes([128]) * (SIZE * SIZE // 2)
    expected = min(y * NUM_CLASSES // 256, NUM_CLASSES - 1)
    return Frame('cam', data, 'nv12', SIZE, SIZE, SIZE, token=(index, expected))


class Results:
    """The results handed over by the pipeline, with their arrival times."""

    def __init__(self) -> None:
        self.arrivals: List[float] = []
        self.wrong = 0
        self._changed = threading.Condition()

    def on_result(self, result) -> None:
        with self._changed:
            self.arrivals.append(time.monotonic())
            if result.top[0][0] != result.token[1]:
                self.wrong += 1
            self._changed.notify_all()

    def on_drop(self, camera: str, reason: str, message: str) -> None:
        pass

    def wait_after(self, moment: float, timeout: float) -> Optional[float]:
        """Return the arrival time of the first result after ``moment``, None at timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                later = [t for t in self.arrivals if t > moment]
                if later:
                    return later[0]
                if not self._changed.wait(deadline - time.monotonic()) and \
                        time.monotonic() >= deadline:
                    return None


def make_pipeline(results: Results, latency_ms: float) -> InferencePipeline:
    options = {'input_size': [SIZE, SIZE], 'num_classes': NUM_CLASSES, 'latency_ms': latency_ms}
    return InferencePipeline(EngineSpec('fake', '', options), ['cam'], 1, results.on_result,
                             results.on_drop, settings=Settings(top_k=1))


class Feeder:
    """Submits content frames at a fixed rate on its own thread."""

    def __init__(self, pipeline: InferencePipeline, fps: float) -> None:
        self.sent = 0
        self._pipeline = pipeline
        self._period = 1.0 / fps
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self._pipeline.submit(content_frame(self.sent, (self.sent * 37) % 256))
            self.sent += 1
            next_at += self._period
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def rss_mb(pid: int) -> float:
    with open('/proc/%d/status' % pid, encoding='utf-8') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def kill_to_next_result(kills: int) -> tuple:
    """Return (kill-to-next-result seconds, worker RSS MB)."""
    results = Results()
    pipeline = make_pipeline(results, 0.0)
    pipeline.start()
    feeder = Feeder(pipeline, 100.0)
    gaps = []
    rss = rss_mb(pipeline.worker_pids[0])
    try:
        for _ in range(kills):
            results.wait_after(time.monotonic(), 30.0)
            killed = time.monotonic()
            os.kill(pipeline.worker_pids[0], signal.SIGKILL)
            arrived = results.wait_after(killed, 30.0)
            gaps.append(float('inf') if arrived is None else arrived - killed)
            time.sleep(0.2)
    finally:
        feeder.stop()
        pipeline.stop()
    return gaps, rss


def kill_schedule(seconds: float, seed: int) -> tuple:
    """Return (frames sent, results, wrong results, kills) of the kill schedule."""
    results = Results()
    pipeline = make_pipeline(results, 40.0)
    pipeline.start()
    chooser = random.Random(seed)
    feeder = Feeder(pipeline, 30.0)
    kills = 0
    ends = time.monotonic() + seconds
    try:
        while True:
            pause = chooser.uniform(0.2, 0.9)
            if time.monotonic() + pause >= ends:
                break
            time.sleep(pause)
            pids = pipeline.worker_pids
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                kills += 1
        time.sleep(max(0.0, ends - time.monotonic()))
    finally:
        feeder.stop()
        pipeline.stop()
    return feeder.sent, len(results.arrivals), results.wrong, kills


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('--kills', type=int, default=10)
    parser.add_argument('--seconds', type=float, default=30.0)
    parser.add_argument('--seed', type=int, default=22)
    args = parser.parse_args(argv)
    gaps, rss = kill_to_next_result(args.kills)
    print('kill-to-next-result (s): median %.3f, max %.3f over %d kills'
          % (statistics.median(gaps), max(gaps), len(gaps)))
    print('worker RSS: %.1f MB' % rss)
    sent, answered, wrong, kills = kill_schedule(args.seconds, args.seed)
    print('kill schedule (threads=1, 40 ms, 30 FPS, SIGKILL every 0.2-0.9 s): %d kills, '
          '%d/%d frames answered (%.2f), %d wrong'
          % (kills, answered, sent, answered / sent, wrong))
    return 0 if wrong == 0 and answered >= sent / 4 else 1


if __name__ == '__main__':
    sys.exit(main())
