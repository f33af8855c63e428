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
A shared-memory camera (hbm_img_msgs) that publishes one frame per line of its standard input.

``python hbm_stepped_camera.py TOPIC TYPE WIDTH HEIGHT``, TYPE one of HbmMsg480P, HbmMsg540P,
HbmMsg1080P: each input line is ``STAMP GRAY LIE``: the frame's time_stamp seconds, the gray
level of the uniform NV12 frame and how the frame lies (``honest``, or one of :data:`LIES`).
It prints ``ready`` once its publisher exists and ``sent STAMP`` after each frame. Frames go out
as mipi_cam sends them (step = width, data_size = width x height x 3/2, sensor-data QoS) through
the large-frames profile, since it is a separate process that must choose before rclpy starts.
"""

import sys

import numpy as np
import rclpy
from rclpy.qos import qos_profile_sensor_data
from rdk_classifier.programs.camera_sim import use_large_frames_profile
from scenarios import uniform_frame

#: How a frame can lie, each refused by the node (rdk_classifier/ros/hbm.py).
LIES = ('size', 'encoding', 'odd', 'step', 'overrun')


def fill(msg, width: int, height: int, gray: int, lie: str) -> None:
    """Fill ``msg`` with a uniform NV12 frame, then make it lie as asked."""
    data, step, _ = uniform_frame('nv12', gray, width, height)
    msg.width, msg.height, msg.step, msg.data_size = width, height, step, len(data)
    msg.data[:len(data)] = np.frombuffer(data, np.uint8)
    encoding = b'bgr8' if lie == 'encoding' else b'nv12'
    msg.encoding[:] = 0
    msg.encoding[:len(encoding)] = np.frombuffer(encoding, np.uint8)
    if lie == 'size':
        msg.data_size = len(data) + 2
    elif lie == 'odd':
        msg.width = width - 1
    elif lie == 'step':
        msg.step = width - 2
    elif lie == 'overrun':
        msg.data_size = len(msg.data) + 1


def main() -> int:
    """Publish a frame per input line until stdin closes."""
    topic, type_name, width, height = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    use_large_frames_profile()
    import hbm_img_msgs.msg
    msg_type = getattr(hbm_img_msgs.msg, type_name)
    rclpy.init()
    node = rclpy.create_node('hbm_stepped_camera')
    publisher = node.create_publisher(msg_type, topic, qos_profile_sensor_data)
    msg = msg_type()
    print('ready', flush=True)
    try:
        for line in sys.stdin:
            stamp, gray, lie = line.split()
            fill(msg, width, height, int(gray), lie)
            msg.time_stamp.sec = int(stamp)
            msg.index = int(stamp)
            publisher.publish(msg)
            print('sent', stamp, flush=True)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
