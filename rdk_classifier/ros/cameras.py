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
The camera side of the node: finding each camera's type, subscriptions, frames, frame health.

Transports (``image_transport``): ``raw`` (sensor_msgs/Image on the topic), ``compressed``
(sensor_msgs/CompressedImage on ``<topic>/compressed``), ``hbmem`` (the RDK's shared-memory
frames, hbm_img_msgs/HbmMsg480P, 540P or 1080P on the topic) and ``auto``, which takes the type
of the topic's publishers from the graph: Image, CompressedImage on the topic itself (as
hobot_usb_cam publishes MJPEG on /image) or on ``<topic>/compressed``, or an hbm_img_msgs type.
A camera whose type is not known yet (auto, hbmem) is looked up again at every health check
(once a second) until a publisher appears; a topic of any other type gets one line saying so.

Each subscription is ``raw``: its callback gets rclpy's serialized bytes and reads the small
fields in place (rdk_classifier.ros.cdr), so the pixels reach the pipeline as a view of that
buffer, never as Python objects. Each gets its own QoS profile object: rclpy applies
``qos_overrides.<topic>.subscription.*`` by editing the profile it is given, so a shared one
would carry one camera's override to the others.

Threading: everything here runs on the executor thread. A frame callback only reads the
message's fields, wraps them in a pipeline :class:`Frame` (no copy), submits it and lets the
pipeline's dispatcher thread have the GIL before the executor goes on;
:func:`frame_health` runs once a second from the diagnostics timer, so graph queries stay off
the per-frame path.
"""

from dataclasses import dataclass
import time
from typing import Any, Callable, Optional, Tuple

from rclpy.node import Node
from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSPolicyKind, QoSProfile,
                       ReliabilityPolicy)
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.subscription import Subscription
from rdk_classifier.errors import ConfigError
from rdk_classifier.inference.frames import FrameError
from rdk_classifier.inference.pipeline import Frame, InferencePipeline
from rdk_classifier.paths import LARGE_FRAMES_PROFILE, package_config_path
from rdk_classifier.ros import cdr, hbm
from rdk_classifier.ros.outputs import CameraOutputs
from sensor_msgs.msg import CompressedImage, Image

try:  # rclpy >= Iron
    from rclpy.event_handler import SubscriptionEventCallbacks
except ImportError:  # Humble
    from rclpy.qos_event import SubscriptionEventCallbacks

#: Seconds a matched publisher may go without delivering any frame before the warning.
NO_FRAMES_WARN_S = 3.0
#: Frames at most this big pass Fast DDS's shared-memory segment whole (512 KB, less headers).
SEGMENT_SAFE_BYTES = 500 * 1024
IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED = 'sensor_msgs/msg/CompressedImage'
ACCEPTED = ('sensor_msgs/msg/Image, sensor_msgs/msg/CompressedImage (on the topic or on '
            '<topic>/compressed) or hbm_img_msgs/msg/HbmMsg480P, 540P or 1080P')


@dataclass(frozen=True)
class Source:
    """Where a camera's frames come from: the subscribed topic and its message type."""

    topic: str
    type_name: str


@dataclass(frozen=True)
class Wiring:
    """What a camera's frames are handed to, set at activation."""

    #: Counts every frame, malformed ones too (reject); paused while the node is disabled.
    pipeline: InferencePipeline


@dataclass
class Camera:
    """One camera topic: its transport and source, where its results go, its health."""

    #: As configured (image_topics); the pipeline's camera name.
    topic: str
    #: ``topic`` resolved in the node's namespace, for logs and diagnostics.
    resolved: str
    transport: str
    outputs: CameraOutputs
    #: The results' frame_id for hbm_img_msgs frames (they carry none).
    hbmem_frame_id: str = 'camera'
    #: Known at creation for raw and compressed; found on the graph for auto and hbmem.
    source: Optional[Source] = None
    wiring: Optional[Wiring] = None
    subscription: Optional[Subscription] = None
    #: Why no source was found (a topic of another type), '' while simply waiting.
    unusable: str = ''
    #: A publisher offered QoS this subscription cannot match (the last policy's name).
    incompatible_policy: str = ''
    #: When the current matched publishers were first seen.
    matched_since: Optional[float] = None
    #: Frames received while no publisher was seen: later frames came from matched ones.
    received_before_match: int = 0
    #: The largest serialized frame seen, in bytes.
    largest_frame: int = 0
    warned_no_frames: bool = False

    @property
    def source_resolved(self) -> str:
        """Return the subscribed topic, resolved (the camera topic until a source is known)."""
        if self.source is None or self.source.topic == self.topic:
            return self.resolved
        return self.resolved.rstrip('/') + self.source.topic[len(self.topic):]


def check_transport(transport: str) -> None:
    """Raise ConfigError (one line naming the package) for hbmem without hbm_img_msgs."""
    if transport == 'hbmem':
        try:
            hbm.message_types()
        except hbm.HbmUnavailable as exc:
            raise ConfigError(str(exc)) from None


def create_camera(node: Node, topic: str, transport: str, hbmem_frame_id: str,
                  outputs: CameraOutputs) -> Camera:
    """Return the camera of ``topic``; its source is known now for raw and compressed."""
    camera = Camera(topic, node.resolve_topic_name(topic), transport, outputs, hbmem_frame_id)
    if transport == 'raw':
        camera.source = Source(topic, IMAGE)
    elif transport == 'compressed':
        camera.source = Source(topic.rstrip('/') + '/compressed', COMPRESSED)
    return camera


def subscribe(node: Node, camera: Camera, wiring: Wiring) -> None:
    """Subscribe ``camera`` now if its source is known, else once it is found on the graph."""
    camera.wiring = wiring
    camera.matched_since, camera.warned_no_frames = None, False
    camera.incompatible_policy = ''
    camera.received_before_match = (
        wiring.pipeline.snapshot().cameras[camera.topic].counts.received)
    if camera.transport in ('auto', 'hbmem'):
        camera.source = None  # the publisher may have changed while inactive
        _find_source(node, camera)
    if camera.source is not None:
        _subscribe(node, camera, camera.source, wiring)


def unsubscribe(node: Node, camera: Camera) -> None:
    """Destroy the camera's subscription, if any, and stop looking for its source."""
    camera.wiring = None
    if camera.subscription is not None:
        node.destroy_subscription(camera.subscription)
        camera.subscription = None


def sensor_qos() -> QoSProfile:
    """Return a new sensor-data profile (best effort, keep last 5): one per subscription."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5,
                      reliability=ReliabilityPolicy.BEST_EFFORT,
                      durability=DurabilityPolicy.VOLATILE)


def _publisher_types(node: Node, topic: str) -> set:
    return {info.topic_type for info in node.get_publishers_info_by_topic(topic)}


def _find_source(node: Node, camera: Camera) -> None:
    """Look the camera's type up on the graph; set its source, or why it has none."""
    types = _publisher_types(node, camera.resolved)
    found: Optional[str] = None
    topic = camera.topic
    if camera.transport == 'auto':
        found = next((t for t in (IMAGE, COMPRESSED) + hbm.HBM_TYPE_NAMES if t in types), None)
        if found is None:
            compressed = camera.resolved.rstrip('/') + '/compressed'
            if COMPRESSED in _publisher_types(node, compressed):
                found, topic = COMPRESSED, camera.topic.rstrip('/') + '/compressed'
    else:  # hbmem
        found = next((t for t in hbm.HBM_TYPE_NAMES if t in types), None)
    unusable = ''
    if found is None and types:
        wanted = ACCEPTED if camera.transport == 'auto' else 'hbm_img_msgs/msg/HbmMsg*'
        unusable = ('camera topic %s carries %s, which image_transport %s cannot read: it '
                    'takes %s' % (camera.resolved, ', '.join(sorted(types)), camera.transport,
                                  wanted))
    elif found in hbm.HBM_TYPE_NAMES:
        try:
            hbm.message_types()
        except hbm.HbmUnavailable as exc:
            found, unusable = None, 'camera topic %s carries %s: %s' % (
                camera.resolved, types & set(hbm.HBM_TYPE_NAMES), exc)
    if unusable and unusable != camera.unusable:
        node.get_logger().error(unusable)
    camera.unusable = unusable
    if found is not None:
        camera.source = Source(topic, found)


def _subscribe(node: Node, camera: Camera, source: Source, wiring: Wiring) -> None:
    read: Callable[[str, bytes], Frame]
    if source.type_name == IMAGE:
        msg_type: Any = Image
        read = _image_frame
    elif source.type_name == COMPRESSED:
        msg_type, read = CompressedImage, _compressed_frame
    else:
        msg_type = hbm.message_types()[source.type_name]
        read = _hbm_frame(cdr.hbm_reader(msg_type.MAX_SIZE), camera.hbmem_frame_id)
    camera.subscription = node.create_subscription(
        msg_type, source.topic, _frame_callback(camera, read, wiring), sensor_qos(),
        qos_overriding_options=QoSOverridingOptions.with_default_policies(),
        event_callbacks=SubscriptionEventCallbacks(
            incompatible_qos=_incompatible_qos_callback(node, camera)),
        raw=True)
    node.get_logger().info('%s: %s on %s' % (camera.resolved, source.type_name,
                                             camera.source_resolved))


def _image_frame(camera: str, buffer: bytes) -> Frame:
    image = cdr.read_image(buffer)
    return Frame(camera, image.data, image.encoding, image.width, image.height, image.step,
                 token=image.header)


def _compressed_frame(camera: str, buffer: bytes) -> Frame:
    compressed = cdr.read_compressed(buffer)
    return Frame(camera, compressed.data, compressed.fmt, compressed=True,
                 token=compressed.header)


def _hbm_frame(read: Callable[[bytes], cdr.HbmFields],
               frame_id: str) -> Callable[[str, bytes], Frame]:
    def hbm_frame(camera: str, buffer: bytes) -> Frame:
        return hbm.nv12_frame(read(buffer), camera, frame_id)
    return hbm_frame


def _frame_callback(camera: Camera, read: Callable[[str, bytes], Frame],
                    wiring: Wiring) -> Callable[[bytes], None]:
    topic = camera.topic
    submit, reject = wiring.pipeline.submit, wiring.pipeline.reject

    def on_frame(buffer: bytes) -> None:
        if len(buffer) > camera.largest_frame:
            camera.largest_frame = len(buffer)
        try:
            frame = read(topic, buffer)
        except FrameError as exc:
            reject(topic, str(exc))
            return
        submit(frame)
        # Hand the GIL to the pipeline's dispatcher if it waits for it. Otherwise a busy
        # executor keeps it until the interpreter's 5 ms switch interval, after each of the
        # dispatcher's system calls: the SingleThreadedExecutor's ceiling was 509-1071 results
        # a second without this and 1429-2130 with it (bench_node.py, alternating runs, README).
        time.sleep(0)
    return on_frame


def _incompatible_qos_callback(node: Node, camera: Camera) -> Callable:
    def on_incompatible(event) -> None:
        try:
            policy = QoSPolicyKind(event.last_policy_kind).name.lower()
        except ValueError:
            policy = str(event.last_policy_kind)
        camera.incompatible_policy = policy
        node.get_logger().warning(
            'a publisher of %s offers QoS incompatible with this subscription (%s);'
            ' match it with --ros-args -p qos_overrides.%s.subscription.reliability:='
            '<reliable|best_effort> (and .durability / .depth as needed)'
            % (camera.source_resolved, policy, camera.source_resolved),
            throttle_duration_sec=10.0)
    return on_incompatible


def frame_health(node: Node, camera: Camera, received: int, last_frame: Optional[float],
                 now: float) -> Tuple[str, str]:
    """
    Return (warning, note) about a camera's frames; look for its source while it has none.

    The no-frames warning fires only when publishers are matched and not one frame arrived
    since they matched, and names the likely cause: a QoS incompatibility seen on the topic,
    else frames over the 512 KB Fast DDS shared-memory segment (lost whole) when the frames
    are big or of unknown size. A camera that delivered frames and then went quiet (slow or
    triggered) only gets a note saying when its last frame arrived.
    """
    if camera.subscription is None:
        if camera.wiring is not None and camera.source is None:
            _find_source(node, camera)
            if camera.source is not None:
                _subscribe(node, camera, camera.source, camera.wiring)
        if camera.subscription is None:
            return camera.unusable, '' if camera.unusable else (
                'waiting for a publisher on %s (image_transport %s)'
                % (camera.resolved, camera.transport))
    publishers = node.count_publishers(camera.source_resolved)
    if publishers == 0:
        camera.matched_since, camera.received_before_match = None, received
        return '', ''
    if camera.matched_since is None:
        # Frames may have come between the last check and this one: they count as after.
        camera.matched_since, camera.warned_no_frames = now, False
    if last_frame is not None and received > camera.received_before_match:
        quiet = now - last_frame
        note = 'last frame %.0f s ago' % quiet if quiet >= NO_FRAMES_WARN_S else ''
        return '', note
    if now - camera.matched_since < NO_FRAMES_WARN_S:
        return '', ''
    warning = 'no frame in %.0f s from %d publisher(s) on %s: %s' % (
        now - camera.matched_since, publishers, camera.source_resolved, _no_frames_cause(camera))
    if not camera.warned_no_frames:
        node.get_logger().warning(warning)
        camera.warned_no_frames = True
    return warning, ''


def _no_frames_cause(camera: Camera) -> str:
    if camera.incompatible_policy:
        return ('a publisher offers QoS incompatible with this subscription (%s): set '
                'qos_overrides.%s.subscription.%s to match it'
                % (camera.incompatible_policy, camera.source_resolved,
                   camera.incompatible_policy))
    if camera.received_before_match and camera.largest_frame <= SEGMENT_SAFE_BYTES:
        return ('its frames (up to %d KB so far) fit the Fast DDS shared-memory segment, so '
                'they are not lost for size: is the camera publishing?'
                % (camera.largest_frame // 1024))
    return ('frames over the 512 KB Fast DDS shared-memory segment are likely being lost '
            '(matched publishers, not one frame). Start the camera with '
            'FASTDDS_DEFAULT_PROFILES_FILE (FASTRTPS_DEFAULT_PROFILES_FILE on Humble)=%s'
            % package_config_path(LARGE_FRAMES_PROFILE))
