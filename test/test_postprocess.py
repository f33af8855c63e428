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

"""Tests of softmax and top_k against direct reference computations (math, sorted())."""

import math

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from rdk_classifier.inference.postprocess import softmax, top_k


def reference_top_k(scores, k, threshold):
    """Sort every index by score descending, ties by lower index; keep k at or above threshold."""
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return [(i, float(scores[i])) for i in ranked if scores[i] >= threshold][:k]


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_softmax_matches_the_formula(dtype):
    logits = np.random.default_rng(0).normal(0, 4, 1000).astype(dtype)
    exp = [math.exp(float(v)) for v in logits]
    total = math.fsum(exp)
    np.testing.assert_allclose(softmax(logits), [e / total for e in exp], rtol=1e-12)


def test_softmax_is_stable_for_large_logits():
    scores = softmax(np.array([1e4, 1e4 - 1.0, -1e4], np.float32))
    assert np.all(np.isfinite(scores)) and math.isclose(scores.sum(), 1.0)
    # exp(a) / (exp(a) + exp(a - 1)) = 1 / (1 + e^-1), whatever a is.
    assert scores[0] == pytest.approx(1 / (1 + math.exp(-1)))
    assert scores[2] == 0.0


def test_softmax_rejects_no_logits():
    with pytest.raises(ValueError, match='got 0'):
        softmax(np.array([], np.float32))


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.integers(-5, 5), min_size=1, max_size=60), k=st.integers(1, 70),
       threshold=st.sampled_from([-1.0, 0.0, 0.1, 0.5]))
def test_top_k_matches_sorting_with_many_ties(values, k, threshold):
    scores = np.array(values, np.float64) / 10.0
    assert top_k(scores, k, threshold) == reference_top_k(scores, k, threshold)


@pytest.mark.parametrize('seed', range(5))
@pytest.mark.parametrize('k', [1, 5, 999, 1000, 1001])
def test_top_k_of_softmax_scores_matches_sorting(seed, k):
    scores = softmax(np.random.default_rng(seed).normal(0, 3, 1000).astype(np.float32))
    assert top_k(scores, k) == reference_top_k(scores, k, 0.0)
    assert top_k(scores, k, threshold=0.01) == reference_top_k(scores, k, 0.01)


def test_top_k_ties_keep_the_lower_index_first():
    scores = np.array([0.1, 0.3, 0.2, 0.3, 0.3, 0.1])
    assert top_k(scores, 2) == [(1, 0.3), (3, 0.3)]
    assert top_k(scores, 4) == [(1, 0.3), (3, 0.3), (4, 0.3), (2, 0.2)]


def test_top_k_threshold_and_k_beyond_the_scores():
    scores = np.array([0.05, 0.5, 0.25, 0.2])
    assert top_k(scores, 10) == [(1, 0.5), (2, 0.25), (3, 0.2), (0, 0.05)]
    assert top_k(scores, 10, threshold=0.2) == [(1, 0.5), (2, 0.25), (3, 0.2)]
    assert top_k(scores, 3, threshold=0.9) == []
    assert top_k(np.array([0.4, np.nan, 0.6]), 3) == [(2, 0.6), (0, 0.4)]


@pytest.mark.parametrize('k', [0, -1])
def test_top_k_rejects_k_below_one(k):
    with pytest.raises(ValueError, match='k must be >= 1, got %d' % k):
        top_k(np.ones(3), k)
