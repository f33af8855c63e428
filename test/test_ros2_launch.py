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
`ros2 launch rdk_classifier classify.launch.py` as a user types it, in a subprocess.

ros2 launch finds the package through the ament index (the development install's layout from
tools/ament_layout.py, or an installed workspace) and the node's executable in
lib/rdk_classifier/. The node, with the fake engine, classifies a frame published here; Ctrl-C
(SIGINT) then stops launch and the node, and launch exits 0. Where ros2launch is not installed
(it is on no package registry; set-up installs it from RDK_ROS_SOURCES) the test skips;
test_node_process.py starts the node without launch.
"""

from pathlib import Path
import shutil
import signal
import subprocess
import sys
import threading

from node_process import alive, children_of, default_ctrl_c, NodeProcess
import pytest

TOPIC = '/ros2_launch_test/image_raw'


def ros2_command() -> str:
    """Return the ros2 beside this Python (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name('ros2')
    found = str(beside) if beside.exists() else shutil.which('ros2')
    assert found, 'ros2launch is installed but no ros2 command is beside %s or on PATH' % (
        sys.executable)
    return found


class LaunchProcess(NodeProcess):
    """`ros2 launch rdk_classifier classify.launch.py ARGUMENTS`, with NodeProcess's helpers."""

    def __init__(self, *arguments: str) -> None:  # noqa: D107  (NodeProcess starts the node)
        self.process = subprocess.Popen(
            [ros2_command(), 'launch', 'rdk_classifier', 'classify.launch.py'] + list(arguments),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            preexec_fn=default_ctrl_c)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()


@pytest.mark.ros
@pytest.mark.requires('ros2launch', 'launch_ros', 'rclpy',
                      reason='ros2 launch is on no package registry: set-up installs it from the '
                             'folder RDK_ROS_SOURCES names (or source a ROS 2)')
def test_ros2_launch_classifies_and_stops_on_ctrl_c(client):
    import scenarios
    launch = LaunchProcess('engine:=fake', 'model:=RepViT_m0_9', 'threads:=1',
                           'image_topics:=[%s]' % TOPIC)
    try:
        launch.wait_for_line('classifying %s' % TOPIC)
        nodes = children_of(launch.process.pid)
        assert nodes, launch.output
        data, step, y = scenarios.uniform_frame('bgr8', 120)
        frame = client.raw_image('bgr8', data, 64, 48, step)
        result = client.classify(TOPIC, frame)
        assert result.header == frame.header
        assert result.results[0].class_id == str(scenarios.expected_class(y))
    finally:
        code = launch.stop(signal.SIGINT, timeout=30.0)
    assert code == 0, launch.output
    assert 'process has finished cleanly' in launch.output, launch.output
    client.wait_for_condition(lambda: not any(alive(pid) for pid in nodes),
                              'the node launch started has exited')
