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


"""The simulated shared-memory camera, as a process: what a subscriber of /hbmem_img receives."""

import signal
import subprocess
import sys

import numpy as np
import pytest
from rclpy.qos import qos_profile_sensor_data
from rdk_classifier.programs.camera_sim import encode
from rdk_classifier.ros import hbm

pytestmark = pytest.mark.ros

#: camera_sim's gray levels, the frames without --images.
GRAYS = list(range(16, 240, 28))


def test_frames_are_mipi_cams_nv12_hbm_frames(client):
    msgs = pytest.importorskip('hbm_img_msgs.msg', reason='hbm_img_msgs is not installed '
                               '(tools/install_ros_sources.sh builds it)')
    topic = '/hbm_sim_test/hbmem_img'
    inbox = client.inbox(topic, msgs.HbmMsg1080P, qos_profile_sensor_data)
    camera = subprocess.Popen(
        [sys.executable, '-m', 'rdk_classifier.programs.hbm_camera_sim', '--topic', topic,
         '--width', '64', '--height', '48', '--rate', '20'],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        received = [client.wait_for(inbox, lambda msg: True, what='HbmMsg1080P frame')
                    for _ in range(10)]
    finally:
        camera.send_signal(signal.SIGINT)
        output, _ = camera.communicate(timeout=10)
    assert camera.returncode == 0, output
    indexes = [msg.index for msg in received]
    assert indexes == sorted(set(indexes)), 'frames out of order or repeated: %s' % indexes
    stamps = [(msg.time_stamp.sec, msg.time_stamp.nanosec) for msg in received]
    assert stamps == sorted(set(stamps))
    for msg in received:
        frame = hbm.nv12_frame(msg, topic, 'camera')
        assert (frame.width, frame.height, frame.step, frame.encoding) == (64, 48, 64, 'nv12')
        gray = GRAYS[msg.index % len(GRAYS)]
        expected, _ = encode(np.full((48, 64, 3), gray, np.uint8), 'nv12')
        assert frame.data.tobytes() == expected
        assert frame.token.stamp == msg.time_stamp
