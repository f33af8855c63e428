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
PerceptionTargets building without a node, and what hobot_websocket's browser view makes of it.

Each test skips without ai_msgs (built in the development environment by set-up); the module
itself imports without it.
"""

import importlib

from builtin_interfaces.msg import Time
import pytest
from std_msgs.msg import Header

LABELS = ['tench', 'goldfish', 'great white shark', 'mask']


def perception():
    """Return rdk_classifier.ros.perception, or skip this test without ai_msgs."""
    pytest.importorskip('ai_msgs.msg', reason='ai_msgs is not installed '
                        '(tools/install_ros_sources.sh builds it)')
    return importlib.import_module('rdk_classifier.ros.perception')


def header() -> Header:
    return Header(stamp=Time(sec=1_700_000_000, nanosec=123_456_789), frame_id='camera_optical')


def browser_view(msg):
    """
    Return what the RDK's browser shows of one PerceptionTargets: (fps, ai_delay, panels).

    Follows D-Robotics/hobot_websocket: src/websocket/websocket.cpp FrameAddSmart (fps; ai_delay
    = the longest perf in whole ms, sent only when > 0; a single typed roi renames the target;
    boxes with offsets below 1 moved to 1; attributes as std::to_string(value)), then
    webservice/html/TogetheROS/main.js transformData (a box needs all four corners non-zero;
    an attribute needs a value string) and render.js renderFrameStart (a panel only for a target
    with a box, placed at the first box's top-left: its type, then 'type: value' per attribute).
    """
    delays = [int(perf.time_ms_duration) for perf in msg.perfs]
    ai_delay = max(delays) if delays and max(delays) > 0 else None
    panels = []
    for target in msg.targets:
        title = target.type
        if len(target.rois) == 1 and target.rois[0].type:
            title = target.rois[0].type
        boxes = []
        for roi in target.rois:
            rect = roi.rect
            corners = (max(rect.x_offset, 1), max(rect.y_offset, 1),
                       rect.x_offset + rect.width, rect.y_offset + rect.height)
            if all(corners):
                boxes.append(corners)
        if boxes:
            lines = ['%s: %f' % (a.type, a.value) for a in target.attributes]
            panels.append((boxes[0][:2], [title] + lines))
    return msg.fps, ai_delay, panels


def build(top, frame_size=(1920, 1080), now_ns=None, fps=30):
    module = perception()
    stamp = header().stamp
    if now_ns is None:
        now_ns = stamp.sec * 10**9 + stamp.nanosec + 41_500_000  # 41.5 ms after the stamp
    times = module.StageTimes(convert_s=0.0031, infer_s=0.0127, post_s=0.0002)
    perfs = module.stage_perfs('RepViT_m0_9', times, stamp, now_ns)
    return module.perception_targets(header(), top, LABELS, frame_size, fps, perfs)


def test_header_is_the_frames_and_targets_follow_the_classification():
    top = [(2, 0.873), (0, 0.05), (3, 0.01)]
    msg = build(top)
    assert msg.header == header()
    assert [t.type for t in msg.targets] == ['great white shark', 'tench', 'mask']
    for target, (_, score) in zip(msg.targets, top):
        assert [(a.type, a.value) for a in target.attributes] == [
            ('score', pytest.approx(score))]
    first = msg.targets[0]
    assert len(first.rois) == 1
    rect = first.rois[0].rect
    assert (rect.x_offset, rect.y_offset, rect.width, rect.height) == (0, 0, 1920, 1080)
    assert first.rois[0].confidence == pytest.approx(0.873)
    assert first.rois[0].type == ''  # a typed single roi would rename the target in the browser
    assert all(not target.rois for target in msg.targets[1:])
    assert msg.fps == 30


def test_the_browser_shows_one_legible_panel_with_the_top1_label_and_score():
    fps, ai_delay, panels = browser_view(
        build([(1, 0.6543), (0, 0.2), (2, 0.1)], frame_size=(640, 480)))
    assert panels == [((1, 1), ['goldfish', 'score: 0.654300'])]
    assert fps == 30
    assert ai_delay == 41  # the pipeline perf: stamp to message, the longest


def test_perfs_are_named_as_dnn_node_names_them():
    msg = build([(0, 0.9)])
    perfs = {perf.type: perf for perf in msg.perfs}
    assert sorted(perfs) == ['RepViT_m0_9_pipeline', 'RepViT_m0_9_postprocess',
                             'RepViT_m0_9_predict_infer', 'RepViT_m0_9_preprocess']
    assert perfs['RepViT_m0_9_preprocess'].time_ms_duration == pytest.approx(3.1)
    assert perfs['RepViT_m0_9_predict_infer'].time_ms_duration == pytest.approx(12.7)
    assert perfs['RepViT_m0_9_postprocess'].time_ms_duration == pytest.approx(0.2)
    pipeline = perfs['RepViT_m0_9_pipeline']
    assert pipeline.time_ms_duration == pytest.approx(41.5)
    assert pipeline.stamp_start == header().stamp
    assert pipeline.stamp_end == Time(sec=1_700_000_000, nanosec=164_956_789)


@pytest.mark.parametrize('offset_s', [-0.001, 61.0, -3600.0])
def test_a_stamp_on_another_clock_gives_no_pipeline_perf(offset_s):
    stamp = header().stamp
    now_ns = stamp.sec * 10**9 + stamp.nanosec + int(offset_s * 1e9)
    msg = build([(0, 0.9)], now_ns=now_ns)
    assert [perf.type for perf in msg.perfs] == [
        'RepViT_m0_9_preprocess', 'RepViT_m0_9_predict_infer', 'RepViT_m0_9_postprocess']
    assert browser_view(msg)[1] == 12  # the browser's ai_delay: the longest stage, infer


def test_no_reported_class_still_pairs_the_frame():
    msg = build([])
    assert msg.header == header() and list(msg.targets) == []
    assert browser_view(msg)[2] == []


def test_rate_is_unknown_until_two_results_then_follows_the_camera():
    module = perception()
    rate = module.ClassificationRate()
    assert rate.tick(100.0) == module.UNKNOWN_FPS
    rates = [rate.tick(100.0 + i / 30) for i in range(1, 120)]
    assert rates[-1] == 30
    for i in range(1, 60):  # the camera slows to 10 Hz: the window forgets the 30 Hz past
        last = rate.tick(104.0 + i / 10)
    assert last == 10
    assert rate.tick(200.0) == 0  # a result after a long pause: the last two give 1/95 Hz
    assert rate.tick(200.5) == 2
