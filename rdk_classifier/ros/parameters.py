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
The node's parameters: one table of declarations, typed settings read from it, validation.

Read-only parameters are read once per configure into :class:`StartupSettings`; the others
change at run time (:class:`RuntimeSettings`) and the node validates them before applying them.
Engine parameters (``<engine>.<option>``) come from the engine registry. rclpy enforces ranges
and read-only flags from the descriptors; choices are checked by :func:`check_choice`.
"""

from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rdk_classifier.catalog import ConfigError
from rdk_classifier.engines import ENGINE_CHOICES, ENGINES
from rdk_classifier.inference.frames import DEFAULT_MAX_PIXELS, RESIZE_MODES

TRANSPORTS = ('auto', 'raw', 'compressed', 'hbmem')
CLASS_ID_MODES = ('index', 'name')
EXECUTORS = ('auto', 'events', 'single_threaded')


@dataclass(frozen=True)
class ParameterSpec:
    """One node parameter: name, default (its type is the parameter's) and constraints."""

    name: str
    #: A value, or a Parameter.Type for a parameter without a default (unset until given).
    default: Any
    description: str
    read_only: bool = True
    choices: Tuple[str, ...] = ()
    minimum: Optional[float] = None
    maximum: Optional[float] = None

    def descriptor(self) -> ParameterDescriptor:
        """Return the descriptor rclpy enforces and `ros2 param describe` shows."""
        descriptor = ParameterDescriptor(
            description=self.description, read_only=self.read_only,
            additional_constraints='one of: ' + ', '.join(self.choices) if self.choices else '')
        if self.minimum is not None or self.maximum is not None:
            if isinstance(self.default, bool):
                return descriptor
            if isinstance(self.default, int):
                descriptor.integer_range = [IntegerRange(
                    from_value=int(self.minimum if self.minimum is not None else -2**63),
                    to_value=int(self.maximum if self.maximum is not None else 2**63 - 1),
                    step=1)]
            elif isinstance(self.default, float):
                descriptor.floating_point_range = [FloatingPointRange(
                    from_value=float(self.minimum if self.minimum is not None else -1e308),
                    to_value=float(self.maximum if self.maximum is not None else 1e308),
                    step=0.0)]
        return descriptor


NODE_PARAMETERS: Tuple[ParameterSpec, ...] = (
    ParameterSpec('model', 'RepViT_m0_9',
                  'Zoo model name (config/models.yaml, case-insensitive) or model file path'),
    ParameterSpec('engine', 'auto', 'Inference engine', choices=ENGINE_CHOICES),
    ParameterSpec('threads', 2, 'Inference worker processes, each with its own loaded model',
                  minimum=1, maximum=64),
    ParameterSpec('image_topics', ['image_raw'],
                  'Camera topics (relative names resolve in the node namespace); results go to '
                  'the namespace of each'),
    ParameterSpec('image_transport', 'auto',
                  'auto: the type of the topic publishers (Image, CompressedImage on the '
                  'topic or on <topic>/compressed, hbm_img_msgs); raw: sensor_msgs/Image on the '
                  'topic; compressed: sensor_msgs/CompressedImage on <topic>/compressed; hbmem: '
                  'hbm_img_msgs/HbmMsg480P/540P/1080P (the RDK shared-memory camera) on the '
                  'topic', choices=TRANSPORTS),
    ParameterSpec('hbmem_frame_id', 'camera',
                  'frame_id of the results of hbm_img_msgs frames (they carry none)'),
    ParameterSpec('resize_mode', 'center_crop', 'How frames are fitted to the model input',
                  choices=RESIZE_MODES),
    ParameterSpec('crop_pct', 0.875,
                  'center_crop: the shorter side is resized to input / crop_pct',
                  minimum=0.05, maximum=1.0),
    ParameterSpec('max_frame_pixels', DEFAULT_MAX_PIXELS,
                  'Frames with more pixels (width x height, read before decoding) are dropped '
                  'as malformed: bounds the memory a hostile frame can cost',
                  minimum=1),
    ParameterSpec('model_dirs', Parameter.Type.STRING_ARRAY,
                  'Folders searched for model files before the defaults'),
    ParameterSpec('executor', 'auto',
                  'auto: the events executor where rclpy has it (less CPU per frame), else '
                  'single_threaded', choices=EXECUTORS),
    ParameterSpec('top_k', 5, 'Results per classification', read_only=False,
                  minimum=1, maximum=1000),
    ParameterSpec('score_threshold', 0.0, 'Results with a lower softmax score are left out',
                  read_only=False, minimum=0.0, maximum=1.0),
    ParameterSpec('class_id_mode', 'index',
                  'class_id holds the class index (as a string) or the label', read_only=False,
                  choices=CLASS_ID_MODES),
    ParameterSpec('labels', '', 'Labels file (JSON list, Python dict literal or one name per '
                  'line); empty: ImageNet-1k', read_only=False),
    ParameterSpec('infer_timeout_ms', 5000,
                  'A worker whose forward takes longer is restarted; 0 disables the limit',
                  read_only=False, minimum=0, maximum=3600000),
    ParameterSpec('enabled', True, 'Classify incoming frames', read_only=False),
    ParameterSpec('publish_overlay', False,
                  'Publish the model input annotated with the top result on '
                  '<ns>/classification_overlay (only while someone subscribes)',
                  read_only=False),
    ParameterSpec('publish_perception_targets', True,
                  'Also publish ai_msgs/PerceptionTargets on <ns>/perception_targets (the '
                  'smart topic of the RDK browser view, hobot_websocket) where ai_msgs is '
                  'installed'),
)


def engine_parameters() -> Tuple[ParameterSpec, ...]:
    """Return the ``<engine>.<option>`` parameters of every registered engine."""
    return tuple(ParameterSpec('%s.%s' % (kind.name, p.name), p.default, p.description,
                               minimum=p.minimum, maximum=p.maximum)
                 for kind in ENGINES.values() for p in kind.parameters)


def declare_parameters(node: Node) -> None:
    """Declare every parameter of the node (both modes declare them at construction)."""
    for spec in NODE_PARAMETERS + engine_parameters():
        node.declare_parameter(spec.name, spec.default, spec.descriptor())


@dataclass(frozen=True)
class StartupSettings:
    """The read-only parameters, read and checked at configure."""

    model: str
    engine: str
    threads: int
    image_topics: Tuple[str, ...]
    image_transport: str
    resize_mode: str
    crop_pct: float
    max_frame_pixels: int
    model_dirs: Tuple[str, ...]
    hbmem_frame_id: str
    publish_perception_targets: bool
    #: Per engine, its parameter values by option name.
    engine_values: Dict[str, Dict[str, Any]]


def read_startup_settings(node: Node) -> StartupSettings:
    """Read the read-only parameters; ConfigError (one actionable line) for unusable ones."""
    value = _reader(node)
    for spec in NODE_PARAMETERS:
        if spec.read_only and spec.choices and check_choice(spec.name, value(spec.name)):
            raise ConfigError('parameter %s is %r; use one of: %s'
                              % (spec.name, value(spec.name), ', '.join(spec.choices)))
    topics = tuple(t for t in value('image_topics') if t)
    if not topics:
        raise ConfigError('image_topics is empty; give at least one camera topic')
    try:
        model_dirs = tuple(d for d in value('model_dirs') if d)
    except ParameterUninitializedException:
        model_dirs = ()
    return StartupSettings(
        model=value('model'), engine=value('engine'), threads=value('threads'),
        image_topics=topics, image_transport=value('image_transport'),
        resize_mode=value('resize_mode'), crop_pct=value('crop_pct'),
        max_frame_pixels=value('max_frame_pixels'), model_dirs=model_dirs,
        hbmem_frame_id=value('hbmem_frame_id'),
        publish_perception_targets=value('publish_perception_targets'),
        engine_values={kind.name: {p.name: value('%s.%s' % (kind.name, p.name))
                                   for p in kind.parameters}
                       for kind in ENGINES.values()})


@dataclass
class RuntimeSettings:
    """The parameters that change at run time, as the node applies them."""

    top_k: int
    score_threshold: float
    class_id_mode: str
    labels: str
    infer_timeout_ms: int
    enabled: bool
    publish_overlay: bool

    @property
    def infer_timeout_s(self) -> Optional[float]:
        """Return the forward time limit in seconds; None when disabled (0)."""
        return self.infer_timeout_ms / 1e3 if self.infer_timeout_ms > 0 else None


def read_runtime_settings(node: Node) -> RuntimeSettings:
    """Read the run-time parameters as they are now."""
    value = _reader(node)
    return RuntimeSettings(**{spec.name: value(spec.name)
                              for spec in NODE_PARAMETERS if not spec.read_only})


def check_choice(name: str, value: Any) -> str:
    """Return why a parameter with choices cannot take ``value`` ('' when it can)."""
    spec = next((s for s in NODE_PARAMETERS if s.name == name), None)
    if spec is not None and spec.choices and value not in spec.choices:
        return '%s must be one of: %s' % (name, ', '.join(spec.choices))
    return ''


def _reader(node: Node):
    def value(name: str) -> Any:
        return node.get_parameter(name).value
    return value


def output_topic(image_topic: str, name: str) -> str:
    """Return the topic ``name`` beside ``image_topic`` (/cam/image_raw -> /cam/<name>)."""
    parent = image_topic.rstrip('/').rpartition('/')[0]
    if image_topic.startswith('/'):
        return parent + '/' + name
    return parent + '/' + name if parent else name


def check_distinct_outputs(topics: Sequence[str]) -> None:
    """Raise ConfigError unless every camera topic has its own namespace for results."""
    outputs = [output_topic(t, 'classification') for t in topics]
    if len(set(outputs)) != len(outputs):
        raise ConfigError('image_topics %s share a namespace, so their results would share '
                          'a topic; give each camera its own namespace' % list(topics))
