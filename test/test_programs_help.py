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

"""Every option of every program says its default in --help."""

import importlib
from pathlib import Path
import re

import pytest
from rdk_classifier.catalog import default_cache_dir

PROGRAMS = [
    pytest.param('download', id='download'),
    pytest.param('export_onnx', id='export_onnx'),
    pytest.param('evaluate', id='evaluate'),
    pytest.param('camera_sim', id='camera_sim', marks=pytest.mark.requires(
        'rclpy', reason='camera_sim removes ROS arguments with rclpy before parsing')),
    pytest.param('demo', id='demo', marks=pytest.mark.requires(
        'rclpy', 'vision_msgs', reason='the demo imports rclpy and vision_msgs'))]


def help_text(program, capsys):
    main = importlib.import_module('rdk_classifier.programs.%s' % program).main
    with pytest.raises(SystemExit) as stopped:
        main(['--help'])
    assert stopped.value.code == 0
    return capsys.readouterr().out


def option_entries(text):
    """Return each entry of the options section: its lines joined, whitespace collapsed."""
    section = text.split('\noptions:\n', 1)[-1].split('\n\n', 1)[0]
    entries = re.split(r'\n(?=  \S)', section)
    return [' '.join(entry.split()) for entry in entries if entry.strip()]


@pytest.mark.parametrize('program', PROGRAMS)
def test_every_option_says_its_default(program, capsys):
    entries = option_entries(help_text(program, capsys))
    assert len(entries) >= 4
    for entry in entries:
        assert entry.startswith('-h, --help') or '(default: ' in entry or 'default: ' in entry, \
            entry


def test_export_onnx_says_where_it_writes(capsys):
    text = ' '.join(help_text('export_onnx', capsys).split())
    assert str(default_cache_dir() / 'models' / 'repvit_m0_9.onnx') in text
    assert '~/.cache/rdk_classifier/models' in text and '$RDK_CLASSIFIER_CACHE' in text


def test_evaluate_explains_model_and_out_without_a_development_path(capsys):
    entries = option_entries(help_text('evaluate', capsys))
    text = ' '.join(entries)
    checkout = str(Path(__file__).resolve().parents[1])
    assert checkout not in text and str(Path(checkout).parent) not in text
    model = next(entry for entry in entries if entry.startswith('--model'))
    out = next(entry for entry in entries if entry.startswith('--out'))
    assert 'onnxruntime' in model and 'export_onnx' in model and 'EfficientNet_Lite0' in model
    assert 'evaluate.csv' in out and 'eval_results' in out
