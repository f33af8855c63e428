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

import errno
import os
from pathlib import Path
import signal
import threading
import time
from typing import List, Tuple

from hypothesis import given, strategies as st
from node_process import alive, children_of
import numpy as np
import pytest

from rdk_classifier.engines import EngineError, EngineSpec
from rdk_classifier.engines.fake import add_fault, closed_engines, taken_faults
from rdk_classifier.inference import dispatcher
from rdk_classifier.inference.pipeline import Frame, InferencePipeline, Result, Settings
from rdk_classifier.inference.processes import start_process, WORKER_MODULE
from rdk_classifier.inference.stats import Counts
from rdk_classifier.inference.worker import Reply, Worker

SIZE = 224


def nv12_frame(camera: str, y: int, token) -> Frame:
    """Return a uniform NV12 frame at the model size (fake engine class: y * 1000 // 256)."""
    data = bytes([y]) * (SIZE * SIZE) + bytes([128]) * (SIZE * SIZE // 2)
    return Frame(camera, data, 'nv12', SIZE, SIZE, SIZE, token=token)


class Collector:
    """Gathers results and drops reported by the pipeline's dispatcher thread."""

    def __init__(self) -> None:
        self.results: List[Result] = []
        self.drops: List[Tuple[str, str, str]] = []
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


def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'not within %.0f s: %s' % (timeout, what)
        time.sleep(0.01)


def make_pipeline(collector, cameras=('cam',), threads=1, timeout_s=None, **fake_options):
    return InferencePipeline(EngineSpec('fake', '', dict(fake_options)), list(cameras), threads,
                             collector.on_result, collector.on_drop,
                             settings=Settings(top_k=3, infer_timeout_s=timeout_s))


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
        counts = counts_of(pipeline, 'cam')
    finally:
        pipeline.stop()
    assert counts.received == 6
    assert counts.published + counts.dropped_busy == 6
    # Only three can be classified: a single worker holds two frames (the one in its forward
    # and the next, in its other input buffer) and the camera's slot keeps the latest.
    assert counts.dropped_busy >= 3
    assert collector.results[-1].token == 5


def test_results_of_a_camera_are_never_older_than_the_last_published(collector):
    pipeline = make_pipeline(collector, cameras=('a', 'b'), threads=3, latency_ms=5.0)
    pipeline.start()
    try:
        for index in range(60):
            pipeline.submit(nv12_frame('a' if index % 2 else 'b', 90, token=index))
            time.sleep(0.002)
        collector.wait(lambda: all(
            counts.received == counts.published + counts.dropped_busy + counts.dropped_stale
            for counts in (counts_of(pipeline, c) for c in 'ab')))
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
    assert counts_of(pipeline, 'cam').dropped_engine == 2


def test_a_hung_forward_is_killed_and_the_worker_restarted(collector):
    pipeline = make_pipeline(collector, timeout_s=0.5, hang_every=1, hang_s=60.0)
    pipeline.start()
    try:
        pipeline.submit(nv12_frame('cam', 60, token=0))
        collector.wait(lambda: collector.drops)
        # The frame is dropped before the replacement starts, which counts the restart.
        wait_for(lambda: pipeline.snapshot().worker_restarts == 1, 'the restart')
        assert 'longer than 500 ms' in collector.drops[0][2]
    finally:
        pipeline.stop()


def test_stop_does_not_wait_for_a_hung_forward(collector, tmp_path):
    faults = str(tmp_path / 'faults')
    add_fault(faults, 'hang 60')
    pipeline = make_pipeline(collector, timeout_s=60.0, fault_file=faults)
    pipeline.start()
    pipeline.submit(nv12_frame('cam', 60, token=0))
    wait_for(lambda: taken_faults(faults), 'the forward to hang')
    pipeline.submit(nv12_frame('cam', 70, token=1))  # waits behind the hung forward
    started = time.monotonic()
    pipeline.stop()
    # A generous bound (the issue asks for < 2 s); the infer timeout is 60 s.
    assert time.monotonic() - started < 2.0, 'stop waited for the hung forward'
    assert not collector.drops and not collector.results and not _children()
    counts = counts_of(pipeline, 'cam')
    assert counts.received == 2 and counts.dropped_stopped == 2


def test_frames_arriving_while_stopped_are_counted(collector):
    pipeline = make_pipeline(collector)
    pipeline.submit(nv12_frame('cam', 60, token=0))  # waits for start()
    pipeline.stop()
    pipeline.submit(nv12_frame('cam', 60, token=1))
    counts = counts_of(pipeline, 'cam')
    assert (counts.received, counts.dropped_stopped) == (2, 2)
    assert not collector.results and not collector.drops


def test_a_worker_killed_while_idle_is_replaced_and_the_next_frame_keeps_its_header(
        collector):
    pipeline = make_pipeline(collector)
    pipeline.start()
    try:
        (worker,) = pipeline.worker_pids
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: not alive(worker), 'the worker to die')
        # The dispatcher finds out on sending this frame (its pipe is broken), or earlier when the
        # idle worker's pipe ends; either way the frame is dropped or classified as itself.
        pipeline.submit(nv12_frame('cam', 20, token=0))
        collector.wait(lambda: collector.results or collector.drops)
        for token, y in enumerate((60, 130, 250), start=1):
            pipeline.submit(nv12_frame('cam', y, token=token))
            collector.wait(lambda: collector.results and collector.results[-1].token == token)
        assert pipeline.snapshot().worker_restarts == 1
    finally:
        pipeline.stop()
    assert [d[1] for d in collector.drops] in ([], ['dropped_engine'])
    assert all('died' in message for _, _, message in collector.drops)
    expected = {0: 20, 1: 60, 2: 130, 3: 250}
    assert [r.top[0][0] for r in collector.results] == [
        expected[r.token] * 1000 // 256 for r in collector.results]


def test_frames_queued_behind_a_killed_worker_are_dropped_and_later_ones_keep_headers(
        collector, tmp_path):
    faults = str(tmp_path / 'faults')
    add_fault(faults, 'hang 60')
    pipeline = make_pipeline(collector, cameras=('a', 'b'), fault_file=faults)
    # Both wait before start(): the dispatcher sends a0, then b0 behind it in the other buffer.
    pipeline.submit(nv12_frame('a', 40, token='a0'))
    pipeline.submit(nv12_frame('b', 80, token='b0'))
    pipeline.start()
    try:
        wait_for(lambda: taken_faults(faults) and pipeline.in_flight == 2,
                 'a hung forward with a frame queued behind it')
        ((hung, _),) = taken_faults(faults)
        os.kill(hung, signal.SIGKILL)
        collector.wait(lambda: len(collector.drops) == 2)
        assert {d[0] for d in collector.drops} == {'a', 'b'}
        assert all(d[1] == 'dropped_engine' and 'died' in d[2] for d in collector.drops)
        for index, (camera, y) in enumerate((('a', 10), ('b', 100), ('a', 200), ('b', 30))):
            token = '%s%d' % (camera, index + 1)
            pipeline.submit(nv12_frame(camera, y, token=token))
            collector.wait(lambda: collector.results and collector.results[-1].token == token)
            assert collector.results[-1].camera == camera
            assert collector.results[-1].top[0][0] == y * 1000 // 256
        assert pipeline.snapshot().worker_restarts == 1
    finally:
        pipeline.stop()


def test_a_failed_reload_drops_frames_with_the_reason_until_a_retry_loads(
        collector, tmp_path, monkeypatch):
    # Frame 1 must come before the retry, however busy the machine.
    monkeypatch.setattr(dispatcher, 'RETRY_FIRST_S', 5.0)
    faults = str(tmp_path / 'faults')
    pipeline = make_pipeline(collector, fault_file=faults)
    pipeline.start()
    try:
        add_fault(faults, 'fail_load')
        (worker,) = pipeline.worker_pids
        os.kill(worker, signal.SIGKILL)
        pipeline.submit(nv12_frame('cam', 60, token=0))  # finds the worker dead
        wait_for(lambda: taken_faults(faults), 'the replacement to fail')
        # Frame 0 waits in its slot while the replacement loads: frame 1, sent before frame 0
        # is dropped, would take its place there.
        collector.wait(lambda: len(collector.drops) == 1)
        pipeline.submit(nv12_frame('cam', 61, token=1))  # no worker until the retry
        collector.wait(lambda: len(collector.drops) == 2)
        wait_for(lambda: pipeline.ready_workers == 1, 'the retry to load')
        pipeline.submit(nv12_frame('cam', 62, token=2))
        collector.wait(lambda: collector.results)
        counts = counts_of(pipeline, 'cam')
    finally:
        pipeline.stop()
    # Frame 0 finds the worker dead, unless the dispatcher saw its pipe end first.
    assert 'died' in collector.drops[0][2] or 'injected load failure' in collector.drops[0][2]
    assert 'injected load failure' in collector.drops[1][2]
    assert [r.token for r in collector.results] == [2]
    assert pipeline.snapshot().worker_restarts == 2  # the replacement that failed and the retry
    assert counts.received == counts.published + counts.dropped_engine == 3


def test_stop_during_a_slow_reload_returns_at_once(collector, tmp_path):
    faults = str(tmp_path / 'faults')
    pipeline = make_pipeline(collector, fault_file=faults)
    before = _own_shared_memory()
    pipeline.start()
    segments = _own_shared_memory() - before
    add_fault(faults, 'slow_load 60')
    (worker,) = pipeline.worker_pids
    os.kill(worker, signal.SIGKILL)
    wait_for(lambda: taken_faults(faults), 'the replacement to start loading')
    (loading, _), = taken_faults(faults)
    started = time.monotonic()
    pipeline.stop()
    assert time.monotonic() - started < 2.0, 'stop waited for the reload'
    assert not alive(loading) and not _children()
    assert segments and not [s for s in segments if os.path.exists(s)]


def test_the_other_workers_serve_while_a_replacement_loads(collector, tmp_path):
    # One thread drives every worker: a replacement's load must not hold it up.
    faults = str(tmp_path / 'faults')
    pipeline = make_pipeline(collector, threads=2, fault_file=faults)
    pipeline.start()
    try:
        add_fault(faults, 'slow_load 60')
        victim = pipeline.worker_pids[0]
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: taken_faults(faults), 'the replacement to start loading')
        assert pipeline.ready_workers == 1
        for token, y in enumerate((30, 90, 150, 210)):
            pipeline.submit(nv12_frame('cam', y, token=token))
            collector.wait(lambda: collector.results and collector.results[-1].token == token)
            assert collector.results[-1].top[0][0] == y * 1000 // 256
        assert pipeline.ready_workers == 1  # still loading: the survivor answered them all
    finally:
        pipeline.stop()
    assert not collector.drops


def test_a_replacement_that_loads_too_long_is_killed_and_its_frames_get_the_reason(
        collector, tmp_path, monkeypatch):
    # Long enough for a cold replacement to reach its load on a busy machine (killed before,
    # it would never take the slow load), far below the slow load.
    monkeypatch.setattr(dispatcher, 'LOAD_TIMEOUT_S', 8.0)
    monkeypatch.setattr(dispatcher, 'RETRY_FIRST_S', 60.0)  # the frame comes before the retry
    faults = str(tmp_path / 'faults')
    pipeline = make_pipeline(collector, fault_file=faults)
    pipeline.start()
    try:
        add_fault(faults, 'slow_load 60')
        (worker,) = pipeline.worker_pids
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: taken_faults(faults), 'the replacement to start loading')
        ((loading, _),) = taken_faults(faults)
        wait_for(lambda: not alive(loading), 'the slow replacement to be killed')
        pipeline.submit(nv12_frame('cam', 60, token=0))
        collector.wait(lambda: collector.drops)
        counts = counts_of(pipeline, 'cam')
    finally:
        pipeline.stop()
    ((camera, reason, message),) = collector.drops
    assert (camera, reason) == ('cam', 'dropped_engine')
    assert 'did not load' in message and 'within 8 s' in message, message
    assert counts.received == counts.dropped_engine == 1 and not collector.results


def test_replies_carry_the_top_k_settings_of_their_request(collector):
    pipeline = make_pipeline(collector)
    pipeline.start()
    try:
        for token, (k, threshold) in enumerate(((1, 0.0), (4, 0.0), (5, 0.2))):
            pipeline.apply(Settings(top_k=k, score_threshold=threshold))
            pipeline.submit(nv12_frame('cam', 100, token=token))
            collector.wait(lambda: len(collector.results) == token + 1)
    finally:
        pipeline.stop()
    tops = [result.top for result in collector.results]
    assert [len(top) for top in tops[:2]] == [1, 4]
    assert tops[2] and all(score >= 0.2 for _, score in tops[2]) and len(tops[2]) < 5
    assert all(top[0][0] == 100 * 1000 // 256 for top in tops)


@given(st.integers(-2**63, 2**63 - 1), st.floats(0, 1e3), st.floats(0, 1e3),
       st.one_of(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.floats(allow_nan=False)),
                          max_size=20), st.none()),
       st.text())
def test_a_reply_reads_back_as_sent(request_id, infer_s, post_s, top, error):
    reply = Reply(request_id, top, infer_s, post_s, error if top is None else '')
    assert Reply.decode(reply.encode()) == reply


@pytest.mark.parametrize('message', [b'', b'\x00' * 8, b'\x00' * 25 + b'\x01\x02'])
def test_a_truncated_reply_is_refused(message):
    with pytest.raises(ValueError, match='not a reply'):
        Reply.decode(message)


def test_a_replacement_worker_closes_its_engine_when_the_pipeline_stops(collector, tmp_path):
    # Replacements are ordered by the dispatcher thread; the parent-death signal must not fire
    # when that thread ends before the worker is asked to exit.
    faults = str(tmp_path / 'faults')
    pipeline = make_pipeline(collector, threads=2, fault_file=faults)
    pipeline.start()
    try:
        first = set(pipeline.worker_pids)
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: pipeline.snapshot().worker_restarts == 2 and pipeline.ready_workers == 2,
                 'both workers replaced')
        pipeline.submit(nv12_frame('cam', 60, token=0))
        collector.wait(lambda: collector.results)
        replacements = set(pipeline.worker_pids)
    finally:
        pipeline.stop()
    assert set(closed_engines(faults)) == replacements


def test_a_stopped_pipeline_starts_again(collector):
    pipeline = make_pipeline(collector, threads=2)
    for run in range(2):
        pipeline.start()
        try:
            pipeline.submit(nv12_frame('cam', 90 + run, token=run))
            collector.wait(lambda: len(collector.results) == run + 1)
        finally:
            pipeline.stop()
        assert not _children()
    assert [r.token for r in collector.results] == [0, 1]
    assert counts_of(pipeline, 'cam').published == 2
    pipeline.start()
    try:
        with pytest.raises(RuntimeError, match='already running'):
            pipeline.start()
    finally:
        pipeline.stop()


def test_a_paused_pipeline_hands_over_nothing_and_counts_every_frame(collector):
    pipeline = make_pipeline(collector, latency_ms=300.0)
    pipeline.start()
    try:
        pipeline.submit(nv12_frame('cam', 40, token='in flight'))
        wait_for(lambda: pipeline.in_flight == 1, 'the frame taken by the dispatcher')
        pipeline.submit(nv12_frame('cam', 50, token='waiting'))
        pipeline.pause()
        pipeline.submit(nv12_frame('cam', 60, token='while paused'))
        # The dispatcher lets go of a frame before counting it.
        wait_for(lambda: pipeline.in_flight == 0 and counts_of(pipeline, 'cam').dropped == 3,
                 'the forward in flight to finish')
        assert collector.results == []
        counts = counts_of(pipeline, 'cam')
        assert (counts.received, counts.dropped_disabled, counts.published) == (3, 3, 0)
        pipeline.resume()
        pipeline.submit(nv12_frame('cam', 70, token='resumed'))
        collector.wait(lambda: collector.results)
    finally:
        pipeline.stop()
    assert [r.token for r in collector.results] == ['resumed']


def test_frames_over_the_pixel_bound_are_malformed(collector):
    pipeline = InferencePipeline(EngineSpec('fake'), ['cam'], 1, collector.on_result,
                                 collector.on_drop, max_pixels=SIZE * SIZE - 1)
    pipeline.start()
    try:
        pipeline.submit(nv12_frame('cam', 60, token='one pixel too many'))
        collector.wait(lambda: collector.drops)
    finally:
        pipeline.stop()
    assert collector.drops[0][1] == 'dropped_bad' and 'max_frame_pixels' in collector.drops[0][2]
    assert collector.results == []


def test_a_process_that_cannot_be_started_leaves_the_worker_usable():
    def start_without_fds(replacement):
        # What subprocess.Popen raises when os.pipe() finds no fd.
        raise OSError(errno.EMFILE, 'Too many open files')
    worker = Worker(EngineSpec('fake', '', {}), start_without_fds)
    with pytest.raises(EngineError, match='cannot start a worker process'):
        worker.launch()
    assert worker.pid is None
    worker.kill()  # nothing to kill, and no AttributeError
    worker = Worker(EngineSpec('fake', '', {}), lambda replacement: start_process())
    worker.launch()
    try:
        assert worker.wait_loaded(threading.Event()).num_classes == 1000
    finally:
        worker.close(time.monotonic() + 1.0)
    assert worker.pid is None


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


@pytest.mark.requires('onnxruntime', reason='the reason checked is the one the onnxruntime '
                      'engine gives for a missing file')
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
    pipeline.apply(Settings(capture_input=True))
    try:
        pipeline.submit(nv12_frame('cam', 77, token=0))
        collector.wait(lambda: collector.results)
    finally:
        pipeline.stop()
    nv12 = collector.results[0].nv12
    assert nv12.shape == (SIZE * SIZE * 3 // 2,)
    assert np.all(nv12[:SIZE * SIZE] == 77) and np.all(nv12[SIZE * SIZE:] == 128)


def counts_of(pipeline: InferencePipeline, camera: str) -> Counts:
    """Return one camera's counters now."""
    return pipeline.snapshot().cameras[camera].counts


def _children():
    """Worker processes of this test process (the resource tracker is left out)."""
    return [pid for pid in children_of(os.getpid()) if WORKER_MODULE.encode() in _cmdline(pid)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path('/proc/%d/cmdline' % pid).read_bytes()
    except FileNotFoundError:
        return b''
