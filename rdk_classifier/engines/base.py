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
The engine interface: one NV12 frame in, float32 logits out; and what an engine kind declares.

An engine instance is used by one thread at a time (pyeasy_dnn models must not be shared between
threads); the pipeline runs every engine in worker processes of its own. ``releases_gil`` says
whether other Python threads run during ``infer``: part of the interface that the check of the
hobot_dnn engine against the board's real binding (outside this repository) reads and verifies,
as test_engine_hobot.py and test_engines.py do here.

Each engine module also declares an :class:`EngineKind`: its name, the model files it runs, the
node parameters that feed its options and how a zoo model maps to its file. The registry
(``rdk_classifier.engines``) collects them, so adding an engine is adding one module.
"""

import abc
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import numpy as np


def nv12_nbytes(height: int, width: int) -> int:
    """Return the size in bytes of an NV12 frame: height * width * 3 / 2."""
    return height * width * 3 // 2


@dataclass(frozen=True)
class ModelShape:
    """What a loaded engine reports about its model: its NV12 input size and class count."""

    input_height: int
    input_width: int
    num_classes: int

    @property
    def input_nbytes(self) -> int:
        """Size of one NV12 input in bytes."""
        return nv12_nbytes(self.input_height, self.input_width)


class EngineError(RuntimeError):
    """An engine that cannot load or run a model; the message is one actionable line."""


@dataclass(frozen=True)
class EngineSpec:
    """What to build an engine from; picklable, so worker processes build their own engine."""

    #: The name of an EngineKind: 'fake', 'hobot_dnn' or 'onnxruntime'.
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
    def shape(self) -> ModelShape:
        """Return the model's input size and class count."""
        return ModelShape(self.input_height, self.input_width, self.num_classes)

    @property
    def input_nbytes(self) -> int:
        """Size of the NV12 input in bytes."""
        return nv12_nbytes(self.input_height, self.input_width)

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


@dataclass(frozen=True)
class EngineParameter:
    """A node parameter ``<engine>.<name>`` whose value becomes the engine option ``name``."""

    name: str
    #: Its type is the parameter's type.
    default: Any
    description: str
    minimum: Optional[float] = None
    maximum: Optional[float] = None


@dataclass(frozen=True)
class ModelContext:
    """What engine options may depend on besides the engine's own parameters."""

    #: The zoo catalog entry (rdk_classifier.catalog.ModelInfo), or None for a model file.
    info: Any
    #: How many worker processes will each load the model.
    workers: int


def parameter_options(values: Mapping[str, Any], model: ModelContext) -> Dict[str, Any]:
    """Pass the engine's parameter values through as its options (the default)."""
    return dict(values)


def no_weights_warning(model_path: str) -> str:
    """Report nothing to warn about a model file's weights."""
    return ''


def nothing_missing() -> str:
    """Report an engine that needs nothing beyond rdk_classifier's own dependencies."""
    return ''


@dataclass(frozen=True)
class EngineKind:
    """One engine as the node, the catalog and the launch file see it."""

    name: str
    #: One line for the launch argument and parameter descriptions.
    summary: str
    #: Builds and loads an engine (in a worker process).
    create: Callable[[EngineSpec], Engine]
    #: Suffix of the model files it runs ('.bin'); empty for an engine that needs no file.
    model_suffix: str = ''
    parameters: Tuple[EngineParameter, ...] = ()
    #: Turns the parameter values (by option name) into the EngineSpec options.
    options: Callable[[Mapping[str, Any], ModelContext], Dict[str, Any]] = parameter_options
    #: The config/models.yaml key naming a zoo model's file for this engine ('bin_file'); ''
    #: for an engine without model files.
    zoo_file_key: str = ''
    #: A warning said with the model on every report (e.g. random weights), read from the
    #: model file in the node's process without loading it; '' for none.
    weights_warning: Callable[[str], str] = no_weights_warning
    #: '' when the engine can run here, else one line saying what to install.
    missing: Callable[[], str] = nothing_missing
    #: engine:=auto picks the lowest-ranked engine that can run here; None: never automatic.
    auto_rank: Optional[int] = None
