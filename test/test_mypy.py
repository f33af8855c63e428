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

"""Static types (ament_mypy, or mypy itself without it) with the package's mypy.ini."""

import importlib.util
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
CONFIG = PACKAGE_ROOT / 'mypy.ini'
CHECKED = [str(PACKAGE_ROOT / folder) for folder in ('rdk_classifier', 'launch', 'test')]


@pytest.mark.linter
@pytest.mark.mypy
def test_mypy():
    main = pytest.importorskip(
        'ament_mypy.main',
        reason='ament_mypy is not installed (it is not among the ros-* wheels); '
               'test_mypy_without_ament runs mypy with the same configuration')
    rc = main.main(argv=['--config', str(CONFIG)] + CHECKED)
    assert rc == 0, 'Found type errors'


@pytest.mark.linter
@pytest.mark.mypy
def test_mypy_without_ament(pytestconfig, tmp_path):
    if importlib.util.find_spec('ament_mypy') is not None:
        pytest.skip('test_mypy runs ament_mypy with the same configuration')
    api = pytest.importorskip(
        'mypy.api', reason='mypy is not installed (requirements/python.txt has it)')
    # Unlike ament_mypy, keep mypy's cache in pytest's (unless -p no:cacheprovider): a second
    # run takes a second, not 30.
    cache = getattr(pytestconfig, 'cache', None)
    cache_dir = cache.mkdir('mypy') if cache is not None else tmp_path
    report, errors, status = api.run(
        ['--config-file', str(CONFIG), '--cache-dir', str(cache_dir)] + CHECKED)
    assert status == 0, 'Found type errors:\n' + report + errors
