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
The engine registry: every module of this package that declares ``KIND`` (a base.EngineKind).

``create_engine(EngineSpec(kind, model_path, options))`` builds one. The node's engine
parameters, the catalog's model files, ``engine:=auto`` and the launch file's choices all come
from the registry, so adding an engine is adding one module here. Engine modules import their
runtime (pyeasy_dnn, onnxruntime) only when an engine is built, so a PC never needs pyeasy_dnn
and the board never needs onnxruntime.
"""

import importlib
import pkgutil
from typing import Dict, Tuple

from .base import (Engine, EngineError, EngineKind, EngineParameter, EngineSpec,
                   ModelContext, ModelShape)


def _discover() -> Dict[str, EngineKind]:
    kinds = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module('%s.%s' % (__name__, module_info.name))
        kind = getattr(module, 'KIND', None)
        if isinstance(kind, EngineKind):
            kinds[kind.name] = kind
    return dict(sorted(kinds.items()))


#: Every engine, by name, in name order.
ENGINES: Dict[str, EngineKind] = _discover()
ENGINE_KINDS: Tuple[str, ...] = tuple(ENGINES)
#: What the ``engine`` parameter accepts.
ENGINE_CHOICES: Tuple[str, ...] = ('auto',) + ENGINE_KINDS

__all__ = ['Engine', 'EngineError', 'EngineKind', 'EngineParameter', 'EngineSpec', 'ENGINES',
           'ENGINE_CHOICES', 'ENGINE_KINDS', 'ModelContext', 'ModelShape', 'create_engine',
           'engine_kind']


def engine_kind(name: str) -> EngineKind:
    """Return the registered engine ``name``; EngineError listing the known ones if none."""
    try:
        return ENGINES[name]
    except KeyError:
        raise EngineError('unknown engine %r; use one of: %s'
                          % (name, ', '.join(ENGINE_KINDS))) from None


def create_engine(spec: EngineSpec) -> Engine:
    """Build and load the engine ``spec`` describes; EngineError with one line if it cannot."""
    return engine_kind(spec.kind).create(spec)
