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
ai_msgs/PerceptionTargets of one classification, for the RDK's browser view (no node inside).

On the RDK, hobot_websocket shows a camera's JPEG frames with the ai_msgs/PerceptionTargets of
each frame. What it reads (D-Robotics/hobot_websocket, src/websocket/websocket.cpp) decides
what is built here:

- It pairs a result with an image only when their header stamps are equal (MessageProcess), so
  the header is the frame's header, exactly.
- ``fps`` is shown as "fps" (FrameAddSmart), and the longest ``perfs`` time_ms_duration, cut to
  whole ms, as "ai_delay"; it reads no other Perf field.
- Per target: ``type``, each roi's rect as a box (x/y offsets below 1 become 1), and each
  attribute's type with ``std::to_string(value)``: a score of 0.87 shows as "0.870000". A roi's
  confidence is not sent (the box score is commented out), hence the score attribute. With
  exactly one roi whose type is set, the roi's type replaces the target's: rois here have none.
- The page (webservice/html/TogetheROS/render.js, renderFrameStart / renderAttributes) draws a
  target's panel (its type, then one line per attribute) only if it has a box, at the first
  box's top-left corner, on a 60 % opaque background (main.css, .attribute-panel ol), and tints
  every box's area. A whole-frame roi on every reported class would stack the panels on the same
  corner, unreadable, and tint the frame once per class. So only the top-1 target carries the
  whole-frame roi: the browser shows one panel, "<label>" over "score: 0.870000". The other
  reported classes follow as targets with their label and score attribute but no roi: they are
  in the message for programs, and the browser skips them. This matches the RDK's own
  classifier, which publishes only its top-1 class as a target (D-Robotics/hobot_dnn,
  dnn_node/src/util/output_parser/classification/ptq_classification_output_parser.cpp,
  top_k_ = 1; dnn_node_example/src/dnn_example_node.cpp, PostProcess).

Perf names follow dnn_node_example (dnn_example_node.cpp, PostProcess): ``<model>_preprocess``
(our convert stage), ``<model>_predict_infer``, ``<model>_postprocess`` and ``<model>_pipeline``
(from the frame's stamp to the message). The node measures durations, not instants: the stage
perfs carry their duration only; the pipeline perf also has its two stamps.

Threading: the builders are pure; :class:`ClassificationRate` is thread-safe (one per camera,
ticked from the pipeline's dispatcher thread, which delivers the results).
"""

from collections import deque
from dataclasses import dataclass
import threading
from typing import Deque, List, Sequence, Tuple

from ai_msgs.msg import Attribute, PerceptionTargets, Perf, Roi, Target
from builtin_interfaces.msg import Time
from sensor_msgs.msg import RegionOfInterest
from std_msgs.msg import Header

#: The attribute that carries a class's score (the browser shows "score: 0.870000").
SCORE_ATTRIBUTE = 'score'
#: PerceptionTargets.fps while the rate is unknown ("invalid if fps is less than 0").
UNKNOWN_FPS = -1
#: The classification rate is measured over this many recent seconds.
RATE_WINDOW_S = 2.0
#: A frame stamp further than this from the node's clock is on another clock (mipi_cam's default
#: ``frame_ts_type: sensor`` stamps frames with the sensor's time): no pipeline perf then, or
#: the browser's ai_delay would show the clocks' difference.
MAX_PIPELINE_S = 60.0
_INT16_MAX = 2 ** 15 - 1


@dataclass(frozen=True)
class StageTimes:
    """What the node measured for one frame, in seconds."""

    convert_s: float
    infer_s: float
    post_s: float


class ClassificationRate:
    """One camera's classifications per second over the last RATE_WINDOW_S (thread-safe)."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self._window_s = window_s
        self._times: Deque[float] = deque()
        self._lock = threading.Lock()

    def tick(self, now_s: float) -> int:
        """Count one classification at monotonic time ``now_s``; return the rate (Hz, rounded)."""
        with self._lock:
            times = self._times
            times.append(now_s)
            # The two latest stay, so a camera slower than the window still has a rate.
            while len(times) > 2 and now_s - times[0] > self._window_s:
                times.popleft()
            span = times[-1] - times[0]
            if len(times) < 2 or span <= 0.0:
                return UNKNOWN_FPS
            return min(_INT16_MAX, round((len(times) - 1) / span))


def to_time(nanoseconds: int) -> Time:
    """Return a builtin_interfaces/Time of a nanosecond count."""
    return Time(sec=nanoseconds // 10**9, nanosec=nanoseconds % 10**9)


def _nanoseconds(stamp: Time) -> int:
    return stamp.sec * 10**9 + stamp.nanosec


def stage_perfs(model: str, times: StageTimes, stamp: Time, now_ns: int) -> List[Perf]:
    """
    Return the perfs of one frame, named as dnn_node_example names them.

    ``stamp`` is the frame's stamp and ``now_ns`` the node's clock now: their difference is the
    pipeline perf, left out when the stamp is on another clock (see MAX_PIPELINE_S).
    """
    perfs = [Perf(type='%s_%s' % (model, name), time_ms_duration=seconds * 1e3)
             for name, seconds in (('preprocess', times.convert_s),
                                   ('predict_infer', times.infer_s),
                                   ('postprocess', times.post_s))]
    pipeline_ns = now_ns - _nanoseconds(stamp)
    if 0 <= pipeline_ns <= MAX_PIPELINE_S * 1e9:
        perfs.append(Perf(type='%s_pipeline' % model, stamp_start=stamp,
                          stamp_end=to_time(now_ns), time_ms_duration=pipeline_ns / 1e6))
    return perfs


def perception_targets(header: Header, top: Sequence[Tuple[int, float]], labels: Sequence[str],
                       frame_size: Tuple[int, int], fps: int,
                       perfs: Sequence[Perf]) -> PerceptionTargets:
    """
    Return the PerceptionTargets of one frame: its header, one target per reported class.

    ``top`` is the (class, score) list of the Classification, best first; ``frame_size`` the
    source frame's (width, height) in pixels. The top-1 target has the whole frame as its roi
    with the score as confidence; every target has the score as an attribute (module docstring).
    """
    width, height = frame_size
    targets = []
    for rank, (index, score) in enumerate(top):
        target = Target(type=labels[index], attributes=[
            Attribute(type=SCORE_ATTRIBUTE, value=float(score), confidence=float(score))])
        if rank == 0:
            target.rois = [Roi(rect=RegionOfInterest(x_offset=0, y_offset=0,
                                                     width=width, height=height),
                               confidence=float(score))]
        targets.append(target)
    return PerceptionTargets(header=header, fps=fps, perfs=list(perfs), targets=targets)
