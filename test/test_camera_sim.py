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

"""The simulated camera's command line, as `ros2 run rdk_classifier camera_sim` passes it."""

import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.ros


def test_ros_arguments_reach_rclpy(client):
    camera = subprocess.Popen(
        [sys.executable, '-m', 'rdk_classifier.programs.camera_sim',
         '--topic', '/sim/cam/image_raw', '--rate', '5', '--wait-subscribers', '0',
         '--ros-args', '-r', '__node:=sim_cam_test'],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20.0
        while 'sim_cam_test' not in client.node.get_node_names():
            assert camera.poll() is None, camera.communicate()[0]
            assert time.monotonic() < deadline, 'no node named sim_cam_test in the graph'
            time.sleep(0.1)
    finally:
        camera.send_signal(signal.SIGINT)
        output, _ = camera.communicate(timeout=10)
    assert camera.returncode == 0, output
