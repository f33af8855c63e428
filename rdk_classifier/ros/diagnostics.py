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
The node's /diagnostics: one status per camera, once a second, from the pipeline's counts.

Threading: :meth:`Diagnostics.publish` runs on the executor thread (the 1 Hz timer); it reads
snapshots of the pipeline's counters, which the dispatcher keeps under their own locks.
"""

from dataclasses import asdict, dataclass, field
import time
from typing import Dict, Mapping

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.lifecycle import LifecycleNode, LifecyclePublisher
from rdk_classifier.inference.pipeline import InferencePipeline
from rdk_classifier.inference.stats import TimingWindow
from rdk_classifier.ros import messages
from rdk_classifier.ros.cameras import Camera, frame_health


@dataclass
class ModelReport:
    """What every camera's status says of the model."""

    name: str
    engine: str
    #: Said with the model wherever it is reported (e.g. random weights); '' normally.
    weights_note: str = ''


@dataclass
class Diagnostics:
    """The /diagnostics publisher and the previous report, for rates."""

    publisher: LifecyclePublisher
    previous_counts: Dict[str, Dict[str, int]] = field(default_factory=dict)
    previous_report: float = field(default_factory=time.monotonic)

    @classmethod
    def create(cls, node: LifecycleNode) -> 'Diagnostics':
        """Create the /diagnostics publisher of ``node``."""
        return cls(node.create_lifecycle_publisher(DiagnosticArray, '/diagnostics', 10))

    def destroy(self, node: LifecycleNode) -> None:
        """Destroy the publisher."""
        node.destroy_lifecycle_publisher(self.publisher)

    def publish(self, node: LifecycleNode, cameras: Mapping[str, Camera],
                pipeline: InferencePipeline, model: ModelReport,
                latency: Mapping[str, TimingWindow]) -> None:
        """
        Publish one status per camera: rates since the last report, drops, stage times.

        ``latency``: each camera's end-to-end latency, measured by the node.
        """
        now = time.monotonic()
        array = DiagnosticArray()
        array.header.stamp = node.get_clock().now().to_msg()
        pipeline_snapshot = pipeline.snapshot()
        for topic, camera in cameras.items():
            snapshot = pipeline_snapshot.cameras[topic]
            counts = asdict(snapshot.counts)
            percentiles_ms = dict(snapshot.percentiles_ms, latency=latency[topic].percentiles_ms())
            warning, note = frame_health(node, camera, snapshot.counts.received,
                                         snapshot.last_frame_time, now)
            array.status.append(messages.camera_status(messages.CameraReport(
                camera=camera.source_resolved, model=model.name, engine=model.engine,
                counts=counts,
                previous_counts=self.previous_counts.get(topic, messages.zero_counts()),
                elapsed_s=now - self.previous_report,
                worker_restarts=pipeline_snapshot.worker_restarts,
                percentiles_ms=percentiles_ms, warning=warning, note=note,
                weights_note=model.weights_note)))
            self.previous_counts[topic] = counts
        self.previous_report = now
        self.publisher.publish(array)
