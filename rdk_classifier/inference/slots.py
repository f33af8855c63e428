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
The latest-frame slots: the newest untaken frame of each camera, served round robin (no ROS).

:meth:`FrameSlots.submit` only stores a frame in its camera's slot: a frame that nobody has taken
yet is replaced by the newer one and counted as ``dropped_busy``, so a slow model never queues
stale frames. Cameras with a waiting frame are served round robin (least recently served first),
so drops are shared fairly. Each frame gets a sequence number in its camera's order;
:meth:`FrameSlots.hand_over` delivers results of one camera in that order, dropping a result
that finishes after a newer one of its camera went out as ``dropped_stale``.

The slots also hold every camera's counters and stage timings (rdk_classifier.inference.stats):
all the counting of the pipeline happens here, through :meth:`submit`, :meth:`reject`,
:meth:`hand_over`, :meth:`drop` and :meth:`discard_waiting`.

Threading: any thread may call any method. One lock guards the slots, the paused/stopping state
and the taker's wake-up (:meth:`FrameSlots.arm`: the taker, the pipeline's dispatcher, sleeps on
its own file descriptors and the next frame calls it back). Each camera has its own delivery
lock, held while its result is handed over (so :meth:`pause` can wait for a hand-over in
progress), and its statistics their own lock.
"""

from dataclasses import dataclass
import threading
import time
from typing import Callable, Dict, Iterable, Optional

from rdk_classifier.inference.api import Frame, PipelineStopping, Result
from rdk_classifier.inference.stats import CameraSnapshot, CameraStats


class _CameraSlot:
    """The newest untaken frame of one camera, its frame order and its statistics."""

    def __init__(self) -> None:
        self.pending: Optional[Frame] = None
        self.pending_seq = 0
        self.pending_since = 0.0
        self.last_taken = 0.0
        self.next_seq = 0
        self.last_delivered_seq = -1
        self.deliver_lock = threading.Lock()
        self.stats = CameraStats()


@dataclass(frozen=True)
class Taken:
    """A frame taken from its camera's slot, with its place in the camera's frame order."""

    frame: Frame
    seq: int


class FrameSlots:
    """One latest-frame slot per camera; see the module docstring."""

    def __init__(self, cameras: Iterable[str]) -> None:
        """Create an empty slot per camera; frames wait in it until the dispatcher takes them."""
        self._slots: Dict[str, _CameraSlot] = {camera: _CameraSlot() for camera in cameras}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._paused = False
        #: Called by the next submit (see arm): the taker sleeps until then.
        self._wake: Optional[Callable[[], None]] = None

    @property
    def cameras(self) -> Iterable[str]:
        """Return the camera names, in the order given."""
        return self._slots.keys()

    @property
    def stopping(self) -> threading.Event:
        """Return the event set while the slots are closed (waits elsewhere poll it)."""
        return self._stopping

    def reopen(self) -> None:
        """Accept frames again after :meth:`close`."""
        self._stopping.clear()

    def close(self) -> None:
        """Refuse frames (dropped_stopped); takers get PipelineStopping (and are woken)."""
        with self._lock:
            self._stopping.set()
            wake, self._wake = self._wake, None
        if wake is not None:
            wake()

    def pause(self) -> None:
        """Hand over nothing more; return once no hand-over is in progress."""
        with self._lock:
            self._paused = True
        self.discard_waiting('dropped_disabled')
        for slot in self._slots.values():
            with slot.deliver_lock:  # waits for a hand-over in progress
                pass

    def resume(self) -> None:
        """Hand over results again."""
        with self._lock:
            self._paused = False

    def submit(self, frame: Frame) -> None:
        """Store a frame in its camera's slot (counted); returns at once."""
        slot = self._slots[frame.camera]
        with self._lock:
            slot.stats.count('received')
            if self._stopping.is_set():
                slot.stats.count('dropped_stopped')
                return
            if self._paused:
                slot.stats.count('dropped_disabled')
                return
            replacing = slot.pending is not None
            slot.pending = frame
            slot.pending_seq = slot.next_seq
            slot.next_seq += 1
            if replacing:
                # The taker was woken for the frame replaced: no need to wake it again.
                slot.stats.count('dropped_busy')
                return
            # Fairness: a camera waits from its first untaken frame; a replacement does not
            # send it to the back of the line.
            slot.pending_since = time.monotonic()
            wake, self._wake = self._wake, None
        if wake is not None:
            wake()

    def reject(self, camera: str) -> None:
        """Count a frame of ``camera`` that arrived malformed, before it became a Frame."""
        stats = self._slots[camera].stats
        stats.count('received')
        stats.count('dropped_bad')

    def take(self) -> Optional[Taken]:
        """Take the longest-waiting frame (round robin), or None; PipelineStopping once closed."""
        with self._lock:
            if self._stopping.is_set():
                raise PipelineStopping()
            waiting = [s for s in self._slots.values() if s.pending is not None]
            if not waiting:
                return None
            # Round robin: the camera served least recently goes first.
            slot = min(waiting, key=lambda s: (s.last_taken, s.pending_since))
            frame, slot.pending = slot.pending, None
            assert frame is not None
            slot.last_taken = time.monotonic()
            return Taken(frame, slot.pending_seq)

    def arm(self, wake: Callable[[], None]) -> bool:
        """
        Have the next frame submitted call ``wake()``, once.

        Returns False, arming nothing, when a frame already waits or the slots are closed.
        """
        with self._lock:
            waiting = any(s.pending is not None for s in self._slots.values())
            if waiting or self._stopping.is_set():
                return False
            self._wake = wake
            return True

    def hand_over(self, taken: Taken, result: Result,
                  on_result: Callable[[Result], None]) -> None:
        """Call on_result(result) unless paused or a newer result of its camera went out."""
        slot = self._slots[taken.frame.camera]
        with slot.deliver_lock:
            if self._paused:
                slot.stats.count('dropped_disabled')
                return
            if taken.seq < slot.last_delivered_seq:
                slot.stats.count('dropped_stale')
                return
            slot.last_delivered_seq = taken.seq
            slot.stats.count('published')
            on_result(result)

    def drop(self, taken: Taken, counter: str) -> None:
        """Count a taken frame that will not be handed over (called once per frame)."""
        self._slots[taken.frame.camera].stats.count(counter)

    def time(self, camera: str, stage: str, seconds: float) -> None:
        """Record one duration of a stage (rdk_classifier.inference.stats.STAGES)."""
        self._slots[camera].stats.time(stage, seconds)

    def discard_waiting(self, counter: str) -> None:
        """Drop the frames waiting in the slots, counting each in ``counter``."""
        with self._lock:
            for slot in self._slots.values():
                if slot.pending is not None:
                    slot.pending = None
                    slot.stats.count(counter)

    def snapshot(self, camera: str) -> CameraSnapshot:
        """Return one camera's counters and timings at one instant."""
        return self._slots[camera].stats.snapshot()
