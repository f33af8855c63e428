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

"""Message building without a node: every field from its input."""

from typing import Any, Dict

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus
import numpy as np
from rdk_classifier.inference.stats import COUNTERS
from rdk_classifier.ros import messages
from std_msgs.msg import Header

LABELS = ['tench', 'goldfish', 'shark']


def header() -> Header:
    return Header(stamp=Time(sec=12, nanosec=345), frame_id='cam')


def test_classification_keeps_the_header_and_the_order():
    top = [(2, 0.7), (0, 0.2)]
    by_index = messages.classification(header(), top, LABELS, class_id_by_name=False)
    assert by_index.header == header()
    assert [(r.class_id, r.score) for r in by_index.results] == [('2', 0.7), ('0', 0.2)]
    by_name = messages.classification(header(), top, LABELS, class_id_by_name=True)
    assert [r.class_id for r in by_name.results] == ['shark', 'tench']


def test_label_and_vision_info():
    stamp = Time(sec=5)
    info = messages.label_info(LABELS, 0.25, stamp)
    assert [(c.class_id, c.class_name) for c in info.class_map] == list(enumerate(LABELS))
    assert info.threshold == 0.25 and info.header.stamp == stamp
    vision = messages.vision_info('RepViT_m0_9', '', 3, stamp)
    assert (vision.method, vision.database_version) == ('RepViT_m0_9', 3)
    assert vision.database_location == messages.BUILT_IN_LABELS
    noted = messages.vision_info('m.onnx', '/tmp/labels.txt', 1, stamp, 'SPEED-ONLY model')
    assert noted.method == 'm.onnx (SPEED-ONLY model)'
    assert noted.database_location == '/tmp/labels.txt'


def test_overlay_is_the_model_input_in_bgr8():
    width, height = 64, 48
    nv12 = np.concatenate([np.full(width * height, 150, np.uint8),
                           np.full(width * height // 2, 128, np.uint8)])
    image = messages.overlay(header(), nv12, width, height, [(1, 0.9)], LABELS)
    assert (image.width, image.height, image.encoding, image.step) == (64, 48, 'bgr8', 192)
    assert image.header == header() and len(image.data) == width * height * 3
    pixels = np.frombuffer(bytes(image.data), np.uint8).reshape(height, width, 3)
    # Below the text: the input's gray, Y 150 in BT.601 limited range is (150 - 16) * 255 / 219.
    assert np.abs(pixels[-1, -1].astype(int) - 156).max() <= 1, pixels[-1, -1]
    assert (pixels[:20, :] != pixels[-1, -1]).any(), 'no label written'


def report(**overrides) -> messages.CameraReport:
    counts = dict.fromkeys(COUNTERS, 0)
    counts.update(received=30, published=20)
    fields: Dict[str, Any] = {
        'camera': '/cam/image_raw', 'model': 'RepViT_m0_9', 'engine': 'fake', 'counts': counts,
        'previous_counts': messages.zero_counts(), 'elapsed_s': 2.0, 'worker_restarts': 1,
        'percentiles_ms': {'infer': (1.5, 2.25), 'post': None}}
    fields.update(overrides)
    return messages.CameraReport(**fields)


def test_camera_status_values_and_levels():
    status = messages.camera_status(report())
    values = {kv.key: kv.value for kv in status.values}
    assert status.name == 'rdk_classifier: /cam/image_raw'
    assert (status.level, status.message) == (DiagnosticStatus.OK, 'ok')
    assert (values['input_hz'], values['output_hz']) == ('15.0', '10.0')
    assert (values['infer_ms_p50'], values['infer_ms_p95']) == ('1.50', '2.25')
    assert 'post_ms_p50' not in values and values['worker_restarts'] == '1'
    assert all(values[name] == str(report().counts[name]) for name in COUNTERS)
    bad = dict(report().counts, dropped_bad=1)
    assert messages.camera_status(report(counts=bad)).level == DiagnosticStatus.WARN
    warned = messages.camera_status(report(warning='no frame in 3 s'))
    assert (warned.level, warned.message) == (DiagnosticStatus.WARN, 'no frame in 3 s')
    slow = messages.camera_status(report(note='last frame 6 s ago'))
    assert (slow.level, slow.message) == (DiagnosticStatus.OK, 'last frame 6 s ago')
    speed = messages.camera_status(report(weights_note='SPEED-ONLY model'))
    assert speed.level == DiagnosticStatus.WARN
    assert {kv.key: kv.value for kv in speed.values}['weights'] == 'SPEED-ONLY model'
