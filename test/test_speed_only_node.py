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

"""The node refuses a speed-only (random weights) model, and says so when told to run it."""

from node_process import NodeProcess
import pytest
import scenarios
from test_engine_onnx import pooled_model, SPEED_ONLY
from vision_msgs.msg import VisionInfo

pytestmark = pytest.mark.ros


@pytest.mark.requires('onnx', 'onnxruntime', reason='the onnx package builds the speed-only '
                      'model and the node runs it on the onnxruntime engine')
def test_speed_only_model_is_refused_then_reported_on_every_report(client, tmp_path):
    model = tmp_path / 'repvit_random.onnx'
    pooled_model(model, SPEED_ONLY)
    labels = tmp_path / 'labels.txt'
    labels.write_text('red\ngreen\nblue\n')
    params = scenarios.write_params_file('raw', str(tmp_path / 'params.yaml'))
    model_args = ('-p', 'model:=%s' % model, '-p', 'engine:=onnxruntime', '-p', 'threads:=1',
                  '-p', 'labels:=%s' % labels)

    refused = NodeProcess(params, *model_args)
    assert refused.process.wait(60) == 1
    refused.stop()
    errors = [line for line in refused.lines if line.startswith('rdk_classifier:')]
    assert len(errors) == 1 and 'random weights' in errors[0], refused.output
    assert 'onnxruntime.allow_speed_only' in errors[0]

    allowed = NodeProcess(params, *model_args, '-p', 'onnxruntime.allow_speed_only:=true')
    try:
        allowed.wait_for_line('classifying')
        vision = client.wait_for(
            client.inbox(scenarios.CAM1.rpartition('/')[0] + '/vision_info', VisionInfo,
                         scenarios.LATCHED),
            lambda msg: 'SPEED-ONLY' in msg.method, what='VisionInfo saying SPEED-ONLY')
        assert vision.method.startswith('repvit_random.onnx')
        client.diagnostic_value(scenarios.CAM1, 'weights', lambda value: 'SPEED-ONLY' in value)
    finally:
        assert allowed.stop() == 0, allowed.output
