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
Accuracy of a model through the node's NV12 path, against the float RGB reference.

    ros2 run rdk_classifier evaluate [--model EfficientNet_Lite0] [--images DIR] [--out DIR]

Images are ``<wnid>_<name>.JPEG`` files labelled by the index of their wnid in a classes.tsv
table (as in ../shared/imagenet-sample). The float reference resizes the shorter side to
input / crop_pct with bilinear interpolation, crops the centre and normalizes float RGB (timm's
evaluation transform); the NV12 paths run each resize mode of rdk_classifier.frames through the
onnxruntime engine, exactly as the node does. Prints a markdown table, writes CSV and a PNG chart.
"""

import argparse
import csv
from pathlib import Path
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from rdk_classifier.catalog import ConfigError, resolve_model
from rdk_classifier.engines import create_engine, EngineSpec
from rdk_classifier.frames import NV12Converter, RESIZE_MODES

DEFAULT_IMAGES = Path(__file__).resolve().parents[2] / 'shared' / 'imagenet-sample'


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


def float_reference_input(bgr: np.ndarray, size: int, crop_pct: float, mean: Sequence[float],
                          std: Sequence[float]) -> np.ndarray:
    """Return the 1x3xHxW float32 input of the float RGB reference path."""
    height, width = bgr.shape[:2]
    scale = size / crop_pct / min(width, height)
    resized = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB),
                         (round(width * scale), round(height * scale)),
                         interpolation=cv2.INTER_LINEAR).astype(np.float32)
    top, left = (resized.shape[0] - size) // 2, (resized.shape[1] - size) // 2
    crop = resized[top:top + size, left:left + size]
    normalized = (crop - np.float32(mean)) / np.float32(std)
    return np.ascontiguousarray(normalized.transpose(2, 0, 1)[np.newaxis])


def evaluate(model: str, images: List[Tuple[Path, int]],
             modes: Sequence[str] = RESIZE_MODES) -> Dict[str, dict]:
    """Return top-1/top-5 counts and top-1 agreement with the reference, per path."""
    import onnxruntime
    resolved = resolve_model(model, 'onnxruntime')
    info = resolved.info
    mean, std = (info.mean, info.std) if info else ((123.675, 116.28, 103.53),
                                                    (58.395, 57.12, 57.375))
    crop_pct = info.crop_pct if info else 0.875
    engine = create_engine(EngineSpec('onnxruntime', resolved.path,
                                      {'mean': list(mean), 'std': list(std)}))
    session = onnxruntime.InferenceSession(resolved.path, providers=['CPUExecutionProvider'])
    input_name = session.get_inputs()[0].name
    converters = {mode: NV12Converter(engine.input_width, engine.input_height, mode, crop_pct)
                  for mode in modes}
    paths = ['float RGB reference'] + ['NV12 %s' % mode for mode in modes]
    results = {path: {'top1': 0, 'top5': 0, 'agree': 0, 'images': 0} for path in paths}
    for image_path, label in images:
        bgr = cv2.imread(str(image_path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
        logits = {'float RGB reference': session.run(None, {input_name: float_reference_input(
            bgr, engine.input_height, crop_pct, mean, std)})[0].ravel()}
        for mode, converter in converters.items():
            nv12 = converter.from_raw(bgr, bgr.shape[1], bgr.shape[0], bgr.strides[0], 'bgr8')
            logits['NV12 %s' % mode] = engine.infer(nv12)
        reference_top1 = int(np.argmax(logits['float RGB reference']))
        for path, values in logits.items():
            top5 = np.argsort(-values, kind='stable')[:5]
            counts = results[path]
            counts['images'] += 1
            counts['top1'] += int(top5[0] == label)
            counts['top5'] += int(label in top5)
            counts['agree'] += int(top5[0] == reference_top1)
    return results


def report(model: str, results: Dict[str, dict], out: Path) -> str:
    """Write CSV and PNG into ``out``; return the markdown table with the targets."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for path, counts in results.items():
        n = counts['images']
        rows.append((path, 100.0 * counts['top1'] / n, 100.0 * counts['top5'] / n,
                     100.0 * counts['agree'] / n, n))
    with open(out / 'evaluate.csv', 'w', newline='', encoding='utf-8') as stream:
        writer = csv.writer(stream)
        writer.writerow(['model', 'path', 'top1_pct', 'top5_pct', 'top1_agreement_pct',
                         'images'])
        writer.writerows([(model,) + row for row in rows])
    lines = ['| %s | Top-1 | Top-5 | Top-1 agreement with float |' % model,
             '|---|---|---|---|']
    lines += ['| %s | %.1f%% | %.1f%% | %.1f%% |' % row[:4] for row in rows]
    by_path = {row[0]: row[1] for row in rows}
    reference = by_path['float RGB reference']
    crop, stretch = by_path.get('NV12 center_crop'), by_path.get('NV12 stretch')
    if crop is not None:
        lines.append('\nNV12 center_crop within 0.5 pt of the float reference: %s (%+.1f pt)'
                     % ('PASS' if abs(crop - reference) <= 0.5 else 'MISS', crop - reference))
    if crop is not None and stretch is not None:
        lines.append('NV12 center_crop >= 4 pt above stretch (the zoo samples): %s (%+.1f pt)'
                     % ('PASS' if crop - stretch >= 4 else 'MISS', crop - stretch))
    _chart(model, rows, out / 'evaluate.png')
    table = '\n'.join(lines)
    (out / 'evaluate.md').write_text(table + '\n', encoding='utf-8')
    return table


def _chart(model: str, rows: list, path: Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot
    figure, axes = pyplot.subplots(figsize=(7, 3.5))
    names = [row[0] for row in rows]
    x = np.arange(len(rows))
    axes.bar(x - 0.2, [row[1] for row in rows], 0.4, label='top-1')
    axes.bar(x + 0.2, [row[2] for row in rows], 0.4, label='top-5')
    axes.set_xticks(x, names, fontsize=8)
    axes.set_ylim(min(row[1] for row in rows) - 10, 100)
    axes.set_ylabel('%')
    axes.set_title('%s on %d images' % (model, rows[0][4]))
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv: Optional[List[str]] = None) -> int:
    """Evaluate and print the table; exit 1 with one line when inputs are missing."""
    parser = argparse.ArgumentParser(description=__doc__.strip().split('\n\n')[0])
    parser.add_argument('--model', default='EfficientNet_Lite0')
    parser.add_argument('--images', default=str(DEFAULT_IMAGES),
                        help='folder with images/ and classes.tsv (default: %(default)s)')
    parser.add_argument('--limit', type=int, default=0, help='evaluate the first N images')
    parser.add_argument('--out', default='eval_results')
    args = parser.parse_args(argv)
    folder = Path(args.images)
    try:
        if not (folder / 'classes.tsv').is_file():
            raise ConfigError('%s has no classes.tsv (and images/)' % folder)
        images = labelled_images(folder / 'images', folder / 'classes.tsv')
        images = images[:args.limit] if args.limit else images
        results = evaluate(args.model, images)
    except ConfigError as exc:
        print('evaluate: %s' % exc, file=sys.stderr)
        return 1
    print(report(args.model, results, Path(args.out)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
