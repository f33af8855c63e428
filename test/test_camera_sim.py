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

"""The simulated camera: its photos, and its command line as `ros2 run` passes it."""

import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from rdk_classifier.programs.camera_sim import encode, frames, image_files, main

#: One colour per file (BGR), each far from every gray level of the photo-less camera.
PHOTOS = {'a.jpg': (0, 0, 255), 'b.JPG': (0, 255, 0), 'c.png': (255, 0, 0),
          'd.jpeg': (0, 255, 255), 'e.BMP': (255, 0, 255)}


def write_photos(folder):
    folder.mkdir(exist_ok=True)
    for name, colour in PHOTOS.items():
        assert cv2.imwrite(str(folder / name), np.full((60, 80, 3), colour, np.uint8)), name
    (folder / 'notes.txt').write_text('not an image')
    (folder / 'sub.png').mkdir()  # a folder with an image's name is no image


def test_photos_of_every_extension_and_case_are_published(tmp_path):
    write_photos(tmp_path / 'photos')
    assert [p.name for p in image_files(str(tmp_path / 'photos'))] == sorted(PHOTOS)
    source = frames(32, 24, 'bgr8', str(tmp_path / 'photos'))
    sent = [next(source) for _ in range(2 * len(PHOTOS))]
    for (data, step), name in zip(sent, sorted(PHOTOS) * 2):
        assert step == 32 * 3
        picture = np.frombuffer(data, np.uint8).reshape(24, 32, 3)
        # JPEG moves colours a little; the gray frames would be off by over 100 somewhere.
        assert np.abs(picture.astype(int) - PHOTOS[name]).max() < 40, name
    assert sent[0][0] is sent[len(PHOTOS)][0]  # encoded once, handed out on every cycle


def test_without_a_folder_the_frames_are_gray_levels():
    data, step = next(frames(8, 6, 'bgr8', None))
    assert (data, step) == encode(np.full((6, 8, 3), 16, np.uint8), 'bgr8')


@pytest.mark.requires('rclpy', reason='camera_sim removes ROS arguments with rclpy first')
@pytest.mark.parametrize('make, message', [
    (lambda folder: folder.mkdir(), 'holds no image'),
    (lambda folder: (folder.mkdir(), (folder / 'x.txt').write_text('x')), 'holds no image'),
    (lambda folder: None, 'is not a folder')], ids=['empty', 'no-image', 'missing'])
def test_a_folder_without_images_stops_with_one_line(tmp_path, capsys, make, message):
    folder = tmp_path / 'photos'
    make(folder)
    assert main(['--images', str(folder), '--count', '1', '--wait-subscribers', '0']) == 1
    error = capsys.readouterr().err
    assert error.count('\n') == 1 and error.startswith('camera_sim: --images %s ' % folder)
    assert message in error


def test_an_unreadable_image_is_named(tmp_path):
    (tmp_path / 'broken.jpg').write_bytes(b'not a jpeg')
    with pytest.raises(ValueError, match='OpenCV cannot read .*broken.jpg'):
        frames(8, 6, 'bgr8', str(tmp_path))


@pytest.mark.ros
def test_ros_arguments_reach_rclpy(client):
    camera = subprocess.Popen(
        [sys.executable, '-m', 'rdk_classifier.programs.camera_sim',
         '--topic', '/sim/cam/image_raw', '--rate', '5', '--wait-subscribers', '0',
         '--ros-args', '-r', '__node:=sim_cam_test'],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20.0
        while 'sim_cam_test' not in client.node.get_node_names():
            assert camera.poll() is None, camera.communicate()[0]
            assert time.monotonic() < deadline, 'no node named sim_cam_test in the graph'
            time.sleep(0.1)
    finally:
        camera.send_signal(signal.SIGINT)
        output, _ = camera.communicate(timeout=10)
    assert camera.returncode == 0, output
