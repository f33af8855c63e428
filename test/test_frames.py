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
Tests of frame conversion against an independent reference.

The reference resizes the whole BGR image with OpenCV as the mode prescribes (resize then crop
with numpy slicing, or pad), then converts in float with the BT.601 limited-range equations
(ITU-R BT.601 as written, not OpenCV's constants) and averages each 2x2 block's chroma, as camera
ISPs do. The converter crops before resizing and resizes YUV planes directly for YUV sources, so
the two differ by resampling positions and rounding: a few levels on average.
"""

from pathlib import Path

import cv2
import numpy as np
import pytest
from rdk_classifier.inference.baseline import TopLeftChromaConverter
from rdk_classifier.inference.frames import (bgr_to_nv12, FrameError, nv12_to_bgr, NV12Converter,
                                             RAW_ENCODINGS, RESIZE_MODES)

SAMPLES = Path(__file__).resolve().parents[2] / 'shared' / 'imagenet-sample' / 'images'
SIZE = 224


def bt601_planes(bgr: np.ndarray) -> tuple:
    """Return float Y (HxW) and 2x2-averaged U, V (H/2 x W/2) of ``bgr`` by BT.601's equations."""
    b, g, r = (bgr[..., channel].astype(np.float64) for channel in range(3))
    luma = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    height, width = luma.shape

    def halved(plane):
        return plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
    return luma, halved(u), halved(v)


def reference_nv12(bgr: np.ndarray, mode: str, crop_pct: float = 0.875) -> np.ndarray:
    return reference_fitted_planes(bgr, mode, crop_pct)[0]


def reference_fitted_planes(bgr: np.ndarray, mode: str, crop_pct: float = 0.875) -> tuple:
    """Return (reference NV12 rounded to uint8, float planes of bt601_planes)."""
    height, width = bgr.shape[:2]
    if mode == 'stretch':
        fitted = cv2.resize(bgr, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
    elif mode == 'center_crop':
        scale = SIZE / crop_pct / min(width, height)
        resized = cv2.resize(bgr, (round(width * scale), round(height * scale)),
                             interpolation=cv2.INTER_LINEAR)
        top = (resized.shape[0] - SIZE) // 2
        left = (resized.shape[1] - SIZE) // 2
        fitted = resized[top:top + SIZE, left:left + SIZE]
    else:
        scale = min(SIZE / width, SIZE / height)
        inner = cv2.resize(bgr, (round(width * scale), round(height * scale)),
                           interpolation=cv2.INTER_LINEAR)
        fitted = np.full((SIZE, SIZE, 3), 127, np.uint8)
        top, left = (SIZE - inner.shape[0]) // 2, (SIZE - inner.shape[1]) // 2
        fitted[top:top + inner.shape[0], left:left + inner.shape[1]] = inner
    planes = bt601_planes(fitted)
    luma, u, v = (np.clip(np.rint(plane), 0, 255).astype(np.uint8) for plane in planes)
    return np.concatenate([luma.reshape(-1), np.stack([u, v], axis=-1).reshape(-1)]), planes


def photos():
    paths = sorted(SAMPLES.glob('*.JPEG'))[::60]
    images = [cv2.imread(str(p), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
              for p in paths]
    # A synthetic image too, so the suite also runs without the shared photos.
    x, y = np.meshgrid(np.linspace(0, 255, 320), np.linspace(0, 255, 240))
    synthetic = np.dstack([x, y, (x + y) / 2]).astype(np.uint8)
    cv2.circle(synthetic, (160, 120), 60, (20, 200, 90), -1)
    images.append(synthetic)
    return [img[:img.shape[0] // 2 * 2, :img.shape[1] // 2 * 2] for img in images]


def encode(bgr: np.ndarray, encoding: str, padding: int = 0):
    """Return (data, step) of ``bgr`` in ``encoding``, rows padded by ``padding`` bytes."""
    height, width = bgr.shape[:2]
    encoding = {'8UC1': 'mono8', '8UC3': 'bgr8', '8UC4': 'bgra8'}.get(encoding, encoding)
    if encoding in ('bgr8', 'rgb8', 'bgra8', 'rgba8', 'mono8'):
        code = {'bgr8': None, 'rgb8': cv2.COLOR_BGR2RGB, 'bgra8': cv2.COLOR_BGR2BGRA,
                'rgba8': cv2.COLOR_BGR2RGBA, 'mono8': cv2.COLOR_BGR2GRAY}[encoding]
        rows = (bgr if code is None else cv2.cvtColor(bgr, code)).reshape(height, -1)
    elif encoding.startswith('bayer_'):
        # Each pixel keeps the one colour its filter passes, in the 2x2 pattern of the name.
        channel = {'b': 0, 'g': 1, 'r': 2}
        rows = np.empty((height, width), np.uint8)
        for index, colour in enumerate(encoding[len('bayer_'):len('bayer_') + 4]):
            dy, dx = divmod(index, 2)
            rows[dy::2, dx::2] = bgr[dy::2, dx::2, channel[colour]]
    elif encoding in ('nv12', 'nv21'):
        rows = bgr_to_nv12(bgr).reshape(height * 3 // 2, width)
        if encoding == 'nv21':
            rows = rows.copy()
            rows[height:] = rows[height:].reshape(height // 2, width // 2, 2)[..., ::-1] \
                .reshape(height // 2, width)
    else:
        # Limited-range BT.601 like the cameras (and I420): chroma rows repeated to 4:2:2.
        i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).reshape(-1)
        area = width * height
        luma = i420[:area].reshape(height, width)
        u = np.repeat(i420[area:area + area // 4].reshape(height // 2, width // 2), 2, axis=0)
        v = np.repeat(i420[area + area // 4:].reshape(height // 2, width // 2), 2, axis=0)
        packed = np.empty((height, width * 2), np.uint8)
        if encoding in ('yuyv', 'yuv422_yuy2'):
            packed[:, 0::2], packed[:, 1::4], packed[:, 3::4] = luma, u, v
        else:
            packed[:, 1::2], packed[:, 0::4], packed[:, 2::4] = luma, u, v
        rows = packed
    padded = np.zeros((rows.shape[0], rows.shape[1] + padding), np.uint8)
    padded[:, :rows.shape[1]] = rows
    return padded.tobytes(), padded.shape[1]


def planes_difference(actual: np.ndarray, expected: np.ndarray, block: int = 1):
    """Mean absolute difference of the Y and UV planes, after averaging block x block cells."""
    area = SIZE * SIZE

    def planes(nv12):
        luma = nv12[:area].reshape(SIZE, SIZE).astype(np.float32)
        chroma = nv12[area:].reshape(SIZE // 2, SIZE // 2, 2).astype(np.float32)
        return [cv2.resize(p, (p.shape[1] // block, p.shape[0] // block),
                           interpolation=cv2.INTER_AREA) for p in (luma, chroma)]
    (luma_a, chroma_a), (luma_e, chroma_e) = planes(actual), planes(expected)
    return float(np.abs(luma_a - luma_e).mean()), float(np.abs(chroma_a - chroma_e).mean())


@pytest.mark.parametrize('mode', RESIZE_MODES)
@pytest.mark.parametrize('encoding', RAW_ENCODINGS)
def test_every_encoding_and_geometry_matches_the_reference(encoding, mode):
    converter = NV12Converter(SIZE, SIZE, mode)
    for bgr in photos():
        if encoding in ('mono8', '8UC1'):
            bgr = cv2.cvtColor(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        data, step = encode(bgr, encoding, padding=6)
        nv12 = converter.from_raw(data, bgr.shape[1], bgr.shape[0], step, encoding)
        assert nv12.dtype == np.uint8 and nv12.shape == (SIZE * SIZE * 3 // 2,)
        assert nv12.flags.c_contiguous
        expected, planes = reference_fitted_planes(bgr, mode)
        # Crop-then-resize samples sub-pixel-shifted positions (and letterbox rounds to even
        # sizes), which moves fine texture by many levels; averaged over 8x8 cells the same
        # region at the same scale agrees within a few levels.
        luma, chroma = planes_difference(nv12, expected, block=8)
        assert luma < 2.5 and chroma < 2.5, (encoding, mode, luma, chroma)
        if mode == 'stretch' and encoding in ('bgr8', 'rgb8', '8UC3'):
            # Same geometry: only the colour arithmetic differs. Each converted value may be
            # off by its rounding (0.5), OpenCV's 10-bit transform coefficients (0.37 at most
            # over three channels) and OpenCV's 3-decimal BT.601 constants (0.06); chroma adds
            # the rounding of the 2x2 average (0.5).
            assert_matches_bt601(nv12, planes, luma_error=0.95, chroma_error=1.45)
        if mode == 'stretch' and encoding in ('bgra8', 'rgba8', '8UC4'):
            # 4-channel sources keep OpenCV's I420 (top-left chroma): equal to the level.
            assert_equals_opencv_i420(nv12, cv2.resize(bgr, (SIZE, SIZE),
                                                       interpolation=cv2.INTER_LINEAR))


def assert_matches_bt601(nv12: np.ndarray, planes: tuple, luma_error: float,
                         chroma_error: float) -> None:
    luma, u, v = planes
    height, width = luma.shape
    area = height * width
    chroma = nv12[area:].reshape(height // 2, width // 2, 2)
    assert np.abs(nv12[:area].reshape(height, width) - luma).max() < luma_error
    assert np.abs(chroma[..., 0] - u).max() < chroma_error
    assert np.abs(chroma[..., 1] - v).max() < chroma_error


def test_bgr_to_nv12_averages_each_blocks_chroma():
    """Every 2x2 block of four different colours: the chroma is the block's, not one pixel's."""
    bgr = np.random.default_rng(7).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    nv12 = bgr_to_nv12(bgr)
    assert_matches_bt601(nv12, bt601_planes(bgr), luma_error=0.95, chroma_error=1.45)
    # The measure can fail: OpenCV's I420 (top-left pixel's chroma) is many levels off.
    i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).reshape(-1)
    sampled_u = i420[64 * 96:64 * 96 * 5 // 4].reshape(32, 48)
    assert np.abs(sampled_u - bt601_planes(bgr)[1]).max() > 10


def assert_equals_opencv_i420(nv12: np.ndarray, fitted: np.ndarray) -> None:
    i420 = cv2.cvtColor(fitted, cv2.COLOR_BGR2YUV_I420).reshape(-1)
    area = fitted.shape[0] * fitted.shape[1]
    u, v = i420[area:area + area // 4], i420[area + area // 4:]
    np.testing.assert_array_equal(nv12[:area], i420[:area])
    np.testing.assert_array_equal(nv12[area:], np.stack([u, v], axis=1).reshape(-1))


def test_opencv_i420_takes_the_chroma_of_each_blocks_top_left_pixel():
    """The premise of averaging: checked on this OpenCV (4.13 here; 4.5 on Humble)."""
    bgr = np.random.default_rng(3).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).reshape(-1)
    _, u, v = bt601_planes(np.repeat(np.repeat(bgr[0::2, 0::2], 2, axis=0), 2, axis=1))
    assert np.abs(i420[256:320].reshape(8, 8) - u).max() <= 1
    assert np.abs(i420[320:].reshape(8, 8) - v).max() <= 1


def test_sampled_chroma_is_opencvs_i420():
    """The top-left chroma baseline converts exactly as COLOR_BGR2YUV_I420 (the zoo's)."""
    bgr = photos()[-1]
    nv12 = TopLeftChromaConverter(SIZE, SIZE, 'stretch').from_raw(
        bgr, bgr.shape[1], bgr.shape[0], bgr.strides[0], 'bgr8')
    assert_equals_opencv_i420(nv12, cv2.resize(bgr, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR))


def uniform_gray(encoding: str, gray: int, width: int, height: int) -> tuple:
    """Return (data, step) of a frame of one gray level (luma from OpenCV's BT.601 path)."""
    luma = int(bgr_to_nv12(np.full((2, 2, 3), gray, np.uint8))[0])
    pixel = {'bgr8': [gray] * 3, 'rgb8': [gray] * 3, '8UC3': [gray] * 3,
             'bgra8': [gray] * 3 + [255], 'rgba8': [gray] * 3 + [255], '8UC4': [gray] * 3 + [255],
             'yuyv': [luma, 128], 'yuv422_yuy2': [luma, 128],
             'uyvy': [128, luma], 'yuv422': [128, luma]}.get(encoding, [gray])
    if encoding in ('nv12', 'nv21'):
        return bytes([luma]) * (width * height) + bytes([128]) * (width * height // 2), width
    return bytes(pixel) * (width * height), width * len(pixel)


@pytest.mark.parametrize('mode', RESIZE_MODES)
@pytest.mark.parametrize('encoding', RAW_ENCODINGS)
def test_frames_down_to_one_pixel(encoding, mode):
    """Tiny frames convert too (OpenCV 4.5, Ubuntu 22.04's, rejects some 1x1 resizes)."""
    even_width = encoding in ('nv12', 'nv21', 'yuyv', 'yuv422_yuy2', 'uyvy', 'yuv422')
    even_height = encoding in ('nv12', 'nv21')
    expected = bgr_to_nv12(np.full((SIZE, SIZE, 3), 90, np.uint8))
    sizes = ((1, 1), (4, 1), (1, 4), (2, 2), (2, 1), (1, 2), (3, 3), (3, 64), (4, 64))
    for width, height in sizes:
        if (even_width and width % 2) or (even_height and height % 2):
            continue
        data, step = uniform_gray(encoding, 90, width, height)
        if encoding.startswith('bayer_') and min(width, height) < 3:
            with pytest.raises(FrameError, match='at least 3x3 pixels to demosaic'):
                NV12Converter(SIZE, SIZE, mode).from_raw(data, width, height, step, encoding)
            continue
        nv12 = NV12Converter(SIZE, SIZE, mode).from_raw(data, width, height, step, encoding)
        assert nv12.size == expected.size
        if mode != 'letterbox':  # which pads around the picture
            assert np.abs(nv12.astype(int) - expected).max() <= 1, (encoding, width, height)


def test_mono_chroma_is_neutral_and_luma_matches_gray_bgr():
    gray = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    nv12 = NV12Converter(256, 4, 'stretch').from_raw(gray.tobytes(), 256, 4, 256, 'mono8')
    expected = bgr_to_nv12(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
    np.testing.assert_array_equal(nv12[:1024], expected[:1024])
    assert np.all(nv12[1024:] == 128)


def test_out_buffer_is_filled_in_place_and_returned():
    converter = NV12Converter(SIZE, SIZE)
    out = np.zeros(converter.nbytes, np.uint8)
    bgr = photos()[-1]
    result = converter.from_raw(bgr.tobytes(), bgr.shape[1], bgr.shape[0], bgr.shape[1] * 3,
                                'bgr8', out=out)
    assert result is out or np.shares_memory(result, out)
    np.testing.assert_array_equal(out, converter.from_raw(
        bgr.tobytes(), bgr.shape[1], bgr.shape[0], bgr.shape[1] * 3, 'bgr8'))
    with pytest.raises(ValueError, match='C-contiguous uint8'):
        converter.from_raw(bgr.tobytes(), bgr.shape[1], bgr.shape[0], bgr.shape[1] * 3, 'bgr8',
                           out=np.zeros(10, np.uint8))


@pytest.mark.parametrize('fmt, ext', [('jpeg', '.jpg'), ('bgr8; jpeg compressed bgr8', '.jpg'),
                                      ('rgb8; jpeg compressed bgr8', '.jpg'), ('png', '.png'),
                                      ('', '.png')])
def test_compressed_frames(fmt, ext):
    bgr = photos()[-1]
    ok, encoded = cv2.imencode(ext, bgr)
    assert ok
    converter = NV12Converter(SIZE, SIZE)
    nv12 = converter.from_compressed(encoded.tobytes(), fmt)
    luma, chroma = planes_difference(nv12, reference_nv12(bgr, 'center_crop'), block=8)
    assert luma < 3.0 and chroma < 3.0


def test_compressed_mono_png():
    gray = cv2.cvtColor(photos()[-1], cv2.COLOR_BGR2GRAY)
    ok, encoded = cv2.imencode('.png', gray)
    nv12 = NV12Converter(SIZE, SIZE).from_compressed(encoded.tobytes(), 'mono8; png compressed')
    assert np.all(nv12[SIZE * SIZE:] == 128)


def test_round_trip_through_nv12():
    bgr = photos()[-1]
    back = nv12_to_bgr(bgr_to_nv12(bgr), bgr.shape[1], bgr.shape[0])
    assert np.abs(back.astype(int) - bgr).mean() < 6


@pytest.mark.parametrize('args, message', [
    ((b'\0' * 100, 10, 10, 30, 'bgr9'), "encoding 'bgr9'"),
    ((b'\0' * 100, 0, 10, 30, 'bgr8'), '0x10'),
    ((b'\0' * 100, 10, 10, 30, 'bgr8'), 'data has 100 bytes, height 10 x step 30 needs 300'),
    ((b'\0' * 300, 10, 10, 20, 'bgr8'), 'step 20 is smaller than a row of 10 bgr8'),
    ((b'\0' * 300, 11, 10, 11, 'nv12'), 'even width and height, got 11x10'),
    ((b'\0' * 100, 10, 10, 10, 'nv12'), 'data has 100 bytes, nv12 of height 10'),
    ((b'\0' * 300, 11, 10, 22, 'yuyv'), 'even width'),
], ids=['unknown-encoding', 'zero-size', 'truncated', 'short-step', 'odd-nv12',
        'truncated-nv12', 'odd-yuyv'])
def test_bad_frames_raise_frame_error_naming_the_numbers(args, message):
    with pytest.raises(FrameError, match=message.replace('(', r'\(')):
        NV12Converter(SIZE, SIZE).from_raw(*args)


def test_undecodable_compressed_frame():
    with pytest.raises(FrameError, match="format 'jpeg', 67 bytes"):
        NV12Converter(SIZE, SIZE).from_compressed(b'\xff\xd8\xff' + b'\0' * 64, 'jpeg')


@pytest.mark.parametrize('args', [(223, 224), (0, 224), (224, 224, 'squash'),
                                  (224, 224, 'center_crop', 0.0)])
def test_bad_configuration(args):
    with pytest.raises(ValueError):
        NV12Converter(*args)


def test_data_may_be_array_array_memoryview_or_ndarray():
    import array
    bgr = photos()[-1]
    height, width = bgr.shape[:2]
    converter = NV12Converter(SIZE, SIZE)
    expected = converter.from_raw(bgr.tobytes(), width, height, width * 3, 'bgr8')
    for data in (array.array('B', bgr.tobytes()), memoryview(bgr.tobytes()), bgr):
        np.testing.assert_array_equal(
            converter.from_raw(data, width, height, width * 3, 'BGR8'), expected)
