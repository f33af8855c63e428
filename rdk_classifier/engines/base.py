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
The engine interface: one NV12 frame in, float32 logits out.

An engine instance is used by one thread at a time (pyeasy_dnn models must not be shared between
threads). ``releases_gil`` tells the pipeline whether other Python threads can run during
``infer``; it runs GIL-holding engines in worker processes.
"""

import abc
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np


class EngineError(RuntimeError):
    """An engine that cannot load or run a model; the message is one actionable line."""


@dataclass(frozen=True)
class EngineSpec:
    """What to build an engine from; picklable, so worker processes build their own engine."""

    #: One of ENGINE_KINDS: 'fake', 'hobot_dnn' or 'onnxruntime'.
    kind: str
    #: The model file; empty for the fake engine.
    model_path: str = ''
    #: Engine-specific options (a plain dict, so the spec pickles).
    options: Mapping[str, Any] = field(default_factory=dict)


class Engine(abc.ABC):
    """A loaded model: ``infer`` turns an NV12 frame of the model's input size into logits."""

    #: Whether infer() lets other Python threads run (pyeasy_dnn holds the GIL throughout).
    releases_gil = True
    input_height: int
    input_width: int
    num_classes: int

    @property
    def input_nbytes(self) -> int:
        """Size of the NV12 input in bytes: height * width * 3 / 2."""
        return self.input_height * self.input_width * 3 // 2

    def check_input(self, nv12: np.ndarray) -> None:
        """Raise EngineError unless ``nv12`` is a uint8 frame of this model's input size."""
        if nv12.size != self.input_nbytes or nv12.dtype != np.uint8:
            raise EngineError(
                'NV12 input has %d %s values; the model needs %d uint8 (%dx%d * 3/2)'
                % (nv12.size, nv12.dtype, self.input_nbytes, self.input_width, self.input_height))

    @abc.abstractmethod
    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """Classify one NV12 frame (1-D uint8, H*W*3/2); return float32 logits the caller owns."""

    def close(self) -> None:
        """Release the model; the engine is not used afterwards."""
