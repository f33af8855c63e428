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

"""What a user without a model is told, on a board and on a PC; close names."""

import pytest
from rdk_classifier import hints
from rdk_classifier.catalog import load_catalog

NAMES = [info.name for info in load_catalog().values()]
URL = load_catalog()['repvit_m0_9'].bin_url


def pasteable(text):
    """Return the commands of a hint: its lines that start with four spaces, stripped."""
    return [line[4:] for line in text.splitlines() if line.startswith('    ')]


@pytest.mark.parametrize('typed, expected', [
    ('repvit_m09', 'RepViT_m0_9'), ('REPVIT_M0_9', 'RepViT_m0_9'), ('lite0', 'EfficientNet_Lite0'),
    ('edgenext_smal', 'EdgeNeXt_small'), ('efficientformer_s2', 'EfficientFormerv2_s2')])
def test_close_names_ignore_case(typed, expected):
    assert hints.close_names(typed, NAMES)[0] == expected


def test_nothing_close_is_nothing():
    assert hints.close_names('resnet50', NAMES) == []
    assert 'did you mean' not in hints.unknown_model('resnet50', NAMES)


def test_on_a_board_a_zoo_model_is_downloaded():
    text = hints.missing_model('RepViT_m0_9', 'RepViT_m0_9_224x224_nv12.bin', URL, board=True)
    assert pasteable(text) == ['ros2 run rdk_classifier download RepViT_m0_9', 'wget ' + URL]
    assert 'export_onnx' not in text and 'pip3' not in text


def test_on_a_pc_a_zoo_model_is_exported_or_lite0_built():
    text = hints.missing_model('RepViT_m0_9', 'repvit_m0_9.onnx', URL, board=False)
    assert pasteable(text) == [hints.TIMM_PIP, 'ros2 run rdk_classifier export_onnx RepViT_m0_9',
                               hints.LITE0_PIP,
                               'ros2 run rdk_classifier export_onnx EfficientNet_Lite0']
    assert 'download' not in text


def test_a_bin_wanted_on_a_pc_points_to_the_board_and_to_onnxruntime():
    text = hints.missing_model('RepViT_m0_9', 'RepViT_m0_9_224x224_nv12.bin', URL, board=False)
    assert 'ros2 run rdk_classifier export_onnx RepViT_m0_9' in pasteable(text)
    assert "RDK X5's BPU only" in text and 'engine:=onnxruntime' in text


def test_an_onnx_wanted_on_a_board_points_to_the_bin():
    text = hints.missing_model('RepViT_m0_9', 'repvit_m0_9.onnx', URL, board=True)
    assert pasteable(text) == ['ros2 run rdk_classifier download RepViT_m0_9']
    assert 'engine:=auto' in text


@pytest.mark.parametrize('board', [True, False])
def test_lite0_is_built_anywhere(board):
    text = hints.missing_model('EfficientNet_Lite0', 'EfficientNet_Lite0.onnx', '', board)
    assert pasteable(text) == [hints.LITE0_PIP,
                               'ros2 run rdk_classifier export_onnx EfficientNet_Lite0']


def test_the_board_is_where_pyeasy_dnn_imports(pyeasy_dnn):
    assert hints.on_board()
