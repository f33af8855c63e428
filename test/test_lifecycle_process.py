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
The managed (lifecycle) node as a process: what its transitions leave behind.

The transitions themselves are a scenario (scenarios.lifecycle_transitions, run by
test_node_process.py and the launch tests); here the node's own resources are read from /proc:
its worker processes, file descriptors, shared-memory segments and memory, across
configure/activate/deactivate/cleanup cycles, a bad configuration and shutdown.
"""

from pathlib import Path

from node_process import alive, children_of, NodeProcess
import pytest
from rdk_classifier.inference.processes import WORKER_MODULE
import scenarios

pytestmark = pytest.mark.ros

CYCLES = 20


def cmdline(pid: int) -> str:
    try:
        return Path('/proc/%d/cmdline' % pid).read_bytes().decode(errors='replace')
    except FileNotFoundError:
        return ''


def resources(pid: int) -> dict:
    """Return the node's worker processes, open fds, input-buffer segments and RSS (kB)."""
    # Worker processes run WORKER_MODULE (a resource tracker may be a child too).
    workers = [child for child in children_of(pid) if WORKER_MODULE in cmdline(child)]
    segments = set()
    for owner in [pid] + workers:
        try:
            maps = Path('/proc/%d/maps' % owner).read_text()
        except FileNotFoundError:
            continue
        # psm_*: multiprocessing.shared_memory, the workers' input buffers (Fast DDS and
        # tracing keep segments of their own for the process's life).
        segments |= {line.split()[-1] for line in maps.splitlines() if '/dev/shm/psm_' in line}
    status = Path('/proc/%d/status' % pid).read_text()
    rss_kb = int(next(line.split()[1] for line in status.splitlines()
                      if line.startswith('VmRSS:')))
    return {'workers': len([w for w in workers if alive(w)]),
            'fds': len(list(Path('/proc/%d/fd' % pid).iterdir())),
            'segments': len(segments), 'rss_kb': rss_kb}


def start_managed(tmp_path, *ros_args: str) -> NodeProcess:
    params = scenarios.write_params_file('lifecycle', str(tmp_path / 'params.yaml'))
    node = NodeProcess(params, *ros_args, managed=True)
    node.wait_for_line('unconfigured')
    return node


def test_cycles_leave_no_processes_fds_segments_or_memory_behind(client, tmp_path):
    node = start_managed(tmp_path, '-p', 'threads:=2')
    try:
        pid = node.process.pid
        idle = resources(pid)
        assert idle['workers'] == 0 and idle['segments'] == 0, idle
        peaks = []
        for cycle in range(CYCLES):
            assert client.change_state('configure'), node.output
            configured = resources(pid)
            assert configured['workers'] == 2, (cycle, configured)
            assert client.change_state('activate') and client.change_state('deactivate')
            assert client.change_state('cleanup')
            after = resources(pid)
            assert after['workers'] == 0 and after['segments'] == 0, (cycle, after)
            peaks.append(after)
        # The first cycle warms up imports and DDS entities; later ones must not grow.
        first, last = peaks[0], peaks[-1]
        assert last['fds'] <= first['fds'], peaks
        assert last['rss_kb'] - first['rss_kb'] < 10 * 1024, peaks
    finally:
        assert node.stop() == 0, node.output


def test_bad_configuration_fails_the_transition_and_the_node_stays_up(client, tmp_path):
    node = start_managed(tmp_path, '-p', 'model:=NoSuchModel', '-p', 'engine:=onnxruntime')
    try:
        assert not client.change_state('configure')
        assert client.lifecycle_state() == 'unconfigured'
        node.wait_for_line("model 'NoSuchModel' is neither a zoo name")
        errors = [line for line in node.lines if 'NoSuchModel' in line]
        assert len(errors) == 1, errors  # one actionable line, logged once
        assert resources(node.process.pid)['workers'] == 0
        assert node.process.poll() is None
    finally:
        assert node.stop() == 0, node.output


def test_shutdown_from_active_releases_everything(client, tmp_path):
    node = start_managed(tmp_path)
    try:
        assert client.change_state('configure') and client.change_state('activate')
        workers = [c for c in children_of(node.process.pid) if WORKER_MODULE in cmdline(c)]
        assert workers
        assert client.change_state('shutdown')
        assert client.lifecycle_state() == 'finalized'
        assert resources(node.process.pid)['segments'] == 0
        assert not any(alive(worker) for worker in workers)
    finally:
        assert node.stop() == 0, node.output
