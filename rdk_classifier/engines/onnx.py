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
The onnxruntime engine: the zoo's float .onnx models on a PC.

The zoo's float models take ``data``, 1x3xHxW float32 RGB normalized with the zoo's mean and
std; per-model values come from the catalog (EfficientNet-Lite: mean 127, std 128). The engine
takes the same NV12 frame as the BPU, so the PC runs the node's exact preprocessing. ONNX
Runtime releases the GIL while it runs.
"""

import os
from typing import Any, Mapping

import cv2
import numpy as np

from .base import Engine, EngineError

#: The zoo's ImageNet normalization (RGB order).
ZOO_MEAN = (123.675, 116.28, 103.53)
ZOO_STD = (58.395, 57.12, 57.375)


class OnnxEngine(Engine):
    """A float ONNX classifier run by ONNX Runtime."""

    def __init__(self, model_path: str, options: Mapping[str, Any]) -> None:
        """Load the model; EngineError names the file and what is wrong."""
        try:
            import onnxruntime
        except ImportError as exc:
            raise EngineError('the onnxruntime engine needs the onnxruntime Python package '
                              '(pip install onnxruntime)') from exc
        if not os.path.isfile(model_path):
            raise EngineError('ONNX model %s does not exist' % model_path)
        session_options = onnxruntime.SessionOptions()
        session_options.intra_op_num_threads = int(options.get('intra_op_threads', 0))
        session_options.log_severity_level = 3  # errors only
        try:
            self._session = onnxruntime.InferenceSession(
                model_path, session_options,
                providers=list(options.get('providers', ['CPUExecutionProvider'])))
        except Exception as exc:  # noqa: B902 - ORT raises several unrelated types
            raise EngineError('onnxruntime could not load %s (%s); is it an ONNX model?'
                              % (model_path, str(exc).splitlines()[0][:200])) from exc
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        shape = list(model_input.shape)
        if len(shape) != 4 or 3 not in (shape[1], shape[3]):
            raise EngineError('%s: input %s has shape %s; expected 1x3xHxW or 1xHxWx3'
                              % (model_path, model_input.name, shape))
        self._nchw = shape[1] == 3
        spatial = shape[2:4] if self._nchw else shape[1:3]
        fallback = options.get('input_size', (224, 224))
        self.input_height, self.input_width = (
            int(dim) if isinstance(dim, int) else int(default)
            for dim, default in zip(spatial, fallback))
        output_shape = self._session.get_outputs()[0].shape
        self.num_classes = int(np.prod([d for d in output_shape if isinstance(d, int)]))
        mean = np.asarray(options.get('mean', ZOO_MEAN), dtype=np.float32)
        std = np.asarray(options.get('std', ZOO_STD), dtype=np.float32)
        self._mean = mean.reshape(1, 1, 3)
        self._inv_std = (1.0 / std).reshape(1, 1, 3)
        self._rgb = np.empty((self.input_height, self.input_width, 3), np.uint8)
        self._normalized = np.empty((self.input_height, self.input_width, 3), np.float32)

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """Convert to RGB, normalize, run; return float32 logits."""
        self.check_input(nv12)
        yuv = nv12.reshape(self.input_height * 3 // 2, self.input_width)
        cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_NV12, dst=self._rgb)
        np.subtract(self._rgb, self._mean, out=self._normalized)
        np.multiply(self._normalized, self._inv_std, out=self._normalized)
        tensor = self._normalized.transpose(2, 0, 1) if self._nchw else self._normalized
        batch = np.ascontiguousarray(tensor)[np.newaxis]
        logits = self._session.run(None, {self._input_name: batch})[0]
        return np.asarray(logits, dtype=np.float32).ravel()
