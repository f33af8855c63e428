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
import socket
import sys
import threading

import pytest
from rdk_classifier.paths import package_config_path
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


# --list and unknown names ------------------------------------------------------------------------

def zoo_names_in_the_yaml():
    """Return the names of config/models.yaml's entries that have a .bin to download."""
    with open(package_config_path('models.yaml'), encoding='utf-8') as stream:
        return [entry['name'] for entry in yaml.safe_load(stream)['models']
                if entry.get('bin_url')]


def table_rows(text):
    """Return {name: cells} of the --list table (rows from the header to the first prose)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith('name '))
    rows = {}
    for line in lines[start + 1:]:
        cells = line.split()
        if not cells or not cells[1][0].isdigit():
            break
        rows[cells[0]] = cells
    return rows


def test_list_names_every_zoo_model_with_its_figures_and_what_is_here(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('RDK_CLASSIFIER_CACHE', str(tmp_path / 'cache'))
    (tmp_path / 'cache' / 'models').mkdir(parents=True)
    (tmp_path / 'cache' / 'models' / 'repvit_m0_9.onnx').write_bytes(b'x')
    (tmp_path / 'mine').mkdir()
    (tmp_path / 'mine' / 'EdgeNeXt_base_224x224_nv12.bin').write_bytes(b'x')
    assert main(['--list', '--dir', str(tmp_path / 'mine')]) == 0
    output = capsys.readouterr().out
    rows = table_rows(output)
    names = zoo_names_in_the_yaml()
    assert len(names) == 17 and sorted(rows) == sorted(names)
    # name, input, top-1 on the board, top-1 float, FPS with 4 threads, 1-thread latency, here
    assert rows['RepViT_m0_9'] == ['RepViT_m0_9', '224x224', '75.75%', '76.32%', '902.7', '1.65',
                                   'onnx']
    assert rows['EdgeNeXt_base'][-1] == 'bin'
    assert rows['ConvNeXt_atto'][-1] == 'no'
    assert str(tmp_path / 'cache' / 'models') in output and str(tmp_path / 'mine') in output
    assert '\n    ros2 run rdk_classifier download NAME\n' in output + '\n'


@pytest.mark.parametrize('typed, meant', [('repvit_m09', 'RepViT_m0_9'),
                                          ('CONVNEXT_ATO', 'ConvNeXt_atto'),
                                          ('lite0', 'EfficientNet_Lite0')])
def test_an_unknown_name_gets_did_you_mean_and_the_list_command(tmp_path, capsys, typed, meant):
    assert main([typed, '--dir', str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert error.startswith('download: %s is not in the catalog; did you mean %s' % (typed, meant))
    assert '\n    ros2 run rdk_classifier download --list\n' in error
    assert list(tmp_path.iterdir()) == []


def test_names_match_in_any_case(server, tmp_path):
    root, url = server
    (root / 'repvit_m0_9.onnx').write_bytes(onnx_model_bytes())
    target = tmp_path / 'models'
    assert main(['rEPvIT_M0_9', '--url', url + '/repvit_m0_9.onnx', '--dir', str(target)]) == 0
    assert [p.name for p in target.iterdir()] == ['repvit_m0_9.onnx']


def test_without_names_or_list_the_usage_says_what_to_give(capsys):
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 2
    assert 'name the models to download, or --list' in capsys.readouterr().err


def test_the_pc_default_is_built_not_downloaded(tmp_path, capsys):
    assert main(['EfficientNet_Lite0', '--dir', str(tmp_path)]) == 1
    assert '\n    ros2 run rdk_classifier export_onnx EfficientNet_Lite0\n' in \
        capsys.readouterr().err


@pytest.mark.parametrize('board', [False, True], ids=['pc', 'board'])
def test_a_bin_downloaded_on_a_pc_comes_with_the_pc_route(server, tmp_path, capsys, monkeypatch,
                                                          board):
    root, url = server
    (root / 'model.bin').write_text(DOUBLE_MODEL)
    monkeypatch.setattr('rdk_classifier.hints.on_board', lambda: board)
    monkeypatch.setattr('rdk_classifier.programs.download.check_model_file',
                        lambda path, name: None)  # the check has tests of its own above
    assert main(['RepViT_m0_9', '--url', url + '/model.bin', '--dir', str(tmp_path / 'm')]) == 0
    error = capsys.readouterr().err
    assert ('\n    ros2 run rdk_classifier export_onnx RepViT_m0_9' in error) is not board
    assert ('runs on the RDK X5 only' in error) is not board


def test_no_connection_says_how_to_fetch_it_elsewhere(tmp_path, capsys):
    with socket.socket() as closed:  # a port nobody listens on: the connection is refused
        closed.bind(('127.0.0.1', 0))
        url = 'http://127.0.0.1:%d/model.bin' % closed.getsockname()[1]
    assert main(['RepViT_m0_9', '--url', url, '--dir', str(tmp_path / 'm')]) == 1
    error = capsys.readouterr().err
    assert error.startswith('download: %s: ' % url)
    assert error.endswith('copy it to %s:\n    wget %s\n' % (
        tmp_path / 'm' / 'RepViT_m0_9_224x224_nv12.bin', url))
