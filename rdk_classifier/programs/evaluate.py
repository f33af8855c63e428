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
Accuracy of a model through the node's NV12 path, against float references.

    ros2 run rdk_classifier evaluate [--model EfficientNet_Lite0] [--images DIR] [--out DIR]
    ros2 run rdk_classifier evaluate --jpeg [--jpeg-sizes 640x480,1920x1080]

Images are ``<wnid>_<name>.JPEG`` files labelled by the index of their wnid in a classes.tsv
table (as in ../shared/imagenet-sample). Every NV12 path is paired with a float path of the same
geometry, so the images it loses and wins against it are what NV12 costs and nothing else:

- ``float timm``: timm's evaluation transform (resize the shorter side to input / crop_pct, crop
  the centre), the convention published accuracies use;
- ``float <mode>``: the node's own crop box and resize for each resize mode
  (rdk_classifier.inference.frames), then float RGB normalization; paired with float timm;
- ``NV12 <mode>``: the node's conversion through the onnxruntime engine, exactly as the node
  runs it; and ``NV12 <mode>, top-left chroma``: with OpenCV's I420 chroma (each 2x2 block's
  top-left pixel) instead of the block's average; both paired with ``float <mode>``.

``--jpeg`` instead encodes each photo as a camera would send it (scaled to cover each camera
size, centre-cropped to it, JPEG quality 90) and compares the node's reduced-size JPEG decoding
with decoding at full size. Prints a markdown table, writes CSV and a PNG chart.
"""

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from rdk_classifier.catalog import resolve_model
from rdk_classifier.engines import create_engine, Engine, EngineSpec
from rdk_classifier.engines.onnx import ZOO_MEAN, ZOO_STD
from rdk_classifier.errors import ConfigError
from rdk_classifier.inference.baseline import FullJpegConverter, TopLeftChromaConverter
from rdk_classifier.inference.frames import NV12Converter, RESIZE_MODES
from rdk_classifier.programs.cli import argument_parser

#: The ImageNet sample of the development set-up, next to the source checkout.
DEFAULT_IMAGES = Path(__file__).resolve().parents[3] / 'shared' / 'imagenet-sample'
#: Camera frame sizes of the --jpeg comparison.
JPEG_SIZES = ((640, 480), (1280, 720), (1920, 1080), (3840, 2160))
JPEG_QUALITY = 90
FLOAT_TIMM = 'float timm'


@dataclass
class PathCounts:
    """Counts of one path over the images; lost and won are against ``baseline``'s top-1."""

    baseline: Optional[str] = None
    images: int = 0
    top1: int = 0
    top5: int = 0
    lost: int = 0
    won: int = 0


@dataclass
class _Model:
    """The model twice: the node's NV12 engine and a float session for the references."""

    engine: Engine
    session: Any  # an onnxruntime.InferenceSession (onnxruntime has no type information)
    mean: Tuple[float, ...]
    std: Tuple[float, ...]
    crop_pct: float

    def float_logits(self, rgb_input: np.ndarray) -> np.ndarray:
        name = self.session.get_inputs()[0].name
        return self.session.run(None, {name: rgb_input})[0].ravel()


def labelled_images(folder: Path, classes_tsv: Path) -> List[Tuple[Path, int]]:
    """Return (image path, class index) for every ``<wnid>_<name>.JPEG`` in ``folder``."""
    index = {}
    for row in classes_tsv.read_text(encoding='utf-8').splitlines()[1:]:
        number, wnid, _ = row.split('\t', 2)
        index[wnid] = int(number)
    images = []
    for path in sorted(folder.glob('*.JPEG')):
        wnid = path.name.split('_', 1)[0]
        if wnid not in index:
            raise ConfigError('%s: wnid %s is not in %s' % (path.name, wnid, classes_tsv))
        images.append((path, index[wnid]))
    return images


def normalized_input(rgb: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Return the 1x3xHxW float32 input of an HxWx3 RGB image."""
    normalized = ((rgb.astype(np.float32) - np.asarray(mean, np.float32))
                  / np.asarray(std, np.float32))
    return np.ascontiguousarray(normalized.transpose(2, 0, 1)[np.newaxis])


def float_reference_input(bgr: np.ndarray, size: int, crop_pct: float, mean: Sequence[float],
                          std: Sequence[float]) -> np.ndarray:
    """Return the 1x3xHxW float32 input of timm's evaluation transform (resize, then crop)."""
    height, width = bgr.shape[:2]
    scale = size / crop_pct / min(width, height)
    resized = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB),
                         (round(width * scale), round(height * scale)),
                         interpolation=cv2.INTER_LINEAR)
    top, left = (resized.shape[0] - size) // 2, (resized.shape[1] - size) // 2
    return normalized_input(resized[top:top + size, left:left + size], mean, std)


def paired_float_input(bgr: np.ndarray, converter: NV12Converter, mean: Sequence[float],
                       std: Sequence[float]) -> np.ndarray:
    """Return the float input with the converter's own crop box and resize."""
    return normalized_input(cv2.cvtColor(converter.fitted(bgr), cv2.COLOR_BGR2RGB), mean, std)


def camera_jpeg(bgr: np.ndarray, width: int, height: int) -> bytes:
    """Return ``bgr`` scaled to cover width x height, centre-cropped to it, as a JPEG."""
    scale = max(width / bgr.shape[1], height / bgr.shape[0])
    scaled = cv2.resize(bgr, (max(width, round(bgr.shape[1] * scale)),
                              max(height, round(bgr.shape[0] * scale))),
                        interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    top, left = (scaled.shape[0] - height) // 2, (scaled.shape[1] - width) // 2
    ok, encoded = cv2.imencode('.jpg', scaled[top:top + height, left:left + width],
                               [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ConfigError('OpenCV cannot encode JPEG')
    return encoded.tobytes()


def load_model(model: str) -> _Model:
    """Resolve ``model`` for onnxruntime; ConfigError when it is missing."""
    import onnxruntime
    resolved = resolve_model(model, 'onnxruntime')
    info = resolved.info
    mean, std = (info.mean, info.std) if info else (ZOO_MEAN, ZOO_STD)
    engine = create_engine(EngineSpec('onnxruntime', resolved.path,
                                      {'mean': list(mean), 'std': list(std)}))
    session = onnxruntime.InferenceSession(resolved.path, providers=['CPUExecutionProvider'])
    return _Model(engine, session, tuple(mean), tuple(std), info.crop_pct if info else 0.875)


def _read_bgr(path: Path) -> np.ndarray:
    """Return a photo as BGR; ConfigError when OpenCV cannot read it."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        raise ConfigError('OpenCV cannot read %s' % path)
    return bgr


def _count(results: Dict[str, PathCounts], logits: Dict[str, np.ndarray], label: int) -> None:
    """Add one image's logits per path; lost/won against each path's baseline."""
    correct = {}
    for path, values in logits.items():
        top5 = np.argsort(-values, kind='stable')[:5]
        counts = results[path]
        counts.images += 1
        correct[path] = bool(top5[0] == label)
        counts.top1 += int(correct[path])
        counts.top5 += int(label in top5)
    for path, counts in results.items():
        if counts.baseline is not None and path in correct:
            counts.lost += int(correct[counts.baseline] and not correct[path])
            counts.won += int(correct[path] and not correct[counts.baseline])


def evaluate(model: str, images: List[Tuple[Path, int]],
             modes: Sequence[str] = RESIZE_MODES) -> Dict[str, PathCounts]:
    """Return counts per path: float timm, then per mode float, NV12, NV12 top-left chroma."""
    loaded = load_model(model)
    width, height = loaded.engine.input_width, loaded.engine.input_height
    converters = {mode: (NV12Converter(width, height, mode, loaded.crop_pct),
                         TopLeftChromaConverter(width, height, mode, loaded.crop_pct))
                  for mode in modes}
    results = {FLOAT_TIMM: PathCounts()}
    for mode in modes:
        results['float %s' % mode] = PathCounts(FLOAT_TIMM)
        results['NV12 %s' % mode] = PathCounts('float %s' % mode)
        results['NV12 %s, top-left chroma' % mode] = PathCounts('float %s' % mode)
    for image_path, label in images:
        bgr = _read_bgr(image_path)
        logits = {FLOAT_TIMM: loaded.float_logits(float_reference_input(
            bgr, height, loaded.crop_pct, loaded.mean, loaded.std))}
        for mode, (averaged, sampled) in converters.items():
            logits['float %s' % mode] = loaded.float_logits(
                paired_float_input(bgr, averaged, loaded.mean, loaded.std))
            for path, converter in (('NV12 %s' % mode, averaged),
                                    ('NV12 %s, top-left chroma' % mode, sampled)):
                logits[path] = loaded.engine.infer(converter.from_raw(
                    bgr, bgr.shape[1], bgr.shape[0], bgr.strides[0], 'bgr8'))
        _count(results, logits, label)
    return results


def evaluate_jpeg(model: str, images: List[Tuple[Path, int]],
                  modes: Sequence[str] = RESIZE_MODES,
                  sizes: Sequence[Tuple[int, int]] = JPEG_SIZES) -> Dict[str, PathCounts]:
    """
    Return counts per camera size and mode: JPEG decoded at full size, then reduced.

    A size and mode the node decodes at full size has the full-size row only.
    """
    loaded = load_model(model)
    width, height = loaded.engine.input_width, loaded.engine.input_height
    converters: Dict[str, Tuple[NV12Converter, NV12Converter]] = {
        mode: (FullJpegConverter(width, height, mode, loaded.crop_pct),
               NV12Converter(width, height, mode, loaded.crop_pct))
        for mode in modes}
    # (size, mode) -> [(path, converter)]: full decoding, then the node's reduced one if any
    results = {}
    names = {}
    for camera_w, camera_h in sizes:
        for mode, (full, reduced) in converters.items():
            full_path = 'JPEG %dx%d %s, full decode' % (camera_w, camera_h, mode)
            results[full_path] = PathCounts()
            names[(camera_w, camera_h, mode)] = [(full_path, full)]
            scale = reduced.jpeg_reduction(camera_w, camera_h)
            if scale > 1:
                reduced_path = 'JPEG %dx%d %s, 1/%d decode' % (camera_w, camera_h, mode, scale)
                results[reduced_path] = PathCounts(full_path)
                names[(camera_w, camera_h, mode)].append((reduced_path, reduced))
    for image_path, label in images:
        bgr = _read_bgr(image_path)
        logits = {}
        for camera_w, camera_h in sizes:
            data = camera_jpeg(bgr, camera_w, camera_h)
            for mode in converters:
                for path, converter in names[(camera_w, camera_h, mode)]:
                    logits[path] = loaded.engine.infer(converter.from_compressed(data, 'jpeg'))
        _count(results, logits, label)
    return results


def _difference_pt(results: Dict[str, PathCounts], counts: PathCounts) -> Optional[float]:
    if counts.baseline is None:
        return None
    return 100.0 * (counts.top1 - results[counts.baseline].top1) / counts.images


def report(model: str, results: Dict[str, PathCounts], out: Path, name: str = 'evaluate',
           max_jpeg_loss_pt: float = 0.2) -> str:
    """Write CSV and PNG into ``out``; return the markdown table with the targets."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ('%s.csv' % name), 'w', newline='', encoding='utf-8') as stream:
        writer = csv.writer(stream)
        writer.writerow(['model', 'path', 'top1_pct', 'top5_pct', 'baseline',
                         'top1_difference_pt', 'lost', 'won', 'images'])
        for path, counts in results.items():
            difference = _difference_pt(results, counts)
            writer.writerow([model, path, '%.2f' % (100.0 * counts.top1 / counts.images),
                             '%.2f' % (100.0 * counts.top5 / counts.images),
                             counts.baseline or '',
                             '' if difference is None else '%.2f' % difference,
                             counts.lost, counts.won, counts.images])
    lines = ['| %s | Top-1 | Top-5 | Top-1 vs paired path | lost | won | paired with |' % model,
             '|---|---|---|---|---|---|---|']
    for path, counts in results.items():
        difference = _difference_pt(results, counts)
        paired = ('', '', '', '') if difference is None else (
            '%+.1f pt' % difference, str(counts.lost), str(counts.won), counts.baseline)
        lines.append('| %s | %.1f%% | %.1f%% | %s | %s | %s | %s |' % (
            (path, 100.0 * counts.top1 / counts.images, 100.0 * counts.top5 / counts.images)
            + paired))
    lines.append('')
    lines += _targets(results, max_jpeg_loss_pt)
    _chart(model, results, out / ('%s.png' % name))
    table = '\n'.join(lines)
    (out / ('%s.md' % name)).write_text(table + '\n', encoding='utf-8')
    return table


def _targets(results: Dict[str, PathCounts], max_jpeg_loss_pt: float) -> List[str]:
    """Return the PASS/MISS lines for the paths present."""
    lines = []
    top1 = {path: 100.0 * counts.top1 / counts.images for path, counts in results.items()}
    if 'NV12 center_crop' in top1:
        difference = top1['NV12 center_crop'] - top1['float center_crop']
        lines.append('NV12 center_crop within 0.5 pt of its paired float path: %s (%+.1f pt)'
                     % ('PASS' if abs(difference) <= 0.5 else 'MISS', difference))
    if 'NV12 center_crop' in top1 and 'NV12 stretch' in top1:
        difference = top1['NV12 center_crop'] - top1['NV12 stretch']
        lines.append('NV12 center_crop >= 4 pt above stretch (the zoo samples): %s (%+.1f pt)'
                     % ('PASS' if difference >= 4 else 'MISS', difference))
    reduced = [counts for path, counts in results.items()
               if path.startswith('JPEG') and counts.baseline is not None]
    if reduced:
        frames = sum(counts.images for counts in reduced)
        lost, won = sum(counts.lost for counts in reduced), sum(counts.won for counts in reduced)
        difference = 100.0 * (won - lost) / frames
        lines.append('Reduced JPEG decoding loses at most %.1f pt of top-1 against full decoding, '
                     'over the %d frames decoded reduced: %s (%+.2f pt, %d lost, %d won)'
                     % (max_jpeg_loss_pt, frames,
                        'PASS' if difference >= -max_jpeg_loss_pt else 'MISS',
                        difference, lost, won))
    return lines


def _chart(model: str, results: Dict[str, PathCounts], path: Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot
    names = list(results)
    figure, axes = pyplot.subplots(figsize=(max(7, 0.6 * len(names)), 4.5))
    x = np.arange(len(names))
    top1 = [100.0 * counts.top1 / counts.images for counts in results.values()]
    top5 = [100.0 * counts.top5 / counts.images for counts in results.values()]
    axes.bar(x - 0.2, top1, 0.4, label='top-1')
    axes.bar(x + 0.2, top5, 0.4, label='top-5')
    axes.set_xticks(x, names, fontsize=7, rotation=45, ha='right')
    axes.set_ylim(min(top1) - 10, 100)
    axes.set_ylabel('%')
    axes.set_title('%s on %d images' % (model, next(iter(results.values())).images))
    axes.legend(loc='lower left')
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _camera_sizes(text: str) -> List[Tuple[int, int]]:
    sizes: List[Tuple[int, int]] = []
    try:
        for item in text.split(','):
            width, height = (int(v) for v in item.lower().split('x'))
            sizes.append((width, height))
    except ValueError:  # not a number, or not two of them
        sizes = []
    if not sizes or any(min(size) < 2 for size in sizes):
        raise argparse.ArgumentTypeError('expected sizes like 640x480,1920x1080, got %r' % text)
    return sizes


def main(argv: Optional[List[str]] = None) -> int:
    """Evaluate and print the table; exit 1 with one line when inputs are missing."""
    parser = argument_parser(__doc__)
    parser.add_argument('--model', default='EfficientNet_Lite0',
                        help='zoo name or .onnx file; runs on onnxruntime, so a zoo name needs '
                        'its .onnx where the node looks (make it with: ros2 run rdk_classifier '
                        'export_onnx NAME)')
    parser.add_argument('--images', metavar='DIR',
                        help='folder holding classes.tsv (index, wnid, name) and images/ with '
                        '<wnid>_<name>.JPEG files (default: the ImageNet sample, '
                        'shared/imagenet-sample next to the source checkout)')
    parser.add_argument('--limit', type=int, default=0,
                        help='evaluate the first N images (0: all)')
    parser.add_argument('--jpeg', action='store_true',
                        help='compare reduced-size JPEG decoding with full decoding instead')
    parser.add_argument('--jpeg-sizes', type=_camera_sizes, metavar='WxH,...',
                        default=list(JPEG_SIZES), help='camera sizes of --jpeg '
                        '(default: %s)' % ','.join('%dx%d' % size for size in JPEG_SIZES))
    parser.add_argument('--out', metavar='DIR', default='eval_results',
                        help='folder, created if missing, that receives evaluate.csv, .md and '
                        '.png (evaluate_jpeg.* with --jpeg); relative to the current folder')
    args = parser.parse_args(argv)
    folder = Path(args.images).expanduser() if args.images else DEFAULT_IMAGES
    try:
        if not (folder / 'classes.tsv').is_file():
            raise ConfigError('%s has no classes.tsv (and images/); give the folder that has '
                              'them with --images DIR' % folder)
        images = labelled_images(folder / 'images', folder / 'classes.tsv')
        images = images[:args.limit] if args.limit else images
        if args.jpeg:
            results = evaluate_jpeg(args.model, images, sizes=args.jpeg_sizes)
        else:
            results = evaluate(args.model, images)
    except ConfigError as exc:
        print('evaluate: %s' % exc, file=sys.stderr)
        return 1
    print(report(args.model, results, Path(args.out), 'evaluate_jpeg' if args.jpeg
                 else 'evaluate'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
