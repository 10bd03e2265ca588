"""A background run that never ends is reported with where it waits."""

from __future__ import annotations

import asyncio
import logging

import pytest

from play.engine import background


async def _waits_on_something(never: asyncio.Event) -> None:
    await never.wait()


async def _the_run(never: asyncio.Event) -> None:
    await _waits_on_something(never)


@pytest.mark.asyncio
async def test_a_stalled_run_is_logged_once_with_the_await_it_is_stuck_in(monkeypatch, caplog):
    monkeypatch.setattr(background, "STALL_S", 0.05)
    monkeypatch.setattr(background, "WATCH_EVERY_S", 0.05)
    never = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="rp.background"):
        task = background.spawn(7, _the_run(never))
        await asyncio.sleep(0.4)
        reports = [r.getMessage() for r in caplog.records if "still going" in r.getMessage()]
        assert len(reports) == 1  # once, not every round
        assert "a run of chat 7" in reports[0]
        assert "_waits_on_something" in reports[0]  # the innermost await, not only the task
        assert "thread MainThread" in reports[0]
        never.set()
        await task
    assert task not in background._tasks


@pytest.mark.asyncio
async def test_a_run_that_ends_in_time_is_not_reported(monkeypatch, caplog):
    monkeypatch.setattr(background, "WATCH_EVERY_S", 0.05)
    never = asyncio.Event()
    never.set()
    with caplog.at_level(logging.WARNING, logger="rp.background"):
        await background.spawn(8, _the_run(never))
        await asyncio.sleep(0.15)
    assert not [r for r in caplog.records if "still going" in r.getMessage()]
