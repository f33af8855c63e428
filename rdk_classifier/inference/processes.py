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
Starting worker processes: their own entry point, one starting thread, a spare after a failure.

A worker process is a fresh interpreter running ``python -m rdk_classifier.inference.worker_main``
(:data:`WORKER_MODULE`): it imports the worker modules and the engine it builds, never the
program that started the node (multiprocessing's 'spawn' re-runs that main module, rclpy and the
node with it, in every worker; forking the node, which runs DDS threads, is unsafe). The node's
``sys.path`` is passed on (PYTHONPATH), so the worker imports the same packages.

An interpreter with numpy takes a few tenths of a second to start (more on a busy machine). So
once a worker has been replaced, :class:`ProcessStarter` keeps one spare process started ahead:
it has imported everything and waits for the engine to build, and the next replacement takes it
at once. Until the first replacement there is no spare (a node that never loses a worker runs
``threads`` processes). A spare that dies is replaced too, and reported through ``on_lost`` (it
counts as a worker restart).

Threading: every process is started by the one thread of a :class:`ProcessStarter`, which lives
as long as the pipeline runs: the kernel sends the parent-death signal (PR_SET_PDEATHSIG, armed
by the worker) when the *thread* that started a process exits, so a process started from a
shorter-lived thread would be killed when that thread ends. :meth:`ProcessStarter.take` may be
called from any thread.
"""

from collections import deque
from multiprocessing import Pipe
from multiprocessing.connection import Connection
import os
import subprocess
import sys
import threading
from typing import Callable, Deque, Dict, Optional, Tuple, Union

from rdk_classifier.inference.api import PipelineStopping

#: The module a worker process runs (``python -m``); its command line names it.
WORKER_MODULE = 'rdk_classifier.inference.worker_main'
#: How often a wait for a started process polls the stop flag (it is also notified).
CHECK_S = 0.05
#: How often the idle starting thread checks that the spare is alive: a dead spare matters only
#: when taken, and take() checks it then; waking 20 times a second cost the node 3 ms of CPU a
#: second.
SPARE_CHECK_S = 0.5

#: A started worker process and the parent's end of its pipe.
Started = Tuple['subprocess.Popen[bytes]', Connection]


def start_process() -> Started:
    """Start a worker process (on the calling thread; see the module docstring)."""
    parent, child = Pipe()
    try:
        path = [entry for entry in sys.path if entry]
        process = subprocess.Popen(
            [sys.executable, '-m', WORKER_MODULE, str(child.fileno()), str(os.getpid())],
            pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
            env=dict(os.environ, PYTHONPATH=os.pathsep.join(path)),
            # The node decides when workers stop: Ctrl-C in a terminal signals its whole
            # process group, so a worker gets a session (and group) of its own.
            start_new_session=True)
    except BaseException:
        parent.close()
        raise
    finally:
        child.close()
    return process, parent


def end_process(started: Started) -> None:
    """Kill a started process and reap it; close its pipe."""
    process, conn = started
    conn.close()
    if process.poll() is None:
        process.kill()
    process.wait()


class ProcessStarter:
    """Starts worker processes on its own thread, with a spare after the first replacement."""

    def __init__(self, on_lost: Callable[[], None]) -> None:
        """Start the starting thread; ``on_lost()`` is called when a spare process dies."""
        self._on_lost = on_lost
        self._changed = threading.Condition()
        self._stopping = False
        self._keep_spare = False
        self._spare: Optional[Started] = None
        self._orders: Deque[object] = deque()
        self._delivered: Dict[object, Union[Started, OSError]] = {}
        self._thread = threading.Thread(target=self._run, name='rdk_classifier_starter',
                                        daemon=True)
        self._thread.start()

    def take(self, replacement: bool) -> Started:
        """
        Return a started process: the spare if one waits, else a new one.

        ``replacement``: the process replaces one that failed (from now on a spare is kept).
        Raises OSError when no process can be started, PipelineStopping once stopping.
        """
        with self._changed:
            self._keep_spare = self._keep_spare or replacement
            if self._spare is not None:
                spare, self._spare = self._spare, None
                self._changed.notify_all()  # start the next spare
                if spare[0].poll() is None:
                    return spare
                # Died since the last check: counted as lost, and a new process is ordered.
                end_process(spare)
                self._on_lost()
            order = object()
            self._orders.append(order)
            self._changed.notify_all()
            while order not in self._delivered:
                if self._stopping:
                    raise PipelineStopping()
                self._changed.wait(CHECK_S)
            delivered = self._delivered.pop(order)
        if isinstance(delivered, OSError):
            raise delivered
        return delivered

    def stop(self) -> None:
        """Stop the thread and end the spare; processes already taken belong to their takers."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._thread.join()
        for started in self._delivered.values():
            if not isinstance(started, OSError):
                end_process(started)
        self._delivered.clear()
        if self._spare is not None:
            end_process(self._spare)
            self._spare = None

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stopping and not self._orders and not (
                        self._keep_spare and self._spare is None):
                    self._changed.wait(SPARE_CHECK_S)
                    self._check_spare()
                if self._stopping:
                    return
            try:
                started: Union[Started, OSError] = start_process()
            except OSError as exc:  # e.g. out of file descriptors or processes
                started = exc
            with self._changed:
                if self._orders:
                    self._delivered[self._orders.popleft()] = started
                elif isinstance(started, OSError):
                    self._keep_spare = False  # tried again at the next replacement
                else:
                    self._spare = started
                self._changed.notify_all()

    def _check_spare(self) -> None:
        """Drop a spare that died (it counts as lost); called holding the lock."""
        if self._spare is not None and self._spare[0].poll() is not None:
            end_process(self._spare)
            self._spare = None
            self._on_lost()
