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
Colour conversion to NV12: BT.601 limited range with OpenCV's coefficients (no ROS, no threads).

The coefficients are those of COLOR_BGR2YUV_I420 and its inverse COLOR_YUV2BGR_NV12, the
convention of the RDK Model Zoo's NV12 models. :class:`ColourConverter` averages each 2x2
block's chroma, as camera ISPs make it; COLOR_BGR2YUV_I420 (:func:`i420_to_nv12` of its output)
takes it from the block's top-left pixel. Used by rdk_classifier.inference.frames; a converter
keeps scratch planes, so one serves one thread at a time.
"""

import cv2
import numpy as np

# BT.601 limited range as OpenCV's COLOR_BGR2YUV_I420 computes it: its ITUR_BT_601_* fixed-point
# constants (modules/imgproc/src/color_yuv.simd.hpp, 2^20 scale), as a cv2.transform matrix of
# (B, G, R, 1) -> (Y, U, V). RGB inputs use the columns reversed.
_BT601_SCALE = float(1 << 20)
BGR_TO_YUV = np.array([[102760, 528482, 269484, 16 * _BT601_SCALE],
                       [460324, -305135, -155188, 128 * _BT601_SCALE],
                       [-74448, -385875, 460324, 128 * _BT601_SCALE]]) / _BT601_SCALE
RGB_TO_YUV = np.hstack([BGR_TO_YUV[:, 2::-1], BGR_TO_YUV[:, 3:]])


def _gray_to_luma_table() -> np.ndarray:
    """Return the Y the BGR path gives each gray level (so mono8 matches a gray BGR frame)."""
    grays = cv2.cvtColor(np.arange(256, dtype=np.uint8).reshape(1, 256), cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(cv2.transform(grays, BGR_TO_YUV)[0, :, 0])


GRAY_TO_LUMA = _gray_to_luma_table()


def i420_to_nv12(i420: np.ndarray, width: int, height: int, out: np.ndarray) -> None:
    """Rewrite a planar I420 image (cv2.COLOR_*2YUV_I420) as NV12 into ``out``."""
    planar = i420.reshape(-1)
    luma, quarter = width * height, width * height // 4
    out[:luma] = planar[:luma]
    chroma = out[luma:].reshape(height // 2, width // 2, 2)
    cv2.merge((planar[luma:luma + quarter].reshape(height // 2, width // 2),
               planar[luma + quarter:].reshape(height // 2, width // 2)), dst=chroma)


class ColourConverter:
    """BGR or RGB images of one size to NV12 with each 2x2 block's chroma averaged."""

    def __init__(self, width: int, height: int) -> None:
        """Allocate the scratch planes for width x height images."""
        self.width, self.height = width, height
        self._yuv = np.empty((height, width, 3), np.uint8)
        self._u, self._v = np.empty((height, width), np.uint8), np.empty((height, width), np.uint8)
        self._half = [np.empty((height // 2, width // 2), np.uint8) for _ in range(2)]

    def to_nv12(self, image: np.ndarray, matrix: np.ndarray, out: np.ndarray) -> None:
        """Convert a 3-channel ``image`` with ``matrix`` (BGR_TO_YUV or RGB_TO_YUV) into out."""
        luma = self.width * self.height
        # One 3x3 transform (OpenCV's fixed-point path: Y within one level of I420's) and 1-channel
        # area halvings cost what COLOR_BGR2YUV_I420 costs; a 3->2 channel transform or halving
        # the 3-channel image first are each slower (benchmarks/bench_convert.py).
        cv2.transform(image, matrix, dst=self._yuv)
        cv2.split(self._yuv, [out[:luma].reshape(self.height, self.width), self._u, self._v])
        half_size = (self.width // 2, self.height // 2)
        for plane, half in zip((self._u, self._v), self._half):
            cv2.resize(plane, half_size, dst=half, interpolation=cv2.INTER_AREA)
        cv2.merge(self._half, dst=out[luma:].reshape(self.height // 2, self.width // 2, 2))
