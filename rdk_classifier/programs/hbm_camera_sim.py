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
A simulated RDK shared-memory camera: publishes hbm_img_msgs/HbmMsg1080P NV12 frames.

It stands in for mipi_cam started with ``io_method: shared_mem`` and ``out_format: nv12``
(D-Robotics/hobot_mipi_cam, launch/mipi_cam_1920x1080_nv12_hbmem.launch.py) when there is no
board: ``ros2 run rdk_classifier hbm_camera_sim --rate 30`` publishes 1920x1080 frames on
``/hbmem_img``. Like mipi_cam it publishes HbmMsg1080P whatever the frame size, with the
sensor-data QoS (best effort, keep last 5; src/hobot_mipi_node.cpp, init_publisher_hbmem),
``step = width``, ``data_size = width * height * 3 / 2``, a counting ``index`` and the frame's
time in ``time_stamp`` (src/hobot_mipi_cam.cpp, getImageMem; the node's clock, as with
``frame_ts_type: realtime``). Frames are the photos of --images or gray levels, converted by
camera_sim's helpers.

Fast DDS: the RDK's launch files include hobot_shm's launch (HorizonRDK/hobot_shm,
launch/hobot_shm.launch.py), which sets RMW_IMPLEMENTATION=rmw_fastrtps_cpp,
RMW_FASTRTPS_USE_QOS_FROM_XML=1 and a profiles file, unless already set. This program sets the
same variables before rclpy starts, with the profiles file that carries frames over Fast DDS's
512 KB shared-memory segment (config/fastdds_large_frames.xml, or --profile); hobot_shm's own
profile file is not available here. rclpy cannot borrow loaned messages, and converting an
HbmMsg1080P to C costs about 25 ms (rosidl_generator_py copies fixed arrays byte by byte), too
much for 30 frames per second: each picture is serialized once, and a frame is those bytes with
its index and time_stamp written in (CDR: after the 4-byte encapsulation header, int32 index,
then int32 sec and uint32 nanosec), published as a serialized message.

Threading: one thread sends frames, paced by the monotonic clock; Ctrl-C or SIGTERM sets a flag
that the loop checks between frames (never in the middle of a 6.2 MB publish).
"""

import argparse
import os
import signal
import struct
import sys
import threading
import time
from typing import Dict, List, Optional

import numpy as np

from rdk_classifier.paths import LARGE_FRAMES_PROFILE, package_config_path
from rdk_classifier.programs.camera_sim import frames

#: Bytes before the first field of a serialized message (CDR encapsulation kind and options).
ENCAPSULATION = 4


def use_shared_memory_environment(profile: str) -> None:
    """Set the Fast DDS variables hobot_shm's launch sets (kept if already set); before rclpy."""
    os.environ.setdefault('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')
    os.environ.setdefault('RMW_FASTRTPS_USE_QOS_FROM_XML', '1')
    os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', profile)
    if os.environ.get('ROS_DISTRO') == 'humble':  # its Fast DDS 2.6 reads the older name
        os.environ.setdefault('FASTRTPS_DEFAULT_PROFILES_FILE', profile)


def hbm_message(message_type, nv12: bytes, width: int, height: int):
    """Return a message holding one NV12 frame, as mipi_cam's getImageMem fills it."""
    msg = message_type(width=width, height=height, step=width, data_size=len(nv12))
    msg.encoding[:4] = np.frombuffer(b'nv12', np.uint8)
    msg.data[:len(nv12)] = np.frombuffer(nv12, np.uint8)
    return msg


class SerializedFrames:
    """Serialized HbmMsg1080P frames: each picture serialized once, index and stamp per frame."""

    def __init__(self, message_type, width: int, height: int) -> None:
        self._message_type = message_type
        self._width, self._height = width, height
        # camera_sim's frames cycle through the same objects: one serialization per picture.
        self._serialized: Dict[int, bytes] = {}

    def frame(self, nv12: bytes, index: int, stamp) -> bytes:
        """Return the serialized message of one frame."""
        serialized = self._serialized.get(id(nv12))
        if serialized is None:
            from rclpy.serialization import serialize_message
            serialized = serialize_message(
                hbm_message(self._message_type, nv12, self._width, self._height))
            self._serialized[id(nv12)] = serialized
        order = '<' if serialized[1] == 1 else '>'  # encapsulation CDR_LE is 0x0001
        fields = struct.pack(order + 'iiI', index, stamp.sec, stamp.nanosec)
        return serialized[:ENCAPSULATION] + fields + serialized[ENCAPSULATION + len(fields):]


def main(argv: Optional[List[str]] = None) -> int:
    """Publish frames; exit 0 after --count frames (or on Ctrl-C)."""
    from rclpy.utilities import remove_ros_args  # importing rclpy does not start DDS yet

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('--topic', default='/hbmem_img', help='topic (default /hbmem_img)')
    parser.add_argument('--width', type=int, default=1920, help='frame width (default 1920)')
    parser.add_argument('--height', type=int, default=1080, help='frame height (default 1080)')
    parser.add_argument('--rate', type=float, default=30.0, help='frames per second')
    parser.add_argument('--count', type=int, default=0, help='frames to send (0: until Ctrl-C)')
    parser.add_argument('--images', help='folder of JPEG photos to cycle through')
    parser.add_argument('--wait-subscribers', type=int, default=1,
                        help='subscriptions to wait for before the first frame (default 1)')
    parser.add_argument('--profile', default=str(package_config_path(LARGE_FRAMES_PROFILE)),
                        help='Fast DDS profiles file (default config/%s)' % LARGE_FRAMES_PROFILE)
    args = parser.parse_args(remove_ros_args(['hbm_camera_sim'] + argv)[1:])
    if args.width % 2 or args.height % 2 or args.width * args.height * 3 // 2 > 6220800:
        parser.error('NV12 needs an even width and height, at most 1920x1080 pixels in all')
    use_shared_memory_environment(args.profile)

    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from rclpy.signals import SignalHandlerOptions
    try:
        from hbm_img_msgs.msg import HbmMsg1080P
    except ImportError:
        print('hbm_camera_sim needs the ROS 2 package hbm_img_msgs', file=sys.stderr)
        return 1

    try:
        source = frames(args.width, args.height, 'nv12', args.images)
    except ValueError as exc:
        print('hbm_camera_sim: %s' % exc, file=sys.stderr)
        return 1
    # Ctrl-C and SIGTERM end the loop between two frames: with rclpy's handler the context
    # could go invalid in the middle of a publish, which takes tens of ms at 6.2 MB.
    stop = threading.Event()
    rclpy.init(args=['hbm_camera_sim'] + argv, signal_handler_options=SignalHandlerOptions.NO)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    node = rclpy.create_node('hbm_camera_sim')
    publisher = node.create_publisher(HbmMsg1080P, args.topic, qos_profile_sensor_data)
    serialized = SerializedFrames(HbmMsg1080P, args.width, args.height)
    try:
        while publisher.get_subscription_count() < args.wait_subscribers and not stop.is_set():
            rclpy.spin_once(node, timeout_sec=0.05)
        stop.wait(0.5)  # let the subscriber's side of the match complete too
        period = 1.0 / args.rate
        started = next_time = time.monotonic()
        sent = 0
        while not stop.is_set() and (args.count == 0 or sent < args.count):
            nv12, _ = next(source)
            publisher.publish(serialized.frame(nv12, sent, node.get_clock().now().to_msg()))
            sent += 1
            next_time += period
            stop.wait(max(0.0, next_time - time.monotonic()))
        elapsed = time.monotonic() - started
        print('hbm_camera_sim: sent %d frames in %.1f s (%.1f fps)'
              % (sent, elapsed, sent / max(elapsed, 1e-9)), flush=True)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
