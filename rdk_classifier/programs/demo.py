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
The demo: real photos published as a camera would, classified by the real node.

Starts the classifier node (a separate process, default middleware settings), publishes photos as
``sensor_msgs/Image`` bgr8 frames on /demo/camera/image_raw from this process, and prints the
top-3 labels the node publishes for each. The photos come from the shared ImageNet sample
(--images, $RDK_CLASSIFIER_SAMPLES or ../shared/imagenet-sample next to the checkout) or, where
that is absent, from the few bundled with the package. Photos over 512 KB need the large-frames
Fast DDS profile on the publishing side, so this process sets it for itself (see README).
"""

import os
from pathlib import Path
import queue
import signal
import subprocess
import sys
import time
from typing import List, Optional

import cv2
import rclpy
from rclpy.qos import qos_profile_sensor_data
from rdk_classifier.catalog import load_labels
from rdk_classifier.engines import ENGINE_CHOICES
from rdk_classifier.paths import package_config_path
from rdk_classifier.programs.camera_sim import (image_files, IMAGE_SUFFIXES,
                                                use_large_frames_profile)
from rdk_classifier.programs.cli import argument_parser
from sensor_msgs.msg import Image
from vision_msgs.msg import Classification

TOPIC = '/demo/camera/image_raw'
RESULTS = '/demo/camera/classification'
BUNDLED = Path(__file__).resolve().parents[1] / 'data' / 'samples'


def sample_dir(explicit: Optional[str]) -> Path:
    """Return the folder of photos to show."""
    beside_checkout = Path(__file__).resolve().parents[3] / 'shared' / 'imagenet-sample'
    candidates = [explicit, os.environ.get('RDK_CLASSIFIER_SAMPLES'),
                  str(beside_checkout / 'images')]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return BUNDLED


def main(argv: Optional[List[str]] = None) -> int:
    """Run the demo; return the node's exit code (0 when all went well)."""
    parser = argument_parser(__doc__)
    parser.add_argument('--images', metavar='DIR',
                        help='folder of photos (%s); a <wnid>_<name> file name gives the true '
                        'label (default: $RDK_CLASSIFIER_SAMPLES, else the ImageNet sample next '
                        'to the source checkout, else the photos bundled with the package)'
                        % '/'.join(IMAGE_SUFFIXES))
    parser.add_argument('--count', type=int, default=12, help='photos to show')
    parser.add_argument('--model', default='EfficientNet_Lite0',
                        help="the node's model parameter: zoo name or model file")
    parser.add_argument('--engine', default='auto', choices=ENGINE_CHOICES,
                        help="the node's engine parameter")
    args = parser.parse_args(argv)

    try:
        photos = image_files(str(sample_dir(args.images)))
    except ValueError as exc:
        print('demo: %s' % exc, file=sys.stderr)
        return 1
    step = max(1, len(photos) // max(1, args.count))
    photos = photos[::step][:args.count]
    if not photos:
        print('demo: no photos (%s) in %s' % (' '.join(IMAGE_SUFFIXES), sample_dir(args.images)),
              file=sys.stderr)
        return 1
    labels = load_labels('')
    node_process = subprocess.Popen([
        sys.executable, '-m', 'rdk_classifier.ros.main', '--ros-args',
        '--params-file', str(package_config_path('classifier.yaml')),
        '-p', 'model:=%s' % args.model, '-p', 'engine:=%s' % args.engine,
        '-p', 'image_topics:=[%s]' % TOPIC, '-p', 'top_k:=3', '-p', 'threads:=1'])
    # After the node started: it keeps the default middleware settings, as on a robot.
    use_large_frames_profile()
    rclpy.init()
    node = rclpy.create_node('demo_camera')
    publisher = node.create_publisher(Image, TOPIC, qos_profile_sensor_data)
    results: queue.Queue = queue.Queue()
    node.create_subscription(Classification, RESULTS, results.put, 10)
    correct = 0
    try:
        for index, path in enumerate(photos):
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
            if bgr is None:
                print('demo: OpenCV cannot read %s' % path, file=sys.stderr)
                return 1
            msg = Image(height=bgr.shape[0], width=bgr.shape[1], encoding='bgr8',
                        step=bgr.shape[1] * 3, data=bgr.tobytes())
            msg.header.frame_id = 'demo_camera'
            msg.header.stamp.sec = index + 1
            result = _classify(node, publisher, msg, results, node_process)
            if result is None:
                print('demo: the node did not answer (see its log above)', file=sys.stderr)
                return 1
            truth = path.stem.split('_', 1)[-1].replace('_', ' ')
            top = ['%s %.2f' % (labels[int(r.class_id)], r.score) for r in result.results]
            correct += labels[int(result.results[0].class_id)] == truth
            print('%-40s %-22s -> %s' % (path.name, truth[:22], ' | '.join(top)), flush=True)
        print('top-1 on these %d photos: %d/%d' % (len(photos), correct, len(photos)))
    finally:
        node.destroy_node()
        rclpy.shutdown()
        node_process.send_signal(signal.SIGINT)
        code = node_process.wait(10)
    return code


def _classify(node, publisher, msg, results, node_process, timeout: float = 60.0):
    """Publish ``msg`` until its classification arrives (the first waits for start-up)."""
    deadline = time.monotonic() + timeout
    next_publish = 0.0
    while time.monotonic() < deadline and node_process.poll() is None:
        if time.monotonic() >= next_publish:
            publisher.publish(msg)
            next_publish = time.monotonic() + 0.5
        rclpy.spin_once(node, timeout_sec=0.05)
        while not results.empty():
            result = results.get()
            if result.header.stamp == msg.header.stamp:
                return result
    return None


if __name__ == '__main__':
    sys.exit(main())
