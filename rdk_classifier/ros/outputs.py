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
:func:`publish_result` runs on the pipeline's worker threads (rclpy publishers are thread-safe).
All of them are lifecycle publishers: they publish only while the node is active.
"""

from dataclasses import dataclass
from typing import List, Sequence, Tuple

from rclpy.lifecycle import LifecycleNode, LifecyclePublisher
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rdk_classifier.inference.pipeline import Result
from rdk_classifier.ros import messages
from rdk_classifier.ros.parameters import output_topic
from sensor_msgs.msg import Image
from vision_msgs.msg import Classification, LabelInfo, VisionInfo


def latched_qos() -> QoSProfile:
    """Reliable and transient local: late subscribers still get the label map (a new profile)."""
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


@dataclass
class CameraOutputs:
    """The publishers of one camera's results."""

    classification: LifecyclePublisher
    label_info: LifecyclePublisher
    vision_info: LifecyclePublisher
    overlay: LifecyclePublisher

    def every(self) -> List[LifecyclePublisher]:
        """Return every publisher, for clean-up."""
        return [self.classification, self.label_info, self.vision_info, self.overlay]


def create_outputs(node: LifecycleNode, image_topic: str) -> CameraOutputs:
    """Create the publishers beside ``image_topic`` (/cam/image_raw -> /cam/classification)."""
    def publisher(msg_type, name: str, qos) -> LifecyclePublisher:
        return node.create_lifecycle_publisher(msg_type, output_topic(image_topic, name), qos)
    return CameraOutputs(
        classification=publisher(Classification, 'classification', 10),
        label_info=publisher(LabelInfo, 'label_info', latched_qos()),
        vision_info=publisher(VisionInfo, 'vision_info', latched_qos()),
        overlay=publisher(Image, 'classification_overlay', 1))


def destroy_outputs(node: LifecycleNode, outputs: CameraOutputs) -> None:
    """Destroy every publisher of ``outputs``."""
    for publisher in outputs.every():
        node.destroy_lifecycle_publisher(publisher)


def publish_result(outputs: CameraOutputs, result: Result, labels: Sequence[str],
                   class_id_by_name: bool, input_size: Tuple[int, int]) -> None:
    """Publish a result's Classification, and its overlay when the model input was captured."""
    outputs.classification.publish(
        messages.classification(result.token, result.top, labels, class_id_by_name))
    if result.nv12 is not None:
        width, height = input_size
        outputs.overlay.publish(messages.overlay(
            result.token, result.nv12, width, height, result.top, labels))
