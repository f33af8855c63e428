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

fake: its documented rule, simulated latency, GIL holding and faults; onnxruntime: tiny ONNX
models built here (hobot_dnn: test_engine_hobot.py).
Expected values come from the documented rules and from numpy references, not from the engines.
"""

from pathlib import Path
import pickle
import time

import cv2
from gil_probe import longest_stall_during
import numpy as np
import pytest
from rdk_classifier.engines import (create_engine, ENGINE_KINDS, EngineError, EngineSpec,
                                    ModelShape)
from rdk_classifier.engines.fake import fake_class


def nv12_frame(luma, width: int = 224, height: int = 224, u: int = 128, v: int = 128):
    """Build an NV12 frame from a luma value or a height x width luma array and one chroma."""
    y_plane = np.broadcast_to(np.asarray(luma, np.uint8), (height, width))
    uv_plane = np.tile(np.array([u, v], np.uint8), (height // 2, width // 2))
    return np.concatenate([y_plane.reshape(-1), uv_plane.reshape(-1)])


# fake ------------------------------------------------------------------------------------------

@pytest.mark.parametrize('luma, expected', [
    # floor(y * 1000 / 256), worked out by hand.
    (0, 0), (1, 3), (16, 62), (100, 390), (128, 500), (235, 917), (255, 996)])
def test_fake_gray_frames_give_the_documented_class(luma, expected):
    engine = create_engine(EngineSpec('fake'))
    logits = engine.infer(nv12_frame(luma, u=30, v=220))  # chroma plays no part
    assert logits.dtype == np.float32 and logits.shape == (1000,)
    assert int(np.argmax(logits)) == expected
    # logits[i] = -|i - class|: the whole ranking is known.
    np.testing.assert_array_equal(logits, -np.abs(np.arange(1000) - expected))


def test_fake_class_is_the_mean_luma_bucket_of_a_mixed_frame():
    # Rows alternate between 10 and 201: the Y mean is 105.5 -> floor(105.5 * 10 / 256) = 4.
    luma = np.where(np.arange(48)[:, None] % 2, 201, 10) * np.ones((1, 64), np.uint8)
    nv12 = nv12_frame(luma, 64, 48)
    assert fake_class(nv12, 64, 48, 10) == 4
    engine = create_engine(EngineSpec('fake', '', {'input_size': [48, 64], 'num_classes': 10}))
    assert int(np.argmax(engine.infer(nv12))) == 4
    # A 2-D view of the same bytes is the same frame.
    assert fake_class(nv12.reshape(72, 64), 64, 48, 10) == 4


def test_fake_class_matches_an_independent_mean_and_is_clamped():
    rng = np.random.default_rng(1)
    nv12 = rng.integers(0, 256, 64 * 48 * 3 // 2, dtype=np.uint8)
    y_mean = sum(int(v) for v in nv12[:64 * 48]) / (64 * 48)
    assert fake_class(nv12, 64, 48, 7) == int(y_mean * 7 // 256)
    assert fake_class(nv12_frame(255, 64, 48), 64, 48, 256) == 255  # not past the last class
    assert fake_class(nv12_frame(255, 64, 48), 64, 48, 1) == 0


def test_fake_input_size_and_classes_are_options():
    engine = create_engine(EngineSpec('fake', '', {'input_size': [32, 48], 'num_classes': 7}))
    assert (engine.input_height, engine.input_width, engine.num_classes) == (32, 48, 7)
    assert engine.shape == ModelShape(32, 48, 7) and engine.input_nbytes == 32 * 48 * 3 // 2
    assert engine.releases_gil
    assert engine.infer(nv12_frame(255, 48, 32)).shape == (7,)
    with pytest.raises(EngineError, match='75264 uint8.*2304 uint8 \\(48x32'):
        engine.infer(nv12_frame(255))


@pytest.mark.parametrize('options, message', [
    ({'latency_ms': -1}, 'latency_ms must be .* >= 0, got -1'),
    ({'fail_every': -2}, 'fail_every must be a whole number >= 0, got -2'),
    ({'fail_every': 1.5}, 'fail_every'),
    ({'hang_every': -1}, 'hang_every'),
    ({'hang_s': -0.5}, 'hang_s'),
    ({'device_fps': float('nan')}, 'device_fps'),
    ({'latency_ms': '5'}, 'latency_ms'),
    ({'num_classes': 0}, 'num_classes must be >= 1, got 0'),
    ({'input_size': [224]}, 'input_size'),
    ({'input_size': [223, 224]}, 'input_size .* even'),
    ({'input_size': 224}, 'input_size'),
    ({'hold_gil': 'yes'}, 'hold_gil'),
    ({'colour': 'red'}, 'unknown fake engine options: colour')])
def test_fake_rejects_bad_options(options, message):
    with pytest.raises(EngineError, match=message):
        create_engine(EngineSpec('fake', '', options))


def test_fake_fail_every_counts_from_one():
    engine = create_engine(EngineSpec('fake', '', {'fail_every': 3}))
    outcomes = []
    for _ in range(7):
        try:
            engine.infer(nv12_frame(50))
            outcomes.append('ok')
        except EngineError as exc:
            assert 'fail_every=3' in str(exc)
            outcomes.append('fail')
    assert outcomes == ['ok', 'ok', 'fail', 'ok', 'ok', 'fail', 'ok']


def test_fake_hang_every_sleeps_on_every_nth_call():
    engine = create_engine(EngineSpec('fake', '', {'hang_every': 2, 'hang_s': 0.3}))
    durations = []
    for _ in range(4):
        start = time.monotonic()
        engine.infer(nv12_frame(50))
        durations.append(time.monotonic() - start)
    assert durations[1] >= 0.3 and durations[3] >= 0.3
    # Loose: the other calls only need to be clearly shorter than a hang.
    assert durations[0] < 0.2 and durations[2] < 0.2


@pytest.mark.parametrize('hold_gil', [False, True])
def test_fake_latency_is_a_lower_bound(hold_gil):
    engine = create_engine(EngineSpec('fake', '', {'latency_ms': 50, 'hold_gil': hold_gil}))
    for _ in range(2):
        start = time.monotonic()
        engine.infer(nv12_frame(10))
        assert time.monotonic() - start >= 0.049


def test_fake_device_fps_spaces_forwards_of_engines_sharing_the_device():
    # Two engines of one process share one simulated device serving 50 forwards a second:
    # after the first forward, each of the next 5 waits for its 20 ms turn.
    engines = [create_engine(EngineSpec('fake', '', {'device_fps': 50.0})) for _ in range(2)]
    start = time.monotonic()
    for index in range(6):
        engines[index % 2].infer(nv12_frame(10))
    assert time.monotonic() - start >= 5 / 50.0 - 0.002
    for engine in engines:
        engine.close()


#: Forward time of the GIL tests: long beside the scheduler's stalls on a busy machine.
GIL_TEST_LATENCY_S = 0.4


def test_fake_hold_gil_blocks_other_threads_like_pyeasy_dnn():
    latency_ms = GIL_TEST_LATENCY_S * 1e3
    holding = create_engine(EngineSpec('fake', '', {'latency_ms': latency_ms, 'hold_gil': True}))
    releasing = create_engine(EngineSpec('fake', '', {'latency_ms': latency_ms}))
    assert not holding.releases_gil and releasing.releases_gil
    # Held: no other thread takes a step during the sleep in the forward (all but the few
    # microseconds of Python around it), however idle the machine.
    stall = longest_stall_during(lambda: holding.infer(nv12_frame(10)))
    assert stall >= GIL_TEST_LATENCY_S / 2
    # Released: the other thread runs; only a busy machine's scheduler stalls it, and not for a
    # whole forward every time.
    stalls = [longest_stall_during(lambda: releasing.infer(nv12_frame(10)))]
    while min(stalls) >= GIL_TEST_LATENCY_S / 4 and len(stalls) < 10:
        stalls.append(longest_stall_during(lambda: releasing.infer(nv12_frame(10))))
    assert min(stalls) < GIL_TEST_LATENCY_S / 4, stalls


# onnxruntime -------------------------------------------------------------------------------------

WEIGHTS = np.array([1.0, 2.0, 3.0])
#: The zoo's ImageNet normalization, as published (RGB).
ZOO_MEAN = [123.675, 116.28, 103.53]
ZOO_STD = [58.395, 57.12, 57.375]


def row_model(path: Path, height, width, channels: int = 3, dtype: str = 'FLOAT') -> None:
    """
    Write an ONNX model: logits[c, y] = WEIGHTS[c] * mean over x of the input data[0, c, y, x].

    Every logit depends on one channel and one row, so channel order and layout both show.
    """
    onnx = pytest.importorskip('onnx', reason='the onnx package builds the test models')
    from onnx import helper, numpy_helper, TensorProto
    weights = numpy_helper.from_array(
        WEIGHTS.astype(helper.tensor_dtype_to_np_dtype(getattr(TensorProto, dtype)))
        .reshape(1, 3, 1), 'weights')
    graph = helper.make_graph(
        [helper.make_node('ReduceMean', ['data'], ['rows'], axes=[3], keepdims=0),
         helper.make_node('Mul', ['rows', 'weights'], ['output'])],
        'rows',
        [helper.make_tensor_value_info('data', getattr(TensorProto, dtype),
                                       [1, channels, height, width])],
        [helper.make_tensor_value_info('output', getattr(TensorProto, dtype), [1, 3, height])],
        initializer=[weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def reference_logits(nv12, height, width, mean, std):
    """Compute the row model's logits with numpy from OpenCV's NV12 to RGB conversion."""
    rgb = cv2.cvtColor(nv12.reshape(height * 3 // 2, width), cv2.COLOR_YUV2RGB_NV12)
    normalized = (rgb.astype(np.float64) - mean) / std
    return (normalized.mean(axis=1).T * WEIGHTS[:, None]).reshape(-1)


def test_onnxruntime_matches_a_numpy_reference(tmp_path):
    path = tmp_path / 'rows.onnx'
    row_model(path, 6, 10)
    mean, std = [10.0, 20.0, 30.0], [2.0, 4.0, 8.0]
    engine = create_engine(EngineSpec('onnxruntime', str(path), {'mean': mean, 'std': std}))
    assert (engine.input_height, engine.input_width, engine.num_classes) == (6, 10, 18)
    assert engine.releases_gil
    rng = np.random.default_rng(3)
    for _ in range(3):  # the engine reuses its buffers between calls
        nv12 = rng.integers(0, 256, 6 * 10 * 3 // 2, dtype=np.uint8)
        logits = engine.infer(nv12)
        assert logits.dtype == np.float32 and logits.shape == (18,)
        np.testing.assert_allclose(logits, reference_logits(nv12, 6, 10, mean, std),
                                   rtol=1e-5, atol=1e-4)


def test_onnxruntime_defaults_to_the_zoo_normalization(tmp_path):
    path = tmp_path / 'rows.onnx'
    row_model(path, 4, 8)
    engine = create_engine(EngineSpec('onnxruntime', str(path)))
    nv12 = np.random.default_rng(4).integers(0, 256, 48, dtype=np.uint8)
    np.testing.assert_allclose(engine.infer(nv12),
                               reference_logits(nv12, 4, 8, ZOO_MEAN, ZOO_STD),
                               rtol=1e-5, atol=1e-5)


def test_onnxruntime_feeds_red_to_the_first_channel(tmp_path):
    path = tmp_path / 'rows.onnx'
    row_model(path, 4, 8)
    engine = create_engine(EngineSpec('onnxruntime', str(path),
                                      {'mean': [0, 0, 0], 'std': [1, 1, 1]}))
    # BT.601 video-range red: Y 81, U 90, V 240.
    per_channel = engine.infer(nv12_frame(81, 8, 4, u=90, v=240)).reshape(3, 4) / WEIGHTS[:, None]
    red, green, blue = per_channel.mean(axis=1)
    assert red > 200 and green < 40 and blue < 40


def test_onnxruntime_dynamic_size_comes_from_the_input_size_option(tmp_path):
    path = tmp_path / 'dynamic.onnx'
    row_model(path, 'height', 'width')
    engine = create_engine(EngineSpec('onnxruntime', str(path), {'input_size': [4, 12]}))
    assert (engine.input_height, engine.input_width, engine.num_classes) == (4, 12, 12)
    default = create_engine(EngineSpec('onnxruntime', str(path)))
    assert (default.input_height, default.input_width, default.num_classes) == (224, 224, 672)


@pytest.mark.requires('onnx', 'onnxruntime', reason='the onnx package builds the test models '
                      'and ONNX Runtime reports what is wrong with them')
def test_onnxruntime_errors_name_the_file(tmp_path):
    with pytest.raises(EngineError, match='none.onnx does not exist; download it'):
        create_engine(EngineSpec('onnxruntime', str(tmp_path / 'none.onnx')))
    garbage = tmp_path / 'garbage.onnx'
    garbage.write_bytes(b'not a model')
    with pytest.raises(EngineError, match='could not load .*garbage.onnx.*ONNX model'):
        create_engine(EngineSpec('onnxruntime', str(garbage)))
    gray = tmp_path / 'gray.onnx'
    row_model(gray, 4, 8, channels=1)
    with pytest.raises(EngineError, match='gray.onnx: input data .*1, 1, 4, 8.*1x3xHxW'):
        create_engine(EngineSpec('onnxruntime', str(gray)))
    doubles = tmp_path / 'double.onnx'
    row_model(doubles, 4, 8, dtype='DOUBLE')
    with pytest.raises(EngineError, match='double.onnx: input data is tensor\\(double\\)'):
        create_engine(EngineSpec('onnxruntime', str(doubles)))


@pytest.mark.parametrize('options, message', [
    ({'std': [1, 0, 1]}, 'std must be 3 finite numbers .*none 0'),
    ({'mean': [1, 2]}, 'mean must be 3'),
    ({'intra_op_threads': -1}, 'intra_op_threads')])
def test_onnxruntime_rejects_bad_options(tmp_path, options, message):
    path = tmp_path / 'rows.onnx'
    row_model(path, 4, 8)
    with pytest.raises(EngineError, match=message):
        create_engine(EngineSpec('onnxruntime', str(path), options))


# create_engine -----------------------------------------------------------------------------------

def test_unknown_engine_lists_the_kinds():
    with pytest.raises(EngineError, match="unknown engine 'tpu'; use one of: "
                                          'fake, hobot_dnn, onnxruntime'):
        create_engine(EngineSpec('tpu'))
    assert ENGINE_KINDS == ('fake', 'hobot_dnn', 'onnxruntime')


def test_spec_pickles_for_worker_processes():
    spec = EngineSpec('fake', '', {'input_size': [32, 32], 'num_classes': 5})
    copy = pickle.loads(pickle.dumps(spec))
    assert copy == spec
    assert create_engine(copy).num_classes == 5
