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
Tests of the ONNX metadata the onnxruntime engine reads: where the weights came from.

A model with random (speed-only) weights is refused unless allow_speed_only says it is fine.
The models are built here with the onnx helper API; the metadata parser is checked against the
onnx package's own protobuf parsing and against ONNX Runtime's custom metadata map.
"""

from pathlib import Path
from typing import Dict

import cv2
import numpy as np
import pytest
from rdk_classifier.engines import create_engine, EngineError, ENGINES, EngineSpec, ModelContext
from rdk_classifier.engines.onnx import (ModelNotes, read_model_notes, SPEED_ONLY_PURPOSE,
                                         speed_only_refusal)

try:
    import onnx
    import onnxruntime
except ImportError:  # every test skips (conftest's requires mark); the module still imports
    pass

pytestmark = pytest.mark.requires('onnx', 'onnxruntime', reason='the onnx package builds the '
                                  'test models and the engine runs on onnxruntime')

#: The metadata export_onnx writes with --random-weights.
SPEED_ONLY = {'weights': 'random-init', 'model': 'RepViT_m0_9', 'purpose': SPEED_ONLY_PURPOSE}
#: What files exported before --random-weights existed carry (no model name).
OLD_SPEED_ONLY = {'weights': 'random-init', 'purpose': SPEED_ONLY_PURPOSE}
REAL = {'weights': 'timm pretrained timm/repvit_m0_9.dist_300e_in1k', 'model': 'RepViT_m0_9'}


def pooled_model(path: Path, metadata: Dict[str, str], padding_values: int = 0,
                 doc_string: str = '') -> None:
    """
    Write a 1x3x8x8 model whose logits are the channel means, with ``metadata`` as metadata_props.

    ``padding_values`` adds an unused float initializer of that many values (a model's weights),
    so the file is as large as a real model's.
    """
    from onnx import helper, numpy_helper, TensorProto
    initializers = [numpy_helper.from_array(np.arange(padding_values, dtype=np.float32),
                                            'padding')] if padding_values else []
    graph = helper.make_graph(
        [helper.make_node('GlobalAveragePool', ['data'], ['pooled']),
         helper.make_node('Flatten', ['pooled'], ['output'])],
        'pooled',
        [helper.make_tensor_value_info('data', TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info('output', TensorProto.FLOAT, [1, 3])],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)],
                              producer_name='test', doc_string=doc_string)
    model.ir_version = 8
    helper.set_model_props(model, metadata)
    onnx.save(model, str(path))


@pytest.mark.parametrize('metadata, padding_values, doc_string', [
    ({}, 0, ''),
    (REAL, 0, 'a model'),
    (SPEED_ONLY, 3_000_000, ''),  # a 12 MB initializer before the metadata field
    ({'': 'empty key', 'empty value': '', 'ünïcode': '模型 ✓', 'long': 'x' * 70_000}, 10, 'd')])
def test_notes_parser_agrees_with_onnx_and_onnxruntime(tmp_path, metadata, padding_values,
                                                       doc_string):
    path = tmp_path / 'model.onnx'
    pooled_model(path, metadata, padding_values, doc_string)
    from rdk_classifier.engines.onnx import _read_metadata_props
    with open(path, 'rb') as stream:
        parsed = _read_metadata_props(stream, path.stat().st_size)
    by_onnx = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    session = onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    assert parsed == by_onnx == metadata
    assert parsed == session.get_modelmeta().custom_metadata_map


def test_notes_tell_real_from_speed_only(tmp_path):
    for name, metadata in (('real', REAL), ('speed', SPEED_ONLY), ('old', OLD_SPEED_ONLY),
                           ('bare', {})):
        pooled_model(tmp_path / (name + '.onnx'), metadata)
    real = read_model_notes(str(tmp_path / 'real.onnx'))
    assert real == ModelNotes(REAL['weights'], False, 'RepViT_m0_9')
    assert real.weights_note == 'weights: ' + REAL['weights']
    speed = read_model_notes(str(tmp_path / 'speed.onnx'))
    assert speed == ModelNotes('random-init', True, 'RepViT_m0_9')
    assert 'SPEED-ONLY' in speed.weights_note and 'meaningless' in speed.weights_note
    assert read_model_notes(str(tmp_path / 'old.onnx')) == ModelNotes('random-init', True, '')
    bare = read_model_notes(str(tmp_path / 'bare.onnx'))
    assert bare == ModelNotes('', False, '') and 'not recorded' in bare.weights_note


def test_notes_of_broken_files_are_one_line_errors(tmp_path):
    with pytest.raises(EngineError, match='none.onnx does not exist; download it'):
        read_model_notes(str(tmp_path / 'none.onnx'))
    path = tmp_path / 'model.onnx'
    pooled_model(path, REAL, padding_values=1000)
    whole = path.read_bytes()
    broken = {'truncated.onnx': whole[:len(whole) // 2],
              'text.onnx': b'not a model\n' * 10,
              'cut_varint.onnx': b'\x08\xff',
              # field 14 holding 3 bytes whose fixed64 field (tag 0x09) runs past them
              'bad_entry.onnx': b'\x72\x03\x09\x00\x00' + b'\x00' * 8}
    for name, content in broken.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(EngineError) as caught:
            read_model_notes(str(tmp_path / name))
        message = str(caught.value)
        assert name in message and 'not a readable ONNX model' in message
        assert '\n' not in message


def test_engine_refuses_a_speed_only_model_with_one_line(tmp_path):
    path = tmp_path / 'repvit_m0_9.onnx'
    pooled_model(path, SPEED_ONLY)
    with pytest.raises(EngineError) as caught:
        create_engine(EngineSpec('onnxruntime', str(path), {'input_size': [8, 8]}))
    message = str(caught.value)
    assert '\n' not in message
    assert message.startswith('%s has random weights' % path)
    assert 'export_onnx RepViT_m0_9' in message and '--checkpoint' in message
    assert 'onnxruntime.allow_speed_only' in message
    assert message == speed_only_refusal(str(path), read_model_notes(str(path)))


def test_engine_refuses_speed_only_files_exported_before_the_flag(tmp_path):
    path = tmp_path / 'old.onnx'
    pooled_model(path, OLD_SPEED_ONLY)
    with pytest.raises(EngineError, match='random weights.*export_onnx <model>'):
        create_engine(EngineSpec('onnxruntime', str(path), {'allow_speed_only': False}))


def test_engine_runs_a_speed_only_model_when_allowed_and_says_so(tmp_path):
    path = tmp_path / 'repvit_m0_9.onnx'
    pooled_model(path, SPEED_ONLY)
    engine = create_engine(EngineSpec('onnxruntime', str(path), {'allow_speed_only': True}))
    assert engine.notes.speed_only and 'SPEED-ONLY' in engine.notes.weights_note
    # It runs: the logits are the channel means of OpenCV's RGB of the frame, normalized with
    # the zoo's values.
    nv12 = np.random.default_rng(3).integers(0, 256, engine.input_nbytes, dtype=np.uint8)
    rgb = cv2.cvtColor(nv12.reshape(12, 8), cv2.COLOR_YUV2RGB_NV12).reshape(-1, 3)
    expected = (rgb.mean(axis=0) - np.array([123.675, 116.28, 103.53])) / np.array(
        [58.395, 57.12, 57.375])
    np.testing.assert_allclose(engine.infer(nv12), expected, rtol=1e-4)


def test_node_parameter_reaches_the_engine_option(tmp_path):
    # The node turns its onnxruntime.* parameters into options with the engine kind's options().
    path = tmp_path / 'repvit_m0_9.onnx'
    pooled_model(path, SPEED_ONLY)
    kind = ENGINES['onnxruntime']
    assert [p.default for p in kind.parameters if p.name == 'allow_speed_only'] == [False]
    context = ModelContext(info=None, workers=1)
    for allowed in (False, True):
        options = kind.options({'intra_op_threads': 1, 'allow_speed_only': allowed}, context)
        spec = EngineSpec('onnxruntime', str(path), options)
        if allowed:
            assert create_engine(spec).notes.speed_only
        else:
            with pytest.raises(EngineError, match='random weights'):
                create_engine(spec)


def test_engine_with_real_weights_reports_them(tmp_path):
    path = tmp_path / 'repvit_m0_9.onnx'
    pooled_model(path, REAL)
    engine = create_engine(EngineSpec('onnxruntime', str(path)))
    assert engine.notes == ModelNotes(REAL['weights'], False, 'RepViT_m0_9')


@pytest.mark.parametrize('value', ['yes', 1, None])
def test_allow_speed_only_must_be_a_bool(tmp_path, value):
    path = tmp_path / 'model.onnx'
    pooled_model(path, REAL)
    with pytest.raises(EngineError, match='allow_speed_only must be true or false, got'):
        create_engine(EngineSpec('onnxruntime', str(path), {'allow_speed_only': value}))
