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
The hobot_dnn engine: .bin models on the RDK X5 BPU through pyeasy_dnn.

pyeasy_dnn holds the GIL for the whole forward and a loaded model must not be shared between
threads, so each worker process loads its own (see rdk_classifier.pipeline). Output buffers
are overwritten by the next forward, so logits are copied out at once.
"""

import importlib
from typing import Any, Mapping

import numpy as np

from .base import Engine, EngineError

#: Where the board's Python bindings live (the name differs between RDK images).
MODULES = ('hobot_dnn.pyeasy_dnn', 'hobot_dnn_rdkx5.pyeasy_dnn')
_QUANTIZED = ('S32', 'S16', 'S8', 'U8', 'U16', 'U32')


def import_pyeasy_dnn():
    """Return the pyeasy_dnn module; EngineError saying what to install when it is missing."""
    errors = []
    for name in MODULES:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            errors.append('%s (%s)' % (name, exc))
    raise EngineError("the hobot_dnn engine needs the board's pyeasy_dnn (hobot_dnn or "
                      'hobot_dnn_rdkx5 Python package, part of the RDK OS image); not importable '
                      'here: %s. On a PC use engine:=onnxruntime' % '; '.join(errors))


def _property(tensor, name: str):
    return getattr(tensor.properties, name)


class HobotDnnEngine(Engine):
    """A .bin model on the BPU."""

    releases_gil = False

    def __init__(self, model_path: str, options: Mapping[str, Any]) -> None:
        """Load the model; EngineError names the file and what is wrong."""
        dnn = import_pyeasy_dnn()
        try:
            models = dnn.load(model_path)
        except Exception as exc:  # noqa: B902 - pyeasy_dnn raises plain RuntimeErrors
            raise EngineError('pyeasy_dnn could not load %s: %s' % (model_path, exc)) from exc
        if not models:
            raise EngineError('pyeasy_dnn loaded no model from %s' % model_path)
        self._model = models[0]
        tensor_type = str(_property(self._model.inputs[0], 'tensor_type')).upper()
        if 'NV12' not in tensor_type:
            raise EngineError("%s takes %s input; rdk_classifier feeds NV12 models (the zoo's "
                              '*_nv12.bin files)' % (model_path, tensor_type))
        layout = str(_property(self._model.inputs[0], 'layout')).upper()
        shape = tuple(_property(self._model.inputs[0], 'shape'))
        self.input_height, self.input_width = shape[2:4] if layout == 'NCHW' else shape[1:3]
        output = self._model.outputs[0]
        self.num_classes = int(np.prod(_property(output, 'shape')))
        self._output_type = str(_property(output, 'tensor_type')).upper()
        scale = np.asarray(_property(output, 'scale_data'), dtype=np.float32).ravel()
        if any(q in self._output_type for q in _QUANTIZED) and scale.size not in (
                1, self.num_classes):
            raise EngineError('%s: quantized %s output needs 1 or %d scales, has %d'
                              % (model_path, self._output_type, self.num_classes, scale.size))
        self._scale = scale if any(q in self._output_type for q in _QUANTIZED) else None

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """Run the BPU; return float32 logits (dequantized with scale_data when needed)."""
        self.check_input(nv12)
        outputs = self._model.forward(np.ascontiguousarray(nv12))
        # Copy now: the next forward overwrites the buffer.
        logits = np.array(outputs[0].buffer, dtype=np.float32).ravel()
        if self._scale is not None:
            logits *= self._scale
        return logits
