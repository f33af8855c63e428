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

"""Tests of the download command against a local HTTP server on 127.0.0.1."""

import functools
import http.server
import threading

import pytest
from rdk_classifier.download import download, DownloadError, main


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


@pytest.mark.parametrize('content', [b'', b'this is not a model'], ids=['empty', 'garbage'])
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
