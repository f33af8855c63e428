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
The worker pipeline: latest-frame slots, inference lanes and worker processes (no ROS inside).

Threading model
---------------
ROS callbacks call :meth:`InferencePipeline.submit`, which only stores the frame in its camera's
latest-frame slot and returns: a frame that nobody has taken yet is replaced by the newer one and
counted as ``dropped_busy``, so a slow model never queues stale frames. Cameras with a waiting
frame are served round robin (least recently served first), so drops are shared fairly.

Each of the ``threads`` lanes is a Python thread that owns one worker process
(rdk_classifier.inference.worker). A lane takes a frame, converts it to NV12 straight into one
of its worker's two shared-memory input buffers and sends the worker a request for it; while
the worker runs it, the lane prepares the next frame in the other buffer (when no idle lane
could start it sooner), then turns the logits into top-k softmax scores and calls ``on_result``
from the lane thread. Results of one camera are delivered in frame order: a result that finishes
after a newer frame of the same camera was delivered is dropped and counted as
``dropped_stale``.

Why processes: pyeasy_dnn holds the GIL for the whole forward and a loaded model must not be
shared between threads, so only processes overlap inference on the board (the zoo's multi-thread
figures). Every engine runs the same way, which also lets a hung forward be killed: a worker that
exceeds ``infer_timeout_s``, dies or breaks the protocol is replaced, and every frame it held is
counted as ``dropped_engine``; a lane also replaces a worker that died while idle. When a
replacement cannot load its model the lane tries again after 0.5 s, doubling up to 30 s;
meanwhile the other lanes serve the frames, or, when no worker is loaded at all, the lane drops
the frames it takes as ``dropped_engine`` with the reason (so the node logs it). Workers are
started with 'spawn' (forking a process that runs DDS threads is unsafe) from one spawner thread
that lives as long as the pipeline, and die with the node (PR_SET_PDEATHSIG). :meth:`stop` joins
the lanes, so it must not be called from ``on_result`` or ``on_drop``.

Pairing frames with replies
---------------------------
A frame taken from its slot becomes an in-flight record of its lane (:class:`_InFlight`) before
anything else happens to it. The request sent to the worker carries the record's id and the
worker's reply echoes it; a reply is only ever matched against the lane's oldest record, and a
mismatch is a worker failure. Records leave a lane only through ``_Lane._retire`` (counted as
one drop) or ``_Lane._deliver`` (published, or dropped as stale); a worker failure retires every
record the lane holds, since the replacement process never saw them.

Invariants (tested in test/test_pipeline_invariants.py and test/test_fault_invariants.py)
----------------------------------------------------------------------------------------------
- Every published result has the class of the frame whose token it carries, on that frame's
  camera.
- Every received frame is published or counted in exactly one drop counter: once the pipeline
  is idle or stopped, ``received == published + dropped_*`` for every camera. Frames waiting or
  in flight when it stops are ``dropped_stopped``; frames submitted while it is stopped too.
- ``worker_restarts`` counts every replacement process started (including ones that then fail
  to load).
- :meth:`InferencePipeline.stop` returns within about a second at any moment, also during a
  model (re)load or a hung forward: every wait polls the stop flag, and workers get one shared
  second to exit before they are killed. No worker process or shared memory outlives it.
- A stopped pipeline can be started again; counters carry on.
- Once :meth:`InferencePipeline.pause` returns, no result is handed over until :meth:`resume`:
  frames waiting, submitted or finishing meanwhile are counted as ``dropped_disabled``.
"""

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import itertools
import logging
import multiprocessing
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple

import numpy as np

from rdk_classifier.engines import EngineError, EngineSpec
from rdk_classifier.inference.frames import (compressed_image_size, DEFAULT_MAX_PIXELS,
                                             FrameError, NV12Converter)
from rdk_classifier.inference.postprocess import softmax, top_k
from rdk_classifier.inference.stats import CameraStats
from rdk_classifier.inference.worker import (ModelShape, PipelineStopping, Reply, Request, Worker,
                                             WorkerFailure)

__all__ = ['Frame', 'InferencePipeline', 'ModelShape', 'Result']

#: How often an idle lane checks that its worker process is still alive.
HEALTH_CHECK_S = 0.5
#: After a replacement fails to load, the next try waits this long, doubling up to the maximum.
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0
#: How long stop() lets idle workers close their engines, all together, before killing them.
WORKER_EXIT_S = 1.0
#: Drops reported through on_drop (the others are flow control: only counted).
REPORTED_DROPS = ('dropped_bad', 'dropped_engine')

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    """
    One camera frame as received, before conversion.

    ``data`` is the message's buffer (not copied). Raw frames give width, height, step and the
    sensor_msgs encoding; compressed frames set ``compressed`` and put the format in ``encoding``.
    ``token`` comes back untouched with the result (the node passes the message header).
    """

    camera: str
    data: Any
    encoding: str
    width: int = 0
    height: int = 0
    step: int = 0
    compressed: bool = False
    token: Any = None


@dataclass(frozen=True)
class Result:
    """The classification of one frame."""

    camera: str
    token: Any
    top: List[Tuple[int, float]]
    convert_s: float
    infer_s: float
    post_s: float
    nv12: Optional[np.ndarray] = None  # a copy of the model input, when capture_input is set
    #: The source frame's (width, height) in pixels (a compressed frame's, as decoded).
    frame_size: Tuple[int, int] = (0, 0)


class _CameraSlot:
    """The newest untaken frame of one camera and its delivery order."""

    def __init__(self) -> None:
        self.pending: Optional[Frame] = None
        self.pending_seq = 0
        self.pending_since = 0.0
        self.last_taken = 0.0
        self.next_seq = 0
        self.last_delivered_seq = -1
        self.deliver_lock = threading.Lock()
        self.stats = CameraStats()


@dataclass(frozen=True)
class _Taken:
    """A frame taken from its camera's slot, with its place in the camera's frame order."""

    slot: _CameraSlot
    frame: Frame
    seq: int


@dataclass
class _InFlight:
    """A frame held by a lane, from the moment it is taken until it is retired."""

    taken: _Taken
    request_id: int  # sent with the request; the worker's reply must echo it
    buffer: int  # the worker input buffer the frame is converted into
    convert_s: float = 0.0
    answered: bool = False  # the reply arrived: the buffer is free again


class InferencePipeline:
    """Classifies frames from several cameras on ``threads`` worker processes."""

    def __init__(self, spec: EngineSpec, cameras: Sequence[str], threads: int,
                 on_result: Callable[[Result], None],
                 on_drop: Callable[[str, str, str], None],
                 resize_mode: str = 'center_crop', crop_pct: float = 0.875,
                 top_k_count: int = 5, score_threshold: float = 0.0,
                 infer_timeout_s: Optional[float] = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        """
        Create the pipeline; nothing runs before :meth:`start`.

        ``on_result(result)`` and ``on_drop(camera, reason, message)`` are called from lane
        threads; on_drop reports frames dropped as malformed or by the engine. ``top_k_count``,
        ``score_threshold``, ``infer_timeout_s`` and ``capture_input`` may be changed at any
        time. Frames over ``max_pixels`` are malformed (see NV12Converter).
        """
        if threads < 1:
            raise ValueError('threads must be >= 1, got %d' % threads)
        self._spec = spec
        self.threads = threads
        self._on_result = on_result
        self._on_drop = on_drop
        self._resize_mode = resize_mode
        self._crop_pct = crop_pct
        self._max_pixels = max_pixels
        self.top_k_count = top_k_count
        self.score_threshold = score_threshold
        self.infer_timeout_s = infer_timeout_s
        self.capture_input = False
        self._slots: Dict[str, _CameraSlot] = {camera: _CameraSlot() for camera in cameras}
        self._ready = threading.Condition()
        self._stopping = threading.Event()
        self._paused = False
        self._idle_lanes = 0
        self._workers: List[Worker] = []
        self._lanes: List[_Lane] = []
        self._spawner: Optional[ThreadPoolExecutor] = None
        self._restarts = 0
        self._restarts_lock = threading.Lock()
        self.shape: Optional[ModelShape] = None

    def stats(self, camera: str) -> CameraStats:
        """Return the live statistics of one camera."""
        return self._slots[camera].stats

    @property
    def worker_restarts(self) -> int:
        """How many replacement worker processes were started after failures."""
        return self._restarts

    @property
    def in_flight(self) -> int:
        """How many frames the lanes hold (taken and not yet published or dropped)."""
        return sum(len(lane.records) for lane in self._lanes)

    @property
    def ready_workers(self) -> int:
        """How many workers have their model loaded (the others are being replaced)."""
        return sum(worker.loaded for worker in self._workers)

    @property
    def worker_pids(self) -> List[int]:
        """Process ids of the current worker processes."""
        pids = [worker.pid for worker in self._workers]
        return [pid for pid in pids if pid is not None]

    def start(self) -> ModelShape:
        """
        Start the workers (loading the model in each, all at once) and the lanes.

        Raises EngineError with the engine's one-line reason when the model cannot be loaded.
        A stopped pipeline can be started again.
        """
        if self._workers:
            raise RuntimeError('the pipeline is already running')
        self._stopping.clear()
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix='rdk_classifier_spawner')
        context = multiprocessing.get_context('spawn')
        try:
            self._workers = [Worker(self._spec, context, self._spawn)
                             for _ in range(self.threads)]
            for worker in self._workers:
                worker.launch()
            for worker in self._workers:
                shape = worker.wait_loaded(self._stopping)
            # Built here, so a geometry that cannot work fails start() instead of a lane.
            converters = [NV12Converter(shape.input_width, shape.input_height,
                                        self._resize_mode, self._crop_pct, self._max_pixels)
                          for _ in self._workers]
        except PipelineStopping:
            self.stop()
            raise EngineError('the pipeline was stopped while the model was loading') from None
        except BaseException:
            self.stop()
            raise
        self.shape = shape
        self._lanes = [_Lane(self, worker, converter, index) for index, (worker, converter)
                       in enumerate(zip(self._workers, converters))]
        for lane in self._lanes:
            lane.thread.start()
        return shape

    def submit(self, frame: Frame) -> None:
        """Offer a frame; returns at once (see the module docstring)."""
        slot = self._slots[frame.camera]
        with self._ready:
            slot.stats.count('received')
            if self._stopping.is_set():
                slot.stats.count('dropped_stopped')
                return
            if self._paused:
                slot.stats.count('dropped_disabled')
                return
            replacing = slot.pending is not None
            slot.pending = frame
            slot.pending_seq = slot.next_seq
            slot.next_seq += 1
            if replacing:
                # A lane was woken for the frame replaced: no need to wake another.
                slot.stats.count('dropped_busy')
                return
            # Fairness: a camera waits from its first untaken frame; a replacement does not
            # send it to the back of the line.
            slot.pending_since = time.monotonic()
            self._ready.notify()

    def stop(self) -> None:
        """Stop the lanes and the worker processes; safe to call more than once."""
        with self._ready:
            self._stopping.set()
            self._ready.notify_all()
        for lane in self._lanes:
            lane.thread.join()
        self._lanes = []
        self._discard_waiting('dropped_stopped')
        deadline = time.monotonic() + WORKER_EXIT_S
        for worker in self._workers:
            worker.request_exit()
        for worker in self._workers:
            worker.close(deadline)
        self._workers = []
        if self._spawner is not None:
            self._spawner.shutdown()
            self._spawner = None

    def pause(self) -> None:
        """
        Hand over no more results until :meth:`resume`; the workers stay loaded.

        Returns once no result is being handed over (a lane may be inside on_result), so the
        caller can then disable what on_result publishes through.
        """
        with self._ready:
            self._paused = True
        self._discard_waiting('dropped_disabled')
        for slot in self._slots.values():
            with slot.deliver_lock:  # waits for a hand-over in progress
                pass

    def resume(self) -> None:
        """Hand over results again."""
        with self._ready:
            self._paused = False

    def _discard_waiting(self, counter: str) -> None:
        """Drop the frames waiting in the slots, counting each in ``counter``."""
        with self._ready:
            for slot in self._slots.values():
                if slot.pending is not None:
                    slot.pending = None
                    slot.stats.count(counter)

    # Lane services -------------------------------------------------------------------------

    def _spawn(self, process: Any) -> None:
        """Start a worker process on the spawner thread (see rdk_classifier.inference.worker)."""
        spawner = self._spawner
        if spawner is None:  # stopped: no new processes
            raise PipelineStopping()
        spawner.submit(process.start).result()

    def _count_restart(self) -> None:
        with self._restarts_lock:
            self._restarts += 1

    def _take(self, block: bool) -> Optional[_Taken]:
        """
        Take the longest-waiting frame; PipelineStopping when stopping.

        Blocking, return None after HEALTH_CHECK_S without a frame (the lane checks its
        worker). Without ``block`` (a busy lane prefetching), return None at once when no frame
        waits or when an idle lane could start it right away.
        """
        with self._ready:
            while True:
                if self._stopping.is_set():
                    raise PipelineStopping()
                if not block and self._idle_lanes:
                    return None
                waiting = [(s, s.pending) for s in self._slots.values() if s.pending is not None]
                if waiting:
                    # Round robin: the camera served least recently goes first.
                    slot, frame = min(waiting, key=lambda w: (w[0].last_taken, w[0].pending_since))
                    slot.last_taken = time.monotonic()
                    slot.pending = None
                    return _Taken(slot, frame, slot.pending_seq)
                if not block:
                    return None
                self._idle_lanes += 1
                try:
                    notified = self._ready.wait(HEALTH_CHECK_S)
                finally:
                    self._idle_lanes -= 1
                if not notified:
                    return None

    def _drop(self, taken: _Taken, counter: str, message: str) -> None:
        """Count a frame that will not be published (called once per frame)."""
        taken.slot.stats.count(counter)
        if counter in REPORTED_DROPS:
            self._on_drop(taken.frame.camera, counter, message)

    def _publish(self, record: _InFlight, logits: np.ndarray, infer_s: float,
                 captured: Optional[np.ndarray]) -> None:
        """Post-process one answered frame and hand it over, unless newer results went out."""
        taken = record.taken
        stats = taken.slot.stats
        start = time.perf_counter()
        top = top_k(softmax(logits), self.top_k_count, self.score_threshold)
        post_s = time.perf_counter() - start
        stats.time('convert', record.convert_s)
        stats.time('infer', infer_s)
        stats.time('post', post_s)
        frame = taken.frame
        # A compressed frame converted, so its header parses (a few microseconds).
        size = (compressed_image_size(frame.data)[1:] if frame.compressed
                else (frame.width, frame.height))
        result = Result(frame.camera, frame.token, top, record.convert_s, infer_s, post_s,
                        captured, size)
        with taken.slot.deliver_lock:
            if self._paused:
                stats.count('dropped_disabled')
                return
            if taken.seq < taken.slot.last_delivered_seq:
                stats.count('dropped_stale')
                return
            taken.slot.last_delivered_seq = taken.seq
            stats.count('published')
            self._on_result(result)


class _Lane:
    """One lane thread, its worker and the frames it holds (see the module docstring)."""

    def __init__(self, pipeline: InferencePipeline, worker: Worker, converter: NV12Converter,
                 index: int) -> None:
        self._pipeline = pipeline
        self._worker = worker
        self._converter = converter
        # With one worker a second frame waits in its pipe, so it never idles between frames;
        # with several, a frame queued behind one worker would finish after newer frames that
        # another worker started, and be dropped as stale.
        self._depth = 2 if pipeline.threads == 1 else 1
        self.records: Deque[_InFlight] = deque()
        self._request_ids = itertools.count()
        self._down_reason = ''  # why the last replacement failed to load
        self._retry_delay = 0.0
        self._retry_at = 0.0
        self.thread = threading.Thread(target=self._run, name='rdk_classifier_lane_%d' % index,
                                       daemon=True)

    def _run(self) -> None:
        """Feed the worker until the pipeline stops; replace it whenever it fails."""
        try:
            while True:
                failure = ''
                try:
                    self._step()
                except WorkerFailure as exc:
                    failure = str(exc)
                except PipelineStopping:
                    raise
                except Exception as exc:  # noqa: B902 - nothing held can be trusted any more
                    _LOG.exception('unexpected error in %s', self.thread.name)
                    failure = 'unexpected error in %s: %r' % (self.thread.name, exc)
                if failure:
                    # Outside the handler: no exception, traceback or frame of the failure
                    # stays alive through the restart's seconds (see worker._PIPE_BROKEN).
                    self._replace_worker(failure)
        except PipelineStopping:
            pass
        finally:
            while self.records:
                self._retire(self.records[0], 'dropped_stopped', 'the pipeline stopped')

    def _step(self) -> None:
        """Take a frame or finish the oldest one; check the worker when idle."""
        exit_code = self._worker.exit_code
        if exit_code is not None and not self.records:
            raise WorkerFailure('worker process %s died while idle (exit code %s)'
                                % (self._worker.pid, exit_code))
        if not self._worker.loaded:
            if time.monotonic() >= self._retry_at:
                self._restart_worker()
                return
            if self._pipeline.ready_workers:
                # Other lanes serve the frames until the retry.
                self._pipeline._stopping.wait(min(self._retry_at - time.monotonic(),
                                                  HEALTH_CHECK_S))
                return
        if len(self.records) < self._depth:
            taken = self._pipeline._take(block=not self.records)
            if taken is not None:
                self._start(taken)
                return
            if not self.records:
                return  # woke up to check the worker
        self._finish_oldest()

    def _start(self, taken: _Taken) -> None:
        """Hold a taken frame, convert it into a free input buffer and send it to the worker."""
        busy = {record.buffer for record in self.records if not record.answered}
        record = _InFlight(taken, next(self._request_ids), 1 if 0 in busy else 0)
        self.records.append(record)
        if not self._worker.loaded:
            self._retire(record, 'dropped_engine', 'no worker: the replacement did not load '
                         '(%s); next try in %.1f s' % (self._down_reason,
                                                       self._retry_at - time.monotonic()))
            return
        frame = taken.frame
        out = self._worker.inputs[record.buffer]
        started = time.perf_counter()
        try:
            if frame.compressed:
                self._converter.from_compressed(frame.data, frame.encoding, out=out)
            else:
                self._converter.from_raw(frame.data, frame.width, frame.height, frame.step,
                                         frame.encoding, out=out)
        except FrameError as exc:
            self._retire(record, 'dropped_bad', str(exc))
            return
        record.convert_s = time.perf_counter() - started
        self._worker.send(Request(record.request_id, record.buffer))

    def _finish_oldest(self) -> None:
        """Wait for the reply to the oldest frame; queue the next frame, then deliver."""
        record = self.records[0]
        reply = self._worker.receive(self._pipeline.infer_timeout_s, self._pipeline._stopping)
        if reply.request_id != record.request_id:
            raise WorkerFailure('worker answered request %d, expected %d'
                                % (reply.request_id, record.request_id))
        record.answered = True
        captured = (self._worker.inputs[record.buffer].copy()
                    if self._pipeline.capture_input else None)
        try:
            # Keep the worker busy: the next frame goes out before this one is post-processed.
            if len(self.records) <= self._depth:
                taken = self._pipeline._take(block=False)
                if taken is not None:
                    self._start(taken)
        finally:
            self._deliver(record, reply, captured)

    def _deliver(self, record: _InFlight, reply: Reply, captured: Optional[np.ndarray]) -> None:
        """Retire an answered frame: publish its result, or drop it if the engine failed."""
        if reply.logits is None:  # the engine raised (reply.error)
            self._retire(record, 'dropped_engine', reply.error)
            return
        self.records.remove(record)
        self._pipeline._publish(record, reply.logits, reply.infer_s, captured)

    def _retire(self, record: _InFlight, counter: str, message: str) -> None:
        """Drop a held frame, counted once in ``counter``."""
        self.records.remove(record)
        self._pipeline._drop(record.taken, counter, message)

    def _replace_worker(self, reason: str) -> None:
        """Drop every frame the worker held and start a replacement process."""
        while self.records:
            self._retire(self.records[0], 'dropped_engine', '%s; worker restarted' % reason)
        self._restart_worker()

    def _restart_worker(self) -> None:
        """Start a replacement process and wait for its model; schedule a retry if it fails."""
        self._pipeline._count_restart()
        try:
            self._worker.launch()
            self._worker.wait_loaded(self._pipeline._stopping)
        except EngineError as exc:
            self._down_reason = str(exc)
            self._retry_delay = min(max(2 * self._retry_delay, RETRY_FIRST_S), RETRY_MAX_S)
            self._retry_at = time.monotonic() + self._retry_delay
            return
        self._retry_delay = 0.0
