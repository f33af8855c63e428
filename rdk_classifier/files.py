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
Writing model files so that a reader never sees half of one.

``atomic_write`` hands out a temporary path next to the target; only when the block that fills it
finishes does the file appear under its name, complete and flushed to disk. No threads.
"""

import contextlib
import os
from pathlib import Path
import tempfile
from typing import Iterator


@contextlib.contextmanager
def atomic_write(target: Path) -> Iterator[Path]:
    """
    Yield a temporary path in ``target``'s folder; on success it replaces ``target`` (mode 644).

    On an exception the temporary file is removed and ``target`` is left as it was. The rename is
    atomic because both names are in one folder; the data is flushed first, so a robot that loses
    power right after cannot be left with an empty file under the final name.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix='.%s.' % target.name, suffix='.part',
                                     dir=str(target.parent))
    os.close(fd)
    try:
        yield Path(temporary)
        with open(temporary, 'rb') as written:
            os.fsync(written.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
