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
Node scenarios shared by the process-level tests and the launch_testing tests.

Write a scenario once, run it under both harnesses:

- ``SETUPS`` maps a setup name to a :class:`Setup`: the ROS parameters the node is started with
  (on top of config/classifier.yaml), whether it is the managed (lifecycle) node, and the
  scenarios that run against that node. ``write_params_file``
  writes the merged parameters as one params file: test_node_process.py passes it to the node
  it starts as a subprocess, the launch tests to classify.launch.py as ``params_file``.
- A scenario is a function ``scenario(client)`` taking a :class:`ScenarioClient`: an rclpy node
  of the test's own, spinning in a background thread, that publishes frames and collects what the
  classifier publishes. Scenarios assert with plain ``assert``.

Expected classes are computed independently of the package: frames are uniform, so the fake
engine's class is ``floor(Y * 1000 / 256)`` with Y the luma OpenCV gives for that colour.
"""

from dataclasses import dataclass
import queue
import threading
import time
from typing import Callable, Dict, List, Mapping, Optional

import cv2
from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.srv import ChangeState, GetState
import numpy as np
from rcl_interfaces.msg import Parameter as ParameterMsg, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
import rclpy
from rclpy.client import Client
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import (DurabilityPolicy, qos_profile_sensor_data, QoSProfile,
                       ReliabilityPolicy)
from rclpy.time import Time
from rdk_classifier.catalog import load_labels
from rdk_classifier.paths import package_config_path
from sensor_msgs.msg import CompressedImage, Image
from vision_msgs.msg import Classification, LabelInfo, VisionInfo
import yaml

NODE_NAME = 'rdk_classifier'
NUM_CLASSES = 1000
TIMEOUT_S = 20.0
CAM1 = '/scn/cam1/image_raw'
CAM2 = '/scn/cam2/image_raw'
#: The managed node's camera: its own, so that the other setups' nodes never answer for it.
MANAGED_CAM = '/scn/managed/image_raw'
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
RELIABLE = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)


def luma(gray: int) -> int:
    """Return the Y that OpenCV's BT.601 limited-range conversion gives a gray level."""
    yuv = cv2.cvtColor(np.full((2, 2, 3), gray, np.uint8), cv2.COLOR_BGR2YUV_I420)
    return int(yuv[0, 0])


def expected_class(y: int) -> int:
    """Return the fake engine's class for a uniform frame of luma ``y``."""
    return min(y * NUM_CLASSES // 256, NUM_CLASSES - 1)


def result_topic(image_topic: str) -> str:
    """Return where the node publishes the classifications of ``image_topic``."""
    return image_topic.rpartition('/')[0] + '/classification'


def uniform_frame(encoding: str, gray: int, width: int = 64, height: int = 48):
    """Return (data bytes, step, luma) of a uniform frame of one gray level."""
    y = luma(gray)
    if encoding in ('bgr8', 'rgb8', '8UC3'):
        return bytes([gray]) * (width * height * 3), width * 3, y
    if encoding in ('bgra8', 'rgba8'):
        return bytes([gray, gray, gray, 255]) * (width * height), width * 4, y
    if encoding == 'mono8' or encoding.startswith('bayer_'):  # a gray scene: every filter sees it
        return bytes([gray]) * (width * height), width, y
    if encoding in ('nv12', 'nv21'):
        return bytes([y]) * (width * height) + bytes([128]) * (width * height // 2), width, y
    if encoding in ('yuv422_yuy2', 'yuyv'):
        return bytes([y, 128]) * (width * height), width * 2, y
    if encoding in ('yuv422', 'uyvy'):
        return bytes([128, y]) * (width * height), width * 2, y
    raise ValueError(encoding)


class ScenarioClient:
    """A test node that talks to the classifier over real ROS 2 topics."""

    def __init__(self, context: Optional[Context] = None) -> None:
        self.node = rclpy.create_node('scenario_client', context=context)
        self._executor = SingleThreadedExecutor(context=context)
        self._executor.add_node(self.node)
        self._lock = threading.Lock()
        self._publishers: Dict[tuple, object] = {}
        self._inboxes: Dict[str, queue.Queue] = {}
        self._stamp = 0
        self._thread = threading.Thread(target=self._executor.spin, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop spinning and destroy the test node."""
        self._executor.shutdown()
        self._thread.join(5.0)
        self.node.destroy_node()

    def next_stamp(self):
        """Return a header stamp no other frame of this client uses."""
        with self._lock:
            self._stamp += 1
            stamp = self._stamp
        return Time(seconds=1000 + stamp, nanoseconds=stamp * 1000).to_msg()

    def inbox(self, topic: str, msg_type=Classification, qos=RELIABLE) -> queue.Queue:
        """Subscribe (once) and return the queue of received messages."""
        with self._lock:
            if topic not in self._inboxes:
                inbox: queue.Queue = queue.Queue()
                self.node.create_subscription(msg_type, topic, inbox.put, qos)
                self._inboxes[topic] = inbox
            return self._inboxes[topic]

    def publisher(self, topic: str, msg_type=Image, qos=qos_profile_sensor_data):
        """Return the publisher of this topic, type and QoS (created on first use)."""
        key = (topic, msg_type, qos.reliability)
        with self._lock:
            if key not in self._publishers:
                self._publishers[key] = self.node.create_publisher(msg_type, topic, qos)
            return self._publishers[key]

    def raw_image(self, encoding: str, data: bytes, width: int, height: int, step: int,
                  frame_id: str = 'camera') -> Image:
        """Build a sensor_msgs/Image with a fresh stamp."""
        msg = Image(encoding=encoding, width=width, height=height, step=step, data=data)
        msg.header.stamp = self.next_stamp()
        msg.header.frame_id = frame_id
        return msg

    def classify(self, topic: str, msg, qos=qos_profile_sensor_data,
                 timeout: float = TIMEOUT_S) -> Classification:
        """
        Publish ``msg`` on ``topic`` until its classification arrives; return it.

        Republishing covers discovery and the best-effort QoS of camera topics; the result is
        matched by its header, so repeats and other frames' results are skipped.
        """
        image_topic = topic[:-len('/compressed')] if topic.endswith('/compressed') else topic
        inbox = self.inbox(result_topic(image_topic))
        publisher = self.publisher(topic, type(msg), qos)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            publisher.publish(msg)
            resend_at = time.monotonic() + 0.25
            while time.monotonic() < resend_at:
                try:
                    result = inbox.get(timeout=0.05)
                except queue.Empty:
                    continue
                if result.header == msg.header:
                    return result
        raise AssertionError('no classification of frame %s on %s within %.0f s'
                             % (msg.header.stamp, result_topic(image_topic), timeout))

    def no_classification(self, topic: str, msg, wait: float = 1.5) -> None:
        """Publish ``msg`` a few times and assert that it is never classified."""
        image_topic = topic[:-len('/compressed')] if topic.endswith('/compressed') else topic
        inbox = self.inbox(result_topic(image_topic))
        publisher = self.publisher(topic, type(msg))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            publisher.publish(msg)
            try:
                result = inbox.get(timeout=0.25)
            except queue.Empty:
                continue
            assert result.header != msg.header, 'a malformed frame was classified'

    def set_parameters(self, values: Mapping[str, object]) -> List:
        """Set parameters of the classifier; return the SetParametersResult list."""
        client: Client = self.node.create_client(SetParameters, '/%s/set_parameters' % NODE_NAME)
        try:
            assert client.wait_for_service(timeout_sec=TIMEOUT_S), 'no parameter service'
            request = SetParameters.Request(
                parameters=[ParameterMsg(name=name, value=_parameter_value(value))
                            for name, value in values.items()])
            future = client.call_async(request)
            deadline = time.monotonic() + TIMEOUT_S
            while not future.done() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert future.done(), 'set_parameters timed out'
            response = future.result()
            assert response is not None, 'set_parameters failed: %s' % future.exception()
            return response.results
        finally:
            self.node.destroy_client(client)

    def _call(self, service_type, name: str, request):
        """Call a service of the classifier and return its response."""
        client: Client = self.node.create_client(service_type, '/%s/%s' % (NODE_NAME, name))
        try:
            assert client.wait_for_service(timeout_sec=TIMEOUT_S), 'no %s service' % name
            future = client.call_async(request)
            deadline = time.monotonic() + 2 * TIMEOUT_S  # configure loads the model
            while not future.done() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert future.done(), '%s timed out' % name
            return future.result()
        finally:
            self.node.destroy_client(client)

    def lifecycle_state(self) -> str:
        """Return the label of the managed node's current state."""
        return self._call(GetState, 'get_state', GetState.Request()).current_state.label

    def change_state(self, transition: str) -> bool:
        """Ask the managed node for a transition by label; return whether it succeeded."""
        request = ChangeState.Request()
        request.transition.label = transition
        return self._call(ChangeState, 'change_state', request).success

    @staticmethod
    def wait_for_condition(condition: Callable[[], bool], what: str,
                           timeout: float = TIMEOUT_S) -> None:
        """Wait until ``condition()`` holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, 'not within %.0f s: %s' % (timeout, what)
            time.sleep(0.05)

    def wait_for(self, inbox: queue.Queue, predicate: Callable, timeout: float = TIMEOUT_S,
                 what: str = 'message'):
        """Return the first message in ``inbox`` that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            if predicate(msg):
                return msg
        raise AssertionError('no %s within %.0f s' % (what, timeout))

    def diagnostic_value(self, camera_topic: str, key: str, predicate: Callable[[str], bool],
                         timeout: float = TIMEOUT_S) -> str:
        """Wait for a /diagnostics status of ``camera_topic`` whose ``key`` satisfies predicate."""
        inbox = self.inbox('/diagnostics', DiagnosticArray, 10)

        def matches(array):
            for status in array.status:
                if status.name.endswith(' ' + camera_topic):
                    values = {kv.key: kv.value for kv in status.values}
                    if key in values and predicate(values[key]):
                        return True
            return False
        array = self.wait_for(inbox, matches, timeout,
                              '%s %s in /diagnostics' % (camera_topic, key))
        return next(kv.value for s in array.status if s.name.endswith(' ' + camera_topic)
                    for kv in s.values if kv.key == key)


def _parameter_value(value) -> ParameterValue:
    if isinstance(value, bool):
        return ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=value)
    if isinstance(value, int):
        return ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=value)
    if isinstance(value, float):
        return ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=value)
    return ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=str(value))


# Scenarios ---------------------------------------------------------------------------------

RAW_ENCODINGS = ('bgr8', 'rgb8', 'bgra8', 'mono8', 'nv12', 'yuyv', 'uyvy', 'bayer_rggb8', '8UC3')


def classes_and_headers_per_encoding(client: ScenarioClient) -> None:
    """Every camera encoding is classified, with the frame's header copied."""
    for index, encoding in enumerate(RAW_ENCODINGS):
        gray = 40 + 25 * index
        data, step, y = uniform_frame(encoding, gray)
        msg = client.raw_image(encoding, data, 64, 48, step, frame_id='cam_' + encoding)
        result = client.classify(CAM1, msg)
        assert result.header.frame_id == 'cam_' + encoding
        assert result.header.stamp == msg.header.stamp
        assert result.results[0].class_id == str(expected_class(y)), (encoding, result.results)


def top_k_sorted_softmax(client: ScenarioClient) -> None:
    """Results are the top_k classes, sorted, with softmax scores in [0, 1]."""
    data, step, y = uniform_frame('bgr8', 120)
    result = client.classify(CAM1, client.raw_image('bgr8', data, 64, 48, step))
    scores = [r.score for r in result.results]
    assert len(result.results) == 3
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    # The fake engine's logits fall by 1 per class away from the winner.
    assert {r.class_id for r in result.results[1:]} == {str(expected_class(y) - 1),
                                                        str(expected_class(y) + 1)}


def reliable_publisher_heard(client: ScenarioClient) -> None:
    """Hear a reliable publisher as well as the best-effort ones of the other scenarios."""
    data, step, y = uniform_frame('bgr8', 90)
    result = client.classify(CAM1, client.raw_image('bgr8', data, 64, 48, step), qos=RELIABLE)
    assert result.results[0].class_id == str(expected_class(y))


def label_info_latched(client: ScenarioClient) -> None:
    """Give a late subscriber the label map (transient local)."""
    inbox = client.inbox(CAM1.rpartition('/')[0] + '/label_info', LabelInfo, LATCHED)
    info = client.wait_for(inbox, lambda msg: True, what='LabelInfo')
    assert len(info.class_map) == NUM_CLASSES
    assert (info.class_map[0].class_id, info.class_map[0].class_name) == (0, 'tench')
    assert info.class_map[999].class_name == 'toilet tissue'
    vision = client.wait_for(
        client.inbox(CAM1.rpartition('/')[0] + '/vision_info', VisionInfo, LATCHED),
        lambda msg: True, what='VisionInfo')
    assert vision.method == 'RepViT_m0_9' and vision.database_version >= 1


def overlay_image(client: ScenarioClient) -> None:
    """Publish the annotated model input while publish_overlay is set and someone watches."""
    gray = 180
    data, step, _ = uniform_frame('bgr8', gray)
    overlays = client.inbox(CAM1.rpartition('/')[0] + '/classification_overlay', Image)
    try:
        assert client.set_parameters({'publish_overlay': True})[0].successful
        sent = set()
        deadline = time.monotonic() + TIMEOUT_S
        overlay = None
        while overlay is None and time.monotonic() < deadline:
            msg = client.raw_image('bgr8', data, 64, 48, step)
            sent.add((msg.header.stamp.sec, msg.header.stamp.nanosec))
            client.publisher(CAM1).publish(msg)
            try:
                candidate = overlays.get(timeout=0.2)
            except queue.Empty:
                continue
            if (candidate.header.stamp.sec, candidate.header.stamp.nanosec) in sent:
                overlay = candidate
        assert overlay is not None, 'no overlay image'
        assert (overlay.encoding, overlay.width, overlay.height) == ('bgr8', 224, 224)
        pixels = np.frombuffer(bytes(overlay.data), np.uint8)
        # The model input of a uniform frame, under a few lines of text.
        assert abs(int(np.median(pixels)) - gray) <= 3
        assert pixels.max() > gray + 20 or pixels.min() < gray - 20, 'no annotation drawn'
    finally:
        client.set_parameters({'publish_overlay': False})


def dynamic_parameters(client: ScenarioClient) -> None:
    """top_k, score_threshold and class_id_mode change at run time; bad values are rejected."""
    data, step, y = uniform_frame('bgr8', 200)
    try:
        results = client.set_parameters({'top_k': 2})
        assert results[0].successful, results[0].reason
        result = client.classify(CAM1, client.raw_image('bgr8', data, 64, 48, step))
        assert len(result.results) == 2

        # The winner scores about 0.46 and its neighbours about 0.17.
        assert client.set_parameters({'score_threshold': 0.3})[0].successful
        result = client.classify(CAM1, client.raw_image('bgr8', data, 64, 48, step))
        assert [r.class_id for r in result.results] == [str(expected_class(y))]

        assert client.set_parameters({'class_id_mode': 'name'})[0].successful
        result = client.classify(CAM1, client.raw_image('bgr8', data, 64, 48, step))
        assert result.results[0].class_id == load_labels('')[expected_class(y)]

        for bad in ({'top_k': 0}, {'score_threshold': 1.5}, {'class_id_mode': 'label'},
                    {'threads': 8}, {'labels': '/nonexistent/labels.txt'}):
            outcome = client.set_parameters(bad)[0]
            assert not outcome.successful, bad
            assert outcome.reason, bad
    finally:
        client.set_parameters({'top_k': 3, 'score_threshold': 0.0, 'class_id_mode': 'index'})


def multi_camera(client: ScenarioClient) -> None:
    """Each camera's frames are classified on that camera's own topic."""
    frames = {}
    for camera, gray in ((CAM1, 30), (CAM2, 220)):
        data, step, y = uniform_frame('bgr8', gray)
        frames[camera] = (client.raw_image('bgr8', data, 64, 48, step, frame_id=camera), y)
    for camera, (msg, y) in frames.items():
        result = client.classify(camera, msg)
        assert result.header.frame_id == camera
        assert result.results[0].class_id == str(expected_class(y))


def malformed_frames_dropped(client: ScenarioClient) -> None:
    """Malformed frames are dropped and counted; the next good frame is classified."""
    data, step, y = uniform_frame('bgr8', 150)
    bad_frames = [
        client.raw_image('bgr9', data, 64, 48, step),             # unknown encoding
        client.raw_image('bgr8', data[:1000], 64, 48, step),       # shorter than height*step
        client.raw_image('bgr8', b'', 0, 0, 0),                    # zero size
    ]
    for msg in bad_frames:
        client.no_classification(CAM2, msg, wait=0.8)
    client.diagnostic_value(CAM2, 'dropped_bad', lambda v: int(v) >= len(bad_frames))
    result = client.classify(CAM2, client.raw_image('bgr8', data, 64, 48, step))
    assert result.results[0].class_id == str(expected_class(y))


def compressed_input(client: ScenarioClient) -> None:
    """JPEG and PNG frames on <topic>/compressed are classified; corrupt ones are dropped."""
    for index, (fmt, ext) in enumerate((('bgr8; jpeg compressed bgr8', '.jpg'),
                                        ('png', '.png'))):
        gray = 60 + 100 * index
        ok, encoded = cv2.imencode(ext, np.full((48, 64, 3), gray, np.uint8))
        assert ok
        msg = CompressedImage(format=fmt, data=encoded.tobytes())
        msg.header.stamp = client.next_stamp()
        result = client.classify(CAM1 + '/compressed', msg)
        # JPEG may move a uniform gray by a level: accept the neighbouring classes.
        expected = expected_class(luma(gray))
        assert abs(int(result.results[0].class_id) - expected) <= 4, (fmt, result.results)
    corrupt = CompressedImage(format='jpeg', data=b'\xff\xd8\xff' + b'\x00' * 64)
    corrupt.header.stamp = client.next_stamp()
    client.no_classification(CAM1 + '/compressed', corrupt, wait=0.8)
    client.diagnostic_value(CAM1 + '/compressed', 'dropped_bad', lambda v: int(v) >= 1)


def lifecycle_transitions(client: ScenarioClient) -> None:
    """Classify only while the managed node is active, through every transition."""
    def frame(gray: int = 90):
        data, step, y = uniform_frame('bgr8', gray)
        return client.raw_image('bgr8', data, 64, 48, step), y

    assert client.lifecycle_state() == 'unconfigured'
    client.no_classification(MANAGED_CAM, frame()[0], wait=1.0)
    assert client.change_state('configure')
    assert client.lifecycle_state() == 'inactive'
    client.no_classification(MANAGED_CAM, frame()[0], wait=1.0)
    for _ in range(2):  # activate again after a deactivation
        assert client.change_state('activate')
        assert client.lifecycle_state() == 'active'
        msg, y = frame(120)
        result = client.classify(MANAGED_CAM, msg)
        assert result.results[0].class_id == str(expected_class(y))
        assert client.change_state('deactivate')
        assert client.lifecycle_state() == 'inactive'
        client.no_classification(MANAGED_CAM, frame()[0], wait=1.0)
    assert client.change_state('cleanup')
    assert client.lifecycle_state() == 'unconfigured'
    client.no_classification(MANAGED_CAM, frame()[0], wait=1.0)
    assert not client.change_state('activate'), 'an unconfigured node cannot activate'
    # Configured again after a cleanup: the workers start anew.
    assert client.change_state('configure') and client.change_state('activate')
    msg, y = frame(200)
    assert client.classify(MANAGED_CAM, msg).results[0].class_id == str(expected_class(y))
    assert client.change_state('deactivate') and client.change_state('cleanup')


BASE = {'engine': 'fake', 'model': 'RepViT_m0_9', 'threads': 2, 'top_k': 3,
        'image_topics': [CAM1, CAM2]}


@dataclass(frozen=True)
class Setup:
    """A node configuration and the scenarios run against it."""

    params: dict
    scenarios: List[Callable[[ScenarioClient], None]]
    #: Run the managed (lifecycle) node, left unconfigured for the scenarios to drive.
    managed: bool = False

    @property
    def ready_line(self) -> str:
        """Return what the node prints once it is ready for the scenarios."""
        return 'unconfigured' if self.managed else 'classifying'

    @property
    def launch_arguments(self) -> Dict[str, str]:
        """Return the classify.launch.py arguments besides params_file."""
        return {'lifecycle': 'true', 'autostart': 'false'} if self.managed else {}


SETUPS = {
    # Raw named, not found (auto): a test client may still have a <topic>/compressed publisher
    # of an earlier test, which auto would take (its own cases are in test_camera_input.py).
    'raw': Setup(dict(BASE, image_transport='raw'),
                 [classes_and_headers_per_encoding, top_k_sorted_softmax,
                  reliable_publisher_heard, label_info_latched, overlay_image,
                  dynamic_parameters, multi_camera, malformed_frames_dropped]),
    'compressed': Setup(dict(BASE, image_transport='compressed', threads=1), [compressed_input]),
    'lifecycle': Setup(dict(BASE, threads=1, image_topics=[MANAGED_CAM]), [lifecycle_transitions],
                       managed=True),
}


def write_params_file(setup: str, path: str) -> str:
    """Write config/classifier.yaml with the parameters of ``setup`` over it; return the path."""
    with open(package_config_path('classifier.yaml'), encoding='utf-8') as stream:
        defaults = yaml.safe_load(stream)['/**']['ros__parameters']
    with open(path, 'w', encoding='utf-8') as stream:
        yaml.safe_dump({'/**': {'ros__parameters': dict(defaults, **SETUPS[setup].params)}},
                       stream)
    return path
