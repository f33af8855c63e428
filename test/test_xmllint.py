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

"""XML files (ament_xmllint, or an equivalent check without it): well formed, valid manifests."""

import os
from pathlib import Path
from typing import List, Optional
from xml.dom import minidom
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
#: colcon's output folders, when colcon runs in this folder (they are ignored by git).
EXCLUDED = ['build', 'install', 'log']
FORMAT_3_SCHEMA = 'http://download.ros.org/schema/package_format3.xsd'


def xml_files() -> List[Path]:
    """Return the .xml files that ament_xmllint checks: none under AMENT_IGNORE, . or _ folders."""
    found = []
    for folder, folders, names in os.walk(PACKAGE_ROOT):
        if 'AMENT_IGNORE' in folders + names:
            folders[:] = []
            continue
        folders[:] = sorted(d for d in folders if d[0] not in '._' and d not in EXCLUDED)
        found += [Path(folder, name) for name in sorted(names) if name.endswith('.xml')]
    return found


@pytest.mark.linter
@pytest.mark.xmllint
def test_xmllint():
    main = pytest.importorskip(
        'ament_xmllint.main',
        reason='ament_xmllint is not installed (it is not among the ros-* wheels); '
               'test_xml_well_formed and test_package_manifests check the same files')
    rc = main.main(argv=[str(PACKAGE_ROOT), '--exclude'] + EXCLUDED)
    assert rc == 0, 'Found errors'


@pytest.mark.linter
@pytest.mark.xmllint
def test_xml_well_formed():
    files = xml_files()
    assert PACKAGE_ROOT / 'package.xml' in files
    errors = []
    for path in files:
        try:
            minidom.parse(str(path))
        except ExpatError as exc:
            errors.append('%s: %s' % (path.relative_to(PACKAGE_ROOT), exc))
    assert not errors, 'Malformed XML:\n' + '\n'.join(errors)


@pytest.mark.linter
@pytest.mark.xmllint
def test_package_manifests():
    # ament_xmllint validates a manifest against the XSD its xml-model instruction names; that
    # schema is on download.ros.org, out of reach here, so catkin_pkg's validation (what colcon
    # and rosdep read the manifest with) stands in for it.
    package = pytest.importorskip('catkin_pkg.package',
                                  reason='catkin_pkg is not installed (requirements/ros.txt)')
    manifests = [path for path in xml_files() if path.name == 'package.xml']
    assert PACKAGE_ROOT / 'package.xml' in manifests
    problems = []
    for path in manifests:
        name = str(path.relative_to(PACKAGE_ROOT))
        warnings = []
        try:
            manifest = package.parse_package(str(path), warnings=warnings)
        except package.InvalidPackage as exc:
            problems.append('%s: %s' % (name, exc))
            continue
        problems += ['%s: %s' % (name, warning) for warning in warnings]
        if manifest.package_format != 3:
            problems.append('%s: format %d, not 3' % (name, manifest.package_format))
        schemas = _schemas(path)
        if schemas != [FORMAT_3_SCHEMA]:
            problems.append('%s: xml-model schemas %s, not %s' % (name, schemas, FORMAT_3_SCHEMA))
    assert not problems, 'Invalid manifests:\n' + '\n'.join(problems)


def _schemas(path: Path) -> List[Optional[str]]:
    """Return the href of each xml-model processing instruction before the root element."""
    # The instruction's data is written as attributes: read them as those of an element.
    return [ElementTree.fromstring('<model %s/>' % node.data).get('href')
            for node in minidom.parse(str(path)).childNodes
            if node.nodeType == node.PROCESSING_INSTRUCTION_NODE and node.target == 'xml-model']
