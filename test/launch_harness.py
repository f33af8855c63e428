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
launch_testing harness: the scenarios of scenarios.py against classify.launch.py.

``scenario_test_description(setup)`` includes the launch file with the setup's parameters (the
fake engine) and ``scenario_test_case(setup)`` builds the active tests that run each scenario;
test_launch_*.py files pair them. Needs launch, launch_ros and launch_testing (colcon test on a
robot); test_node_process.py runs the same scenarios without them.
"""

import os
import tempfile
import unittest

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
import launch_testing.actions
import rclpy
import scenarios


def scenario_test_description(setup: str) -> LaunchDescription:
    """Return the launch description of classify.launch.py for ``setup``."""
    params = scenarios.write_params_file(
        setup, os.path.join(tempfile.mkdtemp(prefix='rdk_classifier_'), 'params.yaml'))
    launch_file = os.path.join(get_package_share_directory('rdk_classifier'), 'launch',
                               'classify.launch.py')
    return LaunchDescription([
        IncludeLaunchDescription(PythonLaunchDescriptionSource(launch_file),
                                 launch_arguments={'params_file': params}.items()),
        launch_testing.actions.ReadyToTest(),
    ])


def scenario_test_case(setup: str) -> type:
    """Return a TestCase with one test per scenario of ``setup``."""

    class ScenarioTests(unittest.TestCase):

        @classmethod
        def setUpClass(cls):
            cls.context = rclpy.Context()
            rclpy.init(context=cls.context)
            cls.client = scenarios.ScenarioClient(cls.context)

        @classmethod
        def tearDownClass(cls):
            cls.client.close()
            rclpy.shutdown(context=cls.context)

        def test_0_node_started(self, proc_output):
            proc_output.assertWaitFor('classifying', timeout=60)

    for scenario in scenarios.SETUPS[setup][1]:
        def run(self, scenario=scenario):
            scenario(self.client)
        run.__doc__ = scenario.__doc__
        setattr(ScenarioTests, 'test_%s' % scenario.__name__, run)
    ScenarioTests.__name__ = 'Test%sScenarios' % setup.capitalize()
    return ScenarioTests
