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
Launch the rdk_classifier node.

    ros2 launch rdk_classifier classify.launch.py model:=RepViT_m0_9 threads:=4

Parameters come from params_file (config/classifier.yaml by default); model, engine, threads,
image_topics and image_transport override it when given. lifecycle:=true starts the managed
(lifecycle) node instead, which autostart:=true (the default) configures and activates through
launch_ros lifecycle events; with autostart:=false a lifecycle manager or
`ros2 lifecycle set` drives it. large_frames_profile:=true makes the
processes this launch starts (the classifier, and a camera driver included next to it) use
config/fastdds_large_frames.xml, so camera frames over 512 KB cross Fast DDS without loss.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchContext, LaunchDescription
from launch.actions import (DeclareLaunchArgument, EmitEvent, OpaqueFunction,
                            RegisterEventHandler, SetEnvironmentVariable)
from launch.conditions import IfCondition
from launch.events import matches_action
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from lifecycle_msgs.msg import Transition
from rdk_classifier.inference.engines import ENGINE_CHOICES
import yaml

PACKAGE = 'rdk_classifier'
OVERRIDES = ('model', 'engine', 'threads', 'image_topics', 'image_transport')


def _overrides(context: LaunchContext) -> dict:
    """Return the parameters given as launch arguments, typed as the node declares them."""
    values = {}
    for name in OVERRIDES:
        text = LaunchConfiguration(name).perform(context).strip()
        if text:
            values[name] = text
    if 'threads' in values:
        try:
            values['threads'] = int(values['threads'])
        except ValueError:
            # launch prints only the message: int()'s would not name the argument.
            raise ValueError('threads:=%s is not a whole number of worker processes'
                             % values['threads']) from None
    if 'image_topics' in values:
        topics = yaml.safe_load(values['image_topics'])
        values['image_topics'] = [str(t) for t in (topics if isinstance(topics, list)
                                                   else [topics])]
    return values


def _classifier(context: LaunchContext):
    common = {
        'package': PACKAGE, 'name': 'rdk_classifier',
        'namespace': LaunchConfiguration('namespace'),
        'parameters': [LaunchConfiguration('params_file'), _overrides(context)],
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
    """Declare the launch arguments and the classifier node."""
    config = os.path.join(get_package_share_directory(PACKAGE), 'config')
    profile = os.path.join(config, 'fastdds_large_frames.xml')
    use_profile = IfCondition(LaunchConfiguration('large_frames_profile'))
    return LaunchDescription([
        DeclareLaunchArgument('params_file', default_value=os.path.join(config, 'classifier.yaml'),
                              description='ROS parameters file of the node'),
        DeclareLaunchArgument('model', default_value='',
                              description='Zoo model name (config/models.yaml) or model file; '
                                          'empty: from params_file'),
        DeclareLaunchArgument('engine', default_value='',
                              choices=[''] + list(ENGINE_CHOICES),
                              description='Inference engine; empty: from params_file'),
        DeclareLaunchArgument('threads', default_value='',
                              description='Inference worker processes; empty: from params_file'),
        DeclareLaunchArgument('image_topics', default_value='',
                              description='Camera topic, or a list such as '
                                          '"[/cam1/image_raw, /cam2/image_raw]"'),
        DeclareLaunchArgument('image_transport', default_value='',
                              choices=['', 'raw', 'compressed'],
                              description='raw Image or <topic>/compressed; empty: from '
                                          'params_file'),
        DeclareLaunchArgument('namespace', default_value='', description='Node namespace'),
        DeclareLaunchArgument('lifecycle', default_value='false', choices=['true', 'false'],
                              description='Run the managed (lifecycle) node'),
        DeclareLaunchArgument('autostart', default_value='true', choices=['true', 'false'],
                              description='lifecycle:=true: configure and activate at start'),
        DeclareLaunchArgument('log_level', default_value='info',
                              choices=['debug', 'info', 'warn', 'error', 'fatal'],
                              description='Logging level of the node'),
        DeclareLaunchArgument('large_frames_profile', default_value='false',
                              choices=['true', 'false'],
                              description='Start processes with the Fast DDS profile for '
                                          'frames over 512 KB'),
        SetEnvironmentVariable('FASTDDS_DEFAULT_PROFILES_FILE', profile, condition=use_profile),
        SetEnvironmentVariable('FASTRTPS_DEFAULT_PROFILES_FILE', profile, condition=use_profile),
        OpaqueFunction(function=_classifier),
    ])
