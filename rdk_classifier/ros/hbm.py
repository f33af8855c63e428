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
The RDK's shared-memory camera frames (hbm_img_msgs) as pipeline frames (no node inside).

mipi_cam with ``io_method: shared_mem`` publishes ``hbm_img_msgs/HbmMsg1080P`` (480P and 540P
have the same fields, with smaller arrays; D-Robotics/hobot_msgs, hbm_img_msgs/msg): a
fixed-size ``uint8[N] data`` array of which ``data_size`` bytes are used, ``width``, ``height``,
``step``, a NUL-padded ``uint8[12] encoding``, ``time_stamp`` and no frame id
(D-Robotics/hobot_mipi_cam, src/hobot_mipi_cam.cpp, getImageMem: NV12 with ``step = width``
and ``data_size = width * height * 3 / 2``). rclpy gives a fixed-size uint8 array as a numpy
array, so the frame is a view of its first ``data_size`` bytes: nothing is copied beyond
rclpy's take. Those fields come from another process and may lie; :func:`nv12_frame` refuses
a frame whose fields do not describe one whole NV12 image, with a reason (FrameError), so the
caller counts it as malformed and never classifies it.

Threading: pure functions; the node calls them on its executor thread, in the frame callback.
"""

import importlib
from typing import Any, Dict

from rdk_classifier.inference.frames import FrameError
from rdk_classifier.inference.pipeline import Frame
from std_msgs.msg import Header

#: The ROS package of the shared-memory frame types.
HBM_PACKAGE = 'hbm_img_msgs'
#: The shared-memory frame types, by ROS type name (as the graph reports a publisher's type).
HBM_TYPE_NAMES = ('hbm_img_msgs/msg/HbmMsg480P', 'hbm_img_msgs/msg/HbmMsg540P',
                  'hbm_img_msgs/msg/HbmMsg1080P')
#: What to do when hbm_img_msgs is missing: one line, for the start-up error.
MISSING_PACKAGE = (
    'image_transport hbmem needs the ROS 2 package hbm_img_msgs: on the RDK install it with '
    '"sudo apt install tros-humble-hbm-img-msgs" and source /opt/tros/humble/setup.bash; '
    'elsewhere build it from https://github.com/D-Robotics/hobot_msgs')
#: The only encoding the NV12 path takes from shared memory (mipi_cam's out_format).
NV12 = 'nv12'


class HbmUnavailable(RuntimeError):
    """hbm_img_msgs cannot be imported; the message is :data:`MISSING_PACKAGE`."""


def message_types() -> Dict[str, Any]:
    """Return the three frame classes by type name; raise HbmUnavailable without the package."""
    try:
        module = importlib.import_module(HBM_PACKAGE + '.msg')
    except ImportError as exc:
        raise HbmUnavailable(MISSING_PACKAGE) from exc
    return {name: getattr(module, name.rsplit('/', 1)[1]) for name in HBM_TYPE_NAMES}


def encoding_of(msg: Any) -> str:
    """Return the message's encoding: its bytes up to the first NUL, as text."""
    raw = bytes(msg.encoding)
    return raw.split(b'\0', 1)[0].decode('ascii', 'replace')


def header_of(msg: Any, frame_id: str) -> Header:
    """Return the results' header of a frame: its time_stamp, and ``frame_id`` (it has none)."""
    return Header(stamp=msg.time_stamp, frame_id=frame_id)


def nv12_frame(msg: Any, camera: str, frame_id: str) -> Frame:
    """
    Return the pipeline frame of one shared-memory message, its data not copied.

    Raise FrameError naming the field when the message does not hold one whole NV12 image:
    an encoding other than nv12, a zero or odd width or height, a step below the width (or
    above it: rows padded past ``width * height * 3 / 2`` bytes cannot be whole), a data_size
    other than ``width * height * 3 / 2`` or beyond the message's array.
    """
    encoding = encoding_of(msg)
    if encoding.strip().lower() != NV12:
        raise FrameError('encoding %r is not nv12: start mipi_cam with out_format nv12'
                         % encoding)
    width, height, step, size = msg.width, msg.height, msg.step, msg.data_size
    if width == 0 or height == 0 or width % 2 or height % 2:
        raise FrameError('nv12 needs a non-zero, even width and height, got %dx%d'
                         % (width, height))
    if step < width:
        raise FrameError('step %d is smaller than the width %d' % (step, width))
    capacity = len(msg.data)
    if size > capacity:
        raise FrameError('data_size %d exceeds the %d-byte data array of the message'
                         % (size, capacity))
    expected = width * height * 3 // 2
    if size != expected:
        raise FrameError('data_size %d is not width x height x 3/2 = %d for %dx%d nv12'
                         % (size, expected, width, height))
    if step != width:
        raise FrameError('step %d pads the rows of a %d-wide frame, but data_size %d holds '
                         'unpadded rows only' % (step, width, size))
    return Frame(camera, msg.data[:size], NV12, width, height, step,
                 token=header_of(msg, frame_id))
