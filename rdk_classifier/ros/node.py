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
The classifier node: camera topics in, vision_msgs out; one rclpy LifecycleNode, wiring only.

Transitions, as in ros2/demos' lifecycle_py:

- configure: validate the parameters, resolve the model (unset: the default for this machine,
  said in one line), declare the engine's parameters if engine:=auto left them undeclared,
  start the worker processes (so the model is loaded before activation) and create the
  (inactive) publishers;
- activate: publish the label map, subscribe to the cameras, start diagnostics;
- deactivate: unsubscribe and hand over no more results; the workers keep the model;
- cleanup: stop the workers and release their shared memory;
- shutdown (from any state) and error: release whatever runs.

A configuration that cannot work fails the transition with one actionable line and leaves the
node unconfigured. ``classifier_node`` runs the node configuring and activating itself at start
(:meth:`ClassifierNode.start`, as a lifecycle manager with autostart would);
``classifier_lifecycle_node`` leaves it unconfigured for a manager. Process set-up and spinning
are in rdk_classifier.ros.main.

Threading: the executor thread runs subscriptions (rdk_classifier.ros.cameras), the 1 Hz
diagnostics timer, parameter changes and transitions. Results are published from the pipeline's
dispatcher thread (rdk_classifier.ros.outputs; rclpy publishers are thread-safe). See
rdk_classifier.inference.pipeline for the workers.
"""

from dataclasses import dataclass, replace
import functools
from typing import Callable, Dict, List, Optional

from rcl_interfaces.msg import SetParametersResult
from rclpy.exceptions import NameValidationException, ParameterException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.timer import Timer
from rdk_classifier.catalog import load_labels, resolve_model, ResolvedModel
from rdk_classifier.engines import EngineError, ENGINES, EngineSpec, ModelContext
from rdk_classifier.errors import ConfigError
from rdk_classifier.inference.pipeline import InferencePipeline, ModelShape, Result, Settings
from rdk_classifier.inference.stats import TimingWindow
from rdk_classifier.ros import cameras, messages
from rdk_classifier.ros.cameras import Camera
from rdk_classifier.ros.diagnostics import Diagnostics, ModelReport
from rdk_classifier.ros.outputs import (create_outputs, destroy_outputs, follow_subscribers,
                                        publish_result)
from rdk_classifier.ros.parameters import (check_choice, check_distinct_outputs,
                                           declare_engine_parameters, declare_parameters,
                                           default_model, LOG_RESULTS_PERIOD_S,
                                           read_runtime_settings, read_startup_settings,
                                           StartupSettings)
from rdk_classifier.ros.result_log import ResultLog

NODE_NAME = 'rdk_classifier'
#: Errors of configuration: one actionable line, and the transition fails.
CONFIGURATION_ERRORS = (ConfigError, EngineError, ParameterException, NameValidationException)


@dataclass
class Configured:
    """What configure built: the loaded model in its workers and the publishers."""

    settings: StartupSettings
    model: ModelReport
    pipeline: InferencePipeline
    shape: ModelShape
    cameras: Dict[str, Camera]
    diagnostics: Diagnostics
    #: End-to-end latency per camera (stamp to publication), a ROS-side measurement.
    latency: Dict[str, TimingWindow]


def _transition(step: Callable) -> Callable:
    """
    Run a lifecycle transition: SUCCESS, FAILURE for a bad configuration, ERROR otherwise.

    rclpy turns an exception in a transition into ERROR without a word; this reports it once
    (see :meth:`ClassifierNode._report_failure`).
    """
    @functools.wraps(step)
    def run(node: 'ClassifierNode', state: LifecycleState) -> TransitionCallbackReturn:
        try:
            return step(node, state)
        except CONFIGURATION_ERRORS as exc:
            node._release()
            node._report_failure(exc, '%s: %s' % (step.__name__, exc))
            return TransitionCallbackReturn.FAILURE
        except Exception as exc:  # noqa: B902 - any fault must reach ErrorProcessing, reported
            node._report_failure(exc, '%s failed: %s: %s' % (step.__name__, type(exc).__name__,
                                                             exc))
            return TransitionCallbackReturn.ERROR
    return run


class ClassifierNode(LifecycleNode):
    """Classifies camera frames with an RDK Model Zoo model and publishes vision_msgs."""

    def __init__(self, **kwargs) -> None:
        """Declare the parameters; nothing is loaded or subscribed before configure."""
        super().__init__(NODE_NAME, **kwargs)
        # Set before anything can raise: rclpy shuts a lifecycle node down (on_shutdown) when
        # its context shuts down, also after a failed construction.
        self._configured: Optional[Configured] = None
        self._active = False
        self._diagnostics_timer: Optional[Timer] = None
        #: While start() runs, a failed transition's error is kept for it instead of logged.
        self._starting = False
        self._failure: Optional[BaseException] = None
        declare_parameters(self)
        self._runtime = read_runtime_settings(self)
        self._labels = load_labels(self._runtime.labels)
        self._labels_version = 1
        self._result_log = ResultLog(LOG_RESULTS_PERIOD_S)
        self.add_on_set_parameters_callback(self._on_set_parameters)

    def start(self) -> None:
        """
        Configure and activate now, as a lifecycle manager with autostart would.

        Raises the transition's error (ConfigError, EngineError, ...: one actionable line for a
        configuration that cannot work); nothing is left running then.
        """
        self._starting, self._failure = True, None
        try:
            for trigger in (self.trigger_configure, self.trigger_activate):
                if trigger() != TransitionCallbackReturn.SUCCESS:
                    raise self._failure or RuntimeError('%s failed' % trigger.__name__)
        finally:
            self._starting = False

    def _report_failure(self, exc: BaseException, line: str) -> None:
        if self._starting:
            self._failure = exc
        else:
            self.get_logger().error(line)

    # Transitions ---------------------------------------------------------------------------

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

    # Steps ---------------------------------------------------------------------------------

    def _current(self) -> Configured:
        """Return what configure built; the steps after configure run only while it exists."""
        if self._configured is None:
            raise RuntimeError('the classifier is not configured')
        return self._configured

    def _configure(self) -> None:
        """Read the settings, resolve the model and load it in the workers; create publishers."""
        settings = read_startup_settings(self)
        check_distinct_outputs(settings.image_topics)
        cameras.check_transport(settings.image_transport)
        model = resolve_model(self._model_name(settings), settings.engine, settings.model_dirs)
        model_name = model.info.name if model.info else model.path.rpartition('/')[2]
        pipeline = InferencePipeline(
            self._engine_spec(settings, model), list(settings.image_topics), settings.threads,
            on_result=self._publish_result, on_drop=self._on_drop,
            resize_mode=settings.resize_mode, crop_pct=settings.crop_pct,
            settings=self._pipeline_settings(capture_input=False),
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
            perception_model = model_name if settings.publish_perception_targets else None
            camera_map = {topic: self._camera(topic, settings, perception_model)
                          for topic in settings.image_topics}
            diagnostics = Diagnostics.create(self)
        except BaseException:
            pipeline.stop()  # nothing is left running
            raise
        self._configured = Configured(
            settings=settings, model=ModelReport(model_name, model.engine, weights_note),
            pipeline=pipeline, shape=shape, cameras=camera_map, diagnostics=diagnostics,
            latency={topic: TimingWindow() for topic in camera_map})

    def _camera(self, topic: str, settings: StartupSettings,
                perception_model: Optional[str]) -> Camera:
        return cameras.create_camera(self, topic, settings.image_transport,
                                     settings.hbmem_frame_id,
                                     create_outputs(self, topic, perception_model))

    def _model_name(self, settings: StartupSettings) -> str:
        """Return the ``model`` parameter, or the default for here when it is unset (said)."""
        if settings.model.strip():
            return settings.model
        chosen = default_model(settings.engine)
        self.get_logger().info('model unset: %s, %s; set model to choose another'
                               % (chosen.name, chosen.reason))
        return chosen.name

    def _engine_spec(self, settings: StartupSettings, model: ResolvedModel) -> EngineSpec:
        """Declare the engine's parameters (engine:=auto: only now known) and build its spec."""
        kind = ENGINES[model.engine]
        options = kind.options(declare_engine_parameters(self, kind.name),
                               ModelContext(model.info, settings.threads))
        return EngineSpec(model.engine, model.path, options)

    def _activate(self) -> None:
        """Publish the label map, subscribe to the cameras and start diagnostics."""
        configured = self._current()
        self._active = True
        self._follow_enabled(configured.pipeline)
        self._publish_label_info()
        for camera in configured.cameras.values():
            cameras.subscribe(self, camera, cameras.Wiring(configured.pipeline))
        self._follow_subscribers()
        self._diagnostics_timer = self.create_timer(1.0, self._publish_diagnostics)
        settings, shape = configured.settings, configured.shape
        self.get_logger().info(
            'classifying %s with %s on %s (%d worker%s, input %dx%d, %s)'
            % (', '.join(c.resolved for c in configured.cameras.values()),
               configured.model.name, configured.model.engine, settings.threads,
               '' if settings.threads == 1 else 's', shape.input_width, shape.input_height,
               settings.resize_mode))

    def _deactivate(self) -> None:
        """
        Unsubscribe, stop diagnostics and hand over no more results; the model stays loaded.

        Frames still in the pipeline are counted as dropped_disabled, not published.
        """
        self._active = False
        configured = self._current()
        for camera in configured.cameras.values():
            cameras.unsubscribe(self, camera)
        configured.pipeline.pause()
        if self._diagnostics_timer is not None:
            self.destroy_timer(self._diagnostics_timer)
            self._diagnostics_timer = None

    def _cleanup(self) -> None:
        """Stop the workers (releasing their shared memory) and destroy the publishers."""
        configured, self._configured = self._current(), None
        configured.pipeline.stop()
        for camera in configured.cameras.values():
            destroy_outputs(self, camera.outputs)
        configured.diagnostics.destroy(self)

    def _release(self) -> None:
        """Undo whatever steps were done (shutdown from any state)."""
        if self._active:
            self._deactivate()
        if self._configured is not None:
            self._cleanup()

    # Parameters ----------------------------------------------------------------------------

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
        changed = {p.name for p in parameters}
        if pipeline is not None:
            pipeline.apply(self._pipeline_settings(pipeline.settings.capture_input))
            if self._active and 'enabled' in changed:
                self._follow_enabled(pipeline)
        if self._active and changed & {'labels', 'score_threshold'}:
            self._publish_label_info()

    def _pipeline_settings(self, capture_input: bool) -> Settings:
        """Return the pipeline's run-time settings from the parameters."""
        runtime = self._runtime
        return Settings(runtime.top_k, runtime.score_threshold, runtime.infer_timeout_s,
                        capture_input)

    def _follow_enabled(self, pipeline: InferencePipeline) -> None:
        """Pause the pipeline while ``enabled`` is false (its frames: dropped_disabled)."""
        if self._runtime.enabled:
            pipeline.resume()
        else:
            pipeline.pause()

    # Results -------------------------------------------------------------------------------

    def _publish_result(self, result: Result) -> None:
        """Publish one classification (called from the pipeline's dispatcher thread)."""
        configured = self._configured
        if configured is None:
            return  # cleaned up while the result was on its way
        shape = configured.shape
        try:
            publish_result(configured.cameras[result.camera].outputs, result, self._labels,
                           self._runtime.class_id_mode == 'name',
                           (shape.input_width, shape.input_height))
        except Exception:  # noqa: B902 - rclpy raises its internal RCLError
            if self.context.ok():
                raise
            return  # a signal shut the context down before the workers stopped
        if self._runtime.log_results:
            line = self._result_log.line(configured.cameras[result.camera].resolved,
                                         result.top, self._labels)
            if line is not None:
                self.get_logger().info(line)
        stamp = result.token.stamp
        latency = self.get_clock().now().nanoseconds - (stamp.sec * 10**9 + stamp.nanosec)
        configured.latency[result.camera].add(latency / 1e9)

    def _on_drop(self, camera: str, reason: str, message: str) -> None:
        self.get_logger().warning('%s: frame dropped (%s): %s' % (camera, reason, message),
                                  throttle_duration_sec=5.0)

    def _publish_label_info(self) -> None:
        configured = self._current()
        stamp = self.get_clock().now().to_msg()
        label_info = messages.label_info(self._labels, self._runtime.score_threshold, stamp)
        vision_info = messages.vision_info(configured.model.name, self._runtime.labels,
                                           self._labels_version, stamp,
                                           configured.model.weights_note)
        for camera in configured.cameras.values():
            camera.outputs.label_info.publish(label_info)
            camera.outputs.vision_info.publish(vision_info)

    def _publish_diagnostics(self) -> None:
        configured = self._current()
        try:
            configured.diagnostics.publish(self, configured.cameras, configured.pipeline,
                                           configured.model, configured.latency)
            self._follow_subscribers()
        except Exception:  # noqa: B902 - rclpy raises its internal RCLError
            if self.context.ok():
                raise
            # A signal shut the context down while the timer ran: the graph and publishers
            # are gone, and the process is stopping anyway.

    def _follow_subscribers(self) -> None:
        """Build PerceptionTargets and capture overlay input only while someone subscribes."""
        # Checked at activation and once a second: subscriber counts stay off the frame path.
        configured = self._current()
        pipeline = configured.pipeline
        overlay_watched = [follow_subscribers(c.outputs) for c in configured.cameras.values()]
        capture_input = self._runtime.publish_overlay and any(overlay_watched)
        if capture_input != pipeline.settings.capture_input:
            pipeline.apply(replace(pipeline.settings, capture_input=capture_input))
