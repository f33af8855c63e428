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
A test double of hobot_dnn.pyeasy_dnn that follows its documented API.

``load(path)`` returns a list holding one model; ``model.inputs[0].properties`` and
``model.outputs[0].properties`` carry tensor_type, layout, shape and scale_data;
``model.forward(nv12)`` takes one C-contiguous uint8 NV12 array of the input size and returns the
output tensors, whose ``buffer`` the next forward overwrites, like the real library.

The model file is a small YAML mapping, so tests can build every variant: ``input_type`` (NV12),
``layout`` (NCHW or NHWC), ``input_size`` [height, width] (224x224), ``num_classes`` (1000),
``output_type`` (F32, S32 or S16), ``scale_data`` (a list, empty by default), ``output_shape``
(default [1, num_classes, 1, 1]) and ``empty`` (true: load returns no model).

Raw outputs (before dequantization): class c = mean luma * num_classes // 256 scores 100, every
other class minus its distance from c.
"""

from types import SimpleNamespace

import numpy as np
import yaml

_DTYPES = {'F32': np.float32, 'S32': np.int32, 'S16': np.int16}


class _Tensor:

    def __init__(self, buffer=None, **properties) -> None:
        self.properties = SimpleNamespace(**properties)
        self.buffer = buffer


class _Model:

    def __init__(self, spec: dict) -> None:
        self.height, self.width = spec.get('input_size', [224, 224])
        layout = spec.get('layout', 'NCHW')
        shape = ((1, 3, self.height, self.width) if layout == 'NCHW'
                 else (1, self.height, self.width, 3))
        self.inputs = [_Tensor(tensor_type=spec.get('input_type', 'NV12'), layout=layout,
                               shape=shape, scale_data=np.array([], np.float32))]
        self.num_classes = spec.get('num_classes', 1000)
        output_type = spec.get('output_type', 'F32')
        output_shape = tuple(spec.get('output_shape', (1, self.num_classes, 1, 1)))
        self.outputs = [_Tensor(buffer=np.zeros(output_shape, _DTYPES[output_type]),
                                tensor_type=output_type, layout='NCHW', shape=output_shape,
                                scale_data=np.asarray(spec.get('scale_data', []), np.float32))]

    def forward(self, nv12: np.ndarray):
        if not (isinstance(nv12, np.ndarray) and nv12.dtype == np.uint8
                and nv12.flags.c_contiguous):
            raise RuntimeError('forward needs a C-contiguous uint8 array')
        if nv12.size != self.width * self.height * 3 // 2:
            raise RuntimeError('input size %d does not match the model' % nv12.size)
        winner = int(nv12.reshape(-1)[:self.width * self.height].mean() * self.num_classes // 256)
        raw = -np.abs(np.arange(self.num_classes) - winner)
        raw[winner] = 100
        # Overwrite the same buffer, as the real library does.
        buffer = self.outputs[0].buffer
        buffer[...] = raw.reshape(buffer.shape)
        return self.outputs


def load(path: str):
    """Return [model] described by the YAML file at ``path`` ([] when it says empty: true)."""
    with open(path, encoding='utf-8') as stream:
        spec = yaml.safe_load(stream) or {}
    return [] if spec.get('empty') else [_Model(spec)]
