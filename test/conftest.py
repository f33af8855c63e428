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
Test session settings: keep this run's ROS 2 traffic to itself.

Parallel test runs on one machine (or CI next to a developer) must not hear each other: unless the
caller chose a ROS_DOMAIN_ID, use one derived from the process id, and keep discovery on this
host (ROS_AUTOMATIC_DISCOVERY_RANGE on Iron and newer, ROS_LOCALHOST_ONLY on Humble).
Subprocesses started by the tests inherit these variables.

Optional dependencies skip per test, never a module (launch_testing's pytest plugin imports every
module while collecting, so a module-level skip would skip the whole suite under colcon test):
`@pytest.mark.requires('onnxruntime', reason=...)` on a test, or as a module's pytestmark, skips
it, with the missing module and the reason, where the module cannot be imported. A module that
skips at import anyway is a collection error under the plugin, naming the module.
"""

import ast
import functools
import importlib
import os
from pathlib import Path
import traceback

from pyeasy_dnn_support import DOUBLE, forget_modules
import pytest

TEST_DIR = Path(__file__).resolve().parent

if 'ROS_DOMAIN_ID' not in os.environ:
    # 1..100: valid domain ids whose DDS ports fit on Linux next to other participants.
    os.environ['ROS_DOMAIN_ID'] = str(1 + os.getpid() % 100)
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_LOCALHOST_ONLY', '1')


@functools.lru_cache(maxsize=None)
def importable(module: str) -> bool:
    """Return whether module imports here (found but failing, as with a mismatched numpy: no)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'requires(*modules, reason): skip the test, saying which module is missing '
                   'and why the test needs it, where one of the modules cannot be imported')


#: Packages of a ROS 2 installation (the ros-* wheels here, apt on a robot, RDK_ROS_SOURCES).
ROS_PACKAGES = {'ai_msgs', 'ament_index_python', 'builtin_interfaces', 'diagnostic_msgs',
                'geometry_msgs', 'hbm_img_msgs', 'launch', 'launch_ros', 'launch_testing',
                'lifecycle_msgs', 'rcl_interfaces', 'rclpy', 'rosidl_runtime_py', 'sensor_msgs',
                'std_msgs', 'vision_msgs'}


def missing_ros_package(error: BaseException) -> str:
    """Return the ROS 2 package whose absence made a test module's import fail, else ''."""
    cause = error.__cause__
    name = getattr(cause, 'name', None) or ''
    if isinstance(cause, ImportError) and name.split('.')[0] in ROS_PACKAGES:
        return name
    return ''


class MissingRosPackage(pytest.Item):
    """A test of a module that cannot import without ROS 2: it skips, naming the package."""

    def __init__(self, *args, reason: str = '', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reason = reason

    def runtest(self) -> None:
        pytest.skip(self.reason)


class RosTestModule(pytest.Module):
    """A test module that, where a ROS 2 package it imports is missing, has skipping tests."""

    def collect(self):
        try:
            return super().collect()
        except pytest.Collector.CollectError as error:
            package = missing_ros_package(error)
            if not package:
                raise
        path = Path(str(getattr(self, 'path', None) or self.fspath))
        reason = ('%s is not installed: the test needs ROS 2 (rclpy and the messages; on a robot '
                  'from ROS 2, here from the ros-* wheels, requirements/ros.txt)' % package)
        return [MissingRosPackage.from_parent(self, name=name, reason=reason)
                for name in names_of_tests(path)]


def names_of_tests(path: Path) -> list:
    """Return the names of a module's tests from its source: test_x, TestY::test_z."""
    names = []
    for node in ast.parse(path.read_text(encoding='utf-8')).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith('test'):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith('Test'):
            names += ['%s::%s' % (node.name, method.name) for method in node.body
                      if isinstance(method, ast.FunctionDef) and method.name.startswith('test')]
    return names


@pytest.hookimpl(hookwrapper=True)
def pytest_pycollect_makemodule(parent):
    """
    Collect plain test modules as RosTestModule (see there).

    A test module's skip at import, which only launch_testing's collection sees (it imports the
    module here), becomes an error naming the module instead of skipping the whole suite.
    """
    outcome = yield
    if outcome.excinfo is not None:
        if isinstance(outcome.excinfo[1], pytest.skip.Exception):
            frames = [frame.f_code.co_filename
                      for frame, _ in traceback.walk_tb(outcome.excinfo[2])]
            module = next((name for name in reversed(frames) if Path(name).parent == TEST_DIR),
                          'a test module')
            raise RuntimeError(
                '%s skips at import (%s): the pytest plugin of launch_testing imports every test '
                'module while collecting, so that would skip the whole suite; skip per test '
                'instead (the requires mark of test/conftest.py)' % (module, outcome.excinfo[1]))
        return
    module = outcome.get_result()
    if type(module) is pytest.Module:
        location = ({'path': module.path} if hasattr(module, 'path')
                    else {'fspath': module.fspath})
        outcome.force_result(RosTestModule.from_parent(parent, **location))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Skip a test marked requires(...) whose modules are not all importable here."""
    for mark in item.iter_markers('requires'):
        missing = [module for module in mark.args if not importable(module)]
        if missing:
            pytest.skip('%s not installed: %s' % (', '.join(missing), mark.kwargs['reason']))


@pytest.fixture
def pyeasy_dnn(monkeypatch):
    """Make the test double importable as hobot_dnn.pyeasy_dnn, here and in child processes."""
    monkeypatch.syspath_prepend(str(DOUBLE))
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join(
        [str(DOUBLE)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    forget_modules(monkeypatch, 'hobot_dnn', 'hobot_dnn.pyeasy_dnn')
    import hobot_dnn.pyeasy_dnn
    return hobot_dnn.pyeasy_dnn


@pytest.fixture(scope='module')
def client():
    """Yield a ScenarioClient (see scenarios.py) on its own rclpy context."""
    import rclpy
    import scenarios
    context = rclpy.Context()
    rclpy.init(context=context)
    scenario_client = scenarios.ScenarioClient(context)
    yield scenario_client
    scenario_client.close()
    rclpy.shutdown(context=context)
