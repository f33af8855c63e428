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
Launch test of test_launch_scenarios.py: each setup of scenarios.py against classify.launch.py.

One launch per setup. Needs launch, launch_ros and launch_testing (colcon test on a robot; set-up
installs them from RDK_ROS_SOURCES); test_node_process.py runs the same scenarios with the node
as a subprocess where they are not installed. One run exists only here: the managed node left to
classify.launch.py's autostart (launch_ros lifecycle events). Kept apart from the test module so
that the test module imports, and skips, where these imports fail.
"""

from dataclasses import dataclass
import os
import tempfile
import time
from typing import Callable, Dict, List
import unittest

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
import launch_ros  # noqa: F401  (classify.launch.py runs its nodes with it)
import launch_testing
import launch_testing.actions
import launch_testing.asserts
import pytest
import rclpy
import scenarios


def reached_active_by_itself(client: scenarios.ScenarioClient) -> None:
    """Autostart configured and activated the managed node: it is active and classifies."""
    deadline = time.monotonic() + scenarios.TIMEOUT_S
    while client.lifecycle_state() != 'active':
        assert time.monotonic() < deadline, 'not active %.0f s after start' % scenarios.TIMEOUT_S
        time.sleep(0.1)
    data, step, y = scenarios.uniform_frame('bgr8', 120)
    result = client.classify(scenarios.MANAGED_CAM,
                             client.raw_image('bgr8', data, 64, 48, step))
    assert result.results[0].class_id == str(scenarios.expected_class(y))


@dataclass(frozen=True)
class LaunchRun:
    """One launch of classify.launch.py: a node setup of scenarios.py, launched how."""

    setup: str
    arguments: Dict[str, str]
    ready_line: str
    scenarios: List[Callable[[scenarios.ScenarioClient], None]]


RUNS = {name: LaunchRun(name, setup.launch_arguments, setup.ready_line, setup.scenarios)
        for name, setup in scenarios.SETUPS.items()}
RUNS['lifecycle_autostart'] = LaunchRun('lifecycle', {'lifecycle': 'true', 'autostart': 'true'},
                                        'classifying', [reached_active_by_itself])


# Removed when the test process exits, after every launch: the nodes read their files at start.
PARAMS_DIR = tempfile.TemporaryDirectory(prefix='rdk_classifier_launch_test_')


@pytest.mark.launch_test
@launch_testing.parametrize('run', list(RUNS))
def generate_test_description(run):
    params = scenarios.write_params_file(
        RUNS[run].setup, os.path.join(PARAMS_DIR.name, run + '.yaml'))
    launch_file = os.path.join(get_package_share_directory('rdk_classifier'), 'launch',
                               'classify.launch.py')
    arguments = dict(RUNS[run].arguments, params_file=params)
    return LaunchDescription([
        IncludeLaunchDescription(PythonLaunchDescriptionSource(launch_file),
                                 launch_arguments=arguments.items()),
        launch_testing.actions.ReadyToTest(),
    ])


class TestScenarios(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.context = rclpy.Context()
        rclpy.init(context=cls.context)
        cls.client = scenarios.ScenarioClient(cls.context)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        rclpy.shutdown(context=cls.context)

    def test_scenarios(self, proc_output, run):
        proc_output.assertWaitFor(RUNS[run].ready_line, timeout=60)
        for scenario in RUNS[run].scenarios:
            with self.subTest(scenario=scenario.__name__):
                scenario(self.client)


@launch_testing.post_shutdown_test()
class TestCleanExit(unittest.TestCase):

    def test_exit_code_is_zero(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
