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
The worker pipeline: camera frames in, classifications out, on worker processes (no ROS inside).

The rooms: rdk_classifier.inference.slots (the latest frame of each camera, round robin, and all
the counting), .dispatcher (the one thread that drives every worker process), .worker (both
sides of a worker process's pipe), .processes (starting them), .frames (conversion to NV12),
.postprocess (softmax and top-k). :class:`InferencePipeline` wires them and is all its callers
(the ROS node) use: :meth:`~InferencePipeline.submit` frames, results through ``on_result``,
:meth:`~InferencePipeline.snapshot` of the counts, :meth:`~InferencePipeline.pause`,
:meth:`~InferencePipeline.resume`, :meth:`~InferencePipeline.stop` and
:meth:`~InferencePipeline.apply` for the run-time settings.

Threading model
---------------
:meth:`InferencePipeline.submit` only stores the frame in its camera's latest-frame slot and
returns. One dispatcher thread drives all ``threads`` worker processes: it takes frames,
converts them, has a free worker run each, and calls ``on_result`` (and ``on_drop``) from that
thread. Results of one camera are delivered in frame order.

Why processes: pyeasy_dnn holds the GIL for the whole forward and a loaded model must not be
shared between threads, so only processes overlap inference on the board (the zoo's multi-thread
figures). Every engine runs the same way, which also lets a hung forward be killed (see
rdk_classifier.inference.dispatcher for replacements). Workers are started as processes of
their own that import only the worker modules, from one thread that lives as long as the
pipeline, and die with the node (PR_SET_PDEATHSIG; rdk_classifier.inference.processes).
:meth:`stop` joins the dispatcher thread, so it must not be called from ``on_result`` or
``on_drop``.

Invariants (tested in test/test_pipeline_invariants.py and test/test_fault_invariants.py)
----------------------------------------------------------------------------------------------
- Every published result has the class of the frame whose token it carries, on that frame's
  camera.
- Every received frame is published or counted in exactly one drop counter: once the pipeline
  is idle or stopped, ``received == published + dropped_*`` for every camera. Frames waiting or
  in flight when it stops are ``dropped_stopped``; frames submitted while it is stopped too.
- ``worker_restarts`` counts every replacement process started (including ones that then fail
  to load, and a spare process replaced because it died).
- :meth:`InferencePipeline.stop` returns within about a second at any moment, also during a
  model (re)load or a hung forward: every wait polls the stop flag, and workers get one shared
  second to exit before they are killed. No worker process or shared memory outlives it.
- A stopped pipeline can be started again; counters carry on.
- Once :meth:`InferencePipeline.pause` returns, no result is handed over until :meth:`resume`:
  frames waiting, submitted or finishing meanwhile are counted as ``dropped_disabled``.
"""

from dataclasses import dataclass
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from rdk_classifier.engines import EngineError, EngineSpec, ModelShape
from rdk_classifier.inference.api import Frame, PipelineStopping, Result, Settings
from rdk_classifier.inference.dispatcher import Dispatcher
from rdk_classifier.inference.frames import (compressed_image_size, DEFAULT_MAX_PIXELS,
                                             NV12Converter)
from rdk_classifier.inference.processes import ProcessStarter
from rdk_classifier.inference.slots import FrameSlots, Taken
from rdk_classifier.inference.stats import CameraSnapshot
from rdk_classifier.inference.worker import Reply, Worker

__all__ = ['Frame', 'InferencePipeline', 'ModelShape', 'PipelineSnapshot', 'Result', 'Settings']

#: How long stop() lets idle workers close their engines, all together, before killing them.
WORKER_EXIT_S = 1.0
#: Drops reported through on_drop (the others are flow control: only counted).
REPORTED_DROPS = ('dropped_bad', 'dropped_engine')


@dataclass(frozen=True)
class PipelineSnapshot:
    """Every camera's counters and timings, and the worker restarts, at one instant."""

    cameras: Dict[str, CameraSnapshot]
    #: Replacement worker processes started after failures, since the pipeline was created.
    worker_restarts: int


class InferencePipeline:
    """Classifies frames from several cameras on ``threads`` worker processes."""

    def __init__(self, spec: EngineSpec, cameras: Sequence[str], threads: int,
                 on_result: Callable[[Result], None],
                 on_drop: Callable[[str, str, str], None],
                 resize_mode: str = 'center_crop', crop_pct: float = 0.875,
                 settings: Settings = Settings(),
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        """
        Create the pipeline; nothing runs before :meth:`start`.

        ``on_result(result)`` and ``on_drop(camera, reason, message)`` are called from the
        dispatcher thread; on_drop reports frames dropped as malformed or by the engine.
        ``settings`` may be changed at any time with :meth:`apply`. Frames over ``max_pixels``
        are malformed (see NV12Converter).
        """
        if threads < 1:
            raise ValueError('threads must be >= 1, got %d' % threads)
        self._spec = spec
        self._threads = threads
        self._resize_mode = resize_mode
        self._crop_pct = crop_pct
        self._max_pixels = max_pixels
        self._slots = FrameSlots(cameras)
        self._host = _Host(self._slots, settings, on_result, on_drop)
        self._workers: List[Worker] = []
        self._dispatcher: Optional[Dispatcher] = None
        self._starter: Optional[ProcessStarter] = None

    @property
    def threads(self) -> int:
        """How many worker processes the pipeline runs."""
        return self._threads

    @property
    def settings(self) -> Settings:
        """Return the run-time settings now."""
        return self._host.settings

    @property
    def in_flight(self) -> int:
        """How many frames the workers hold (taken and not yet published or dropped)."""
        return self._dispatcher.in_flight if self._dispatcher is not None else 0

    @property
    def ready_workers(self) -> int:
        """How many workers have their model loaded (the others are being replaced)."""
        return self._host.ready_workers

    @property
    def worker_pids(self) -> List[int]:
        """Process ids of the current worker processes."""
        pids = [worker.pid for worker in self._workers]
        return [pid for pid in pids if pid is not None]

    def snapshot(self) -> PipelineSnapshot:
        """Return every camera's counters and timings, and the worker restarts."""
        return PipelineSnapshot({camera: self._slots.snapshot(camera)
                                 for camera in self._slots.cameras}, self._host.restarts)

    def apply(self, settings: Settings) -> None:
        """Use ``settings`` from the next frame on (a forward running keeps its timeout)."""
        self._host.settings = settings

    def start(self) -> ModelShape:
        """
        Start the workers (loading the model in each, all at once) and the dispatcher.

        Raises EngineError with the engine's one-line reason when the model cannot be loaded.
        A stopped pipeline can be started again.
        """
        if self._workers:
            raise RuntimeError('the pipeline is already running')
        self._slots.reopen()
        self._starter = ProcessStarter(self._host.count_restart)
        try:
            self._workers = [Worker(self._spec, self._starter.take) for _ in range(self._threads)]
            for worker in self._workers:
                worker.launch()
            for worker in self._workers:
                shape = worker.wait_loaded(self._slots.stopping)
            # Built here, so a geometry that cannot work fails start() instead of the dispatcher.
            converters = [NV12Converter(shape.input_width, shape.input_height,
                                        self._resize_mode, self._crop_pct, self._max_pixels)
                          for _ in self._workers]
        except PipelineStopping:
            self.stop()
            raise EngineError('the pipeline was stopped while the model was loading') from None
        except BaseException:
            self.stop()
            raise
        self._host.workers = self._workers
        # With one worker a second frame waits in its pipe, so it never idles between frames;
        # with several, a frame queued behind one worker would finish after newer frames that
        # another worker started, and be dropped as stale.
        depth = 2 if self._threads == 1 else 1
        self._dispatcher = Dispatcher(self._host, self._workers, converters, depth)
        self._dispatcher.start()
        return shape

    def submit(self, frame: Frame) -> None:
        """Offer a frame; returns at once (see rdk_classifier.inference.slots)."""
        self._slots.submit(frame)

    def reject(self, camera: str, message: str) -> None:
        """Count a malformed frame that could not become a :class:`Frame` and report it."""
        self._slots.reject(camera)
        self._host.report_drop(camera, 'dropped_bad', message)

    def stop(self) -> None:
        """Stop the dispatcher and the worker processes; safe to call more than once."""
        self._slots.close()
        if self._dispatcher is not None:
            self._dispatcher.join()
            self._dispatcher = None
        self._host.workers = []
        self._slots.discard_waiting('dropped_stopped')
        deadline = time.monotonic() + WORKER_EXIT_S
        for worker in self._workers:
            worker.request_exit()
        for worker in self._workers:
            worker.close(deadline)
        self._workers = []
        if self._starter is not None:
            self._starter.stop()
            self._starter = None

    def pause(self) -> None:
        """
        Hand over no more results until :meth:`resume`; the workers stay loaded.

        Returns once no result is being handed over (the dispatcher may be inside on_result),
        so the caller can then disable what on_result publishes through.
        """
        self._slots.pause()

    def resume(self) -> None:
        """Hand over results again."""
        self._slots.resume()


class _Host:
    """The pipeline as its dispatcher sees it (a WorkerHost): slots, settings, callbacks."""

    settings: Settings  # an attribute here: apply() replaces it

    def __init__(self, slots: FrameSlots, settings: Settings,
                 on_result: Callable[[Result], None],
                 on_drop: Callable[[str, str, str], None]) -> None:
        self._slots = slots
        self._on_result = on_result
        self._on_drop = on_drop
        #: Replaced as a whole (InferencePipeline.apply): a reader sees one consistent set.
        self.settings = settings
        self.workers: List[Worker] = []
        self._restarts = 0
        self._restarts_lock = threading.Lock()

    @property
    def stopping(self) -> threading.Event:
        """Set when the pipeline stops."""
        return self._slots.stopping

    @property
    def ready_workers(self) -> int:
        """How many workers have their model loaded."""
        return sum(worker.loaded for worker in self.workers)

    @property
    def restarts(self) -> int:
        """Return how many replacement worker processes were started so far."""
        return self._restarts

    def take(self) -> Optional[Taken]:
        """Take a frame from the slots."""
        return self._slots.take()

    def arm(self, wake: Callable[[], None]) -> bool:
        """Have the next frame submitted call ``wake`` (see FrameSlots.arm)."""
        return self._slots.arm(wake)

    def deliver(self, taken: Taken, reply: Reply, convert_s: float,
                captured: Optional[np.ndarray]) -> None:
        """Hand an answered frame's result over (or count why not)."""
        frame = taken.frame
        for stage, seconds in (('convert', convert_s), ('infer', reply.infer_s),
                               ('post', reply.post_s)):
            self._slots.time(frame.camera, stage, seconds)
        # A compressed frame converted, so its header parses (a few microseconds).
        size = (compressed_image_size(frame.data)[1:] if frame.compressed
                else (frame.width, frame.height))
        assert reply.top is not None  # failed replies are dropped, not delivered
        result = Result(frame.camera, frame.token, reply.top, convert_s, reply.infer_s,
                        reply.post_s, captured, size)
        self._slots.hand_over(taken, result, self._on_result)

    def drop(self, taken: Taken, counter: str, message: str) -> None:
        """Count a frame that will not be delivered; report it if worth reporting."""
        self._slots.drop(taken, counter)
        self.report_drop(taken.frame.camera, counter, message)

    def report_drop(self, camera: str, counter: str, message: str) -> None:
        """Tell on_drop about a drop worth reporting (see REPORTED_DROPS)."""
        if counter in REPORTED_DROPS:
            self._on_drop(camera, counter, message)

    def count_restart(self) -> None:
        """Count one replacement worker process started."""
        with self._restarts_lock:
            self._restarts += 1
