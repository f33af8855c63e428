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
Shared-memory frames (hbm_img_msgs) to pipeline frames: honest ones uncopied, lying ones refused.

Each test skips without hbm_img_msgs (built in the development environment by set-up); the
module itself imports without it.
"""

import functools
import importlib

from builtin_interfaces.msg import Time
from hypothesis import given, HealthCheck, settings, strategies as st
import numpy as np
import pytest
from rdk_classifier.inference.frames import FrameError, NV12Converter
from rdk_classifier.programs.camera_sim import encode
from rdk_classifier.ros import hbm

SIZES = {'HbmMsg480P': (640, 480), 'HbmMsg540P': (960, 540), 'HbmMsg1080P': (1920, 1080)}


def hbm_msgs():
    """Return hbm_img_msgs.msg, or skip this test."""
    return pytest.importorskip('hbm_img_msgs.msg', reason='hbm_img_msgs is not installed '
                               '(tools/install_ros_sources.sh builds it)')


def picture(width: int, height: int) -> np.ndarray:
    """Return a BGR gradient, different in every row and column."""
    rows = np.arange(height, dtype=np.uint16)[:, None]
    cols = np.arange(width, dtype=np.uint16)[None, :]
    planes = np.broadcast_arrays((rows + cols) % 256, rows % 256, cols % 256)
    return np.dstack(planes).astype(np.uint8)


def fill(msg, width: int, height: int, encoding: bytes = b'nv12', stamp=Time(sec=7, nanosec=9)):
    """Set msg to an honest NV12 frame of the given size, as mipi_cam does; return its bytes."""
    data, step = encode(picture(width, height), 'nv12')
    msg.width, msg.height, msg.step, msg.data_size = width, height, step, len(data)
    msg.data[:len(data)] = np.frombuffer(data, np.uint8)
    msg.encoding[:] = 0
    msg.encoding[:len(encoding)] = np.frombuffer(encoding, np.uint8)
    msg.time_stamp = stamp
    return data


@pytest.mark.parametrize('type_name', sorted(SIZES))
def test_honest_frame_is_a_view_with_the_frames_stamp(type_name):
    msg = getattr(hbm_msgs(), type_name)()
    width, height = SIZES[type_name]
    data = fill(msg, width, height)
    frame = hbm.nv12_frame(msg, '/hbmem_img', 'camera_optical')
    assert (frame.camera, frame.encoding, frame.width, frame.height, frame.step) == (
        '/hbmem_img', 'nv12', width, height, width)
    assert frame.data.size == width * height * 3 // 2 and frame.data.tobytes() == data
    assert np.shares_memory(frame.data, msg.data)  # no copy of the pixels
    assert frame.token.stamp == Time(sec=7, nanosec=9)
    assert frame.token.frame_id == 'camera_optical'
    converter = NV12Converter(224, 224)
    expected = converter.from_raw(np.frombuffer(data, np.uint8), width, height, width, 'nv12')
    assert np.array_equal(converter.from_raw(frame.data, frame.width, frame.height,
                                             frame.step, frame.encoding), expected)


LIES = {
    'data_size beyond the array': ({'data_size': 921600 + 2}, 'exceeds'),
    'data_size short': ({'data_size': 640 * 480 * 3 // 2 - 1}, 'width x height x 3/2'),
    'data_size long': ({'data_size': 640 * 480 * 3 // 2 + 640}, 'width x height x 3/2'),
    'step below width': ({'step': 638}, 'smaller than the width'),
    'padded step': ({'step': 704, 'data_size': 640 * 480 * 3 // 2}, 'pads the rows'),
    'odd width': ({'width': 639, 'step': 639}, 'even width and height'),
    'odd height': ({'height': 479}, 'even width and height'),
    'zero width': ({'width': 0, 'step': 0, 'data_size': 0}, 'non-zero'),
    'bgr8': ({'encoding': b'bgr8'}, "'bgr8' is not nv12"),
    'empty encoding': ({'encoding': b''}, "'' is not nv12"),
    'nv21': ({'encoding': b'nv21'}, "'nv21' is not nv12"),
}


@pytest.mark.parametrize('lie', sorted(LIES))
def test_lying_frame_is_refused_with_a_reason(lie):
    msg = hbm_msgs().HbmMsg480P()
    fields, reason = LIES[lie]
    fill(msg, 640, 480, fields.pop('encoding', b'nv12'))
    for name, value in fields.items():
        setattr(msg, name, value)
    with pytest.raises(FrameError, match=reason.replace('(', r'\(')):
        hbm.nv12_frame(msg, '/hbmem_img', 'cam')


@functools.lru_cache(maxsize=None)
def shared_480p():
    """One 480P message for every Hypothesis example (a new one costs a 0.9 MB allocation)."""
    msg = hbm_msgs().HbmMsg480P()
    fill(msg, 640, 480)
    return msg


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(width=st.one_of(st.integers(0, 700).map(lambda half: 2 * half), st.integers(0, 1400)),
       height=st.one_of(st.integers(0, 500).map(lambda half: 2 * half), st.integers(0, 1000)),
       step_extra=st.sampled_from([0, 0, 0, -2, -1, 1, 2, 64]),
       size_extra=st.sampled_from([0, 0, 0, -1, 1, -2, 64]),
       encoding=st.sampled_from([b'nv12', b'NV12', b'bgr8', b'nv12\x00junk', b'', b'nv1']))
def test_random_fields_are_accepted_only_when_they_describe_one_nv12_image(
        width, height, step_extra, size_extra, encoding):
    msg = shared_480p()
    step = max(0, width + step_extra)
    size = max(0, width * height * 3 // 2 + size_extra)
    msg.width, msg.height, msg.step, msg.data_size = width, height, step, min(size, 2**32 - 1)
    msg.encoding[:] = 0
    msg.encoding[:len(encoding)] = np.frombuffer(encoding, np.uint8)
    honest = (encoding.split(b'\0')[0].lower() == b'nv12' and width > 0 and height > 0
              and width % 2 == 0 and height % 2 == 0 and step == width
              and size == width * height * 3 // 2 and size <= msg.data.size)
    try:
        frame = hbm.nv12_frame(msg, 'cam', 'f')
    except FrameError as exc:
        assert not honest, 'an honest frame was refused: %s' % exc
        assert str(exc)
        return
    assert honest, 'a lying frame was accepted'
    assert frame.data.size == size and np.shares_memory(frame.data, msg.data)
    NV12Converter(32, 32).from_raw(frame.data, frame.width, frame.height, frame.step,
                                   frame.encoding)


def test_message_types_by_graph_name():
    msgs = hbm_msgs()
    types = hbm.message_types()
    assert types == {'hbm_img_msgs/msg/HbmMsg480P': msgs.HbmMsg480P,
                     'hbm_img_msgs/msg/HbmMsg540P': msgs.HbmMsg540P,
                     'hbm_img_msgs/msg/HbmMsg1080P': msgs.HbmMsg1080P}


def test_missing_package_is_one_line_naming_it(monkeypatch):
    real = importlib.import_module

    def without_hbm(name, *args):
        if name.startswith('hbm_img_msgs'):
            raise ModuleNotFoundError("No module named 'hbm_img_msgs'", name='hbm_img_msgs')
        return real(name, *args)
    monkeypatch.setattr(importlib, 'import_module', without_hbm)
    with pytest.raises(hbm.HbmUnavailable) as caught:
        hbm.message_types()
    message = str(caught.value)
    assert '\n' not in message and 'hbm_img_msgs' in message and 'apt install' in message
