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
Hostile and large frames: the pixel bound, header parsing and reduced-size JPEG decoding.

Memory is measured in a subprocess per input, from its /proc/self/status VmHWM (the peak
resident set) before and after the conversion, so nothing else in the test process counts.
"""

import json
from pathlib import Path
import struct
import subprocess
import sys
import zlib

import cv2
from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from rdk_classifier.inference import frames
from rdk_classifier.inference.baseline import FullJpegConverter
from rdk_classifier.inference.frames import (compressed_image_size, DEFAULT_MAX_PIXELS, FrameError,
                                             NV12Converter, RESIZE_MODES)

SIZE = 224
SAMPLES = Path(__file__).resolve().parents[2] / 'shared' / 'imagenet-sample' / 'images'


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """Return one PNG chunk: length, type, payload, CRC-32 of type and payload (PNG spec 5.3)."""
    return (struct.pack('>I', len(payload)) + kind + payload
            + struct.pack('>I', zlib.crc32(kind + payload)))


def png_of_zeros(width: int, height: int) -> bytes:
    """Return a valid 8-bit gray PNG of zeros, compressed row by row without holding it whole."""
    compressor = zlib.compressobj(9)
    row = bytes(width + 1)  # filter type 0 and the pixels
    rows_per_chunk = max(1, (16 << 20) // len(row))
    idat = []
    for start in range(0, height, rows_per_chunk):
        idat.append(compressor.compress(row * min(rows_per_chunk, height - start)))
    idat.append(compressor.flush())
    header = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    return (b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', header)
            + png_chunk(b'IDAT', b''.join(idat)) + png_chunk(b'IEND', b''))


def photo(width: int, height: int) -> np.ndarray:
    paths = sorted(SAMPLES.glob('*.JPEG'))
    if paths:
        image = cv2.imread(str(paths[3]), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
        assert image is not None, paths[3]
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
    x, y = np.meshgrid(np.linspace(0, 255, width), np.linspace(0, 255, height))
    image = np.dstack([x, y, (x + y) / 2]).astype(np.uint8)
    cv2.circle(image, (width // 2, height // 2), min(width, height) // 4, (20, 200, 90), -1)
    return image


def encoded(image: np.ndarray, ext: str, params=()) -> bytes:
    ok, data = cv2.imencode(ext, image, list(params))
    assert ok
    return data.tobytes()


# The pixel bound ---------------------------------------------------------------------------

def test_default_bound_holds_4k_frames_with_margin():
    assert DEFAULT_MAX_PIXELS >= 2 * 3840 * 2160 * 0.99
    assert DEFAULT_MAX_PIXELS >= 4056 * 3040  # 12 MP sensors
    assert DEFAULT_MAX_PIXELS * 3 <= 64 << 20  # a decoded colour frame stays under 64 MB


@pytest.mark.parametrize('width, height', [(60000, 60000), (2**32 - 1, 2**32 - 1),
                                           (2**32 - 1, 1)])
def test_raw_frames_over_the_bound_fail_before_their_data_is_read(width, height):
    with pytest.raises(FrameError, match=r'%d pixels, over the limit of %d \(parameter '
                       r'max_frame_pixels\)' % (width * height, DEFAULT_MAX_PIXELS)):
        NV12Converter(SIZE, SIZE).from_raw(b'\0' * 1024, width, height, width * 3, 'bgr8')


@pytest.mark.parametrize('encoding', ['bgr8', 'nv12', 'mono8', 'yuyv', 'bayer_rggb8'])
def test_the_bound_is_inclusive(encoding):
    bytes_per_pixel = {'bgr8': 3, 'nv12': 1.5, 'mono8': 1, 'yuyv': 2, 'bayer_rggb8': 1}
    converter = NV12Converter(SIZE, SIZE, max_pixels=64 * 48)
    data = bytes(int(64 * 48 * bytes_per_pixel[encoding]))
    step = int(64 * bytes_per_pixel[encoding]) if encoding != 'nv12' else 64
    assert converter.from_raw(data, 64, 48, step, encoding).size == converter.nbytes
    with pytest.raises(FrameError, match='max_frame_pixels'):
        converter.from_raw(data + bytes(1000), 66, 48, step, encoding)


@pytest.mark.parametrize('ext', ['.png', '.jpg'])
def test_compressed_frames_over_the_bound_are_malformed(ext):
    data = encoded(photo(100, 80), ext)
    assert NV12Converter(SIZE, SIZE, max_pixels=8000).from_compressed(data, 'bgr8').size
    with pytest.raises(FrameError, match=r"format 'bgr8', \d+ bytes\): %s of 100x80 is 8000 "
                       r'pixels, over the limit of 7999 \(parameter max_frame_pixels\)'
                       % ext[1:].upper().replace('JPG', 'JPEG')):
        NV12Converter(SIZE, SIZE, max_pixels=7999).from_compressed(data, 'bgr8')


def test_bound_must_be_positive():
    with pytest.raises(ValueError, match='max_frame_pixels'):
        NV12Converter(SIZE, SIZE, max_pixels=0)


# Headers ---------------------------------------------------------------------------------

def check_header_size(width: int, height: int, kind: str, params: list) -> None:
    """Encode random pixels as `kind`; the size read from the header is the decoded size."""
    image: np.ndarray = np.random.default_rng(width * 1000 + height).integers(
        0, 256, (height, width, 3), dtype=np.uint8)
    if 'gray' in kind:
        image = image[..., 0].copy()
    if '16-bit' in kind:
        image = image.astype(np.uint16) * 257
    data = encoded(image, '.png' if kind.startswith('png') else '.jpg', params)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded is not None
    assert compressed_image_size(data) == (kind.split()[0], decoded.shape[1], decoded.shape[0])


@settings(max_examples=60, deadline=None)
@given(width=st.integers(1, 300), height=st.integers(1, 300),
       kind=st.sampled_from(['jpeg', 'jpeg progressive', 'jpeg gray', 'png', 'png gray',
                             'png 16-bit']))
def test_header_size_is_the_decoded_size(width, height, kind):
    params = [cv2.IMWRITE_JPEG_PROGRESSIVE, 1] if kind == 'jpeg progressive' else []
    check_header_size(width, height, kind, params)


# OpenCV 4.5.4 (Ubuntu 22.04's, the board's) writes only 4:2:0 JPEGs; the others cover the rest.
@pytest.mark.skipif(not hasattr(cv2, 'IMWRITE_JPEG_SAMPLING_FACTOR'),
                    reason='OpenCV %s cannot write 4:4:4 JPEGs (IMWRITE_JPEG_SAMPLING_FACTOR '
                           'is from 4.5.5)' % cv2.__version__)
@settings(max_examples=20, deadline=None)
@given(width=st.integers(1, 300), height=st.integers(1, 300))
def test_header_size_of_a_444_jpeg_is_the_decoded_size(width, height):
    check_header_size(width, height, 'jpeg 4:4:4',
                      [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444])


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack('>H', len(payload) + 2) + payload


def test_jpeg_header_walk_skips_what_libjpeg_skips():
    """Thumbnail in APP1 (with its own frame header), comments, fill and stray bytes."""
    outer = encoded(photo(320, 200), '.jpg')
    thumbnail = encoded(photo(40, 24), '.jpg')
    data = (outer[:2] + jpeg_segment(0xE1, b'Exif\0\0' + thumbnail)
            + b'\xff\xff\xff' + jpeg_segment(0xFE, b'\xff\xc0 not a frame header')
            + b'stray\x00bytes' + b'\xff\x00' + outer[2:])
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape[:2] == (200, 320)
    assert compressed_image_size(data) == ('jpeg', 320, 200)


@pytest.mark.parametrize('data, message', [
    (b'', 'neither JPEG nor PNG'),
    (b'GIF89a' + bytes(40), 'neither JPEG nor PNG'),
    (b'\x89PNG\r\n\x1a\n', 'without an IHDR chunk'),
    (b'\x89PNG\r\n\x1a\n' + png_chunk(b'tEXt', b'x' * 13), 'without an IHDR chunk'),
    (b'\xff\xd8' + jpeg_segment(0xE0, b'JFIF\0'), 'ends before its frame header'),
    (b'\xff\xd8\xff\xe0\x00', 'ends before its frame header'),
    (b'\xff\xd8' + jpeg_segment(0xDA, b'\0' * 10), 'marker 0xDA before its frame header'),
    (b'\xff\xd8\xff\xd9', 'marker 0xD9 before its frame header'),
    (b'\xff\xd8\xff\xe0\x00\x01', 'segment of length 1'),
    (b'\xff\xd8' + jpeg_segment(0xC0, b'\x08\x00\x10'), 'ends before its frame header'),
], ids=['empty', 'gif', 'png-signature-only', 'png-other-chunk-first', 'jpeg-no-frame',
        'jpeg-cut-length', 'jpeg-scan-first', 'jpeg-end-first', 'jpeg-bad-length',
        'jpeg-short-frame-header'])
def test_malformed_headers(data, message):
    with pytest.raises(FrameError, match=message):
        compressed_image_size(data)
    with pytest.raises(FrameError, match=message):
        NV12Converter(SIZE, SIZE).from_compressed(data, 'jpeg')


@pytest.mark.parametrize('ext', ['.bmp', '.tiff', '.webp', '.ppm', '.jp2'])
def test_formats_opencv_would_decode_are_malformed(ext):
    if not cv2.haveImageWriter(ext):
        pytest.skip('this OpenCV cannot write %s' % ext)
    data = encoded(photo(64, 48), ext)
    # Unbounded if passed on: OpenCV decodes these.
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None
    with pytest.raises(FrameError, match='neither JPEG nor PNG'):
        NV12Converter(SIZE, SIZE).from_compressed(data, ext[1:])


def test_empty_jpeg_frame_header():
    data = bytearray(encoded(photo(32, 16), '.jpg'))
    start = data.index(b'\xff\xc0')
    data[start + 5:start + 7] = b'\0\0'  # 0 lines: defined later by DNL, which libjpeg rejects
    with pytest.raises(FrameError, match='JPEG size 32x0 .* is empty'):
        NV12Converter(SIZE, SIZE).from_compressed(bytes(data), 'jpeg')


# Memory -------------------------------------------------------------------------------------

MEASURE = """
import sys
from rdk_classifier.inference.frames import FrameError, NV12Converter


def peak_kib():
    with open('/proc/self/status') as status:
        return int(next(line for line in status if line.startswith('VmHWM:')).split()[1])


data = open(sys.argv[1], 'rb').read()
converter = NV12Converter(224, 224, max_pixels=int(sys.argv[2]))
before = peak_kib()
try:
    converter.from_compressed(data, 'bgr8')
    outcome = 'converted'
except FrameError as error:
    outcome = str(error)
print(__import__('json').dumps({'growth_kib': peak_kib() - before, 'outcome': outcome}))
"""


def peak_growth(tmp_path: Path, data: bytes, max_pixels: int) -> dict:
    """Convert ``data`` in a fresh interpreter; return its peak RSS growth and the outcome."""
    path = tmp_path / 'frame.bin'
    path.write_bytes(data)
    result = subprocess.run([sys.executable, '-c', MEASURE, str(path), str(max_pixels)],
                            capture_output=True, text=True, timeout=300, check=True)
    return json.loads(result.stdout)


@pytest.fixture(scope='module')
def jpeg_12000(tmp_path_factory):
    return encoded(np.zeros((12000, 12000), np.uint8), '.jpg')


def test_png_bomb_is_rejected_without_decoding(tmp_path):
    bomb = png_of_zeros(20000, 20000)
    assert len(bomb) < 1 << 20  # a few hundred KB that would decode to 1.2 GB (colour)
    measured = peak_growth(tmp_path, bomb, DEFAULT_MAX_PIXELS)
    assert 'PNG of 20000x20000 is 400000000 pixels' in measured['outcome']
    assert measured['growth_kib'] < 20 << 10, measured


def test_large_jpeg_is_rejected_without_decoding(tmp_path, jpeg_12000):
    measured = peak_growth(tmp_path, jpeg_12000, DEFAULT_MAX_PIXELS)
    assert 'JPEG of 12000x12000 is 144000000 pixels' in measured['outcome']
    assert measured['growth_kib'] < 20 << 10, measured


def test_peak_memory_measure_sees_a_decoded_bomb(tmp_path):
    """The control: the same measure, with the bound raised, sees the bomb decoded."""
    measured = peak_growth(tmp_path, png_of_zeros(6000, 6000), 6000 * 6000)
    assert measured['outcome'] == 'converted'
    # 36 Mpx decoded to BGR is 108 MB.
    assert measured['growth_kib'] > 100 << 10, measured


# Reduced JPEG decoding -------------------------------------------------------------------

def smallest_needed_scale(mode: str, width: int, height: int, crop_pct: float = 0.875) -> int:
    """Largest of 1, 2, 4 at which the resized picture keeps 2 pixels per output pixel."""
    if mode == 'center_crop':  # the crop is crop_pct of the shorter side (square model)
        ratio = min(width, height) * crop_pct / SIZE
    elif mode == 'stretch':
        ratio = min(width, height) / SIZE
    else:  # letterbox: the longer side fills the output
        ratio = max(width, height) / SIZE
    return max(f for f in (1, 2, 4) if ratio >= 2 * f or f == 1)


def test_scales_of_common_cameras():
    """The rule above, spelled out for the node's default (center_crop, 224x224)."""
    assert [smallest_needed_scale('center_crop', w, h) for w, h in
            ((640, 480), (1280, 720), (1920, 1080), (3840, 2160))] == [1, 1, 2, 4]
    assert [NV12Converter(SIZE, SIZE).jpeg_reduction(w, h) for w, h in
            ((640, 480), (1280, 720), (1920, 1080), (3840, 2160))] == [1, 1, 2, 4]


@pytest.mark.parametrize('mode', RESIZE_MODES)
@pytest.mark.parametrize('width, height', [(640, 480), (1280, 720), (1920, 1080), (3840, 2160),
                                           (480, 640), (300, 200), (2000, 240)])
def test_jpeg_decodes_at_the_smallest_scale_that_covers_the_input(mode, width, height,
                                                                  monkeypatch):
    data = encoded(photo(width, height), '.jpg')
    scale = smallest_needed_scale(mode, width, height)
    decoded_shapes = []
    imdecode = cv2.imdecode

    def spy(buffer, flags):
        image = imdecode(buffer, flags)
        decoded_shapes.append(image.shape[:2])
        return image
    monkeypatch.setattr(frames.cv2, 'imdecode', spy)
    reduced = NV12Converter(SIZE, SIZE, mode).from_compressed(data, 'jpeg')
    full = FullJpegConverter(SIZE, SIZE, mode).from_compressed(data, 'jpeg')
    assert decoded_shapes == [(-(-height // scale), -(-width // scale)), (height, width)]
    # The same picture: DCT scaling low-passes where the bilinear resize would alias.
    difference = np.abs(reduced.astype(int) - full).reshape(-1)
    assert difference.mean() < 3.0, (mode, width, height, difference.mean())


def test_gray_jpeg_decodes_reduced_and_png_at_full_size(monkeypatch):
    flags_seen = []
    imdecode = cv2.imdecode

    def spy(buffer, flags):
        flags_seen.append(flags)
        return imdecode(buffer, flags)
    monkeypatch.setattr(frames.cv2, 'imdecode', spy)
    gray = cv2.cvtColor(photo(1920, 1080), cv2.COLOR_BGR2GRAY)
    converter = NV12Converter(SIZE, SIZE)
    converter.from_compressed(encoded(gray, '.jpg'), 'mono8; jpeg compressed mono8')
    converter.from_compressed(encoded(gray, '.png'), 'mono8; png compressed mono8')
    assert flags_seen == [cv2.IMREAD_REDUCED_GRAYSCALE_2, cv2.IMREAD_GRAYSCALE]
