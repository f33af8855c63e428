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
Tests of the engines and create_engine.

fake: its rule and simulations; hobot_dnn: through a test double of pyeasy_dnn (test/
pyeasy_dnn_double); onnxruntime: a tiny ONNX model built here.
"""

from pathlib import Path
import sys
import threading
import time

import numpy as np
import pytest
from rdk_classifier.engines import create_engine, EngineError, EngineSpec, hobot_dnn_available
from rdk_classifier.engines.fake import fake_class
import yaml

DOUBLE = Path(__file__).resolve().parent / 'pyeasy_dnn_double'


def uniform_nv12(y: int, width: int = 224, height: int = 224) -> np.ndarray:
    return np.concatenate([np.full(width * height, y, np.uint8),
                           np.full(width * height // 2, 128, np.uint8)])


# fake ------------------------------------------------------------------------------------------

@pytest.mark.parametrize('y', [0, 16, 100, 128, 235, 255])
def test_fake_class_is_the_mean_luma_bucket(y):
    engine = create_engine(EngineSpec('fake'))
    logits = engine.infer(uniform_nv12(y))
    expected = min(y * 1000 // 256, 999)
    assert int(np.argmax(logits)) == expected
    assert logits.dtype == np.float32 and logits.shape == (1000,)
    # The ranking is fully determined: neighbours next.
    neighbour = expected + 1 if expected < 999 else expected - 1
    assert logits[neighbour] == logits[expected] - 1


def test_fake_rule_function_matches_an_independent_mean():
    rng = np.random.default_rng(1)
    nv12 = rng.integers(0, 256, 64 * 48 * 3 // 2, dtype=np.uint8)
    expected = int(nv12[:64 * 48].astype(np.float64).mean() * 10 // 256)
    assert fake_class(nv12, 64, 48, 10) == expected


def test_fake_input_size_and_classes_are_options():
    engine = create_engine(EngineSpec('fake', '', {'input_size': [32, 48], 'num_classes': 7}))
    assert (engine.input_height, engine.input_width, engine.num_classes) == (32, 48, 7)
    assert engine.infer(uniform_nv12(255, 48, 32)).shape == (7,)
    with pytest.raises(EngineError, match='uint8'):
        engine.infer(uniform_nv12(255))


@pytest.mark.parametrize('options, message', [
    ({'latency_ms': -1}, 'latency_ms'), ({'fail_every': -2}, 'fail_every'),
    ({'colour': 'red'}, 'unknown'), ({'num_classes': 0}, 'num_classes')])
def test_fake_rejects_bad_options(options, message):
    with pytest.raises(EngineError, match=message):
        create_engine(EngineSpec('fake', '', options))


def test_fake_fail_every_and_hang_every():
    failing = create_engine(EngineSpec('fake', '', {'fail_every': 3}))
    outcomes = []
    for _ in range(6):
        try:
            failing.infer(uniform_nv12(50))
            outcomes.append('ok')
        except EngineError:
            outcomes.append('fail')
    assert outcomes == ['ok', 'ok', 'fail', 'ok', 'ok', 'fail']
    hanging = create_engine(EngineSpec('fake', '', {'hang_every': 2, 'hang_s': 0.3}))
    start = time.monotonic()
    hanging.infer(uniform_nv12(50))
    first = time.monotonic() - start
    hanging.infer(uniform_nv12(50))
    assert time.monotonic() - start - first >= 0.3


def _counter_progress(engine) -> int:
    """Count how far a Python thread gets while ``engine`` runs one forward."""
    progress = [0]
    running = threading.Event()

    def count():
        running.set()
        while running.is_set():
            progress[0] += 1
    thread = threading.Thread(target=count)
    thread.start()
    running.wait()
    engine.infer(uniform_nv12(10))
    running.clear()
    thread.join()
    return progress[0]


def test_fake_hold_gil_blocks_other_threads_like_pyeasy_dnn():
    holding = create_engine(EngineSpec('fake', '', {'latency_ms': 300, 'hold_gil': True}))
    releasing = create_engine(EngineSpec('fake', '', {'latency_ms': 300}))
    assert not holding.releases_gil and releasing.releases_gil
    # A thread that may run counts for all 300 ms; one held off by the GIL only for the few
    # milliseconds before the forward starts and after it ends.
    assert _counter_progress(holding) * 5 < _counter_progress(releasing)


def test_fake_latency_is_honoured():
    engine = create_engine(EngineSpec('fake', '', {'latency_ms': 50, 'hold_gil': True}))
    start = time.monotonic()
    engine.infer(uniform_nv12(10))
    assert time.monotonic() - start >= 0.045


# hobot_dnn ---------------------------------------------------------------------------------------

@pytest.fixture
def pyeasy_dnn(monkeypatch):
    monkeypatch.syspath_prepend(str(DOUBLE))
    for name in [n for n in sys.modules if n.startswith('hobot_dnn')]:
        monkeypatch.delitem(sys.modules, name)
    import hobot_dnn.pyeasy_dnn
    return hobot_dnn.pyeasy_dnn


def write_model(tmp_path, **spec) -> str:
    path = tmp_path / 'model.bin'
    path.write_text(yaml.safe_dump(spec))
    return str(path)


@pytest.mark.parametrize('spec', [
    {'output_type': 'F32'},
    {'output_type': 'S32', 'scale_data': [0.5]},
    {'output_type': 'S16', 'scale_data': [0.1 + i / 1000 for i in range(1000)]},
    {'layout': 'NHWC', 'input_size': [160, 192]},
], ids=['f32', 's32-scalar-scale', 's16-per-class-scale', 'nhwc'])
def test_hobot_dnn_dequantizes_like_the_double(pyeasy_dnn, tmp_path, spec):
    path = write_model(tmp_path, **spec)
    engine = create_engine(EngineSpec('hobot_dnn', path))
    height, width = spec.get('input_size', [224, 224])
    assert (engine.input_height, engine.input_width) == (height, width)
    assert not engine.releases_gil
    frame = uniform_nv12(90, width, height)
    logits = engine.infer(frame)
    reference = pyeasy_dnn.load(path)[0]
    raw = reference.forward(frame)[0].buffer.reshape(-1).astype(np.float32)
    scale = np.asarray(spec.get('scale_data', [1.0]), np.float32)
    np.testing.assert_allclose(logits, raw * scale, rtol=1e-6)
    assert int(np.argmax(logits)) == 90 * 1000 // 256


def test_hobot_dnn_copies_outputs_before_the_next_forward(pyeasy_dnn, tmp_path):
    engine = create_engine(EngineSpec('hobot_dnn', write_model(tmp_path)))
    first = engine.infer(uniform_nv12(30))
    kept = first.copy()
    engine.infer(uniform_nv12(200))
    np.testing.assert_array_equal(first, kept)


def test_hobot_dnn_errors(pyeasy_dnn, tmp_path):
    engine = create_engine(EngineSpec('hobot_dnn', write_model(tmp_path)))
    with pytest.raises(EngineError, match='224x224'):
        engine.infer(uniform_nv12(30, 64, 64))
    with pytest.raises(EngineError, match='missing.bin'):
        create_engine(EngineSpec('hobot_dnn', str(tmp_path / 'missing.bin')))
    with pytest.raises(EngineError, match='BGR'):
        create_engine(EngineSpec('hobot_dnn', write_model(tmp_path, input_type='BGR')))
    assert hobot_dnn_available()


def test_hobot_dnn_missing_module_says_what_to_do(monkeypatch):
    for name in ('hobot_dnn', 'hobot_dnn.pyeasy_dnn', 'hobot_dnn_rdkx5',
                 'hobot_dnn_rdkx5.pyeasy_dnn'):
        monkeypatch.setitem(sys.modules, name, None)  # makes the import fail
    assert not hobot_dnn_available()
    with pytest.raises(EngineError, match='pyeasy_dnn.*onnxruntime'):
        create_engine(EngineSpec('hobot_dnn', 'model.bin'))


# onnxruntime -------------------------------------------------------------------------------------

def tiny_classifier(path: Path, height: int = 8, width: int = 8) -> None:
    """Write an ONNX model whose 3 logits are the mean of each input channel."""
    onnx = pytest.importorskip('onnx', reason='onnx builds the test model')
    from onnx import helper, TensorProto
    graph = helper.make_graph(
        [helper.make_node('ReduceMean', ['data'], ['pooled'], axes=[2, 3], keepdims=0),
         helper.make_node('Identity', ['pooled'], ['output'])],
        'tiny', [helper.make_tensor_value_info('data', TensorProto.FLOAT, [1, 3, height, width])],
        [helper.make_tensor_value_info('output', TensorProto.FLOAT, [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_onnxruntime_normalizes_rgb_nchw(tmp_path):
    import cv2
    path = tmp_path / 'tiny.onnx'
    tiny_classifier(path)
    mean, std = [10.0, 20.0, 30.0], [2.0, 4.0, 8.0]
    engine = create_engine(EngineSpec('onnxruntime', str(path), {'mean': mean, 'std': std}))
    assert (engine.input_height, engine.input_width, engine.num_classes) == (8, 8, 3)
    bgr = np.zeros((8, 8, 3), np.uint8)
    bgr[..., 2] = 200  # red
    from rdk_classifier.frames import bgr_to_nv12
    nv12 = bgr_to_nv12(bgr)
    rgb = cv2.cvtColor(nv12.reshape(12, 8), cv2.COLOR_YUV2RGB_NV12).astype(np.float64)
    expected = ((rgb - mean) / std).mean(axis=(0, 1))
    logits = engine.infer(nv12)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    assert int(np.argmax(logits * std)) == 0, 'red must land in the first (R) channel'


def test_onnxruntime_errors(tmp_path):
    with pytest.raises(EngineError, match='does not exist'):
        create_engine(EngineSpec('onnxruntime', str(tmp_path / 'none.onnx')))
    garbage = tmp_path / 'garbage.onnx'
    garbage.write_bytes(b'not a model')
    with pytest.raises(EngineError, match='garbage.onnx'):
        create_engine(EngineSpec('onnxruntime', str(garbage)))


def test_unknown_engine():
    with pytest.raises(EngineError, match='fake, hobot_dnn, onnxruntime'):
        create_engine(EngineSpec('tpu'))
