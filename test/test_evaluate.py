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

"""Tests of the evaluation command: label parsing, counts and the written report."""

import csv
from pathlib import Path

import pytest
from rdk_classifier.catalog import ConfigError, resolve_model
from rdk_classifier.evaluate import evaluate, labelled_images, main

SAMPLES = Path(__file__).resolve().parents[2] / 'shared' / 'imagenet-sample'


def test_labels_come_from_the_wnid_of_the_file_name(tmp_path):
    (tmp_path / 'classes.tsv').write_text('index\twnid\tname\n0\tn01\ttench\n1\tn02\tgoldfish\n')
    images = tmp_path / 'images'
    images.mkdir()
    for name in ('n02_goldfish.JPEG', 'n01_tench.JPEG', 'notes.txt'):
        (images / name).write_bytes(b'')
    assert [(p.name, label) for p, label in labelled_images(images, tmp_path / 'classes.tsv')] \
        == [('n01_tench.JPEG', 0), ('n02_goldfish.JPEG', 1)]
    (images / 'n99_unknown.JPEG').write_bytes(b'')
    with pytest.raises(ConfigError, match='n99'):
        labelled_images(images, tmp_path / 'classes.tsv')


def test_missing_folder_is_one_line(tmp_path, capsys):
    assert main(['--images', str(tmp_path)]) == 1
    assert capsys.readouterr().err.count('\n') == 1


def test_evaluation_on_real_photos(tmp_path):
    if not (SAMPLES / 'classes.tsv').is_file():
        pytest.skip('../shared/imagenet-sample is absent')
    try:
        resolve_model('EfficientNet_Lite0', 'onnxruntime')
    except ConfigError as exc:
        pytest.skip('the default model is not exported: %s' % exc)
    images = labelled_images(SAMPLES / 'images', SAMPLES / 'classes.tsv')[:12]
    results = evaluate('EfficientNet_Lite0', images, modes=('center_crop', 'stretch'))
    reference = results['float RGB reference']
    assert reference['images'] == 12 and reference['agree'] == 12
    for counts in results.values():
        assert counts['top1'] <= counts['top5'] <= counts['images'] == 12
    # Real ImageNet weights: most of these photos are recognised.
    assert reference['top1'] >= 8 and results['NV12 center_crop']['top1'] >= 8
    assert main(['--limit', '6', '--out', str(tmp_path)]) == 0
    with open(tmp_path / 'evaluate.csv', encoding='utf-8') as stream:
        rows = list(csv.DictReader(stream))
    assert [row['path'] for row in rows] == ['float RGB reference', 'NV12 center_crop',
                                             'NV12 stretch', 'NV12 letterbox']
    assert all(row['images'] == '6' for row in rows)
    assert (tmp_path / 'evaluate.png').stat().st_size > 1000
