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
The ``log_results`` line: each camera's top-1 result, at most once per period.

Results arrive on the pipeline's dispatcher thread; a lock keeps "at most once per period" true
whatever thread calls (a pipeline restarted by a transition runs a new dispatcher). A result
whose line is not due costs one clock read and a comparison: nothing is formatted.
"""

import threading
import time
from typing import Callable, Dict, Optional, Sequence, Tuple


class ResultLog:
    """Decides when a camera's top-1 line is due and writes it: '<camera>: <label> <score>'."""

    def __init__(self, period_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        """Allow one line per camera every ``period_s`` seconds of ``clock``."""
        self._period_s = period_s
        self._clock = clock
        self._due: Dict[str, float] = {}
        self._lock = threading.Lock()

    def line(self, camera: str, top: Sequence[Tuple[int, float]],
             labels: Sequence[str]) -> Optional[str]:
        """Return the line for this result if one is due for ``camera``, else None."""
        now = self._clock()
        with self._lock:
            if now < self._due.get(camera, now):
                return None
            self._due[camera] = now + self._period_s
        if not top:
            return '%s: no class above score_threshold' % camera
        index, score = top[0]
        label = labels[index] if 0 <= index < len(labels) else 'class %d' % index
        return '%s: %s %.2f' % (camera, label, score)
