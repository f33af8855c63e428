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
Entry point of a worker process: ``python -m rdk_classifier.inference.worker_main FD PARENT_PID``.

Started by rdk_classifier.inference.worker.Worker; FD is the worker's end of its pipe, PARENT_PID
the node's process id (the worker exits if the node is already gone). A module of its own, so
the worker's protocol classes keep one home (rdk_classifier.inference.worker) when unpickled.
Single-threaded.
"""

from multiprocessing.connection import Connection
import sys
from typing import List, Optional

from rdk_classifier.inference.worker import serve


def main(argv: Optional[List[str]] = None) -> None:
    """Serve the pipe named on the command line until the node says stop or goes away."""
    fd, parent_pid = (int(arg) for arg in (sys.argv[1:] if argv is None else argv))
    serve(Connection(fd), parent_pid)


if __name__ == '__main__':
    main()
