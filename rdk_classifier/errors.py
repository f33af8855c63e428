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
The error every part of rdk_classifier raises for a configuration that cannot work (no threads).

Parameters, the catalog, the node's start-up and the programs raise :class:`ConfigError`; its
message is one actionable line (or a first line and pasteable commands), shown without a
traceback.
"""


class ConfigError(ValueError):
    """A configuration that cannot work; str() is one actionable line."""
