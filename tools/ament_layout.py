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
Give pip-installed ROS 2 Python packages the layout that `ros2 launch` and `ros2 run` expect.

colcon installs an ament_python package's console scripts into <prefix>/lib/<package>/ (setup.cfg's
install_scripts), where launch_ros and ros2run look for executables, and its data files (the ament
index marker, share/<package>/) into the prefix. pip puts console scripts into <prefix>/bin/; an
editable install, the development one, has no share/ at all (or a copy, depending on pip's
version). Run with the venv's Python (the prefix is its sys.prefix):

    python tools/ament_layout.py scripts DIST...  # console scripts also in lib/<DIST>/
    python tools/ament_layout.py develop REPO     # rdk_classifier from its working tree REPO

`develop` links the marker, package.xml and the files of launch/ and config/ to the working
tree, so edits show at once (set-up runs again when a file is added), and writes a .pth file
that appends the venv to AMENT_PREFIX_PATH in every Python process of the venv (ament_index
needs the variable; a sourced workspace stays in front).
Single-threaded, idempotent.
"""

from importlib import metadata
from pathlib import Path
import shutil
import sys
from typing import List

PACKAGE = 'rdk_classifier'
#: Installed as share/rdk_classifier/<folder>/ (setup.py's data_files).
SHARED_FOLDERS = ('launch', 'config')
PREFIX_HOOK = 'rdk_ament_prefix.pth'
# One line, run by site at every start of the venv's Python.
PREFIX_HOOK_LINE = (
    'import os, sys; p = os.environ.get("AMENT_PREFIX_PATH", ""); '
    'sys.prefix in p.split(os.pathsep) or os.environ.__setitem__('
    '"AMENT_PREFIX_PATH", os.pathsep.join(x for x in (p, sys.prefix) if x))\n')


def replace_with_link(link: Path, target: Path) -> None:
    """Make link a symlink to target, whatever was there (file, copy of a folder, old link)."""
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def link_scripts(prefix: Path, dist_name: str) -> List[str]:
    """Link a distribution's console scripts from <prefix>/bin into <prefix>/lib/<dist_name>."""
    names = [ep.name for ep in metadata.distribution(dist_name).entry_points
             if ep.group == 'console_scripts']
    lib = prefix / 'lib' / dist_name
    for name in names:
        script = prefix / 'bin' / name
        if script.exists() and not (lib / name).exists():
            replace_with_link(lib / name, script)
        if not (lib / name).exists():
            raise SystemExit('ament_layout: %s has no console script %s in bin/ or lib/%s/'
                             % (dist_name, name, dist_name))
    return names


def develop(prefix: Path, repo: Path) -> None:
    """Lay out the editable rdk_classifier as colcon would install it, linked to the tree."""
    share = prefix / 'share'
    replace_with_link(share / 'ament_index' / 'resource_index' / 'packages' / PACKAGE,
                      repo / 'resource' / PACKAGE)
    replace_with_link(share / PACKAGE / 'package.xml', repo / 'package.xml')
    for folder in SHARED_FOLDERS:
        # A real folder of links: ros2 launch looks for launch files with os.walk, which does
        # not enter a linked folder.
        target = share / PACKAGE / folder
        if target.is_symlink() or target.is_file():
            target.unlink()
        target.mkdir(parents=True, exist_ok=True)
        for stale in target.iterdir():
            if stale.is_symlink() and not stale.exists():
                stale.unlink()
        for source in sorted((repo / folder).iterdir()):
            if source.is_file():
                replace_with_link(target / source.name, source)
    link_scripts(prefix, PACKAGE)
    site_packages = Path(next(p for p in sys.path if p.endswith('site-packages')
                              and p.startswith(sys.prefix)))
    (site_packages / PREFIX_HOOK).write_text(PREFIX_HOOK_LINE)


def main(argv: List[str]) -> None:
    prefix = Path(sys.prefix)
    if len(argv) >= 2 and argv[0] == 'scripts':
        for dist_name in argv[1:]:
            link_scripts(prefix, dist_name)
    elif len(argv) == 2 and argv[0] == 'develop':
        develop(prefix, Path(argv[1]).resolve())
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])
