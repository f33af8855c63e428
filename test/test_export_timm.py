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
Tests of the export of the zoo models through timm.

Real weights by default; random ones only when asked, and then marked speed-only.

timm is not in the default set-up and its weights come from the network: the export code runs
for real (torch.onnx.export, metadata, the ONNX Runtime check, the atomic write) with a timm
double in place of timm; where the real timm is installed, it runs with only its download
(huggingface_hub's hf_hub_download) replaced.
"""

import sys
import types

import numpy as np
import pytest
from rdk_classifier.engines import create_engine, EngineError, EngineSpec
from rdk_classifier.engines.onnx import read_model_notes, SPEED_ONLY_PURPOSE
from rdk_classifier.programs.export_onnx import export_model, ExportError, main

try:
    import onnx
    import torch
    from torch.nn import Module as TorchModule
except ImportError:  # every test skips (conftest's requires mark); the module still imports
    TorchModule = object

pytestmark = pytest.mark.requires(
    'torch', 'onnx', 'onnxruntime',
    reason='exporting a timm model needs torch (not in the default set-up), the export writes '
           'metadata with the onnx package and checks the model on onnxruntime')


def metadata_of(path):
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def run_onnx(path, data):
    import onnxruntime
    session = onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    return session.run(None, {'data': data})[0]


def assert_one_line(message, *parts):
    assert '\n' not in message
    for part in parts:
        assert part in message


# The zoo models through timm (a double) ---------------------------------------------------------

class TinyNet(TorchModule):
    """A small classifier standing in for a timm architecture (any input size, 10 classes)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, stride=4)
        self.fc = torch.nn.Linear(4, 10)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def served_weights(seed):
    """Return a TinyNet state dict unlike any random initialization (the 'pretrained' ones)."""
    generator = torch.Generator().manual_seed(seed)
    return {name: torch.rand(value.shape, generator=generator) + 1.0
            for name, value in TinyNet().state_dict().items()}


def timm_double(hub, registered=('repvit_m0_9',)):
    """
    Return a stand-in for the timm module; ``hub(hf_hub_id)`` serves or fails a download.

    ``registered``: the names with pretrained weights.

    Follows timm 1.0.31: timm/models/_factory.py create_model(model_name, pretrained=False,
    ..., checkpoint_path=None) builds the model, with pretrained=True loads the weights through
    _builder.load_pretrained (the Hugging Face download, whose errors propagate, then
    load_state_dict strict), then with checkpoint_path calls _helpers.load_checkpoint (torch.load;
    a 'state_dict_ema', 'model_ema', 'state_dict' or 'model' entry if there is one; strict
    load_state_dict). build_model_with_cfg sets model.pretrained_cfg, a dict with hf_hub_id
    'timm/<name>.<tag>'. _registry.is_model_pretrained(name) tells if any weights are registered.
    """
    module = types.ModuleType('timm')
    module.calls = []

    def create_model(model_name, pretrained=False, checkpoint_path=None):
        module.calls.append((model_name, pretrained, checkpoint_path))
        model = TinyNet()
        model.pretrained_cfg = {'architecture': model_name,
                                'hf_hub_id': 'timm/%s.dist_300e_in1k' % model_name}
        if pretrained:
            if model_name not in registered:
                raise RuntimeError('No pretrained weights exist for %s. Use `pretrained=False` '
                                   'for random init.' % model_name)
            model.load_state_dict(hub(model.pretrained_cfg['hf_hub_id']), strict=True)
        if checkpoint_path:
            checkpoint = torch.load(checkpoint_path, map_location='cpu', weights_only=True)
            key = next((k for k in ('state_dict_ema', 'model_ema', 'state_dict', 'model')
                        if isinstance(checkpoint, dict) and k in checkpoint), None)
            model.load_state_dict(checkpoint[key] if key else checkpoint, strict=True)
        return model

    module.create_model = create_model
    module.is_model_pretrained = lambda name: name in registered
    return module


class LocalEntryNotFoundError(FileNotFoundError):
    """huggingface_hub.errors.LocalEntryNotFoundError: offline, and the file is not cached."""


OFFLINE = ('An error happened while trying to locate the file on the Hub and we cannot find the '
           'requested files in the local cache. Please check your connection and try again or '
           'make sure your Internet connection is on.')


def offline_hub(hf_hub_id):
    raise LocalEntryNotFoundError(OFFLINE)


def check_weights_in_file(path, state_dict):
    """Assert that the ONNX file computes what TinyNet with ``state_dict`` computes."""
    model = TinyNet()
    model.load_state_dict(state_dict)
    data = np.random.default_rng(0).random((1, 3, 224, 224), np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(data)).numpy()
    np.testing.assert_allclose(run_onnx(path, data), expected, rtol=1e-4, atol=1e-5)


def test_default_export_has_the_pretrained_weights(monkeypatch, tmp_path):
    served = served_weights(1)
    requested = []
    timm = timm_double(lambda hf_hub_id: requested.append(hf_hub_id) or served)
    monkeypatch.setitem(sys.modules, 'timm', timm)
    path = export_model('RepViT_m0_9', str(tmp_path / 'repvit_m0_9.onnx'))
    assert timm.calls == [('repvit_m0_9', True, None)]
    assert requested == ['timm/repvit_m0_9.dist_300e_in1k']
    check_weights_in_file(path, served)
    metadata = metadata_of(path)
    assert metadata['weights'] == 'timm pretrained timm/repvit_m0_9.dist_300e_in1k'
    assert metadata['model'] == 'RepViT_m0_9' and 'purpose' not in metadata
    assert metadata['mean'] == '123.675,116.28,103.53'
    assert not read_model_notes(str(path)).speed_only
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_no_download_fails_with_one_line_saying_how(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, 'timm', timm_double(offline_hub))
    target = tmp_path / 'repvit_m0_9.onnx'
    with pytest.raises(ExportError) as caught:
        export_model('RepViT_m0_9', str(target))
    assert_one_line(str(caught.value), 'could not get the timm pretrained weights',
                    'Internet connection', 'machine with internet', '--checkpoint FILE',
                    '--random-weights')
    assert main(['RepViT_m0_9', '-o', str(target)]) == 1
    error = capsys.readouterr().err
    assert error.startswith('export_onnx: could not get') and error.count('\n') == 1
    assert list(tmp_path.iterdir()) == []


def test_no_registered_weights_is_not_silently_random(monkeypatch, tmp_path):
    timm = timm_double(lambda hf_hub_id: served_weights(1), registered=())
    monkeypatch.setitem(sys.modules, 'timm', timm)
    with pytest.raises(ExportError, match='timm has no pretrained weights for repvit_m0_9; '
                                          'pass --checkpoint FILE'):
        export_model('RepViT_m0_9', str(tmp_path / 'x.onnx'))
    assert timm.calls == []


@pytest.mark.parametrize('wrap', [lambda sd: sd, lambda sd: {'state_dict': sd, 'epoch': 3}])
def test_checkpoint_weights_are_exported(monkeypatch, tmp_path, wrap):
    timm = timm_double(offline_hub)
    monkeypatch.setitem(sys.modules, 'timm', timm)
    weights = served_weights(2)
    checkpoint = tmp_path / 'mine.pth'
    torch.save(wrap(weights), str(checkpoint))
    assert main(['RepViT_m0_9', '-o', str(tmp_path / 'out.onnx'),
                 '--checkpoint', str(checkpoint)]) == 0
    assert timm.calls == [('repvit_m0_9', False, str(checkpoint))]
    check_weights_in_file(tmp_path / 'out.onnx', weights)
    assert metadata_of(tmp_path / 'out.onnx')['weights'] == 'checkpoint mine.pth'


def test_bad_checkpoints_fail_with_one_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, 'timm', timm_double(offline_hub))
    with pytest.raises(ExportError, match='checkpoint .*none.pth does not exist'):
        export_model('RepViT_m0_9', str(tmp_path / 'x.onnx'), str(tmp_path / 'none.pth'))
    other = tmp_path / 'other.pth'
    torch.save({'head.weight': torch.zeros(2)}, str(other))
    with pytest.raises(ExportError) as caught:
        export_model('RepViT_m0_9', str(tmp_path / 'x.onnx'), str(other))
    assert_one_line(str(caught.value), 'other.pth does not load into timm repvit_m0_9',
                    'head.weight')
    assert not (tmp_path / 'x.onnx').exists()


def test_random_weights_only_when_asked_and_marked_speed_only(monkeypatch, tmp_path):
    timm = timm_double(offline_hub)
    monkeypatch.setitem(sys.modules, 'timm', timm)
    path = tmp_path / 'repvit_m0_9.onnx'
    assert main(['RepViT_m0_9', '-o', str(path), '--random-weights']) == 0
    assert timm.calls == [('repvit_m0_9', False, None)]
    metadata = metadata_of(path)
    assert metadata['weights'] == 'random-init' and metadata['purpose'] == SPEED_ONLY_PURPOSE
    assert metadata['model'] == 'RepViT_m0_9'
    notes = read_model_notes(str(path))
    assert notes.speed_only and notes.model == 'RepViT_m0_9'
    # The engine refuses the file, then runs it once speed-only models are allowed.
    with pytest.raises(EngineError, match='random weights.*export_onnx RepViT_m0_9'):
        create_engine(EngineSpec('onnxruntime', str(path)))
    engine = create_engine(EngineSpec('onnxruntime', str(path), {'allow_speed_only': True}))
    assert engine.notes.speed_only and engine.num_classes == 10


def test_checkpoint_and_random_weights_exclude_each_other(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, 'timm', timm_double(offline_hub))
    with pytest.raises(SystemExit) as caught:
        main(['RepViT_m0_9', '--checkpoint', 'x.pth', '--random-weights'])
    assert caught.value.code == 2 and 'not allowed with' in capsys.readouterr().err


# The real timm, with only its download replaced -----------------------------------------------

@pytest.fixture
def real_timm():
    """Return the installed timm; skip where it is not (it is not in the default set-up)."""
    try:
        import timm
        import timm.models._hub as hub
    except ImportError as exc:
        pytest.skip('timm is not installed (pip install timm torchvision); the timm double tests '
                    'cover the export code: %s' % exc)
    if not getattr(hub, '_has_hf_hub', False):
        pytest.skip('huggingface_hub does not import, so timm cannot download weights')
    return timm


def test_real_timm_pretrained_export_loads_what_the_hub_serves(monkeypatch, tmp_path,
                                                               real_timm):
    # The served weights: the architecture's own, from a seed no export uses.
    torch.manual_seed(11)
    served_model = real_timm.create_model('convnext_atto', pretrained=False).eval()
    from safetensors.torch import save_file
    served_file = tmp_path / 'model.safetensors'
    save_file(served_model.state_dict(), str(served_file))
    requested = []

    def hf_hub_download(repo_id, filename, **kwargs):
        # huggingface_hub.hf_hub_download: the cached file's path, after fetching it if needed.
        requested.append((repo_id, filename))
        return str(served_file)

    import timm.models._hub as hub
    monkeypatch.setattr(hub, 'hf_hub_download', hf_hub_download)
    torch.manual_seed(0)
    path = export_model('ConvNeXt_atto', str(tmp_path / 'out' / 'convnext_atto.onnx'))
    expected_id = real_timm.get_pretrained_cfg('convnext_atto').hf_hub_id
    assert requested and requested[0] == (expected_id, 'model.safetensors')
    data = np.random.default_rng(0).random((1, 3, 224, 224), np.float32)
    with torch.no_grad():
        expected = served_model(torch.from_numpy(data)).numpy()
    np.testing.assert_allclose(run_onnx(path, data), expected, rtol=1e-3, atol=1e-4)
    assert metadata_of(path)['weights'] == 'timm pretrained %s' % expected_id


def test_real_timm_offline_fails_with_one_line(monkeypatch, tmp_path, real_timm):
    from huggingface_hub.errors import LocalEntryNotFoundError as RealLocalEntryNotFoundError
    import timm.models._hub as hub

    def hf_hub_download(repo_id, filename, **kwargs):
        raise RealLocalEntryNotFoundError(OFFLINE)

    monkeypatch.setattr(hub, 'hf_hub_download', hf_hub_download)
    with pytest.raises(ExportError) as caught:
        export_model('ConvNeXt_atto', str(tmp_path / 'convnext_atto.onnx'))
    assert_one_line(str(caught.value), 'could not get the timm pretrained weights for '
                    'convnext_atto', '--checkpoint FILE')
    assert list(tmp_path.iterdir()) == []
