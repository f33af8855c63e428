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
Check a CI job's JUnit results (pytest's --junitxml, or what colcon test writes).

    python tools/ci_junit.py NAME RESULTS [--min-tests N] [--launch-tests]

RESULTS is a JUnit XML file or a folder searched for them. Prints one line of counts, then every
skipped test with its reason, and exits non-zero when a test failed or errored, fewer than N
tests ran, or (--launch-tests) test/test_launch_scenarios.py has no test or one that did not
pass. Single-threaded, reads files only.
"""

import argparse
from dataclasses import dataclass
from pathlib import Path
import sys
from typing import Dict, List, Tuple
import xml.etree.ElementTree as ET

LAUNCH_MODULE = 'test_launch_scenarios'


@dataclass
class Case:
    """One test's outcome."""

    name: str
    outcome: str  # passed, failed, skipped
    reason: str


def read_cases(results: Path) -> List[Case]:
    """Return the test cases of a JUnit XML file, or of every one below a folder."""
    files = sorted(results.rglob('*.xml')) if results.is_dir() else [results]
    cases = []
    for path in files:
        for case in ET.parse(path).iter('testcase'):
            name = '%s::%s' % (case.get('classname', ''), case.get('name', ''))
            bad = case.find('failure')
            if bad is None:
                bad = case.find('error')
            skipped = case.find('skipped')
            if bad is not None:
                cases.append(Case(name, 'failed', bad.get('message', '')))
            elif skipped is not None:
                cases.append(Case(name, 'skipped', skipped.get('message', '')))
            else:
                cases.append(Case(name, 'passed', ''))
    return cases


def first_line(text: str) -> str:
    """Return the first line of a message ('' for none)."""
    return text.splitlines()[0] if text else ''


def main() -> int:
    """Print the counts and skip reasons; return 1 when the job's results are not acceptable."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('name')
    parser.add_argument('results', type=Path)
    parser.add_argument('--min-tests', type=int, default=1)
    parser.add_argument('--launch-tests', action='store_true',
                        help='the launch scenarios must be among the tests, all passed')
    args = parser.parse_args()
    cases = read_cases(args.results)
    count = {outcome: sum(c.outcome == outcome for c in cases)
             for outcome in ('passed', 'failed', 'skipped')}
    launch = [c for c in cases if LAUNCH_MODULE in c.name]
    print('%s: %d tests: %d passed, %d failed, %d skipped; launch scenarios: %d of %d passed'
          % (args.name, len(cases), count['passed'], count['failed'], count['skipped'],
             sum(c.outcome == 'passed' for c in launch), len(launch)))
    for case in cases:
        if case.outcome == 'failed':
            print('  failed %s: %s' % (case.name, first_line(case.reason)))
    # Skips grouped by module and reason: parametrized cases share theirs.
    skips: Dict[Tuple[str, str], int] = {}
    for case in cases:
        if case.outcome == 'skipped':
            key = (case.name.split('::')[0], first_line(case.reason))
            skips[key] = skips.get(key, 0) + 1
    for (module, reason), number in skips.items():
        print('  skipped %d in %s: %s' % (number, module, reason))
    problems = []
    if count['failed']:
        problems.append('%d failed' % count['failed'])
    if len(cases) < args.min_tests:
        problems.append('%d tests, expected at least %d' % (len(cases), args.min_tests))
    if args.launch_tests and (not launch or any(c.outcome != 'passed' for c in launch)):
        problems.append('the launch scenarios did not all run and pass')
    if problems:
        print('%s: FAILED: %s' % (args.name, '; '.join(problems)))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
