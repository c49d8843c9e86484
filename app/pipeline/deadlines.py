"""Request deadlines: one loop timer for every request in flight, not one per request.

`asyncio.timeout` arms a timer on entry and cancels it on exit; on uvloop that is a libuv timer
started, stopped and closed for every request, about 6 µs and a twentieth of a status read's
instructions. Here a request only enters a dict. One timer per event loop waits for the earliest
deadline of the requests then in flight; when it fires it cancels those past theirs (the others
are left running) and waits for the next earliest. With the same timeout for every request, the
deadlines come in the order the requests do, so a request never has to re-arm the timer.

A request past its deadline sees what `asyncio.timeout` would give it: its task is cancelled, and
leaving the `with` block turns that cancellation into TimeoutError, unless someone else also
cancelled the task, in which case the CancelledError goes on.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from typing import Any


# A timer may fire up to a millisecond before its time (uvloop counts in whole milliseconds):
# a deadline that close counts as reached, instead of a timer armed again for the rest.
_EARLY = 0.001


class _LoopDeadlines:
    """The requests in flight on one event loop and when its timer fires. It holds no reference to
    the loop, nor to a timer handle (which holds the loop): the loop is the key of a weak mapping
    to this. So a timer is never cancelled; one armed for a request that has ended fires, finds
    nothing due and arms itself for the requests that came since, if any."""

    __slots__ = ("watches", "timer_at")

    def __init__(self) -> None:
        self.watches: dict[Watch, None] = {}
        self.timer_at = math.inf  # the earliest timer armed and not yet fired

    def arm(self, loop: asyncio.AbstractEventLoop, at: float) -> None:
        loop.call_at(at, self.fire, loop, at)
        self.timer_at = at

    def fire(self, loop: asyncio.AbstractEventLoop, at: float) -> None:
        if at == self.timer_at:
            self.timer_at = math.inf
        due = loop.time() + _EARLY
        earliest = math.inf
        for watch in self.watches:
            if watch.expired:
                continue
            if watch.at <= due:
                watch.expired = True
                watch.task.cancel()  # runs nothing now: the task sees it at its next step
            elif watch.at < earliest:
                earliest = watch.at
        if earliest < self.timer_at:
            self.arm(loop, earliest)


class Watch:
    """One request's deadline: `with deadlines.watch(seconds):` around the work to stop."""

    __slots__ = ("state", "loop", "seconds", "at", "task", "cancelling", "expired")

    def __init__(self, state: _LoopDeadlines, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        self.state = state
        self.loop = loop
        self.seconds = seconds
        self.expired = False

    def __enter__(self) -> Watch:
        loop = self.loop
        self.task = task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("A deadline needs a task to cancel")
        self.cancelling = task.cancelling()
        self.at = at = loop.time() + self.seconds
        state = self.state
        state.watches[self] = None
        if at < state.timer_at:
            state.arm(loop, at)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        del self.state.watches[self]
        if self.expired and self.task.uncancel() <= self.cancelling and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc


class Deadlines:
    """Hands out Watches, with one _LoopDeadlines per event loop that uses it."""

    def __init__(self) -> None:
        self._last: tuple[Any, Any] = (None, None)  # read in one step: safe across threads
        self._by_loop: weakref.WeakKeyDictionary[Any, _LoopDeadlines] = weakref.WeakKeyDictionary()

    def watch(self, seconds: float) -> Watch:
        """Call inside the task to stop, in its event loop."""
        loop = asyncio.get_running_loop()
        last_loop, state = self._last
        if last_loop is not loop:
            state = self._by_loop.get(loop)
            if state is None:
                state = self._by_loop[loop] = _LoopDeadlines()
            self._last = (loop, state)
        return Watch(state, loop, seconds)

    def in_flight(self) -> int:
        """Requests under a deadline on the running loop."""
        state = self._by_loop.get(asyncio.get_running_loop())
        return len(state.watches) if state is not None else 0
