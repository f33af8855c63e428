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
The dispatcher: the one Python thread that drives every worker process (no ROS inside).

It takes frames from the latest-frame slots, converts each to NV12 straight into one of a
worker's two shared-memory input buffers and sends the worker a request for it. It waits for
all of its workers at once (one ``poll`` over their pipes and a wake-up pipe that the slots write
to when a frame arrives for an idle dispatcher) and hands each answer to its
:class:`WorkerHost`, which post-processes and delivers it on this thread. A worker may hold
``depth`` frames: with a single worker, a second frame waits in its other buffer, so it never
idles between frames.

Why one thread for every worker: the node's Python threads share one GIL. With a thread per
worker, each frame woke a thread that then had to win the GIL from the others and from the
executor thread; with four workers and a 0 ms engine the node classified 1225 frames a second,
against 2572 with one worker (benchmarks/bench_node.py's ceiling, same machine). A forward runs
in its worker process and conversion and post-processing take a fraction of a millisecond, so
one thread keeps every worker fed.

Faults: a worker that exceeds ``infer_timeout_s``, dies (its pipe ends, idle or not) or breaks
the protocol is replaced, and every frame it held is counted as ``dropped_engine``. A
replacement loads while the other workers go on serving: its pipe is polled with theirs, and its
``Loaded`` message finishes the start. When it cannot load, the next try comes after 0.5 s,
doubling up to 30 s; while no worker is loaded or loading, the frames taken are dropped as
``dropped_engine`` with the reason.

Pairing frames with replies: a frame taken from its slot becomes an in-flight record
(:class:`_InFlight`) of one worker before anything else happens to it. The request sent to the
worker carries the record's id and the reply echoes it; a reply is only ever matched against
that worker's oldest record, and a mismatch is a worker failure. Records leave only through
``_retire`` (counted as one drop) or ``_deliver`` (handed to the host); a worker failure retires
every record the worker held, since the replacement process never saw them.

Threading: everything here runs on the dispatcher thread, except :attr:`Dispatcher.in_flight`
(any thread may read it) and :meth:`Dispatcher.wake` (any thread may call it). The host's
methods are thread-safe.
"""

from collections import deque
from dataclasses import dataclass, field
import itertools
import logging
import os
import select
import threading
import time
from typing import Callable, Deque, Dict, List, Optional, Protocol, Sequence

import numpy as np

from rdk_classifier.engines import EngineError
from rdk_classifier.inference.api import PipelineStopping, Settings
from rdk_classifier.inference.frames import FrameError, NV12Converter
from rdk_classifier.inference.slots import Taken
from rdk_classifier.inference.worker import LOAD_TIMEOUT_S, Reply, Request, Worker, WorkerFailure

#: The longest the dispatcher sleeps without checking timeouts and retries.
IDLE_WAIT_S = 0.5
#: After a replacement fails to load, the next try waits this long, doubling up to the maximum.
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0
#: What poll reports for a pipe with something to read, or whose other end closed.
_READABLE = select.POLLIN | select.POLLHUP | select.POLLERR

_LOG = logging.getLogger(__name__)


class WorkerHost(Protocol):
    """What the dispatcher needs from its pipeline; every method is thread-safe."""

    @property
    def stopping(self) -> threading.Event:
        """Return the event set when the pipeline stops (every wait polls it)."""

    @property
    def settings(self) -> Settings:
        """Return the run-time settings now."""

    def take(self) -> Optional[Taken]:
        """Take the frame that waited longest, or None (rdk_classifier.inference.slots)."""

    def arm(self, wake: Callable[[], None]) -> bool:
        """Have the next frame call ``wake``; False if a frame already waits."""

    def deliver(self, taken: Taken, reply: Reply, convert_s: float,
                captured: Optional[np.ndarray]) -> None:
        """Hand an answered frame's result over (or count why not)."""

    def drop(self, taken: Taken, counter: str, message: str) -> None:
        """Count a frame that will not be delivered; called once per frame."""

    def count_restart(self) -> None:
        """Count one replacement worker process started."""


@dataclass
class _InFlight:
    """A frame held for a worker, from the moment it is taken until it is retired."""

    taken: Taken
    request_id: int  # sent with the request; the worker's reply must echo it
    buffer: int  # the worker input buffer the frame is converted into
    convert_s: float = 0.0


@dataclass
class _Feed:
    """One worker as the dispatcher drives it: the frames it holds, its (re)load state."""

    worker: Worker
    converter: NV12Converter
    records: Deque[_InFlight] = field(default_factory=deque)
    #: When the wait for the oldest record's reply began (the forward timeout runs from here).
    waiting_since: float = 0.0
    #: While a replacement loads: when it must have loaded.
    load_deadline: Optional[float] = None
    #: Why the last replacement failed to load, and when to try again.
    down_reason: str = ''
    retry_delay: float = 0.0
    retry_at: float = 0.0

    @property
    def loading(self) -> bool:
        """Return whether a replacement process is loading the model."""
        return self.load_deadline is not None


class Dispatcher:
    """The thread that feeds every worker (see the module docstring)."""

    def __init__(self, host: WorkerHost, workers: Sequence[Worker],
                 converters: Sequence[NV12Converter], depth: int) -> None:
        """Prepare the thread (started by :meth:`start`); ``depth``: frames a worker holds."""
        self._host = host
        self._feeds = [_Feed(worker, converter) for worker, converter in zip(workers, converters)]
        self._depth = depth
        self._request_ids = itertools.count()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._wake_lock = threading.Lock()
        self._closed = False
        #: One poll object while the polled pipes stay the same (made anew when they change).
        self._poller = select.poll()
        self._polled: Dict[int, _Feed] = {}
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='rdk_classifier_dispatcher')

    @property
    def in_flight(self) -> int:
        """How many frames the workers hold (taken and not yet delivered or dropped)."""
        return sum(len(feed.records) for feed in self._feeds)

    def start(self) -> None:
        """Start the thread; it runs until the host's stopping event is set."""
        self._thread.start()

    def join(self) -> None:
        """Wait until the thread has ended (stopping is set), then close the wake-up pipe."""
        self.wake()
        self._thread.join()
        with self._wake_lock:
            os.close(self._wake_read)
            os.close(self._wake_write)
            self._closed = True

    def wake(self) -> None:
        """Wake the thread from its wait (a frame arrived, or the pipeline stops)."""
        # Under the lock: a frame's wake-up may race with join(), and a closed descriptor's
        # number may already belong to another file.
        with self._wake_lock:
            if self._closed:
                return
            try:
                os.write(self._wake_write, b'\0')
            except BlockingIOError:
                pass  # the pipe is full of wake-ups already

    def _run(self) -> None:
        try:
            while True:
                self._hand_out()
                for feed in self._wait():
                    self._guarded(feed, self._on_readable)
                self._check_times()
        except PipelineStopping:
            pass
        finally:
            for feed in self._feeds:
                while feed.records:
                    self._retire(feed, feed.records[0], 'dropped_stopped', 'the pipeline stopped')

    def _guarded(self, feed: _Feed, step: Callable[[_Feed], None]) -> None:
        """Run ``step`` on a feed; replace its worker when it fails."""
        failure = ''
        try:
            step(feed)
        except WorkerFailure as exc:
            failure = str(exc)
        except PipelineStopping:
            raise
        except Exception as exc:  # noqa: B902 - nothing the worker holds can be trusted any more
            _LOG.exception('unexpected error driving worker process %s', feed.worker.pid)
            failure = 'unexpected error driving worker process %s: %r' % (feed.worker.pid, exc)
        if failure:
            # Outside the handler: no exception, traceback or frame of the failure stays alive
            # through the replacement (see worker._PIPE_BROKEN).
            self._replace(feed, failure)

    # Frames out ----------------------------------------------------------------------------

    def _free_feed(self) -> Optional[_Feed]:
        """Return the loaded worker holding the fewest frames, if it has room for one more."""
        ready = [feed for feed in self._feeds
                 if feed.worker.loaded and len(feed.records) < self._depth]
        return min(ready, key=lambda feed: len(feed.records)) if ready else None

    def _hand_out(self) -> None:
        """Give waiting frames to workers with room; drop them while no worker can come."""
        while True:
            feed = self._free_feed()
            if feed is None and not self._all_down():
                return  # the busy or loading workers take the next frame when they can
            taken = self._host.take()
            if taken is None:
                return
            if feed is None:
                self._host.drop(taken, 'dropped_engine', self._down_reason())
                continue
            self._guarded(feed, lambda fed: self._start(fed, taken))

    def _all_down(self) -> bool:
        return not any(feed.worker.loaded or feed.loading for feed in self._feeds)

    def _down_reason(self) -> str:
        feed = min(self._feeds, key=lambda feed: feed.retry_at)
        return ('no worker: the replacement did not load (%s); next try in %.1f s'
                % (feed.down_reason, max(0.0, feed.retry_at - time.monotonic())))

    def _start(self, feed: _Feed, taken: Taken) -> None:
        """Hold a taken frame, convert it into a free input buffer and send it to the worker."""
        busy = {record.buffer for record in feed.records}
        record = _InFlight(taken, next(self._request_ids), 1 if 0 in busy else 0)
        feed.records.append(record)
        frame = taken.frame
        out = feed.worker.inputs[record.buffer]
        started = time.perf_counter()
        try:
            if frame.compressed:
                feed.converter.from_compressed(frame.data, frame.encoding, out=out)
            else:
                feed.converter.from_raw(frame.data, frame.width, frame.height, frame.step,
                                        frame.encoding, out=out)
        except FrameError as exc:
            self._retire(feed, record, 'dropped_bad', str(exc))
            return
        record.convert_s = time.perf_counter() - started
        if len(feed.records) == 1:
            feed.waiting_since = time.monotonic()
        settings = self._host.settings
        feed.worker.send(Request(record.request_id, record.buffer, settings.top_k,
                                 settings.score_threshold))

    # Waiting -------------------------------------------------------------------------------

    def _wait(self) -> List[_Feed]:
        """Sleep until a pipe has something, a frame may be taken or a time is due."""
        by_fd = {feed.worker.fileno(): feed for feed in self._feeds
                 if feed.worker.loaded or feed.loading}  # idle pipes too: they end on death
        if by_fd != self._polled:
            self._poller = select.poll()
            self._poller.register(self._wake_read, select.POLLIN)
            for fd in by_fd:
                self._poller.register(fd, select.POLLIN)
            self._polled = by_fd
        timeout = self._next_due() - time.monotonic()
        if (self._free_feed() is not None or self._all_down()) and not self._host.arm(self.wake):
            timeout = 0.0  # a frame came in since the last take
        events = self._poller.poll(max(0.0, timeout) * 1e3)
        if self._host.stopping.is_set():
            raise PipelineStopping()
        ready = []
        for fd, event in events:
            if fd == self._wake_read:
                self._drain_wake_ups()
            elif event & _READABLE:
                ready.append(by_fd[fd])
        return ready

    def _next_due(self) -> float:
        """Return when the next forward timeout, load deadline or retry falls due."""
        due = [time.monotonic() + IDLE_WAIT_S]
        timeout = self._host.settings.infer_timeout_s
        for feed in self._feeds:
            if feed.loading:
                assert feed.load_deadline is not None
                due.append(feed.load_deadline)
            elif not feed.worker.loaded:
                due.append(feed.retry_at)
            elif feed.records and timeout is not None:
                due.append(feed.waiting_since + timeout)
        return min(due)

    def _drain_wake_ups(self) -> None:
        try:
            while os.read(self._wake_read, 4096):
                pass
        except BlockingIOError:
            pass

    def _check_times(self) -> None:
        """Replace workers past their forward timeout or load deadline; retry failed loads."""
        now = time.monotonic()
        timeout = self._host.settings.infer_timeout_s
        for feed in self._feeds:
            if feed.loading:
                assert feed.load_deadline is not None
                if now >= feed.load_deadline:
                    feed.load_deadline = None
                    self._schedule_retry(feed, feed.worker.abandon_load(LOAD_TIMEOUT_S))
            elif not feed.worker.loaded:
                if now >= feed.retry_at:
                    self._launch(feed)
            elif feed.records and timeout is not None and now - feed.waiting_since >= timeout:
                self._replace(feed, 'worker process %s: inference took longer than %.0f ms'
                              % (feed.worker.pid, timeout * 1e3))

    # Frames back ---------------------------------------------------------------------------

    def _on_readable(self, feed: _Feed) -> None:
        """Finish a replacement's load, or take the reply to the worker's oldest frame."""
        if feed.loading:
            self._finish_load(feed)
            return
        reply = feed.worker.receive_ready()
        if not feed.records:
            raise WorkerFailure('worker process %s answered request %d, none was sent'
                                % (feed.worker.pid, reply.request_id))
        record = feed.records[0]
        if reply.request_id != record.request_id:
            raise WorkerFailure('worker answered request %d, expected %d'
                                % (reply.request_id, record.request_id))
        feed.waiting_since = time.monotonic()  # the next record's wait starts now
        captured = (feed.worker.inputs[record.buffer].copy()
                    if self._host.settings.capture_input else None)
        self._deliver(feed, record, reply, captured)

    def _deliver(self, feed: _Feed, record: _InFlight, reply: Reply,
                 captured: Optional[np.ndarray]) -> None:
        """Retire an answered frame: deliver its result, or drop it if the engine failed."""
        if reply.top is None:  # the engine raised (reply.error)
            self._retire(feed, record, 'dropped_engine', reply.error)
            return
        feed.records.remove(record)
        self._host.deliver(record.taken, reply, record.convert_s, captured)

    def _retire(self, feed: _Feed, record: _InFlight, counter: str, message: str) -> None:
        """Drop a held frame, counted once in ``counter``."""
        feed.records.remove(record)
        self._host.drop(record.taken, counter, message)

    # Replacements --------------------------------------------------------------------------

    def _replace(self, feed: _Feed, reason: str) -> None:
        """Drop every frame the worker held and start a replacement process."""
        while feed.records:
            self._retire(feed, feed.records[0], 'dropped_engine', '%s; worker restarted' % reason)
        self._launch(feed)

    def _launch(self, feed: _Feed) -> None:
        """Start a replacement process; its Loaded message, polled for, finishes the start."""
        self._host.count_restart()
        try:
            feed.worker.launch(replacement=True)
        except EngineError as exc:
            self._schedule_retry(feed, str(exc))
            return
        feed.load_deadline = time.monotonic() + LOAD_TIMEOUT_S

    def _finish_load(self, feed: _Feed) -> None:
        feed.load_deadline = None
        try:
            feed.worker.wait_loaded(self._host.stopping)  # the message is there: at once
        except EngineError as exc:
            self._schedule_retry(feed, str(exc))
            return
        feed.retry_delay = 0.0

    def _schedule_retry(self, feed: _Feed, reason: str) -> None:
        feed.down_reason = reason
        feed.retry_delay = min(max(2 * feed.retry_delay, RETRY_FIRST_S), RETRY_MAX_S)
        feed.retry_at = time.monotonic() + feed.retry_delay
