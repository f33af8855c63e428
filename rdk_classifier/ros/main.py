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
The node's process: executables, executor choice, process tuning, signals.

``classifier_node`` (:func:`main`) starts the node configured and active;
``classifier_lifecycle_node`` (:func:`main_managed`) leaves it unconfigured for a lifecycle
manager. Both spin one executor on the main thread until SIGINT or SIGTERM, then release the
workers and their shared memory before exiting. Before anything else they check that OpenCV
imports with this numpy (:func:`opencv_problem`): a broken pair stops start-up with one line.
So this module imports nothing of rdk_classifier at its top: the engines and the node import
OpenCV.
"""

import io
import signal
import sys
from typing import List, Optional

import rclpy
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.task import Future

#: What pins a numpy that apt's OpenCV (4.5.4 on Humble, built for numpy 1.x) imports with;
#: 1.26.4 is also what the board's hobot_dnn wheel needs.
NUMPY_PIN = 'python3 -m pip install "numpy<2"'


def opencv_problem() -> str:
    """
    Return one actionable line if OpenCV does not import here, else ''.

    numpy 2 with an OpenCV built for numpy 1.x (apt's python3-opencv on Humble) fails at
    ``import cv2`` with an ImportError or AttributeError after numpy prints a long banner on
    stderr; the banner is swallowed and replaced by what to pin.
    """
    saved, sys.stderr = sys.stderr, io.StringIO()
    try:
        import cv2  # noqa: F401 - the import is the check
        return ''
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name == 'cv2':
            return ('OpenCV for Python is not installed: sudo apt install python3-opencv '
                    '(or python3 -m pip install opencv-python-headless)')
        error: Exception = exc
    except AttributeError as exc:
        error = exc
    finally:
        sys.stderr = saved
    try:
        import numpy
        version = numpy.__version__
    except ImportError:
        version = '(numpy does not import either)'
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return ('OpenCV (cv2) does not import with numpy %s (%s): an OpenCV built for numpy 1.x '
            "(apt's python3-opencv) needs numpy 1.x; run: %s (gives 1.26.4, what the RDK X5's "
            'hobot_dnn needs too)' % (version, reason, NUMPY_PIN))


def make_executor(choice: str, context: Optional[rclpy.Context] = None) -> Executor:
    """
    Return the executor for the ``executor`` parameter (auto: events where rclpy has it).

    The events executor (rclpy.experimental, Jazzy and newer) spends far less CPU per message
    than the SingleThreadedExecutor's wait-set rebuild; Humble has only the latter. Spin either
    with :func:`spin_until_shutdown`.
    """
    if choice in ('auto', 'events'):
        try:
            from rclpy.experimental import EventsExecutor
        except ImportError:
            if choice == 'events':
                from rdk_classifier.errors import ConfigError
                raise ConfigError('executor events needs rclpy.experimental.EventsExecutor '
                                  '(ROS 2 Jazzy or newer); use executor:=auto') from None
        else:
            return EventsExecutor(context=context)
    return SingleThreadedExecutor(context=context)


def spin_until_shutdown(executor: Executor) -> None:
    """
    Spin until the context shuts down (return or ExternalShutdownException) or a signal.

    The events executor is spun in slices with a deadline: its endless spin() waits on a
    condition variable until time_point::max(), which the manylinux rclpy wheels' libstdc++
    (no pthread_cond_clockwait) converts to an overflowed, past system-clock deadline. The
    spinning thread then busy-waits a whole core holding the events-queue mutex, and the
    middleware threads that enqueue new messages block on it (so does a publish() to a
    subscription of the same process). A finite deadline converts correctly.
    """
    if isinstance(executor, SingleThreadedExecutor):
        executor.spin()
        return
    # Checked between slices too: a slice that ends as the context shuts down need not raise.
    while executor.context.ok():
        # A fresh future each slice: the executor adds a done-callback to it.
        executor.spin_until_future_complete(Future(), timeout_sec=1.0)


def reuse_freed_frame_buffers() -> None:
    """
    Make glibc keep freed frame-sized blocks for reuse instead of returning them to the system.

    Each frame passes through several buffers of its size (the middleware's sample, the C
    message, the Python message's data). By default glibc maps every block over a dynamic
    threshold (128 KB at first) afresh and unmaps it when freed, so a 1920x1080 frame costs
    thousands of page faults: measured here, 4.2 instead of 1.1 ms of CPU per frame for a node
    that only echoes headers. The fixed thresholds below keep up to 64 MB of freed memory in
    the heap. Other C libraries have no mallopt: nothing changes there.
    """
    import ctypes
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    mallopt(m_mmap_threshold, 32 * 2**20)  # glibc's maximum on 64-bit; 4K bgr8 is 25 MB
    mallopt(m_trim_threshold, 64 * 2**20)


def run(autostart: bool, args: Optional[List[str]] = None) -> int:
    """Run the node until SIGINT/SIGTERM; exit 1 with one line for a bad configuration."""
    problem = opencv_problem()
    if problem:
        print('rdk_classifier: %s' % problem, file=sys.stderr)
        return 1
    # Imported once OpenCV is known to import: the node's frames use it.
    from rdk_classifier.ros.node import ClassifierNode, CONFIGURATION_ERRORS
    reuse_freed_frame_buffers()
    rclpy.init(args=args)
    node = None
    executor = None
    try:
        node = ClassifierNode()
        if autostart:
            node.start()
        else:
            node.get_logger().info(
                'unconfigured: waiting for a lifecycle manager to configure and activate it '
                '(ros2 lifecycle set %s configure)' % node.get_fully_qualified_name())
        executor = make_executor(node.get_parameter('executor').value)
        executor.add_node(node)
        spin_until_shutdown(executor)
    except CONFIGURATION_ERRORS as exc:
        print('rdk_classifier: %s' % exc, file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        # Ctrl-C under ros2 launch signals the node twice (the terminal, then launch): the
        # second signal must not cut short the release of workers and shared memory.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if node is not None:
            node.destroy_node()
        if executor is not None:
            executor.shutdown()
        rclpy.try_shutdown()
    return 0


def main(args: Optional[List[str]] = None) -> int:
    """Run the classifier node, configured and active from the start."""
    return run(True, args)


def main_managed(args: Optional[List[str]] = None) -> int:
    """Run the classifier as a lifecycle node, unconfigured until a manager configures it."""
    return run(False, args)


if __name__ == '__main__':
    sys.exit(main())
