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
The node's executor choice and spin loop (make_executor, spin_until_shutdown).

Both live in rdk_classifier.ros.main.

The delivery check runs in a subprocess: with the events executor's endless spin() a publish()
to a subscription of the same process blocks while holding the GIL, so a regression would hang
this test process instead of failing it.
"""

import subprocess
import sys
import threading
import time
from typing import List

import pytest
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rdk_classifier.errors import ConfigError
from rdk_classifier.ros.main import make_executor, spin_until_shutdown
from std_msgs.msg import String

try:
    from rclpy.experimental import EventsExecutor  # noqa: F401 - only whether it exists
    HAVE_EVENTS = True
except ImportError:  # Humble
    HAVE_EVENTS = False

MESSAGES = 30
DELIVERY_TIMEOUT_S = 30.0


@pytest.fixture
def context():
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.try_shutdown(context=context)


def test_auto_is_the_events_executor_where_rclpy_has_it(context):
    executor = make_executor('auto', context)
    try:
        assert isinstance(executor, SingleThreadedExecutor) != HAVE_EVENTS
    finally:
        executor.shutdown()
    executor = make_executor('single_threaded', context)
    try:
        assert isinstance(executor, SingleThreadedExecutor)
    finally:
        executor.shutdown()


def test_events_without_the_events_executor_is_a_configuration_error(context, monkeypatch):
    monkeypatch.setitem(sys.modules, 'rclpy.experimental', None)  # as on Humble
    with pytest.raises(ConfigError, match='executor:=auto'):
        make_executor('events', context)
    executor = make_executor('auto', context)
    try:
        assert isinstance(executor, SingleThreadedExecutor)
    finally:
        executor.shutdown()


@pytest.mark.parametrize('choice', [
    pytest.param('events', marks=pytest.mark.skipif(
        not HAVE_EVENTS, reason='this rclpy has no rclpy.experimental.EventsExecutor')),
    'single_threaded'])
def test_publish_from_another_thread_is_delivered(choice):
    """The node publishes from lane threads: every message must arrive, nothing may block."""
    run = subprocess.run([sys.executable, __file__, choice], capture_output=True, text=True,
                         timeout=DELIVERY_TIMEOUT_S + 30)
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'received %d of %d' % (MESSAGES, MESSAGES) in run.stdout, run.stdout + run.stderr
    assert 'spin ended' in run.stdout, run.stdout + run.stderr


def deliver(choice: str) -> int:
    """
    Publish from this (non-executor) thread to a subscription spun in another; print the count.

    Then shut the context down: spin_until_shutdown must return (by ExternalShutdownException).
    """
    context = rclpy.Context()
    rclpy.init(context=context)
    receiving = rclpy.create_node('receiving', context=context)
    received: List[String] = []
    receiving.create_subscription(String, 'delivered', received.append, MESSAGES)
    sending = rclpy.create_node('sending', context=context)
    publisher = sending.create_publisher(String, 'delivered', MESSAGES)
    executor = make_executor(choice, context)
    executor.add_node(receiving)
    ended = threading.Event()

    def spin() -> None:
        try:
            spin_until_shutdown(executor)
        except ExternalShutdownException:
            pass
        ended.set()

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while (publisher.get_subscription_count() == 0 or receiving.count_publishers('delivered') == 0
           ) and time.monotonic() < deadline:
        time.sleep(0.01)
    for index in range(MESSAGES):
        publisher.publish(String(data=str(index)))
    while len(received) < MESSAGES and time.monotonic() < deadline:
        time.sleep(0.01)
    print('received %d of %d' % (len(received), MESSAGES), flush=True)
    rclpy.shutdown(context=context)
    if ended.wait(DELIVERY_TIMEOUT_S):
        print('spin ended', flush=True)
    executor.shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(deliver(sys.argv[1]))
