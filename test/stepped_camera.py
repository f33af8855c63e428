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
A camera process that publishes one frame per line of its standard input, for transport tests.

``python stepped_camera.py TOPIC WIDTH HEIGHT``: each input line holds the header stamp's
seconds of the next bgr8 frame; it prints ``ready`` once its publisher exists and ``sent N``
after each frame. It publishes the way camera_sim does (its frames, the sensor-data QoS and,
since it is a separate process that must choose before rclpy starts, the large-frames profile),
so a test decides when each frame leaves and which frame a result belongs to.
"""

import sys

import rclpy
from rclpy.qos import qos_profile_sensor_data
from rdk_classifier.programs.camera_sim import frames, use_large_frames_profile
from sensor_msgs.msg import Image


def main() -> int:
    """Publish a frame per stamp read from stdin until it closes."""
    topic, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    use_large_frames_profile()
    rclpy.init()
    node = rclpy.create_node('stepped_camera')
    publisher = node.create_publisher(Image, topic, qos_profile_sensor_data)
    source = frames(width, height, 'bgr8', None)
    print('ready', flush=True)
    try:
        for line in sys.stdin:
            data, step = next(source)
            msg = Image(height=height, width=width, encoding='bgr8', step=step, data=data)
            msg.header.stamp.sec = int(line)
            msg.header.frame_id = 'stepped_camera'
            publisher.publish(msg)
            print('sent', int(line), flush=True)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
