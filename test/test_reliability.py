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
Reliability of the running node: fuzzed frames, engine faults, worker crashes, bad models.

A malformed frame is counted and dropped and the next good frame is classified; an engine that
raises, hangs or dies costs only its frame.
"""

import os
import signal
import threading
import time

from fuzz_frames import random_frame
from node_process import children_of, NodeProcess, START_TIMEOUT_S
import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rdk_classifier.engines import EngineSpec
from rdk_classifier.engines.fake import add_fault, taken_faults
from rdk_classifier.inference.processes import start_process, WORKER_MODULE
from rdk_classifier.inference.stats import COUNTERS
from rdk_classifier.inference.worker import Request, Worker, WorkerFailure
import scenarios
from sensor_msgs.msg import Image

pytestmark = pytest.mark.ros

TOPIC = '/fuzz/cam/image_raw'
FUZZ_FRAMES = 300


def start(*params: str) -> NodeProcess:
    args = ['-p', 'engine:=fake', '-p', 'image_topics:=[%s]' % TOPIC]
    for param in params:
        args += ['-p', param]
    node = NodeProcess(None, *args)
    node.wait_for_line('classifying')
    return node


def counters(client, settled: bool = False, **wanted) -> dict:
    """
    Wait until the camera's /diagnostics counters reach ``wanted``; return them all.

    With ``settled``, also wait until every received frame is accounted for: classified,
    counted as malformed, or replaced while the worker was busy.
    """
    inbox = client.inbox('/diagnostics', scenarios.DiagnosticArray, 10)

    def values(array):
        for status in array.status:
            if status.name.endswith(' ' + TOPIC):
                return {kv.key: kv.value for kv in status.values}
        return None

    def reached(array):
        found = values(array)
        if found is None or any(int(found[k]) < v for k, v in wanted.items()):
            return False
        accounted = sum(int(found[k]) for k in ('published', 'dropped_bad', 'dropped_busy'))
        return not settled or accounted == int(found['received'])
    return values(client.wait_for(inbox, reached, 30.0, 'counters %s' % wanted))


def test_fuzzed_frames_are_counted_and_the_node_keeps_classifying(client):
    # Counting needs a lossless transport: the camera QoS (best effort, depth 5) drops frames
    # whenever a busy machine stalls the node's executor for a few of the 10 ms gaps below.
    node = start('threads:=1',
                 'qos_overrides.%s.subscription.reliability:=reliable' % TOPIC,
                 'qos_overrides.%s.subscription.depth:=%d' % (TOPIC, FUZZ_FRAMES))
    try:
        rng = np.random.default_rng(2026)
        every_frame = QoSProfile(depth=FUZZ_FRAMES, reliability=ReliabilityPolicy.RELIABLE)
        publisher = client.publisher(TOPIC, Image, every_frame)
        frames = [random_frame(rng) for _ in range(FUZZ_FRAMES)]
        # Reliable and matched: every frame published from now on reaches the node once.
        deadline = time.monotonic() + START_TIMEOUT_S
        while not publisher.get_subscription_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert publisher.get_subscription_count() == 1, 'the node did not subscribe'
        for frame in frames:
            publisher.publish(client.raw_image(frame.encoding, frame.data, frame.width,
                                               frame.height, frame.step))
            time.sleep(0.01)  # slower than the node, so no frame is replaced while waiting
        bad = sum(not f.valid for f in frames)
        found = {key: int(value) for key, value in counters(
            client, settled=True, received=FUZZ_FRAMES).items() if key in COUNTERS}
        assert found['received'] == FUZZ_FRAMES, found
        replaced = found['dropped_busy']  # 0 unless the machine stalled the node
        # Malformed frames are never classified; each one is counted unless it was replaced.
        assert bad - replaced <= found['dropped_bad'] <= bad
        assert FUZZ_FRAMES - bad - replaced <= found['published'] <= FUZZ_FRAMES - bad
        data, step, _ = scenarios.uniform_frame('bgr8', 100)
        result = client.classify(TOPIC, client.raw_image('bgr8', data, 64, 48, step),
                                 qos=every_frame)
        assert result.results[0].class_id == str(scenarios.expected_class(scenarios.luma(100)))
        assert node.process.poll() is None
    finally:
        assert node.stop() == 0, node.output


@pytest.mark.parametrize('fault, params, worker_restarts, only_its_forward', [
    ('raise', (), 0, True),
    # The timeout is far above a normal forward on a busy machine, far below the hang. A hung
    # worker is replaced with every frame it held: a second copy of frame 2, sent while the
    # first was still on its way, may have waited behind the hung one.
    ('hang 60', ('infer_timeout_ms:=3000',), 1, False),
], ids=['forward-raises', 'forward-hangs'])
def test_engine_faults_cost_only_their_frame(client, tmp_path, fault, params, worker_restarts,
                                             only_its_forward):
    # A one-shot fault added once frames 0 and 1 are classified: classify() repeats a frame
    # until its result comes, so counting forwards (fake.fail_every) would not say which frame
    # a fault hits.
    fault_file = str(tmp_path / 'faults')
    open(fault_file, 'w').close()
    node = start('threads:=1', 'fake.fault_file:=%s' % fault_file, *params)
    try:
        for index in range(6):
            gray = 40 + 30 * index
            data, step, y = scenarios.uniform_frame('bgr8', gray)
            msg = client.raw_image('bgr8', data, 64, 48, step)
            if index == 2:
                add_fault(fault_file, fault)
                publisher = client.publisher(TOPIC, Image)
                deadline = time.monotonic() + scenarios.TIMEOUT_S
                while not taken_faults(fault_file):  # best effort: repeated until it arrives
                    assert time.monotonic() < deadline, 'frame 2 never reached the engine'
                    publisher.publish(msg)
                    time.sleep(0.25)
                # Frame 3 only once frame 2 is dropped: it would wait behind a hung forward.
                counters(client, dropped_engine=1)
                continue
            result = client.classify(TOPIC, msg)
            assert result.results[0].class_id == str(scenarios.expected_class(y))
        found = counters(client, dropped_engine=1)
        assert int(found['dropped_engine']) == 1 or not only_its_forward, found
        assert int(found['worker_restarts']) == worker_restarts, found
    finally:
        assert node.stop() == 0, node.output


def test_a_killed_worker_is_restarted(client):
    node = start('threads:=2')
    try:
        data, step, y = scenarios.uniform_frame('bgr8', 77)
        client.classify(TOPIC, client.raw_image('bgr8', data, 64, 48, step))
        workers = children_of(node.process.pid)
        for pid in workers:
            if WORKER_MODULE.encode() in open('/proc/%d/cmdline' % pid, 'rb').read():
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT_S
        classified = 0
        while classified < 3 and time.monotonic() < deadline:
            result = client.classify(TOPIC, client.raw_image('bgr8', data, 64, 48, step))
            assert result.results[0].class_id == str(scenarios.expected_class(y))
            classified += 1
        assert classified == 3
        assert int(counters(client, worker_restarts=1)['worker_restarts']) >= 1
    finally:
        assert node.stop() == 0, node.output


def test_a_dead_workers_pipe_errors_are_not_kept():
    """
    A broken pipe raises a WorkerFailure that keeps no pipe exception, sending or receiving.

    A failed send's traceback holds multiprocessing's pickling BytesIO and its exported buffer;
    Python 3.12.0-3.12.1 can crash collecting those in a reference cycle (gh-111049): the node
    exited with -11 after sending to a killed worker there.
    """
    worker = Worker(EngineSpec('fake'), lambda replacement: start_process())

    def launch_and_kill() -> None:
        worker.launch()
        worker.wait_loaded(threading.Event())
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)

    try:
        launch_and_kill()
        deadline = time.monotonic() + START_TIMEOUT_S
        with pytest.raises(WorkerFailure, match='died') as sending:
            # The kernel may release a killed process's end of the pipe after the process is
            # already a zombie (a delayed close): until then a send only fills the buffer.
            while time.monotonic() < deadline:
                worker.send(Request(0, 0))
                time.sleep(0.01)
        assert sending.value.__cause__ is None and sending.value.__context__ is None
    finally:
        worker.close(time.monotonic())
    try:
        launch_and_kill()
        with pytest.raises(WorkerFailure, match='died') as receiving:
            worker.receive(START_TIMEOUT_S, threading.Event())
        assert receiving.value.__cause__ is None and receiving.value.__context__ is None
    finally:
        worker.close(time.monotonic())


ONNX_RUNTIME = pytest.mark.requires('onnxruntime', reason='the onnxruntime engine is what finds '
                                    'that the .onnx file is no model')


@pytest.mark.parametrize('content, expected', [
    pytest.param(b'', 'model.onnx', marks=ONNX_RUNTIME, id='empty'),
    pytest.param(b'\x08\x07garbage', 'model.onnx', marks=ONNX_RUNTIME, id='truncated'),
    pytest.param(None, 'engine:=hobot_dnn', id='wrong-kind')])
def test_bad_model_files_stop_start_up_with_one_line(tmp_path, content, expected):
    model = tmp_path / ('model.onnx' if content is not None else 'model.bin')
    model.write_bytes(content or b'bin')
    node = NodeProcess(None, '-p', 'engine:=onnxruntime', '-p', 'model:=%s' % model)
    try:
        code = node.process.wait(START_TIMEOUT_S)
    finally:
        node.stop()
    errors = [line for line in node.lines if line.startswith('rdk_classifier: ')]
    assert code == 1 and len(errors) == 1 and expected in errors[0], node.output
