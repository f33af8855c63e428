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
The suite collects the same tests with launch_testing's pytest plugin as without it.

The plugin, installed with launch_testing (colcon test, any sourced ROS 2), imports every test
module while collecting: a module that skips at import (a module-level pytest.skip or
importorskip) or fails to import there takes the whole collection with it, and colcon test then
runs nothing. Here `pytest --collect-only` runs on test/ both ways, in two subprocesses at once,
and the node ids are compared. A launch test module (it has a generate_test_description) is
one item under the plugin and its unittest cases without it: each way must collect it.
"""

import os
from pathlib import Path
import subprocess
import sys
from typing import Dict, List, Tuple

import pytest

TEST_DIR = Path(__file__).resolve().parent
#: The plugins' names: launch_testing's, and launch_testing_ros's entry point ('launch_ros').
WITHOUT_PLUGINS = ['-p', 'no:launch_testing', '-p', 'no:launch_ros', '-p', 'no:launch_testing_ros']


def collect_both_ways() -> Tuple[Tuple[int, List[str], str], Tuple[int, List[str], str]]:
    """Return (exit code, node ids, output) of the collection with, then without the plugins."""
    env = dict(os.environ)
    env.pop('PYTEST_DISABLE_PLUGIN_AUTOLOAD', None)  # the plugins load through entry points
    command = [sys.executable, '-m', 'pytest', str(TEST_DIR), '--collect-only', '-q',
               '-p', 'no:cacheprovider']
    runs = [subprocess.Popen(command + extra, cwd=str(TEST_DIR.parent), env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for extra in ([], WITHOUT_PLUGINS)]
    results = []
    for run in runs:
        output, _ = run.communicate(timeout=600)
        results.append((run.returncode, [line for line in output.splitlines() if '::' in line],
                        output))
    return results[0], results[1]


def per_file(node_ids: List[str]) -> Dict[str, List[str]]:
    files: Dict[str, List[str]] = {}
    for node_id in node_ids:
        files.setdefault(node_id.split('::')[0], []).append(node_id)
    return files


def is_launch_test(file: str) -> bool:
    """Tell whether the module defines or imports a launch test description."""
    return 'generate_test_description' in (TEST_DIR.parent / file).read_text(encoding='utf-8')


@pytest.mark.requires('launch_testing', reason='the comparison needs the pytest plugin of '
                      'launch_testing (set-up installs it from the folder RDK_ROS_SOURCES names)')
def test_launch_testing_plugin_collects_what_plain_pytest_collects():
    (code_with, ids_with, output_with), (code_without, ids_without, output_without) = \
        collect_both_ways()
    assert code_without == 0, output_without
    assert code_with == 0, output_with
    with_plugin, without_plugin = per_file(ids_with), per_file(ids_without)
    assert sorted(with_plugin) == sorted(without_plugin), (
        'files collected only with the plugin: %s; only without it: %s'
        % (sorted(set(with_plugin) - set(without_plugin)),
           sorted(set(without_plugin) - set(with_plugin))))
    launch_tests = [file for file in with_plugin if is_launch_test(file)]
    assert launch_tests, 'no launch test collected: test_launch_scenarios.py is one'
    for file in set(with_plugin) - set(launch_tests):
        assert with_plugin[file] == without_plugin[file], file
    # Far from an empty or one-module collection: the whole suite both ways.
    assert len(ids_with) > 100
