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
The fake engine: deterministic results from the image content, for tests and simulation.

Rule (tests compute expectations with :func:`fake_class`): the class of a frame is
``floor(mean of the Y plane * num_classes / 256)`` (at most num_classes - 1) and the logits are
``-|i - class|``, so the ranking of every class is known.

Options simulate an accelerator:

- ``input_size`` [height, width] (default [224, 224]) and ``num_classes`` (1000);
- ``latency_ms`` per forward; with ``hold_gil`` the forward holds the GIL for that time as a
  pyeasy_dnn forward does, without burning a core (a PyDLL call to usleep keeps the GIL);
- ``device_fps`` shares one simulated device among the worker processes of a node, like the
  single BPU: the last 1 / device_fps s of each forward are booked on a timeline all workers
  share (a lock file named after the parent process); a forward lasts latency_ms, or longer
  when it has to wait for its turn, so the device serves at most device_fps forwards a second
  however the sleeps overshoot;
- faults: ``fail_every`` N raises EngineError on every Nth call (counting from 1), and
  ``hang_every`` N sleeps ``hang_s`` s (releasing the GIL) on every Nth call, like a stuck
  accelerator;
- ``load_ms``: every model load takes this long (the BPU loads a model in about a second);
- ``fault_file``: one-shot faults at moments a test chooses, shared by all the worker processes
  of a node. Each line is a fault, optionally with seconds: ``raise``, ``hang [s]`` (default
  hang_s) and ``exit`` (the process ends, as in a crash) hit the next forward of any worker;
  ``slow_load [s]`` (default 3 s) and ``fail_load`` hit the next model load. The engine that takes
  a fault rewrites its line as ``#taken pid=<pid> <fault>``, and an engine closed cleanly adds
  ``#closed pid=<pid>``; :func:`add_fault`, :func:`taken_faults` and :func:`closed_engines`
  read and write the file under the same lock as the engines.
"""

import ctypes
import fcntl
import math
import numbers
import os
import struct
import sys
import tempfile
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .base import Engine, EngineError, EngineKind, EngineParameter, ModelContext

DEFAULT_OPTIONS = {'input_size': [224, 224], 'num_classes': 1000, 'latency_ms': 0.0,
                   'hold_gil': False, 'device_fps': 0.0, 'fail_every': 0, 'hang_every': 0,
                   'hang_s': 3600.0, 'load_ms': 0.0, 'fault_file': ''}
#: One line per option; every option but input_size (from the catalog) is a node parameter
#: ``fake.<option>``.
OPTION_HELP = {
    'input_size': '[height, width] of the NV12 input',
    'num_classes': 'number of classes',
    'latency_ms': 'time per forward',
    'hold_gil': 'hold the GIL during the forward as pyeasy_dnn does',
    'device_fps': 'one forward at a time may use the simulated device, for 1 / device_fps s '
                  '(a shared BPU); 0: no limit',
    'fail_every': 'raise on every Nth forward (0: never)',
    'hang_every': 'hang on every Nth forward (0: never)',
    'hang_s': 'how long a hung forward sleeps',
    'load_ms': 'time to load the model, in every worker process',
    'fault_file': 'file of one-shot faults, one a line (raise, hang [s], exit, slow_load [s], '
                  'fail_load), each taken by the next forward or load of any worker',
}
_WHOLE_NUMBERS = ('num_classes', 'fail_every', 'hang_every')
_NUMBERS = ('latency_ms', 'device_fps', 'hang_s', 'load_ms')
FORWARD_FAULTS = ('raise', 'hang', 'exit')
LOAD_FAULTS = ('slow_load', 'fail_load')
#: How long a ``slow_load`` fault without seconds makes the load take.
SLOW_LOAD_S = 3.0
_TAKEN = '#taken pid='
_CLOSED = '#closed pid='

_LIBC = ctypes.PyDLL(None)
_PR_SET_TIMERSLACK = 29
#: usleep may reject a second or more (POSIX), so long holds are slept in slices.
_MAX_USLEEP_S = 0.5


def fake_class(nv12: np.ndarray, input_width: int, input_height: int, num_classes: int) -> int:
    """Return the class the fake engine gives an NV12 frame: the mean luma's bucket."""
    luma = np.asarray(nv12).reshape(-1)[:input_width * input_height]
    return min(int(luma.mean() * num_classes // 256), num_classes - 1)


def add_fault(path: str, fault: str, first: bool = False) -> None:
    """Add a fault line to a fault file; with ``first``, before the faults already waiting."""
    with _Locked(path) as fd:
        lines = _read(fd).splitlines()
        _write(fd, '\n'.join([fault] + lines if first else lines + [fault]) + '\n')


def taken_faults(path: str) -> List[Tuple[int, str]]:
    """Return (pid, fault) of every fault an engine has taken from a fault file, in order."""
    taken = []
    for line in _lines(path):
        if line.startswith(_TAKEN):
            pid, fault = line[len(_TAKEN):].split(' ', 1)
            taken.append((int(pid), fault))
    return taken


def closed_engines(path: str) -> List[int]:
    """Return the process ids of the engines that closed cleanly, per their fault file."""
    return [int(line[len(_CLOSED):]) for line in _lines(path) if line.startswith(_CLOSED)]


def _lines(path: str) -> List[str]:
    with _Locked(path) as fd:
        return _read(fd).splitlines()


def _take_fault(path: str, kinds: Sequence[str]) -> Optional[Tuple[str, Optional[float]]]:
    """Take the first pending fault of one of ``kinds``: (kind, seconds or None), or None."""
    with _Locked(path) as fd:
        lines = _read(fd).splitlines()
        for index, line in enumerate(lines):
            words = line.split()
            if not words or words[0].startswith('#'):
                continue
            if words[0] not in FORWARD_FAULTS + LOAD_FAULTS or len(words) > 2:
                raise EngineError('fault file %s: cannot read line %r' % (path, line))
            if words[0] not in kinds:
                continue
            try:
                seconds = float(words[1]) if len(words) == 2 else None
            except ValueError:
                raise EngineError('fault file %s: %r is not seconds' % (path, words[1]))
            lines[index] = '%s%d %s' % (_TAKEN, os.getpid(), ' '.join(words))
            _write(fd, '\n'.join(lines) + '\n')
            return words[0], seconds
    return None


class _Locked:
    """An exclusive flock on a file (created if missing) for one read-modify-write."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd = -1

    def __enter__(self) -> int:
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self._fd

    def __exit__(self, *exc_info) -> None:
        os.close(self._fd)  # releases the lock


def _read(fd: int) -> str:
    return os.pread(fd, os.fstat(fd).st_size, 0).decode('utf-8')


def _write(fd: int, text: str) -> None:
    data = text.encode('utf-8')
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))


def _check_number(name: str, value: Any, whole: bool) -> None:
    """Raise EngineError unless ``value`` is a finite number >= 0 (whole when ``whole``)."""
    valid = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if valid:
        # As a float: typeshed's numbers.Real has no comparisons (PEP 484 leaves numbers out).
        number = float(value)
        valid = math.isfinite(number) and number >= 0 and (not whole or number.is_integer())
    if not valid:
        raise EngineError('fake engine option %s must be a %s >= 0, got %r'
                          % (name, 'whole number' if whole else 'finite number', value))


def _is_nv12_dimension(value: Any) -> bool:
    """Tell whether ``value`` can be an NV12 height or width: an even whole number >= 2."""
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        return False
    return int(value) >= 2 and int(value) % 2 == 0


class FakeEngine(Engine):
    """See the module docstring."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        """Validate the options; EngineError names a bad one and its value."""
        unknown = sorted(set(options) - set(DEFAULT_OPTIONS))
        if unknown:
            raise EngineError('unknown fake engine options: %s; known: %s'
                              % (', '.join(unknown), ', '.join(sorted(DEFAULT_OPTIONS))))
        settings = dict(DEFAULT_OPTIONS, **options)
        for name in _WHOLE_NUMBERS + _NUMBERS:
            _check_number(name, settings[name], name in _WHOLE_NUMBERS)
        size = settings['input_size']
        if not (isinstance(size, (list, tuple)) and len(size) == 2
                and all(_is_nv12_dimension(v) for v in size)):
            raise EngineError('fake engine option input_size must be [height, width] with even '
                              'whole numbers >= 2 (NV12), got %r' % (size,))
        if settings['num_classes'] < 1:
            raise EngineError('fake engine option num_classes must be >= 1, got %r'
                              % settings['num_classes'])
        if not isinstance(settings['hold_gil'], (bool, np.bool_)):
            raise EngineError('fake engine option hold_gil must be true or false, got %r'
                              % settings['hold_gil'])
        if not isinstance(settings['fault_file'], str):
            raise EngineError('fake engine option fault_file must be a path, got %r'
                              % settings['fault_file'])
        self._fault_file = settings['fault_file']
        self._load(settings['load_ms'] / 1e3)
        self.input_height, self.input_width = (int(v) for v in size)
        self.num_classes = int(settings['num_classes'])
        self._latency_s = settings['latency_ms'] / 1e3
        self._hold_gil = bool(settings['hold_gil'])
        self.releases_gil = not self._hold_gil
        self._device_s = 1.0 / settings['device_fps'] if settings['device_fps'] else 0.0
        self._fail_every = int(settings['fail_every'])
        self._hang_every = int(settings['hang_every'])
        self._hang_s = float(settings['hang_s'])
        self._calls = 0
        self._device: Optional[int] = None
        if (self._latency_s or self._device_s) and sys.platform.startswith('linux'):
            # Sleep as exactly as the kernel allows (the default slack adds ~50 us a sleep).
            # The slack is per thread: the pipeline builds and runs an engine on one thread.
            _LIBC.prctl(_PR_SET_TIMERSLACK, 1)
        if self._device_s:
            # One lock file per node (the workers' parent): one simulated device per node.
            path = os.path.join(tempfile.gettempdir(), 'rdk_classifier_fake_device_%d.lock'
                                % os.getppid())
            self._device = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._classes = np.arange(self.num_classes, dtype=np.float32)

    def _load(self, load_s: float) -> None:
        """Take the load time, or a load fault from the fault file if one is pending."""
        fault = _take_fault(self._fault_file, LOAD_FAULTS) if self._fault_file else None
        if fault is not None:
            kind, seconds = fault
            if kind == 'fail_load':
                raise EngineError('injected load failure (fault file %s)' % self._fault_file)
            load_s = SLOW_LOAD_S if seconds is None else seconds
        time.sleep(load_s)

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """Return the rule's logits after the simulated latency; inject faults when asked."""
        started = time.monotonic()
        self.check_input(nv12)
        self._calls += 1
        if self._fail_every and self._calls % self._fail_every == 0:
            raise EngineError('injected failure (call %d, fail_every=%d)'
                              % (self._calls, self._fail_every))
        if self._hang_every and self._calls % self._hang_every == 0:
            time.sleep(self._hang_s)
        fault = _take_fault(self._fault_file, FORWARD_FAULTS) if self._fault_file else None
        if fault is not None:
            kind, seconds = fault
            if kind == 'raise':
                raise EngineError('injected failure (fault file %s)' % self._fault_file)
            if kind == 'exit':
                os._exit(70)  # a crash: no clean-up, no reply
            time.sleep(self._hang_s if seconds is None else seconds)
        winner = fake_class(nv12, self.input_width, self.input_height, self.num_classes)
        logits = -np.abs(self._classes - winner)
        # The forward lasts latency_ms from its start, or until its turn on the shared device ends.
        ends = started + self._latency_s
        if self._device is not None:
            ends = self._reserve_device(self._device, ends)
        self._wait_until(ends)
        return logits

    def _reserve_device(self, fd: int, ends: float) -> float:
        """Book the device for the last 1 / device_fps s of the forward; return when it ends."""
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            stored = os.pread(fd, 8, 0)
            free_at = struct.unpack('d', stored)[0] if len(stored) == 8 else 0.0
            ends = max(ends, free_at + self._device_s)
            os.pwrite(fd, struct.pack('d', ends), 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        return ends

    def _wait_until(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if not self._hold_gil:
            if remaining > 0:
                time.sleep(remaining)
            return
        # Loop: a signal can end usleep early, and long holds go in slices.
        while remaining > 0:
            _LIBC.usleep(int(min(remaining, _MAX_USLEEP_S) * 1e6))
            remaining = deadline - time.monotonic()

    def close(self) -> None:
        """Release the device lock file; note the clean close in the fault file."""
        if self._device is not None:
            os.close(self._device)
            self._device = None
        if self._fault_file:
            add_fault(self._fault_file, '%s%d' % (_CLOSED, os.getpid()))


def _options(values: Mapping[str, Any], model: ModelContext) -> Dict[str, Any]:
    """Use the parameter values; a zoo model also sets the input size."""
    options = dict(values)
    if model.info is not None:
        options['input_size'] = [model.info.input_height, model.info.input_width]
    return options


KIND = EngineKind(
    name='fake',
    summary='deterministic classes from the image content, for tests and simulation',
    create=lambda spec: FakeEngine(spec.options),
    parameters=tuple(
        EngineParameter(name, default, 'fake engine: ' + OPTION_HELP[name], minimum=0)
        for name, default in DEFAULT_OPTIONS.items() if name != 'input_size'),
    options=_options)
