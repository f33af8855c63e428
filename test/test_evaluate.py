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

import cv2
import numpy as np
import pytest
from rdk_classifier.catalog import resolve_model
from rdk_classifier.errors import ConfigError
from rdk_classifier.inference.frames import nv12_to_bgr, NV12Converter, RESIZE_MODES
from rdk_classifier.programs.evaluate import (_count, camera_jpeg, evaluate, evaluate_jpeg,
                                              labelled_images, main, paired_float_input,
                                              PathCounts)

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


def test_lost_and_won_count_against_the_baseline():
    results = {'reference': PathCounts(), 'candidate': PathCounts('reference')}
    one_hot = np.eye(10)
    # (reference's top-1, candidate's top-1, label): both right, lost, won, both wrong.
    for reference, candidate, label in ((1, 1, 1), (2, 3, 2), (4, 5, 5), (6, 7, 8)):
        _count(results, {'reference': one_hot[reference], 'candidate': one_hot[candidate]},
               label)
    assert results['candidate'] == PathCounts('reference', images=4, top1=2, top5=3, lost=1,
                                              won=1)
    assert results['reference'].top1 == 2


@pytest.mark.parametrize('mode', RESIZE_MODES)
def test_paired_float_input_sees_what_the_nv12_path_sees(mode):
    """Same crop box and resize: only colour coding separates the float and NV12 pictures."""
    x, y = np.meshgrid(np.linspace(0, 255, 500), np.linspace(0, 255, 375))
    bgr = np.dstack([x, y, 255 - x]).astype(np.uint8)
    cv2.circle(bgr, (300, 150), 80, (20, 200, 90), -1)
    converter = NV12Converter(224, 224, mode)
    mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    rgb = paired_float_input(bgr, converter, mean, std)[0].transpose(1, 2, 0)
    decoded = cv2.cvtColor(nv12_to_bgr(converter.from_raw(bgr, 500, 375, 1500, 'bgr8'),
                                       224, 224), cv2.COLOR_BGR2RGB)
    assert np.abs(rgb - decoded).mean() < 3.0
    if mode == 'stretch':
        expected = cv2.resize(bgr, (224, 224), interpolation=cv2.INTER_LINEAR)[..., ::-1]
        np.testing.assert_array_equal(rgb, expected)


def test_camera_jpeg_has_the_camera_size():
    bgr = np.full((375, 500, 3), 90, np.uint8)
    for width, height in ((640, 480), (1920, 1080), (320, 240)):
        decoded = cv2.imdecode(np.frombuffer(camera_jpeg(bgr, width, height), np.uint8),
                               cv2.IMREAD_COLOR)
        assert decoded.shape == (height, width, 3)
        assert np.abs(decoded.astype(int) - 90).max() <= 2


#: The evaluations run the model on ONNX Runtime.
needs_onnxruntime = pytest.mark.requires(
    'onnxruntime', reason='the evaluation runs EfficientNet_Lite0 on ONNX Runtime')


def real_images(count: int) -> list:
    if not (SAMPLES / 'classes.tsv').is_file():
        pytest.skip('../shared/imagenet-sample is absent')
    try:
        resolve_model('EfficientNet_Lite0', 'onnxruntime')
    except ConfigError as exc:
        pytest.skip('the default model is not exported: %s' % exc)
    return labelled_images(SAMPLES / 'images', SAMPLES / 'classes.tsv')[:count]


@needs_onnxruntime
def test_evaluation_on_real_photos(tmp_path):
    images = real_images(12)
    results = evaluate('EfficientNet_Lite0', images, modes=('center_crop', 'stretch'))
    assert list(results) == ['float timm', 'float center_crop', 'NV12 center_crop',
                             'NV12 center_crop, top-left chroma', 'float stretch',
                             'NV12 stretch', 'NV12 stretch, top-left chroma']
    for path, counts in results.items():
        assert counts.top1 <= counts.top5 <= counts.images == 12
        if counts.baseline is not None:
            baseline = results[counts.baseline]
            assert counts.top1 - baseline.top1 == counts.won - counts.lost, path
    # Real ImageNet weights: most of these photos are recognised.
    assert results['float timm'].top1 >= 8 and results['NV12 center_crop'].top1 >= 8
    assert main(['--limit', '6', '--out', str(tmp_path)]) == 0
    with open(tmp_path / 'evaluate.csv', encoding='utf-8') as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 1 + 3 * len(RESIZE_MODES)
    assert all(row['images'] == '6' for row in rows)
    assert (tmp_path / 'evaluate.png').stat().st_size > 1000


@needs_onnxruntime
def test_jpeg_evaluation_on_real_photos(tmp_path):
    images = real_images(6)
    results = evaluate_jpeg('EfficientNet_Lite0', images, modes=('center_crop',),
                            sizes=((1920, 1080),))
    assert list(results) == ['JPEG 1920x1080 center_crop, full decode',
                             'JPEG 1920x1080 center_crop, 1/2 decode']
    reduced = results['JPEG 1920x1080 center_crop, 1/2 decode']
    full = results['JPEG 1920x1080 center_crop, full decode']
    assert reduced.baseline == 'JPEG 1920x1080 center_crop, full decode'
    assert reduced.top1 - full.top1 == reduced.won - reduced.lost
    assert full.images == 6 and full.top1 >= 4
    assert main(['--jpeg', '--jpeg-sizes', '640x480,1920x1080', '--limit', '2', '--out',
                 str(tmp_path)]) == 0
    with open(tmp_path / 'evaluate_jpeg.csv', encoding='utf-8') as stream:
        paths = [row['path'] for row in csv.DictReader(stream)]
    # 640x480 center_crop decodes at full size in the node: no reduced row.
    assert 'JPEG 640x480 center_crop, full decode' in paths
    assert not any(path.startswith('JPEG 640x480 center_crop, 1/') for path in paths)
    assert 'JPEG 1920x1080 center_crop, 1/2 decode' in paths
    # 2 photos, 3 modes reduced at 1920x1080
    assert 'over the 6 frames decoded reduced' in (tmp_path / 'evaluate_jpeg.md').read_text()


def test_bad_jpeg_sizes_are_one_line(capsys):
    with pytest.raises(SystemExit):
        main(['--jpeg', '--jpeg-sizes', '640by480'])
    assert 'expected sizes like 640x480' in capsys.readouterr().err
