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
Tests of the hobot_dnn engine through the pyeasy_dnn test double (test/pyeasy_dnn_double).

The double follows the binding's source (see its docstring); expected logits come from the
simulated runtime's documented rule, computed here with numpy, not from the engine.
"""

import sys
import time

from gil_probe import longest_stall_during
import numpy as np
from pyeasy_dnn_support import DOUBLE, forget_modules
import pytest
from rdk_classifier.engines import create_engine, EngineError, ENGINES, EngineSpec
import yaml

PEAK = 10.0


def nv12_frame(luma: int, width: int = 224, height: int = 224) -> np.ndarray:
    """Build an NV12 frame of one luma value (neutral chroma)."""
    frame = np.full(height * width * 3 // 2, 128, np.uint8)
    frame[:height * width] = luma
    return frame


def expected_logits(luma: int, classes: int, output_type: str = 'float32', scale=()):
    """Compute the simulated runtime's logits (the double's documented rule) after dequantizing."""
    winner = min(classes - 1, luma * classes // 256)
    logits = np.array([PEAK if k == winner else -abs(k - winner) / classes
                       for k in range(classes)], np.float32)
    if output_type == 'float32':
        return logits, winner
    # In float32, as the runtime quantizes and the engine dequantizes.
    scale = np.asarray(scale if len(scale) else [1.0], np.float32)
    limits = np.iinfo(output_type)
    return np.clip(np.rint(logits / scale), limits.min, limits.max) * scale, winner


def write_model(tmp_path, name='model.bin', **fields) -> str:
    """Write a model file for the double (see its module docstring); 224x224 float32 default."""
    spec = {'input_type': 'NV12', 'input_layout': 'NCHW', 'input_shape': [1, 3, 224, 224],
            'output_type': 'float32', 'output_shape': [1, 1000, 1, 1]}
    spec.update(fields)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def per_class_scales(classes: int):
    # 0.1 and up keeps the peak (10 / scale) inside int8.
    return [0.1 + 0.01 * (k % 7) for k in range(classes)]


CASES = {
    'float32': {},
    'int32-per-class': {'output_type': 'int32', 'output_scale': per_class_scales(1000)},
    'int32-one-scale': {'output_type': 'int32', 'output_scale': [0.001]},
    'int16-per-class': {'output_type': 'int16', 'output_scale': per_class_scales(1000)},
    'int16-one-scale': {'output_type': 'int16', 'output_scale': [0.01]},
    'int8-per-class': {'output_type': 'int8', 'output_scale': per_class_scales(1000)},
    'int8-one-scale': {'output_type': 'int8', 'output_scale': [0.1]},
    'nhwc': {'input_layout': 'NHWC', 'input_shape': [1, 160, 192, 3]},
    'nv12-separate': {'input_type': 'NV12_SEPARATE'},
    '10-classes': {'input_shape': [1, 3, 64, 64], 'output_shape': [1, 10, 1, 1]},
    'classes-last': {'output_shape': [1, 1, 1, 1000]},
    'aligned-tail-int32': {'output_type': 'int32', 'output_shape': [1, 1000, 1, 1],
                           'output_aligned_shape': [1, 1024, 1, 1],
                           'output_scale': per_class_scales(1000)},
}


@pytest.mark.parametrize('fields', CASES.values(), ids=CASES.keys())
def test_logits_are_the_dequantized_outputs(pyeasy_dnn, tmp_path, fields):
    engine = create_engine(EngineSpec('hobot_dnn', write_model(tmp_path, **fields), {}))
    shape = fields.get('input_shape', [1, 3, 224, 224])
    height, width = shape[1:3] if fields.get('input_layout') == 'NHWC' else shape[2:4]
    classes = int(np.prod(fields.get('output_shape', [1000])))
    assert (engine.input_height, engine.input_width, engine.num_classes) == (
        height, width, classes)
    assert not engine.releases_gil
    for luma in (0, 37, 128, 255):
        logits = engine.infer(nv12_frame(luma, width, height))
        expected, winner = expected_logits(luma, classes, fields.get('output_type', 'float32'),
                                           fields.get('output_scale', []))
        assert logits.dtype == np.float32 and logits.shape == (classes,)
        assert int(np.argmax(logits)) == winner
        np.testing.assert_allclose(logits, expected, rtol=1e-6, atol=1e-7)
    engine.close()


def test_scale_data_is_copied(pyeasy_dnn, tmp_path):
    path = write_model(tmp_path, output_type='int32', output_scale=[0.001])
    engine = create_engine(EngineSpec('hobot_dnn', path, {}))
    # The binding's scale_data views the runtime's memory: writing to it must not reach the engine.
    engine._model.outputs[0].properties.scale_data[0] = 1000.0
    np.testing.assert_allclose(engine.infer(nv12_frame(128)), expected_logits(128, 1000, 'int32',
                                                                              [0.001])[0])


def test_earlier_results_survive_and_buffer_is_read_once(pyeasy_dnn, tmp_path, monkeypatch):
    engine = create_engine(EngineSpec('hobot_dnn', write_model(tmp_path), {}))
    reads = []
    buffer = pyeasy_dnn.pyDNNTensor.buffer
    monkeypatch.setattr(pyeasy_dnn.pyDNNTensor, 'buffer',
                        property(lambda tensor: reads.append(1) or buffer.fget(tensor)))
    first = engine.infer(nv12_frame(30))
    kept = first.copy()
    second = engine.infer(nv12_frame(200))
    np.testing.assert_array_equal(first, kept)
    assert np.argmax(second) != np.argmax(first)
    assert len(reads) == 2  # each access copies the output: once per forward


def test_forward_gets_a_contiguous_uint8_frame_of_rows(pyeasy_dnn, tmp_path, monkeypatch):
    engine = create_engine(EngineSpec('hobot_dnn', write_model(
        tmp_path, input_shape=[1, 3, 48, 64], output_shape=[1, 10, 1, 1]), {}))
    seen = []
    forward = pyeasy_dnn.Model.forward
    monkeypatch.setattr(pyeasy_dnn.Model, 'forward', lambda model, arg: seen.append(
        (arg.shape, arg.dtype, arg.flags.c_contiguous)) or forward(model, arg))
    frame = nv12_frame(100, 64, 48)
    strided = np.repeat(frame, 2)[::2]  # the same values, not contiguous
    assert not strided.flags.c_contiguous
    np.testing.assert_array_equal(engine.infer(strided), engine.infer(frame))
    # (H*3/2, W): the whole frame also for builds before 2025, which copied shape[0] x shape[1].
    assert seen == [((72, 64), np.uint8, True)] * 2


@pytest.mark.parametrize('frame', [nv12_frame(30, 64, 64), nv12_frame(30).astype(np.float32),
                                   np.zeros(224 * 224 * 3 // 2 + 1, np.uint8)],
                         ids=['short', 'float32', 'long'])
def test_wrong_frames_are_refused_before_forward(pyeasy_dnn, tmp_path, monkeypatch, frame):
    engine = create_engine(EngineSpec('hobot_dnn', write_model(tmp_path), {}))
    calls = []
    monkeypatch.setattr(pyeasy_dnn.Model, 'forward', lambda *args: calls.append(args))
    with pytest.raises(EngineError, match='%d %s values; the model needs 75264 uint8 '
                                          '\\(224x224' % (frame.size, frame.dtype)):
        engine.infer(frame)
    assert calls == []  # the binding would take a short frame silently and overrun on a long one


def test_missing_file_says_what_to_do(pyeasy_dnn, tmp_path):
    with pytest.raises(EngineError) as caught:
        create_engine(EngineSpec('hobot_dnn', str(tmp_path / 'missing.bin'), {}))
    message = str(caught.value)
    assert message.startswith('hobot_dnn could not load %s: the file does not exist; download'
                              % (tmp_path / 'missing.bin'))
    assert 'ros2 run rdk_classifier download' in message and '\n' not in message
    assert pyeasy_dnn.loaded_files == []


@pytest.mark.parametrize('content', [b'', b'\x7fELF garbage', b'a: [unclosed'],
                         ids=['empty', 'binary', 'bad-yaml'])
def test_a_file_the_runtime_rejects_is_one_line_with_the_cause(pyeasy_dnn, tmp_path, content):
    path = tmp_path / 'broken.bin'
    path.write_bytes(content)
    with pytest.raises(EngineError) as caught:
        create_engine(EngineSpec('hobot_dnn', str(path), {}))
    message = str(caught.value)
    assert message.startswith('hobot_dnn could not load %s (hbDNNInitializeFromFiles failed): '
                              % path)
    assert 'download it again' in message and 'SystemError' not in message
    assert 'returned a result' not in message
    assert isinstance(caught.value.__cause__, SystemError)


@pytest.mark.parametrize('output_type', ['float16', 'uint8', 'float64'])
def test_output_types_the_binding_garbles_are_refused(pyeasy_dnn, tmp_path, output_type):
    path = write_model(tmp_path, output_type=output_type)
    # What the engine would get: the binding hands these back as int8 bytes.
    model = pyeasy_dnn.load(path)[0]
    assert model.forward(nv12_frame(128))[0].buffer.dtype == np.int8
    with pytest.raises(EngineError, match='model.bin: output type %s is not supported: '
                                          'pyeasy_dnn returns int8/int16/int32/float32 outputs'
                       % output_type):
        create_engine(EngineSpec('hobot_dnn', path, {}))


@pytest.mark.parametrize('input_type', ['RGB', 'BGR', 'YUV444', 'Y', 'float32'])
def test_inputs_other_than_nv12_are_refused(pyeasy_dnn, tmp_path, input_type):
    path = write_model(tmp_path, input_type=input_type)
    with pytest.raises(EngineError) as caught:
        create_engine(EngineSpec('hobot_dnn', path, {}))
    assert str(caught.value) == (
        "%s takes %s input; rdk_classifier feeds NV12 frames: use the model's NV12 build (the "
        "zoo's *_nv12.bin)" % (path, input_type))


@pytest.mark.parametrize('fields, message', [
    ({'output_shape': [1, 1000, 1, 16]}, 'output shape \\(1, 1000, 1, 16\\) holds 16000 values, '
                                         'not one per class'),
    ({'output_shape': [1, 1000]}, 'output shape \\(1, 1000\\) holds 1000 values, not one per'),
    ({'output_shape': [1, 1000, 1, 1, 1]}, 'output shape \\(1, 1000, 1, 1, 1\\)'),
    ({'output_type': 'int32', 'output_scale': [1.0, 2.0]},
     'the output has 2 scales; dequantizing needs 1 or one per class \\(1000\\)'),
    ({'input_shape': [1, 3, 223, 224]}, 'NV12 input of shape \\(1, 3, 223, 224\\), layout NCHW; '
                                        'expected 1x3xHxW'),
    ({'input_shape': [2, 3, 224, 224]}, 'NV12 input of shape \\(2, 3, 224, 224\\)'),
], ids=['padded-output', 'two-dimensions', 'five-dimensions', 'scale-count', 'odd-height',
        'batch-2'])
def test_shapes_the_engine_cannot_use_are_refused(pyeasy_dnn, tmp_path, fields, message):
    with pytest.raises(EngineError, match='model.bin: ' + message):
        create_engine(EngineSpec('hobot_dnn', write_model(tmp_path, **fields), {}))


def test_forward_failure_is_one_line_with_the_cause(pyeasy_dnn, tmp_path):
    path = write_model(tmp_path, fail_forward=True)
    engine = create_engine(EngineSpec('hobot_dnn', path, {}))
    with pytest.raises(EngineError) as caught:
        engine.infer(nv12_frame(10))
    assert str(caught.value).startswith('pyeasy_dnn forward failed for %s (forward execution '
                                        'failed.); the BPU runtime logged why on stderr' % path)
    assert isinstance(caught.value.__cause__, SystemError)


def test_forward_returning_none_is_a_failure(pyeasy_dnn, tmp_path, monkeypatch):
    # hobot_dnn builds before January 2025 return None from a failed forward, with no exception.
    engine = create_engine(EngineSpec('hobot_dnn', write_model(tmp_path), {}))
    monkeypatch.setattr(pyeasy_dnn.Model, 'forward', lambda model, arg: None)
    with pytest.raises(EngineError, match='forward failed for .*model.bin \\(it returned None\\)'):
        engine.infer(nv12_frame(10))


def test_an_int16_output_misread_by_an_old_build_is_reported(pyeasy_dnn, tmp_path, monkeypatch):
    # hobot_dnn from September to December 2024 (9a6d9a7) gave int16 outputs an int32 buffer.
    engine = create_engine(EngineSpec('hobot_dnn', write_model(
        tmp_path, output_type='int16', output_scale=[0.01]), {}))
    buffer = pyeasy_dnn.pyDNNTensor.buffer
    monkeypatch.setattr(pyeasy_dnn.pyDNNTensor, 'buffer',
                        property(lambda tensor: buffer.fget(tensor).astype(np.int32)))
    with pytest.raises(EngineError, match='model.bin: pyeasy_dnn returned int32 values for a '
                                          'int16 output; this hobot_dnn build misreads them'):
        engine.infer(nv12_frame(10))


def test_forward_holds_the_gil_like_the_binding(pyeasy_dnn, tmp_path):
    latency_s = 0.4  # long beside the scheduler's stalls on a busy machine
    engine = create_engine(EngineSpec('hobot_dnn', write_model(
        tmp_path, latency_ms=latency_s * 1e3), {}))
    assert not engine.releases_gil
    frame = nv12_frame(10)
    # Held: no other thread takes a step during the forward's sleep, however idle the machine.
    assert longest_stall_during(lambda: engine.infer(frame)) >= latency_s / 2
    # The probe's control: a sleep releases the GIL, so the other thread runs; only a busy
    # machine's scheduler stalls it, and not for a whole sleep every time.
    stalls = [longest_stall_during(lambda: time.sleep(latency_s))]
    while min(stalls) >= latency_s / 4 and len(stalls) < 10:
        stalls.append(longest_stall_during(lambda: time.sleep(latency_s)))
    assert min(stalls) < latency_s / 4, stalls


def test_checking_that_pyeasy_dnn_is_there_loads_no_model(pyeasy_dnn):
    assert ENGINES['hobot_dnn'].missing() == ''
    # The runtime never unloads a model: the node's main process must not load one.
    assert pyeasy_dnn.loaded_files == []


def test_the_rdkx5_package_name_is_the_fallback(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(tmp_path))
    package = tmp_path / 'hobot_dnn_rdkx5'
    package.mkdir()
    (package / '__init__.py').write_text('')
    (package / 'pyeasy_dnn.py').write_text(
        (DOUBLE / 'hobot_dnn' / 'pyeasy_dnn.py').read_text())
    forget_modules(monkeypatch, 'hobot_dnn_rdkx5', 'hobot_dnn_rdkx5.pyeasy_dnn')
    monkeypatch.setitem(sys.modules, 'hobot_dnn', None)  # makes the import fail
    engine = create_engine(EngineSpec('hobot_dnn', write_model(tmp_path), {}))
    assert int(np.argmax(engine.infer(nv12_frame(128)))) == 500
    assert sys.modules['hobot_dnn_rdkx5.pyeasy_dnn'].loaded_files == [write_model(tmp_path)]


def test_availability_is_found_without_importing_pyeasy_dnn(monkeypatch):
    """engine:=auto asks missing() in the node's process, which must not load the BPU runtime."""
    monkeypatch.syspath_prepend(str(DOUBLE))
    forget_modules(monkeypatch, 'hobot_dnn', 'hobot_dnn.pyeasy_dnn')
    assert ENGINES['hobot_dnn'].missing() == ''
    assert 'hobot_dnn.pyeasy_dnn' not in sys.modules


def test_missing_module_says_what_to_do(monkeypatch):
    for name in ('hobot_dnn', 'hobot_dnn.pyeasy_dnn', 'hobot_dnn_rdkx5',
                 'hobot_dnn_rdkx5.pyeasy_dnn'):
        monkeypatch.setitem(sys.modules, name, None)  # makes the import fail
    assert 'pyeasy_dnn' in ENGINES['hobot_dnn'].missing()
    with pytest.raises(EngineError) as caught:
        create_engine(EngineSpec('hobot_dnn', 'model.bin'))
    message = str(caught.value)
    assert message.startswith("hobot_dnn engine needs the board's hobot_dnn Python package")
    assert 'hobot_dnn_rdkx5' in message and 'onnxruntime' in message and '\n' not in message


# The double itself: the binding's behaviours the engine relies on (the bpu-harness checks the
# same points against the real binding compiled over a simulated runtime).

def test_double_properties_are_the_binding_strings(pyeasy_dnn, tmp_path):
    model = pyeasy_dnn.load(write_model(tmp_path, output_type='int16', output_scale=[0.5]))[0]
    source, result = model.inputs[0].properties, model.outputs[0].properties
    assert (source.tensor_type, source.dtype, source.layout, source.shape) == (
        'NV12', 'uint8', 'NCHW', (1, 3, 224, 224))
    assert (result.tensor_type, result.dtype, result.shape) == ('int16', 'int16', (1, 1000, 1, 1))
    assert result.scale_data.dtype == np.float32 and list(result.scale_data) == [0.5]
    assert isinstance(result.alignedShape, int) and isinstance(result.validShape, int)


def test_double_buffer_is_a_new_copy_and_input_is_unchecked(pyeasy_dnn, tmp_path):
    model = pyeasy_dnn.load(write_model(tmp_path))[0]
    outputs = model.forward(nv12_frame(0))
    kept = outputs[0].buffer
    assert kept.shape == (1, 1000, 1, 1) and outputs[0].buffer is not outputs[0].buffer
    # A short frame is taken silently: it overwrites the start of the previous input only.
    model.forward(nv12_frame(255)[:100])
    assert int(np.argmax(model.outputs[0].buffer)) == int(100 * 255 / (224 * 224) * 1000 / 256)
    assert int(np.argmax(kept)) == 0
    model.forward(nv12_frame(255))
    assert int(np.argmax(model.outputs[0].buffer)) == 996 and int(np.argmax(kept)) == 0


def test_double_load_failure_is_a_system_error_with_the_cause(pyeasy_dnn, tmp_path):
    with pytest.raises(SystemError, match='<built-in function load> returned a result with an '
                                          'exception set') as caught:
        pyeasy_dnn.load(str(tmp_path / 'none.bin'))
    assert repr(caught.value.__cause__) == "RuntimeError('hbDNNInitializeFromFiles failed')"
