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
Thread-safe counters and timing windows for /diagnostics (no ROS inside).

Callbacks and pipeline lanes record events from several threads; the node's diagnostics timer
reads a consistent snapshot once a second. One lock per camera keeps each record call to a few
hundred nanoseconds.
"""

from collections import deque
from dataclasses import dataclass, field
import threading
import time
from typing import Deque, Dict, Optional

import numpy as np

#: How many recent samples the percentiles are computed over.
WINDOW = 512


class TimingWindow:
    """The most recent durations (seconds) of one stage, for p50/p95."""

    def __init__(self, size: int = WINDOW) -> None:
        self._samples: Deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        """Record one duration."""
        self._samples.append(seconds)

    def percentiles_ms(self) -> Optional[tuple]:
        """Return (p50, p95) in milliseconds, or None before the first sample."""
        if not self._samples:
            return None
        p50, p95 = np.percentile(np.fromiter(self._samples, dtype=np.float64), (50, 95))
        return float(p50) * 1e3, float(p95) * 1e3


#: Counter names, in the order diagnostics reports them.
COUNTERS = (
    'received',        # frames that reached the node
    'published',       # classifications published
    'dropped_busy',    # replaced in the latest-frame slot while every worker was busy
    'dropped_bad',     # malformed frames (wrong size, encoding, undecodable data)
    'dropped_engine',  # engine raised, timed out or its worker died
    'dropped_stale',   # finished after a newer frame of the same camera was published
    'dropped_disabled',  # arrived or finished while `enabled` was false or the node inactive
    'dropped_stopped',  # waiting or in flight when the pipeline stopped, or arrived after
)

#: Stage names of the per-frame timings.
STAGES = ('convert', 'infer', 'post', 'latency')


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
        with self._lock:
            self.timings[stage].add(seconds)

    def snapshot(self) -> dict:
        """Return counters, last-frame time and p50/p95 per stage at one instant."""
        with self._lock:
            return {
                'counts': dict(self.counts),
                'last_frame_time': self.last_frame_time,
                'percentiles_ms': {s: w.percentiles_ms() for s, w in self.timings.items()},
            }
