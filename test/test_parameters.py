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
The parameter table: its renderings, the default model, and which parameters a node declares.

The README's table and config/classifier.yaml must be what the table renders (regenerate with
``python -m rdk_classifier.ros.parameters --readme README.md`` / ``--yaml``). A node declares
only its own engine's parameters; an unset ``model`` is RepViT_m0_9 where the BPU engine runs
and the embedded EfficientNet_Lite0 elsewhere. The process test starts the node as the launch
file does, with nothing but the packaged params file and a camera topic.
"""

from pathlib import Path
import re
import time
from typing import Tuple

from node_process import NodeProcess
from pyeasy_dnn_support import DOUBLE, forget_modules
import pytest
from rcl_interfaces.srv import ListParameters
import rclpy
from rclpy.parameter import Parameter
from rdk_classifier.catalog import default_model_dirs, load_labels, package_config_path
from rdk_classifier.ros import parameters
from rdk_classifier.ros.node import ClassifierNode
from rdk_classifier.ros.result_log import ResultLog
from scenarios import uniform_frame
import yaml

ROOT = Path(__file__).resolve().parents[1]
CAMERA = '/parameters_test/cam/image_raw'
FOREIGN = re.compile(r'^(fake|hobot_dnn|onnxruntime)\.')
COLOUR = re.compile('\x1b\\[[0-9;]*m')


def engine_parameter_names(names):
    return sorted(name for name in names if FOREIGN.match(name))


def test_readme_parameter_section_is_the_rendered_table():
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    assert readme.count(parameters.README_BEGIN) == 1 and readme.count(parameters.README_END) == 1
    section = readme.split(parameters.README_BEGIN)[1].split(parameters.README_END)[0]
    assert section == '\n' + parameters.render_markdown(), (
        'README.md parameter table is out of date: python -m rdk_classifier.ros.parameters '
        '--readme README.md')
    for spec in parameters.NODE_PARAMETERS + parameters.engine_parameters('fake'):
        assert '| `%s` |' % spec.name in section


def test_params_file_is_the_rendered_table_with_its_defaults():
    path = package_config_path('classifier.yaml')
    assert path.read_text(encoding='utf-8') == parameters.render_yaml(), (
        'config/classifier.yaml is out of date: python -m rdk_classifier.ros.parameters --yaml '
        '> config/classifier.yaml')
    (only,) = yaml.safe_load(path.read_text(encoding='utf-8')).values()
    values = only['ros__parameters']
    defaults = {s.name: s.default for s in parameters.NODE_PARAMETERS
                if not isinstance(s.default, Parameter.Type)}
    assert values == defaults
    assert all(type(values[name]) is type(default) for name, default in defaults.items())


def test_markdown_tool_prints_the_section(capsys):
    assert parameters.main(['--markdown']) == 0
    assert capsys.readouterr().out == parameters.render_markdown()
    readme = 'intro\n%s\nstale\n%s\nrest\n' % (parameters.README_BEGIN, parameters.README_END)
    assert parameters.replace_readme_section(readme) == 'intro\n%s\n%s%s\nrest\n' % (
        parameters.README_BEGIN, parameters.render_markdown(), parameters.README_END)


def test_unset_model_is_the_bpu_model_on_a_board(monkeypatch):
    monkeypatch.syspath_prepend(str(DOUBLE))
    forget_modules(monkeypatch, 'hobot_dnn', 'hobot_dnn.pyeasy_dnn')
    chosen = parameters.default_model('auto')
    assert chosen.name == 'RepViT_m0_9' and 'pyeasy_dnn is installed' in chosen.reason
    assert parameters.default_model('onnxruntime').name == 'EfficientNet_Lite0'


def test_unset_model_is_the_embedded_one_without_a_bpu(monkeypatch):
    monkeypatch.setattr(parameters.hints, 'on_board', lambda: False)
    chosen = parameters.default_model('auto')
    assert chosen.name == 'EfficientNet_Lite0' and 'not installed' in chosen.reason
    assert parameters.default_model('hobot_dnn').name == 'RepViT_m0_9'
    assert parameters.default_model('fake').name == 'EfficientNet_Lite0'


@pytest.fixture
def context():
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)


@pytest.mark.parametrize('engine, declared', [
    ('onnxruntime', ['onnxruntime.allow_speed_only', 'onnxruntime.intra_op_threads']),
    ('fake', sorted(s.name for s in parameters.engine_parameters('fake'))),
    ('hobot_dnn', []),
    ('auto', []),  # until configure has picked the engine
])
def test_a_node_declares_only_its_engines_parameters(context, engine, declared):
    node = ClassifierNode(context=context, parameter_overrides=[
        Parameter('engine', value=engine), Parameter('fake.latency_ms', value=5.0)])
    try:
        names = node.list_parameters([], 0).names
        assert engine_parameter_names(names) == declared
        if declared:
            (descriptor,) = node.describe_parameters([declared[0]])
            assert descriptor.read_only and descriptor.description
        if engine == 'fake':  # an override given before the declaration is taken
            assert node.get_parameter('fake.latency_ms').value == 5.0
    finally:
        node.destroy_node()


def test_result_log_is_throttled_per_camera():
    now = [100.0]
    log = ResultLog(2.0, clock=lambda: now[0])
    labels = ['cat', 'dog']
    assert log.line('/a/image', [(1, 0.876), (0, 0.1)], labels) == '/a/image: dog 0.88'
    assert log.line('/a/image', [(0, 0.9)], labels) is None
    assert log.line('/b/image', [(0, 0.5)], labels) == '/b/image: cat 0.50'
    now[0] += 1.99
    assert log.line('/a/image', [(0, 0.9)], labels) is None
    now[0] += 0.01
    assert log.line('/a/image', [(7, 0.3)], labels) == '/a/image: class 7 0.30'
    now[0] += 2.0
    assert log.line('/a/image', [], labels) == '/a/image: no class above score_threshold'


def lite0_runs() -> str:
    """Return why the default model cannot run here ('' when it can)."""
    if not parameters.ENGINES['onnxruntime'].missing() == '':
        return 'onnxruntime is not installed'
    if parameters.hints.on_board():
        return 'a board: the default is the BPU model'
    if not any((Path(d) / 'EfficientNet_Lite0.onnx').is_file() for d in default_model_dirs()):
        return 'EfficientNet_Lite0.onnx was not built here (make demo builds it)'
    return ''


def logged_result(process: NodeProcess, camera: str) -> Tuple[str, str]:
    """Wait for the process's log_results line of ``camera``; return its label and score."""
    pattern = re.compile(r'\]: %s: (.+) ([0-9.]+)$' % re.escape(camera))
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        lines = [COLOUR.sub('', line) for line in list(process.lines)]  # ros2 launch's colours
        logged = {m.groups() for m in map(pattern.search, lines) if m}
        if logged:
            ((label, score),) = logged  # one frame's result, logged once or more
            return label, score
        time.sleep(0.05)
    raise AssertionError('no log_results line of %s:\n%s' % (camera, process.output))


def test_the_default_model_runs_on_a_pc_and_the_node_lists_only_its_engine(client):
    reason = lite0_runs()
    if reason:
        pytest.skip(reason)
    # What the launch file passes without arguments: the packaged params file alone.
    node = NodeProcess(None, '-p', 'image_topics:=[%s]' % CAMERA)
    try:
        node.wait_for_line('classifying %s with EfficientNet_Lite0 on onnxruntime' % CAMERA)
        (why,) = [line for line in node.lines if 'model unset' in line]
        assert 'EfficientNet_Lite0' in why and 'pyeasy_dnn is not installed' in why
        service = client.node.create_client(ListParameters, '/rdk_classifier/list_parameters')
        assert service.wait_for_service(timeout_sec=10.0)
        future = service.call_async(ListParameters.Request())
        deadline = time.monotonic() + 10.0
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.05)
        names = future.result().result.names
        assert 'log_results' in names and 'threads' in names
        assert engine_parameter_names(names) == ['onnxruntime.allow_speed_only',
                                                 'onnxruntime.intra_op_threads']
        # log_results is on by default: the first result is in the log.
        data, step, _ = uniform_frame('bgr8', 90)
        result = client.classify(CAMERA, client.raw_image('bgr8', data, 64, 48, step))
        label, score = logged_result(node, CAMERA)
        top = result.results[0]
        assert label == load_labels()[int(top.class_id)]
        assert float(score) == pytest.approx(top.score, abs=0.006)
    finally:
        assert node.stop() == 0


@pytest.mark.ros
@pytest.mark.requires('ros2launch', 'launch_ros', 'rclpy',
                      reason='ros2 launch is on no package registry: set-up installs it from the '
                             'folder RDK_ROS_SOURCES names (or source a ROS 2)')
def test_ros2_launch_without_arguments_classifies_on_a_pc(client):
    reason = lite0_runs()
    if reason:
        pytest.skip(reason)
    from test_ros2_launch import LaunchProcess
    launch = LaunchProcess()
    try:
        launch.wait_for_line('classifying /image_raw with EfficientNet_Lite0 on onnxruntime')
        data, step, _ = uniform_frame('bgr8', 120)
        frame = client.raw_image('bgr8', data, 64, 48, step)
        result = client.classify('/image_raw', frame)
        assert result.header == frame.header
        label, _ = logged_result(launch, '/image_raw')
        assert label == load_labels()[int(result.results[0].class_id)]
    finally:
        assert launch.stop(timeout=30.0) == 0, launch.output
