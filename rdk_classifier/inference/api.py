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
What goes into the pipeline and what comes out: frames, results, run-time settings (no ROS).

Plain frozen dataclasses, shared by the latest-frame slots, the dispatcher and the pipeline
(rdk_classifier.inference.slots, .dispatcher, .pipeline) and by their callers. Immutable, so
any thread may read them.
"""

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

import numpy as np


@dataclass(frozen=True)
class Frame:
    """
    One camera frame as received, before conversion.

    ``data`` is the message's buffer (not copied). Raw frames give width, height, step and the
    sensor_msgs encoding; compressed frames set ``compressed`` and put the format in ``encoding``.
    ``token`` comes back untouched with the result (the node passes the message header).
    """

    camera: str
    data: Any
    encoding: str
    width: int = 0
    height: int = 0
    step: int = 0
    compressed: bool = False
    token: Any = None


@dataclass(frozen=True)
class Result:
    """The classification of one frame."""

    camera: str
    token: Any
    top: List[Tuple[int, float]]
    convert_s: float
    infer_s: float
    post_s: float
    nv12: Optional[np.ndarray] = None  # a copy of the model input, when capture_input is set
    #: The source frame's (width, height) in pixels (a compressed frame's, as decoded).
    frame_size: Tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Settings:
    """What may change while the pipeline runs (InferencePipeline.apply)."""

    #: How many classes a result reports, best first.
    top_k: int = 5
    #: Classes scoring below this are left out of a result.
    score_threshold: float = 0.0
    #: A forward taking longer fails and its worker is replaced; None: no limit.
    infer_timeout_s: Optional[float] = None
    #: Results carry a copy of the model input (Result.nv12), e.g. for an overlay image.
    capture_input: bool = False


class PipelineStopping(Exception):
    """The pipeline is stopping: whatever was being waited for is abandoned (internal)."""
