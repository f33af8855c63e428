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

"""The programs' shared argument parser: every option's help ends with its default."""

import argparse
from typing import Optional


class DefaultsHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """
    Append "(default: X)" to each option's help unless the help already says its default.

    Unlike argparse.ArgumentDefaultsHelpFormatter, an option whose default is None gets nothing
    ("default: None" tells a user nothing): its help must say in words what happens without it.
    The description keeps its line breaks, so that example commands stay on their own lines.
    """

    def _get_help_string(self, action: argparse.Action) -> Optional[str]:
        text = action.help or ''
        if 'default' in text or action.default in (None, argparse.SUPPRESS):
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            if isinstance(action.default, bool):
                return text + (' (default: on)' if action.default else ' (default: off)')
            return text + ' (default: %(default)s)'
        return text


def argument_parser(doc: str, epilog: Optional[str] = None) -> argparse.ArgumentParser:
    """Return a parser whose description is the first paragraph of a module's ``doc``."""
    return argparse.ArgumentParser(description=doc.strip().split('\n\n')[0], epilog=epilog,
                                   formatter_class=DefaultsHelpFormatter)
