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
A simulated camera: publishes frames on a sensor_msgs/Image topic at a fixed rate.

For demos, tests and benchmarks (and for trying the node without a camera):
``ros2 run rdk_classifier camera_sim --width 1280 --height 720 --rate 30`` (ROS arguments such
as ``--ros-args -r __node:=cam2`` are passed to rclpy). Frames are real photos scaled to the
requested size (--images: a folder of .jpg, .png, .bmp ... files, any case; a folder without one
stops the program with one line) or uniform gray levels, in any encoding the node accepts.
It publishes through the Fast DDS profile that carries frames over 512 KB without loss
(config/fastdds_large_frames.xml), as a camera driver should; --no-large-frames-profile shows
what happens without it. The profile must be chosen before rclpy starts, which is why it is a
flag and not left to the caller's environment.
"""

import argparse
import itertools
import os
from pathlib import Path
import sys
import time
from typing import Iterator, List, Optional

import cv2
import numpy as np

from rdk_classifier.paths import LARGE_FRAMES_PROFILE, package_config_path
from rdk_classifier.programs.cli import argument_parser

#: File name extensions of the images --images takes (all read by every OpenCV build).
IMAGE_SUFFIXES = ('.bmp', '.jpeg', '.jpg', '.png', '.pbm', '.pgm', '.ppm')
#: Photos read at most (each is kept decoded and encoded in memory).
MAX_PHOTOS = 32


def use_large_frames_profile() -> str:
    """Make this process publish through the large-frames profile; call before rclpy.init."""
    profile = str(package_config_path(LARGE_FRAMES_PROFILE))
    os.environ['FASTDDS_DEFAULT_PROFILES_FILE'] = profile
    if os.environ.get('ROS_DISTRO') == 'humble':  # its Fast DDS 2.6 reads the older name
        os.environ['FASTRTPS_DEFAULT_PROFILES_FILE'] = profile
    return profile


def encode(bgr: np.ndarray, encoding: str) -> tuple:
    """Return (data bytes, step) of a BGR image in a sensor_msgs encoding."""
    height, width = bgr.shape[:2]
    if encoding == 'bgr8':
        return bgr.tobytes(), width * 3
    if encoding == 'rgb8':
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).tobytes(), width * 3
    if encoding == 'mono8':
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).tobytes(), width
    if encoding == 'nv12':
        i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).reshape(-1)
        luma, chroma = i420[:width * height], i420[width * height:].reshape(2, -1)
        return luma.tobytes() + chroma.T.tobytes(), width
    raise ValueError('camera_sim encodes bgr8, rgb8, mono8 and nv12, not %r' % encoding)


def image_files(folder: str) -> List[Path]:
    """Return the images of ``folder`` (any extension in IMAGE_SUFFIXES, any case), sorted."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ValueError('--images %s is not a folder' % folder)
    return sorted(p for p in path.iterdir()
                  if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _read_photo(path: Path, width: int, height: int) -> np.ndarray:
    """Return a photo as BGR resized to the frame size; raise ValueError if it is unreadable."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        raise ValueError('OpenCV cannot read %s' % path)
    return cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA)


def frames(width: int, height: int, encoding: str, images: Optional[str]) -> Iterator[tuple]:
    """
    Return an endless iterator of (data, step), cycling through photos or gray levels.

    With ``images``, the first MAX_PHOTOS images of that folder (read now, so that a bad folder
    fails before any publishing: ValueError with one line); without, uniform gray levels. Each
    picture is encoded once: the iterator hands out the same objects on every cycle.
    """
    if images:
        paths = image_files(images)[:MAX_PHOTOS]
        if not paths:
            raise ValueError('--images %s holds no image (%s, any case)'
                             % (images, ' '.join(IMAGE_SUFFIXES)))
        pictures = [_read_photo(path, width, height) for path in paths]
    else:
        pictures = [np.full((height, width, 3), gray, np.uint8) for gray in range(16, 240, 28)]
    return itertools.cycle([encode(picture, encoding) for picture in pictures])


def main(argv: Optional[List[str]] = None) -> int:
    """Publish frames; exit 0 after --count frames (or on Ctrl-C), 1 when --images fails."""
    from rclpy.utilities import remove_ros_args  # importing rclpy does not start DDS yet

    argv = sys.argv[1:] if argv is None else argv
    parser = argument_parser(__doc__)
    parser.add_argument('--topic', default='image_raw', help='image topic')
    parser.add_argument('--width', type=int, default=640, help='frame width')
    parser.add_argument('--height', type=int, default=480, help='frame height')
    parser.add_argument('--encoding', default='bgr8', choices=('bgr8', 'rgb8', 'mono8', 'nv12'),
                        help='sensor_msgs encoding')
    parser.add_argument('--rate', type=float, default=30.0, help='frames per second')
    parser.add_argument('--count', type=int, default=0, help='frames to send (0: until Ctrl-C)')
    parser.add_argument('--images', metavar='DIR',
                        help='folder of photos to cycle through, the first %d of its %s files '
                        '(default: uniform gray frames)' % (MAX_PHOTOS, '/'.join(IMAGE_SUFFIXES)))
    parser.add_argument('--reliable', action='store_true', help='reliable instead of best effort')
    parser.add_argument('--wait-subscribers', type=int, default=1,
                        help='subscriptions to wait for before the first frame')
    parser.add_argument('--large-frames-profile', action=argparse.BooleanOptionalAction,
                        default=True, help='publish through config/%s' % LARGE_FRAMES_PROFILE)
    args = parser.parse_args(remove_ros_args(['camera_sim'] + argv)[1:])
    try:
        source = frames(args.width, args.height, args.encoding, args.images)
    except ValueError as exc:
        print('camera_sim: %s' % exc, file=sys.stderr)
        return 1
    if args.large_frames_profile:
        use_large_frames_profile()

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    rclpy.init(args=['camera_sim'] + argv)
    node = rclpy.create_node('camera_sim')
    qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE) if args.reliable \
        else qos_profile_sensor_data
    publisher = node.create_publisher(Image, args.topic, qos)
    try:
        while publisher.get_subscription_count() < args.wait_subscribers:
            rclpy.spin_once(node, timeout_sec=0.05)
        time.sleep(0.5)  # let the subscriber's side of the match complete too
        period = 1.0 / args.rate
        next_time = time.monotonic()
        sent = 0
        while rclpy.ok() and (args.count == 0 or sent < args.count):
            data, step = next(source)
            msg = Image(height=args.height, width=args.width, encoding=args.encoding,
                        step=step, data=data)
            msg.header.stamp = node.get_clock().now().to_msg()
            msg.header.frame_id = 'camera_sim'
            publisher.publish(msg)
            sent += 1
            next_time += period
            time.sleep(max(0.0, next_time - time.monotonic()))
        print('camera_sim: sent %d frames' % sent, flush=True)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
