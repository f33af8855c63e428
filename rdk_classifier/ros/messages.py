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
Message building: pure functions from results and state to ROS messages (no node inside).

Called from the pipeline's dispatcher thread (classification, overlay) and the node's executor
(label and vision info, diagnostics); nothing here keeps state, so any thread may call them.
"""

from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
import numpy as np
from rdk_classifier.inference.frames import nv12_to_bgr
from rdk_classifier.inference.stats import COUNTERS
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import Classification, LabelInfo, ObjectHypothesis, VisionClass, VisionInfo

#: The VisionInfo.database_location of the labels shipped with the package.
BUILT_IN_LABELS = 'ImageNet-1k (built in)'


def classification(header: Header, top: Sequence[Tuple[int, float]], labels: Sequence[str],
                   class_id_by_name: bool) -> Classification:
    """Return the Classification of one frame: its header and the top (class, score) pairs."""
    return Classification(header=header, results=[
        ObjectHypothesis(class_id=labels[index] if class_id_by_name else str(index),
                         score=score)
        for index, score in top])


def label_info(labels: Sequence[str], threshold: float, stamp: Time) -> LabelInfo:
    """Return the class map with the score threshold in force."""
    info = LabelInfo(class_map=[VisionClass(class_id=index, class_name=name)
                                for index, name in enumerate(labels)],
                     threshold=float(threshold))
    info.header.stamp = stamp
    return info


def vision_info(model_name: str, labels_source: str, labels_version: int, stamp: Time,
                weights_note: str = '') -> VisionInfo:
    """
    Return the model's VisionInfo: method names the model, database the labels.

    ``weights_note`` (e.g. that a model has random weights) is appended to the method, so any
    consumer that shows the model also shows the warning.
    """
    method = '%s (%s)' % (model_name, weights_note) if weights_note else model_name
    info = VisionInfo(method=method, database_version=labels_version,
                      database_location=labels_source or BUILT_IN_LABELS)
    info.header.stamp = stamp
    return info


def overlay(header: Header, nv12: np.ndarray, width: int, height: int,
            top: Sequence[Tuple[int, float]], labels: Sequence[str]) -> Image:
    """Return the model input as bgr8 with the top three labels written on it."""
    import cv2  # only needed while someone watches the overlay
    bgr = np.ascontiguousarray(nv12_to_bgr(nv12, width, height))
    for row, (index, score) in enumerate(top[:3]):
        cv2.putText(bgr, '%s %.2f' % (labels[index], score), (4, 16 + 16 * row),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 255, 0), 1, cv2.LINE_AA)
    return Image(header=header, height=bgr.shape[0], width=bgr.shape[1], encoding='bgr8',
                 step=bgr.shape[1] * 3, data=bgr.tobytes())


@dataclass(frozen=True)
class CameraReport:
    """What one camera's diagnostics status says (see camera_status)."""

    camera: str
    model: str
    engine: str
    counts: Dict[str, int]
    #: The counts of the previous report, for rates and new drops.
    previous_counts: Dict[str, int]
    elapsed_s: float
    worker_restarts: int
    #: (p50, p95) in ms per stage, None before the first sample.
    percentiles_ms: Dict[str, Optional[Tuple[float, float]]]
    #: A warning that overrides the status (e.g. frames lost in transport).
    warning: str = ''
    #: A note for an OK status (e.g. when a slow camera's last frame arrived).
    note: str = ''
    weights_note: str = ''


def camera_status(report: CameraReport) -> DiagnosticStatus:
    """Return the diagnostics status of one camera."""
    counts, before = report.counts, report.previous_counts
    elapsed = max(report.elapsed_s, 1e-6)
    values = {
        'engine': report.engine, 'model': report.model,
        'input_hz': '%.1f' % ((counts['received'] - before['received']) / elapsed),
        'output_hz': '%.1f' % ((counts['published'] - before['published']) / elapsed),
        'worker_restarts': str(report.worker_restarts),
    }
    if report.weights_note:
        values['weights'] = report.weights_note
    values.update((name, str(counts[name])) for name in COUNTERS)
    for stage, percentiles in report.percentiles_ms.items():
        if percentiles is not None:
            values['%s_ms_p50' % stage] = '%.2f' % percentiles[0]
            values['%s_ms_p95' % stage] = '%.2f' % percentiles[1]
    level, message = DiagnosticStatus.OK, report.note or 'ok'
    if report.warning:
        level, message = DiagnosticStatus.WARN, report.warning
    elif counts['dropped_bad'] > before['dropped_bad']:
        level, message = DiagnosticStatus.WARN, 'malformed frames dropped'
    elif report.weights_note:
        level, message = DiagnosticStatus.WARN, report.weights_note
    return DiagnosticStatus(name='rdk_classifier: %s' % report.camera,
                            hardware_id=report.model, level=level, message=message,
                            values=[KeyValue(key=k, value=v) for k, v in values.items()])


def zero_counts() -> Dict[str, int]:
    """Return the counts of a camera before its first frame."""
    return dict.fromkeys(COUNTERS, 0)
