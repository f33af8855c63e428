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

"""A decompression bomb at the node: dropped and counted, and the node's memory stays bounded."""

from pathlib import Path

import cv2
from node_process import NodeProcess
import numpy as np
import pytest
import scenarios
from sensor_msgs.msg import CompressedImage

pytestmark = pytest.mark.ros

#: Decoding the bomb would take 400 MB (20000 x 20000 gray); the node idles near 100 MB.
PEAK_RSS_BOUND_MB = 300


def peak_rss_mb(pid: int) -> float:
    status = Path('/proc/%d/status' % pid).read_text()
    return int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith('VmHWM:'))) / 1024.0


def test_png_bomb_is_dropped_without_the_memory_it_would_take(client, tmp_path):
    bomb = cv2.imencode('.png', np.zeros((20000, 20000), np.uint8))[1].tobytes()
    assert len(bomb) < 512 * 1024  # small on the wire: within Fast DDS's shared-memory segment
    params = scenarios.write_params_file('compressed', str(tmp_path / 'params.yaml'))
    node = NodeProcess(params, '-p', 'image_topics:=[%s]' % scenarios.CAM1)
    try:
        node.wait_for_line('classifying')
        topic = scenarios.CAM1 + '/compressed'
        # Best effort: frames published before the node's subscription matched are lost.
        publisher = client.publisher(topic, CompressedImage)
        client.wait_for_condition(lambda: publisher.get_subscription_count() > 0,
                                  'the node subscribing to %s' % topic)
        msg = CompressedImage(format='png', data=bomb)
        msg.header.stamp = client.next_stamp()
        client.no_classification(topic, msg, wait=1.0)
        client.diagnostic_value(topic, 'dropped_bad', lambda value: int(value) >= 1)
        assert any('max_frame_pixels' in line for line in node.lines), node.output
        assert peak_rss_mb(node.process.pid) < PEAK_RSS_BOUND_MB
        # And the node goes on classifying.
        good = CompressedImage(format='jpeg', data=cv2.imencode(
            '.jpg', np.full((48, 64, 3), 128, np.uint8))[1].tobytes())
        good.header.stamp = client.next_stamp()
        client.classify(topic, good)
    finally:
        assert node.stop() == 0, node.output


def test_max_frame_pixels_parameter_bounds_raw_frames(client, tmp_path):
    params = scenarios.write_params_file('raw', str(tmp_path / 'params.yaml'))
    node = NodeProcess(params, '-p', 'image_topics:=[%s]' % scenarios.CAM1,
                       '-p', 'max_frame_pixels:=3000')
    try:
        node.wait_for_line('classifying')
        small, step, _ = scenarios.uniform_frame('bgr8', 70, width=50, height=40)  # 2000 px
        client.classify(scenarios.CAM1, client.raw_image('bgr8', small, 50, 40, step))
        large, step, _ = scenarios.uniform_frame('bgr8', 70, width=64, height=48)  # 3072 px
        client.no_classification(scenarios.CAM1, client.raw_image('bgr8', large, 64, 48, step))
        client.diagnostic_value(scenarios.CAM1, 'dropped_bad', lambda value: int(value) >= 1)
        assert any('limit of 3000' in line for line in node.lines), node.output
    finally:
        assert node.stop() == 0, node.output
