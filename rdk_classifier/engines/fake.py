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

"""The fake engine: deterministic results from the image content, for tests and simulation.

Rule (tests compute expectations from it): the class of a frame is
``floor(mean luma * num_classes / 256)`` and the logits are ``-|i - class|``, so the ranking of
every class is known. Options simulate an accelerator: ``latency_ms`` per forward, ``hold_gil``
to hold the GIL for that time as pyeasy_dnn does (without burning a core), ``device_fps`` to let
only one forward at a time use the simulated device for 1 / device_fps seconds (shared by the
workers of one node, like the single BPU), and fault injection (``fail_every``, ``hang_every``).
"""

import ctypes
import fcntl
import os
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
        if self._device_s:
            # One lock file per node (the workers' parent): one simulated device per node.
            path = os.path.join(tempfile.gettempdir(), 'rdk_classifier_fake_device_%d.lock'
                                % os.getppid())
            self._device = open(path, 'a+b')
        self._classes = np.arange(self.num_classes, dtype=np.float32)

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """Return the rule's logits after the simulated latency; inject faults when asked."""
        self.check_input(nv12)
        self._calls += 1
        if self._fail_every and self._calls % self._fail_every == 0:
            raise EngineError('injected failure (call %d, fail_every=%d)'
                              % (self._calls, self._fail_every))
        if self._hang_every and self._calls % self._hang_every == 0:
            time.sleep(self._hang_s)
        self._wait(self._latency_s - self._device_s)
        if self._device is not None:
            fcntl.flock(self._device, fcntl.LOCK_EX)
            try:
                self._wait(self._device_s)
            finally:
                fcntl.flock(self._device, fcntl.LOCK_UN)
        winner = fake_class(nv12, self.input_width, self.input_height, self.num_classes)
        return -np.abs(self._classes - winner)

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
            self._device.close()
            self._device = None
