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
The result side of the node: one camera's publishers, and publishing one result on them.

Threading: publishers are created and destroyed on the executor thread (configure, cleanup);
:func:`publish_result` runs on the pipeline's dispatcher thread (rclpy publishers are thread-safe;
one camera's results are handed over one at a time, in frame order). All of them are lifecycle
publishers: they publish only while the node is active.

Where ai_msgs is installed (the RDK's TogetheROS), a camera can also publish
ai_msgs/PerceptionTargets on ``<ns>/perception_targets`` for hobot_websocket's browser view
(:mod:`rdk_classifier.ros.perception`); without it, nothing else changes.
"""

from dataclasses import dataclass
import time
from typing import List, Optional, Sequence, Tuple

from rclpy.clock import Clock
from rclpy.lifecycle import LifecycleNode, LifecyclePublisher
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rdk_classifier.inference.pipeline import Result
from rdk_classifier.ros import messages
from rdk_classifier.ros.parameters import output_topic
from sensor_msgs.msg import Image
from vision_msgs.msg import Classification, LabelInfo, VisionInfo

try:  # rclpy >= Iron
    from rclpy.event_handler import PublisherEventCallbacks
except ImportError:  # Humble
    from rclpy.qos_event import PublisherEventCallbacks

try:
    from rdk_classifier.ros import perception
    #: Whether ai_msgs is importable, so that PerceptionTargets can be published.
    HAVE_AI_MSGS = True
except ModuleNotFoundError as missing:
    if missing.name is None or missing.name.split('.')[0] != 'ai_msgs':
        raise
    HAVE_AI_MSGS = False


def latched_qos() -> QoSProfile:
    """Reliable and transient local: late subscribers still get the label map (a new profile)."""
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


@dataclass
class PerceptionOutput:
    """One camera's PerceptionTargets publisher and what its messages need besides a result."""

    publisher: LifecyclePublisher
    #: Names the perfs (<model>_preprocess, ...), as dnn_node names them after its model.
    model: str
    #: The node's clock: the pipeline perf runs from the frame's stamp to now on it.
    clock: Clock
    rate: 'perception.ClassificationRate'
    #: Whether anyone subscribes: nothing is built for nobody. Set by the node off the
    #: per-frame path (at activation, then once a second); read by the dispatcher thread.
    subscribed: bool = False


@dataclass
class CameraOutputs:
    """The publishers of one camera's results."""

    classification: LifecyclePublisher
    label_info: LifecyclePublisher
    vision_info: LifecyclePublisher
    overlay: LifecyclePublisher
    perception: Optional[PerceptionOutput] = None

    def every(self) -> List[LifecyclePublisher]:
        """Return every publisher, for clean-up."""
        extra = [self.perception.publisher] if self.perception is not None else []
        return [self.classification, self.label_info, self.vision_info, self.overlay] + extra


def create_outputs(node: LifecycleNode, image_topic: str,
                   perception_model: Optional[str] = None) -> CameraOutputs:
    """
    Create the publishers beside ``image_topic`` (/cam/image_raw -> /cam/classification).

    With a ``perception_model`` name, and ai_msgs importable, also PerceptionTargets on
    ``<ns>/perception_targets``: reliable, depth 10, as hobot_websocket subscribes its smart
    topic (D-Robotics/hobot_websocket, src/websocket/websocket.cpp, constructor).
    """
    def publisher(msg_type, name: str, qos) -> LifecyclePublisher:
        # No QoS event handlers: rclpy's default ones (an incompatible-QoS warning) are each a
        # waitable that a Python executor (Humble's) walks on every wake-up, i.e. every frame.
        # A subscriber with incompatible QoS still hears of it from its own side.
        return node.create_lifecycle_publisher(
            msg_type, output_topic(image_topic, name), qos,
            event_callbacks=PublisherEventCallbacks(use_default_callbacks=False))
    outputs = CameraOutputs(
        classification=publisher(Classification, 'classification', 10),
        label_info=publisher(LabelInfo, 'label_info', latched_qos()),
        vision_info=publisher(VisionInfo, 'vision_info', latched_qos()),
        overlay=publisher(Image, 'classification_overlay', 1))
    if perception_model is not None and HAVE_AI_MSGS:
        outputs.perception = PerceptionOutput(
            publisher(perception.PerceptionTargets, 'perception_targets', 10),
            perception_model, node.get_clock(), perception.ClassificationRate())
    return outputs


def destroy_outputs(node: LifecycleNode, outputs: CameraOutputs) -> None:
    """Destroy every publisher of ``outputs``."""
    for publisher in outputs.every():
        node.destroy_lifecycle_publisher(publisher)


def publish_result(outputs: CameraOutputs, result: Result, labels: Sequence[str],
                   class_id_by_name: bool, input_size: Tuple[int, int]) -> None:
    """
    Publish a result's Classification, PerceptionTargets and overlay.

    PerceptionTargets only while someone subscribes, the overlay only when its input was
    captured (both decided once a second by the node, see follow_subscribers).
    """
    outputs.classification.publish(
        messages.classification(result.token, result.top, labels, class_id_by_name))
    perception_output = outputs.perception
    if perception_output is not None and perception_output.subscribed:
        _publish_perception(perception_output, result, labels)
    if result.nv12 is not None:
        width, height = input_size
        outputs.overlay.publish(messages.overlay(
            result.token, result.nv12, width, height, result.top, labels))


def follow_subscribers(outputs: CameraOutputs) -> bool:
    """
    Note whether anyone subscribes to the camera's PerceptionTargets; return the overlay's.

    Subscriber counts are graph queries: the node calls this at activation and once a second,
    never per frame, so a subscriber that just matched gets results within a second.
    """
    if outputs.perception is not None:
        outputs.perception.subscribed = outputs.perception.publisher.get_subscription_count() > 0
    return outputs.overlay.get_subscription_count() > 0


def _publish_perception(output: PerceptionOutput, result: Result, labels: Sequence[str]) -> None:
    fps = output.rate.tick(time.monotonic())
    times = perception.StageTimes(result.convert_s, result.infer_s, result.post_s)
    perfs = perception.stage_perfs(output.model, times, result.token.stamp,
                                   output.clock.now().nanoseconds)
    output.publisher.publish(perception.perception_targets(
        result.token, result.top, labels, result.frame_size, fps, perfs))
