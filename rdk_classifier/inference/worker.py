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
Inference worker processes: both sides of the pipe (no ROS inside).

A worker process loads one engine and runs forwards on the NV12 frames its parent writes into
two shared-memory input buffers, then post-processes the logits (softmax, top-k) itself: the
node's one dispatcher thread gets back a few (class, score) pairs instead of every logit, so it
spends no time on them. It imports this module, the post-processing and the engine it builds,
never the node (how it is started: rdk_classifier.inference.processes).

Protocol, one pipe per process (a replacement gets a new pipe, so no old reply can reach it):

- parent -> worker: the :class:`EngineSpec` to build;
- worker -> parent: :class:`Loaded` (the model's shape, or the one-line reason it did not load);
- parent -> worker: the name of the shared memory holding the input buffers;
- parent -> worker: :class:`Request` (request id, buffer index, top-k settings) packed as
  ``_REQUEST`` bytes, or empty bytes to exit;
- worker -> parent: :class:`Reply` echoing the request id, with the top (class, score) pairs or
  the engine's error, packed as ``_REPLY`` bytes then ``_PAIR``s or the error text.

Per-frame messages are structs, not pickles: they cost the node's thread less.

The parent owns the shared memory (multiprocessing.shared_memory, unlinked by
:meth:`Worker.close`); a worker maps it by name from /dev/shm, so it never starts a resource
tracker of its own (one that would unlink the parent's buffers when the worker dies).

Threading: a :class:`Worker` (the parent side) is used by one thread at a time: the pipeline's
dispatcher thread (rdk_classifier.inference.dispatcher) while the pipeline runs, then the thread
that stops the pipeline. Every wait polls a ``stopping`` event, so stopping never waits for a
load or a forward. Processes come from a ``take`` callable (the pipeline's
rdk_classifier.inference.processes.ProcessStarter), which starts them on one long-lived thread,
for the parent-death signal's sake.
"""

import ctypes
from dataclasses import dataclass
import mmap
from multiprocessing import shared_memory
from multiprocessing.connection import Connection
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

from rdk_classifier.engines import create_engine, EngineError, EngineSpec, ModelShape
from rdk_classifier.inference.api import PipelineStopping
from rdk_classifier.inference.postprocess import softmax, top_k

#: How long a worker may take to load its model.
LOAD_TIMEOUT_S = 120.0
#: How often a thread waiting for a worker checks whether the pipeline is stopping.
STOP_POLL_S = 0.05
#: How long a process whose pipe broke may take to be reaped, for its exit code.
_REAP_S = 0.2
_PR_SET_PDEATHSIG = 1
#: What :meth:`Worker._receive` returns when the pipe broke. The pipe's exception is dropped,
#: not chained: its traceback holds multiprocessing's BytesIO buffers (pickled messages, reads
#: in progress), and Python 3.12.0-3.12.1 can crash collecting those in a cycle (gh-111049).
_PIPE_BROKEN = object()
#: A request on the pipe: request id, input buffer index, top k, score threshold.
_REQUEST = struct.Struct('<qBHd')
#: A reply: request id, whether the engine failed, forward and post-processing seconds; then
#: the (class, score) pairs, or the error text.
_REPLY = struct.Struct('<q?dd')
_PAIR = struct.Struct('<Id')
#: The exit request.
_EXIT = b''


@dataclass(frozen=True)
class Loaded:
    """The first message of a worker: its model's shape, or why it could not load."""

    shape: Optional[ModelShape]
    error: str = ''


@dataclass(frozen=True)
class Request:
    """
    Run the engine on input buffer ``buffer``; the reply carries ``request_id`` back.

    It keeps the ``top_k`` best classes scoring at least ``score_threshold``.
    """

    request_id: int
    buffer: int
    top_k: int = 5
    score_threshold: float = 0.0


@dataclass(frozen=True)
class Reply:
    """The outcome of one request: top (class, score) pairs and timings, or the engine's error."""

    request_id: int
    top: Optional[List[Tuple[int, float]]]
    infer_s: float
    post_s: float = 0.0
    error: str = ''

    def encode(self) -> bytes:
        """Return the reply as sent on the pipe (see the module docstring)."""
        head = _REPLY.pack(self.request_id, self.top is None, self.infer_s, self.post_s)
        if self.top is None:
            return head + self.error.encode('utf-8', 'replace')
        return head + b''.join(_PAIR.pack(index, score) for index, score in self.top)

    @staticmethod
    def decode(message: bytes) -> 'Reply':
        """Return the reply that :meth:`encode` gave ``message``; ValueError if it is not one."""
        try:
            request_id, failed, infer_s, post_s = _REPLY.unpack_from(message)
            body = message[_REPLY.size:]
            if failed:
                return Reply(request_id, None, infer_s, post_s, body.decode('utf-8', 'replace'))
            return Reply(request_id, list(_PAIR.iter_unpack(body)), infer_s, post_s)
        except struct.error as exc:
            raise ValueError('not a reply (%d bytes): %s' % (len(message), exc)) from None


class WorkerFailure(Exception):
    """The worker process died, timed out or broke the protocol; it must be replaced."""


def serve(conn: Connection, parent_pid: int) -> None:
    """Run a worker process: load the engine, then answer requests until told."""
    if sys.platform.startswith('linux'):
        # Die with the node even if it is killed without a chance to stop us.
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:
            return  # the node died before the signal was armed
    try:
        spec = conn.recv()
    except EOFError:
        return  # the node closed the pipe before sending the engine
    try:
        engine = create_engine(spec)
    except Exception as exc:  # noqa: B902 - every load failure must reach the node as one line
        conn.send(Loaded(None, str(exc)))
        return
    shape = engine.shape
    conn.send(Loaded(shape))
    memory = None
    inputs: List[np.ndarray] = []
    try:
        memory = _map_shared_memory(conn.recv(), 2 * shape.input_nbytes)
        inputs = input_views(memory, shape.input_nbytes)
        while True:
            message = conn.recv_bytes()
            if message == _EXIT:
                break
            request_id, buffer, k, threshold = _REQUEST.unpack(message)
            started = time.perf_counter()
            infer_s = 0.0
            try:
                logits = engine.infer(inputs[buffer])
                infer_s = time.perf_counter() - started
                top = top_k(softmax(logits), k, threshold)
            except Exception as exc:  # noqa: B902 - report engine faults, keep serving
                reply = Reply(request_id, None, infer_s or time.perf_counter() - started,
                              error='%s: %s' % (type(exc).__name__, exc))
            else:
                reply = Reply(request_id, top, infer_s,
                              time.perf_counter() - started - infer_s)
            conn.send_bytes(reply.encode())
    except EOFError:
        pass  # the node closed the pipe
    finally:
        del inputs
        if memory is not None:
            memory.close()
        engine.close()


def _map_shared_memory(name: str, size: int) -> mmap.mmap:
    """Map the parent's shared memory ``name`` (see the module docstring: no resource tracker)."""
    fd = os.open(os.path.join('/dev/shm', name.lstrip('/')), os.O_RDWR)
    try:
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


def input_views(buffer: Any, nbytes: int) -> List[np.ndarray]:
    """Return the two NV12 input buffers in a worker's shared memory (a buffer object)."""
    return [np.ndarray((nbytes,), np.uint8, buffer, offset=i * nbytes) for i in range(2)]


class Worker:
    """
    The parent side of one worker slot: its current process, pipe and input buffers.

    The process is replaced after failures; the shared memory (two input buffers, so the worker
    dispatcher can convert the next frame while the engine runs on the current one) stays until
    :meth:`close`.
    """

    def __init__(self, spec: EngineSpec,
                 take: Callable[[bool], Tuple['subprocess.Popen[bytes]', Connection]]) -> None:
        """
        Prepare the slot; ``take(replacement)`` returns a started process and its pipe.

        It raises OSError when no process can be started (see ProcessStarter.take).
        """
        self._spec = spec
        self._take = take
        self._process: Optional['subprocess.Popen[bytes]'] = None
        self._pid: Optional[int] = None  # of the current process, for other threads to read
        self._conn: Optional[Connection] = None
        #: A poll object for the current pipe, made once: Connection.poll builds a selector per
        #: call, and replies are waited for on every frame.
        self._poller: Optional[Tuple[Connection, Any]] = None
        self._shm: Optional[shared_memory.SharedMemory] = None
        self.shape: Optional[ModelShape] = None
        self.inputs: List[np.ndarray] = []
        self.loaded = False  # the current process has its model and the input buffers
        self._outstanding = 0  # requests sent and not yet answered

    @property
    def pid(self) -> Optional[int]:
        """Return the current process id, or None without a process."""
        return self._pid

    @property
    def exit_code(self) -> Optional[int]:
        """Return the exit code of an ended process (reaping it), or None."""
        return None if self._process is None else self._process.poll()

    def fileno(self) -> int:
        """Return the current pipe's descriptor, to poll (readable: a message, or the end)."""
        return self._pipe().fileno()

    def launch(self, replacement: bool = False) -> None:
        """
        Have a process load the model; :meth:`wait_loaded` finishes the start.

        ``replacement``: it replaces a process that failed.
        """
        self.kill()
        try:
            process, conn = self._take(replacement)
        except OSError as exc:  # e.g. out of file descriptors or processes
            raise EngineError('cannot start a worker process: %s' % exc) from exc
        self._process, self._conn, self._pid = process, conn, process.pid
        # A process that died as a spare breaks this pipe: wait_loaded reports it.
        self._send(self._spec)

    def wait_loaded(self, stopping: threading.Event,
                    timeout: float = LOAD_TIMEOUT_S) -> ModelShape:
        """
        Wait until the launched process has loaded its model; return the model's shape.

        Raises EngineError (with the engine's reason) when it cannot load, PipelineStopping as
        soon as ``stopping`` is set; the process is killed in both cases.
        """
        try:
            loaded = self._receive(time.monotonic() + timeout, stopping)
            if loaded is _PIPE_BROKEN:
                raise EngineError('the %s worker process exited while loading %s'
                                  % (self._spec.kind, self._model_name()))
            if loaded is None:
                raise EngineError(self.abandon_load(timeout))
            if loaded.shape is None:
                raise EngineError(loaded.error)
            self._attach_inputs(loaded.shape)
        except BaseException:
            self.kill()
            raise
        self.loaded = True
        return loaded.shape

    def abandon_load(self, timeout: float) -> str:
        """Kill a process that did not load within ``timeout`` seconds; return the reason."""
        self.kill()
        return ('the %s engine did not load %s within %.0f s'
                % (self._spec.kind, self._model_name(), timeout))

    def send(self, request: Request) -> None:
        """Queue a request at the process; WorkerFailure if it died."""
        if not self._send(_REQUEST.pack(request.request_id, request.buffer, request.top_k,
                                        request.score_threshold)):
            raise WorkerFailure(self._death())
        self._outstanding += 1

    def receive(self, timeout: Optional[float], stopping: threading.Event) -> Reply:
        """
        Return the next reply.

        Raises WorkerFailure when the process died or took longer than ``timeout`` seconds,
        PipelineStopping as soon as ``stopping`` is set (a hung forward must not delay exit).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        message = self._receive(deadline, stopping, pickled=False)
        if message is None:
            assert timeout is not None  # _receive returns None only at a deadline
            raise WorkerFailure('worker process %s: inference took longer than %.0f ms'
                                % (self._pid, timeout * 1e3))
        return self._reply(message)

    def receive_ready(self) -> Reply:
        """Return the reply that polling :meth:`fileno` found there (WorkerFailure as receive)."""
        message: Any
        try:
            message = self._pipe().recv_bytes()
        except (EOFError, OSError):
            message = _PIPE_BROKEN
        return self._reply(message)

    def _reply(self, message: Any) -> Reply:
        if message is _PIPE_BROKEN:
            raise WorkerFailure(self._death())
        try:
            reply = Reply.decode(message)
        except ValueError as exc:
            raise WorkerFailure('worker process %s broke the protocol: %s'
                                % (self._pid, exc)) from None
        self._outstanding -= 1
        return reply

    def request_exit(self) -> None:
        """Ask an idle process to exit on its own (closing its engine); see :meth:`close`."""
        if self.loaded and not self._outstanding:
            self._send(_EXIT)  # False: already gone

    def close(self, deadline: float) -> None:
        """Wait until ``deadline`` for a process asked to exit, kill it, free the buffers."""
        if self._process is not None and self.loaded and not self._outstanding:
            _wait(self._process, max(0.0, deadline - time.monotonic()))
        self.kill()
        if self._shm is not None:
            self.inputs = []
            self._shm.close()
            self._shm.unlink()
            self._shm = None

    def kill(self) -> None:
        """End the current process at once (a hung forward cannot be asked to stop)."""
        self.loaded = False
        self._outstanding = 0
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._poller = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            self._process = self._pid = None

    def _receive(self, deadline: Optional[float], stopping: threading.Event,
                 pickled: bool = True) -> Any:
        """
        Return the next message, None at ``deadline``, _PIPE_BROKEN if the pipe broke.

        ``pickled``: unpickle it (Loaded), else return its bytes (replies).
        """
        conn = self._pipe()
        try:
            poller = self._poller_of(conn)
            while not poller.poll(STOP_POLL_S * 1e3):
                if stopping.is_set():
                    raise PipelineStopping()
                if deadline is not None and time.monotonic() >= deadline:
                    return None
            return conn.recv() if pickled else conn.recv_bytes()
        except (EOFError, OSError):
            return _PIPE_BROKEN

    def _poller_of(self, conn: Connection) -> Any:
        """Return the poll object of ``conn`` (made on first use; a new pipe gets a new one)."""
        if self._poller is None or self._poller[0] is not conn:
            poller = select.poll()
            # Readable, or the worker's end closed (recv then raises EOFError), as conn.poll.
            poller.register(conn.fileno(), select.POLLIN)
            self._poller = (conn, poller)
        return self._poller[1]

    def _send(self, message: Any) -> bool:
        """
        Send ``message`` to the process; False if the pipe broke (see _PIPE_BROKEN).

        Bytes go as they are (requests, see _REQUEST), anything else pickled.
        """
        try:
            if isinstance(message, bytes):
                self._pipe().send_bytes(message)
            else:
                self._pipe().send(message)
        except OSError:
            return False
        return True

    def _attach_inputs(self, shape: ModelShape) -> None:
        """Create the input buffers on the first load; hand them to the process."""
        if self._shm is None:
            self._shm = shared_memory.SharedMemory(create=True, size=2 * shape.input_nbytes)
            self.inputs = input_views(self._shm.buf, shape.input_nbytes)
        elif shape != self.shape:
            raise EngineError('the model changed shape on reload: %s, was %s'
                              % (shape, self.shape))
        self.shape = shape
        if not self._send(self._shm.name):
            raise EngineError('the %s worker process exited while loading %s'
                              % (self._spec.kind, self._model_name()))

    def _pipe(self) -> Connection:
        """Return the current process's pipe; WorkerFailure after :meth:`kill`."""
        if self._conn is None:
            raise WorkerFailure('the worker process was stopped')
        return self._conn

    def _death(self) -> str:
        """Describe the end of a process whose pipe broke (it may not be reaped yet)."""
        if self._process is None:
            return 'the worker process was stopped'
        _wait(self._process, _REAP_S)
        return 'worker process %s died (exit code %s)' % (self._pid, self._process.returncode)

    def _model_name(self) -> str:
        return self._spec.model_path or 'its model'


def _wait(process: 'subprocess.Popen[bytes]', timeout: float) -> None:
    """Wait up to ``timeout`` seconds for ``process`` to end."""
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
