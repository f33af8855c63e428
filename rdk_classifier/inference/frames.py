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
Camera frames to NV12 at the model's input size (pure numpy/OpenCV, no ROS).

A frame is cropped first (as a numpy view, no copy), then resized once with OpenCV, then
colour-converted, so only model-sized images are converted. NV12 and NV21 frames resize their
Y and UV planes directly, with no RGB round trip; Bayer mosaics are demosaiced after the crop.
Colour conversion is BT.601 limited range with OpenCV's coefficients (rdk_classifier.inference.
colour), the convention of the RDK Model Zoo's NV12 models. For 3-channel sources (bgr8, rgb8,
Bayer, JPEG, PNG) each 2x2 block's chroma is the block's average, as camera ISPs make it;
COLOR_BGR2YUV_I420, used for bgra8 and rgba8, takes it from the block's top-left pixel. The
conversions before these improvements, kept to measure them, are
rdk_classifier.inference.baseline's.

Frames over ``max_pixels`` are malformed, and so are compressed frames other than JPEG and PNG:
the size comes from the JPEG or PNG header, before anything is decoded. JPEG frames are decoded
at the smallest DCT scale (1/2, 1/4) at which the crop still has twice the model input's
pixels across (JPEG_MIN_DOWNSCALE).

cv_bridge is not used: it cannot produce NV12 and copies every frame.

A converter keeps scratch buffers, so one converter serves one thread at a time; the pipeline's
dispatcher keeps one per worker.
"""

import re
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from rdk_classifier.inference.colour import (BGR_TO_YUV, ColourConverter, GRAY_TO_LUMA,
                                             i420_to_nv12, RGB_TO_YUV)


class FrameError(ValueError):
    """A frame that cannot be converted; the message names the field and the numbers."""


RESIZE_MODES = ('center_crop', 'stretch', 'letterbox')
#: Pixels per frame above which a frame is malformed (checked before decoding): 4096 x 4096,
#: 2x a 4K UHD camera (3840x2160) and 1.36x a 12 MP sensor (4056x3040), and at most ~50 MB for a
#: decoded colour frame (a 20000x20000 PNG of zeros, 389 KB, would decode to 1.2 GB).
DEFAULT_MAX_PIXELS = 4096 * 4096
#: Gray level of the letterbox padding.
PAD_GRAY = 127

# encoding -> (channels per pixel of the packed image, cvtColor code to I420 or None)
_PACKED = {
    'bgr8': (3, cv2.COLOR_BGR2YUV_I420),
    'rgb8': (3, cv2.COLOR_RGB2YUV_I420),
    'bgra8': (4, cv2.COLOR_BGRA2YUV_I420),
    'rgba8': (4, cv2.COLOR_RGBA2YUV_I420),
    'mono8': (1, None),
}
#: The OpenCV conversion to I420 of each encoding that has one (not mono8).
_TO_I420 = {name: code for name, (_, code) in _PACKED.items() if code is not None}
_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# JPEG start-of-frame markers (every coding process); the frame header that follows holds the
# image size. 0xC4 (DHT), 0xC8 (JPG) and 0xCC (DAC) share the range but are not frames.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field: TEM and RST0..7.
_JPEG_STANDALONE = frozenset([0x01] + list(range(0xD0, 0xD8)))
_JPEG_MARKER = re.compile(rb'\xff[\x01-\xfe]')
#: A JPEG is decoded at the smallest DCT scale (1/2, 1/4) whose crop still has this many pixels
#: per model input pixel across. Just covering the input (1) cost letterbox 2.2 pt of top-1 on
#: the 250 shared photos at four camera sizes, as the bilinear resize then blurs what the DCT
#: scaling already smoothed. 1/8 is not used: libjpeg keeps only each 8x8 block's average
#: there, which lost 10 and won 5 of those photos at 4K letterbox (1/4: 5 and 5), to decode
#: 11% faster than 1/4.
JPEG_MIN_DOWNSCALE = 2
# imdecode flags by (gray?) and JPEG scale denominator; PNG always decodes at full size.
_DECODE_FLAGS = {
    False: {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4},
    True: {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
           4: cv2.IMREAD_REDUCED_GRAYSCALE_4},
}
# Packed 4:2:2 encodings; ROS's 'yuv422' is UYVY.
_YUV422 = ('yuv422_yuy2', 'yuyv', 'yuv422', 'uyvy')
_SEMIPLANAR = ('nv12', 'nv21')
# Raw sensor mosaics (machine-vision cameras); OpenCV names a pattern by its second row.
_BAYER = {
    'bayer_rggb8': cv2.COLOR_BayerBG2BGR,
    'bayer_bggr8': cv2.COLOR_BayerRG2BGR,
    'bayer_gbrg8': cv2.COLOR_BayerGR2BGR,
    'bayer_grbg8': cv2.COLOR_BayerGB2BGR,
}
# OpenCV type names some drivers publish, read as cv_bridge reads them.
_ALIASES = {'8uc1': 'mono8', '8uc3': 'bgr8', '8uc4': 'bgra8'}
RAW_ENCODINGS = (tuple(_PACKED) + _YUV422 + _SEMIPLANAR + tuple(_BAYER)
                 + tuple(alias.upper() for alias in _ALIASES))


def _big_endian(buffer: np.ndarray, start: int, size: int) -> int:
    return int.from_bytes(buffer[start:start + size].tobytes(), 'big')


def compressed_image_size(data) -> Tuple[str, int, int]:
    """
    Return ('jpeg' or 'png', width, height) from a compressed frame's header, decoding nothing.

    FrameError for anything else or a header that ends early. OpenCV has no header-only read
    in Python, and Pillow's lazy ``Image.open`` would be one more dependency on the robot, for
    two formats whose size sits in the first bytes: PNG's IHDR (the first chunk, which libpng
    requires) and JPEG's frame header, the first SOF marker, found by walking the marker
    segments as libjpeg does (extraneous bytes and fill bytes between markers are skipped).
    """
    buffer = _as_bytes(data)
    header = buffer[:24].tobytes()
    if header[:8] == _PNG_SIGNATURE:
        if len(header) < 24 or header[12:16] != b'IHDR':
            raise FrameError('PNG without an IHDR chunk first')
        return 'png', _big_endian(buffer, 16, 4), _big_endian(buffer, 20, 4)
    if header[:2] != b'\xff\xd8':
        raise FrameError('neither JPEG nor PNG (starts with %s)' % (header[:8].hex() or 'nothing'))
    position = 2
    while True:
        # The last 0xFF of a run and a code byte other than 0 (0xFF 0x00 is a stuffed byte);
        # libjpeg skips whatever else lies between segments, and so does this search.
        # .data: numpy's stubs type an ndarray as a buffer only for Python 3.12 and newer.
        found = _JPEG_MARKER.search(buffer.data, position)
        if found is None:
            break
        marker, position = int(buffer[found.end() - 1]), found.end()
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0xD8, 0xD9, 0xDA):  # SOI, EOI, SOS before any frame header
            raise FrameError('JPEG with marker 0x%02X before its frame header' % marker)
        if position + 2 > buffer.size:
            break
        length = _big_endian(buffer, position, 2)
        if marker in _JPEG_SOF:
            if length < 8 or position + 7 > buffer.size:
                break
            # Frame header: length (2), sample precision (1), lines (2), samples per line (2).
            width, height = (_big_endian(buffer, position + offset, 2) for offset in (5, 3))
            return 'jpeg', width, height
        if length < 2:
            raise FrameError('JPEG with a marker segment of length %d' % length)
        position += length
    raise FrameError('JPEG that ends before its frame header')


def _as_bytes(data) -> np.ndarray:
    """View any buffer (bytes, array.array, memoryview, ndarray) as 1-D uint8, without copying."""
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8)
    return np.frombuffer(data, dtype=np.uint8)


def bgr_to_nv12(bgr: np.ndarray) -> np.ndarray:
    """Convert a BGR image (even width and height) to NV12 of the same size, as the node does."""
    height, width = bgr.shape[:2]
    out = np.empty(width * height * 3 // 2, np.uint8)
    ColourConverter(width, height).to_nv12(np.ascontiguousarray(bgr), BGR_TO_YUV, out)
    return out


def nv12_to_bgr(nv12: np.ndarray, width: int, height: int) -> np.ndarray:
    """Convert NV12 back to a height x width x 3 BGR image (the inverse of the conversion)."""
    return cv2.cvtColor(np.asarray(nv12).reshape(height * 3 // 2, width),
                        cv2.COLOR_YUV2BGR_NV12)


class NV12Converter:
    """Converts frames of any size and encoding to NV12 of one model's input size."""

    def __init__(self, width: int, height: int, resize_mode: str = 'center_crop',
                 crop_pct: float = 0.875, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        """Set the output size and geometry; ValueError for a configuration that cannot work."""
        if width < 2 or height < 2 or width % 2 or height % 2:
            raise ValueError('model input must have even width and height >= 2, got %dx%d'
                             % (width, height))
        if resize_mode not in RESIZE_MODES:
            raise ValueError('resize_mode %r is not one of %s' % (resize_mode, RESIZE_MODES))
        if not 0.0 < crop_pct <= 1.0:
            raise ValueError('crop_pct must be in (0, 1], got %r' % crop_pct)
        if max_pixels < 1:
            raise ValueError('max_frame_pixels must be at least 1, got %r' % max_pixels)
        self.width, self.height = width, height
        self.resize_mode, self.crop_pct = resize_mode, crop_pct
        self.max_pixels = max_pixels
        self._colour = ColourConverter(width, height)
        self.nbytes = width * height * 3 // 2
        # Typed as plain arrays: numpy's stubs (older ones on Python 3.10) differ on shapes.
        self._resized: Dict[int, np.ndarray] = {
            c: np.empty((height, width, c), np.uint8) for c in (3, 4)}
        self._resized[1] = np.empty((height, width), np.uint8)
        self._pad_luma = int(GRAY_TO_LUMA[PAD_GRAY])

    # Public entry points ------------------------------------------------------------------

    def from_raw(self, data, width: int, height: int, step: int, encoding: str,
                 out: Optional[np.ndarray] = None) -> np.ndarray:
        """Convert a sensor_msgs/Image-style buffer; return the NV12 array (``out`` if given)."""
        self._check_size(width, height, 'frame')
        name = encoding.strip().lower()
        name = _ALIASES.get(name, name)
        if name not in RAW_ENCODINGS:
            raise FrameError('encoding %r is not supported; supported: %s'
                             % (encoding, ', '.join(RAW_ENCODINGS)))
        buffer = _as_bytes(data)
        out = self._output(out)
        if name in _SEMIPLANAR:
            self._from_semiplanar(buffer, width, height, step, name == 'nv21', out)
        elif name in _YUV422:
            self._from_yuv422(self._packed_view(buffer, width, height, step, 2, name),
                              name in ('yuv422_yuy2', 'yuyv'), out)
        elif name in _BAYER:
            if width < 3 or height < 3:  # OpenCV's demosaicing gives black below 3x3
                raise FrameError('%s needs at least 3x3 pixels to demosaic, got %dx%d'
                                 % (name, width, height))
            # Even crop offsets keep the mosaic's phase; only the crop is demosaiced (all of a
            # frame whose crop would be too small).
            x0, y0, x1, y1 = self._roi(width, height, align=2)
            if x1 - x0 < 3 or y1 - y0 < 3:
                x0, y0, x1, y1 = 0, 0, width, height
            mosaic = self._packed_view(buffer, width, height, step, 1, name)[y0:y1, x0:x1]
            self._from_packed(cv2.cvtColor(mosaic, _BAYER[name]), 'bgr8', out)
        else:
            channels, code = _PACKED[name]
            image = self._packed_view(buffer, width, height, step, channels, name)
            x0, y0, x1, y1 = self._roi(width, height, align=1)
            roi = image[y0:y1, x0:x1]
            if code is None:
                self._from_mono(roi, out)
            else:
                self._from_packed(roi, name, out)
        return out

    def from_compressed(self, data, fmt: str, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Convert JPEG/PNG bytes (sensor_msgs/CompressedImage); return the NV12 array."""
        buffer = _as_bytes(data)
        try:
            kind, width, height = compressed_image_size(buffer)
            self._check_size(width, height, kind.upper())
        except FrameError as exc:
            raise FrameError('compressed frame (format %r, %d bytes): %s'
                             % (fmt, buffer.size, exc)) from None
        mono = fmt.strip().lower().startswith(('mono', '8uc1'))
        factor = self.jpeg_reduction(width, height) if kind == 'jpeg' else 1
        image = cv2.imdecode(buffer, _DECODE_FLAGS[mono][factor])
        if image is None:
            raise FrameError('compressed frame (format %r, %d bytes): %dx%d %s that could not '
                             'be decoded' % (fmt, buffer.size, width, height, kind.upper()))
        height, width = image.shape[:2]
        return self.from_raw(image, width, height, image.strides[0],
                             'mono8' if mono else 'bgr8', out)

    def fitted(self, bgr: np.ndarray) -> np.ndarray:
        """Return a 3-channel image cropped and resized (or padded) as the converter does it."""
        height, width = bgr.shape[:2]
        x0, y0, x1, y1 = self._roi(width, height, align=1)
        return self._resize(bgr[y0:y1, x0:x1], 3).copy()

    def _check_size(self, width: int, height: int, what: str) -> None:
        """Raise FrameError for an empty frame or one over ``max_pixels``."""
        if width <= 0 or height <= 0:
            raise FrameError('%s size %dx%d (width x height) is empty' % (what, width, height))
        if width * height > self.max_pixels:
            raise FrameError('%s of %dx%d is %d pixels, over the limit of %d (parameter '
                             'max_frame_pixels)' % (what, width, height, width * height,
                                                    self.max_pixels))

    def jpeg_reduction(self, width: int, height: int) -> int:
        """Return the JPEG scale denominator (1, 2, 4) to decode a width x height frame at."""
        # EXIF orientation may turn the decoded image: the smaller ratio of either way.
        ratio = min(self._downscale_ratio(*size) for size in ((width, height), (height, width)))
        return next(factor for factor in (4, 2, 1)
                    if ratio >= JPEG_MIN_DOWNSCALE * factor or factor == 1)

    def _downscale_ratio(self, width: int, height: int) -> float:
        """Return how many source pixels the crop of a width x height frame has per output one."""
        x0, y0, x1, y1 = self._roi(width, height, align=1)
        _, _, fit_w, fit_h = self._fit(x1 - x0, y1 - y0)
        return min((x1 - x0) / fit_w, (y1 - y0) / fit_h)

    # Geometry -------------------------------------------------------------------------------

    def _roi(self, width: int, height: int, align: int) -> Tuple[int, int, int, int]:
        """Return the source rectangle (x0, y0, x1, y1) that maps onto the output."""
        if self.resize_mode != 'center_crop':
            return 0, 0, width, height
        # timm's eval transform: resize so the crop covers the output at size / crop_pct, then
        # take the centre. Cropping the matching source rectangle first gives the same pixels.
        scale = max(self.width / (self.crop_pct * width), self.height / (self.crop_pct * height))
        roi_w = min(width, max(align, int(round(self.width / scale / align)) * align))
        roi_h = min(height, max(align, int(round(self.height / scale / align)) * align))
        x0 = (width - roi_w) // 2 // align * align
        y0 = (height - roi_h) // 2 // align * align
        return x0, y0, x0 + roi_w, y0 + roi_h

    def _fit(self, src_w: int, src_h: int) -> Tuple[int, int, int, int]:
        """Return (x, y, w, h) of the image inside the output (letterbox) or the whole output."""
        if self.resize_mode != 'letterbox':
            return 0, 0, self.width, self.height
        scale = min(self.width / src_w, self.height / src_h)
        # Even sizes and offsets keep the chroma planes aligned.
        fit_w = min(self.width, max(2, int(round(src_w * scale / 2)) * 2))
        fit_h = min(self.height, max(2, int(round(src_h * scale / 2)) * 2))
        return ((self.width - fit_w) // 4 * 2, (self.height - fit_h) // 4 * 2, fit_w, fit_h)

    # Conversions ----------------------------------------------------------------------------

    def _output(self, out: Optional[np.ndarray]) -> np.ndarray:
        if out is None:
            return np.empty(self.nbytes, np.uint8)
        if out.dtype != np.uint8 or out.size != self.nbytes or not out.flags.c_contiguous:
            raise ValueError('out must be a C-contiguous uint8 array of %d bytes' % self.nbytes)
        return out.reshape(-1)

    def _packed_view(self, buffer: np.ndarray, width: int, height: int, step: int,
                     channels: int, name: str) -> np.ndarray:
        row = width * channels
        if channels == 2 and width % 2:
            raise FrameError('%s needs an even width, got %d' % (name, width))
        if step < row:
            raise FrameError('step %d is smaller than a row of %d %s pixels (%d bytes)'
                             % (step, width, name, row))
        needed = height * step
        if buffer.size < needed:
            raise FrameError('data has %d bytes, height %d x step %d needs %d'
                             % (buffer.size, height, step, needed))
        rows = buffer[:needed].reshape(height, step)[:, :row]
        return rows.reshape(height, width, channels) if channels > 1 else rows

    def _resize(self, roi: np.ndarray, channels: int) -> np.ndarray:
        """Resize ``roi`` to the output geometry (letterbox padding with PAD_GRAY)."""
        target = self._resized[channels]
        box = self._fit(roi.shape[1], roi.shape[0])
        if box[2:] != (self.width, self.height):
            target[...] = PAD_GRAY
        _resize_into(roi, target, box)
        return target

    def _from_packed(self, roi: np.ndarray, name: str, out: np.ndarray) -> None:
        """Resize a bgr8/rgb8/bgra8/rgba8 ``roi`` and convert it into ``out``."""
        self._colour_convert(self._resize(roi, roi.shape[2]), name, out)

    def _colour_convert(self, resized: np.ndarray, name: str, out: np.ndarray) -> None:
        """Convert a resized bgr8/rgb8/bgra8/rgba8 image into ``out``."""
        # 4-channel sources keep the top-left pixel's chroma: OpenCV's fast transform takes 3
        # channels, and dropping the 4th first made their conversion 1.12-1.15x slower, over
        # the 10% this improvement may cost (3-channel ones: 1.00-1.05x; bench_convert.py).
        if resized.shape[2] == 3:
            self._colour.to_nv12(resized, RGB_TO_YUV if name == 'rgb8' else BGR_TO_YUV, out)
        else:
            self._top_left_chroma(resized, name, out)

    def _top_left_chroma(self, resized: np.ndarray, name: str, out: np.ndarray) -> None:
        """Convert with COLOR_*2YUV_I420: each 2x2 block's chroma from its top-left pixel."""
        i420_to_nv12(cv2.cvtColor(resized, _TO_I420[name]), self.width, self.height, out)

    def _from_mono(self, roi: np.ndarray, out: np.ndarray) -> None:
        luma = self.width * self.height
        cv2.LUT(self._resize(roi, 1), GRAY_TO_LUMA,
                dst=out[:luma].reshape(self.height, self.width))
        out[luma:] = 128

    def _planes(self, out: np.ndarray, box: Tuple[int, int, int, int]) -> tuple:
        """Return the Y and UV planes of ``out``, gray outside ``box`` (letterbox padding)."""
        luma = self.width * self.height
        luma_out = out[:luma].reshape(self.height, self.width)
        chroma_out = out[luma:].reshape(self.height // 2, self.width // 2, 2)
        if box[2:] != (self.width, self.height):
            luma_out[...] = self._pad_luma
            chroma_out[...] = 128
        return luma_out, chroma_out

    def _from_yuv422(self, image: np.ndarray, luma_first: bool, out: np.ndarray) -> None:
        """Resize the Y samples and the U/V pairs of a packed 4:2:2 frame directly."""
        height, width = image.shape[:2]
        x0, y0, x1, y1 = self._roi(width, height, align=2)
        roi = image[y0:y1, x0:x1]
        # Resizing the packed pixels as 2- and 4-channel images reads them in place; picking
        # the Y or U/V channels out first would copy the whole frame into strided planes.
        x, y, w, h = box = self._fit(x1 - x0, y1 - y0)
        luma_out, chroma_out = self._planes(out, box)
        luma_out[y:y + h, x:x + w] = _resized(roi, w, h)[..., 0 if luma_first else 1]
        quads = roi.reshape(y1 - y0, (x1 - x0) // 2, 4)
        chroma = _resized(quads, w // 2, h // 2)
        chroma_out[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = \
            chroma[..., 1::2] if luma_first else chroma[..., 0::2]

    def _resize_planes(self, luma_in: np.ndarray, chroma_in: np.ndarray,
                       out: np.ndarray) -> None:
        """Resize a luma plane and an interleaved UV plane into ``out`` (NV12)."""
        x, y, w, h = box = self._fit(luma_in.shape[1], luma_in.shape[0])
        luma_out, chroma_out = self._planes(out, box)
        _resize_into(luma_in, luma_out, box)
        _resize_into(chroma_in, chroma_out, (x // 2, y // 2, w // 2, h // 2))

    def _from_semiplanar(self, buffer: np.ndarray, width: int, height: int, step: int,
                         swap_uv: bool, out: np.ndarray) -> None:
        name = 'nv21' if swap_uv else 'nv12'
        if width % 2 or height % 2:
            raise FrameError('%s needs even width and height, got %dx%d' % (name, width, height))
        if step < width:
            raise FrameError('step %d is smaller than the width %d of %s' % (step, width, name))
        needed = height * 3 // 2 * step
        if buffer.size < needed:
            raise FrameError('data has %d bytes, %s of height %d x step %d needs %d'
                             % (buffer.size, name, height, step, needed))
        planes = buffer[:needed].reshape(height * 3 // 2, step)
        luma_in = planes[:height, :width]
        chroma_in = planes[height:, :width].reshape(height // 2, width // 2, 2)
        x0, y0, x1, y1 = self._roi(width, height, align=2)
        self._resize_planes(luma_in[y0:y1, x0:x1],
                            chroma_in[y0 // 2:y1 // 2, x0 // 2:x1 // 2], out)
        if swap_uv:  # on the small output: swapping the source would copy all of it
            chroma = out[self.width * self.height:].reshape(-1, 2)
            chroma[...] = chroma[:, ::-1].copy()


def _resize_into(src: np.ndarray, target: np.ndarray, box: Tuple[int, int, int, int]) -> None:
    """Resize ``src`` into the (x, y, w, h) box of ``target`` (in place when it is all of it)."""
    x, y, w, h = box
    if (h, w) == target.shape[:2] and src.shape[:2] != (1, 1):
        cv2.resize(src, (w, h), dst=target, interpolation=cv2.INTER_LINEAR)
    else:
        target[y:y + h, x:x + w] = _resized(src, w, h)


def _resized(src: np.ndarray, width: int, height: int) -> np.ndarray:
    """Return ``src`` resized (bilinear) to width x height, a single pixel included."""
    if src.shape[:2] == (1, 1):
        # OpenCV 4.5 (Ubuntu 22.04's) rejects 1x1 images of 2 or more channels; one pixel
        # resizes to itself everywhere.
        return np.broadcast_to(src, (height, width) + src.shape[2:])
    return cv2.resize(src, (width, height), interpolation=cv2.INTER_LINEAR)
