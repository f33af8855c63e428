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
A fault run of the node as a subprocess: frames of known class, faults at random moments.

The node runs the fake engine with a fault file (fake.fault_file). While frames of random gray
levels are published on 1-3 cameras, faults are injected at random moments: SIGKILL of a worker
(a child of THAT node's pid), and one-shot raise, hang (past infer_timeout_ms), exit, slow_load
and fail_load faults. Then the run waits until /diagnostics accounts for every frame, and
stops the node (optionally while a worker reloads). :class:`FaultReport` holds what a test
asserts and the soak benchmark (benchmarks/fault_soak.py) prints.
"""

from dataclasses import dataclass, field
import os
import queue
import random
import signal
import tempfile
import time
from typing import Dict, List, Optional, Set, Tuple

from node_process import alive, children_of, NodeProcess
from rdk_classifier.engines.fake import add_fault, LOAD_FAULTS, taken_faults
from rdk_classifier.inference.processes import WORKER_MODULE
from rdk_classifier.inference.stats import COUNTERS
import scenarios

DROPS = tuple(name for name in COUNTERS if name.startswith('dropped_'))
#: Faults whose worker process ends (and is replaced).
ENDING_FAULTS = ('hang', 'exit', 'fail_load')
FILE_FAULTS = ('raise', 'hang 30', 'exit', 'slow_load 1', 'fail_load')
INFER_TIMEOUT_MS = 2000
SETTLE_S = 60.0
WIDTH, HEIGHT = 64, 48


@dataclass
class FaultReport:
    """What one fault run saw."""

    threads: int
    cameras: int
    frames_sent: int = 0
    faults: Dict[str, int] = field(default_factory=dict)  # injected, by kind
    received: int = 0  # node counters, summed over the cameras
    published: int = 0
    drops: Dict[str, int] = field(default_factory=dict)
    results: int = 0  # classifications this client received
    misattributed: int = 0
    out_of_order: int = 0
    worker_restarts: int = -1
    ended_workers: int = 0
    stop_s: float = 0.0
    reloading_at_stop: bool = False
    exit_code: Optional[int] = None
    workers_left: int = 0
    shared_memory_left: int = 0
    examples: List[str] = field(default_factory=list)

    @property
    def unaccounted(self) -> int:
        """Received frames neither published nor counted as dropped."""
        return self.received - self.published - sum(self.drops.values())


def worker_pids(node_pid: int) -> Set[int]:
    """Return the worker processes of the node ``node_pid`` (its spawned children)."""
    pids = set()
    for pid in children_of(node_pid):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as cmdline:
                if WORKER_MODULE.encode() in cmdline.read():
                    pids.add(pid)
        except FileNotFoundError:
            pass
    return pids


def shared_memory_of(pid: int) -> Set[str]:
    """Return the /dev/shm files that Python shared memory maps into process ``pid``."""
    with open('/proc/%d/maps' % pid, encoding='utf-8') as maps:
        return {line.split()[-1] for line in maps if '/dev/shm/psm_' in line}


class NodeFaultRun:
    """Runs the node under faults; see the module docstring."""

    def __init__(self, client: scenarios.ScenarioClient, threads: int, cameras: int,
                 seed: int, namespace: str, latency_ms: float = 5.0) -> None:
        self._client = client
        self._random = random.Random(seed)
        self.topics = ['/%s/cam%d/image_raw' % (namespace, i) for i in range(cameras)]
        self._folder = tempfile.TemporaryDirectory()
        self.fault_file = os.path.join(self._folder.name, 'faults')
        open(self.fault_file, 'w').close()
        self.report = FaultReport(threads, cameras)
        self._sent: Dict[Tuple[int, int], Tuple[str, int]] = {}  # stamp -> (topic, class)
        self._killed: Set[int] = set()
        self._workers_seen: Set[int] = set()
        self._segments: Set[str] = set()
        self._inboxes = {topic: client.inbox(scenarios.result_topic(topic))
                         for topic in self.topics}
        self._publishers = {topic: client.publisher(topic, qos=scenarios.RELIABLE)
                            for topic in self.topics}
        self.node = NodeProcess(
            None, '-p', 'engine:=fake', '-p', 'threads:=%d' % threads,
            '-p', 'image_topics:=[%s]' % ', '.join(self.topics), '-p', 'top_k:=1',
            '-p', 'infer_timeout_ms:=%d' % INFER_TIMEOUT_MS,
            '-p', 'fake.latency_ms:=%s' % float(latency_ms),
            '-p', 'fake.fault_file:=%s' % self.fault_file)

    def start(self) -> None:
        """Wait until the node classifies and every camera topic is matched both ways."""
        self.node.wait_for_line('classifying')
        deadline = time.monotonic() + 30.0
        node = self._client.node
        while not all(self._publishers[t].get_subscription_count()
                      and node.count_publishers(scenarios.result_topic(t)) for t in self.topics):
            assert time.monotonic() < deadline, 'camera topics not matched'
            time.sleep(0.05)
        self._workers_seen |= worker_pids(self.node.process.pid)
        self._segments |= shared_memory_of(self.node.process.pid)

    def run(self, frames: int, rate: float, fault_every: int) -> None:
        """Publish ``frames`` at ``rate`` a second, a fault every ``fault_every`` on average."""
        next_time = time.monotonic()
        for index in range(frames):
            self._publish(self._random.choice(self.topics))
            if self._random.randrange(fault_every) == 0:
                self.inject(self._random.choice(('kill',) * 3 + FILE_FAULTS))
            if index % 50 == 0:
                self._workers_seen |= worker_pids(self.node.process.pid)
            next_time += 1.0 / rate
            time.sleep(max(0.0, next_time - time.monotonic()))

    def classify_on_every_camera(self, rate: float, timeout: float = SETTLE_S) -> None:
        """
        Publish more frames (no new faults) until every camera has had a classification.

        With one worker and a fault every few frames, a busy machine can spend the whole run
        restarting it (a restart takes seconds there): results then come only afterwards.
        """
        deadline = time.monotonic() + timeout
        for topic in self.topics:
            while self._inboxes[topic].empty():
                assert time.monotonic() < deadline, 'no classification on %s within %.0f s' % (
                    topic, timeout)
                self._publish(topic)
                time.sleep(1.0 / rate)

    def _publish(self, topic: str) -> None:
        """Publish a frame of a random gray level on ``topic``; remember its class."""
        gray = self._random.randrange(256)
        # NV12: the luma reaches the model unchanged, so the expected class is exact.
        data, step, y = scenarios.uniform_frame('nv12', gray, WIDTH, HEIGHT)
        msg = self._client.raw_image('nv12', data, WIDTH, HEIGHT, step, frame_id=topic)
        self._sent[(msg.header.stamp.sec, msg.header.stamp.nanosec)] = (
            topic, scenarios.expected_class(y))
        self._publishers[topic].publish(msg)
        self.report.frames_sent += 1

    def inject(self, fault: str) -> None:
        """Inject one fault now: 'kill' or a fault file line."""
        if fault == 'kill':
            if not self.kill_a_worker():
                return
        elif fault.split()[0] in LOAD_FAULTS and self._load_fault_waiting():
            # Load faults wait for the next reload: piled up, they would back the retries off
            # to 30 s and the run would mostly measure downtime.
            return
        else:
            add_fault(self.fault_file, fault)
        kind = fault.split()[0]
        self.report.faults[kind] = self.report.faults.get(kind, 0) + 1

    def _load_fault_waiting(self) -> bool:
        with open(self.fault_file, encoding='utf-8') as faults:
            return any(line.split()[0] in LOAD_FAULTS for line in faults if line.strip())

    def kill_a_worker(self) -> bool:
        """SIGKILL one worker process of the node; False if none was there to kill."""
        pids = sorted(worker_pids(self.node.process.pid))
        self._workers_seen.update(pids)
        if not pids:
            return False
        pid = self._random.choice(pids)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        self._killed.add(pid)
        return True

    def _start_a_slow_reload(self) -> bool:
        """Kill a worker so that its replacement takes a 30 s load; False if none started."""
        add_fault(self.fault_file, 'slow_load 30', first=True)
        # A lane whose replacements failed to load retries after up to 30 s.
        deadline = time.monotonic() + 40.0
        while time.monotonic() < deadline:
            if self.node.process.poll() is not None:
                return False
            self.kill_a_worker()
            wait_until = time.monotonic() + 2.0
            while time.monotonic() < wait_until:
                if any(f == 'slow_load 30' for _, f in taken_faults(self.fault_file)):
                    return True
                time.sleep(0.02)
        return False

    def ended_workers(self) -> Set[int]:
        """Worker processes that ended while running: killed here or by a fault they took."""
        return self._killed | {pid for pid, fault in taken_faults(self.fault_file)
                               if fault.split()[0] in ENDING_FAULTS}

    def settle(self) -> None:
        """Wait until /diagnostics accounts for every frame and every ended worker; record."""
        inbox = self._client.inbox('/diagnostics', scenarios.DiagnosticArray, 10)
        deadline = time.monotonic() + SETTLE_S
        previous = None
        while time.monotonic() < deadline:
            try:
                array = inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            counts = self._counts(array)
            if counts is None:
                continue
            totals, restarts = counts
            settled = (totals['received'] == totals['published'] + sum(totals[d] for d in DROPS)
                       and restarts >= len(self.ended_workers()))
            # Twice the same: no frame was still on its way to the node.
            if settled and previous == (totals, restarts):
                break
            previous = (totals, restarts) if settled else None
        else:
            totals, restarts = previous or counts or (dict.fromkeys(COUNTERS, 0), -1)
        self.report.received = totals['received']
        self.report.published = totals['published']
        self.report.drops = {d: totals[d] for d in DROPS}
        self.report.worker_restarts = restarts
        self.report.ended_workers = len(self.ended_workers())
        self._check_results()

    def _counts(self, array) -> Optional[Tuple[Dict[str, int], int]]:
        """Return (counters summed over the cameras, worker_restarts) of one array."""
        statuses = {s.name.rsplit(' ', 1)[-1]: {kv.key: kv.value for kv in s.values}
                    for s in array.status}
        if not all(topic in statuses for topic in self.topics):
            return None
        totals = {name: sum(int(statuses[t][name]) for t in self.topics) for name in COUNTERS}
        return totals, int(statuses[self.topics[0]]['worker_restarts'])

    def _check_results(self) -> None:
        for topic, inbox in self._inboxes.items():
            stamps = []
            while True:
                try:
                    msg = inbox.get_nowait()
                except queue.Empty:
                    break
                self.report.results += 1
                stamp = (msg.header.stamp.sec, msg.header.stamp.nanosec)
                stamps.append(stamp)
                sent = self._sent.get(stamp)
                if (sent is None or sent[0] != topic or msg.header.frame_id != topic
                        or msg.results[0].class_id != str(sent[1])):
                    self.report.misattributed += 1
                    if len(self.report.examples) < 5:
                        self.report.examples.append('%s on %s: class %s, sent %s' % (
                            stamp, topic, msg.results[0].class_id, sent))
            self.report.out_of_order += sum(1 for a, b in zip(stamps, stamps[1:]) if b <= a)

    def stop(self, while_reloading: bool = False) -> None:
        """SIGINT the node (optionally while a worker reloads); record time and leftovers."""
        if while_reloading:
            self.report.reloading_at_stop = self._start_a_slow_reload()
        self._workers_seen |= worker_pids(self.node.process.pid)
        self._workers_seen |= {pid for pid, _ in taken_faults(self.fault_file)}
        started = time.monotonic()
        self.report.exit_code = self.node.stop(signal.SIGINT)
        self.report.stop_s = time.monotonic() - started
        # The node reaps its workers before it exits; allow the kernel a moment to show it.
        deadline = time.monotonic() + 1.0
        while [p for p in self._workers_seen if alive(p)] and time.monotonic() < deadline:
            time.sleep(0.02)
        self.report.workers_left = len([p for p in self._workers_seen if alive(p)])
        self.report.shared_memory_left = len([s for s in self._segments if os.path.exists(s)])
        self._folder.cleanup()
