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
Large camera frames between processes (Fast DDS's 512 KB shared-memory segment).

The node runs with default middleware settings, as on a robot; the camera is a separate process.
With the large-frames profile on the camera's side every 1080p frame arrives; without it, frames
over 512 KB are mostly lost and the node must say so in its log and in /diagnostics. Frames sent
before discovery completes, or while the node is busy, are not lost in transport: the 1080p test
sends its counted frames after a first one came back, and each after the previous result.
"""

from pathlib import Path
import queue
import signal
import subprocess
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from node_process import NodeProcess, START_TIMEOUT_S
import pytest
import scenarios

pytestmark = pytest.mark.ros

TOPIC = '/large/cam/image_raw'
FRAMES = 20
DISCOVERY_RETRY_S = 0.5
FIRST_COUNTED_STAMP = 1000


@pytest.fixture
def node():
    node = NodeProcess(None, '-p', 'engine:=fake', '-p', 'threads:=2',
                       '-p', 'image_topics:=[%s]' % TOPIC)
    node.wait_for_line('classifying')
    yield node
    assert node.stop() == 0, node.output


def camera(width: int, height: int, count: int, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, '-m', 'rdk_classifier.programs.camera_sim', '--topic', TOPIC,
         '--width', str(width), '--height', str(height), '--rate', '5',
         '--count', str(count), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_1080p_frames_all_arrive_with_the_profile(node, client):
    """Every 1080p frame reaches the node once the camera, node and client have met."""
    results = client.inbox(scenarios.result_topic(TOPIC))
    camera = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name('stepped_camera.py')), TOPIC, '1920',
         '1080'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        assert camera.stdout.readline().strip() == 'ready', camera.communicate()[0]
        # Discovery takes seconds on a busy machine and frames published before it completes
        # are not lost frames: repeat a first frame until its result comes back.
        deadline = time.monotonic() + START_TIMEOUT_S
        stamp = 0
        while not _result_of(results, stamp, DISCOVERY_RETRY_S, camera):
            assert time.monotonic() < deadline, 'no result within %.0f s of the camera ' \
                'starting\n%s' % (START_TIMEOUT_S, node.output)
            stamp += 1
        # Then each frame must arrive. One at a time, so the node never has to drop one
        # because its workers are busy: a frame without a result was lost on the way.
        for index in range(FRAMES):
            stamp = FIRST_COUNTED_STAMP + index
            assert _result_of(results, stamp, scenarios.TIMEOUT_S, camera), \
                'frame %d of %d lost after discovery\n%s' % (index + 1, FRAMES, node.output)
    finally:
        try:
            output = camera.communicate(timeout=30)[0]  # closing its input ends the camera
        except subprocess.TimeoutExpired:
            camera.kill()
            output = camera.communicate()[0]
    assert camera.returncode == 0, output


def _result_of(results: queue.Queue, stamp: int, timeout: float,
               camera: subprocess.Popen) -> bool:
    """Publish the frame stamped ``stamp``; tell whether its result came within ``timeout``."""
    assert camera.stdin is not None  # started with stdin=PIPE
    camera.stdin.write('%d\n' % stamp)
    camera.stdin.flush()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = results.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return False
        if msg.header.stamp.sec == stamp:
            return True  # results of earlier frames (late discovery retries) are skipped
    return False


def test_lost_720p_frames_are_reported(node, client):
    results = client.inbox(scenarios.result_topic(TOPIC))
    while not results.empty():
        results.get()  # the module's client still holds results of the earlier test's node
    diagnostics = client.inbox('/diagnostics', DiagnosticArray, 10)
    publisher = camera(1280, 720, 0, '--no-large-frames-profile')  # until the test ends

    def warned(array):
        return any(s.name.endswith(' ' + TOPIC) and s.level == DiagnosticStatus.WARN
                   and 'matched publisher' in s.message for s in array.status)
    try:
        try:
            array = client.wait_for(diagnostics, warned, START_TIMEOUT_S, 'large-frame warning')
        except AssertionError:
            if not results.empty():
                pytest.skip('this middleware delivered 720p frames without the profile')
            raise AssertionError('no warning in /diagnostics within %.0f s\n%s'
                                 % (START_TIMEOUT_S, node.output))
        status = next(s for s in array.status if s.name.endswith(' ' + TOPIC))
        assert 'FASTRTPS_DEFAULT_PROFILES_FILE' in status.message
        assert 'fastdds_large_frames.xml' in status.message
        node.wait_for_line('fastdds_large_frames.xml', timeout=5.0)
    finally:
        # Ctrl-C, not SIGKILL: a killed participant leaves its Fast DDS shared-memory port in
        # /dev/shm, which the next participant to open it must health-check and rebuild.
        publisher.send_signal(signal.SIGINT)
        try:
            publisher.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            publisher.kill()
            publisher.communicate()
