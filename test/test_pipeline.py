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

"""Tests of the worker pipeline with the fake engine in real worker processes."""

import os
from pathlib import Path
import signal
import threading
import time

from node_process import children_of
import numpy as np
import pytest

from rdk_classifier.engines import EngineError, EngineSpec
from rdk_classifier.pipeline import Frame, InferencePipeline

SIZE = 224


def nv12_frame(camera: str, y: int, token) -> Frame:
    """Return a uniform NV12 frame at the model size (fake engine class: y * 1000 // 256)."""
    data = bytes([y]) * (SIZE * SIZE) + bytes([128]) * (SIZE * SIZE // 2)
    return Frame(camera, data, 'nv12', SIZE, SIZE, SIZE, token=token)


class Collector:
    """Gathers results and drops reported by the pipeline's lane threads."""

    def __init__(self) -> None:
        self.results = []
        self.drops = []
        self._changed = threading.Condition()

    def on_result(self, result) -> None:
        with self._changed:
            self.results.append(result)
            self._changed.notify_all()

    def on_drop(self, camera, reason, message) -> None:
        with self._changed:
            self.drops.append((camera, reason, message))
            self._changed.notify_all()

    def wait(self, predicate, timeout: float = 30.0) -> None:
        with self._changed:
            assert self._changed.wait_for(predicate, timeout), (self.results, self.drops)


def make_pipeline(collector, cameras=('cam',), threads=1, timeout_s=None, **fake_options):
    return InferencePipeline(EngineSpec('fake', '', dict(fake_options)), list(cameras), threads,
                             collector.on_result, collector.on_drop, top_k_count=3,
                             infer_timeout_s=timeout_s)


@pytest.fixture
def collector():
    return Collector()


def test_results_follow_the_fake_rule_and_keep_the_token(collector):
    pipeline = make_pipeline(collector)
    pipeline.start()
    try:
        for index, y in enumerate((20, 128, 250)):
            pipeline.submit(nv12_frame('cam', y, token=('frame', index)))
            collector.wait(lambda: len(collector.results) == index + 1)
    finally:
        pipeline.stop()
    assert [r.token for r in collector.results] == [('frame', i) for i in range(3)]
    assert [r.top[0][0] for r in collector.results] == [y * 1000 // 256 for y in (20, 128, 250)]
    for result in collector.results:
        scores = [score for _, score in result.top]
        assert len(result.top) == 3 and scores == sorted(scores, reverse=True)


def test_busy_workers_keep_only_the_latest_frame(collector):
    pipeline = make_pipeline(collector, latency_ms=300.0, hold_gil=True)
    pipeline.start()
    try:
        for index in range(6):  # all arrive while the first is being classified
            pipeline.submit(nv12_frame('cam', 100, token=index))
        collector.wait(lambda: collector.results and collector.results[-1].token == 5)
        counts = pipeline.stats('cam').snapshot()['counts']
    finally:
        pipeline.stop()
    assert counts['received'] == 6
    assert counts['published'] + counts['dropped_busy'] == 6
    assert counts['dropped_busy'] >= 4
    assert collector.results[-1].token == 5


def test_results_of_a_camera_are_never_older_than_the_last_published(collector):
    pipeline = make_pipeline(collector, cameras=('a', 'b'), threads=3, latency_ms=5.0)
    pipeline.start()
    try:
        for index in range(60):
            pipeline.submit(nv12_frame('a' if index % 2 else 'b', 90, token=index))
            time.sleep(0.002)
        collector.wait(lambda: sum(pipeline.stats(c).snapshot()['counts']['received']
                                   == sum(pipeline.stats(c).snapshot()['counts'][k] for k in (
                                       'published', 'dropped_busy', 'dropped_stale'))
                                   for c in 'ab') == 2)
    finally:
        pipeline.stop()
    for camera in 'ab':
        tokens = [r.token for r in collector.results if r.camera == camera]
        assert tokens and tokens == sorted(tokens)


def test_one_worker_process_per_thread(collector):
    pipeline = make_pipeline(collector, threads=3)
    before = set(_children())
    pipeline.start()
    try:
        workers = set(_children()) - before
        assert len(workers) == 3
    finally:
        pipeline.stop()
    assert not workers & set(_children())


def test_engine_errors_drop_the_frame_and_the_next_one_is_classified(collector):
    pipeline = make_pipeline(collector, fail_every=2)
    pipeline.start()
    try:
        for index in range(4):
            pipeline.submit(nv12_frame('cam', 60, token=index))
            collector.wait(lambda: len(collector.results) + len(collector.drops) == index + 1)
    finally:
        pipeline.stop()
    assert [r.token for r in collector.results] == [0, 2]
    assert [reason for _, reason, _ in collector.drops] == ['dropped_engine'] * 2
    assert pipeline.stats('cam').snapshot()['counts']['dropped_engine'] == 2


def test_a_hung_forward_is_killed_and_the_worker_restarted(collector):
    pipeline = make_pipeline(collector, timeout_s=0.5, hang_every=1, hang_s=60.0)
    pipeline.start()
    try:
        pipeline.submit(nv12_frame('cam', 60, token=0))
        collector.wait(lambda: collector.drops)
        assert pipeline.worker_restarts == 1
        assert 'longer than 500 ms' in collector.drops[0][2]
    finally:
        pipeline.stop()


def test_stop_does_not_wait_for_a_hung_forward(collector):
    pipeline = make_pipeline(collector, timeout_s=60.0, hang_every=1, hang_s=60.0)
    pipeline.start()
    pipeline.submit(nv12_frame('cam', 60, token=0))
    time.sleep(0.2)  # the worker is in the forward, its lane waiting for the result
    started = time.monotonic()
    pipeline.stop()
    assert time.monotonic() - started < 10.0, 'stop waited for the 60 s infer timeout'
    assert not collector.drops and not collector.results and not _children()


def test_a_dead_worker_is_restarted(collector):
    pipeline = make_pipeline(collector)
    before = set(_children())
    pipeline.start()
    try:
        (worker,) = set(_children()) - before
        os.kill(worker, signal.SIGKILL)
        time.sleep(0.2)
        pipeline.submit(nv12_frame('cam', 60, token=0))
        collector.wait(lambda: collector.drops)
        assert 'died' in collector.drops[0][2]
        pipeline.submit(nv12_frame('cam', 60, token=1))
        collector.wait(lambda: collector.results)
        assert collector.results[0].token == 1
        assert pipeline.worker_restarts == 1
    finally:
        pipeline.stop()


def test_malformed_frames_are_counted_and_skipped(collector):
    pipeline = make_pipeline(collector)
    pipeline.start()
    try:
        pipeline.submit(Frame('cam', b'\x00' * 10, 'bgr8', 640, 480, 1920, token='bad'))
        collector.wait(lambda: collector.drops)
        pipeline.submit(nv12_frame('cam', 60, token='good'))
        collector.wait(lambda: collector.results)
    finally:
        pipeline.stop()
    assert collector.drops[0][1] == 'dropped_bad' and '480' in collector.drops[0][2]
    assert collector.results[0].token == 'good'


def test_a_model_that_cannot_load_fails_start_with_the_engine_reason(collector, tmp_path):
    pipeline = InferencePipeline(
        EngineSpec('onnxruntime', str(tmp_path / 'missing.onnx')), ['cam'], 2,
        collector.on_result, collector.on_drop)
    with pytest.raises(EngineError, match='missing.onnx'):
        pipeline.start()
    assert not _children()


def test_stop_releases_shared_memory(collector):
    # Only this process's segments: other processes on the machine create and remove their own.
    before = _own_shared_memory()
    pipeline = make_pipeline(collector, threads=2)
    pipeline.start()
    segments = _own_shared_memory() - before
    pipeline.stop()
    assert len(segments) == 2, 'one input segment per worker: %s' % segments
    assert not [s for s in segments if os.path.exists(s)], 'shared memory left behind'
    assert not _own_shared_memory() & segments, 'shared memory still mapped'


def _own_shared_memory() -> set:
    """Python shared memory segments (/dev/shm/psm_*) mapped into this test process."""
    with open('/proc/self/maps', encoding='utf-8') as maps:
        fields = [line.split(maxsplit=5) for line in maps]
    # The sixth field is the path, with ' (deleted)' after it once unlinked.
    paths = {f[5].strip().replace(' (deleted)', '') for f in fields if len(f) == 6}
    return {path for path in paths if path.startswith('/dev/shm/psm_')}


def test_captured_input_is_the_converted_frame(collector):
    pipeline = make_pipeline(collector)
    pipeline.start()
    pipeline.capture_input = True
    try:
        pipeline.submit(nv12_frame('cam', 77, token=0))
        collector.wait(lambda: collector.results)
    finally:
        pipeline.stop()
    nv12 = collector.results[0].nv12
    assert nv12.shape == (SIZE * SIZE * 3 // 2,)
    assert np.all(nv12[:SIZE * SIZE] == 77) and np.all(nv12[SIZE * SIZE:] == 128)


def _children():
    """Worker processes of this test process (the resource tracker is left out)."""
    return [pid for pid in children_of(os.getpid()) if b'spawn_main' in _cmdline(pid)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path('/proc/%d/cmdline' % pid).read_bytes()
    except FileNotFoundError:
        return b''
