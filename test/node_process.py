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
The classifier node as a subprocess, started the way classify.launch.py starts it.

Like the launch file, it passes one params file (config/classifier.yaml unless given).
"""

from pathlib import Path
import signal
import subprocess
import sys
import threading
import time
from typing import List, Optional

from rdk_classifier.paths import package_config_path

START_TIMEOUT_S = 60.0


def children_of(pid: int) -> List[int]:
    """Return the process ids of the direct children of ``pid``."""
    children = []
    for task in Path('/proc/%d/task' % pid).glob('*/children'):
        children += [int(c) for c in task.read_text().split()]
    return children


def default_ctrl_c() -> None:
    """
    Give a child the default SIGINT and SIGQUIT dispositions, as a terminal's Ctrl-C finds them.

    A command started in the background by a non-interactive shell (``make test &``) ignores both,
    and an ignored signal stays ignored across exec: ros2 launch would then ignore the SIGINT the
    tests send it, as Python keeps an inherited SIG_IGN. Used as Popen's preexec_fn.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def alive(pid: int) -> bool:
    """Tell whether ``pid`` exists and is not a zombie."""
    try:
        state = Path('/proc/%d/stat' % pid).read_text().rsplit(')', 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != 'Z'


class NodeProcess:
    """The classifier node (``managed``: the lifecycle node) as a subprocess, with its output."""

    def __init__(self, params_file: Optional[str] = None, *ros_args: str,
                 managed: bool = False) -> None:
        entry = (['-c', 'import sys; from rdk_classifier.ros.main import main_managed; '
                        'sys.exit(main_managed())'] if managed
                 else ['-m', 'rdk_classifier.ros.main'])
        command = [sys.executable] + entry + [
            '--ros-args', '--params-file',
            params_file or str(package_config_path('classifier.yaml'))]
        command += list(ros_args)
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        preexec_fn=default_ctrl_c)
        self.lines: List[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None  # started with stdout=PIPE
        for line in self.process.stdout:
            self.lines.append(line.rstrip('\n'))

    @property
    def output(self) -> str:
        """Everything the node printed so far."""
        return '\n'.join(self.lines)

    def wait_for_line(self, text: str, timeout: float = START_TIMEOUT_S) -> None:
        """Wait until the node prints a line containing ``text``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            assert self.process.poll() is None, 'node exited early:\n' + self.output
            time.sleep(0.05)
        raise AssertionError('node did not print %r within %.0f s:\n%s'
                             % (text, timeout, self.output))

    def stop(self, signum: int = signal.SIGINT, timeout: float = 10.0) -> int:
        """Send ``signum`` and return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._reader.join(5.0)
