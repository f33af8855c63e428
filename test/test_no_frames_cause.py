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
The no-frames warning names the real cause: QoS, small frames seen before, else frame size.

(Process level: test_camera_input.py checks the QoS case through a real node, test_large_frames.py
the frame-size case; here each cause alone, with a stand-in for the node's graph queries.)
"""

from typing import Any, List

from rdk_classifier.ros import cameras


class GraphStandIn:
    """What frame_health asks of the node: publishers on a topic, and a logger."""

    def __init__(self, publishers: int) -> None:
        self.publishers = publishers
        self.warnings: List[str] = []

    def count_publishers(self, topic: str) -> int:
        return self.publishers

    def get_logger(self) -> 'GraphStandIn':
        return self

    def warning(self, text: str) -> None:
        self.warnings.append(text)


def silent_camera(**fields: Any) -> cameras.Camera:
    """Return a subscribed camera whose matched publisher has sent nothing for 10 s."""
    no_outputs: Any = None
    subscribed: Any = object()
    return cameras.Camera('/c/image_raw', '/c/image_raw', 'auto', no_outputs,
                          source=cameras.Source('/c/image_raw', cameras.IMAGE),
                          subscription=subscribed, matched_since=0.0, **fields)


def graph(publishers: int) -> Any:
    """Return the stand-in, typed as the node frame_health expects."""
    return GraphStandIn(publishers)


def warning_for(camera: cameras.Camera) -> str:
    node = graph(publishers=1)
    warning, note = cameras.frame_health(node, camera, camera.received_before_match, None,
                                         now=10.0)
    assert warning and not note and node.warnings == [warning]
    return warning


def test_an_incompatible_qos_is_named_not_the_frame_size():
    warning = warning_for(silent_camera(incompatible_policy='reliability'))
    assert 'qos_overrides./c/image_raw.subscription.reliability' in warning
    assert '512 KB' not in warning


def test_small_frames_seen_before_are_not_blamed_on_their_size():
    warning = warning_for(silent_camera(received_before_match=3, largest_frame=230 * 1024))
    assert 'fit the Fast DDS shared-memory segment' in warning and '230 KB' in warning
    assert 'likely being lost' not in warning


def test_otherwise_large_frames_get_the_profile_advice():
    for fields in ({}, {'received_before_match': 3, 'largest_frame': 1024 * 1024}):
        warning = warning_for(silent_camera(**fields))
        assert 'likely being lost' in warning and 'fastdds_large_frames.xml' in warning


def test_no_warning_before_the_delay_or_without_publishers():
    camera = silent_camera()
    assert cameras.frame_health(graph(1), camera, 0, None, now=1.0) == ('', '')
    assert cameras.frame_health(graph(0), camera, 0, None, now=10.0) == ('', '')
