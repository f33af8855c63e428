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

"""Tests of softmax and top-k against direct reference computations."""

import math

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from rdk_classifier.postprocess import softmax, top_k


def test_softmax_matches_the_formula():
    logits = np.array([1.0, 2.0, 3.0, -1.0], np.float32)
    exp = [math.exp(v) for v in logits]
    np.testing.assert_allclose(softmax(logits), [e / sum(exp) for e in exp], rtol=1e-12)


def test_softmax_is_stable_for_large_logits():
    scores = softmax(np.array([1e4, 1e4 - 1.0, -1e4]))
    assert np.all(np.isfinite(scores)) and scores.sum() == pytest.approx(1.0)
    assert scores[0] == pytest.approx(1 / (1 + math.exp(-1)))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.integers(-5, 5), min_size=1, max_size=60), k=st.integers(1, 70),
       threshold=st.sampled_from([0.0, 0.1, 0.5]))
def test_top_k_matches_sorting(values, k, threshold):
    scores = np.array(values, np.float64) / 10.0
    # Reference: sort by score descending, ties by lower index.
    expected = sorted(range(len(values)), key=lambda i: (-scores[i], i))[:k]
    expected = [(i, scores[i]) for i in expected if scores[i] >= threshold]
    assert top_k(scores, k, threshold) == expected


def test_top_k_rejects_k_below_one():
    with pytest.raises(ValueError, match='k must be >= 1'):
        top_k(np.ones(3), 0)
