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

"""Tests of the model catalog, model file resolution and labels."""

import json
from pathlib import Path
import sys
import types

import pytest
from rdk_classifier import catalog
from rdk_classifier.catalog import (default_cache_dir, find_model, load_catalog, load_labels,
                                    resolve_model)
from rdk_classifier.errors import ConfigError
from rdk_classifier.paths import package_config_path

SEED_MODELS = {
    # name: (params M, float top-1, quantized top-1, 1-thread ms, 4-thread ms, 4-thread FPS),
    # as published in the RDK Model Zoo (samples/vision/classification/README.md).
    'ConvNeXt_atto': (3.69, 73.25, 69.75, 1.96, 5.39, 732.10),
    'ConvNeXt_femto': (5.22, 73.75, 72.25, 2.46, 7.11, 556.02),
    'ConvNeXt_pico': (9.04, 77.25, 71.03, 3.37, 10.88, 364.07),
    'ConvNeXt_nano': (15.59, 77.37, 71.75, 5.71, 19.80, 200.18),
    'EdgeNeXt_xx_small': (1.33, 69.50, 64.25, 2.47, 7.24, 403.49),
    'EdgeNeXt_x_small': (2.34, 71.75, 66.25, 2.88, 9.63, 345.73),
    'EdgeNeXt_small': (5.59, 76.50, 71.75, 4.41, 14.93, 226.15),
    'EdgeNeXt_base': (18.51, 78.21, 74.52, 8.80, 32.31, 113.35),
    'EfficientFormerv2_s0': (3.57, 74.25, 68.50, 5.79, 19.96, 198.45),
    'EfficientFormerv2_s1': (6.12, 77.25, 68.75, 4.24, 14.35, 275.95),
    'EfficientFormerv2_s2': (12.6, 77.50, 70.75, 6.99, 26.01, 152.40),
    'RepViT_m0_9': (5.14, 76.32, 75.75, 1.65, 4.37, 902.69),
    'RepViT_m1_0': (6.83, 76.75, 76.50, 1.97, 5.71, 692.29),
    'RepViT_m1_1': (8.27, 77.73, 77.50, 2.32, 6.69, 590.42),
    'EfficientNet_B2': (9.07, 76.50, 73.25, 3.31, 10.51, 376.77),
    'EfficientNet_B3': (12.19, 76.22, 74.05, 3.96, 12.76, 310.30),
    'EfficientNet_B4': (19.27, 74.25, 71.75, 5.44, 18.63, 212.75),
}
CLASSES_TSV = Path(__file__).resolve().parents[2] / 'shared' / 'imagenet-sample' / 'classes.tsv'


@pytest.fixture
def no_hobot_dnn(monkeypatch):
    for name in ('hobot_dnn', 'hobot_dnn.pyeasy_dnn', 'hobot_dnn_rdkx5',
                 'hobot_dnn_rdkx5.pyeasy_dnn'):
        monkeypatch.setitem(sys.modules, name, None)


@pytest.fixture
def fake_hobot_dnn(monkeypatch):
    package = types.ModuleType('hobot_dnn')
    package.pyeasy_dnn = types.ModuleType('hobot_dnn.pyeasy_dnn')
    monkeypatch.setitem(sys.modules, 'hobot_dnn', package)
    monkeypatch.setitem(sys.modules, 'hobot_dnn.pyeasy_dnn', package.pyeasy_dnn)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv('RDK_CLASSIFIER_CACHE', str(tmp_path / 'cache'))
    return tmp_path / 'cache' / 'models'


def test_catalog_holds_the_published_figures():
    models = load_catalog()
    for name, figures in SEED_MODELS.items():
        info = models[name.lower()]
        assert (info.params_m, info.top1_float, info.top1_quant, info.latency_ms_1t,
                info.latency_ms_4t, info.fps_4t) == figures, name
        assert info.bin_file == '%s_224x224_nv12.bin' % name
        assert info.bin_url.endswith('/rdk_x5/' + info.bin_file)
        assert (info.input_height, info.input_width) == (224, 224)
    lite0 = models['efficientnet_lite0']
    assert (lite0.mean, lite0.std) == ((127.0,) * 3, (128.0,) * 3)
    assert len(models) == len(SEED_MODELS) + 1


def test_names_resolve_case_insensitively():
    assert find_model('repvit_M0_9').name == 'RepViT_m0_9'
    assert find_model('no such model') is None


def test_fake_engine_needs_no_file():
    resolved = resolve_model('RepViT_m0_9', 'fake')
    assert (resolved.path, resolved.engine, resolved.info.name) == ('', 'fake', 'RepViT_m0_9')


def test_user_dirs_are_searched_before_the_defaults(tmp_path, cache, no_hobot_dnn):
    for folder in (tmp_path / 'mine', cache):
        folder.mkdir(parents=True)
        (folder / 'repvit_m0_9.onnx').write_bytes(b'x')
    resolved = resolve_model('RepViT_m0_9', 'auto', [str(tmp_path / 'mine')])
    assert resolved.path == str(tmp_path / 'mine' / 'repvit_m0_9.onnx')
    assert resolved.engine == 'onnxruntime'
    assert resolve_model('RepViT_m0_9', 'onnxruntime').path == str(cache / 'repvit_m0_9.onnx')


def test_auto_picks_hobot_dnn_where_pyeasy_dnn_imports(tmp_path, fake_hobot_dnn):
    (tmp_path / 'RepViT_m0_9_224x224_nv12.bin').write_bytes(b'x')
    resolved = resolve_model('RepViT_m0_9', 'auto', [str(tmp_path)])
    assert resolved.engine == 'hobot_dnn' and resolved.path.endswith('_nv12.bin')


def test_missing_model_line_names_the_folders_and_the_download(tmp_path, cache, fake_hobot_dnn):
    with pytest.raises(ConfigError) as error:
        resolve_model('RepViT_m0_9', 'hobot_dnn', [str(tmp_path)])
    message = str(error.value)
    # One line says what is missing; on a board the download command follows on its own line.
    assert '\n    ros2 run rdk_classifier download RepViT_m0_9\n' in message
    assert str(tmp_path) in message and '/opt/hobot/model/x5/basic' in message
    assert str(cache) in message
    assert 'ros2 run rdk_classifier download RepViT_m0_9' in message
    assert 'RepViT_m0_9_224x224_nv12.bin' in message


@pytest.mark.requires('onnxruntime', reason='engine auto takes a .onnx path to the onnxruntime '
                      'engine only where ONNX Runtime is installed')
def test_paths_are_accepted_and_checked(tmp_path, no_hobot_dnn):
    model = tmp_path / 'net.onnx'
    model.write_bytes(b'x')
    assert resolve_model(str(model)).engine == 'onnxruntime'
    with pytest.raises(ConfigError, match='engine:=onnxruntime'):
        resolve_model(str(model), 'hobot_dnn')
    with pytest.raises(ConfigError, match='pyeasy_dnn'):
        resolve_model(str(tmp_path / 'net.bin'))
    with pytest.raises(ConfigError, match='does not exist'):
        resolve_model(str(tmp_path / 'other.onnx'))


def test_unknown_names_and_engines():
    with pytest.raises(ConfigError, match='did you mean RepViT_m0_9'):
        resolve_model('RepVit_m09')
    with pytest.raises(ConfigError, match='zoo names are in .*models.yaml'):
        resolve_model('Nope')
    with pytest.raises(ConfigError, match='auto, fake, hobot_dnn, onnxruntime'):
        resolve_model('RepViT_m0_9', 'tpu')


def test_labels_in_the_zoo_formats(tmp_path):
    names = ['tench', 'goldfish', "great white shark, 'white death'"]
    files = {
        'list.json': json.dumps(names),
        'dict.py': repr(dict(enumerate(names))),
        'lines.txt': '\n'.join(names) + '\n',
    }
    for filename, text in files.items():
        (tmp_path / filename).write_text(text)
        assert load_labels(str(tmp_path / filename)) == names, filename


@pytest.mark.parametrize('text, message', [
    ('', 'no labels'), ('[1, 2]', 'strings'), ('{0: "a", 2: "b"}', 'without gaps'),
    ('{0: "a",', 'dict literal'), ('[bad', 'JSON')])
def test_malformed_labels(tmp_path, text, message):
    path = tmp_path / 'labels.txt'
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_labels(str(path))
    with pytest.raises(ConfigError, match='cannot be read'):
        load_labels(str(tmp_path / 'missing.txt'))


def test_shipped_labels_are_imagenet_1k():
    labels = load_labels('')
    assert len(labels) == 1000
    if not CLASSES_TSV.is_file():
        pytest.skip('../shared/imagenet-sample is absent: names not compared')
    rows = CLASSES_TSV.read_text().splitlines()[1:]
    assert labels == [row.split('\t')[2] for row in rows]


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv('RDK_CLASSIFIER_CACHE', raising=False)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    assert default_cache_dir() == tmp_path / 'rdk_classifier'
    monkeypatch.setenv('RDK_CLASSIFIER_CACHE', str(tmp_path / 'x'))
    assert default_cache_dir() == tmp_path / 'x'


def test_config_files_are_found_in_the_checkout():
    assert package_config_path('models.yaml') == \
        Path(catalog.__file__).resolve().parents[1] / 'config' / 'models.yaml'
