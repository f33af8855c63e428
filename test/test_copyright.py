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

"""Copyright and license headers (ament_copyright, or an equivalent check without it)."""

from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ('rdk_classifier', 'launch', 'test', 'tools')
LICENSE_LINE = '# Licensed under the Apache License, Version 2.0 (the "License");'


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    main = pytest.importorskip(
        'ament_copyright.main',
        reason='ament_copyright is not installed (it is not on PyPI); '
               'test_license_headers checks the same headers')
    rc = main.main(argv=[str(PACKAGE_ROOT / d) for d in SOURCE_DIRS] + ['--exclude', '.venv'])
    assert rc == 0, 'Found errors'


@pytest.mark.linter
def test_license_headers():
    missing = []
    for folder in SOURCE_DIRS:
        for path in sorted((PACKAGE_ROOT / folder).rglob('*.py')):
            head = path.read_text(encoding='utf-8').splitlines()[:3]
            if not (head and head[0].startswith('# Copyright ') and LICENSE_LINE in head):
                missing.append(str(path.relative_to(PACKAGE_ROOT)))
    assert not missing, 'Files without the Apache-2.0 header: ' + ', '.join(missing)
