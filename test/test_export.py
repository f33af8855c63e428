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

"""Tests of the ONNX export (the embedded EfficientNet-Lite0 default, with real weights)."""

import sys

import cv2
import numpy as np
import pytest
from rdk_classifier.demo import BUNDLED
from rdk_classifier.export_onnx import export_model, ExportError, main
from rdk_classifier.frames import NV12Converter


def test_lite0_exports_with_real_weights_and_metadata(tmp_path):
    onnx = pytest.importorskip('onnx')
    path = export_model('EfficientNet_Lite0', str(tmp_path / 'lite0.onnx'))
    model = onnx.load(str(path))
    metadata = {p.key: p.value for p in model.metadata_props}
    assert 'imagenet' in metadata['weights'] and metadata['mean'] == '127,127,127'
    assert [i.name for i in model.graph.input] == ['data']
    assert [o.name for o in model.graph.output] == ['output']
    from rdk_classifier.engines import create_engine, EngineSpec
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


def test_zoo_exports_need_timm(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, 'timm', None)
    with pytest.raises(ExportError, match='timm'):
        export_model('RepViT_m0_9', str(tmp_path / 'x.onnx'))
    assert main(['RepViT_m0_9', '-o', str(tmp_path / 'x.onnx')]) == 1
    assert 'torchvision' in capsys.readouterr().err
    assert not (tmp_path / 'x.onnx').exists()
