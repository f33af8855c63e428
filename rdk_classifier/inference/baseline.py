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
The NV12 conversions as they were before two improvements, kept to measure those (no ROS).

- :class:`TopLeftChromaConverter`: every packed source's chroma from each 2x2 block's top-left
  pixel (COLOR_BGR2YUV_I420, the zoo's conversion), where the node averages the block for
  3-channel sources;
- :class:`FullJpegConverter`: JPEG decoded at full size, where the node decodes at a reduced
  DCT scale when the crop allows (frames.JPEG_MIN_DOWNSCALE).

Used by rdk_classifier.programs.evaluate (top-1 on real photos) and benchmarks/bench_convert.py;
the node never uses them. Threading as NV12Converter: one converter per thread.
"""

import numpy as np

from rdk_classifier.inference.frames import NV12Converter


class TopLeftChromaConverter(NV12Converter):
    """NV12Converter with each 2x2 block's chroma taken from its top-left pixel."""

    def _colour_convert(self, resized: np.ndarray, name: str, out: np.ndarray) -> None:
        self._top_left_chroma(resized, name, out)


class FullJpegConverter(NV12Converter):
    """NV12Converter that decodes every JPEG at full size."""

    def jpeg_reduction(self, width: int, height: int) -> int:
        """Return 1: no reduced decoding."""
        return 1
