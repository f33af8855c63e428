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
PerceptionTargets from the running node, frame by frame beside its Classification.

The node runs as a subprocess, as in test_node_process.py. Where ai_msgs is importable, every
Classification has a PerceptionTargets with the same header and classes. Where it is not,
simulated here by hiding ai_msgs from the node's interpreter (so this runs everywhere), the
node starts and classifies unchanged, without the topic.
"""

import queue
import subprocess
import sys
import threading
import time
from typing import Dict, List

import cv2
import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rdk_classifier.catalog import load_labels
from rdk_classifier.paths import package_config_path
from rdk_classifier.programs.demo import BUNDLED
import scenarios
from sensor_msgs.msg import CompressedImage
from vision_msgs.msg import Classification
import yaml

pytestmark = pytest.mark.ros

CAMERA = '/perception_test/cam/image_raw'
RESULTS = '/perception_test/cam/classification'
TARGETS = '/perception_test/cam/perception_targets'
MODEL = 'RepViT_m0_9'
#: Frames of this size: the roi is in source pixels, not the model's.
WIDTH, HEIGHT = 320, 240
#: Enough to see every frame through: reliable topics, a published frame per answer.
DEPTH = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
#: Run before the node's main: ai_msgs cannot be imported, as where it is not installed.
HIDE_AI_MSGS = """
import importlib.abc, sys
class HideAiMsgs(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] == 'ai_msgs':
            raise ModuleNotFoundError('No module named %r' % name, name=name)
sys.meta_path.insert(0, HideAiMsgs())
from rdk_classifier.ros.main import main
sys.exit(main())
"""


class Node:
    """The classifier as a subprocess (with ``hide_ai_msgs``, an interpreter without ai_msgs)."""

    def __init__(self, params_file: str, hide_ai_msgs: bool) -> None:
        entry = ['-c', HIDE_AI_MSGS] if hide_ai_msgs else ['-m', 'rdk_classifier.ros.main']
        self.process = subprocess.Popen(
            [sys.executable] + entry + ['--ros-args', '--params-file', params_file],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: List[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip('\n'))

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60.0
        while not any('classifying' in line for line in self.lines):
            assert self.process.poll() is None, 'node exited:\n' + '\n'.join(self.lines)
            assert time.monotonic() < deadline, 'node not ready:\n' + '\n'.join(self.lines)
            time.sleep(0.05)

    def stop(self) -> int:
        self.process.send_signal(2)
        try:
            return self.process.wait(20.0)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def params_file(path, **overrides) -> str:
    """Write config/classifier.yaml with this test's parameters over it; return the path."""
    with open(package_config_path('classifier.yaml'), encoding='utf-8') as stream:
        params = yaml.safe_load(stream)['/**']['ros__parameters']
    params.update({'engine': 'fake', 'model': MODEL, 'threads': 2, 'top_k': 3,
                   'image_topics': [CAMERA]}, **overrides)
    with open(path, 'w', encoding='utf-8') as stream:
        yaml.safe_dump({'/**': {'ros__parameters': params}}, stream)
    return str(path)


def frame(client, index: int, transport: str = 'raw'):
    """Return a frame with a gray of its own, stamped now (a camera's stamp)."""
    gray = 20 + 9 * index % 200
    if transport == 'compressed':
        _, jpeg = cv2.imencode('.jpg', np.full((HEIGHT, WIDTH, 3), gray, np.uint8))
        msg = CompressedImage(format='jpeg', data=jpeg.tobytes())
    else:
        data, step, _ = scenarios.uniform_frame('nv12', gray, WIDTH, HEIGHT)
        msg = client.raw_image('nv12', data, WIDTH, HEIGHT, step)
    msg.header.stamp = client.node.get_clock().now().to_msg()
    return msg


def source(transport: str) -> str:
    """Return the topic the node reads for ``transport``."""
    return CAMERA + '/compressed' if transport == 'compressed' else CAMERA


def warm_up(client, inboxes: List[queue.Queue], transport: str = 'raw') -> None:
    """
    Send frames until one comes back on every inbox, then empty them.

    Until then the node's subscription or our subscriptions may not be matched yet (discovery),
    and frames or results would be lost in between.
    """
    deadline = time.monotonic() + scenarios.TIMEOUT_S
    while True:
        assert time.monotonic() < deadline, 'no frame made it through the node'
        msg = frame(client, 0, transport)
        publisher = client.publisher(source(transport), type(msg), DEPTH)
        publisher.publish(msg)
        time.sleep(0.25)
        if in_every_inbox(msg.header, inboxes):
            break
    for inbox in inboxes:
        while not inbox.empty():
            inbox.get()


def send_frames(client, count: int, inboxes: List[queue.Queue],
                transport: str = 'raw') -> List:
    """
    Publish ``count`` frames of different grays, each once the last is in every inbox.

    One at a time: a frame sent sooner could replace the last in the node's slot, or be
    classified first by the other worker and make the last one stale. Return their headers.
    """
    headers = []
    for index in range(1, count + 1):
        msg = frame(client, index, transport)
        client.publisher(source(transport), type(msg), DEPTH).publish(msg)
        headers.append(msg.header)
        client.wait_for_condition(lambda: in_every_inbox(msg.header, inboxes),
                                  'the messages of frame %d' % index)
        time.sleep(0.1)  # at most 10 frames a second, for the rate in PerceptionTargets.fps
    return headers


def stamp_of(header) -> tuple:
    """Return a header's stamp as a (sec, nanosec) key."""
    return header.stamp.sec, header.stamp.nanosec


def received_stamps(inbox: queue.Queue) -> set:
    """Return the header stamps of the messages received so far."""
    return {stamp_of(msg.header) for msg in list(inbox.queue)}


def in_every_inbox(header, inboxes: List[queue.Queue]) -> bool:
    """Return whether every inbox received a message of this header's frame."""
    return all(stamp_of(header) in received_stamps(inbox) for inbox in inboxes)


def stamps_since_first(results: queue.Queue, targets: queue.Queue) -> set:
    """Return the stamps of the Classifications from the first PerceptionTargets' frame on."""
    target_stamps = received_stamps(targets)
    if not target_stamps:
        return set()
    first = min(target_stamps)
    return {stamp for stamp in received_stamps(results) if stamp >= first}


def by_stamp(inbox: queue.Queue) -> Dict:
    """Return the messages received so far by their header stamps."""
    return {stamp_of(msg.header): msg for msg in list(inbox.queue)}


@pytest.mark.parametrize('transport', ['raw', 'compressed'])
def test_perception_targets_match_the_classification_frame_by_frame(transport, client,
                                                                    tmp_path):
    ai_msgs = pytest.importorskip('ai_msgs.msg', reason='ai_msgs is not installed '
                                  '(tools/install_ros_sources.sh builds it)')
    node = Node(params_file(tmp_path / 'params.yaml', image_transport=transport),
                hide_ai_msgs=False)
    try:
        node.wait_ready()
        results = client.inbox(RESULTS, Classification, DEPTH)
        targets = client.inbox(TARGETS, ai_msgs.PerceptionTargets, DEPTH)
        warm_up(client, [results, targets], transport)
        headers = send_frames(client, 12, [results, targets], transport)
        classifications, perceptions = by_stamp(results), by_stamp(targets)
    finally:
        assert node.stop() == 0, '\n'.join(node.lines)
    labels = load_labels('')
    for header in headers:
        stamp = stamp_of(header)
        classification, perception = classifications[stamp], perceptions[stamp]
        assert perception.header == header == classification.header
        assert [t.type for t in perception.targets] == [
            labels[int(r.class_id)] for r in classification.results]
        scores = [r.score for r in classification.results]
        assert [t.attributes[0].value for t in perception.targets] == pytest.approx(scores)
        roi = perception.targets[0].rois[0]
        assert (roi.rect.x_offset, roi.rect.y_offset, roi.rect.width, roi.rect.height) == (
            0, 0, WIDTH, HEIGHT)
        assert roi.confidence == pytest.approx(scores[0])
        names = {perf.type for perf in perception.perfs}
        assert {MODEL + '_preprocess', MODEL + '_predict_infer',
                MODEL + '_postprocess', MODEL + '_pipeline'} == names
        assert all(perf.time_ms_duration >= 0 for perf in perception.perfs)
    # The classification rate: at most 10 frames per second were sent.
    assert 0 < perceptions[stamp_of(headers[-1])].fps <= 30


@pytest.mark.parametrize('hide_ai_msgs, publish', [(True, True), (False, False)],
                         ids=['without-ai_msgs', 'parameter-off'])
def test_no_perception_targets_and_the_node_unchanged(hide_ai_msgs, publish, client, tmp_path):
    if not hide_ai_msgs:
        pytest.importorskip('ai_msgs.msg', reason='ai_msgs is not installed: the parameter '
                            'has nothing to turn off (without-ai_msgs covers the node)')
    node = Node(params_file(tmp_path / 'params.yaml', publish_perception_targets=publish),
                hide_ai_msgs)
    try:
        node.wait_ready()
        results = client.inbox(RESULTS, Classification, DEPTH)
        warm_up(client, [results])
        send_frames(client, 3, [results])
        classifications = by_stamp(results)
        # The node's endpoints are all known by now (its results arrived); a node of an
        # earlier test may take a moment to leave the graph.
        client.wait_for_condition(
            lambda: client.node.count_publishers(RESULTS) == 1
            and client.node.count_publishers(TARGETS) == 0, 'no PerceptionTargets publisher')
    finally:
        code = node.stop()
    assert code == 0, '\n'.join(node.lines)
    assert len(classifications) == 3
    assert not [line for line in node.lines if 'ai_msgs' in line or 'Traceback' in line]
    assert np.isfinite([r.score for c in classifications.values() for r in c.results]).all()


HBM_CAMERA = '/perception_test/hbm/hbmem_img'
HBM_RESULTS = '/perception_test/hbm/classification'
HBM_TARGETS = '/perception_test/hbm/perception_targets'


#: Publishes HbmMsg1080P frames whose fields lie (ros/hbm.py refuses each) on argv[1], through
#: the large-frames profile as hbm_camera_sim does (6.2 MB frames are lost over Fast DDS's
#: default 512 KB segment), round after round until its stdin closes: best-effort frames of
#: 6.2 MB may still be lost on a busy machine. Prints each lie's stamp, 'sec nanosec' per line.
LIAR = """
import select, sys, time
from rdk_classifier.paths import LARGE_FRAMES_PROFILE, package_config_path
from rdk_classifier.programs.hbm_camera_sim import use_shared_memory_environment
use_shared_memory_environment(str(package_config_path(LARGE_FRAMES_PROFILE)))
import numpy as np, rclpy
from hbm_img_msgs.msg import HbmMsg1080P
from rclpy.qos import qos_profile_sensor_data
rclpy.init()
node = rclpy.create_node('hbm_liar')
publisher = node.create_publisher(HbmMsg1080P, sys.argv[1], qos_profile_sensor_data)
LIES = [dict(data_size=6220802), dict(data_size=100), dict(step=32), dict(width=63, step=63),
        dict(height=47), dict(encoding=b'bgr8')]
while not select.select([sys.stdin], [], [], 0.1)[0]:
    if publisher.get_subscription_count() == 0:
        continue
    for lie in LIES:
        lie = dict(lie)
        msg = HbmMsg1080P(width=64, height=48, step=64, data_size=64 * 48 * 3 // 2)
        msg.encoding[:4] = np.frombuffer(lie.pop('encoding', b'nv12'), np.uint8)
        for name, value in lie.items():
            setattr(msg, name, value)
        msg.time_stamp = node.get_clock().now().to_msg()
        publisher.publish(msg)
        print(msg.time_stamp.sec, msg.time_stamp.nanosec, flush=True)
        time.sleep(0.1)
node.destroy_node()
rclpy.shutdown()
"""


def test_hbmem_frames_from_the_simulated_mipi_cam(client, tmp_path):
    ai_msgs = pytest.importorskip('ai_msgs.msg', reason='ai_msgs is not installed '
                                  '(tools/install_ros_sources.sh builds it)')
    pytest.importorskip('hbm_img_msgs.msg', reason='hbm_img_msgs is not installed '
                        '(tools/install_ros_sources.sh builds it)')
    node = Node(params_file(tmp_path / 'params.yaml', image_transport='hbmem',
                            image_topics=[HBM_CAMERA], hbmem_frame_id='camera_optical'),
                hide_ai_msgs=False)
    camera = None
    try:
        node.wait_ready()
        results = client.inbox(HBM_RESULTS, Classification, DEPTH)
        targets = client.inbox(HBM_TARGETS, ai_msgs.PerceptionTargets, DEPTH)
        for inbox in (results, targets):  # an earlier run's messages (pytest --count)
            inbox.queue.clear()
        camera = subprocess.Popen(
            [sys.executable, '-m', 'rdk_classifier.programs.hbm_camera_sim', '--topic',
             HBM_CAMERA, '--rate', '10', '--images', str(BUNDLED)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        client.wait_for_condition(lambda: results.qsize() >= 12 and targets.qsize() >= 12,
                                  '12 results of 1920x1080 hbmem frames')
        camera.send_signal(2)
        assert camera.wait(10.0) == 0, camera.communicate()[0]
        # A frame's Classification and PerceptionTargets are published one after the other,
        # once the node has seen the subscriber (it looks once a second: earlier frames may
        # have a Classification only).
        client.wait_for_condition(
            lambda: stamps_since_first(results, targets) == received_stamps(targets),
            'a PerceptionTargets for each Classification since the first')
        classifications, perceptions = by_stamp(results), by_stamp(targets)
        paired = stamps_since_first(results, targets)
        liar = subprocess.Popen([sys.executable, '-c', LIAR, HBM_CAMERA], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            client.diagnostic_value(HBM_CAMERA, 'dropped_bad', lambda v: int(v) >= 6)
        finally:
            out, err = liar.communicate('stop', timeout=60)
        assert liar.returncode == 0, err
        lie_stamps = {tuple(int(n) for n in line.split()) for line in out.split('\n') if line}
        assert len(lie_stamps) >= 6
    finally:
        if camera is not None and camera.poll() is None:
            camera.kill()
        assert node.stop() == 0, '\n'.join(node.lines)
    assert paired == set(perceptions)  # frame by frame, nothing unpaired
    for stamp, perception in perceptions.items():
        classification = classifications[stamp]
        assert perception.header == classification.header
        assert perception.header.frame_id == 'camera_optical'
        assert [t.attributes[0].value for t in perception.targets] == pytest.approx(
            [r.score for r in classification.results])
        rect = perception.targets[0].rois[0].rect
        assert (rect.x_offset, rect.y_offset, rect.width, rect.height) == (0, 0, 1920, 1080)
    late = received_stamps(results)
    assert not lie_stamps & (late | set(classifications)), 'a lying frame was classified'
