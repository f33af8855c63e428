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
A slow camera is not a transport fault: no large-frame advice for a camera that delivers.

(The advice itself, for a publisher whose frames never arrive, is in test_large_frames.py.)
"""

from diagnostic_msgs.msg import DiagnosticArray
from node_process import NodeProcess
import pytest
import scenarios

pytestmark = pytest.mark.ros


def test_a_camera_gone_quiet_gets_a_note_not_the_transport_warning(client, tmp_path):
    params = scenarios.write_params_file('raw', str(tmp_path / 'params.yaml'))
    node = NodeProcess(params, '-p', 'image_topics:=[%s]' % scenarios.CAM1)
    try:
        node.wait_for_line('classifying')
        data, step, _ = scenarios.uniform_frame('bgr8', 80)
        client.classify(scenarios.CAM1, client.raw_image('bgr8', data, 64, 48, step))
        # Quiet for longer than the warning delay: the status says when the last frame came.
        inbox = client.inbox('/diagnostics', DiagnosticArray, 10)
        array = client.wait_for(inbox, lambda a: any(
            s.name.endswith(scenarios.CAM1) and s.message.startswith('last frame')
            for s in a.status), what='a "last frame ... ago" status')
        status = next(s for s in array.status if s.name.endswith(scenarios.CAM1))
        assert status.level == status.OK, status
        assert not any('likely being lost' in line for line in node.lines), node.output
    finally:
        assert node.stop() == 0, node.output
