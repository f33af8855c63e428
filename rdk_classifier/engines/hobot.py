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
The hobot_dnn engine: the zoo's NV12 .bin models on the RDK X5 BPU through pyeasy_dnn.

Threading: a pyeasy_dnn forward holds the GIL from start to end and a loaded model must not be
shared between threads, so ``releases_gil`` is False and the pipeline gives each worker process
its own engine. The output tensors' buffers are overwritten by the next forward, so the logits
are copied out at once. Quantized outputs (S32/S16/S8) are dequantized with the tensor's
scale_data, per class or by one scale.
"""

from typing import Any, Mapping

import numpy as np

from .base import Engine, EngineError, EngineKind

#: Packages holding pyeasy_dnn, tried in order (the name differs between RDK OS images).
PACKAGES = ('hobot_dnn', 'hobot_dnn_rdkx5')
_FLOAT_TYPES = ('F32',)
_QUANTIZED_TYPES = ('S32', 'S16', 'S8')


def import_pyeasy_dnn():
    """Return the pyeasy_dnn module; EngineError saying what to do when it is not importable."""
    reasons = []
    for package in PACKAGES:
        try:
            # The documented form, ``from hobot_dnn import pyeasy_dnn``.
            return getattr(__import__(package, fromlist=['pyeasy_dnn']), 'pyeasy_dnn')
        except (ImportError, AttributeError) as exc:
            reasons.append('%s.pyeasy_dnn (%s)' % (package, ' '.join(str(exc).split())))
    raise EngineError("hobot_dnn engine needs the board's hobot_dnn Python package (pyeasy_dnn); "
                      'it is not importable here: %s. Run on the RDK OS image, or use '
                      'engine:=onnxruntime on a PC' % '; '.join(reasons))


def _properties(tensor: Any, model_path: str, role: str) -> Any:
    try:
        return tensor.properties
    except AttributeError as exc:
        raise EngineError('%s: pyeasy_dnn gave an %s tensor without properties'
                          % (model_path, role)) from exc


class HobotDnnEngine(Engine):
    """A .bin model with NV12 input on the BPU; the file sets everything, so options are unused."""

    releases_gil = False

    def __init__(self, model_path: str, options: Mapping[str, Any]) -> None:
        """Load the model; EngineError names the file and what is wrong with it."""
        dnn = import_pyeasy_dnn()
        try:
            models = dnn.load(model_path)
        except Exception as exc:  # noqa: B902 - pyeasy_dnn raises plain RuntimeErrors
            raise EngineError('pyeasy_dnn could not load %s: %s' % (model_path, exc)) from exc
        if not models:
            raise EngineError('pyeasy_dnn loaded no model from %s; is it a .bin model for this '
                              'board?' % model_path)
        self._model = models[0]
        self.input_height, self.input_width = self._input_size(model_path)
        output = _properties(self._model.outputs[0], model_path, 'output')
        self.num_classes = int(np.prod(output.shape))
        output_type = str(output.tensor_type).upper()
        scale = np.asarray(output.scale_data, dtype=np.float32).reshape(-1)
        if output_type in _FLOAT_TYPES:
            self._scale = None
        elif output_type in _QUANTIZED_TYPES:
            if scale.size not in (1, self.num_classes):
                raise EngineError('%s: quantized %s output needs 1 or %d scales, has %d'
                                  % (model_path, output_type, self.num_classes, scale.size))
            self._scale = scale
        else:
            raise EngineError('%s: output type %s is not supported (use %s)'
                              % (model_path, output_type,
                                 ', '.join(_FLOAT_TYPES + _QUANTIZED_TYPES)))

    def _input_size(self, model_path: str):
        """Return (height, width) of the NV12 input; EngineError for any other input."""
        properties = _properties(self._model.inputs[0], model_path, 'input')
        tensor_type = str(properties.tensor_type).upper()
        if not tensor_type.startswith('NV12'):
            raise EngineError("%s takes %s input; rdk_classifier feeds NV12 models (the zoo's "
                              '*_nv12.bin files)' % (model_path, tensor_type))
        layout = str(properties.layout).upper()
        shape = tuple(int(d) for d in properties.shape)
        if len(shape) != 4 or layout not in ('NCHW', 'NHWC'):
            raise EngineError('%s: input shape %s with layout %s; expected 4 dimensions, NCHW or '
                              'NHWC' % (model_path, shape, layout))
        return shape[2:4] if layout == 'NCHW' else shape[1:3]

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """Run the BPU; return float32 logits (dequantized with scale_data when quantized)."""
        self.check_input(nv12)
        outputs = self._model.forward(np.ascontiguousarray(nv12))
        # np.array copies: the next forward overwrites the buffer.
        logits = np.array(outputs[0].buffer, dtype=np.float32).reshape(-1)
        if self._scale is not None:
            logits *= self._scale
        return logits

    def close(self) -> None:
        """Drop the model so pyeasy_dnn can release it."""
        self._model = None


def _missing() -> str:
    try:
        import_pyeasy_dnn()
    except EngineError as exc:
        return str(exc)
    return ''


KIND = EngineKind(
    name='hobot_dnn',
    summary="the RDK X5 BPU through the board's pyeasy_dnn (.bin models with NV12 input)",
    create=lambda spec: HobotDnnEngine(spec.model_path, spec.options),
    model_suffix='.bin',
    options=lambda values, model: {},  # the .bin file sets everything
    catalog_file=lambda info: info.bin_file,
    missing=_missing,
    auto_rank=0)
