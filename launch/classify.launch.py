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
Launch the rdk_classifier node, with a camera and the RDK's browser view when asked.

    ros2 launch rdk_classifier classify.launch.py camera:=usb class_id_mode:=name
    ros2 launch rdk_classifier classify.launch.py web:=true    # RDK X5: http://<board>:8000

Parameters come from params_file (config/classifier.yaml by default). A node parameter given as a
launch argument (model, engine, threads, image_topics, image_transport, class_id_mode, top_k,
publish_overlay, model_dirs, use_sim_time, log_results) overrides it; left empty (the default) it
is params_file's or the node's parameter table's.

camera:=mipi|usb also starts a camera driver (the RDK's mipi_cam or hobot_usb_cam, a PC's usb_cam
or v4l2_camera, whichever is installed) with config/fastdds_large_frames.xml, and sets
image_topics and image_transport to its topic unless given. web:=true (RDK) also starts a camera:
mipi_cam in shared memory with the RDK's zero-copy environment and hobot_codec (NV12 to JPEG on
/image_jpeg), or with camera:=usb hobot_usb_cam's own JPEG frames; and hobot_websocket with that
JPEG and our perception_targets: the browser view is http://<board>:8000. A missing package stops
the launch with one line saying how to install it.
rdk_classifier/ros/launch_support.py decides all of this without launch.

lifecycle:=true starts the managed (lifecycle) node instead, which autostart:=true (the default)
configures and activates through launch_ros lifecycle events; with autostart:=false a lifecycle
manager or `ros2 lifecycle set` drives it. large_frames_profile:=true gives every process of the
launch config/fastdds_large_frames.xml (a camera driver included next to it, for example).
"""

import os

from launch import LaunchContext, LaunchDescription
from launch.actions import (DeclareLaunchArgument, EmitEvent, IncludeLaunchDescription, LogInfo,
                            OpaqueFunction, RegisterEventHandler, SetEnvironmentVariable)
from launch.conditions import IfCondition
from launch.events import matches_action
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from lifecycle_msgs.msg import Transition
from rdk_classifier.ros.launch_support import (BOOLEAN_CHOICES, CAMERA_CHOICES, CAMERA_SIZES,
                                               CLASS_ID_MODES, ENGINE_CHOICES, make_plan,
                                               parse_arguments, Process, System,
                                               TRANSPORT_CHOICES)

PACKAGE = 'rdk_classifier'
# Beside this file both in the source tree and in share/rdk_classifier.
CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'config')
LARGE_FRAMES_PROFILE = os.path.join(CONFIG, 'fastdds_large_frames.xml')
# Empty: not given (params_file or the node's parameter table decides).
FROM_PARAMS = ''


def _optional(name: str, description: str, choices=None) -> DeclareLaunchArgument:
    return DeclareLaunchArgument(
        name, default_value=FROM_PARAMS,
        description=description + "; empty: params_file's value, else the node's default",
        **({'choices': [FROM_PARAMS] + list(choices)} if choices else {}))


def _camera_sizes(axis: int) -> str:
    return ', '.join('%d (%s)' % (size[axis], camera) for camera, size in CAMERA_SIZES.items())


def _declarations():
    return [
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(CONFIG, 'classifier.yaml'),
                              description='ROS parameters file of the node'),
        _optional('model', 'Zoo model name (config/models.yaml) or model file'),
        _optional('engine', 'Inference engine', ENGINE_CHOICES),
        _optional('threads', 'Inference worker processes'),
        _optional('image_topics', 'Camera topic, or a list such as '
                  '"[/cam1/image_raw, /cam2/image_raw]" (camera:= sets its own)'),
        _optional('image_transport', 'How camera frames arrive (auto: the type found on the '
                  'topic)', TRANSPORT_CHOICES),
        _optional('class_id_mode', 'class_id as the class index or its label (name)',
                  CLASS_ID_MODES),
        _optional('top_k', 'Results per classification'),
        _optional('publish_overlay', 'Publish the annotated model input on classification_overlay',
                  BOOLEAN_CHOICES),
        _optional('model_dirs', 'Folder, or a list of folders, searched for model files first'),
        _optional('use_sim_time', 'Use /clock (ros2 bag play --clock)', BOOLEAN_CHOICES),
        _optional('log_results', 'Log the top-1 result (throttled)', BOOLEAN_CHOICES),
        DeclareLaunchArgument('camera', default_value='none', choices=list(CAMERA_CHOICES),
                              description='Also start a camera driver: mipi (RDK), '
                                          'usb (RDK or PC)'),
        DeclareLaunchArgument('web', default_value='false', choices=list(BOOLEAN_CHOICES),
                              description='RDK: also start the camera, hobot_codec and '
                                          'hobot_websocket (browser view on port 8000)'),
        DeclareLaunchArgument('camera_width', default_value='',
                              description='Camera frame width; empty: ' + _camera_sizes(0)),
        DeclareLaunchArgument('camera_height', default_value='',
                              description='Camera frame height; empty: ' + _camera_sizes(1)),
        DeclareLaunchArgument('camera_device', default_value='',
                              description="Camera video_device; empty: the driver's default"),
        DeclareLaunchArgument('namespace', default_value='', description='Node namespace'),
        DeclareLaunchArgument('lifecycle', default_value='false', choices=list(BOOLEAN_CHOICES),
                              description='Run the managed (lifecycle) node'),
        DeclareLaunchArgument('autostart', default_value='true', choices=list(BOOLEAN_CHOICES),
                              description='lifecycle:=true: configure and activate at start'),
        DeclareLaunchArgument('log_level', default_value='info',
                              choices=['debug', 'info', 'warn', 'error', 'fatal'],
                              description='Logging level of the node'),
        DeclareLaunchArgument('large_frames_profile', default_value='false',
                              choices=list(BOOLEAN_CHOICES),
                              description='Start every process with the Fast DDS profile for '
                                          'frames over 512 KB'),
    ]


def _started(process: Process) -> Node:
    # At warn, as D-Robotics' own launch files start them: hobot_usb_cam logs every frame at info.
    return Node(package=process.package, executable=process.executable, name=process.name,
                parameters=[process.parameters], additional_env=process.env or None,
                arguments=['--ros-args', '--log-level', 'warn'], output='screen',
                emulate_tty=True)


def _launch(context: LaunchContext):
    arguments = parse_arguments({argument.name: LaunchConfiguration(argument.name)
                                 .perform(context) for argument in _declarations()})
    plan = make_plan(arguments, System.here(), LARGE_FRAMES_PROFILE)
    actions = [SetEnvironmentVariable(name, value) for name, value in plan.environment.items()]
    actions += [IncludeLaunchDescription(PythonLaunchDescriptionSource(path))
                for path in plan.includes]
    actions += [_started(process) for process in plan.processes]
    if arguments.web:
        actions.append(LogInfo(msg='Browser view: http://<this board>:8000'))
    return actions + _classifier(context, plan.classifier_parameters)


def _classifier(context: LaunchContext, parameters: dict):
    common = {
        'package': PACKAGE, 'name': 'rdk_classifier',
        'namespace': LaunchConfiguration('namespace'),
        'parameters': [LaunchConfiguration('params_file'), parameters],
        'arguments': ['--ros-args', '--log-level', LaunchConfiguration('log_level')],
        'output': 'screen', 'emulate_tty': True}
    if LaunchConfiguration('lifecycle').perform(context) != 'true':
        return [Node(executable='classifier_node', **common)]
    node = LifecycleNode(executable='classifier_lifecycle_node', **common)
    if LaunchConfiguration('autostart').perform(context) != 'true':
        return [node]
    return [
        node,
        # Configure once the process runs, activate once configured (both modes of launch_ros
        # since Humble; its LifecycleNode autostart argument is newer).
        RegisterEventHandler(OnStateTransition(
            target_lifecycle_node=node, start_state='configuring', goal_state='inactive',
            entities=[EmitEvent(event=ChangeState(
                lifecycle_node_matcher=matches_action(node),
                transition_id=Transition.TRANSITION_ACTIVATE))],
            handle_once=True)),
        EmitEvent(event=ChangeState(lifecycle_node_matcher=matches_action(node),
                                    transition_id=Transition.TRANSITION_CONFIGURE)),
    ]


def generate_launch_description() -> LaunchDescription:
    """Declare the launch arguments; the processes are decided once they are known."""
    use_profile = IfCondition(LaunchConfiguration('large_frames_profile'))
    return LaunchDescription(_declarations() + [
        SetEnvironmentVariable('FASTDDS_DEFAULT_PROFILES_FILE', LARGE_FRAMES_PROFILE,
                               condition=use_profile),
        SetEnvironmentVariable('FASTRTPS_DEFAULT_PROFILES_FILE', LARGE_FRAMES_PROFILE,
                               condition=use_profile),
        OpaqueFunction(function=_launch),
    ])
