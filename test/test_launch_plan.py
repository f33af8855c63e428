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
launch_support: classify.launch.py's decisions, against described machines (runs everywhere).

Which camera driver with which parameters and environment, the RDK browser view's nodes and
topics, the zero-copy environment, the launch arguments typed as the node declares them, and the
one-line errors for missing packages. test_launch_file.py checks that the launch file starts what
these plans say.
"""

from pathlib import Path
import subprocess
import sys
from typing import Dict

import pytest
from rdk_classifier.ros.launch_support import (Arguments, beside, ENGINE_CHOICES,
                                               LaunchSetupError, make_plan, parse_arguments,
                                               resolve_topic, System)

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
PROFILE = '/share/rdk_classifier/config/fastdds_large_frames.xml'
BOARD_PACKAGES = ('mipi_cam', 'hobot_codec', 'websocket', 'hobot_shm', 'hobot_usb_cam')


def machine(installed=(), on_board=False, environ=None) -> System:
    """Return a described machine: these packages under /opt/<name>, Humble."""
    return System(find_package=lambda p: '/opt/' + p if p in installed else None,
                  on_board=on_board, distro='humble', environ=environ or {})


def plan_for(values: Dict[str, str], system: System):
    return make_plan(parse_arguments(values), system, PROFILE)


def test_engine_choices_are_the_registrys():
    from rdk_classifier.engines import ENGINE_CHOICES as registered
    assert ENGINE_CHOICES == registered


def test_choices_are_the_nodes():
    from rdk_classifier.ros import launch_support, parameters
    assert launch_support.CLASS_ID_MODES == parameters.CLASS_ID_MODES
    assert set(launch_support.TRANSPORT_CHOICES) == set(parameters.TRANSPORTS)


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
            'print(sorted(m for m in sys.modules if m.startswith(('
            '"cv2", "numpy", "rdk_classifier.engines", "rdk_classifier.inference", "rclpy", '
            '"launch"))))')
    loaded = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True,
                            text=True, cwd=str(PACKAGE_ROOT)).stdout.strip()
    assert loaded == '[]'
