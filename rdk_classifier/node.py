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
The ROS 2 node: camera topics in, vision_msgs out; wiring only.

Callbacks are decoupled from work: an image callback wraps the message in a pipeline Frame and
returns (see rdk_classifier.pipeline for the lanes and worker processes that do the work).
Results are published from the pipeline's lane threads (rclpy publishers are thread-safe); the
executor thread runs subscriptions, the 1 Hz diagnostics timer and parameter changes.
"""

import math
import os
import signal
import sys
import time
from typing import Dict, List, Optional, Sequence

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
import numpy as np
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
import rclpy
from rclpy.exceptions import (NameValidationException, ParameterException,
                              ParameterUninitializedException)
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from rclpy.qos_overriding_options import QoSOverridingOptions
from rdk_classifier.camera_sim import LARGE_FRAMES_PROFILE
from rdk_classifier.catalog import (ConfigError, ENGINE_CHOICES, load_labels,
                                    package_config_path, resolve_model)
from rdk_classifier.engines import EngineError, EngineSpec
from rdk_classifier.frames import nv12_to_bgr, RESIZE_MODES
from rdk_classifier.pipeline import Frame, InferencePipeline, Result
from rdk_classifier.stats import COUNTERS
from sensor_msgs.msg import CompressedImage, Image
from vision_msgs.msg import (Classification, LabelInfo, ObjectHypothesis, VisionClass,
                             VisionInfo)

try:  # rclpy >= Iron
    from rclpy.event_handler import SubscriptionEventCallbacks
except ImportError:  # Humble
    from rclpy.qos_event import SubscriptionEventCallbacks

TRANSPORTS = ('raw', 'compressed')
CLASS_ID_MODES = ('index', 'name')
#: Seconds without frames from a matched publisher before the large-frame warning.
NO_FRAMES_WARN_S = 3.0
#: Reliable and transient local: late subscribers still get the label map.
LATCHED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)


def output_topic(image_topic: str, name: str) -> str:
    """Return the topic ``name`` beside ``image_topic`` (/cam/image_raw -> /cam/<name>)."""
    parent = image_topic.rstrip('/').rpartition('/')[0]
    if image_topic.startswith('/'):
        return parent + '/' + name
    return parent + '/' + name if parent else name


def _describe(description: str, read_only: bool = False, additional: str = '',
              integer_range: Optional[IntegerRange] = None,
              floating_point_range: Optional[FloatingPointRange] = None) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(description=description, read_only=read_only,
                                     additional_constraints=additional)
    if integer_range is not None:
        descriptor.integer_range = [integer_range]
    if floating_point_range is not None:
        descriptor.floating_point_range = [floating_point_range]
    return descriptor


def _one_of(choices: Sequence[str]) -> str:
    return 'one of: ' + ', '.join(choices)


class ClassifierNode(Node):
    """Classifies camera frames with an RDK Model Zoo model and publishes vision_msgs."""

    def __init__(self, **kwargs) -> None:
        """
        Declare parameters, load the model in the workers and subscribe to the cameras.

        Raises ConfigError or EngineError (one actionable line) for a configuration that
        cannot work.
        """
        super().__init__('rdk_classifier', **kwargs)
        self._declare_parameters()
        param = self._param
        topics = [t for t in param('image_topics') if t]
        if not topics:
            raise ConfigError('image_topics is empty; give at least one camera topic')
        self._check_choice('image_transport', TRANSPORTS)
        self._check_choice('resize_mode', RESIZE_MODES)
        self._check_choice('class_id_mode', CLASS_ID_MODES)
        outputs = [output_topic(t, 'classification') for t in topics]
        if len(set(outputs)) != len(outputs):
            raise ConfigError('image_topics %s share a namespace, so their results would share '
                              'a topic; give each camera its own namespace' % topics)

        model = resolve_model(param('model'), param('engine'), self._model_dirs())
        self._model_name = model.info.name if model.info else os.path.basename(param('model'))
        self._engine = model.engine
        self._labels_source = param('labels')
        self._labels = load_labels(self._labels_source)
        self._labels_version = 1
        self._enabled = param('enabled')

        self._pipeline = InferencePipeline(
            self._engine_spec(model), topics, param('threads'),
            on_result=self._publish_result, on_drop=self._on_drop,
            resize_mode=param('resize_mode'), crop_pct=param('crop_pct'),
            top_k_count=param('top_k'), score_threshold=param('score_threshold'),
            infer_timeout_s=self._timeout_s(param('infer_timeout_ms')))
        shape = self._pipeline.start()
        try:
            if len(self._labels) != shape.num_classes:
                raise ConfigError('labels %r have %d names but model %s has %d classes'
                                  % (self._labels_source or 'ImageNet-1k', len(self._labels),
                                     self._model_name, shape.num_classes))
            self._setup_cameras(topics)
        except Exception:
            self._pipeline.stop()
            raise
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._last_diagnostics = (time.monotonic(), {})
        self.create_timer(1.0, self._publish_diagnostics)
        sources = ', '.join(camera['resolved'] for camera in self._cameras.values())
        self.get_logger().info(
            'classifying %s with %s on %s (%d worker%s, input %dx%d, %s)'
            % (sources, self._model_name, self._engine, param('threads'),
               '' if param('threads') == 1 else 's', shape.input_width, shape.input_height,
               param('resize_mode')))

    # Parameters --------------------------------------------------------------------------

    def _declare_parameters(self) -> None:
        at_least_one = IntegerRange(from_value=1, to_value=1000, step=1)
        unit = FloatingPointRange(from_value=0.0, to_value=1.0, step=0.0)
        declare = self.declare_parameter
        declare('model', 'RepViT_m0_9', _describe(
            'Zoo model name (config/models.yaml, case-insensitive) or model file path',
            read_only=True))
        declare('engine', 'auto', _describe(
            'Inference engine', read_only=True, additional=_one_of(ENGINE_CHOICES)))
        declare('threads', 2, _describe(
            'Inference worker processes, each with its own loaded model', read_only=True,
            integer_range=IntegerRange(from_value=1, to_value=64, step=1)))
        declare('image_topics', ['image_raw'], _describe(
            'Camera topics (relative names resolve in the node namespace); results go to the '
            'namespace of each', read_only=True))
        declare('image_transport', 'raw', _describe(
            'raw: sensor_msgs/Image on the topic; '
            'compressed: sensor_msgs/CompressedImage on <topic>/compressed',
            read_only=True, additional=_one_of(TRANSPORTS)))
        declare('resize_mode', 'center_crop', _describe(
            'How frames are fitted to the model input', read_only=True,
            additional=_one_of(RESIZE_MODES)))
        declare('crop_pct', 0.875, _describe(
            'center_crop: the shorter side is resized to input / crop_pct', read_only=True,
            floating_point_range=FloatingPointRange(from_value=0.05, to_value=1.0, step=0.0)))
        declare('top_k', 5, _describe('Results per classification', integer_range=at_least_one))
        declare('score_threshold', 0.0, _describe(
            'Results with a lower softmax score are left out', floating_point_range=unit))
        declare('class_id_mode', 'index', _describe(
            'class_id holds the class index (as a string) or the label',
            additional=_one_of(CLASS_ID_MODES)))
        declare('labels', '', _describe(
            'Labels file (JSON list, Python dict literal or one name per line); '
            'empty: ImageNet-1k'))
        declare('model_dirs', Parameter.Type.STRING_ARRAY, _describe(
            'Folders searched for model files before the defaults', read_only=True))
        declare('infer_timeout_ms', 5000, _describe(
            'A worker whose forward takes longer is restarted; 0 disables the limit',
            integer_range=IntegerRange(from_value=0, to_value=3600000, step=1)))
        declare('enabled', True, _describe('Classify incoming frames'))
        declare('publish_overlay', False, _describe(
            'Publish the model input annotated with the top result on <ns>/classification_overlay '
            '(only while someone subscribes)'))
        declare('fake.latency_ms', 0.0, _describe(
            'fake engine: time per forward', read_only=True,
            floating_point_range=FloatingPointRange(from_value=0.0, to_value=60000.0, step=0.0)))
        declare('fake.hold_gil', False, _describe(
            'fake engine: hold the GIL during the forward as pyeasy_dnn does', read_only=True))
        declare('fake.device_fps', 0.0, _describe(
            'fake engine: one forward at a time may use the simulated device, for 1 / device_fps '
            's (a shared BPU); 0: no limit', read_only=True,
            floating_point_range=FloatingPointRange(from_value=0.0, to_value=1e6, step=0.0)))
        declare('fake.fail_every', 0, _describe(
            'fake engine: raise on every Nth forward (0: never)', read_only=True))
        declare('fake.hang_every', 0, _describe(
            'fake engine: hang on every Nth forward (0: never)', read_only=True))
        declare('fake.num_classes', 1000, _describe(
            'fake engine: number of classes', read_only=True, integer_range=at_least_one))
        declare('onnxruntime.intra_op_threads', 0, _describe(
            'onnxruntime engine: threads per worker; 0: the cores divided by the workers',
            read_only=True, integer_range=IntegerRange(from_value=0, to_value=256, step=1)))

    def _param(self, name: str):
        return self.get_parameter(name).value

    def _model_dirs(self) -> List[str]:
        try:
            return [d for d in self._param('model_dirs') if d]
        except ParameterUninitializedException:
            return []

    def _check_choice(self, name: str, choices: Sequence[str]) -> None:
        if self._param(name) not in choices:
            raise ConfigError('parameter %s is %r; use %s'
                              % (name, self._param(name), _one_of(choices)))

    @staticmethod
    def _timeout_s(milliseconds: int) -> Optional[float]:
        return milliseconds / 1e3 if milliseconds > 0 else None

    def _engine_spec(self, model) -> EngineSpec:
        param = self._param
        options: Dict[str, object] = {}
        if model.info is not None:
            options['input_size'] = [model.info.input_height, model.info.input_width]
        if model.engine == 'fake':
            options.update(latency_ms=param('fake.latency_ms'), hold_gil=param('fake.hold_gil'),
                           device_fps=param('fake.device_fps'),
                           fail_every=param('fake.fail_every'),
                           hang_every=param('fake.hang_every'),
                           num_classes=param('fake.num_classes'))
        elif model.engine == 'onnxruntime':
            threads = param('onnxruntime.intra_op_threads') or max(
                1, (os.cpu_count() or 1) // param('threads'))
            options['intra_op_threads'] = threads
            if model.info is not None:
                options.update(mean=list(model.info.mean), std=list(model.info.std))
        return EngineSpec(model.engine, model.path, options)

    def _on_set_parameters(self, parameters: List[Parameter]) -> SetParametersResult:
        labels = None
        for parameter in parameters:
            name, value = parameter.name, parameter.value
            if name == 'class_id_mode' and value not in CLASS_ID_MODES:
                return SetParametersResult(
                    successful=False, reason='class_id_mode must be ' + _one_of(CLASS_ID_MODES))
            if name == 'labels':
                try:
                    labels = load_labels(value)
                except ConfigError as exc:
                    return SetParametersResult(successful=False, reason=str(exc))
                if len(labels) != self._pipeline.shape.num_classes:
                    return SetParametersResult(
                        successful=False,
                        reason='labels %r have %d names, the model has %d classes'
                        % (value, len(labels), self._pipeline.shape.num_classes))
        # Valid: apply (ranges and read_only were checked by rclpy from the descriptors).
        for parameter in parameters:
            name, value = parameter.name, parameter.value
            if name == 'top_k':
                self._pipeline.top_k_count = value
            elif name == 'score_threshold':
                self._pipeline.score_threshold = value
            elif name == 'infer_timeout_ms':
                self._pipeline.infer_timeout_s = self._timeout_s(value)
            elif name == 'enabled':
                self._enabled = value
            elif name == 'publish_overlay' and value:
                self._create_overlay_publishers()
        if labels is not None:
            self._labels, self._labels_version = labels, self._labels_version + 1
            self._labels_source = next(p.value for p in parameters if p.name == 'labels')
        if labels is not None or any(p.name == 'score_threshold' for p in parameters):
            self._publish_label_info(threshold=next(
                (p.value for p in parameters if p.name == 'score_threshold'),
                self._param('score_threshold')))
        return SetParametersResult(successful=True)

    # Cameras -----------------------------------------------------------------------------

    def _setup_cameras(self, topics: List[str]) -> None:
        compressed = self._param('image_transport') == 'compressed'
        self._cameras = {}
        for topic in topics:
            source = topic.rstrip('/') + '/compressed' if compressed else topic
            camera = {
                'source': source,
                'resolved': self.resolve_topic_name(source),
                'classification': self.create_publisher(
                    Classification, output_topic(topic, 'classification'), 10),
                'label_info': self.create_publisher(
                    LabelInfo, output_topic(topic, 'label_info'), LATCHED_QOS),
                'vision_info': self.create_publisher(
                    VisionInfo, output_topic(topic, 'vision_info'), LATCHED_QOS),
                'overlay': None,  # created when publish_overlay is first set
                'publishers_seen_since': None,
                'warned_no_frames': False,
            }
            camera['subscription'] = self.create_subscription(
                CompressedImage if compressed else Image, source,
                self._frame_callback(topic, compressed),
                qos_profile_sensor_data,
                qos_overriding_options=QoSOverridingOptions.with_default_policies(),
                event_callbacks=SubscriptionEventCallbacks(
                    incompatible_qos=self._incompatible_qos_callback(source)))
            self._cameras[topic] = camera
        self._publish_label_info(self._param('score_threshold'))
        if self._param('publish_overlay'):
            self._create_overlay_publishers()

    def _create_overlay_publishers(self) -> None:
        # Never destroyed: lane threads may be publishing on them at any time.
        for topic, camera in self._cameras.items():
            if camera['overlay'] is None:
                camera['overlay'] = self.create_publisher(
                    Image, output_topic(topic, 'classification_overlay'), 1)

    def _frame_callback(self, topic: str, compressed: bool):
        submit = self._pipeline.submit
        stats = self._pipeline.stats(topic)

        def on_frame(msg) -> None:
            if not self._enabled:
                stats.count('received')
                stats.count('dropped_disabled')
            elif compressed:
                submit(Frame(topic, msg.data, msg.format, compressed=True, token=msg.header))
            else:
                submit(Frame(topic, msg.data, msg.encoding, msg.width, msg.height, msg.step,
                             token=msg.header))
        return on_frame

    def _incompatible_qos_callback(self, source: str):
        def on_incompatible(event) -> None:
            self.get_logger().warning(
                'a publisher of %s offers QoS incompatible with this subscription (policy id %s);'
                ' match it with --ros-args -p qos_overrides.%s.subscription.reliability:='
                '<reliable|best_effort> (and .durability / .depth as needed)'
                % (source, event.last_policy_kind, self.resolve_topic_name(source)),
                throttle_duration_sec=10.0)
        return on_incompatible

    # Results -----------------------------------------------------------------------------

    def _publish_result(self, result: Result) -> None:
        camera = self._cameras[result.camera]
        stats = self._pipeline.stats(result.camera)
        by_name = self._param('class_id_mode') == 'name'
        labels = self._labels
        msg = Classification(header=result.token)
        msg.results = [
            ObjectHypothesis(class_id=labels[index] if by_name else str(index), score=score)
            for index, score in result.top]
        try:
            camera['classification'].publish(msg)
        except Exception:  # noqa: B902 - rclpy raises its internal RCLError
            if self.context.ok():
                raise
            return  # a signal shut the context down before the workers stopped
        stamp = result.token.stamp
        latency = self.get_clock().now().nanoseconds - (stamp.sec * 10**9 + stamp.nanosec)
        stats.time('latency', latency / 1e9)
        overlay = camera['overlay']
        if result.nv12 is not None and overlay is not None:
            overlay.publish(self._overlay(result, labels))

    def _overlay(self, result: Result, labels: List[str]) -> Image:
        import cv2  # only needed while someone watches the overlay
        shape = self._pipeline.shape
        bgr = np.ascontiguousarray(nv12_to_bgr(result.nv12, shape.input_width, shape.input_height))
        for row, (index, score) in enumerate(result.top[:3]):
            cv2.putText(bgr, '%s %.2f' % (labels[index], score), (4, 16 + 16 * row),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 255, 0), 1, cv2.LINE_AA)
        return Image(header=result.token, height=bgr.shape[0], width=bgr.shape[1],
                     encoding='bgr8', step=bgr.shape[1] * 3, data=bgr.tobytes())

    def _on_drop(self, camera: str, reason: str, message: str) -> None:
        self.get_logger().warning('%s: frame dropped (%s): %s' % (camera, reason, message),
                                  throttle_duration_sec=5.0)

    def _publish_label_info(self, threshold: float) -> None:
        header_stamp = self.get_clock().now().to_msg()
        class_map = [VisionClass(class_id=index, class_name=name)
                     for index, name in enumerate(self._labels)]
        for camera in self._cameras.values():
            info = LabelInfo(class_map=class_map, threshold=float(threshold))
            info.header.stamp = header_stamp
            camera['label_info'].publish(info)
            vision = VisionInfo(method=self._model_name, database_version=self._labels_version,
                                database_location=self._labels_source or 'ImageNet-1k (built in)')
            vision.header.stamp = header_stamp
            vision.header.frame_id = ''
            camera['vision_info'].publish(vision)

    # Diagnostics -------------------------------------------------------------------------

    def _publish_diagnostics(self) -> None:
        now = time.monotonic()
        then, previous = self._last_diagnostics
        elapsed = max(now - then, 1e-6)
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        current = {}
        for topic, camera in self._cameras.items():
            snapshot = self._pipeline.stats(topic).snapshot()
            counts = snapshot['counts']
            current[topic] = counts
            before = previous.get(topic, dict.fromkeys(COUNTERS, 0))
            status = DiagnosticStatus(name='rdk_classifier: %s' % camera['resolved'],
                                      hardware_id=self._model_name, level=DiagnosticStatus.OK,
                                      message='ok')
            values = {
                'engine': self._engine, 'model': self._model_name,
                'input_hz': '%.1f' % ((counts['received'] - before['received']) / elapsed),
                'output_hz': '%.1f' % ((counts['published'] - before['published']) / elapsed),
                'worker_restarts': str(self._pipeline.worker_restarts),
            }
            values.update((name, str(counts[name])) for name in COUNTERS)
            for stage, percentiles in snapshot['percentiles_ms'].items():
                if percentiles is not None:
                    values['%s_ms_p50' % stage] = '%.2f' % percentiles[0]
                    values['%s_ms_p95' % stage] = '%.2f' % percentiles[1]
            warning = self._no_frames_warning(camera, snapshot['last_frame_time'], now)
            if warning:
                status.level, status.message = DiagnosticStatus.WARN, warning
            elif counts['dropped_bad'] > before['dropped_bad']:
                status.level, status.message = DiagnosticStatus.WARN, 'malformed frames dropped'
            status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
            array.status.append(status)
        self._last_diagnostics = (now, current)
        self._diagnostics.publish(array)
        # Checked here, once a second, to keep subscriber counts off the per-frame path.
        self._pipeline.capture_input = self._param('publish_overlay') and any(
            c['overlay'] is not None and c['overlay'].get_subscription_count() > 0
            for c in self._cameras.values())

    def _no_frames_warning(self, camera: dict, last_frame: Optional[float],
                           now: float) -> str:
        """Warn when publishers are matched but no frame arrives (large frames on Fast DDS)."""
        publishers = self.count_publishers(camera['resolved'])
        if publishers == 0:
            camera['publishers_seen_since'] = None
            return ''
        if camera['publishers_seen_since'] is None:
            camera['publishers_seen_since'] = now
        quiet_since = max(camera['publishers_seen_since'], last_frame or -math.inf)
        if now - quiet_since < NO_FRAMES_WARN_S:
            camera['warned_no_frames'] = False
            return ''
        message = (
            'no frames for %.0f s from %d matched publisher(s) on %s: frames over the 512 KB '
            'Fast DDS shared-memory segment are likely being lost. Start the camera with '
            'FASTDDS_DEFAULT_PROFILES_FILE (FASTRTPS_DEFAULT_PROFILES_FILE on Humble)=%s'
            % (now - quiet_since, publishers, camera['resolved'],
               package_config_path(LARGE_FRAMES_PROFILE)))
        if not camera['warned_no_frames']:
            self.get_logger().warning(message)
            camera['warned_no_frames'] = True
        return message

    def destroy_node(self) -> None:
        """Stop the workers, then the node."""
        self._pipeline.stop()
        super().destroy_node()


def main(args: Optional[List[str]] = None) -> int:
    """Run the node until SIGINT/SIGTERM; exit 1 with one line for a bad configuration."""
    rclpy.init(args=args)
    node = None
    try:
        node = ClassifierNode()
        rclpy.spin(node)
    except (ConfigError, EngineError, ParameterException, NameValidationException) as exc:
        print('rdk_classifier: %s' % exc, file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        # Ctrl-C under ros2 launch signals the node twice (the terminal, then launch): the
        # second signal must not cut short the release of workers and shared memory.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
