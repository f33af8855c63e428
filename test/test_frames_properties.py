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

"""Property-based tests: any frame either converts to a valid NV12 array or raises FrameError."""

from typing import Sequence

import cv2
from hypothesis import given, HealthCheck, settings, strategies as st
import numpy as np
from rdk_classifier.inference import frames
from rdk_classifier.inference.frames import (compressed_image_size, FrameError, NV12Converter,
                                             RAW_ENCODINGS)

CONVERTERS = {mode: NV12Converter(32, 24, mode)
              for mode in ('center_crop', 'stretch', 'letterbox')}
ENCODINGS = st.one_of(st.sampled_from(RAW_ENCODINGS),
                      st.sampled_from(['BGR8', 'bayer_rggb8', '16UC1', '', 'nv12 ', 'jpeg']),
                      st.text(max_size=8))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encoding=ENCODINGS, width=st.integers(0, 256), height=st.integers(0, 256),
       step_delta=st.integers(-8, 16), size_delta=st.integers(-64, 64),
       mode=st.sampled_from(sorted(CONVERTERS)), seed=st.integers(0, 2**16))
def test_raw_frames_convert_or_raise_frame_error(
        encoding, width, height, step_delta, size_delta, mode, seed):
    name = encoding.strip().lower()
    bytes_per_pixel = {'bgr8': 3, 'rgb8': 3, 'bgra8': 4, 'rgba8': 4}.get(name, 2)
    step = max(0, width * bytes_per_pixel + step_delta)
    rows = height * 3 // 2 if name in ('nv12', 'nv21') else height
    size = max(0, rows * step + size_delta)
    data = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    converter = CONVERTERS[mode]
    try:
        nv12 = converter.from_raw(data, width, height, step, encoding)
    except FrameError as error:
        assert str(error)
        return
    assert nv12.dtype == np.uint8 and nv12.size == converter.nbytes
    assert nv12.flags.c_contiguous


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=512), fmt=st.sampled_from(['jpeg', 'png', '', 'mono8; png']))
def test_random_bytes_as_compressed_frames(data, fmt):
    try:
        nv12 = CONVERTERS['center_crop'].from_compressed(data, fmt)
    except FrameError:
        return
    assert nv12.size == CONVERTERS['center_crop'].nbytes


def _encoded(ext: str, width: int, height: int, params: Sequence[int] = ()) -> bytes:
    x, y = np.meshgrid(np.linspace(0, 255, width), np.linspace(0, 255, height))
    ok, data = cv2.imencode(ext, np.dstack([x, y, (x + y) / 2]).astype(np.uint8), params)
    assert ok
    return data.tobytes()


SEEDS = {'jpeg': _encoded('.jpg', 40, 30), 'png': _encoded('.png', 40, 30),
         'progressive jpeg': _encoded('.jpg', 40, 30, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])}


@settings(max_examples=300, deadline=None)
@given(seed=st.sampled_from(sorted(SEEDS)),
       edits=st.lists(st.tuples(st.integers(0, 199), st.integers(0, 255)), min_size=1,
                      max_size=6))
def test_corrupted_headers_never_decode_past_the_bound(seed, edits):
    """Bytes changed in the headers: the size checked is the size libjpeg/libpng decode."""
    data = bytearray(SEEDS[seed])
    for position, value in edits:
        data[position % len(data)] = value
    converter = NV12Converter(32, 24, 'stretch', max_pixels=4 * 40 * 30)
    try:
        kind, width, height = compressed_image_size(bytes(data))
    except FrameError:
        kind = None
    decoded = []
    imdecode = cv2.imdecode

    def spy(buffer, flags):
        image = imdecode(buffer, flags)
        decoded.extend([] if image is None else [image.shape[:2]])
        return image
    frames.cv2.imdecode = spy  # hypothesis runs examples inside one call: no monkeypatch
    try:
        nv12 = converter.from_compressed(bytes(data), 'bgr8')
    except FrameError as error:
        assert str(error)
    else:
        assert nv12.size == converter.nbytes
    finally:
        frames.cv2.imdecode = imdecode
    for shape in decoded:
        assert shape[0] * shape[1] <= converter.max_pixels
        scale = converter.jpeg_reduction(width, height) if kind == 'jpeg' else 1
        assert shape == (-(-height // scale), -(-width // scale)), (kind, width, height, scale)
