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
Fault runs of the worker pipeline: frames whose class is known from their content, and checks.

Frames are uniform NV12 at the model size (a small one, so conversion is cheap): the fake
engine's class of luma ``y`` is ``y * NUM_CLASSES // 256``
(rdk_classifier.engines.fake), so every result can be checked against the frame whose
token it carries. Tokens are unique.
"""

import os
from pathlib import Path
import threading
import time
from typing import Callable, Dict, List, Set, Tuple

from node_process import alive, children_of

from rdk_classifier.engines import EngineSpec
from rdk_classifier.inference.pipeline import Frame, InferencePipeline, Result, Settings
from rdk_classifier.inference.processes import WORKER_MODULE

SIZE = 32
NUM_CLASSES = 1000


def expected_class(y: int) -> int:
    """Return the fake engine's class for a uniform frame of luma ``y``."""
    return min(y * NUM_CLASSES // 256, NUM_CLASSES - 1)


def content_frame(camera: str, y: int, token) -> Frame:
    """Return a uniform NV12 frame of luma ``y`` at the model size."""
    data = bytes([y]) * (SIZE * SIZE) + bytes([128]) * (SIZE * SIZE // 2)
    return Frame(camera, data, 'nv12', SIZE, SIZE, SIZE, token=token)


class Recorder:
    """Sends frames and records what the pipeline's dispatcher hands back."""

    def __init__(self) -> None:
        self.sent: Dict[Tuple[str, int], int] = {}  # token -> luma
        self.results: List[Result] = []
        self.drops: List[Tuple[str, str, str]] = []
        self._changed = threading.Condition()

    def token(self, camera: str, y: int) -> Tuple[str, int]:
        """Return a new unique token for a frame of ``camera`` with luma ``y``."""
        token = (camera, len(self.sent))
        self.sent[token] = y
        return token

    def on_result(self, result) -> None:
        with self._changed:
            self.results.append(result)
            self._changed.notify_all()

    def on_drop(self, camera: str, reason: str, message: str) -> None:
        with self._changed:
            self.drops.append((camera, reason, message))
            self._changed.notify_all()

    def misattributed(self) -> list:
        """Return the results whose camera or class is not their frame's."""
        wrong = []
        for result in list(self.results):
            camera, _ = result.token
            if (result.camera != camera
                    or result.top[0][0] != expected_class(self.sent[result.token])):
                wrong.append(result)
        return wrong

    def out_of_order(self) -> list:
        """Return (camera, tokens) of cameras whose results went back to an older frame."""
        by_camera: Dict[str, list] = {}
        for result in list(self.results):
            by_camera.setdefault(result.camera, []).append(result.token[1])
        return [(c, t) for c, t in by_camera.items() if t != sorted(t)]


def make_pipeline(recorder: Recorder, cameras: List[str], threads: int, fault_file: str,
                  infer_timeout_s: float, **options) -> InferencePipeline:
    """Return a pipeline on the fake engine with the fault file and the small model size."""
    options = dict(options, input_size=[SIZE, SIZE], num_classes=NUM_CLASSES,
                   fault_file=fault_file)
    return InferencePipeline(EngineSpec('fake', '', options), cameras, threads,
                             recorder.on_result, recorder.on_drop,
                             settings=Settings(top_k=1, infer_timeout_s=infer_timeout_s))


def unaccounted(pipeline: InferencePipeline, cameras: List[str]) -> Dict[str, int]:
    """Return received - published - drops per camera (0 everywhere once idle or stopped)."""
    gaps = {}
    for camera in cameras:
        counts = pipeline.snapshot().cameras[camera].counts
        gaps[camera] = counts.received - counts.published - counts.dropped
    return gaps


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``condition()`` holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'not within %.0f s: %s' % (timeout, what)
        time.sleep(0.01)


def own_workers() -> Set[int]:
    """Return the worker processes of this process (the resource tracker left out)."""
    return {pid for pid in children_of(os.getpid())
            if WORKER_MODULE.encode() in _cmdline(pid)}


def living(pids: Set[int]) -> Set[int]:
    """Return the processes of ``pids`` that are still alive (not zombies)."""
    return {pid for pid in pids if alive(pid)}


def own_shared_memory() -> Set[str]:
    """Return the Python shared memory segments (/dev/shm/psm_*) mapped into this process."""
    with open('/proc/self/maps', encoding='utf-8') as maps:
        fields = [line.split(maxsplit=5) for line in maps]
    # The sixth field is the path, with ' (deleted)' after it once unlinked.
    paths = {f[5].strip().replace(' (deleted)', '') for f in fields if len(f) == 6}
    return {path for path in paths if path.startswith('/dev/shm/psm_')}


def _cmdline(pid: int) -> bytes:
    try:
        return Path('/proc/%d/cmdline' % pid).read_bytes()
    except FileNotFoundError:
        return b''
