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

pyeasy_dnn is D-Robotics' C++ binding over the BPU runtime (``src/python/dnn_python.cpp`` in
github.com/D-Robotics/x5-hobot-spdev). This engine follows that source:

- ``load(path)`` returns a list of models. A missing or bad file raises ``SystemError`` whose
  ``__cause__`` is ``RuntimeError('hbDNNInitializeFromFiles failed')``, and a failed forward
  likewise; the engine raises one EngineError line instead, naming what failed, the file and
  what to do.
- Tensor properties are strings: ``tensor_type`` from the binding's table, by the runtime's type
  enum (``NV12``, ``NV12_SEPARATE``, ``RGB``, ..., then lower-case ``int8``, ``float16``,
  ``float32``...), ``layout`` (``NCHW``, ``NHWC``, ``NONE``) and ``shape``, the valid shape.
  ``scale_data`` is a float32 array over the runtime's own memory, so it is copied.
  ``alignedShape`` and ``validShape`` return raw C pointers; they are not used.
- ``forward(array)`` copies prod(array.shape) bytes from the array's data with no dtype, size or
  contiguity check (a short array is taken silently, a long one overruns), so the engine checks
  the frame itself and passes a C-contiguous uint8 array shaped (H*3/2, W).
- ``outputs[0].buffer`` builds a new array at every access: a copy of the first elements of
  the output memory, shaped by the first four dimensions of the valid shape. int8, int16, int32
  and float32 keep their type; every other type (float16 among them) comes back as int8 bytes,
  so only those four are accepted, on four dimensions with one class axis (1xCx1x1). The buffer
  is read once per forward and becomes the logits, dequantized with ``scale_data`` when it is
  not empty (one scale, or one per class), as the board's samples do.

Threading: forward holds the GIL from start to end and a loaded model must not be shared between
threads, so the pipeline gives each worker process its own engine.
The runtime never unloads a model before its process exits, so only worker processes load models.

Versions: every hobot_dnn (or hobot_dnn_rdkx5) build of x5-hobot-spdev from 3.0.0 (August 2024)
on, except 3.0.1. Its history, which the engine copes with: until January 2025 forward copied
shape[0] x shape[1] bytes (the (H*3/2, W) array is the whole frame either way) and returned None
when it failed; until September 2024 load raised the RuntimeError itself; int16 outputs came back
as int8 (until September 2024) or misread as int32 (until December 2024), which infer reports.
3.0.1 (early September 2024) freed the runtime's scales with each properties object.
"""

import importlib.util
import os
import sys
from typing import Any, Mapping

import numpy as np

from .base import Engine, EngineError, EngineKind

#: Packages holding pyeasy_dnn, tried in order (the name differs between RDK OS images).
PACKAGES = ('hobot_dnn', 'hobot_dnn_rdkx5')
#: The input types fed with an NV12 frame (NV12_SEPARATE: the binding splits Y and UV).
NV12_INPUT_TYPES = ('NV12', 'NV12_SEPARATE')
#: Output tensor_type -> the dtype of the binding's buffer (buffer_2_pyarray); others are int8.
OUTPUT_DTYPES = {'int8': np.int8, 'int16': np.int16, 'int32': np.int32, 'float32': np.float32}


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


def _reason(exc: BaseException) -> str:
    """Return the binding's own reason: the error a SystemError chains, else ``exc`` itself."""
    reason = exc.__cause__ or exc
    return str(reason) or type(reason).__name__


class HobotDnnEngine(Engine):
    """A .bin model with NV12 input on the BPU; the file sets everything, so options are unused."""

    #: pyeasy_dnn's forward holds the GIL from start to end (see the module docstring).
    releases_gil = False

    def __init__(self, model_path: str, options: Mapping[str, Any]) -> None:
        """Load the model; EngineError names the file and what is wrong with it."""
        dnn = import_pyeasy_dnn()
        self._path = model_path
        if not os.path.isfile(model_path):
            raise EngineError('hobot_dnn could not load %s: the file does not exist; download it '
                              '(ros2 run rdk_classifier download <model>) or fix model_dirs'
                              % model_path)
        try:
            self._model = dnn.load(model_path)[0]
        except Exception as exc:  # noqa: B902 - SystemError; RuntimeError before 3.0.4
            raise EngineError('hobot_dnn could not load %s (%s): the BPU runtime rejects the '
                              'file; download it again, and use a model compiled for the RDK X5 '
                              "(the zoo's *_nv12.bin)" % (model_path, _reason(exc))) from exc
        # Each access to inputs or outputs builds new tensor objects: read them once.
        inputs = self._model.inputs
        if len(inputs) != 1:
            raise EngineError('%s has %d inputs; rdk_classifier feeds models with one NV12 input'
                              % (model_path, len(inputs)))
        self.input_height, self.input_width = self._input_size(inputs[0].properties)
        self._frame_shape = (self.input_height * 3 // 2, self.input_width)
        output = self._model.outputs[0].properties
        self._dtype = self._output_dtype(output.tensor_type)
        self.num_classes = self._classes(tuple(output.shape))
        # A copy: the binding's array views the runtime's memory and owns none of it.
        scale = np.array(output.scale_data, dtype=np.float32)
        if scale.size not in (0, 1, self.num_classes):
            raise EngineError('%s: the output has %d scales; dequantizing needs 1 or one per '
                              'class (%d)' % (model_path, scale.size, self.num_classes))
        self._scale = scale if scale.size else None

    def _input_size(self, properties: Any):
        """Return (height, width) of the NV12 input; EngineError for any other input."""
        tensor_type = properties.tensor_type
        if tensor_type not in NV12_INPUT_TYPES:
            raise EngineError('%s takes %s input; rdk_classifier feeds NV12 frames: use the '
                              "model's NV12 build (the zoo's *_nv12.bin)"
                              % (self._path, tensor_type))
        layout = properties.layout
        shape = tuple(properties.shape)
        if len(shape) == 4 and shape[0] == 1 and layout in ('NCHW', 'NHWC'):
            height, width = shape[2:4] if layout == 'NCHW' else shape[1:3]
            if height % 2 == 0 and width % 2 == 0:
                return height, width
        raise EngineError('%s: %s input of shape %s, layout %s; expected 1x3xHxW (NCHW) or '
                          '1xHxWx3 (NHWC) with even H and W'
                          % (self._path, tensor_type, shape, layout))

    def _output_dtype(self, tensor_type: str) -> np.dtype:
        """Return the dtype the binding gives this output; EngineError for types it garbles."""
        if tensor_type not in OUTPUT_DTYPES:
            raise EngineError('%s: output type %s is not supported: pyeasy_dnn returns %s outputs '
                              'and any other type as int8 bytes; compile the model with a float32 '
                              'output' % (self._path, tensor_type, '/'.join(OUTPUT_DTYPES)))
        return np.dtype(OUTPUT_DTYPES[tensor_type])

    def _classes(self, shape) -> int:
        """Return the class count of a 1xCx1x1 output; EngineError for any other shape."""
        count = int(np.prod(shape))
        # The binding's buffer has the first four dimensions; the classes must lie on one axis.
        if len(shape) != 4 or count != max(shape):
            raise EngineError('%s: output shape %s holds %d values, not one per class; '
                              'rdk_classifier needs a classifier output of 1xCx1x1'
                              % (self._path, shape, count))
        return count

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """Run the BPU; return float32 logits (dequantized with scale_data when it has any)."""
        # forward checks nothing: it would take a short frame and overrun on a long one.
        self.check_input(nv12)
        frame = np.ascontiguousarray(nv12).reshape(self._frame_shape)
        try:
            outputs = self._model.forward(frame)
        except Exception as exc:  # noqa: B902 - SystemError chaining the binding's error
            raise EngineError(self._forward_failed(_reason(exc))) from exc
        if outputs is None:  # builds before 2025 fail this way
            raise EngineError(self._forward_failed('it returned None'))
        buffer = outputs[0].buffer  # a new copy at every access: read once
        if buffer.dtype != self._dtype:
            raise EngineError('%s: pyeasy_dnn returned %s values for a %s output; this hobot_dnn '
                              'build misreads them: update the board (sudo apt update && sudo apt '
                              'upgrade)' % (self._path, buffer.dtype, self._dtype))
        # The buffer is this call's own array, so the logits may be it (float32) or scaled in it.
        logits = buffer.reshape(-1).astype(np.float32, copy=False)
        if self._scale is not None:
            logits *= self._scale
        return logits

    def _forward_failed(self, reason: str) -> str:
        return ('pyeasy_dnn forward failed for %s (%s); the BPU runtime logged why on stderr: '
                'check that the model was compiled for this board, then restart the node'
                % (self._path, reason))

    def close(self) -> None:
        """Drop the model object (the runtime keeps the model itself until the process ends)."""
        self._model = None


def _missing() -> str:
    """Say what to install unless a pyeasy_dnn is found; it is not imported (see below)."""
    # find_spec, not an import: the node's process (engine:=auto) must not load the BPU
    # runtime, which only worker processes use. It imports the package, not pyeasy_dnn.
    for package in PACKAGES:
        name = '%s.pyeasy_dnn' % package
        try:
            if sys.modules.get(name) is not None or importlib.util.find_spec(name) is not None:
                return ''
        except ImportError:  # the package itself is missing
            continue
    return ("hobot_dnn engine needs the board's hobot_dnn Python package (pyeasy_dnn); it is "
            'not installed here (%s). Run on the RDK OS image, or use engine:=onnxruntime on a '
            'PC' % ', '.join('%s.pyeasy_dnn' % package for package in PACKAGES))


KIND = EngineKind(
    name='hobot_dnn',
    summary="the RDK X5 BPU through the board's pyeasy_dnn (.bin models with NV12 input)",
    create=lambda spec: HobotDnnEngine(spec.model_path, spec.options),
    model_suffix='.bin',
    options=lambda values, model: {},  # the .bin file sets everything
    zoo_file_key='bin_file',
    missing=_missing,
    auto_rank=0)
