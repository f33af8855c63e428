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

"""The engine interface: NV12 in, logits out; one small class per backend."""

import abc
from dataclasses import dataclass, field
from typing import Any, Dict

import numpy as np


class EngineError(RuntimeError):
    """An engine that cannot load or run a model; the message is one actionable line."""


@dataclass(frozen=True)
class EngineSpec:
    """What to build an engine from; picklable, so worker processes build their own."""

    kind: str
    model_path: str = ''
    options: Dict[str, Any] = field(default_factory=dict)


class Engine(abc.ABC):
    """A loaded model. One instance is used by one thread at a time."""

    #: Whether infer() lets other Python threads run (pyeasy_dnn does not).
    releases_gil = True
    input_height: int
    input_width: int
    num_classes: int

    @property
    def input_nbytes(self) -> int:
        """Size of the NV12 input: height * width * 3 / 2."""
        return self.input_height * self.input_width * 3 // 2

    def check_input(self, nv12: np.ndarray) -> None:
        """Raise EngineError unless ``nv12`` is a frame of this model's input size."""
        if nv12.size != self.input_nbytes or nv12.dtype != np.uint8:
            raise EngineError('NV12 input has %d %s values, the model needs %d uint8 (%dx%d)'
                              % (nv12.size, nv12.dtype, self.input_nbytes, self.input_width,
                                 self.input_height))

    @abc.abstractmethod
    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """Classify one NV12 frame (1-D uint8); return float32 logits (a copy the caller owns)."""

    def close(self) -> None:
        """Release the model."""
