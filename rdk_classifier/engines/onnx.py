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

The zoo's float models take one input (``data``), 1x3xHxW float32 RGB normalized per channel as
``(x - mean) / std``; per-model values come from the catalog (EfficientNet-Lite: mean 127, std
128). The engine takes the same NV12 frame as the BPU, so the PC runs the node's exact
preprocessing. Options: ``mean`` and ``std`` (RGB), ``input_size`` [height, width] for models
with dynamic spatial dimensions (default 224x224), ``providers``, ``intra_op_threads``
(0: ONNX Runtime's choice) and ``allow_speed_only``. ONNX Runtime releases the GIL while it runs.

export_onnx records in the file's metadata where the weights came from; a model exported with
random weights (for speed work) is refused unless ``allow_speed_only`` is true, so it is never
served as if its labels meant something. ``read_model_notes`` reads that record without loading
the model, for the node's main process (the engine itself is built in a worker process).
"""

from dataclasses import dataclass
import importlib.util
import math
import numbers
import os
from typing import Any, BinaryIO, Dict, Mapping, Sequence, Tuple

import numpy as np

from .base import Engine, EngineError, EngineKind, EngineParameter, ModelContext

#: The zoo's ImageNet normalization (RGB order).
ZOO_MEAN = (123.675, 116.28, 103.53)
ZOO_STD = (58.395, 57.12, 57.375)
DEFAULT_INPUT_SIZE = (224, 224)

#: metadata_props keys export_onnx writes: where the weights came from, the catalog name, and
#: for random weights the purpose (files exported before --random-weights existed carry the same
#: purpose text, so they are refused too).
WEIGHTS_KEY = 'weights'
MODEL_KEY = 'model'
PURPOSE_KEY = 'purpose'
SPEED_ONLY_PURPOSE = 'speed-only: random weights, accuracy is meaningless'
RANDOM_WEIGHTS = 'random-init'


@dataclass(frozen=True)
class ModelNotes:
    """What an ONNX file's metadata says about its weights."""

    #: Where the weights came from, as export_onnx recorded it ('' when nothing is recorded).
    weights: str
    #: Random weights: fine for speed work, but the labels mean nothing.
    speed_only: bool
    #: The catalog name the file was exported as ('' when not recorded).
    model: str = ''

    @property
    def weights_note(self) -> str:
        """One line for reports (VisionInfo, /diagnostics): the weights, and if they are real."""
        if self.speed_only:
            return 'SPEED-ONLY model: random weights, the labels are meaningless'
        return 'weights: %s' % (self.weights or 'not recorded in the file')


def read_model_notes(path: str) -> ModelNotes:
    """
    Return the export's notes from an ONNX file's metadata, without reading the weights.

    Needs neither onnx nor onnxruntime and costs the same for any model size: only the metadata
    field is read, every other top-level field (the graph with its weights) is skipped by seeking
    past it. EngineError when the file is missing or not an ONNX (protobuf) file.
    """
    try:
        with open(path, 'rb') as stream:
            metadata = _read_metadata_props(stream, os.fstat(stream.fileno()).st_size)
    except FileNotFoundError as exc:
        raise EngineError(_no_file_message(path)) from exc
    except (OSError, ValueError) as exc:
        raise EngineError('%s is not a readable ONNX model (%s); download or export it again'
                          % (path, exc)) from exc
    purpose = metadata.get(PURPOSE_KEY, '')
    return ModelNotes(weights=metadata.get(WEIGHTS_KEY, ''),
                      speed_only=purpose.split(':')[0].strip() == 'speed-only',
                      model=metadata.get(MODEL_KEY, ''))


def _no_file_message(path: str) -> str:
    return ('ONNX model %s does not exist; download it (see config/models.yaml) or export it '
            'with the export_onnx command' % path)


def speed_only_refusal(model_path: str, notes: ModelNotes) -> str:
    """Return the one line that refuses a speed-only model and says how to get real weights."""
    return ('%s has random weights (exported with --random-weights, for speed work only: its '
            'labels mean nothing); export real ones with: ros2 run rdk_classifier export_onnx %s '
            '(pretrained weights, needs internet) or with --checkpoint FILE, or set the parameter '
            'onnxruntime.allow_speed_only to true to run it for speed work anyway'
            % (model_path, notes.model or '<model>'))


# The protobuf wire format (protobuf.dev/programming-guides/encoding) of onnx.proto's
# ModelProto: metadata_props is field 14, a repeated StringStringEntryProto {key = 1, value = 2}.
_METADATA_PROPS_FIELD = 14
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


def _read_varint(stream: BinaryIO) -> int:
    value = shift = 0
    while True:
        byte = stream.read(1)
        if not byte:
            raise ValueError('truncated varint')
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
        shift += 7
        if shift > 63:
            raise ValueError('varint longer than 10 bytes')


def _read_tag(stream: BinaryIO, end: int) -> Tuple[int, int, int]:
    """Read a field's tag; return (field number, wire type, length if length-delimited)."""
    tag = _read_varint(stream)
    number, wire_type = tag >> 3, tag & 7
    if wire_type == _LENGTH_DELIMITED:
        length = _read_varint(stream)
        if stream.tell() + length > end:
            raise ValueError('field %d runs past the end' % number)
        return number, wire_type, length
    if wire_type not in (_VARINT, _FIXED64, _FIXED32):
        raise ValueError('field %d has wire type %d' % (number, wire_type))
    return number, wire_type, 0


def _skip(stream: BinaryIO, wire_type: int, length: int) -> None:
    if wire_type == _VARINT:
        _read_varint(stream)
    else:
        stream.seek({_FIXED64: 8, _FIXED32: 4}.get(wire_type, length), os.SEEK_CUR)


def _read_metadata_props(stream: BinaryIO, size: int) -> Dict[str, str]:
    metadata = {}
    while stream.tell() < size:
        number, wire_type, length = _read_tag(stream, size)
        if number != _METADATA_PROPS_FIELD or wire_type != _LENGTH_DELIMITED:
            _skip(stream, wire_type, length)
            continue
        end = stream.tell() + length
        entry = {1: '', 2: ''}
        while stream.tell() < end:
            entry_number, entry_type, entry_length = _read_tag(stream, end)
            if entry_number in entry and entry_type == _LENGTH_DELIMITED:
                entry[entry_number] = stream.read(entry_length).decode('utf-8')
            else:
                _skip(stream, entry_type, entry_length)
        if stream.tell() != end:
            raise ValueError('a metadata entry runs past its end')
        metadata[entry[1]] = entry[2]
    if stream.tell() != size:
        raise ValueError('the last field runs past the end')
    return metadata


def _rgb_values(name: str, values: Sequence[float], nonzero: bool) -> np.ndarray:
    """Return the option as a float32 (1, 3, 1, 1) array; EngineError unless 3 finite values."""
    valid = (isinstance(values, (list, tuple, np.ndarray)) and len(values) == 3
             and all(isinstance(v, numbers.Real) and math.isfinite(v) for v in values)
             and not (nonzero and 0 in values))
    if not valid:
        raise EngineError('onnxruntime engine option %s must be 3 finite numbers (R, G, B)%s, '
                          'got %r' % (name, ', none 0' if nonzero else '', values))
    return np.asarray(values, dtype=np.float32).reshape(1, 3, 1, 1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


class OnnxEngine(Engine):
    """A float ONNX classifier with one NCHW RGB input, run by ONNX Runtime."""

    def __init__(self, model_path: str, options: Mapping[str, Any]) -> None:
        """Load the model; EngineError names the file and what to do."""
        try:
            # Here, not at module import: the registry is imported by the node's process and
            # by every worker, whatever its engine.
            import cv2
            import onnxruntime
        except ImportError as exc:
            raise EngineError('the onnxruntime engine needs the onnxruntime Python package '
                              '(pip install onnxruntime): %s' % exc) from exc
        if not os.path.isfile(model_path):
            raise EngineError(_no_file_message(model_path))
        mean = _rgb_values('mean', options.get('mean', ZOO_MEAN), nonzero=False)
        inv_std = 1.0 / _rgb_values('std', options.get('std', ZOO_STD), nonzero=True)
        allow_speed_only = options.get('allow_speed_only', False)
        if not isinstance(allow_speed_only, bool):
            raise EngineError('onnxruntime engine option allow_speed_only must be true or false, '
                              'got %r' % (allow_speed_only,))
        threads = options.get('intra_op_threads', 0)
        if not isinstance(threads, numbers.Integral) or threads < 0:
            raise EngineError('onnxruntime engine option intra_op_threads must be a whole number '
                              '>= 0, got %r' % (threads,))
        session_options = onnxruntime.SessionOptions()
        session_options.intra_op_num_threads = int(threads)
        session_options.log_severity_level = 3  # errors only
        try:
            self._session = onnxruntime.InferenceSession(
                model_path, session_options,
                providers=list(options.get('providers', ['CPUExecutionProvider'])))
        except Exception as exc:  # noqa: B902 - ORT raises several unrelated types
            raise EngineError('onnxruntime could not load %s (%s); is it an ONNX model? Download '
                              'or export it again' % (model_path, _first_line(exc))) from exc
        #: What the file's metadata says about its weights; ``notes.speed_only`` is true only
        #: when allow_speed_only let a random-weights model through.
        self.notes = read_model_notes(model_path)
        if self.notes.speed_only and not allow_speed_only:
            raise EngineError(speed_only_refusal(model_path, self.notes))
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        self.input_height, self.input_width = self._input_size(
            model_path, model_input, options.get('input_size', DEFAULT_INPUT_SIZE))
        self._cv2 = cv2
        self._mean = mean
        self._inv_std = inv_std
        height, width = self.input_height, self.input_width
        self._rgb = np.empty((height, width, 3), np.uint8)
        self._batch = np.empty((1, 3, height, width), np.float32)
        # The batch seen as height x width x channel: the RGB image is written through it, so
        # the transposition to NCHW costs no extra copy.
        self._batch_hwc = self._batch[0].transpose(1, 2, 0)
        self._mean_hwc = mean.reshape(1, 1, 3)
        try:
            # One forward of a gray frame: the class count, and a run-time failure found now.
            probe = self.infer(np.full(self.input_nbytes, 128, np.uint8))
        except Exception as exc:  # noqa: B902 - ORT raises several unrelated types
            raise EngineError('onnxruntime could not run %s (%s)'
                              % (model_path, _first_line(exc))) from exc
        self.num_classes = probe.size

    @staticmethod
    def _input_size(model_path: str, model_input: Any, fallback: Sequence[int]):
        """Return (height, width) of a 1x3xHxW float input; dynamic dimensions from fallback."""
        shape = list(model_input.shape)
        # ORT gives a dynamic dimension as a name or None.
        if (model_input.type != 'tensor(float)' or len(shape) != 4 or shape[1] != 3
                or isinstance(shape[0], int) and shape[0] != 1):
            raise EngineError('%s: input %s is %s %s; expected float 1x3xHxW (RGB, NCHW)'
                              % (model_path, model_input.name, model_input.type, shape))
        return tuple(dim if isinstance(dim, int) else int(default)
                     for dim, default in zip(shape[2:4], fallback))

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """Convert to RGB, normalize, run; return float32 logits."""
        self.check_input(nv12)
        yuv = nv12.reshape(self.input_height * 3 // 2, self.input_width)
        self._cv2.cvtColor(yuv, self._cv2.COLOR_YUV2RGB_NV12, dst=self._rgb)
        np.subtract(self._rgb, self._mean_hwc, out=self._batch_hwc)
        np.multiply(self._batch, self._inv_std, out=self._batch)
        logits = self._session.run(None, {self._input_name: self._batch})[0]
        # ORT allocates its outputs per run, so the caller owns this array.
        return logits.astype(np.float32, copy=False).reshape(-1)


def _options(values: Mapping[str, Any], model: ModelContext) -> Dict[str, Any]:
    """Split the cores among the workers unless told; a zoo model gives its normalization."""
    options = dict(values)
    options['intra_op_threads'] = values['intra_op_threads'] or max(
        1, (os.cpu_count() or 1) // model.workers)
    if model.info is not None:
        options.update(input_size=[model.info.input_height, model.info.input_width],
                       mean=list(model.info.mean), std=list(model.info.std))
    return options


def _weights_warning(model_path: str) -> str:
    notes = read_model_notes(model_path)
    return notes.weights_note if notes.speed_only else ''


def _missing() -> str:
    if importlib.util.find_spec('onnxruntime') is None:
        return ('the onnxruntime engine needs the onnxruntime Python package '
                '(pip install onnxruntime)')
    return ''


KIND = EngineKind(
    name='onnxruntime',
    summary='float .onnx models on the CPU through ONNX Runtime (a PC)',
    create=lambda spec: OnnxEngine(spec.model_path, spec.options),
    model_suffix='.onnx',
    parameters=(
        EngineParameter('intra_op_threads', 0, 'onnxruntime engine: threads per worker; 0: the '
                        'cores divided by the workers', minimum=0, maximum=256),
        EngineParameter('allow_speed_only', False, 'onnxruntime engine: accept models exported '
                        'with random weights (speed benchmarks only; their labels mean nothing)'),
    ),
    options=_options,
    zoo_file_key='onnx_file',
    weights_warning=_weights_warning,
    missing=_missing,
    auto_rank=1)
