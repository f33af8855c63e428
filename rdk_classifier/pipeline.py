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

Each of the ``threads`` lanes is a Python thread that owns one worker process. A lane takes a
frame, converts it to NV12 straight into one of its worker's two shared-memory input buffers and
queues it at the worker; while the worker runs it, the lane prepares the next frame in the other
buffer (when no idle lane could start it sooner), then turns the logits into top-k softmax scores
and calls ``on_result`` from the lane thread. Results of one
camera are delivered in frame order: a result that finishes after a newer frame of the same
camera was delivered is dropped and counted as ``dropped_stale``.

Why processes: pyeasy_dnn holds the GIL for the whole forward and a loaded model must not be
shared between threads, so only processes overlap inference on the board (the zoo's multi-thread
figures). Every engine runs the same way, which also lets a hung forward be killed: a worker that
exceeds ``infer_timeout`` or dies is killed and restarted, and its frame counted as
``dropped_engine``; stopping abandons forwards in progress rather than wait for a hung one.
Workers are started with 'spawn' (forking a process that runs DDS threads is unsafe) and die
with the node (PR_SET_PDEATHSIG).
"""

from collections import deque
import ctypes
from dataclasses import dataclass
import multiprocessing
from multiprocessing import shared_memory
from multiprocessing.connection import Connection
import signal
import sys
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple

import numpy as np

from rdk_classifier.engines import create_engine, EngineError, EngineSpec
from rdk_classifier.frames import FrameError, NV12Converter
from rdk_classifier.postprocess import softmax, top_k
from rdk_classifier.stats import CameraStats

#: How long a worker may take to load its model before start-up fails.
LOAD_TIMEOUT_S = 120.0
#: How often a lane waiting for a result checks whether the pipeline is stopping.
STOP_POLL_S = 0.05
_PR_SET_PDEATHSIG = 1
_SIGKILL = 9


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


@dataclass(frozen=True)
class ModelShape:
    """What a loaded engine reports about its model."""

    input_height: int
    input_width: int
    num_classes: int


class WorkerFailure(Exception):
    """The worker timed out or died; it has been restarted."""


class PipelineStopping(Exception):
    """The pipeline is stopping: the result being waited for is abandoned."""


def _worker_main(spec: EngineSpec, conn: Connection) -> None:
    """Entry point of a worker process: load the engine, then serve infer requests."""
    # The node decides when workers stop: Ctrl-C in a terminal reaches the whole process group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith('linux'):
        # Die with the node even if it is killed without a chance to stop us.
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, _SIGKILL)
    try:
        engine = create_engine(spec)
    except Exception as exc:  # noqa: B902 - every load failure must reach the node as one line
        conn.send(('error', str(exc)))
        return
    conn.send(('ready', ModelShape(engine.input_height, engine.input_width, engine.num_classes)))
    shm = None
    inputs = []
    try:
        name = conn.recv()
        shm = shared_memory.SharedMemory(name=name)
        inputs = _input_views(shm, engine.input_height * engine.input_width * 3 // 2)
        while True:
            index = conn.recv()
            if index is None:
                break
            start = time.perf_counter()
            try:
                logits = engine.infer(inputs[index])
            except Exception as exc:  # noqa: B902 - report engine faults, keep serving
                conn.send(('error', '%s: %s' % (type(exc).__name__, exc)))
                continue
            conn.send(('ok', logits, time.perf_counter() - start))
    except EOFError:
        pass  # the node closed the pipe
    finally:
        del inputs
        if shm is not None:
            shm.close()
        engine.close()


def _input_views(shm: shared_memory.SharedMemory, nbytes: int) -> List[np.ndarray]:
    """Return the two NV12 input buffers in a worker's shared memory."""
    return [np.ndarray((nbytes,), np.uint8, shm.buf, offset=i * nbytes) for i in range(2)]


class Worker:
    """
    One worker process and the shared memory that carries its input frames.

    There are two input buffers, so the lane can convert the next frame while the worker runs
    the engine on the current one.
    """

    def __init__(self, spec: EngineSpec, context: Any) -> None:
        self._spec = spec
        self._context = context
        self._process = None
        self._conn: Optional[Connection] = None
        self._shm: Optional[shared_memory.SharedMemory] = None
        self.shape: Optional[ModelShape] = None
        self.inputs: List[np.ndarray] = []
        self.restarts = 0
        self._in_flight = 0  # frames submitted and not yet collected

    def start(self) -> ModelShape:
        """Start the process and wait until its model is loaded; EngineError if it cannot."""
        parent, child = self._context.Pipe()
        self._process = self._context.Process(
            target=_worker_main, args=(self._spec, child), name='rdk_classifier_worker',
            daemon=True)
        self._process.start()
        child.close()
        self._conn = parent
        if not parent.poll(LOAD_TIMEOUT_S):
            self.kill()
            raise EngineError('the %s engine did not load %s within %.0f s'
                              % (self._spec.kind, self._spec.model_path or 'its model',
                                 LOAD_TIMEOUT_S))
        try:
            kind, payload = parent.recv()
        except EOFError:
            self.kill()
            raise EngineError('the %s worker process exited while loading %s'
                              % (self._spec.kind, self._spec.model_path or 'its model'))
        if kind != 'ready':
            self.kill()
            raise EngineError(payload)
        self.shape = payload
        if self._shm is None:
            nbytes = payload.input_height * payload.input_width * 3 // 2
            self._shm = shared_memory.SharedMemory(create=True, size=2 * nbytes)
            self.inputs = _input_views(self._shm, nbytes)
        parent.send(self._shm.name)
        return payload

    def submit(self, index: int) -> None:
        """
        Start the engine on the frame in ``self.inputs[index]``; :meth:`collect` returns it.

        Raises EngineError when no worker can be started and WorkerFailure when the worker
        had died (it is restarted before this returns).
        """
        if self._process is None:
            self.start()  # an earlier restart failed to load the model: try again
        try:
            self._conn.send(index)
            self._in_flight += 1
        except OSError as exc:
            failure = WorkerFailure('worker process died (exit code %s); restarted'
                                    % self._process.exitcode)
            self.restart()
            raise failure from exc

    def collect(self, timeout: Optional[float],
                stopping: threading.Event) -> Tuple[np.ndarray, float]:
        """
        Return (logits, seconds) of the submitted frame.

        Raises EngineError when the engine raised (the worker keeps running), WorkerFailure
        when the worker timed out or died (it is restarted before this returns) and
        PipelineStopping as soon as ``stopping`` is set (a hung forward must not delay exit).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._conn.poll(STOP_POLL_S):
                if stopping.is_set():
                    raise PipelineStopping()
                if deadline is not None and time.monotonic() >= deadline:
                    raise WorkerFailure('inference took longer than %.0f ms; worker restarted'
                                        % (timeout * 1e3))
            kind, *payload = self._conn.recv()
            self._in_flight -= 1
        except (EOFError, OSError) as exc:
            failure = WorkerFailure('worker process died (exit code %s); restarted'
                                    % self._process.exitcode)
            failure.__cause__ = exc
        except WorkerFailure as exc:
            failure = exc
        else:
            if kind == 'error':
                raise EngineError(payload[0])
            return payload[0], payload[1]
        self.restart()
        raise failure

    def restart(self) -> None:
        """Replace the process, keeping the input buffer."""
        self.kill()
        self.restarts += 1
        self.start()

    def kill(self) -> None:
        """Stop the process at once (a hung forward cannot be asked to stop)."""
        self._in_flight = 0
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.kill()
            self._process.join()
            self._process = None

    def stop(self, timeout: float = 1.0) -> None:
        """Ask an idle process to exit (kill a busy one), then free the input buffer."""
        # A forward still in flight was abandoned by its lane: waiting would only delay exit.
        if self._conn is not None and self._process is not None and not self._in_flight:
            try:
                self._conn.send(None)
            except OSError:
                pass
            self._process.join(timeout)
        self.kill()
        if self._shm is not None:
            self.inputs = []
            self._shm.close()
            self._shm.unlink()
            self._shm = None


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


class InferencePipeline:
    """Classifies frames from several cameras on ``threads`` worker processes."""

    def __init__(self, spec: EngineSpec, cameras: Sequence[str], threads: int,
                 on_result: Callable[[Result], None],
                 on_drop: Callable[[str, str, str], None],
                 resize_mode: str = 'center_crop', crop_pct: float = 0.875,
                 top_k_count: int = 5, score_threshold: float = 0.0,
                 infer_timeout_s: Optional[float] = None) -> None:
        """
        Create the pipeline; nothing runs before :meth:`start`.

        ``on_result(result)`` and ``on_drop(camera, reason, message)`` are called from lane
        threads. ``top_k_count``, ``score_threshold``, ``infer_timeout_s`` and
        ``capture_input`` may be changed at any time.
        """
        if threads < 1:
            raise ValueError('threads must be >= 1, got %d' % threads)
        self._spec = spec
        self._threads = threads
        self._on_result = on_result
        self._on_drop = on_drop
        self._resize_mode = resize_mode
        self._crop_pct = crop_pct
        self.top_k_count = top_k_count
        self.score_threshold = score_threshold
        self.infer_timeout_s = infer_timeout_s
        self.capture_input = False
        self._slots: Dict[str, _CameraSlot] = {camera: _CameraSlot() for camera in cameras}
        self._ready = threading.Condition()
        self._stopping = threading.Event()
        self._idle_lanes = 0
        self._workers: List[Worker] = []
        self._lanes: List[threading.Thread] = []
        self.shape: Optional[ModelShape] = None

    def stats(self, camera: str) -> CameraStats:
        """Return the live statistics of one camera."""
        return self._slots[camera].stats

    @property
    def worker_restarts(self) -> int:
        """How many worker processes were restarted after a timeout or a crash."""
        return sum(worker.restarts for worker in self._workers)

    def start(self) -> ModelShape:
        """
        Start the workers (loading the model in each) and the lanes.

        Raises EngineError with the engine's one-line reason when the model cannot be loaded.
        """
        context = multiprocessing.get_context('spawn')
        try:
            for _ in range(self._threads):
                worker = Worker(self._spec, context)
                self._workers.append(worker)
                self.shape = worker.start()
        except Exception:
            self.stop()
            raise
        for index, worker in enumerate(self._workers):
            lane = threading.Thread(target=self._run_lane, args=(worker,),
                                    name='rdk_classifier_lane_%d' % index, daemon=True)
            self._lanes.append(lane)
            lane.start()
        return self.shape

    def submit(self, frame: Frame) -> None:
        """Offer a frame; returns at once (see the module docstring)."""
        slot = self._slots[frame.camera]
        slot.stats.count('received')
        with self._ready:
            if slot.pending is not None:
                slot.stats.count('dropped_busy')
            else:
                # Fairness: a camera waits from its first untaken frame; a replacement does
                # not send it to the back of the line.
                slot.pending_since = time.monotonic()
            slot.pending = frame
            slot.pending_seq = slot.next_seq
            slot.next_seq += 1
            self._ready.notify()

    def stop(self) -> None:
        """Stop the lanes and the worker processes; safe to call more than once."""
        with self._ready:
            self._stopping.set()
            self._ready.notify_all()
        for lane in self._lanes:
            lane.join()
        self._lanes.clear()
        for worker in self._workers:
            worker.stop()
        self._workers.clear()

    def _take(self, block: bool = True) -> Optional[Tuple[_CameraSlot, Frame, int]]:
        """
        Take the longest-waiting frame; None when stopping.

        Without ``block`` (a busy lane prefetching), return None at once when no frame waits
        or when an idle lane could start it right away.
        """
        with self._ready:
            while not self._stopping.is_set():
                if not block and self._idle_lanes:
                    return None
                waiting = [s for s in self._slots.values() if s.pending is not None]
                if waiting:
                    # Round robin: the camera served least recently goes first.
                    slot = min(waiting, key=lambda s: (s.last_taken, s.pending_since))
                    slot.last_taken = time.monotonic()
                    frame, seq = slot.pending, slot.pending_seq
                    slot.pending = None
                    return slot, frame, seq
                if not block:
                    return None
                self._idle_lanes += 1
                self._ready.wait()
                self._idle_lanes -= 1
        return None

    def _run_lane(self, worker: Worker) -> None:
        """
        Feed one worker until the pipeline stops.

        The next frame is converted and queued at the worker before a result is post-processed
        and delivered, so the worker does not wait for the lane. With a single worker the lane
        also keeps a second frame queued (the other input buffer) while the worker runs; with
        several workers it does not, since frames queued behind one worker would finish after
        newer frames that another worker started, and be dropped as stale.
        """
        converter = NV12Converter(worker.shape.input_width, worker.shape.input_height,
                                  self._resize_mode, self._crop_pct)
        depth = 2 if self._threads == 1 else 1
        queued: Deque[tuple] = deque()  # (taken, convert seconds, input buffer index)
        while True:
            try:
                if len(queued) < depth:
                    taken = self._take(block=not queued)
                    if taken is None and not queued:
                        return  # stopping
                    if taken is not None:
                        self._queue(worker, converter, taken, queued)
                        continue  # there may be room and a frame for the other buffer
                (slot, frame, seq), convert_s, index = queued.popleft()
                try:
                    outcome = worker.collect(self.infer_timeout_s, self._stopping)
                except (EngineError, WorkerFailure) as exc:
                    outcome = exc
                except PipelineStopping:
                    return
                if isinstance(outcome, WorkerFailure):
                    while queued:  # the restarted worker never saw them
                        (lost_slot, lost_frame, _), _, _ = queued.popleft()
                        lost_slot.stats.count('dropped_engine')
                        self._on_drop(lost_frame.camera, 'dropped_engine', str(outcome))
                captured = worker.inputs[index].copy() if self.capture_input else None
                if len(queued) < depth:
                    taken = self._take(block=False)
                    if taken is not None:
                        self._queue(worker, converter, taken, queued)
                self._deliver(slot, frame, seq, convert_s, outcome, captured)
            except Exception as exc:  # noqa: B902 - a lane must survive anything one frame does
                self._on_drop('', 'dropped_engine', 'unexpected error in a lane: %r' % exc)

    def _queue(self, worker: Worker, converter: NV12Converter,
               taken: Tuple[_CameraSlot, Frame, int], queued: Deque[tuple]) -> None:
        """Convert a frame into the free input buffer and queue it at the worker."""
        free = 1 - queued[-1][2] if queued else 0
        prepared = self._prepare(worker, converter, taken, free)
        if prepared is not None and self._submit(worker, prepared):
            queued.append(prepared)

    def _prepare(self, worker: Worker, converter: NV12Converter,
                 taken: Tuple[_CameraSlot, Frame, int], index: int) -> Optional[tuple]:
        """Convert a frame into input buffer ``index``; None if the frame was malformed."""
        slot, frame, _ = taken
        start = time.perf_counter()
        try:
            if frame.compressed:
                converter.from_compressed(frame.data, frame.encoding, out=worker.inputs[index])
            else:
                converter.from_raw(frame.data, frame.width, frame.height, frame.step,
                                   frame.encoding, out=worker.inputs[index])
        except FrameError as exc:
            slot.stats.count('dropped_bad')
            self._on_drop(frame.camera, 'dropped_bad', str(exc))
            return None
        return taken, time.perf_counter() - start, index

    def _submit(self, worker: Worker, prepared: tuple) -> bool:
        """Queue a converted frame at the worker; False if it was dropped."""
        (slot, frame, _), _, index = prepared
        try:
            worker.submit(index)
        except (EngineError, WorkerFailure) as exc:
            slot.stats.count('dropped_engine')
            self._on_drop(frame.camera, 'dropped_engine', str(exc))
            return False
        return True

    def _deliver(self, slot: _CameraSlot, frame: Frame, seq: int, convert_s: float,
                 outcome, captured: Optional[np.ndarray]) -> None:
        """Post-process one finished frame and hand it over, unless newer results went out."""
        stats = slot.stats
        if isinstance(outcome, Exception):
            stats.count('dropped_engine')
            self._on_drop(frame.camera, 'dropped_engine', str(outcome))
            return
        logits, infer_s = outcome
        start = time.perf_counter()
        top = top_k(softmax(logits), self.top_k_count, self.score_threshold)
        post_s = time.perf_counter() - start
        stats.time('convert', convert_s)
        stats.time('infer', infer_s)
        stats.time('post', post_s)
        result = Result(frame.camera, frame.token, top, convert_s, infer_s, post_s, captured)
        with slot.deliver_lock:
            if seq < slot.last_delivered_seq:
                stats.count('dropped_stale')
                return
            slot.last_delivered_seq = seq
            self._on_result(result)
        stats.count('published')
