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
A test double of hobot_dnn.pyeasy_dnn, following the binding's source.

The board's module is D-Robotics' C++ binding, ``src/python/dnn_python.cpp`` in
github.com/D-Robotics/x5-hobot-spdev (as of 9ef2562, January 2025), over the BPU runtime libdnn
(``hb_dnn.h`` in github.com/HorizonRDK/hobot-dnn). What this double copies from it:

- ``load(model_file)`` (Dnnpy_load, create_and_load_model) takes a path or a list of paths and
  returns a list with one model per file. A file the runtime rejects (hbDNNInitializeFromFiles)
  raises ``SystemError('<built-in function load> returned a result with an exception set')``
  whose ``__cause__`` is ``RuntimeError('hbDNNInitializeFromFiles failed')``: the binding sets
  the error and then returns None (Py_RETURN_NONE). Nothing ever unloads a model
  (hbDNNRelease is never called); ``loaded_files`` lists what this process loaded.
- ``model.inputs`` / ``model.outputs`` (model_get_tensor_inputs/outputs) build new tensor
  objects at each access; ``tensor.properties`` (PyDNNTensor_get_properties) too.
- ``properties.tensor_type`` is ``TENSOR_TYPES[runtime enum]`` (the binding's TensorType table
  in hbDNNDataType order); ``dtype`` the same, but ``uint8`` for the image types (index < 6);
  ``layout`` from TensorLayout ({0: NHWC, 2: NCHW, 255: NONE}, else UNKNOWN); ``shape`` the valid
  shape as a tuple; ``scale_data`` a float32 array over the runtime's scales (a view, not a copy:
  PyArray_SimpleNewFromData). ``alignedShape`` / ``validShape`` return an integer (the address
  of a copied C struct, PyLong_FromVoidPtr), useless from Python.
- ``tensor.buffer`` (PyDNNTensor_get_buffer, buffer_2_pyarray, buffer_2_numpy) builds a new array
  at each access: the first prod(dims) elements of the output memory, copied, shaped by the
  first four dimensions of the valid shape, as int8 / int16 / int32 / float32 for those tensor
  types and int8 (raw bytes) for every other type. An array taken earlier survives the next
  forward.
- ``model.forward(arg, core_id=0, priority=0)`` (Model_forward, forward) takes one ndarray or a
  list/tuple of them and checks nothing: it copies prod(arg.shape) BYTES from the array's data
  pointer whatever its dtype, strides or size (NV12: into the input memory; NV12_SEPARATE: the
  first 2/3 to the Y memory, the last 1/3 to the UV memory). A short array leaves the rest of the
  previous input in place; a long one writes past the runtime's buffer, which the double
  reports as BufferError instead of corrupting memory. A runtime failure raises SystemError
  chained from ``RuntimeError('forward execution failed.')``; otherwise it returns the outputs
  (a new list). The GIL is held throughout (no Py_BEGIN_ALLOW_THREADS): the double's latency is
  a libc usleep through ctypes.PyDLL, which keeps the GIL.
- Not simulated: the -128 adjustment forward applies in place to RGB inputs, and the SHIFT
  quantization some runtimes use (the binding does not expose it).

Only ``loaded_files`` and the model-file format below are the double's own.

The simulated runtime (standing in for libdnn and the BPU) reads a YAML model file:

    input_type: NV12          # a TENSOR_TYPES name
    input_layout: NCHW        # or NHWC
    input_shape: [1, 3, 224, 224]
    output_type: float32      # a TENSOR_TYPES name
    output_shape: [1, 1000, 1, 1]           # the valid shape
    output_aligned_shape: [1, 1024, 1, 1]   # optional (default: the valid shape)
    output_scale: [0.05]      # optional: one scale, or one per class
    latency_ms: 0             # optional: added to each forward, holding the GIL
    fail_forward: false       # optional: every forward fails in the runtime

Its rule, with C the number of valid output values and Y the mean of the first H*W bytes of the
input memory (the luma plane): class c = min(C - 1, floor(Y * C / 256)) has logit PEAK, every
other class k has -|k - c| / C, in float32. Integer outputs store rint(logit / scale) (a float32
division by the scales compiled into the model, which the properties only report) clipped to the
type; float outputs store the logit. Values start each aligned row, so padding in the aligned
shape trails the valid values.
"""

import ctypes
import sys
from typing import List

import numpy as np
import yaml

#: The binding's TensorType table, in the order of the runtime's hbDNNDataType enum.
TENSOR_TYPES = ('Y', 'NV12', 'NV12_SEPARATE', 'YUV444', 'RGB', 'BGR', 'int4', 'uint4', 'int8',
                'uint8', 'float16', 'int16', 'uint16', 'float32', 'int32', 'uint32', 'float64',
                'int64', 'uint64')
#: The binding's TensorLayout map (hbDNNTensorLayout).
LAYOUTS = {0: 'NHWC', 2: 'NCHW', 255: 'NONE'}
#: buffer_2_pyarray: the numpy type of a buffer by tensor type; any other type gives int8.
BUFFER_DTYPES = {TENSOR_TYPES.index('int8'): np.int8, TENSOR_TYPES.index('int16'): np.int16,
                 TENSOR_TYPES.index('int32'): np.int32,
                 TENSOR_TYPES.index('float32'): np.float32}
#: The simulated runtime's logit for the winning class.
PEAK = 10.0

#: Every file this process loaded; the runtime never unloads a model before the process exits.
loaded_files: List[str] = []

_LIBC = ctypes.PyDLL(None)  # PyDLL: the call keeps the GIL, as the binding's forward does


def _raise_from_binding(cause: BaseException, function: str):
    """Raise what CPython raises when a C function sets an error and still returns a value."""
    raise SystemError('<built-in function %s> returned a result with an exception set'
                      % function) from cause


def _memory_dtype(type_name: str) -> np.dtype:
    """Return how the runtime stores values of a tensor type (image and 4-bit types as bytes)."""
    return np.dtype(np.uint8 if TENSOR_TYPES.index(type_name) < 8 else type_name)


class _RuntimeTensor:
    """One tensor as libdnn describes it (hbDNNTensorProperties) with its memory."""

    def __init__(self, type_name: str, layout: str, valid_shape, aligned_shape, scale) -> None:
        self.tensor_type = TENSOR_TYPES.index(type_name)
        self.layout = {name: value for value, name in LAYOUTS.items()}[layout]
        self.valid_shape = tuple(int(d) for d in valid_shape)
        self.aligned_shape = tuple(int(d) for d in aligned_shape)
        self.scale = np.asarray(scale, np.float32).reshape(-1)
        # hbDNNTensorShape: dimensionSize[8], zero past numDimensions.
        self.dimension_size = self.valid_shape + (0,) * (8 - len(self.valid_shape))


class _RuntimeModel:
    """What libdnn holds for a loaded model file (the simulated runtime)."""

    def __init__(self, path: str) -> None:
        with open(path, encoding='utf-8') as stream:
            spec = yaml.safe_load(stream)
        input_type = spec.get('input_type', 'NV12')
        layout = spec.get('input_layout', 'NCHW')
        input_shape = spec['input_shape']
        self.input = _RuntimeTensor(input_type, layout, input_shape, input_shape, [])
        self.height, self.width = input_shape[2:4] if layout == 'NCHW' else input_shape[1:3]
        luma = self.height * self.width
        # prepare_model_tensor: NV12 one memory, NV12_SEPARATE a Y and a UV memory, any other
        # type alignedByteSize (image types one byte per value).
        if input_type == 'NV12':
            self.input_memory = [np.zeros(luma * 3 // 2, np.uint8)]
        elif input_type == 'NV12_SEPARATE':
            self.input_memory = [np.zeros(luma, np.uint8), np.zeros(luma // 2, np.uint8)]
        else:
            self.input_memory = [np.zeros(int(np.prod(input_shape)), _memory_dtype(input_type))]
        valid = spec['output_shape']
        self.output = _RuntimeTensor(spec.get('output_type', 'float32'),
                                     spec.get('output_layout', 'NCHW'), valid,
                                     spec.get('output_aligned_shape', valid),
                                     spec.get('output_scale', []))
        # The scales the model was compiled with; the properties' scale_data only reports them.
        self.compiled_scale = self.output.scale.copy()
        self.output_dtype = _memory_dtype(TENSOR_TYPES[self.output.tensor_type])
        self.output_memory = np.zeros(self.output.aligned_shape, self.output_dtype)
        self.latency_us = int(float(spec.get('latency_ms', 0)) * 1000)
        self.fail_forward = bool(spec.get('fail_forward', False))

    def infer(self) -> None:
        """Run the simulated BPU on the input memory; write the output memory."""
        if self.latency_us:
            _LIBC.usleep(self.latency_us)
        if self.fail_forward:
            raise RuntimeError('the simulated BPU failed')
        classes = int(np.prod(self.output.valid_shape))
        mean_y = float(self.input_memory[0][:self.height * self.width].mean())
        winner = min(classes - 1, int(mean_y * classes // 256))
        logits = (-np.abs(np.arange(classes) - winner) / classes).astype(np.float32)
        logits[winner] = PEAK
        if np.issubdtype(self.output_dtype, np.integer):
            scale = self.compiled_scale if self.compiled_scale.size else np.float32(1)
            limits = np.iinfo(self.output_dtype)
            logits = np.clip(np.rint(logits / scale), limits.min, limits.max)
        valid = self.output.valid_shape
        self.output_memory[...] = 0
        self.output_memory[tuple(slice(0, d) for d in valid)] = logits.reshape(valid)


class TensorProperties:
    """dnnpy.TensorProperties: a snapshot of a runtime tensor's properties."""

    def __init__(self, tensor: _RuntimeTensor) -> None:
        self._tensor = tensor

    @property
    def tensor_type(self) -> str:
        return TENSOR_TYPES[self._tensor.tensor_type]

    @property
    def dtype(self) -> str:
        return TENSOR_TYPES[9 if self._tensor.tensor_type < 6 else self._tensor.tensor_type]

    @property
    def layout(self) -> str:
        return LAYOUTS.get(self._tensor.layout, 'UNKNOWN')

    @property
    def shape(self) -> tuple:
        return self._tensor.valid_shape

    @property
    def alignedShape(self) -> int:  # noqa: N802 - the binding's name
        return id(self._tensor.aligned_shape)

    @property
    def validShape(self) -> int:  # noqa: N802 - the binding's name
        return id(self._tensor.valid_shape)

    @property
    def scale_data(self) -> np.ndarray:
        return self._tensor.scale[:]


class pyDNNTensor:  # noqa: N801 - the binding's name
    """dnnpy.pyDNNTensor: a runtime tensor with its memory."""

    def __init__(self, tensor: _RuntimeTensor, memory: np.ndarray, name: str) -> None:
        self._tensor = tensor
        self._memory = memory
        self.name = name

    @property
    def properties(self) -> TensorProperties:
        return TensorProperties(self._tensor)

    @property
    def buffer(self) -> np.ndarray:
        dims = self._tensor.dimension_size[:4]
        dtype = BUFFER_DTYPES.get(self._tensor.tensor_type, np.int8)
        count = int(np.prod(dims))
        raw = self._memory.reshape(-1).view(np.uint8)[:count * np.dtype(dtype).itemsize]
        return raw.view(dtype).reshape(dims).copy()


def _raw_bytes(array: np.ndarray, count: int) -> np.ndarray:
    """Read ``count`` bytes from the array's data pointer, as the binding's memcpy does."""
    # numpy 2 moved byte_bounds to np.lib.array_utils.
    _, high = getattr(np.lib, 'array_utils', np).byte_bounds(array)
    start = array.__array_interface__['data'][0]
    if start + count > high:
        raise BufferError('forward read %d bytes from an array with %d at its data pointer: the '
                          'binding reads past the array here' % (count, high - start))
    return np.frombuffer(ctypes.string_at(start, count), np.uint8)


class Model:
    """dnnpy.Model: a loaded model."""

    def __init__(self, runtime: _RuntimeModel, name: str) -> None:
        self._runtime = runtime
        self.name = name
        self.estimate_latency = 100

    @property
    def inputs(self) -> List[pyDNNTensor]:
        return [pyDNNTensor(self._runtime.input, self._runtime.input_memory[0], 'data')]

    @property
    def outputs(self) -> List[pyDNNTensor]:
        return [pyDNNTensor(self._runtime.output, self._runtime.output_memory, 'prob')]

    def forward(self, arg, core_id: int = 0, priority: int = 0) -> List[pyDNNTensor]:
        if isinstance(arg, np.ndarray):
            arrays = [arg]
        elif isinstance(arg, (list, tuple)):
            if not all(isinstance(item, np.ndarray) for item in arg):
                _raise_from_binding(TypeError('Each element in arg_obj must be a NumPy array.'),
                                    'forward')
            arrays = [item.astype(np.uint8) for item in arg]
        else:
            sys.stdout.write('arg_obj is NOT a container.\n')
            arrays = []
        if len(arrays) > 1:
            _raise_from_binding(RuntimeError('forward execution failed.'), 'forward')
        for array in arrays:
            size = int(np.prod(array.shape))  # elements, copied as bytes
            if size <= 0:
                _raise_from_binding(RuntimeError('forward execution failed.'), 'forward')
            data = _raw_bytes(array, size)
            memories = [m.view(np.uint8) for m in self._runtime.input_memory]
            # NV12_SEPARATE: the first 2/3 to the Y memory, the next 1/3 to the UV memory.
            third = size // 3
            parts = [data] if len(memories) == 1 else [data[:third * 2], data[third * 2:third * 3]]
            for memory, part in zip(memories, parts):
                if part.size > memory.size:
                    raise BufferError('forward copies %d bytes into a %d-byte input: the binding '
                                      'overruns the runtime buffer here'
                                      % (part.size, memory.size))
                memory[:part.size] = part
        try:
            self._runtime.infer()
        except RuntimeError:
            _raise_from_binding(RuntimeError('forward execution failed.'), 'forward')
        return self.outputs


def load(model_file) -> List[Model]:
    """Load each model file (a path or a list of paths); see the module docstring."""
    files = [model_file] if isinstance(model_file, str) else model_file
    if not isinstance(files, list):
        _raise_from_binding(TypeError('model_file must be a string or a list'), 'load')
    models = []
    for path in files:
        try:
            runtime = _RuntimeModel(path)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, yaml.YAMLError):
            _raise_from_binding(RuntimeError('hbDNNInitializeFromFiles failed'), 'load')
        loaded_files.append(path)
        models.append(Model(runtime, path.rsplit('/', 1)[-1]))
    return models
