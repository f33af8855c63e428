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
Where rdk_classifier's installed files are: the package's config/ folder (no threads).

A source checkout (package.xml next to config/) is used first, else the installed package share
(ament_index). Also the name of the Fast DDS profile for frames over 512 KB, which camera
drivers and publishers of large frames use.
"""

from pathlib import Path

PACKAGE = 'rdk_classifier'
#: The Fast DDS profile (in config/) that carries camera frames over 512 KB without loss.
LARGE_FRAMES_PROFILE = 'fastdds_large_frames.xml'


def package_config_path(filename: str) -> Path:
    """Return config/<filename> of the source checkout, else of the installed package share."""
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / 'package.xml').is_file() and (checkout / 'config' / filename).exists():
        return checkout / 'config' / filename
    from ament_index_python.packages import get_package_share_directory
    return Path(get_package_share_directory(PACKAGE)) / 'config' / filename
