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

Two levels. launch_support's plan (camera driver, browser view, environment, typed parameters)
is checked against a described machine and runs everywhere. The launch file itself is loaded and
its LaunchDescription visited in a LaunchContext, as `ros2 launch` visits it, but the process
actions are collected instead of executed; the classifier's parameters are read back from the
parameter files launch_ros writes for it, so their types are the ones the node receives. That
level needs launch and launch_ros and skips per test where they are missing. D-Robotics' packages
are faked by an ament index in a temporary folder (AMENT_PREFIX_PATH).
"""

import importlib.util
import os
from pathlib import Path
import subprocess
import sys
from typing import Any, Dict, List, Optional

import pytest
from rdk_classifier.ros.launch_support import (Arguments, beside, ENGINE_CHOICES, LaunchSetupError,
                                               make_plan, parse_arguments, resolve_topic, System)
import yaml

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILE = PACKAGE_ROOT / 'launch' / 'classify.launch.py'
PROFILE = '/share/rdk_classifier/config/fastdds_large_frames.xml'
BOARD_PACKAGES = ('mipi_cam', 'hobot_codec', 'websocket', 'hobot_shm', 'hobot_usb_cam')
WEB_NODES = {'mipi_cam', 'hobot_codec_republish', 'websocket', 'classifier_node'}


def machine(installed=(), on_board=False, environ=None) -> System:
    """Return a described machine: these packages under /opt/<name>, Humble."""
    return System(find_package=lambda p: '/opt/' + p if p in installed else None,
                  on_board=on_board, distro='humble', environ=environ or {})


def plan_for(values: Dict[str, str], system: System):
    return make_plan(parse_arguments(values), system, PROFILE)


# --- launch_support: typing and the plan, everywhere -------------------------------------------

def test_engine_choices_are_the_registrys():
    from rdk_classifier.engines import ENGINE_CHOICES as registered
    assert ENGINE_CHOICES == registered


def test_choices_are_the_nodes():
    from rdk_classifier.ros import launch_support, parameters
    assert launch_support.CLASS_ID_MODES == parameters.CLASS_ID_MODES
    # Every transport of the node can be chosen at launch. (The node gains auto and hbmem.)
    assert set(parameters.TRANSPORTS) <= set(launch_support.TRANSPORT_CHOICES)


@pytest.mark.parametrize('topic, namespace', [
    ('/image_raw', ''), ('/hbmem_img', 'robot'), ('image', 'robot'), ('cam/image', '/a/b'),
    ('image', '')])
def test_perception_topic_is_the_nodes(topic, namespace):
    from rdk_classifier.ros.parameters import output_topic
    resolved = resolve_topic(topic, namespace)
    assert resolved.startswith('/')
    # The node publishes beside the resolved camera topic.
    assert beside(resolved, 'perception_targets') == output_topic(resolved, 'perception_targets')


def test_arguments_typed_as_the_node_declares_them():
    arguments = parse_arguments({
        'threads': '4', 'top_k': ' 3 ', 'publish_overlay': 'true', 'use_sim_time': 'False',
        'log_results': 'false', 'model_dirs': '[/a, /b]', 'image_topics': '/cam/image',
        'class_id_mode': 'name', 'model': '', 'camera_width': '1280', 'camera_height': '720'})
    assert arguments.overrides == {
        'threads': 4, 'top_k': 3, 'publish_overlay': True, 'use_sim_time': False,
        'log_results': False, 'model_dirs': ['/a', '/b'], 'image_topics': ['/cam/image'],
        'class_id_mode': 'name'}
    assert (arguments.camera_width, arguments.camera_height) == (1280, 720)


def test_empty_arguments_pass_nothing():
    """'' leaves each parameter to params_file / the node's table: no default restated."""
    assert parse_arguments({'top_k': '', 'log_results': '', 'camera': ''}) == Arguments({})
    plan = plan_for({}, machine())
    assert plan.classifier_parameters == {}
    assert plan.processes == () and plan.environment == {} and plan.includes == ()


@pytest.mark.parametrize('name, text', [('threads', 'two'), ('top_k', '2.5'),
                                        ('camera_width', '0'), ('publish_overlay', 'yes')])
def test_bad_value_is_one_line_naming_the_argument(name, text):
    with pytest.raises(LaunchSetupError) as error:
        parse_arguments({name: text})
    assert str(error.value).startswith('%s:=%s ' % (name, text))
    assert '\n' not in str(error.value)


def test_web_on_the_board():
    plan = plan_for({'web': 'true'}, machine(BOARD_PACKAGES, on_board=True))
    camera, codec, websocket = plan.processes
    assert camera.executable == 'mipi_cam'
    assert camera.parameters == {'io_method': 'shared_mem', 'out_format': 'nv12',
                                 'image_width': 960, 'image_height': 544}
    assert camera.env == {}
    assert (codec.executable, codec.parameters['in_mode'], codec.parameters['in_format'],
            codec.parameters['sub_topic'], codec.parameters['out_format'],
            codec.parameters['pub_topic']) == (
        'hobot_codec_republish', 'shared_mem', 'nv12', '/hbmem_img', 'jpeg', '/image_jpeg')
    assert websocket.parameters == {'image_topic': '/image_jpeg', 'image_type': 'mjpeg',
                                    'only_show_image': False,
                                    'smart_topic': '/perception_targets'}
    assert plan.classifier_parameters == {'image_topics': ['/hbmem_img'],
                                          'image_transport': 'hbmem'}
    assert plan.includes == ('/opt/websocket/share/websocket/launch/websocket_service.launch.py',)
    assert plan.environment == {
        'RMW_IMPLEMENTATION': 'rmw_fastrtps_cpp',
        'FASTRTPS_DEFAULT_PROFILES_FILE': '/opt/hobot_shm/lib/hobot_shm/config/shm_fastdds.xml',
        'RMW_FASTRTPS_USE_QOS_FROM_XML': '1', 'ROS_DISABLE_LOANED_MESSAGES': '0'}


def test_web_keeps_a_zero_copy_environment_already_set():
    """As hobot_shm.launch.py: nothing when RMW_FASTRTPS_USE_QOS_FROM_XML is already 1."""
    set_up = machine(BOARD_PACKAGES, on_board=True,
                     environ={'RMW_FASTRTPS_USE_QOS_FROM_XML': '1'})
    assert plan_for({'web': 'true'}, set_up).environment == {}
    own_profile = machine(BOARD_PACKAGES, on_board=True,
                          environ={'FASTRTPS_DEFAULT_PROFILES_FILE': '/mine.xml'})
    assert 'FASTRTPS_DEFAULT_PROFILES_FILE' not in plan_for({'web': 'true'},
                                                            own_profile).environment


def test_web_with_the_usb_camera_shows_its_jpeg_frames():
    plan = plan_for({'web': 'true', 'camera': 'usb', 'namespace': 'robot',
                     'image_topics': 'image'}, machine(BOARD_PACKAGES, on_board=True))
    camera, websocket = plan.processes
    assert (camera.executable, camera.parameters['pixel_format']) == ('hobot_usb_cam', 'mjpeg')
    assert websocket.parameters['image_topic'] == '/image'
    # The smart topic follows the classifier's own camera topic, resolved in its namespace.
    assert websocket.parameters['smart_topic'] == '/robot/perception_targets'
    assert plan.classifier_parameters['image_transport'] == 'auto'


@pytest.mark.parametrize('installed, missing', [
    ((), 'mipi_cam, hobot_shm, hobot_codec, websocket'),
    (('mipi_cam', 'hobot_shm', 'hobot_codec'), 'websocket'),
    (('mipi_cam', 'websocket', 'hobot_shm'), 'hobot_codec')])
def test_web_missing_packages_in_one_line(installed, missing):
    with pytest.raises(LaunchSetupError) as error:
        plan_for({'web': 'true'}, machine(installed, on_board=True))
    message = str(error.value)
    assert '\n' not in message
    assert message.startswith('web:=true needs %s: sudo apt install ' % missing)
    for package in missing.split(', '):
        assert 'tros-humble-' + package.replace('_', '-') in message
    assert 'source /opt/tros/humble/setup.bash' in message


def test_web_on_a_pc_says_where_it_runs():
    with pytest.raises(LaunchSetupError) as error:
        plan_for({'web': 'true'}, machine(('usb_cam',)))
    assert "from the RDK's TogetheROS (there: sudo apt install" in str(error.value)
    assert str(error.value).endswith('on a PC use camera:=usb without web:=true')


def test_mipi_camera_on_a_pc_says_where_it_runs():
    with pytest.raises(LaunchSetupError) as error:
        plan_for({'camera': 'mipi'}, machine(('usb_cam',)))
    assert str(error.value) == ("camera:=mipi needs mipi_cam from the RDK's TogetheROS (there: "
                                'sudo apt install tros-humble-mipi-cam); on a PC use camera:=usb')


def test_mipi_camera_without_web_publishes_ros_images_with_the_large_frames_profile():
    plan = plan_for({'camera': 'mipi', 'camera_width': '1920', 'camera_height': '1080',
                     'camera_device': 'F37'}, machine(BOARD_PACKAGES, on_board=True))
    (camera,) = plan.processes
    assert camera.parameters == {'io_method': 'ros', 'out_format': 'nv12', 'image_width': 1920,
                                 'image_height': 1080, 'video_device': 'F37'}
    assert camera.env == {'FASTDDS_DEFAULT_PROFILES_FILE': PROFILE,
                          'FASTRTPS_DEFAULT_PROFILES_FILE': PROFILE}
    assert plan.classifier_parameters == {'image_topics': ['/image_raw'],
                                          'image_transport': 'raw'}
    assert plan.environment == {}


def test_mipi_camera_in_shared_memory_when_the_node_reads_hbmem():
    plan = plan_for({'camera': 'mipi', 'image_transport': 'hbmem'},
                    machine(BOARD_PACKAGES, on_board=True))
    assert plan.processes[0].parameters['io_method'] == 'shared_mem'
    assert plan.classifier_parameters['image_topics'] == ['/hbmem_img']
    assert plan.environment['RMW_FASTRTPS_USE_QOS_FROM_XML'] == '1'


@pytest.mark.parametrize('values, readable', [
    ({'camera': 'mipi', 'image_transport': 'compressed'}, 'raw or auto'),
    ({'web': 'true', 'image_transport': 'raw'}, 'hbmem or auto'),
    ({'camera': 'usb', 'image_transport': 'compressed'}, 'auto')])
def test_a_transport_that_cannot_read_the_camera_is_one_line(values, readable):
    with pytest.raises(LaunchSetupError) as error:
        plan_for(values, machine(BOARD_PACKAGES, on_board=True))
    assert str(error.value).endswith('give ' + readable)


def test_large_frames_profile_would_break_the_shared_memory_camera():
    with pytest.raises(LaunchSetupError, match='leave it out'):
        plan_for({'web': 'true', 'large_frames_profile': 'true'},
                 machine(BOARD_PACKAGES, on_board=True))


def test_hbmem_without_a_camera():
    """The issue's simulated camera: the node alone; hobot_shm's environment where it exists."""
    values = {'image_transport': 'hbmem', 'image_topics': '[/hbmem_img]'}
    assert plan_for(values, machine()).environment == {}
    assert plan_for(values, machine(('hobot_shm',))).environment != {}
    assert plan_for(dict(values, large_frames_profile='true'),
                    machine(('hobot_shm',))).environment == {}


@pytest.mark.parametrize('installed, executable, parameters, topic, transport', [
    (('hobot_usb_cam', 'usb_cam'), 'hobot_usb_cam',
     {'pixel_format': 'mjpeg', 'image_width': 640, 'image_height': 480, 'zero_copy': False},
     '/image', 'auto'),
    (('usb_cam', 'v4l2_camera'), 'usb_cam_node_exe',
     {'pixel_format': 'yuyv', 'image_width': 640, 'image_height': 480}, '/image_raw', 'raw'),
    (('v4l2_camera',), 'v4l2_camera_node',
     {'image_size': [640, 480], 'output_encoding': 'rgb8'}, '/image_raw', 'raw')])
def test_usb_camera_is_the_installed_driver(installed, executable, parameters, topic,
                                            transport):
    plan = plan_for({'camera': 'usb'}, machine(installed))
    (camera,) = plan.processes
    assert (camera.executable, camera.parameters) == (executable, parameters)
    assert camera.env == {'FASTDDS_DEFAULT_PROFILES_FILE': PROFILE,
                          'FASTRTPS_DEFAULT_PROFILES_FILE': PROFILE}
    assert plan.classifier_parameters == {'image_topics': [topic], 'image_transport': transport}


def test_given_topics_and_transport_are_kept():
    plan = plan_for({'camera': 'usb', 'image_topics': '/remapped/image_raw',
                     'image_transport': 'auto'}, machine(('usb_cam',)))
    assert plan.classifier_parameters == {'image_topics': ['/remapped/image_raw'],
                                          'image_transport': 'auto'}


@pytest.mark.parametrize('on_board, command', [
    (False, 'camera:=usb needs a USB camera driver: sudo apt install ros-humble-usb-cam '
            '(or ros-humble-v4l2-camera)'),
    (True, 'camera:=usb needs hobot_usb_cam: sudo apt install tros-humble-hobot-usb-cam, '
           'then source /opt/tros/humble/setup.bash')])
def test_usb_camera_missing_is_one_line_with_the_install_command(on_board, command):
    with pytest.raises(LaunchSetupError) as error:
        plan_for({'camera': 'usb'}, machine((), on_board=on_board))
    assert str(error.value) == command


def test_launch_support_imports_no_engine_or_opencv():
    code = ('import sys, rdk_classifier.ros.launch_support; '
            'print(sorted(m for m in sys.modules if m == "cv2" or m.startswith('
            '("rdk_classifier.inference", "rclpy", "launch"))))')
    loaded = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True,
                            text=True, cwd=str(PACKAGE_ROOT)).stdout.strip()
    assert loaded == '[]'


# --- the launch file, visited as ros2 launch visits it (needs launch and launch_ros) ----------

def _need_launch() -> None:
    """Skip this test where launch or launch_ros are missing (never the whole module)."""
    missing = [m for m in ('launch', 'launch_ros') if importlib.util.find_spec(m) is None]
    # The repository's launch/ folder is a namespace package when launch itself is missing.
    if not missing and not hasattr(importlib.import_module('launch'), 'LaunchDescription'):
        missing.append('launch')
    if missing:
        pytest.skip('%s not installed here (tools/install_ros_sources.sh installs them); '
                    'the plan tests above cover the same decisions' % ', '.join(missing))


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
    _need_launch()
    visited = visit({})
    assert [p.node_executable for p in visited.processes] == ['classifier_node']
    parameters = visited.parameters('classifier_node')
    # Only params_file's values: the launch adds none of its own.
    with open(PACKAGE_ROOT / 'config' / 'classifier.yaml') as stream:
        (from_file,) = yaml.safe_load(stream).values()
    assert parameters == from_file['ros__parameters']


def test_launch_arguments_reach_the_node_typed(environment):
    _need_launch()
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
    _need_launch()
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
    _need_launch()
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
    _need_launch()
    message = launch_error({'camera': 'usb'})
    assert message == ('camera:=usb needs a USB camera driver: sudo apt install '
                       'ros-humble-usb-cam (or ros-humble-v4l2-camera)')


def test_launch_web_missing_packages_is_one_line(environment):
    _need_launch()
    fake_packages(environment / 'tros', ['mipi_cam', 'hobot_shm'])
    message = launch_error({'web': 'true'})
    assert message is not None and '\n' not in message
    assert message.startswith('web:=true needs hobot_codec, websocket')
    assert 'tros-humble-hobot-codec tros-humble-websocket' in message


def test_launch_lifecycle_autostart_still_configures(environment):
    _need_launch()
    visited = visit({'lifecycle': 'true', 'top_k': '2'})
    assert [p.node_executable for p in visited.processes] == ['classifier_lifecycle_node']
    assert visited.parameters('classifier_lifecycle_node')['top_k'] == 2


def test_launch_file_imports_no_engine_or_opencv(environment):
    _need_launch()
    code = ('import importlib.util, sys; '
            'spec = importlib.util.spec_from_file_location("l", sys.argv[1]); '
            'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); '
            'm.generate_launch_description(); '
            'print(sorted(n for n in sys.modules if n == "cv2" or '
            'n.startswith("rdk_classifier.inference")))')
    loaded = subprocess.run([sys.executable, '-c', code, str(LAUNCH_FILE)], check=True,
                            capture_output=True, text=True).stdout.strip()
    assert loaded == '[]'
