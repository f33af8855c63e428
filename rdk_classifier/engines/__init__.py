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
Inference engines behind one small interface (see base.Engine).

``create_engine(EngineSpec(kind, model_path, options))`` builds one; each backend module is
imported only when used, so a PC never needs pyeasy_dnn and the board never needs onnxruntime.
"""

from .base import Engine, EngineError, EngineSpec

ENGINE_KINDS = ('fake', 'hobot_dnn', 'onnxruntime')

__all__ = ['Engine', 'EngineError', 'EngineSpec', 'ENGINE_KINDS', 'create_engine',
           'hobot_dnn_available']


def create_engine(spec: EngineSpec) -> Engine:
    """Build and load the engine ``spec`` describes; EngineError with one line if it cannot."""
    if spec.kind == 'fake':
        from .fake import FakeEngine
        return FakeEngine(spec.options)
    if spec.kind == 'hobot_dnn':
        from .hobot import HobotDnnEngine
        return HobotDnnEngine(spec.model_path, spec.options)
    if spec.kind == 'onnxruntime':
        from .onnx import OnnxEngine
        return OnnxEngine(spec.model_path, spec.options)
    raise EngineError('unknown engine %r; use one of: %s' % (spec.kind, ', '.join(ENGINE_KINDS)))


def hobot_dnn_available() -> bool:
    """Tell whether the board's pyeasy_dnn can be imported here."""
    from .hobot import import_pyeasy_dnn
    try:
        import_pyeasy_dnn()
    except EngineError:
        return False
    return True
