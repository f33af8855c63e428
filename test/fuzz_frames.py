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
Random camera frames, good and malformed, for fuzzing the running node.

``random_frame(rng)`` returns a sensor_msgs/Image-like tuple; whether the node must accept it is
decided here independently of the package: by the sizes each encoding needs.
"""

from typing import NamedTuple

import numpy as np

BYTES_PER_PIXEL = {'bgr8': 3, 'rgb8': 3, 'bgra8': 4, 'rgba8': 4, 'mono8': 1, 'yuyv': 2,
                   'uyvy': 2, 'nv12': 1, 'nv21': 1, 'bayer_grbg8': 1, '8UC3': 3}
UNKNOWN = ('bgr9', 'bayer_rggb16', '16UC1', '', 'jpeg', 'NV12 ')
#: Sizes that lie (a few KB of data for them): over any pixel bound, up to sensor_msgs' uint32.
HUGE_SIDES = (60000, 2**31, 2**32 - 1)


class RandomFrame(NamedTuple):
    """One fuzz frame and whether a correct node classifies it."""

    encoding: str
    width: int
    height: int
    step: int
    data: bytes
    valid: bool


def random_frame(rng: np.random.Generator, max_side: int = 96) -> RandomFrame:
    """Draw a frame: about a fifth are valid, the others break one or more rules."""
    encoding = str(rng.choice(list(BYTES_PER_PIXEL) + list(UNKNOWN)))
    width, height = (int(v) for v in rng.integers(0, max_side + 1, 2))
    if rng.random() < 0.05:
        width, height = (int(rng.choice(HUGE_SIDES)) for _ in range(2))
        row = min(width * BYTES_PER_PIXEL.get(encoding, 1), 2**32 - 1)
        data = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
        return RandomFrame(encoding, width, height, row, data, False)
    known = encoding in BYTES_PER_PIXEL
    row = width * BYTES_PER_PIXEL.get(encoding, 1)
    step = max(0, row + int(rng.choice([0, 0, 0, 4, -1, -4])))
    rows = height * 3 // 2 if encoding in ('nv12', 'nv21') else height
    size = max(0, rows * step + int(rng.choice([0, 0, 7, -1, -step - 1])))
    data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    if encoding in ('nv12', 'nv21'):
        shape_ok = width % 2 == 0 and height % 2 == 0
    elif encoding in ('yuyv', 'uyvy'):
        shape_ok = width % 2 == 0
    elif encoding.startswith('bayer_'):
        shape_ok = width >= 3 and height >= 3  # what demosaicing needs
    else:
        shape_ok = True
    valid = (known and width > 0 and height > 0 and step >= row and size >= rows * step
             and shape_ok)
    return RandomFrame(encoding, width, height, step, data, valid)
