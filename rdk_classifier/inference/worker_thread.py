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
A worker thread: the Python thread that drives one worker process (no ROS inside).

It takes a frame from the latest-frame slots, converts it to NV12 straight into one of its
worker's two shared-memory input buffers and sends the worker a request for it; while the
worker runs it, the thread prepares the next frame in the other buffer (when no idle worker
thread could start it sooner), then hands the logits to its :class:`WorkerHost` to be
post-processed and delivered, from this thread.

A worker that exceeds ``infer_timeout_s``, dies or breaks the protocol is replaced, and every
frame it held is counted as ``dropped_engine``; the thread also replaces a worker that died
while idle. When a replacement cannot load its model the thread tries again after 0.5 s,
doubling up to 30 s; meanwhile the other worker threads serve the frames, or, when no worker is
loaded at all, this thread drops the frames it takes as ``dropped_engine`` with the reason.

Pairing frames with replies: a frame taken from its slot becomes an in-flight record
(:class:`_InFlight`) before anything else happens to it. The request sent to the worker carries
the record's id and the reply echoes it; a reply is only ever matched against the oldest record,
and a mismatch is a worker failure. Records leave only through ``_retire`` (counted as one drop)
or ``_deliver`` (handed to the host); a worker failure retires every record the thread holds,
since the replacement process never saw them.

Threading: everything here runs on the worker thread, except :attr:`WorkerThread.in_flight`,
which any thread may read. The host's methods are thread-safe.
"""

from collections import deque
from dataclasses import dataclass
import itertools
import logging
import threading
import time
from typing import Deque, Optional, Protocol

import numpy as np

from rdk_classifier.engines import EngineError
from rdk_classifier.inference.api import PipelineStopping, Settings
from rdk_classifier.inference.frames import FrameError, NV12Converter
from rdk_classifier.inference.slots import Taken
from rdk_classifier.inference.worker import Reply, Request, Worker, WorkerFailure

#: How often an idle worker thread checks that its worker process is still alive.
HEALTH_CHECK_S = 0.5
#: After a replacement fails to load, the next try waits this long, doubling up to the maximum.
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0

_LOG = logging.getLogger(__name__)


class WorkerHost(Protocol):
    """What a worker thread needs from its pipeline; every method is thread-safe."""

    @property
    def stopping(self) -> threading.Event:
        """Return the event set when the pipeline stops (every wait polls it)."""

    @property
    def settings(self) -> Settings:
        """Return the run-time settings now."""

    @property
    def ready_workers(self) -> int:
        """Return how many workers of the pipeline have their model loaded."""

    def take(self, block: bool) -> Optional[Taken]:
        """Take a frame (rdk_classifier.inference.slots.FrameSlots.take)."""

    def deliver(self, taken: Taken, logits: np.ndarray, convert_s: float, infer_s: float,
                captured: Optional[np.ndarray]) -> None:
        """Post-process an answered frame and hand its result over (or count why not)."""

    def drop(self, taken: Taken, counter: str, message: str) -> None:
        """Count a frame that will not be delivered; called once per frame."""

    def count_restart(self) -> None:
        """Count one replacement worker process started."""


@dataclass
class _InFlight:
    """A frame held by a worker thread, from the moment it is taken until it is retired."""

    taken: Taken
    request_id: int  # sent with the request; the worker's reply must echo it
    buffer: int  # the worker input buffer the frame is converted into
    convert_s: float = 0.0
    answered: bool = False  # the reply arrived: the buffer is free again


class WorkerThread:
    """One worker thread, its worker and the frames it holds (see the module docstring)."""

    def __init__(self, host: WorkerHost, worker: Worker, converter: NV12Converter, index: int,
                 depth: int) -> None:
        """Prepare the thread (started by :meth:`start`); ``depth``: frames sent ahead."""
        self._host = host
        self._worker = worker
        self._converter = converter
        self._depth = depth
        self._records: Deque[_InFlight] = deque()
        self._request_ids = itertools.count()
        self._down_reason = ''  # why the last replacement failed to load
        self._retry_delay = 0.0
        self._retry_at = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='rdk_classifier_worker_thread_%d' % index)

    @property
    def in_flight(self) -> int:
        """How many frames the thread holds (taken and not yet delivered or dropped)."""
        return len(self._records)

    def start(self) -> None:
        """Start the thread; it runs until the host's stopping event is set."""
        self._thread.start()

    def join(self) -> None:
        """Wait until the thread has ended (after stopping was set)."""
        self._thread.join()

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
                    _LOG.exception('unexpected error in %s', self._thread.name)
                    failure = 'unexpected error in %s: %r' % (self._thread.name, exc)
                if failure:
                    # Outside the handler: no exception, traceback or frame of the failure
                    # stays alive through the restart's seconds (see worker._PIPE_BROKEN).
                    self._replace_worker(failure)
        except PipelineStopping:
            pass
        finally:
            while self._records:
                self._retire(self._records[0], 'dropped_stopped', 'the pipeline stopped')

    def _step(self) -> None:
        """Take a frame or finish the oldest one; check the worker when idle."""
        exit_code = self._worker.exit_code
        if exit_code is not None and not self._records:
            raise WorkerFailure('worker process %s died while idle (exit code %s)'
                                % (self._worker.pid, exit_code))
        if not self._worker.loaded:
            if time.monotonic() >= self._retry_at:
                self._restart_worker()
                return
            if self._host.ready_workers:
                # Other worker threads serve the frames until the retry.
                self._host.stopping.wait(min(self._retry_at - time.monotonic(),
                                             HEALTH_CHECK_S))
                return
        if len(self._records) < self._depth:
            taken = self._host.take(block=not self._records)
            if taken is not None:
                self._start(taken)
                return
            if not self._records:
                return  # woke up to check the worker
        self._finish_oldest()

    def _start(self, taken: Taken) -> None:
        """Hold a taken frame, convert it into a free input buffer and send it to the worker."""
        busy = {record.buffer for record in self._records if not record.answered}
        record = _InFlight(taken, next(self._request_ids), 1 if 0 in busy else 0)
        self._records.append(record)
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
        record = self._records[0]
        settings = self._host.settings
        reply = self._worker.receive(settings.infer_timeout_s, self._host.stopping)
        if reply.request_id != record.request_id:
            raise WorkerFailure('worker answered request %d, expected %d'
                                % (reply.request_id, record.request_id))
        record.answered = True
        captured = (self._worker.inputs[record.buffer].copy()
                    if settings.capture_input else None)
        try:
            # Keep the worker busy: the next frame goes out before this one is post-processed.
            if len(self._records) <= self._depth:
                taken = self._host.take(block=False)
                if taken is not None:
                    self._start(taken)
        finally:
            self._deliver(record, reply, captured)

    def _deliver(self, record: _InFlight, reply: Reply, captured: Optional[np.ndarray]) -> None:
        """Retire an answered frame: deliver its logits, or drop it if the engine failed."""
        if reply.logits is None:  # the engine raised (reply.error)
            self._retire(record, 'dropped_engine', reply.error)
            return
        self._records.remove(record)
        self._host.deliver(record.taken, reply.logits, record.convert_s, reply.infer_s, captured)

    def _retire(self, record: _InFlight, counter: str, message: str) -> None:
        """Drop a held frame, counted once in ``counter``."""
        self._records.remove(record)
        self._host.drop(record.taken, counter, message)

    def _replace_worker(self, reason: str) -> None:
        """Drop every frame the worker held and start a replacement process."""
        while self._records:
            self._retire(self._records[0], 'dropped_engine', '%s; worker restarted' % reason)
        self._restart_worker()

    def _restart_worker(self) -> None:
        """Start a replacement process and wait for its model; schedule a retry if it fails."""
        self._host.count_restart()
        try:
            self._worker.launch(replacement=True)
            self._worker.wait_loaded(self._host.stopping)
        except EngineError as exc:
            self._down_reason = str(exc)
            self._retry_delay = min(max(2 * self._retry_delay, RETRY_FIRST_S), RETRY_MAX_S)
            self._retry_at = time.monotonic() + self._retry_delay
            return
        self._retry_delay = 0.0
