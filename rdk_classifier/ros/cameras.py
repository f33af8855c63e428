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
The camera side of the node: subscriptions, messages to pipeline frames, frame health.

Threading: everything here runs on the executor thread. A frame callback only wraps the message
in a pipeline :class:`Frame` (no copy) and returns; :func:`frame_health` is called once a second
from the diagnostics timer, so no graph query is on the per-frame path.
"""

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.subscription import Subscription
from rdk_classifier.catalog import LARGE_FRAMES_PROFILE, package_config_path
from rdk_classifier.inference.pipeline import Frame, InferencePipeline
from rdk_classifier.ros.outputs import CameraOutputs
from sensor_msgs.msg import CompressedImage, Image

try:  # rclpy >= Iron
    from rclpy.event_handler import SubscriptionEventCallbacks
except ImportError:  # Humble
    from rclpy.qos_event import SubscriptionEventCallbacks

#: Seconds a matched publisher may go without delivering any frame before the large-frame warning.
NO_FRAMES_WARN_S = 3.0


@dataclass
class Camera:
    """One camera topic: where its frames come from, where its results go, its health."""

    #: As configured (image_topics); the pipeline's camera name.
    topic: str
    #: The subscribed topic (``<topic>/compressed`` for compressed transport).
    source: str
    #: ``source`` resolved in the node's namespace, for logs and diagnostics.
    resolved: str
    outputs: CameraOutputs
    subscription: Optional[Subscription] = None
    #: When the current matched publishers were first seen.
    matched_since: Optional[float] = None
    #: Frames received while no publisher was seen: later frames came from matched ones.
    received_before_match: int = 0
    warned_no_frames: bool = False


def source_topic(topic: str, transport: str) -> str:
    """Return the topic subscribed for camera ``topic`` with ``transport``."""
    return topic.rstrip('/') + '/compressed' if transport == 'compressed' else topic


def subscribe(node: Node, camera: Camera, transport: str, pipeline: InferencePipeline,
              enabled: Callable[[], bool]) -> None:
    """Subscribe ``camera`` with the sensor-data QoS (overridable per topic)."""
    compressed = transport == 'compressed'
    camera.matched_since, camera.warned_no_frames = None, False
    camera.received_before_match = (
        pipeline.stats(camera.topic).snapshot()['counts']['received'])
    camera.subscription = node.create_subscription(
        CompressedImage if compressed else Image, camera.source,
        _frame_callback(camera.topic, compressed, pipeline, enabled),
        qos_profile_sensor_data,
        qos_overriding_options=QoSOverridingOptions.with_default_policies(),
        event_callbacks=SubscriptionEventCallbacks(
            incompatible_qos=_incompatible_qos_callback(node, camera.source)))


def unsubscribe(node: Node, camera: Camera) -> None:
    """Destroy the camera's subscription, if any."""
    if camera.subscription is not None:
        node.destroy_subscription(camera.subscription)
        camera.subscription = None


def _frame_callback(topic: str, compressed: bool, pipeline: InferencePipeline,
                    enabled: Callable[[], bool]) -> Callable:
    submit = pipeline.submit
    stats = pipeline.stats(topic)

    def on_frame(msg) -> None:
        if not enabled():
            stats.count('received')
            stats.count('dropped_disabled')
        elif compressed:
            submit(Frame(topic, msg.data, msg.format, compressed=True, token=msg.header))
        else:
            submit(Frame(topic, msg.data, msg.encoding, msg.width, msg.height, msg.step,
                         token=msg.header))
    return on_frame


def _incompatible_qos_callback(node: Node, source: str) -> Callable:
    def on_incompatible(event) -> None:
        node.get_logger().warning(
            'a publisher of %s offers QoS incompatible with this subscription (policy id %s);'
            ' match it with --ros-args -p qos_overrides.%s.subscription.reliability:='
            '<reliable|best_effort> (and .durability / .depth as needed)'
            % (source, event.last_policy_kind, node.resolve_topic_name(source)),
            throttle_duration_sec=10.0)
    return on_incompatible


def frame_health(node: Node, camera: Camera, received: int, last_frame: Optional[float],
                 now: float) -> Tuple[str, str]:
    """
    Return (warning, note) about a camera's frames.

    The transport warning fires only when publishers are matched and not one frame arrived
    since they matched: frames over the 512 KB Fast DDS shared-memory segment are lost
    whole. A camera that delivered frames and then went quiet (slow or triggered) only gets
    a note saying when its last frame arrived.
    """
    publishers = node.count_publishers(camera.resolved)
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
    warning = (
        'no frame in %.0f s from %d matched publisher(s) on %s: frames over the 512 KB '
        'Fast DDS shared-memory segment are likely being lost. Start the camera with '
        'FASTDDS_DEFAULT_PROFILES_FILE (FASTRTPS_DEFAULT_PROFILES_FILE on Humble)=%s'
        % (now - camera.matched_since, publishers, camera.resolved,
           package_config_path(LARGE_FRAMES_PROFILE)))
    if not camera.warned_no_frames:
        node.get_logger().warning(warning)
        camera.warned_no_frames = True
    return warning, ''
