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
Tell whether a call lets other Python threads run: the longest stall of a spinning thread.

Counting a thread's iterations during the call depends on how much CPU a busy machine gives it.
A stall does not: while a call holds the GIL, a thread running Python code cannot take one step,
however idle the machine, so its longest stall lasts at least as long as the hold. While a call
releases the GIL, the thread's stalls are only the scheduler's (milliseconds, tens on a busy
machine). Threading: one spinning thread per :func:`longest_stall_during` call, joined before it
returns.
"""

import threading
import time
from typing import Callable, List, Tuple

#: Gaps between two steps of the spinning thread shorter than this are not stalls.
_STEP_S = 0.001


def longest_stall_during(call: Callable[[], object]) -> float:
    """Run ``call``; return the longest time within it that another thread took no step."""
    stalls: List[Tuple[float, float]] = []
    spinning = threading.Event()

    def spin() -> None:
        last = time.monotonic()
        spinning.set()
        while spinning.is_set():
            now = time.monotonic()
            if now - last > _STEP_S:
                stalls.append((last, now))
            last = now
    thread = threading.Thread(target=spin)
    thread.start()
    spinning.wait()
    started = time.monotonic()
    call()
    ended = time.monotonic()
    spinning.clear()
    thread.join()
    # A stall that began before the call or lasted past it counts only for its part within.
    return max([min(end, ended) - max(start, started) for start, end in stalls] + [0.0])
