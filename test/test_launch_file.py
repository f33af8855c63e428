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
classify.launch.py without running a process: what it starts for which arguments.

The launch file is loaded and its LaunchDescription visited in a LaunchContext, as `ros2 launch`
visits it, but the process actions are collected instead of executed; each node's parameters are
read back from the parameter files launch_ros writes for it, so their types are the ones the node
receives. D-Robotics' packages are faked by an ament index in a temporary folder
(AMENT_PREFIX_PATH). Needs launch and launch_ros: each test skips where they are missing, and
test_launch_plan.py covers the same decisions without them.
"""

import importlib.util
import json
import os
from pathlib import Path
import subprocess
import sys
from typing import Any, Dict, List, Optional

import pytest
from rdk_classifier.ros.launch_support import LaunchSetupError
import yaml

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILE = PACKAGE_ROOT / 'launch' / 'classify.launch.py'
BOARD_PACKAGES = ('mipi_cam', 'hobot_codec', 'websocket', 'hobot_shm', 'hobot_usb_cam')
WEB_NODES = {'mipi_cam', 'hobot_codec_republish', 'websocket', 'classifier_node'}


# launch.actions, not launch: without launch, this repository's launch/ folder imports as launch.
pytestmark = pytest.mark.requires(
    'launch.actions', 'launch_ros.actions',
    reason='tools/install_ros_sources.sh installs them; test_launch_plan.py covers the same '
           'decisions without them')


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """Restore os.environ (launch's SetEnvironmentVariable writes it); a fake ament index."""
    saved = dict(os.environ)
    monkeypatch.setenv('ROS_DISTRO', 'humble')
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(tmp_path / 'empty'))
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


def fake_packages(prefix: Path, names) -> None:
    """Install empty packages in an ament index at ``prefix`` and put it on AMENT_PREFIX_PATH."""
    index = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages'
    index.mkdir(parents=True)
    for name in names:
        (index / name).touch()
    launch_dir = prefix / 'share' / 'websocket' / 'launch'
    launch_dir.mkdir(parents=True)
    # hobot_websocket's starts its nginx; the fake starts nothing.
    (launch_dir / 'websocket_service.launch.py').write_text(
        'from launch import LaunchDescription\n\n\n'
        'def generate_launch_description():\n    return LaunchDescription([])\n')
    os.environ['AMENT_PREFIX_PATH'] = str(prefix)


class ParameterFileLoader(yaml.SafeLoader):
    """Reads launch_ros's parameter files as rcl does: its !!python/tuple is a sequence."""


def _sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> List[Any]:
    return loader.construct_sequence(node)


ParameterFileLoader.add_constructor('tag:yaml.org,2002:python/tuple', _sequence)


class Visited:
    """What a visit of the launch description left: processes, includes, the context."""

    def __init__(self, context, processes: List[Any], includes: List[Any]):
        self.context = context
        self.processes = processes
        self.includes = includes

    def by_executable(self, executable: str):
        (process,) = [p for p in self.processes if p.node_executable == executable]
        return process

    def parameters(self, executable: str) -> Dict[str, Any]:
        """Return the parameters launch_ros writes for a node, merged in their order."""
        node = self.by_executable(executable)
        node._perform_substitutions(self.context)
        # launch_ros keeps the paths of the files it wrote only in this private attribute.
        merged: Dict[str, Any] = {}
        for path, is_file in node._Node__expanded_parameter_arguments:
            assert is_file
            with open(path) as stream:
                (content,) = yaml.load(stream, Loader=ParameterFileLoader).values()
            merged.update(content['ros__parameters'])
            if os.path.basename(path).startswith('launch_params_'):
                os.remove(path)
        return merged

    def additional_env(self, executable: str) -> Dict[str, str]:
        from launch.utilities import perform_substitutions
        node = self.by_executable(executable)

        def text(substitutions) -> str:
            return perform_substitutions(self.context, substitutions)

        return {text(name): text(value) for name, value in node.additional_env or []}


def visit(arguments: Dict[str, str]) -> Visited:
    """Visit classify.launch.py with these arguments, without starting any process."""
    from launch import LaunchContext
    from launch.actions import (EmitEvent, ExecuteProcess, IncludeLaunchDescription,
                                RegisterEventHandler)
    spec = importlib.util.spec_from_file_location('classify_launch', LAUNCH_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    context = LaunchContext()
    context.launch_configurations.update(arguments)
    processes, includes = [], []
    pending: List[Any] = [module.generate_launch_description()]
    while pending:
        entity = pending.pop(0)
        if isinstance(entity, ExecuteProcess):
            processes.append(entity)
            continue
        if isinstance(entity, (EmitEvent, RegisterEventHandler)):
            continue
        if isinstance(entity, IncludeLaunchDescription):
            includes.append(entity)
        pending[:0] = entity.visit(context) or []
    return Visited(context, processes, includes)


def launch_error(arguments: Dict[str, str]) -> Optional[str]:
    try:
        visit(arguments)
    except LaunchSetupError as error:
        return str(error)
    return None


def test_launch_defaults_start_the_node_alone(environment):
    visited = visit({})
    assert [p.node_executable for p in visited.processes] == ['classifier_node']
    parameters = visited.parameters('classifier_node')
    # Only params_file's values: the launch adds none of its own.
    with open(PACKAGE_ROOT / 'config' / 'classifier.yaml') as stream:
        (from_file,) = yaml.safe_load(stream).values()
    assert parameters == from_file['ros__parameters']


def test_launch_arguments_reach_the_node_typed(environment):
    visited = visit({'top_k': '3', 'publish_overlay': 'true', 'use_sim_time': 'true',
                     'class_id_mode': 'name', 'log_results': 'false', 'threads': '1',
                     'model_dirs': '/models', 'image_topics': '[/a/image, /b/image]',
                     'engine': 'fake'})
    parameters = visited.parameters('classifier_node')
    given = {'top_k': 3, 'publish_overlay': True, 'use_sim_time': True, 'class_id_mode': 'name',
             'log_results': False, 'threads': 1, 'model_dirs': ['/models'],
             'image_topics': ['/a/image', '/b/image'], 'engine': 'fake'}
    assert {name: parameters[name] for name in given} == given
    for name, value in given.items():
        assert type(parameters[name]) is type(value), name


def test_launch_web_starts_four_nodes(environment):
    fake_packages(environment / 'tros', BOARD_PACKAGES)
    visited = visit({'web': 'true', 'namespace': 'robot'})
    assert {p.node_executable for p in visited.processes} == WEB_NODES
    assert visited.parameters('mipi_cam')['io_method'] == 'shared_mem'
    codec = visited.parameters('hobot_codec_republish')
    assert (codec['sub_topic'], codec['pub_topic']) == ('/hbmem_img', '/image_jpeg')
    web = visited.parameters('websocket')
    assert (web['image_topic'], web['smart_topic']) == ('/image_jpeg', '/perception_targets')
    node = visited.parameters('classifier_node')
    assert (node['image_topics'], node['image_transport']) == (['/hbmem_img'], 'hbmem')
    # The zero-copy environment, for every process of the launch.
    assert os.environ['RMW_FASTRTPS_USE_QOS_FROM_XML'] == '1'
    assert os.environ['FASTRTPS_DEFAULT_PROFILES_FILE'] == str(
        environment / 'tros' / 'lib' / 'hobot_shm' / 'config' / 'shm_fastdds.xml')
    (web_server,) = visited.includes
    assert 'websocket_service.launch.py' in str(web_server.launch_description_source.location)


def test_launch_camera_gets_the_large_frames_profile(environment):
    fake_packages(environment / 'ros', ['v4l2_camera'])
    visited = visit({'camera': 'usb', 'camera_width': '1280', 'camera_height': '720'})
    assert visited.parameters('v4l2_camera_node')['image_size'] == [1280, 720]
    profile = str(PACKAGE_ROOT / 'config' / 'fastdds_large_frames.xml')
    assert visited.additional_env('v4l2_camera_node') == {
        'FASTDDS_DEFAULT_PROFILES_FILE': profile, 'FASTRTPS_DEFAULT_PROFILES_FILE': profile}
    assert Path(profile).is_file()
    # The classifier's own environment is untouched.
    assert visited.additional_env('classifier_node') == {}
    assert visited.parameters('classifier_node')['image_topics'] == ['/image_raw']


def test_launch_usb_camera_missing_is_one_line(environment):
    message = launch_error({'camera': 'usb'})
    assert message == ('camera:=usb needs a USB camera driver: sudo apt install '
                       'ros-humble-usb-cam (or ros-humble-v4l2-camera)')


def test_launch_web_missing_packages_is_one_line(environment):
    fake_packages(environment / 'tros', ['mipi_cam', 'hobot_shm'])
    message = launch_error({'web': 'true'})
    assert message is not None and '\n' not in message
    assert message.startswith('web:=true needs hobot_codec, websocket')
    assert 'tros-humble-hobot-codec tros-humble-websocket' in message


def test_launch_lifecycle_autostart_still_configures(environment):
    visited = visit({'lifecycle': 'true', 'top_k': '2'})
    assert [p.node_executable for p in visited.processes] == ['classifier_lifecycle_node']
    assert visited.parameters('classifier_lifecycle_node')['top_k'] == 2


def test_launch_file_imports_no_engine_or_opencv(environment):
    code = ('import importlib.util, sys; '
            'spec = importlib.util.spec_from_file_location("l", sys.argv[1]); '
            'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); '
            'm.generate_launch_description(); '
            'print(sorted(n for n in sys.modules if n.startswith(('
            '"cv2", "rdk_classifier.engines", "rdk_classifier.inference"))))')
    loaded = subprocess.run([sys.executable, '-c', code, str(LAUNCH_FILE)], check=True,
                            capture_output=True, text=True, cwd=str(PACKAGE_ROOT)).stdout.strip()
    assert loaded == '[]'


# Stands for a node: writes the command line and environment launch gave it, then exits.
FAKE_NODE = """#!{python}
import json, os, sys
with open(os.path.join({folder!r}, os.path.basename(sys.argv[0]) + '.json'), 'w') as out:
    json.dump({{'argv': sys.argv[1:], 'env': dict(os.environ)}}, out)
"""


def fake_executables(prefix: Path, executables: Dict[str, str], folder: Path) -> None:
    """Give packages at ``prefix`` executables (by package) that report how they were started."""
    for package, executable in executables.items():
        path = prefix / 'lib' / package / executable
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FAKE_NODE.format(python=sys.executable, folder=str(folder)))
        path.chmod(0o755)


def started(folder: Path, executable: str):
    """Return the environment and the parameters (merged files, -p) a fake node was given."""
    with open(folder / (executable + '.json')) as stream:
        report = json.load(stream)
    parameters: Dict[str, Any] = {}
    argv = report['argv']
    for flag, value in zip(argv, argv[1:]):
        if flag == '--params-file':
            with open(value) as stream:
                (content,) = yaml.load(stream, Loader=ParameterFileLoader).values()
            parameters.update(content['ros__parameters'])
    return report['env'], parameters


def test_launch_service_runs_web_with_the_environment_reaching_every_process(environment):
    """A real launch (LaunchService, as ros2 launch runs it) of fake nodes that report back."""
    from launch import LaunchService
    from launch.actions import IncludeLaunchDescription
    from launch.launch_description_sources import PythonLaunchDescriptionSource
    prefix, reports = environment / 'tros', environment / 'reports'
    reports.mkdir()
    fake_packages(prefix, BOARD_PACKAGES + ('rdk_classifier',))
    fake_executables(prefix, {'mipi_cam': 'mipi_cam', 'hobot_codec': 'hobot_codec_republish',
                              'websocket': 'websocket', 'rdk_classifier': 'classifier_node'},
                     reports)
    service = LaunchService()
    service.include_launch_description(IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
        launch_arguments=[('web', 'true'), ('top_k', '2')]))
    assert service.run() == 0
    assert {p.stem for p in reports.iterdir()} == WEB_NODES
    shm_profile = str(prefix / 'lib' / 'hobot_shm' / 'config' / 'shm_fastdds.xml')
    for executable in WEB_NODES:
        env, parameters = started(reports, executable)
        assert env['RMW_FASTRTPS_USE_QOS_FROM_XML'] == '1', executable
        assert env['FASTRTPS_DEFAULT_PROFILES_FILE'] == shm_profile, executable
    assert started(reports, 'mipi_cam')[1] == {
        'io_method': 'shared_mem', 'out_format': 'nv12', 'image_width': 960,
        'image_height': 544}
    node = started(reports, 'classifier_node')[1]
    assert (node['image_topics'], node['image_transport'], node['top_k']) == (
        ['/hbmem_img'], 'hbmem', 2)
