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
The in-place CDR readers against rclpy's own serialization of randomized messages.

Every field read must equal the message's, the pixels must be a view of the serialized bytes
(not a copy), and bytes cut short must raise FrameError, never another exception. The
hbm_img_msgs cases skip, each on its own, where that package is not built.
"""

from builtin_interfaces.msg import Time
from hypothesis import given, HealthCheck, settings, strategies as st
import numpy as np
import pytest
from rclpy.serialization import serialize_message
from rdk_classifier.inference.frames import FrameError
from rdk_classifier.ros import cdr
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

try:
    CHARACTERS = st.characters(exclude_categories=['Cs'], exclude_characters='\0')
except TypeError:  # hypothesis < 6.72 (Ubuntu 22.04's 6.36) has the older names only
    CHARACTERS = st.characters(blacklist_categories=['Cs'], blacklist_characters='\0')
TEXT = st.text(CHARACTERS, max_size=40)
U32 = st.integers(0, 2**32 - 1)
HEADERS = st.builds(lambda sec, nanosec, frame_id: Header(
    stamp=Time(sec=sec, nanosec=nanosec), frame_id=frame_id),
    st.integers(-2**31, 2**31 - 1), U32, TEXT)
DATA = st.binary(max_size=300)
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def images():
    return st.builds(lambda header, height, width, encoding, big, step, data: Image(
        header=header, height=height, width=width, encoding=encoding, is_bigendian=big,
        step=step, data=data), HEADERS, U32, U32, TEXT, st.integers(0, 1), U32, DATA)


def compressed_images():
    return st.builds(lambda header, fmt, data: CompressedImage(
        header=header, format=fmt, data=data), HEADERS, TEXT, DATA)


def assert_view_of(view: memoryview, buffer: bytes, expected: bytes) -> None:
    assert bytes(view) == expected
    if expected:  # a view into the buffer, not a copy
        assert view.obj is buffer


@FAST
@given(images())
def test_image_fields_read_in_place(msg):
    buffer = serialize_message(msg)
    fields = cdr.read_image(buffer)
    assert fields.header == msg.header
    assert (fields.height, fields.width, fields.encoding, fields.step) == (
        msg.height, msg.width, msg.encoding, msg.step)
    assert_view_of(fields.data, buffer, bytes(msg.data))


@FAST
@given(compressed_images())
def test_compressed_fields_read_in_place(msg):
    buffer = serialize_message(msg)
    fields = cdr.read_compressed(buffer)
    assert fields.header == msg.header and fields.fmt == msg.format
    assert_view_of(fields.data, buffer, bytes(msg.data))


@FAST
@given(st.one_of(images().map(lambda m: (m, cdr.read_image)),
                 compressed_images().map(lambda m: (m, cdr.read_compressed))),
       st.data())
def test_bytes_cut_short_raise_frame_error(case, data):
    msg, read = case
    buffer = serialize_message(msg)
    whole = read(buffer)
    cut = data.draw(st.integers(0, len(buffer) - 1), label='cut')
    try:
        fields = read(buffer[:cut])
    except FrameError:
        return
    # Only padding after the last field may go without changing what is read.
    assert fields == whole or bytes(fields.data) == bytes(whole.data), (cut, len(buffer))


def test_big_endian_encapsulation_is_read():
    """CDR_BE (0x0000) data, as another DDS vendor could send it."""
    buffer = (b'\x00\x00\x00\x00' + (7).to_bytes(4, 'big') + (9).to_bytes(4, 'big')
              + (4).to_bytes(4, 'big') + b'cam\0' + (2).to_bytes(4, 'big')
              + (3).to_bytes(4, 'big') + (5).to_bytes(4, 'big') + b'rgb8\0' + b'\x01'
              + b'\0\0' + (9).to_bytes(4, 'big') + (3).to_bytes(4, 'big') + b'abc')
    fields = cdr.read_image(buffer)
    assert fields.header == Header(stamp=Time(sec=7, nanosec=9), frame_id='cam')
    assert (fields.height, fields.width, fields.encoding, fields.step) == (2, 3, 'rgb8', 9)
    assert bytes(fields.data) == b'abc'


def hbm_types():
    msgs = pytest.importorskip('hbm_img_msgs.msg', reason='hbm_img_msgs is not installed '
                               '(tools/install_ros_sources.sh builds it)')
    return [msgs.HbmMsg480P, msgs.HbmMsg540P, msgs.HbmMsg1080P]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2), st.integers(-2**31, 2**31 - 1), st.integers(-2**31, 2**31 - 1), U32,
       st.lists(U32, min_size=4, max_size=4), st.binary(min_size=12, max_size=12),
       st.binary(max_size=64))
def test_hbm_fields_read_in_place(kind, index, sec, nanosec, sizes, encoding, head):
    msg_type = hbm_types()[kind]
    msg = msg_type(index=index, height=sizes[0], width=sizes[1], data_size=sizes[2],
                   step=sizes[3])
    msg.time_stamp = Time(sec=sec, nanosec=nanosec)
    msg.encoding[:] = np.frombuffer(encoding, np.uint8)
    msg.data[:len(head)] = np.frombuffer(head, np.uint8)
    buffer = serialize_message(msg)
    fields = cdr.hbm_reader(msg_type.MAX_SIZE)(buffer)
    assert (fields.index, fields.time_stamp, fields.height, fields.width, fields.data_size,
            fields.step, fields.encoding) == (index, msg.time_stamp, *sizes, encoding)
    assert len(fields.data) == msg_type.MAX_SIZE and fields.data.obj is buffer
    assert bytes(fields.data[:len(head)]) == head
    with pytest.raises(FrameError):
        cdr.hbm_reader(msg_type.MAX_SIZE)(buffer[:len(buffer) - msg_type.MAX_SIZE // 2])
