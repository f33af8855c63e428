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

"""Where the pyeasy_dnn test double lives, and how tests import it without leaving it behind."""

from pathlib import Path
import sys

#: The folder that holds the double's hobot_dnn package (put on sys.path to import it).
DOUBLE = Path(__file__).resolve().parent / 'pyeasy_dnn_double'


def forget_modules(monkeypatch, *names) -> None:
    """Unload ``names`` now; after the test, sys.modules holds them as before it (or not)."""
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)  # remembers the entry, or its absence
        del sys.modules[name]
