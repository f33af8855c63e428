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

The table (:data:`NODE_PARAMETERS`, and each engine's ``<engine>.<option>`` parameters from the
engine registry) is where every default is stated: config/classifier.yaml and the README's
parameter table are rendered from it (``python -m rdk_classifier.ros.parameters --yaml`` /
``--markdown``; a test checks both). A node declares only its own engine's parameters: at
construction when ``engine`` names one, at configure once ``engine:=auto`` has picked one.

Read-only parameters are read once per configure into :class:`StartupSettings`; the others
change at run time (:class:`RuntimeSettings`) and the node validates them before applying them.
rclpy enforces ranges and read-only flags from the descriptors; choices are checked by
:func:`check_choice`. Everything here runs on the executor thread (construction, transitions,
parameter callbacks).
"""

import argparse
from dataclasses import dataclass
import json
import sys
import textwrap
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rdk_classifier import hints
from rdk_classifier.engines import ENGINE_CHOICES, ENGINES
from rdk_classifier.errors import ConfigError
from rdk_classifier.inference.frames import DEFAULT_MAX_PIXELS, RESIZE_MODES

TRANSPORTS = ('auto', 'raw', 'compressed', 'hbmem')
CLASS_ID_MODES = ('index', 'name')
EXECUTORS = ('auto', 'events', 'single_threaded')
#: The model of an unset ``model`` where the BPU engine runs, and elsewhere (embedded, ONNX).
BOARD_MODEL = 'RepViT_m0_9'
PC_MODEL = hints.LITE0
#: log_results: at most one line per camera this often.
LOG_RESULTS_PERIOD_S = 2.0


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
    ParameterSpec('model', '',
                  'Zoo model name (config/models.yaml, case-insensitive) or model file path; '
                  'empty: %s where the BPU engine (hobot_dnn) runs, else %s (ONNX, built at '
                  'set-up)' % (BOARD_MODEL, PC_MODEL)),
    ParameterSpec('engine', 'auto',
                  "Inference engine; auto: hobot_dnn where the board's pyeasy_dnn is "
                  'installed, else onnxruntime (a model file: by its suffix)',
                  choices=ENGINE_CHOICES),
    ParameterSpec('threads', 2,
                  'Inference worker processes, each with its own loaded model; 4 reproduces '
                  "the zoo's multi-thread throughput on the RDK X5, 1 gives the lowest latency",
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
    ParameterSpec('log_results', True,
                  "Log each camera's top-1 result at most every %g s ('<camera>: <label> "
                  "<score>')" % LOG_RESULTS_PERIOD_S, read_only=False),
    ParameterSpec('publish_overlay', False,
                  'Publish the model input annotated with the top result on '
                  '<ns>/classification_overlay (only while someone subscribes)',
                  read_only=False),
    ParameterSpec('publish_perception_targets', True,
                  'Also publish ai_msgs/PerceptionTargets on <ns>/perception_targets (the '
                  'smart topic of the RDK browser view, hobot_websocket) where ai_msgs is '
                  'installed'),
)


def engine_parameters(engine: str) -> Tuple[ParameterSpec, ...]:
    """Return the ``<engine>.<option>`` parameters of the registered engine ``engine``."""
    return tuple(ParameterSpec('%s.%s' % (engine, p.name), p.default, p.description,
                               minimum=p.minimum, maximum=p.maximum)
                 for p in ENGINES[engine].parameters)


def declare_parameters(node: Node) -> None:
    """
    Declare the node's parameters, and its engine's where ``engine`` names one.

    With ``engine:=auto`` the engine's parameters wait for :func:`declare_engine_parameters`
    at configure, once the model has decided the engine.
    """
    for spec in NODE_PARAMETERS:
        node.declare_parameter(spec.name, spec.default, spec.descriptor())
    engine = node.get_parameter('engine').value
    if engine in ENGINES:
        declare_engine_parameters(node, engine)


def declare_engine_parameters(node: Node, engine: str) -> Dict[str, Any]:
    """Declare ``engine``'s parameters unless declared; return their values by option name."""
    for spec in engine_parameters(engine):
        if not node.has_parameter(spec.name):
            node.declare_parameter(spec.name, spec.default, spec.descriptor())
    return {p.name: node.get_parameter('%s.%s' % (engine, p.name)).value
            for p in ENGINES[engine].parameters}


@dataclass(frozen=True)
class DefaultModel:
    """The model an unset ``model`` stands for here, and why (said once at configure)."""

    name: str
    reason: str


def default_model(engine: str) -> DefaultModel:
    """Return the model for an unset ``model``: the BPU's where it runs, else the embedded one."""
    if engine == 'hobot_dnn':
        return DefaultModel(BOARD_MODEL, 'as engine is hobot_dnn')
    if engine != 'auto':
        return DefaultModel(PC_MODEL, 'as engine is %s' % engine)
    if hints.on_board():  # a find_spec probe: pyeasy_dnn is not imported here
        return DefaultModel(BOARD_MODEL, "as the BPU engine runs here (the board's pyeasy_dnn "
                                         'is installed)')
    return DefaultModel(PC_MODEL, 'the embedded model, as the BPU engine does not run here '
                                  "(the board's pyeasy_dnn is not installed)")


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
        publish_perception_targets=value('publish_perception_targets'))


@dataclass
class RuntimeSettings:
    """The parameters that change at run time, as the node applies them."""

    top_k: int
    score_threshold: float
    class_id_mode: str
    labels: str
    infer_timeout_ms: int
    enabled: bool
    log_results: bool
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


# Rendered documentation: config/classifier.yaml and the README's table come from the table.

#: The README's parameter section lies between these lines.
README_BEGIN = '<!-- parameters: python -m rdk_classifier.ros.parameters --markdown -->'
README_END = '<!-- /parameters -->'


def _value(value: Any) -> str:
    """Return a default as YAML (and JSON) writes it: true, 0.875, "image_raw", [...]."""
    if isinstance(value, Parameter.Type):
        return 'unset'
    return json.dumps(value)


def _constraints(spec: ParameterSpec) -> str:
    if spec.choices:
        return 'one of: ' + ', '.join(spec.choices)
    if isinstance(spec.default, bool) or not isinstance(spec.default, (int, float)):
        return ''  # as descriptor(): ranges are for numbers
    if spec.minimum is not None and spec.maximum is not None:
        return '%s to %s' % (_value(spec.default.__class__(spec.minimum)),
                             _value(spec.default.__class__(spec.maximum)))
    if spec.minimum is not None:
        return '>= %s' % _value(spec.default.__class__(spec.minimum))
    return ''


def _cell(text: str) -> str:
    """Escape what Markdown would read as table columns or HTML tags."""
    return text.replace('|', '\\|').replace('<', '\\<')


def render_markdown() -> str:
    """Return the README's parameter section (between README_BEGIN and README_END)."""
    lines = ['| parameter | default | run time | what it does |', '|---|---|---|---|']
    for spec in NODE_PARAMETERS:
        constraints = _constraints(spec)
        lines.append('| `%s` | `%s` | %s | %s%s |' % (
            spec.name, _value(spec.default), '' if spec.read_only else 'yes',
            _cell(spec.description), ' (%s)' % constraints if constraints else ''))
    lines += ['', 'Engine parameters, read-only, declared only by a node running that engine '
              '(with `engine:=auto`, at configure once the model has decided it):', '',
              '| parameter | default | what it does |', '|---|---|---|']
    for engine in ENGINES:
        for spec in engine_parameters(engine):
            constraints = _constraints(spec)
            lines.append('| `%s` | `%s` | %s%s |' % (
                spec.name, _value(spec.default), _cell(spec.description),
                ' (%s)' % constraints if constraints else ''))
    return '\n'.join(lines) + '\n'


def render_yaml() -> str:
    """Return config/classifier.yaml: every parameter with its default, described."""
    def comment(text: str, indent: str) -> List[str]:
        return textwrap.wrap(text, 99, initial_indent=indent + '# ',
                             subsequent_indent=indent + '# ')

    lines = [
        "# The rdk_classifier node's parameters and their defaults (classify.launch.py's "
        'params_file).',
        '# Generated from the table in rdk_classifier/ros/parameters.py, which states the '
        'defaults:',
        '#   python -m rdk_classifier.ros.parameters --yaml > config/classifier.yaml',
        '# Copy it and pass yours as params_file:=... Ranges and what changes at run time:',
        '#   ros2 param describe /rdk_classifier <name>   (under namespace:=robot1: '
        '/robot1/rdk_classifier)',
        '/**:', '  ros__parameters:']
    indent = ' ' * 4
    for spec in NODE_PARAMETERS:
        constraints = _constraints(spec)
        lines += comment(spec.description + ('; %s' % constraints if constraints else ''),
                         indent)
        if isinstance(spec.default, Parameter.Type):
            lines.append('%s# %s: unset' % (indent, spec.name))
        else:
            lines.append('%s%s: %s' % (indent, spec.name, _value(spec.default)))
    lines += comment('Engine parameters, declared only by a node running that engine:', indent)
    lines += ['%s#   %s: %s' % (indent, spec.name, _value(spec.default))
              for engine in ENGINES for spec in engine_parameters(engine)]
    return '\n'.join(lines) + '\n'


def replace_readme_section(readme: str) -> str:
    """Return README.md text with its parameter section rendered afresh."""
    begin, end = readme.index(README_BEGIN), readme.index(README_END)
    return readme[:begin + len(README_BEGIN)] + '\n' + render_markdown() + readme[end:]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print the README's parameter section or config/classifier.yaml, rendered."""
    parser = argparse.ArgumentParser(
        prog='python -m rdk_classifier.ros.parameters', description=main.__doc__)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument('--markdown', action='store_true',
                      help="the README's parameter table (between %s and %s)"
                      % (README_BEGIN, README_END))
    what.add_argument('--yaml', action='store_true', help='config/classifier.yaml')
    what.add_argument('--readme', metavar='README_MD',
                      help='rewrite the parameter section of this README.md in place')
    args = parser.parse_args(argv)
    if args.readme:
        with open(args.readme, encoding='utf-8') as stream:
            text = replace_readme_section(stream.read())
        with open(args.readme, 'w', encoding='utf-8') as stream:
            stream.write(text)
    else:
        sys.stdout.write(render_markdown() if args.markdown else render_yaml())
    return 0


if __name__ == '__main__':
    sys.exit(main())
