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

Rule (tests compute expectations from it): the class of a frame is
``floor(mean luma * num_classes / 256)`` and the logits are ``-|i - class|``, so the ranking of
every class is known. Options simulate an accelerator: ``latency_ms`` per forward, ``hold_gil``
to hold the GIL for that time as pyeasy_dnn does (without burning a core), ``device_fps`` to
share one simulated device among the workers of a node, like the single BPU (each forward ends
with 1 / device_fps seconds on the device, reserved on a timeline that all workers share, so the
device serves exactly device_fps forwards a second however the sleeps overshoot), and fault
injection (``fail_every``, ``hang_every``).
"""

import ctypes
import fcntl
import os
import struct
import sys
import tempfile
import time
from typing import Any, Mapping

import numpy as np

from .base import Engine, EngineError

_OPTIONS = {'input_size': [224, 224], 'num_classes': 1000, 'latency_ms': 0.0, 'hold_gil': False,
            'device_fps': 0.0, 'fail_every': 0, 'hang_every': 0, 'hang_s': 3600.0}


def fake_class(nv12: np.ndarray, input_width: int, input_height: int, num_classes: int) -> int:
    """Return the class the fake engine gives an NV12 frame (see the module docstring)."""
    luma = np.asarray(nv12)[:input_width * input_height]
    return min(int(luma.mean() * num_classes // 256), num_classes - 1)


def _usleep_holding_gil(microseconds: int) -> None:
    # A PyDLL call keeps the GIL, exactly like a pyeasy_dnn forward; usleep burns no CPU.
    _LIBC.usleep(microseconds)


_LIBC = ctypes.PyDLL(None)
_PR_SET_TIMERSLACK = 29


class FakeEngine(Engine):
    """See the module docstring."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        """Validate the options; EngineError names a bad one."""
        unknown = set(options) - set(_OPTIONS)
        if unknown:
            raise EngineError('unknown fake engine options: %s' % ', '.join(sorted(unknown)))
        settings = dict(_OPTIONS, **options)
        for name in ('num_classes', 'latency_ms', 'device_fps', 'fail_every', 'hang_every',
                     'hang_s'):
            if settings[name] < 0:
                raise EngineError('fake engine option %s must be >= 0, got %r'
                                  % (name, settings[name]))
        self.input_height, self.input_width = (int(v) for v in settings['input_size'])
        self.num_classes = int(settings['num_classes'])
        if self.num_classes < 1 or self.input_height < 2 or self.input_width < 2:
            raise EngineError('fake engine needs num_classes >= 1 and an input of 2x2 or more')
        self._latency_s = settings['latency_ms'] / 1e3
        self._hold_gil = bool(settings['hold_gil'])
        self.releases_gil = not self._hold_gil
        self._device_s = 1.0 / settings['device_fps'] if settings['device_fps'] else 0.0
        self._fail_every = int(settings['fail_every'])
        self._hang_every = int(settings['hang_every'])
        self._hang_s = float(settings['hang_s'])
        self._calls = 0
        self._device = None
        if self._latency_s and sys.platform.startswith('linux'):
            # Sleep as exactly as the kernel allows (the default slack adds ~50 us a sleep).
            _LIBC.prctl(_PR_SET_TIMERSLACK, 1)
        if self._device_s:
            # One lock file per node (the workers' parent): one simulated device per node.
            path = os.path.join(tempfile.gettempdir(), 'rdk_classifier_fake_device_%d.lock'
                                % os.getppid())
            self._device = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._classes = np.arange(self.num_classes, dtype=np.float32)

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
        winner = fake_class(nv12, self.input_width, self.input_height, self.num_classes)
        logits = -np.abs(self._classes - winner)
        # The forward lasts latency_ms from its start, or until its turn on the shared device ends.
        ends = started + self._latency_s
        if self._device is not None:
            ends = self._reserve_device(ends)
        self._wait(ends - time.monotonic())
        return logits

    def _reserve_device(self, ends: float) -> float:
        """Book the device for the last 1 / device_fps s of the forward; return when it ends."""
        fd = self._device
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            stored = os.pread(fd, 8, 0)
            free_at = struct.unpack('d', stored)[0] if len(stored) == 8 else 0.0
            ends = max(ends, free_at + self._device_s)
            os.pwrite(fd, struct.pack('d', ends), 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        return ends

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._hold_gil:
            _usleep_holding_gil(int(seconds * 1e6))
        else:
            time.sleep(seconds)

    def close(self) -> None:
        """Release the device lock file."""
        if self._device is not None:
            os.close(self._device)
            self._device = None
