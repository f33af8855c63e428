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
What classify.launch.py starts, decided from its arguments without launch (plain data).

:func:`parse_arguments` types the launch arguments (``''`` = not given: the node's parameter
table or params_file decides); :func:`make_plan` picks the camera driver, the RDK's browser view
and the environment, and :class:`Plan` lists the processes for the launch file to start. Nothing
here imports launch, rclpy, the engine registry or OpenCV, so the launch file stays light and
this module is tested alone. A package that is missing stops the launch with one line naming it
and its install command (:class:`LaunchSetupError`).

The camera drivers and how they publish (read from their sources):
- D-Robotics mipi_cam: ``io_method: ros`` publishes sensor_msgs/Image ``image_raw`` (out_format
  nv12 here: half of bgr8), ``shared_mem`` publishes hbm_img_msgs/HbmMsg1080P ``hbmem_img``
  through loaned messages, which need the RDK's zero-copy environment (hobot_shm).
- D-Robotics hobot_usb_cam: ``pixel_format: mjpeg`` publishes sensor_msgs/CompressedImage on
  ``image`` itself (reliable, depth 100), which ``image_transport: auto`` finds.
- usb_cam (``pixel_format: yuyv``) and v4l2_camera (``output_encoding: rgb8``) publish
  sensor_msgs/Image ``image_raw``; at 640x480 their frames are over Fast DDS's 512 KB segment,
  so every camera this launch starts gets config/fastdds_large_frames.xml.
Threading: none; called once from the launch file's OpaqueFunction.
"""

from dataclasses import dataclass, field
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import yaml

#: What the node's ``engine`` parameter accepts, kept here so the launch file does not import the
#: engine registry (every engine, OpenCV); test_launch_plan.py checks it against the registry.
ENGINE_CHOICES = ('auto', 'fake', 'hobot_dnn', 'onnxruntime')
#: The node's ``image_transport`` and ``class_id_mode`` choices (checked against parameters.py).
TRANSPORT_CHOICES = ('auto', 'raw', 'compressed', 'hbmem')
CLASS_ID_MODES = ('index', 'name')
#: Frame size a camera starts with unless camera_width / camera_height say otherwise:
#: mipi_cam.launch.py's 960x544 for the MIPI camera, the usual 640x480 for USB cameras.
CAMERA_SIZES = {'mipi': (960, 544), 'usb': (640, 480)}
CAMERA_CHOICES = ('none',) + tuple(CAMERA_SIZES)
BOOLEAN_CHOICES = ('true', 'false')

#: The launch arguments passed to the node as parameters when given, with their type.
NODE_OVERRIDES: Tuple[Tuple[str, type], ...] = (
    ('model', str), ('engine', str), ('threads', int), ('image_topics', list),
    ('image_transport', str), ('class_id_mode', str), ('top_k', int),
    ('publish_overlay', bool), ('model_dirs', list), ('use_sim_time', bool),
    ('log_results', bool))

#: The results topic hobot_websocket shows next to the image, beside each camera topic.
PERCEPTION_TOPIC = 'perception_targets'
#: hobot_codec's JPEG output, which hobot_websocket sends to the browser.
JPEG_TOPIC = '/image_jpeg'
#: Environment variables that make Fast DDS read a profiles file (Jazzy+ / Humble).
PROFILE_VARIABLES = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')


class LaunchSetupError(ValueError):
    """A launch that cannot work; str() is one actionable line (launch prints only that)."""


@dataclass(frozen=True)
class Arguments:
    """The launch arguments this module decides from, typed."""

    #: Node parameters given as launch arguments, typed as the node declares them.
    overrides: Dict[str, Any]
    camera: str = 'none'
    web: bool = False
    #: 0: the camera's default size (:data:`CAMERA_SIZES`).
    camera_width: int = 0
    camera_height: int = 0
    #: '': the driver's own default device.
    camera_device: str = ''
    namespace: str = ''
    large_frames_profile: bool = False


@dataclass(frozen=True)
class Process:
    """One ROS node this launch starts besides the classifier."""

    package: str
    executable: str
    name: str
    parameters: Dict[str, Any]
    #: Environment of this process only (the camera's Fast DDS profile).
    env: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """Everything classify.launch.py starts, in order."""

    #: Environment variables set for every process of the launch (the RDK's zero-copy setup).
    environment: Dict[str, str]
    processes: Tuple[Process, ...]
    #: Launch files to include (hobot_websocket's web server).
    includes: Tuple[str, ...]
    #: Parameters of the classifier beside params_file.
    classifier_parameters: Dict[str, Any]


@dataclass(frozen=True)
class System:
    """What the machine has: installed packages, board or PC, the launching environment."""

    #: Install prefix of a ROS package, None when it is not installed.
    find_package: Callable[[str], Optional[str]]
    #: An RDK (TogetheROS installed), where install hints name tros-<distro>-* packages.
    on_board: bool
    distro: str
    environ: Mapping[str, str]

    @classmethod
    def here(cls) -> 'System':
        """Return this machine as the ament index and the environment describe it."""
        return cls(find_package=_package_prefix, on_board=os.path.isdir('/opt/tros'),
                   distro=os.environ.get('ROS_DISTRO') or 'humble', environ=os.environ)

    def board_package(self, package: str) -> str:
        """Return the apt package of a D-Robotics TogetheROS package (tros-humble-mipi-cam)."""
        # TogetheROS of the RDK X5 is Humble; a PC's ROS_DISTRO says nothing about the board's.
        return 'tros-%s-%s' % (self.distro if self.on_board else 'humble',
                               package.replace('_', '-'))

    def ros_package(self, package: str) -> str:
        """Return the apt package of a ROS package (ros-humble-usb-cam)."""
        return 'ros-%s-%s' % (self.distro, package.replace('_', '-'))


def _package_prefix(package: str) -> Optional[str]:
    from ament_index_python.packages import get_package_prefix, PackageNotFoundError
    try:
        return get_package_prefix(package)
    except (PackageNotFoundError, EnvironmentError):  # EnvironmentError: no ROS sourced
        return None


def parse_arguments(values: Mapping[str, str]) -> Arguments:
    """Type the launch arguments (their text, as launch performed it); '' means not given."""
    overrides: Dict[str, Any] = {}
    for name, kind in NODE_OVERRIDES:
        text = values.get(name, '').strip()
        if not text:
            continue
        if kind is int:
            overrides[name] = _whole_number(name, text)
        elif kind is bool:
            overrides[name] = _boolean(name, text)
        elif kind is list:
            overrides[name] = _string_list(text)
        else:
            overrides[name] = text
    width, height = (_whole_number(name, values[name].strip(), minimum=1)
                     if values.get(name, '').strip() else 0
                     for name in ('camera_width', 'camera_height'))
    return Arguments(
        overrides=overrides, camera=values.get('camera', '').strip() or 'none',
        web=_boolean('web', values.get('web', '') or 'false'),
        camera_width=width, camera_height=height,
        camera_device=values.get('camera_device', '').strip(),
        namespace=values.get('namespace', '').strip(),
        large_frames_profile=_boolean('large_frames_profile',
                                      values.get('large_frames_profile', '') or 'false'))


def _whole_number(name: str, text: str, minimum: Optional[int] = None) -> int:
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or (minimum is not None and number < minimum):
        # launch prints only the message: int()'s would not name the argument.
        raise LaunchSetupError('%s:=%s is not a whole number%s'
                               % (name, text, '' if minimum is None else ' >= %d' % minimum))
    return number


def _boolean(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in BOOLEAN_CHOICES:
        raise LaunchSetupError('%s:=%s must be true or false' % (name, text))
    return lowered == 'true'


def _string_list(text: str) -> List[str]:
    """Return '[/a, /b]' or '/a' as a list of strings."""
    value = yaml.safe_load(text)
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def resolve_topic(topic: str, namespace: str) -> str:
    """Return ``topic`` as the node in ``namespace`` resolves it (no remapping, no ~)."""
    if topic.startswith('/'):
        return topic
    return '/' + '/'.join(part for part in namespace.strip('/').split('/') + [topic] if part)


def beside(topic: str, name: str) -> str:
    """Return the absolute topic ``name`` in the namespace of absolute ``topic``."""
    return topic.rstrip('/').rpartition('/')[0] + '/' + name


@dataclass(frozen=True)
class _Camera:
    """A camera driver as this launch starts it: the topic and transport the node reads."""

    process: Process
    topic: str
    #: The node's image_transport values that read ``topic``; the first is set when none is given.
    transports: Tuple[str, ...]
    #: Needs the RDK's zero-copy environment (loaned hbm_img_msgs frames).
    shared_memory: bool = False


def make_plan(arguments: Arguments, system: System, large_frames_profile: str) -> Plan:
    """Return what to start; LaunchSetupError (one line) when a package is missing."""
    overrides = dict(arguments.overrides)
    choice = 'mipi' if arguments.web and arguments.camera == 'none' else arguments.camera
    wanted = 'web:=true' if arguments.web else 'camera:=%s' % choice
    camera = _camera(choice, arguments, system, large_frames_profile)
    processes: List[Process] = []
    includes: List[str] = []
    needed: List[str] = []
    if camera is not None:
        given = overrides.setdefault('image_transport', camera.transports[0])
        if given not in camera.transports:
            raise LaunchSetupError(
                '%s publishes on %s what image_transport:=%s cannot read: leave image_transport '
                'out or give %s' % (wanted, camera.topic, given, ' or '.join(camera.transports)))
        overrides.setdefault('image_topics', [camera.topic])
        processes.append(camera.process)
        needed.append(camera.process.package)
        if camera.shared_memory:
            needed.append('hobot_shm')
            if arguments.large_frames_profile:
                raise LaunchSetupError(
                    'large_frames_profile:=true would replace the RDK zero-copy profile '
                    '(hobot_shm) that the shared-memory camera needs; leave it out')
    if arguments.web:
        assert camera is not None
        first_topic = resolve_topic(overrides['image_topics'][0], arguments.namespace)
        web_view = _web_view(camera, beside(first_topic, PERCEPTION_TOPIC))
        processes.extend(web_view)
        needed.extend(p.package for p in web_view)
    _require(system, needed, wanted,
             'use camera:=usb without web:=true' if arguments.web else 'use camera:=usb')
    if arguments.web:
        includes.append(os.path.join(_share(system, 'websocket'), 'launch',
                                     'websocket_service.launch.py'))
    environment: Dict[str, str] = {}
    shared_memory = (camera.shared_memory if camera is not None
                     else overrides.get('image_transport') == 'hbmem')
    if shared_memory and not arguments.large_frames_profile:
        environment = zero_copy_environment(system)
    return Plan(environment=environment, processes=tuple(processes),
                includes=tuple(includes), classifier_parameters=overrides)


def zero_copy_environment(system: System) -> Dict[str, str]:
    """
    Return the variables hobot_shm.launch.py sets for RDK zero-copy, as it sets them.

    hobot_shm (D-Robotics) sets RMW_IMPLEMENTATION, FASTRTPS_DEFAULT_PROFILES_FILE (its
    shm_fastdds.xml), RMW_FASTRTPS_USE_QOS_FROM_XML=1 and ROS_DISABLE_LOANED_MESSAGES=0 unless
    already set, and nothing when RMW_FASTRTPS_USE_QOS_FROM_XML is already 1. Empty without
    hobot_shm (a PC).
    """
    prefix = system.find_package('hobot_shm')
    if prefix is None or system.environ.get('RMW_FASTRTPS_USE_QOS_FROM_XML') == '1':
        return {}
    wanted = {
        'RMW_IMPLEMENTATION': 'rmw_fastrtps_cpp',
        'FASTRTPS_DEFAULT_PROFILES_FILE': os.path.join(prefix, 'lib', 'hobot_shm', 'config',
                                                       'shm_fastdds.xml'),
        'RMW_FASTRTPS_USE_QOS_FROM_XML': '1',
        'ROS_DISABLE_LOANED_MESSAGES': '0'}
    return {name: value for name, value in wanted.items() if name not in system.environ}


def _camera(choice: str, arguments: Arguments, system: System,
            profile: str) -> Optional[_Camera]:
    """Return the camera driver to start for camera:=choice (None for none)."""
    if choice == 'none':
        return None
    if choice not in CAMERA_SIZES:
        raise LaunchSetupError('camera:=%s is not one of: %s'
                               % (choice, ', '.join(CAMERA_CHOICES)))
    default_width, default_height = CAMERA_SIZES[choice]
    width = arguments.camera_width or default_width
    height = arguments.camera_height or default_height
    device = {'video_device': arguments.camera_device} if arguments.camera_device else {}
    large_frames = {variable: profile for variable in PROFILE_VARIABLES}
    if choice == 'mipi':
        shared = arguments.web or arguments.overrides.get('image_transport') == 'hbmem'
        parameters = {'io_method': 'shared_mem' if shared else 'ros', 'out_format': 'nv12',
                      'image_width': width, 'image_height': height, **device}
        if shared:
            return _Camera(Process('mipi_cam', 'mipi_cam', 'mipi_cam', parameters),
                           '/hbmem_img', ('hbmem', 'auto'), shared_memory=True)
        return _Camera(Process('mipi_cam', 'mipi_cam', 'mipi_cam', parameters, large_frames),
                       '/image_raw', ('raw', 'auto'))
    # The browser view shows hobot_usb_cam's JPEG frames as they are, so web:=true needs it.
    drivers = ('hobot_usb_cam',) if arguments.web else ('hobot_usb_cam', 'usb_cam', 'v4l2_camera')
    driver = next((d for d in drivers if system.find_package(d) is not None), None)
    if driver == 'usb_cam':
        return _Camera(Process('usb_cam', 'usb_cam_node_exe', 'usb_cam',
                               {'pixel_format': 'yuyv', 'image_width': width,
                                'image_height': height, **device}, large_frames),
                       '/image_raw', ('raw', 'auto'))
    if driver == 'v4l2_camera':
        return _Camera(Process('v4l2_camera', 'v4l2_camera_node', 'v4l2_camera',
                               {'image_size': [width, height], 'output_encoding': 'rgb8',
                                **device}, large_frames),
                       '/image_raw', ('raw', 'auto'))
    if driver is None and not system.on_board and not arguments.web:
        raise LaunchSetupError('camera:=usb needs a USB camera driver: sudo apt install %s '
                               '(or %s)' % (system.ros_package('usb_cam'),
                                            system.ros_package('v4l2_camera')))
    # Missing on the board: make_plan's check names it with its install command.
    return _Camera(Process('hobot_usb_cam', 'hobot_usb_cam', 'hobot_usb_cam',
                           {'pixel_format': 'mjpeg', 'image_width': width,
                            'image_height': height, 'zero_copy': False, **device},
                           large_frames),
                   '/image', ('auto',))


def _web_view(camera: Optional[_Camera], smart_topic: str) -> List[Process]:
    """Return hobot_codec (NV12 to JPEG, shared-memory cameras) and hobot_websocket."""
    assert camera is not None
    processes = []
    image_topic = camera.topic
    if camera.shared_memory:
        # As the RDK's own examples run it: shared-memory NV12 in, JPEG out as a ROS message.
        processes.append(Process('hobot_codec', 'hobot_codec_republish', 'hobot_codec', {
            'channel': 1, 'in_mode': 'shared_mem', 'in_format': 'nv12', 'out_mode': 'ros',
            'out_format': 'jpeg', 'sub_topic': camera.topic, 'pub_topic': JPEG_TOPIC}))
        image_topic = JPEG_TOPIC
    processes.append(Process('websocket', 'websocket', 'websocket', {
        'image_topic': image_topic, 'image_type': 'mjpeg', 'only_show_image': False,
        'smart_topic': smart_topic}))
    return processes


def _require(system: System, packages: List[str], wanted: str, on_a_pc: str) -> None:
    """Raise LaunchSetupError naming the missing packages and their install command."""
    missing = [p for p in dict.fromkeys(packages) if system.find_package(p) is None]
    if not missing:
        return
    install = 'sudo apt install ' + ' '.join(system.board_package(p) for p in missing)
    if system.on_board:
        raise LaunchSetupError('%s needs %s: %s, then source /opt/tros/%s/setup.bash'
                               % (wanted, ', '.join(missing), install, system.distro))
    raise LaunchSetupError("%s needs %s from the RDK's TogetheROS (there: %s); on a PC %s"
                           % (wanted, ', '.join(missing), install, on_a_pc))


def _share(system: System, package: str) -> str:
    prefix = system.find_package(package)
    assert prefix is not None
    return os.path.join(prefix, 'share', package)
