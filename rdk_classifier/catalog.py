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
The model catalog, model file resolution and labels (no ROS inside).

config/models.yaml lists the zoo models with their published RDK X5 figures and preprocessing;
resolve_model() turns a parameter value (zoo name or file path) and an engine choice into a file
and a concrete engine, or one actionable ConfigError line (a missing model's error adds, on lines
of their own, the commands that get it on a board or on a PC: hints.missing_model).
"""

import ast
from dataclasses import dataclass
import difflib
import functools
import json
import os
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from rdk_classifier import hints
from rdk_classifier.engines import ENGINE_CHOICES, EngineKind, ENGINES
from rdk_classifier.errors import ConfigError
from rdk_classifier.paths import PACKAGE, package_config_path
import yaml

LABELS_FILE = Path(__file__).resolve().parent / 'data' / 'imagenet1k_labels.txt'
#: models.yaml keys ending so name a model file of the engine whose zoo_file_key they are.
FILE_KEY_SUFFIX = '_file'


@dataclass(frozen=True)
class ModelInfo:
    """One catalog entry (figures are None where the zoo publishes none)."""

    name: str
    family: str
    input_height: int
    input_width: int
    params_m: Optional[float]
    top1_float: Optional[float]
    top1_quant: Optional[float]
    latency_ms_1t: Optional[float]
    fps_1t: Optional[float]
    latency_ms_4t: Optional[float]
    fps_4t: Optional[float]
    bin_url: str
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]
    crop_pct: float
    #: Model file names by models.yaml key (``bin_file``, ``onnx_file``: an engine kind's
    #: zoo_file_key); '' or absent where the zoo has no file for that engine.
    files: Mapping[str, str]

    def file_for(self, kind: EngineKind) -> str:
        """Return the file name of this model for engine ``kind``; '' if it has none."""
        return self.files.get(kind.zoo_file_key, '') if kind.zoo_file_key else ''

    @property
    def bin_file(self) -> str:
        """Return the zoo's .bin file name (for the programs that handle that format by name)."""
        return self.files.get('bin_file', '')

    @property
    def onnx_file(self) -> str:
        """Return the float .onnx file name (for the programs that handle that format by name)."""
        return self.files.get('onnx_file', '')


@dataclass(frozen=True)
class ResolvedModel:
    """A model file (empty for the fake engine) and the engine that runs it."""

    path: str
    info: Optional[ModelInfo]
    engine: str


def default_cache_dir() -> Path:
    """Return $RDK_CLASSIFIER_CACHE, else $XDG_CACHE_HOME/rdk_classifier, else ~/.cache/..."""
    if os.environ.get('RDK_CLASSIFIER_CACHE'):
        return Path(os.environ['RDK_CLASSIFIER_CACHE']).expanduser()
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join('~', '.cache')
    return Path(base).expanduser() / PACKAGE


def default_model_dirs() -> Tuple[str, ...]:
    """Return the folders always searched for model files, after the user's."""
    return ('/opt/hobot/model/x5/basic', str(default_cache_dir() / 'models'))


@functools.lru_cache(maxsize=4)
def load_catalog(path: Optional[str] = None) -> Dict[str, ModelInfo]:
    """Return the catalog keyed by lower-case model name."""
    source = Path(path) if path else package_config_path('models.yaml')
    with open(source, encoding='utf-8') as stream:
        entries = yaml.safe_load(stream)['models']
    catalog = {}
    for entry in entries:
        height, width = entry.pop('input_size')
        entry['mean'], entry['std'] = tuple(entry['mean']), tuple(entry['std'])
        files = {key: entry.pop(key) or '' for key in list(entry)
                 if key.endswith(FILE_KEY_SUFFIX)}
        info = ModelInfo(input_height=height, input_width=width, files=files, **entry)
        catalog[info.name.lower()] = info
    return catalog


def find_model(name: str) -> Optional[ModelInfo]:
    """Return the catalog entry of ``name`` (case-insensitive), or None."""
    return load_catalog().get(name.strip().lower())


def resolve_model(model: str, engine: str = 'auto',
                  model_dirs: Sequence[str] = ()) -> ResolvedModel:
    """Find the model file and the engine for a ``model`` parameter (zoo name or path)."""
    if engine not in ENGINE_CHOICES:
        raise ConfigError('engine %r is not one of: %s' % (engine, ', '.join(ENGINE_CHOICES)))
    info = find_model(model)
    if info is None:
        _check_model_path_suffix(model)
    if engine != 'auto' and not ENGINES[engine].model_suffix:
        # An engine without model files (fake): a zoo name gives it the input size.
        return ResolvedModel('', info, engine)
    if info is None:
        return _resolve_path(model, engine)
    if engine == 'auto':
        engine = _automatic_engine(info)
    filename = info.file_for(ENGINES[engine])
    if not filename:
        others = [k.name for k in ENGINES.values() if info.file_for(k)]
        raise ConfigError('model %s has no %s file; use engine:=%s'
                          % (info.name, engine, ' or engine:='.join(others)))
    folders = [str(Path(d).expanduser()) for d in model_dirs] + list(default_model_dirs())
    for folder in folders:
        candidate = Path(folder) / filename
        if candidate.is_file():
            return ResolvedModel(str(candidate), info, engine)
    # The first line says what is missing; the lines after, what to paste where the user is.
    raise ConfigError('model %s (%s) is not in %s\n%s'
                      % (info.name, filename, ', '.join(folders),
                         hints.missing_model(info.name, filename, info.bin_url)))


def _automatic_engine(info: ModelInfo) -> str:
    """Return the first engine by auto_rank that can run here and has a file of ``info``."""
    candidates = [(k.auto_rank, k) for k in ENGINES.values()
                  if k.auto_rank is not None and info.file_for(k)]
    ranked = [kind for _, kind in sorted(candidates, key=lambda candidate: candidate[0])]
    if not ranked:
        raise ConfigError('model %s has no model file for any engine in %s'
                          % (info.name, package_config_path('models.yaml')))
    # The last one is taken even when it cannot run here: its load then says what to install.
    return next((k.name for k in ranked if not k.missing()), ranked[-1].name)


def _model_suffixes() -> List[str]:
    return [k.model_suffix for k in ENGINES.values() if k.model_suffix]


def _check_model_path_suffix(model: str) -> None:
    """Raise ConfigError, with close zoo names, unless ``model`` names a model file."""
    if Path(model).suffix.lower() not in _model_suffixes():
        close = difflib.get_close_matches(model.lower(), list(load_catalog()), n=3, cutoff=0.5)
        names = [load_catalog()[c].name for c in close]
        hint = ('did you mean %s?' % ', '.join(names) if names
                else 'the zoo names are in %s' % package_config_path('models.yaml'))
        raise ConfigError('model %r is neither a zoo name nor a %s file path; %s'
                          % (model, '/'.join(_model_suffixes()), hint))


def _resolve_path(model: str, engine: str) -> ResolvedModel:
    path = Path(model).expanduser()
    suffix = path.suffix.lower()
    fitting = next(k for k in ENGINES.values() if k.model_suffix == suffix)
    if engine == 'auto':
        if fitting.missing():
            raise ConfigError('%s is a %s model, but %s'
                              % (model, fitting.name, fitting.missing()))
        engine = fitting.name
    wanted = ENGINES[engine].model_suffix
    if suffix != wanted:
        raise ConfigError('%s is a %s model; engine %s runs %s files, use engine:=%s'
                          % (model, suffix, engine, wanted, fitting.name))
    if not path.is_file():
        raise ConfigError('model file %s does not exist' % path)
    return ResolvedModel(str(path), None, engine)


def load_labels(source: str = '') -> List[str]:
    """
    Return class names: the shipped ImageNet-1k ones, or those of a labels file.

    A file may be a JSON list, a Python dict literal {0: 'tench', ...} (the zoo's
    ImageNet_1k.json) or one name per line.
    """
    path = Path(source).expanduser() if source else LABELS_FILE
    try:
        text = path.read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError('labels file %s cannot be read: %s' % (path, exc)) from exc
    labels = _parse_labels(text.strip(), path)
    if not labels:
        raise ConfigError('labels file %s has no labels' % path)
    return labels


def _parse_labels(text: str, path: Path) -> List[str]:
    if text[:1] == '[':
        try:
            names = json.loads(text)
        except ValueError as exc:
            raise ConfigError('labels file %s is not a valid JSON list: %s' % (path, exc))
        if not all(isinstance(n, str) for n in names):
            raise ConfigError('labels file %s: the JSON list must hold strings' % path)
        return names
    if text[:1] == '{':
        try:
            mapping = ast.literal_eval(text)
        except (ValueError, SyntaxError) as exc:
            raise ConfigError('labels file %s is not a valid dict literal: %s' % (path, exc))
        try:
            keys = sorted(int(k) for k in mapping)
        except (TypeError, ValueError):
            raise ConfigError('labels file %s: dict keys must be class indices' % path)
        if keys != list(range(len(keys))):
            raise ConfigError('labels file %s: dict keys must be 0..%d without gaps'
                              % (path, len(keys) - 1))
        by_index = {int(k): v for k, v in mapping.items()}
        return [str(by_index[i]) for i in keys]
    return [line.strip() for line in text.splitlines() if line.strip()]
