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
Thread-safe counters and timing windows of the pipeline's cameras (no ROS inside).

Frame producers and the dispatcher record events from several threads; a reader (the node's
diagnostics timer) takes a typed snapshot (:class:`CameraSnapshot`) at one instant. One lock
per camera keeps each record call to a few hundred nanoseconds. :class:`TimingWindow` is also
for timings measured outside the pipeline (the node's end-to-end latency).
"""

from collections import deque
from dataclasses import dataclass, field, fields
import threading
import time
from typing import Deque, Dict, Optional, Tuple

import numpy as np

#: How many recent samples the percentiles are computed over.
WINDOW = 512
#: (p50, p95) in milliseconds, or None before the first sample.
Percentiles = Optional[Tuple[float, float]]


class TimingWindow:
    """The most recent durations (seconds) of one stage, for p50/p95; thread-safe."""

    def __init__(self, size: int = WINDOW) -> None:
        self._samples: Deque[float] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        """Record one duration."""
        with self._lock:
            self._samples.append(seconds)

    def percentiles_ms(self) -> Percentiles:
        """Return (p50, p95) in milliseconds, or None before the first sample."""
        with self._lock:
            if not self._samples:
                return None
            samples = np.fromiter(self._samples, dtype=np.float64)
        p50, p95 = np.percentile(samples, (50, 95))
        return float(p50) * 1e3, float(p95) * 1e3


@dataclass(frozen=True)
class Counts:
    """How many frames of one camera went which way; every frame is received once."""

    received: int = 0  # frames that reached the pipeline
    published: int = 0  # classifications handed over
    dropped_busy: int = 0  # replaced in the latest-frame slot while every worker was busy
    dropped_bad: int = 0  # malformed frames (wrong size, encoding, undecodable data)
    dropped_engine: int = 0  # engine raised, timed out or its worker died
    dropped_stale: int = 0  # finished after a newer frame of the same camera was handed over
    dropped_disabled: int = 0  # arrived or finished while paused (disabled or inactive)
    dropped_stopped: int = 0  # waiting or in flight when the pipeline stopped, or arrived after

    @property
    def dropped(self) -> int:
        """All the frames dropped, for whatever reason."""
        return sum(getattr(self, name) for name in COUNTERS if name.startswith('dropped_'))


#: Counter names, in the order diagnostics reports them (the fields of Counts).
COUNTERS = tuple(f.name for f in fields(Counts))

#: Stage names of the pipeline's per-frame timings.
STAGES = ('convert', 'infer', 'post')


@dataclass(frozen=True)
class CameraSnapshot:
    """One camera's counters, last frame time and stage percentiles at one instant."""

    counts: Counts
    #: time.monotonic() of the last frame received, None before the first.
    last_frame_time: Optional[float]
    #: (p50, p95) ms of each of STAGES.
    percentiles_ms: Dict[str, Percentiles]


@dataclass
class CameraStats:
    """Counters and stage timings of one camera; every method is thread-safe."""

    counts: Dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    timings: Dict[str, TimingWindow] = field(
        default_factory=lambda: {stage: TimingWindow() for stage in STAGES})
    last_frame_time: Optional[float] = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, counter: str, amount: int = 1) -> None:
        """Add to one of COUNTERS."""
        with self._lock:
            self.counts[counter] += amount
            if counter == 'received':
                self.last_frame_time = time.monotonic()

    def time(self, stage: str, seconds: float) -> None:
        """Record one duration of one of STAGES."""
        self.timings[stage].add(seconds)

    def snapshot(self) -> CameraSnapshot:
        """Return counters and last-frame time at one instant, and p50/p95 per stage."""
        with self._lock:
            counts, last_frame_time = Counts(**self.counts), self.last_frame_time
        return CameraSnapshot(counts, last_frame_time,
                              {s: w.percentiles_ms() for s, w in self.timings.items()})
