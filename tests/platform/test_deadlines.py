"""Request deadlines (app.pipeline.deadlines): what asyncio.timeout would do, with one timer per loop.

The HTTP behaviour (REQUEST_TIMEOUT) is in test_pipeline.py; these pin the rules that are easier to
see in isolation: who is stopped, when, and which exception they see.
"""

from __future__ import annotations

import asyncio
import gc
import threading

import pytest

from app.pipeline.deadlines import Deadlines


async def _run(deadlines: Deadlines, seconds: float, work) -> tuple[str, float]:
    """What the work under a deadline gave ('done', 'timeout', 'cancelled') and when."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with deadlines.watch(seconds):
            await work()
        outcome = "done"
    except TimeoutError:
        outcome = "timeout"
    except asyncio.CancelledError:
        outcome = "cancelled"
    return outcome, loop.time() - started


def _sleep(seconds: float):
    return lambda: asyncio.sleep(seconds)


# A timer may fire a millisecond early (deadlines.py's _EARLY); the upper bounds only tell a
# stopped request from one that ran its course (5 s), on however busy a machine.
EARLY = 0.002


async def test_work_past_its_deadline_sees_timeout_error():
    outcome, took = await _run(Deadlines(), 0.05, _sleep(5))
    assert outcome == "timeout"
    assert 0.05 - EARLY <= took < 3


async def test_work_within_its_deadline_is_untouched_and_the_timer_it_leaves_stops_no_one():
    deadlines = Deadlines()
    assert (await _run(deadlines, 0.05, _sleep(0)))[0] == "done"
    # The timer armed for the first deadline is still pending; it must not stop the second early.
    outcome, took = await _run(deadlines, 0.2, _sleep(5))
    assert outcome == "timeout" and 0.2 - EARLY <= took < 3
    assert deadlines.in_flight() == 0


async def test_only_the_requests_past_their_deadlines_are_stopped():
    deadlines = Deadlines()
    results = await asyncio.gather(
        _run(deadlines, 10, _sleep(0.3)),
        _run(deadlines, 0.05, _sleep(5)),
        _run(deadlines, 0.15, _sleep(5)),
        _run(deadlines, 10, _sleep(0.3)),
    )
    assert [outcome for outcome, _ in results] == ["done", "timeout", "timeout", "done"]
    assert 0.05 - EARLY <= results[1][1] <= results[2][1] < 3
    assert results[2][1] >= 0.15 - EARLY


async def test_a_shorter_deadline_after_a_longer_one_is_kept():
    deadlines = Deadlines()
    long = asyncio.create_task(_run(deadlines, 10, _sleep(0.5)))
    await asyncio.sleep(0.01)  # the timer now waits for the long one's deadline
    outcome, took = await _run(deadlines, 0.05, _sleep(5))
    assert outcome == "timeout" and took < 3  # not left to the long one's timer, 10 s away
    assert (await long)[0] == "done"


async def test_a_cancel_from_elsewhere_stays_a_cancel():
    task = asyncio.create_task(_run(Deadlines(), 10, _sleep(5)))
    await asyncio.sleep(0.01)
    task.cancel()
    assert (await task)[0] == "cancelled"


async def test_a_cancel_from_elsewhere_as_the_deadline_passes_is_not_swallowed():
    async def cancelled_again_while_stopping():
        try:
            await asyncio.sleep(5)
        finally:  # the deadline's cancel arrived; someone else asks for one as well
            asyncio.current_task().cancel()

    outcomes: list[str] = []

    async def request() -> None:
        outcomes.append((await _run(Deadlines(), 0.05, cancelled_again_while_stopping))[0])

    task = asyncio.create_task(request())
    with pytest.raises(asyncio.CancelledError):
        await task  # the second request to cancel still ends the task
    assert outcomes == ["cancelled"]


async def test_work_that_absorbs_the_cancel_ends_normally():
    async def absorbs():
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            pass

    assert (await _run(Deadlines(), 0.05, absorbs))[0] == "done"


def test_each_event_loop_keeps_its_own_deadlines():
    deadlines = Deadlines()
    seen: list[str] = []

    def in_a_thread() -> None:
        seen.append(asyncio.run(_run(deadlines, 0.05, _sleep(5)))[0])

    async def here() -> None:
        thread = threading.Thread(target=in_a_thread)
        thread.start()
        seen.append((await _run(deadlines, 0.1, _sleep(5)))[0])
        thread.join()

    asyncio.run(here())
    asyncio.run(here())  # a new loop after the first closed
    assert seen == ["timeout"] * 4
    # Closed loops are not kept (their timers may still be pending): only the last one used is.
    gc.collect()
    assert len(deadlines._by_loop) == 1


def test_a_deadline_needs_a_running_loop():
    with pytest.raises(RuntimeError):
        Deadlines().watch(1)
