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
Tests of the download command against a local HTTP server on 127.0.0.1.

.bin files are checked with the pyeasy_dnn test double (test/pyeasy_dnn_double), which the check's
child process imports through PYTHONPATH.
"""

import functools
import http.server
import sys
import threading

import pytest
from rdk_classifier.programs.download import download, DownloadError, main
import yaml

#: A model file for the double: 224x224 NV12 in, 1000 float32 logits out.
DOUBLE_MODEL = yaml.safe_dump({'input_type': 'NV12', 'input_shape': [1, 3, 224, 224],
                               'output_type': 'float32', 'output_shape': [1, 1000, 1, 1]})


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1 for the test; stopped afterwards."""
    root = tmp_path / 'www'
    root.mkdir()

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    thread.join(5)


def onnx_model_bytes() -> bytes:
    pytest.importorskip('onnx', reason='onnx builds the test model')
    from onnx import helper, TensorProto
    graph = helper.make_graph(
        [helper.make_node('Identity', ['data'], ['output'])], 'tiny',
        [helper.make_tensor_value_info('data', TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info('output', TensorProto.FLOAT, [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    return model.SerializeToString()


def test_download_writes_a_checked_model(server, tmp_path):
    root, url = server
    (root / 'repvit_m0_9.onnx').write_bytes(onnx_model_bytes())
    target = tmp_path / 'models'
    assert main(['RepViT_m0_9', '--url', url + '/repvit_m0_9.onnx', '--dir', str(target)]) == 0
    assert (target / 'repvit_m0_9.onnx').read_bytes() == (root / 'repvit_m0_9.onnx').read_bytes()
    assert [p.name for p in target.iterdir()] == ['repvit_m0_9.onnx']


@pytest.mark.parametrize('content', [
    pytest.param(b'', id='empty'),
    pytest.param(b'this is not a model', id='garbage', marks=pytest.mark.requires(
        'onnxruntime', reason='ONNX Runtime is what finds that the download is no model'))])
def test_a_bad_download_leaves_nothing(server, tmp_path, content, capsys):
    root, url = server
    (root / 'bad.onnx').write_bytes(content)
    target = tmp_path / 'models'
    assert main(['RepViT_m0_9', '--url', url + '/bad.onnx', '--dir', str(target)]) == 1
    assert list(target.iterdir()) == []
    assert capsys.readouterr().err.startswith('download: ')


def test_unreachable_address_and_unknown_model(tmp_path, server):
    _, url = server
    with pytest.raises(DownloadError, match='404'):
        download(url + '/missing.bin', tmp_path / 'x.bin')
    assert not (tmp_path / 'x.bin').exists()
    assert main(['NoSuchNet', '--dir', str(tmp_path)]) == 1


@pytest.fixture
def no_pyeasy_dnn(monkeypatch):
    """Make pyeasy_dnn unimportable under both of its package names."""
    for name in ('hobot_dnn', 'hobot_dnn.pyeasy_dnn', 'hobot_dnn_rdkx5',
                 'hobot_dnn_rdkx5.pyeasy_dnn'):
        monkeypatch.setitem(sys.modules, name, None)  # makes the import fail


def test_a_bin_model_is_loaded_in_a_child_process_only(server, tmp_path, pyeasy_dnn):
    root, url = server
    (root / 'repvit.bin').write_text(DOUBLE_MODEL)
    target = tmp_path / 'models'
    assert main(['RepViT_m0_9', '--url', url + '/repvit.bin', '--dir', str(target)]) == 0
    assert (target / 'RepViT_m0_9_224x224_nv12.bin').read_text() == DOUBLE_MODEL
    # The BPU runtime keeps what a process loads until it exits: this process loaded nothing.
    assert pyeasy_dnn.loaded_files == []


@pytest.mark.parametrize('content, reason', [
    (b'\x7fELF not a model', 'hbDNNInitializeFromFiles failed'),
    (yaml.safe_dump({'input_type': 'RGB', 'input_shape': [1, 3, 224, 224],
                     'output_shape': [1, 1000, 1, 1]}).encode(), 'takes RGB input')],
    ids=['rejected-by-the-runtime', 'rejected-by-the-engine'])
def test_a_bin_model_that_does_not_load_leaves_nothing(server, tmp_path, pyeasy_dnn, capsys,
                                                       content, reason):
    root, url = server
    (root / 'bad.bin').write_bytes(content)
    target = tmp_path / 'models'
    assert main(['RepViT_m0_9', '--url', url + '/bad.bin', '--dir', str(target)]) == 1
    assert list(target.iterdir()) == []
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith('download: RepViT_m0_9_224x224_nv12.bin does not load on the BPU: ')
    assert reason in error
    assert pyeasy_dnn.loaded_files == []


def test_without_pyeasy_dnn_a_bin_is_checked_for_web_pages(
        server, tmp_path, capsys, no_pyeasy_dnn):
    root, url = server
    (root / 'page.bin').write_bytes(b'\n<!DOCTYPE html><html><body>Not found</body></html>')
    (root / 'model.bin').write_bytes(b'\x00\x01 not checked further without the runtime')
    target = tmp_path / 'models'
    assert main(['RepViT_m0_9', '--url', url + '/page.bin', '--dir', str(target)]) == 1
    assert 'is a web page, not a model; check the address' in capsys.readouterr().err
    assert list(target.iterdir()) == []
    assert main(['RepViT_m0_9', '--url', url + '/model.bin', '--dir', str(target)]) == 0
    assert [p.name for p in target.iterdir()] == ['RepViT_m0_9_224x224_nv12.bin']
