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
A broken numpy/OpenCV pair stops the node's start-up with one actionable line.

numpy 2 under apt's OpenCV 4.5.4 (Humble) fails at ``import cv2``: numpy prints a banner and
the traceback of an AttributeError (_ARRAY_API not found) on stderr, then the import raises
ImportError. Each test puts a cv2 that fails that way first on the node process's path.
"""

import os
import subprocess
import sys

import pytest

BANNER = """import sys
sys.stderr.write('\\nA module that was compiled using NumPy 1.x cannot be run in\\n'
                 'NumPy 2.1.3 as it may crash. To support both 1.x and 2.x\\n'
                 'Traceback (most recent call last):\\n  File "<string>", line 1\\n'
                 'AttributeError: _ARRAY_API not found\\n')
"""
FAILURES = {
    'import_error': BANNER + "raise ImportError('numpy.core.multiarray failed to import')\n",
    'attribute_error': BANNER + "raise AttributeError('_ARRAY_API not found')\n",
    'missing': "raise ModuleNotFoundError(\"No module named 'cv2'\", name='cv2')\n",
}


def start_node_with_cv2(tmp_path, source: str) -> subprocess.CompletedProcess:
    (tmp_path / 'cv2.py').write_text(source, encoding='utf-8')
    path = [str(tmp_path)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    return subprocess.run(
        [sys.executable, '-m', 'rdk_classifier.ros.main', '--ros-args', '-p', 'engine:=fake'],
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(path)), capture_output=True, text=True,
        timeout=60)


@pytest.mark.parametrize('failure', ['import_error', 'attribute_error'])
def test_numpy_abi_break_is_one_line_saying_what_to_pin(tmp_path, failure):
    process = start_node_with_cv2(tmp_path, FAILURES[failure])
    assert process.returncode == 1
    assert process.stdout == ''
    (line,) = process.stderr.splitlines()
    assert line.startswith('rdk_classifier: OpenCV (cv2) does not import with numpy ')
    assert 'python3 -m pip install "numpy<2"' in line
    assert ('numpy.core.multiarray failed to import' if failure == 'import_error'
            else '_ARRAY_API not found') in line


def test_missing_opencv_is_one_line_saying_what_to_install(tmp_path):
    process = start_node_with_cv2(tmp_path, FAILURES['missing'])
    assert process.returncode == 1
    (line,) = process.stderr.splitlines()
    assert 'sudo apt install python3-opencv' in line and 'Traceback' not in process.stderr
