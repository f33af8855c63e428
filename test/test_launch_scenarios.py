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
launch_testing: every setup of scenarios.py against classify.launch.py (launch_scenarios.py).

launch_testing's pytest plugin runs this module's generate_test_description and test cases. Where
launch, launch_ros or launch_testing (or ROS 2 itself) are not installed, the module still
imports: the plugin imports every test module while collecting, so a module-level skip would
skip the whole suite. Its one test then skips, saying what is missing; test_node_process.py runs
the same scenarios with the node as a subprocess.
"""

import pytest

#: The packages whose absence makes the launch test skip; any other import error fails.
OPTIONAL = {'ament_index_python', 'launch', 'launch_ros', 'launch_testing', 'rclpy'}

try:
    from launch_scenarios import (generate_test_description,  # noqa: F401
                                  TestCleanExit, TestScenarios)
except ImportError as error:  # not installed, or only this repository's launch/ folder
    if (error.name or '').split('.')[0] not in OPTIONAL:
        raise
    MISSING = error.name

    def test_launch_scenarios():
        pytest.skip('%s is not installed: launch, launch_ros and launch_testing are on no package '
                    'registry (set-up installs them from the folder RDK_ROS_SOURCES names, or '
                    'source a ROS 2); test_node_process.py runs the same scenarios' % MISSING)
