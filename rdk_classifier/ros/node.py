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

One node, two ways to run it, sharing the same steps (:class:`ClassifierSteps`):

- :class:`ClassifierNode` (executable ``classifier_node``, the default) configures and activates
  in its constructor and stops when destroyed.
- :class:`ManagedClassifierNode` (executable ``classifier_lifecycle_node``, launch argument
  ``lifecycle:=true``) is an rclpy LifecycleNode: configure validates the parameters, resolves
  the model and starts the worker processes (so the model is loaded before activation);
  activate subscribes and starts diagnostics; deactivate unsubscribes (workers stay loaded);
  cleanup stops the workers; shutdown works from any state; an error in a transition is logged
  once and leaves the node unconfigured.

Threading: the executor thread runs subscriptions, the 1 Hz diagnostics timer, parameter changes
and lifecycle transitions. An image callback only wraps the message in a pipeline Frame and
returns; results are published from the pipeline's lane threads (rclpy publishers are
thread-safe). See rdk_classifier.inference.pipeline for the lanes and worker processes.
"""

from dataclasses import dataclass, field
import functools
import signal
import sys
import time
from typing import Callable, cast, Dict, List, Optional, Type

from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.exceptions import NameValidationException, ParameterException
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import (LifecycleNode, LifecyclePublisher, LifecycleState,
                             TransitionCallbackReturn)
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.subscription import Subscription
from rclpy.task import Future
from rclpy.timer import Timer
from rdk_classifier.catalog import (ConfigError, LARGE_FRAMES_PROFILE, load_labels,
                                    package_config_path, resolve_model, ResolvedModel)
from rdk_classifier.inference.engines import EngineError, ENGINES, EngineSpec, ModelContext
from rdk_classifier.inference.pipeline import Frame, InferencePipeline, ModelShape, Result
from rdk_classifier.ros import messages
from rdk_classifier.ros.parameters import (check_choice, check_distinct_outputs,
                                           declare_parameters, output_topic, read_runtime_settings,
                                           read_startup_settings, StartupSettings)
from sensor_msgs.msg import CompressedImage, Image
from vision_msgs.msg import Classification, LabelInfo, VisionInfo

try:  # rclpy >= Iron
    from rclpy.event_handler import SubscriptionEventCallbacks
except ImportError:  # Humble
    from rclpy.qos_event import SubscriptionEventCallbacks

NODE_NAME = 'rdk_classifier'
#: Seconds a matched publisher may go without delivering any frame before the large-frame warning.
NO_FRAMES_WARN_S = 3.0
#: Reliable and transient local: late subscribers still get the label map.
LATCHED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)


@dataclass
class CameraOutputs:
    """The publishers of one camera's results."""

    classification: Publisher
    label_info: Publisher
    vision_info: Publisher
    overlay: Publisher

    def every(self) -> List[Publisher]:
        """Return every publisher, for clean-up."""
        return [self.classification, self.label_info, self.vision_info, self.overlay]


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


@dataclass
class Configured:
    """What configure built: the loaded model in its workers and the publishers."""

    settings: StartupSettings
    model_name: str
    engine: str
    pipeline: InferencePipeline
    shape: ModelShape
    cameras: Dict[str, Camera]
    diagnostics: Publisher
    #: Said with the model wherever it is reported (e.g. random weights); '' normally.
    weights_note: str = ''
    previous_counts: Dict[str, Dict[str, int]] = field(default_factory=dict)
    previous_report: float = field(default_factory=time.monotonic)


class ClassifierSteps(Node):
    """
    The configure / activate / deactivate / cleanup steps both kinds of node share.

    A Node without a constructor of its own: ClassifierNode is one, and ManagedClassifierNode
    puts LifecycleNode before Node in its bases.
    """

    def _init_steps(self) -> None:
        """Declare the parameters; nothing is loaded or subscribed yet."""
        declare_parameters(self)
        self._runtime = read_runtime_settings(self)
        self._labels = load_labels(self._runtime.labels)
        self._labels_version = 1
        self._configured: Optional[Configured] = None
        self._active = False
        self._diagnostics_timer: Optional[Timer] = None
        self.add_on_set_parameters_callback(self._on_set_parameters)

    # Publishers differ between the plain and the managed node ---------------------------------

    def _create_output(self, msg_type: Type, topic: str, qos) -> Publisher:
        return self.create_publisher(msg_type, topic, qos)

    def _destroy_output(self, publisher: Publisher) -> None:
        self.destroy_publisher(publisher)

    # Steps --------------------------------------------------------------------------------

    def _current(self) -> Configured:
        """Return what configure built; the steps after configure run only while it exists."""
        if self._configured is None:
            raise RuntimeError('the classifier is not configured')
        return self._configured

    def _configure(self) -> None:
        """
        Read the settings, resolve the model and load it in the workers; create publishers.

        Raises ConfigError or EngineError (one actionable line); nothing is left running then.
        """
        settings = read_startup_settings(self)
        check_distinct_outputs(settings.image_topics)
        model = resolve_model(settings.model, settings.engine, settings.model_dirs)
        model_name = model.info.name if model.info else model.path.rpartition('/')[2]
        pipeline = InferencePipeline(
            self._engine_spec(settings, model), list(settings.image_topics), settings.threads,
            on_result=self._publish_result, on_drop=self._on_drop,
            resize_mode=settings.resize_mode, crop_pct=settings.crop_pct,
            top_k_count=self._runtime.top_k, score_threshold=self._runtime.score_threshold,
            infer_timeout_s=self._runtime.infer_timeout_s,
            max_pixels=settings.max_frame_pixels)
        shape = pipeline.start()
        try:
            if len(self._labels) != shape.num_classes:
                raise ConfigError('labels %r have %d names but model %s has %d classes'
                                  % (self._runtime.labels or 'ImageNet-1k', len(self._labels),
                                     model_name, shape.num_classes))
            # The workers accepted the model, so a speed-only one was explicitly allowed.
            weights_note = (ENGINES[model.engine].weights_warning(model.path) if model.path
                            else '')
            if weights_note:
                self.get_logger().warning('%s: %s' % (model_name, weights_note))
            cameras = {topic: self._camera(topic, settings) for topic in settings.image_topics}
            diagnostics = self._create_output(DiagnosticArray, '/diagnostics', 10)
        except BaseException:
            pipeline.stop()  # nothing is left running
            raise
        self._configured = Configured(
            settings=settings, model_name=model_name, engine=model.engine, pipeline=pipeline,
            shape=shape, cameras=cameras, diagnostics=diagnostics, weights_note=weights_note)

    def _camera(self, topic: str, settings: StartupSettings) -> Camera:
        source = (topic.rstrip('/') + '/compressed' if settings.image_transport == 'compressed'
                  else topic)
        outputs = CameraOutputs(
            classification=self._create_output(
                Classification, output_topic(topic, 'classification'), 10),
            label_info=self._create_output(
                LabelInfo, output_topic(topic, 'label_info'), LATCHED_QOS),
            vision_info=self._create_output(
                VisionInfo, output_topic(topic, 'vision_info'), LATCHED_QOS),
            overlay=self._create_output(
                Image, output_topic(topic, 'classification_overlay'), 1))
        return Camera(topic, source, self.resolve_topic_name(source), outputs)

    @staticmethod
    def _engine_spec(settings: StartupSettings, model: ResolvedModel) -> EngineSpec:
        kind = ENGINES[model.engine]
        options = kind.options(settings.engine_values[kind.name],
                               ModelContext(model.info, settings.threads))
        return EngineSpec(model.engine, model.path, options)

    def _activate(self) -> None:
        """Publish the label map, subscribe to the cameras and start diagnostics."""
        configured = self._current()
        compressed = configured.settings.image_transport == 'compressed'
        self._active = True
        configured.pipeline.resume()
        self._publish_label_info()
        for camera in configured.cameras.values():
            camera.matched_since, camera.warned_no_frames = None, False
            camera.received_before_match = (
                configured.pipeline.stats(camera.topic).snapshot()['counts']['received'])
            camera.subscription = self.create_subscription(
                CompressedImage if compressed else Image, camera.source,
                self._frame_callback(camera.topic, compressed, configured.pipeline),
                qos_profile_sensor_data,
                qos_overriding_options=QoSOverridingOptions.with_default_policies(),
                event_callbacks=SubscriptionEventCallbacks(
                    incompatible_qos=self._incompatible_qos_callback(camera.source)))
        self._diagnostics_timer = self.create_timer(1.0, self._publish_diagnostics)
        settings, shape = configured.settings, configured.shape
        self.get_logger().info(
            'classifying %s with %s on %s (%d worker%s, input %dx%d, %s)'
            % (', '.join(c.resolved for c in configured.cameras.values()), configured.model_name,
               configured.engine, settings.threads, '' if settings.threads == 1 else 's',
               shape.input_width, shape.input_height, settings.resize_mode))

    def _deactivate(self) -> None:
        """
        Unsubscribe, stop diagnostics and hand over no more results; the model stays loaded.

        Frames still in the pipeline are counted as dropped_disabled, not published.
        """
        self._active = False
        configured = self._current()
        for camera in configured.cameras.values():
            if camera.subscription is not None:
                self.destroy_subscription(camera.subscription)
                camera.subscription = None
        configured.pipeline.pause()
        if self._diagnostics_timer is not None:
            self.destroy_timer(self._diagnostics_timer)
            self._diagnostics_timer = None

    def _cleanup(self) -> None:
        """Stop the workers (releasing their shared memory) and destroy the publishers."""
        configured, self._configured = self._current(), None
        configured.pipeline.stop()
        for camera in configured.cameras.values():
            for publisher in camera.outputs.every():
                self._destroy_output(publisher)
        self._destroy_output(configured.diagnostics)

    def _release(self) -> None:
        """Undo whatever steps were done (shutdown from any state)."""
        if self._active:
            self._deactivate()
        if self._configured is not None:
            self._cleanup()

    # Parameters ---------------------------------------------------------------------------

    def _on_set_parameters(self, parameters: List[Parameter]) -> SetParametersResult:
        """Validate every change first, then apply them all (ranges are rclpy's)."""
        labels = None
        for parameter in parameters:
            reason = check_choice(parameter.name, parameter.value)
            if parameter.name == 'labels' and not reason:
                try:
                    labels = load_labels(parameter.value)
                except ConfigError as exc:
                    reason = str(exc)
                else:
                    if self._configured and len(labels) != self._configured.shape.num_classes:
                        reason = ('labels %r have %d names, the model has %d classes'
                                  % (parameter.value, len(labels),
                                     self._configured.shape.num_classes))
            if reason:
                return SetParametersResult(successful=False, reason=reason)
        self._apply_parameters(parameters, labels)
        return SetParametersResult(successful=True)

    def _apply_parameters(self, parameters: List[Parameter],
                          labels: Optional[List[str]]) -> None:
        runtime = self._runtime
        for parameter in parameters:
            if hasattr(runtime, parameter.name):
                setattr(runtime, parameter.name, parameter.value)
        if labels is not None:
            self._labels, self._labels_version = labels, self._labels_version + 1
        pipeline = self._configured.pipeline if self._configured else None
        if pipeline is not None:
            pipeline.top_k_count = runtime.top_k
            pipeline.score_threshold = runtime.score_threshold
            pipeline.infer_timeout_s = runtime.infer_timeout_s
        changed = {p.name for p in parameters}
        if self._active and changed & {'labels', 'score_threshold'}:
            self._publish_label_info()

    # Frames and results -------------------------------------------------------------------

    def _frame_callback(self, topic: str, compressed: bool,
                        pipeline: InferencePipeline) -> Callable:
        submit = pipeline.submit
        stats = pipeline.stats(topic)
        runtime = self._runtime

        def on_frame(msg) -> None:
            if not runtime.enabled:
                stats.count('received')
                stats.count('dropped_disabled')
            elif compressed:
                submit(Frame(topic, msg.data, msg.format, compressed=True, token=msg.header))
            else:
                submit(Frame(topic, msg.data, msg.encoding, msg.width, msg.height, msg.step,
                             token=msg.header))
        return on_frame

    def _incompatible_qos_callback(self, source: str) -> Callable:
        def on_incompatible(event) -> None:
            self.get_logger().warning(
                'a publisher of %s offers QoS incompatible with this subscription (policy id %s);'
                ' match it with --ros-args -p qos_overrides.%s.subscription.reliability:='
                '<reliable|best_effort> (and .durability / .depth as needed)'
                % (source, event.last_policy_kind, self.resolve_topic_name(source)),
                throttle_duration_sec=10.0)
        return on_incompatible

    def _publish_result(self, result: Result) -> None:
        """Publish one classification (called from a lane thread)."""
        configured = self._configured
        if configured is None:
            return  # cleaned up while the result was on its way
        camera = configured.cameras[result.camera]
        labels = self._labels
        msg = messages.classification(result.token, result.top, labels,
                                      self._runtime.class_id_mode == 'name')
        try:
            camera.outputs.classification.publish(msg)
        except Exception:  # noqa: B902 - rclpy raises its internal RCLError
            if self.context.ok():
                raise
            return  # a signal shut the context down before the workers stopped
        stamp = result.token.stamp
        latency = self.get_clock().now().nanoseconds - (stamp.sec * 10**9 + stamp.nanosec)
        configured.pipeline.stats(result.camera).time('latency', latency / 1e9)
        if result.nv12 is not None:
            shape = configured.shape
            camera.outputs.overlay.publish(messages.overlay(
                result.token, result.nv12, shape.input_width, shape.input_height, result.top,
                labels))

    def _on_drop(self, camera: str, reason: str, message: str) -> None:
        self.get_logger().warning('%s: frame dropped (%s): %s' % (camera, reason, message),
                                  throttle_duration_sec=5.0)

    def _publish_label_info(self) -> None:
        configured = self._current()
        stamp = self.get_clock().now().to_msg()
        label_info = messages.label_info(self._labels, self._runtime.score_threshold, stamp)
        vision_info = messages.vision_info(configured.model_name, self._runtime.labels,
                                           self._labels_version, stamp,
                                           configured.weights_note)
        for camera in configured.cameras.values():
            camera.outputs.label_info.publish(label_info)
            camera.outputs.vision_info.publish(vision_info)

    # Diagnostics --------------------------------------------------------------------------

    def _publish_diagnostics(self) -> None:
        configured = self._current()
        now = time.monotonic()
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        pipeline = configured.pipeline
        for topic, camera in configured.cameras.items():
            snapshot = pipeline.stats(topic).snapshot()
            counts = snapshot['counts']
            warning, note = self._frame_health(camera, counts['received'],
                                               snapshot['last_frame_time'], now)
            array.status.append(messages.camera_status(messages.CameraReport(
                camera=camera.resolved, model=configured.model_name, engine=configured.engine,
                counts=counts,
                previous_counts=configured.previous_counts.get(topic, messages.zero_counts()),
                elapsed_s=now - configured.previous_report,
                worker_restarts=pipeline.worker_restarts,
                percentiles_ms=snapshot['percentiles_ms'], warning=warning, note=note,
                weights_note=configured.weights_note)))
            configured.previous_counts[topic] = counts
        configured.previous_report = now
        configured.diagnostics.publish(array)
        # Checked here, once a second, to keep subscriber counts off the per-frame path.
        pipeline.capture_input = self._runtime.publish_overlay and any(
            c.outputs.overlay.get_subscription_count() > 0
            for c in configured.cameras.values())

    def _frame_health(self, camera: Camera, received: int, last_frame: Optional[float],
                      now: float):
        """
        Return (warning, note) about a camera's frames.

        The transport warning fires only when publishers are matched and not one frame arrived
        since they matched: frames over the 512 KB Fast DDS shared-memory segment are lost
        whole. A camera that delivered frames and then went quiet (slow or triggered) only gets
        a note saying when its last frame arrived.
        """
        publishers = self.count_publishers(camera.resolved)
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
            self.get_logger().warning(warning)
            camera.warned_no_frames = True
        return warning, ''


class ClassifierNode(ClassifierSteps, Node):
    """Classifies camera frames with an RDK Model Zoo model and publishes vision_msgs."""

    def __init__(self, **kwargs) -> None:
        """
        Declare parameters, load the model in the workers and subscribe to the cameras.

        Raises ConfigError or EngineError (one actionable line) for a configuration that
        cannot work.
        """
        super().__init__(NODE_NAME, **kwargs)
        self._init_steps()
        try:
            self._configure()
            self._activate()
        except Exception:
            self._release()
            raise

    def destroy_node(self) -> None:
        """Stop the workers, then the node."""
        self._release()
        super().destroy_node()


def _transition(step: Callable) -> Callable:
    """
    Run a lifecycle transition: SUCCESS, FAILURE for a bad configuration, ERROR otherwise.

    rclpy turns an exception in a transition into ERROR without a word; this logs it once.
    """
    @functools.wraps(step)
    def run(node: 'ManagedClassifierNode', state: LifecycleState) -> TransitionCallbackReturn:
        try:
            return step(node, state)
        except (ConfigError, EngineError, ParameterException) as exc:
            node.get_logger().error('%s: %s' % (step.__name__, exc))
            node._release()
            return TransitionCallbackReturn.FAILURE
        except Exception as exc:  # noqa: B902 - any fault must reach ErrorProcessing, logged
            node.get_logger().error(
                '%s failed: %s: %s' % (step.__name__, type(exc).__name__, exc))
            return TransitionCallbackReturn.ERROR
    return run


class ManagedClassifierNode(ClassifierSteps, LifecycleNode):
    """The classifier as a lifecycle node (see the module docstring)."""

    def __init__(self, **kwargs) -> None:
        """Declare the parameters; the model is loaded on configure."""
        super().__init__(NODE_NAME, **kwargs)
        self._init_steps()
        self.get_logger().info('unconfigured: waiting for a lifecycle manager to configure and '
                               'activate it (ros2 lifecycle set %s configure)'
                               % self.get_fully_qualified_name())

    def _create_output(self, msg_type: Type, topic: str, qos) -> Publisher:
        return self.create_lifecycle_publisher(msg_type, topic, qos)

    def _destroy_output(self, publisher: Publisher) -> None:
        # Every publisher here came from _create_output above.
        self.destroy_lifecycle_publisher(cast(LifecyclePublisher, publisher))

    @_transition
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load the model in the workers and create the (inactive) publishers."""
        self._configure()
        return TransitionCallbackReturn.SUCCESS

    @_transition
    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Enable the publishers, then subscribe and start diagnostics."""
        result = super().on_activate(state)
        self._activate()
        return result

    @_transition
    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe, then disable the publishers; the model stays loaded."""
        self._deactivate()
        return super().on_deactivate(state)

    @_transition
    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop the workers and release their shared memory."""
        self._cleanup()
        return TransitionCallbackReturn.SUCCESS

    @_transition
    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release whatever is running, from any state."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    @_transition
    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything and go back to unconfigured."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def destroy_node(self) -> None:
        """Stop the workers, then the node."""
        self._release()
        super().destroy_node()


def make_executor(choice: str, context: Optional[rclpy.Context] = None) -> Executor:
    """
    Return the executor for the ``executor`` parameter (auto: events where rclpy has it).

    The events executor (rclpy.experimental, Jazzy and newer) spends far less CPU per message
    than the SingleThreadedExecutor's wait-set rebuild; Humble has only the latter. Spin either
    with :func:`spin_until_shutdown`.
    """
    if choice in ('auto', 'events'):
        try:
            from rclpy.experimental import EventsExecutor
        except ImportError:
            if choice == 'events':
                raise ConfigError('executor events needs rclpy.experimental.EventsExecutor '
                                  '(ROS 2 Jazzy or newer); use executor:=auto') from None
        else:
            return EventsExecutor(context=context)
    return SingleThreadedExecutor(context=context)


def spin_until_shutdown(executor: Executor) -> None:
    """
    Spin until the context shuts down (ExternalShutdownException) or a signal interrupts.

    The events executor is spun in slices with a deadline: its endless spin() waits on a
    condition variable until time_point::max(), which the manylinux rclpy wheels' libstdc++
    (no pthread_cond_clockwait) converts to an overflowed, past system-clock deadline. The
    spinning thread then busy-waits a whole core holding the events-queue mutex, and the
    middleware threads that enqueue new messages block on it (so does a publish() to a
    subscription of the same process). A finite deadline converts correctly.
    """
    if isinstance(executor, SingleThreadedExecutor):
        executor.spin()
        return
    while True:
        # A fresh future each slice: the executor adds a done-callback to it.
        executor.spin_until_future_complete(Future(), timeout_sec=1.0)


def reuse_freed_frame_buffers() -> None:
    """
    Make glibc keep freed frame-sized blocks for reuse instead of returning them to the system.

    Each frame passes through several buffers of its size (the middleware's sample, the C
    message, the Python message's data). By default glibc maps every block over a dynamic
    threshold (128 KB at first) afresh and unmaps it when freed, so a 1920x1080 frame costs
    thousands of page faults: measured here, 4.2 instead of 1.1 ms of CPU per frame for a node
    that only echoes headers. The fixed thresholds below keep up to 64 MB of freed memory in
    the heap. Other C libraries have no mallopt: nothing changes there.
    """
    import ctypes
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    mallopt(m_mmap_threshold, 32 * 2**20)  # glibc's maximum on 64-bit; 4K bgr8 is 25 MB
    mallopt(m_trim_threshold, 64 * 2**20)


def _run(node_class: Callable[[], ClassifierSteps], args: Optional[List[str]]) -> int:
    """Run a node until SIGINT/SIGTERM; exit 1 with one line for a bad configuration."""
    reuse_freed_frame_buffers()
    rclpy.init(args=args)
    node = None
    executor = None
    try:
        node = node_class()
        executor = make_executor(node.get_parameter('executor').value)
        executor.add_node(node)
        spin_until_shutdown(executor)
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
        if executor is not None:
            executor.shutdown()
        rclpy.try_shutdown()
    return 0


def main(args: Optional[List[str]] = None) -> int:
    """Run the classifier node (configured and active from the start)."""
    return _run(ClassifierNode, args)


def main_managed(args: Optional[List[str]] = None) -> int:
    """Run the classifier as a lifecycle node, unconfigured until a manager configures it."""
    return _run(ManagedClassifierNode, args)


if __name__ == '__main__':
    sys.exit(main())
