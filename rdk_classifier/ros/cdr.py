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
Camera messages read in place from their serialized (CDR) bytes: no pixel is copied.

A subscription created with ``raw=True`` hands its callback the message as rclpy took it, one
``bytes`` object in the middleware's CDR encoding (OMG DDS-XTypes 1.3, 7.4.3.5: a 4-byte
encapsulation header, then each field aligned to its own size counted from the end of that
header; a string is a uint32 length including its NUL, then the bytes; a sequence a uint32
count, then the elements; a fixed array only the elements). Deserializing instead would build
the whole message in Python, pixels included (a copy of every frame). Here only the small
fields are unpacked and the pixels stay a memoryview of rclpy's buffer.

The layouts follow the message definitions: sensor_msgs/Image (header, height, width,
encoding, is_bigendian, step, data), sensor_msgs/CompressedImage (header, format, data) and
hbm_img_msgs/HbmMsg* (index, time_stamp, height, width, data_size, step, uint8[12] encoding,
uint8[N] data). Bytes that cannot hold the message they claim to be raise FrameError, so the
caller counts the frame as malformed. test/test_cdr.py checks every reader against rclpy's own
serialization of randomized messages.

Threading: pure functions, called on the executor thread in the frame callbacks.
"""

from dataclasses import dataclass
import struct
from typing import Callable, Tuple

from builtin_interfaces.msg import Time
from rdk_classifier.inference.frames import FrameError
from std_msgs.msg import Header

#: Bytes before the first field: the encapsulation kind (2 bytes) and options (2 bytes).
ENCAPSULATION_BYTES = 4
_TWO_U32 = {True: struct.Struct('<II'), False: struct.Struct('>II')}
_TIME = {True: struct.Struct('<iI'), False: struct.Struct('>iI')}
_HBM_FIELDS = {True: struct.Struct('<iiIIIII12s'), False: struct.Struct('>iiIIIII12s')}
_U32 = {True: struct.Struct('<I'), False: struct.Struct('>I')}


@dataclass(frozen=True)
class ImageFields:
    """A sensor_msgs/Image as read from its bytes; ``data`` is a view of them."""

    header: Header
    height: int
    width: int
    encoding: str
    step: int
    data: memoryview


@dataclass(frozen=True)
class CompressedFields:
    """A sensor_msgs/CompressedImage as read from its bytes; ``data`` is a view of them."""

    header: Header
    fmt: str
    data: memoryview


@dataclass(frozen=True)
class HbmFields:
    """An hbm_img_msgs frame as read from its bytes, with the message's field names."""

    index: int
    time_stamp: Time
    height: int
    width: int
    data_size: int
    step: int
    encoding: bytes
    #: The whole fixed-size array (its length is the type's capacity).
    data: memoryview


def _little_endian(buffer: bytes) -> bool:
    if len(buffer) < ENCAPSULATION_BYTES:
        raise FrameError('a serialized message of %d bytes has no CDR header' % len(buffer))
    return buffer[1] & 1 == 1  # CDR_LE = 0x0001, CDR_BE = 0x0000 (and the PL_ variants)


def _aligned(pos: int, size: int) -> int:
    """Return ``pos`` moved up to a multiple of ``size`` counted from the first field."""
    return pos + (-(pos - ENCAPSULATION_BYTES) % size)


def _string(buffer: bytes, pos: int, u32: struct.Struct) -> Tuple[str, int]:
    """Read a CDR string at ``pos`` (aligned here); return it and the position after it."""
    pos = _aligned(pos, 4)
    (length,) = u32.unpack_from(buffer, pos)
    pos += 4
    end = pos + length
    if end > len(buffer):
        raise FrameError('a string of %d bytes overruns the %d-byte message'
                         % (length, len(buffer)))
    return buffer[pos:end - 1 if length else end].decode('utf-8', 'replace'), end


def _header(buffer: bytes, little: bool) -> Tuple[Header, int]:
    """Read std_msgs/Header at the first field; return it and the position after it."""
    sec, nanosec = _TIME[little].unpack_from(buffer, ENCAPSULATION_BYTES)
    frame_id, pos = _string(buffer, ENCAPSULATION_BYTES + 8, _U32[little])
    return Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id=frame_id), pos


def _sequence(buffer: bytes, pos: int, u32: struct.Struct) -> memoryview:
    """Return a view of the uint8 sequence at ``pos``; FrameError when it overruns."""
    pos = _aligned(pos, 4)
    (count,) = u32.unpack_from(buffer, pos)
    pos += 4
    if pos + count > len(buffer):
        raise FrameError('a data sequence of %d bytes overruns the %d-byte message'
                         % (count, len(buffer)))
    return memoryview(buffer)[pos:pos + count]


def read_image(buffer: bytes) -> ImageFields:
    """Read a serialized sensor_msgs/Image; the pixels stay in ``buffer``."""
    try:
        little = _little_endian(buffer)
        u32 = _U32[little]
        header, pos = _header(buffer, little)
        pos = _aligned(pos, 4)
        height, width = _TWO_U32[little].unpack_from(buffer, pos)
        encoding, pos = _string(buffer, pos + 8, u32)
        pos = _aligned(pos + 1, 4)  # is_bigendian: one byte
        (step,) = u32.unpack_from(buffer, pos)
        data = _sequence(buffer, pos + 4, u32)
    except struct.error as exc:
        raise FrameError('a truncated sensor_msgs/Image (%d bytes): %s'
                         % (len(buffer), exc)) from None
    return ImageFields(header, height, width, encoding, step, data)


def read_compressed(buffer: bytes) -> CompressedFields:
    """Read a serialized sensor_msgs/CompressedImage; the data stays in ``buffer``."""
    try:
        little = _little_endian(buffer)
        header, pos = _header(buffer, little)
        fmt, pos = _string(buffer, pos, _U32[little])
        data = _sequence(buffer, pos, _U32[little])
    except struct.error as exc:
        raise FrameError('a truncated sensor_msgs/CompressedImage (%d bytes): %s'
                         % (len(buffer), exc)) from None
    return CompressedFields(header, fmt, data)


def hbm_reader(capacity: int) -> Callable[[bytes], HbmFields]:
    """Return the reader of an hbm_img_msgs type whose data array holds ``capacity`` bytes."""
    def read_hbm(buffer: bytes) -> HbmFields:
        try:
            little = _little_endian(buffer)
            fields = _HBM_FIELDS[little]
            (index, sec, nanosec, height, width, data_size, step,
             encoding) = fields.unpack_from(buffer, ENCAPSULATION_BYTES)
        except struct.error as exc:
            raise FrameError('a truncated hbm_img_msgs frame (%d bytes): %s'
                             % (len(buffer), exc)) from None
        start = ENCAPSULATION_BYTES + fields.size
        if start + capacity > len(buffer):
            raise FrameError('an hbm_img_msgs frame of %d bytes cannot hold its %d-byte array'
                             % (len(buffer), capacity))
        return HbmFields(index, Time(sec=sec, nanosec=nanosec), height, width, data_size,
                         step, encoding, memoryview(buffer)[start:start + capacity])
    return read_hbm
