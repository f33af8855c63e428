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

"""launch_testing: the 'compressed' scenarios of scenarios.py against classify.launch.py."""

import unittest

import pytest

pytest.importorskip('launch_testing', reason='launch_testing is not installed here (not on PyPI); '
                    'test_node_process.py runs the same scenarios')
pytest.importorskip('launch_ros', reason='launch_ros is not installed here (not on PyPI); '
                    'test_node_process.py runs the same scenarios')

import launch_harness  # noqa: E402, I100 - importable only where launch_testing is
import launch_testing  # noqa: E402
import launch_testing.asserts  # noqa: E402


@pytest.mark.launch_test
def generate_test_description():
    return launch_harness.scenario_test_description('compressed')


TestCompressedScenarios = launch_harness.scenario_test_case('compressed')


@launch_testing.post_shutdown_test()
class TestCleanExit(unittest.TestCase):

    def test_exit_code_is_zero(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
