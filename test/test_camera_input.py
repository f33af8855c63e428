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
Camera input, process level: per-camera QoS, image_transport auto, hbmem frames.

The node runs as a subprocess (test/node_process.py) and the test talks to it over ROS 2
(test/scenarios.py). The hbm_img_msgs tests skip, each on its own, where the package is not
built; the missing-package start-up error is checked everywhere by hiding the package.
"""

from pathlib import Path
import queue
import subprocess
import sys
import time

import cv2
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from hbm_stepped_camera import LIES
from node_process import NodeProcess, START_TIMEOUT_S
import numpy as np
import pytest
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
import scenarios
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import String

pytestmark = pytest.mark.ros

RELIABLE_100 = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


def start(*params: str) -> NodeProcess:
    args = ['-p', 'engine:=fake', '-p', 'threads:=1']
    for param in params:
        args += ['-p', param]
    node = NodeProcess(None, *args)
    node.wait_for_line('classifying')
    return node


def bgr_frame(client: scenarios.ScenarioClient, gray: int):
    data, step, y = scenarios.uniform_frame('bgr8', gray)
    return client.raw_image('bgr8', data, 64, 48, step), y


def test_a_qos_override_stays_on_its_own_camera(client):
    """cam1 overridden to reliable, cam2 not: a publisher of each kind gets its results."""
    cam1, cam2 = '/qos2/cam1/image_raw', '/qos2/cam2/image_raw'
    for transport in ('raw', 'auto'):
        node = start('image_topics:=[%s,%s]' % (cam1, cam2), 'image_transport:=' + transport,
                     'qos_overrides.%s.subscription.reliability:=reliable' % cam1)
        try:
            msg, y = bgr_frame(client, 70)
            result = client.classify(cam1, msg, qos=scenarios.RELIABLE)
            assert result.results[0].class_id == str(scenarios.expected_class(y))
            msg, y = bgr_frame(client, 150)
            result = client.classify(cam2, msg, qos=qos_profile_sensor_data)
            assert result.results[0].class_id == str(scenarios.expected_class(y))
            assert 'incompatible' not in node.output, node.output
        finally:
            assert node.stop() == 0, node.output


def test_no_frames_for_qos_names_qos_not_frame_size(client):
    topic = '/qos3/cam/image_raw'
    node = start('image_topics:=[%s]' % topic,
                 'qos_overrides.%s.subscription.reliability:=reliable' % topic)
    try:
        client.publisher(topic).publish(bgr_frame(client, 90)[0])  # best effort: never matches
        status = _warning(client, topic)
        assert 'incompatible' in status.message and 'reliability' in status.message, status
        assert '512 KB' not in status.message, status
    finally:
        assert node.stop() == 0, node.output


def test_auto_reads_reliable_jpeg_on_the_topic_itself(client):
    """As hobot_usb_cam publishes MJPEG: CompressedImage on /image itself, reliable, depth 100."""
    node = start('image_topics:=[/image]')
    try:
        for gray in (60, 180):
            ok, jpeg = cv2.imencode('.jpg', np.full((48, 64, 3), gray, np.uint8))
            assert ok
            msg = CompressedImage(format='jpeg', data=jpeg.tobytes())
            msg.header.stamp = client.next_stamp()
            msg.header.frame_id = 'usb_cam'
            result = client.classify('/image', msg, qos=RELIABLE_100)
            assert result.header == msg.header
            # JPEG may move a uniform gray by a level: accept the neighbouring classes.
            expected = scenarios.expected_class(scenarios.luma(gray))
            assert abs(int(result.results[0].class_id) - expected) <= 4, result.results
        node.wait_for_line('sensor_msgs/msg/CompressedImage on /image')
    finally:
        assert node.stop() == 0, node.output


def test_auto_reads_images_and_compressed_subtopics(client):
    cam1, cam2 = '/auto/cam1/image_raw', '/auto/cam2/image_raw'
    node = start('image_topics:=[%s,%s]' % (cam1, cam2))
    try:
        msg, y = bgr_frame(client, 120)
        assert client.classify(cam1, msg).results[0].class_id == str(
            scenarios.expected_class(y))
        ok, png = cv2.imencode('.png', np.full((48, 64, 3), 200, np.uint8))
        msg = CompressedImage(format='png', data=png.tobytes())
        msg.header.stamp = client.next_stamp()
        assert client.classify(cam2 + '/compressed', msg).results[0].class_id == str(
            scenarios.expected_class(scenarios.luma(200)))
    finally:
        assert node.stop() == 0, node.output


def test_auto_names_a_topic_of_another_type(client):
    topic = '/auto/text/image_raw'
    node = start('image_topics:=[%s]' % topic)
    try:
        publisher = client.node.create_publisher(String, topic, 10)
        publisher.publish(String(data='not a frame'))
        node.wait_for_line('camera topic %s carries std_msgs/msg/String' % topic, timeout=20)
        status = _warning(client, topic)
        assert 'std_msgs/msg/String' in status.message
        lines = [line for line in node.lines if 'carries std_msgs/msg/String' in line]
        assert len(lines) == 1, node.output
        client.node.destroy_publisher(publisher)
    finally:
        assert node.stop() == 0, node.output


def test_hbmem_without_hbm_img_msgs_stops_with_one_line(tmp_path, monkeypatch):
    # A package that fails to import stands for a machine without hbm_img_msgs.
    hidden = tmp_path / 'hbm_img_msgs'
    hidden.mkdir()
    (hidden / '__init__.py').write_text("raise ImportError('hidden by the test')\n")
    monkeypatch.setenv('PYTHONPATH', str(tmp_path))
    node = NodeProcess(None, '-p', 'engine:=fake', '-p', 'image_transport:=hbmem')
    try:
        code = node.process.wait(START_TIMEOUT_S)
    finally:
        node.stop()
    assert code == 1, node.output
    errors = [line for line in node.lines if line.startswith('rdk_classifier: ')]
    assert len(errors) == 1 and 'hbm_img_msgs' in errors[0], node.output
    assert 'apt install' in errors[0] and 'Traceback' not in node.output


@pytest.mark.requires('hbm_img_msgs', reason='tools/install_ros_sources.sh builds it')
@pytest.mark.parametrize('transport', ['hbmem', 'auto'])
def test_hbmem_frames_are_classified_and_lying_ones_never(transport, client):
    topic = '/hbm_%s/hbmem_img' % transport
    node = start('image_topics:=[%s]' % topic, 'image_transport:=' + transport,
                 'hbmem_frame_id:=mipi_cam')
    results = client.inbox(scenarios.result_topic(topic))
    camera = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name('hbm_stepped_camera.py')), topic,
         'HbmMsg1080P', '1920', '1080'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        assert camera.stdout is not None and camera.stdin is not None  # both pipes
        assert camera.stdout.readline().strip() == 'ready', camera.communicate()[0]
        # Discovery takes seconds on a busy machine: repeat a first frame until it comes back.
        deadline = time.monotonic() + START_TIMEOUT_S
        stamp = 1
        while _send(camera, results, stamp, 100, 'honest', 0.5) is None:
            assert time.monotonic() < deadline, 'no result\n' + node.output
            stamp += 1
        # Frames of 6.2 MB, best effort, may be lost on a busy machine: each is sent again
        # until its result, or for a lie its count, shows that it arrived.
        refused = 0
        for index, lie in enumerate(('honest',) + LIES + ('honest',)):
            gray = 40 + 20 * index
            deadline = time.monotonic() + scenarios.TIMEOUT_S
            if lie == 'honest':
                while (result := _send(camera, results, 1000 + index, gray, lie, 1.5)) is None:
                    assert time.monotonic() < deadline, 'an honest frame was lost\n' + node.output
                assert result.header.frame_id == 'mipi_cam'
                y = scenarios.luma(gray)
                assert result.results[0].class_id == str(scenarios.expected_class(y))
                continue
            refused += 1
            while True:
                result = _send(camera, results, 1000 + index, gray, lie, 0.5)
                assert result is None, 'a frame lying with %r was classified' % lie
                try:
                    client.diagnostic_value(topic, 'dropped_bad',
                                            lambda v: int(v) >= refused, timeout=2.5)
                    break
                except AssertionError:
                    assert time.monotonic() < deadline, 'a lie with %r was not counted' % lie
        assert 'frame dropped (dropped_bad)' in node.output
    finally:
        camera.communicate(timeout=30)  # closing its input ends the camera
        assert node.stop() == 0, node.output


def _send(camera: subprocess.Popen, results: queue.Queue, stamp: int, gray: int, lie: str,
          timeout: float):
    """Have the camera send one frame; return its result (by stamp), None if none came."""
    assert camera.stdin is not None  # started with stdin=PIPE
    camera.stdin.write('%d %d %s\n' % (stamp, gray, lie))
    camera.stdin.flush()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = results.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None
        if msg.header.stamp.sec == stamp:
            return msg
    return None


def _warning(client: scenarios.ScenarioClient, topic: str) -> DiagnosticStatus:
    inbox = client.inbox('/diagnostics', DiagnosticArray, 10)

    def warned(array):
        return any(s.name.endswith(' ' + topic) and s.level == DiagnosticStatus.WARN
                   for s in array.status)
    array = client.wait_for(inbox, warned, scenarios.TIMEOUT_S, 'a warning for ' + topic)
    return next(s for s in array.status if s.name.endswith(' ' + topic))
