"""One action at a time per chat (in this process). An action that arrives while a bot
streams is busy; one that arrives while bookkeeping finishes waits for it instead.

Every engine service that changes a chat takes the lock itself, around all it reads and
writes: ``with turnlock.held(chat_id, origin):`` in sync code, ``async with
turnlock.aheld(chat_id, origin):`` in async code (docs/design.md, The door and the lock)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

from play.engine.errors import ChatBusy

BOOKKEEPING_WAIT_S = 45.0
_POLL_S = 0.05

# Who asks, passed by the caller: a page or a tab's websocket (the last tab closing stops a
# bot a tab started), the JSON API, or start-up recovery.
TAB = "ws"
API = "api"
RECOVERY = "recovery"


@dataclass
class Run:
    chat_id: int
    origin: str  # TAB, API or RECOVERY
    phase: str = "starting"  # starting | streaming | bookkeeping
    stop: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)


_mutex = threading.Lock()
_runs: dict[int, Run] = {}


def current(chat_id: int) -> Run | None:
    with _mutex:
        return _runs.get(chat_id)


def _claim(chat_id: int, origin: str, deadline: float) -> Run | None:
    """The lock, or None to wait for a run that only has bookkeeping left; else busy."""
    with _mutex:
        run = _runs.get(chat_id)
        if run is None:
            run = _runs[chat_id] = Run(chat_id, origin)
            return run
        if run.phase != "bookkeeping" or time.monotonic() > deadline:
            raise ChatBusy(chat_id)
        return None


def _release(run: Run) -> None:
    with _mutex:
        if _runs.get(run.chat_id) is run:
            del _runs[run.chat_id]


@contextmanager
def held(chat_id: int, origin: str, *, wait_s: float = BOOKKEEPING_WAIT_S) -> Iterator[Run]:
    """The chat's lock for the block; raises ChatBusy when a bot is writing (or bookkeeping
    outlasts ``wait_s``)."""
    deadline = time.monotonic() + wait_s
    while (run := _claim(chat_id, origin, deadline)) is None:
        time.sleep(_POLL_S)
    try:
        yield run
    finally:
        _release(run)


@asynccontextmanager
async def aheld(
    chat_id: int, origin: str, *, wait_s: float = BOOKKEEPING_WAIT_S
) -> AsyncIterator[Run]:
    """``held`` for async code: waits without blocking the event loop."""
    deadline = time.monotonic() + wait_s
    while (run := _claim(chat_id, origin, deadline)) is None:
        await asyncio.sleep(_POLL_S)
    try:
        yield run
    finally:
        _release(run)


def request_stop(chat_id: int, *, origin: str | None = None) -> bool:
    """Ask a streaming bot to stop (its partial text is committed, truncated)."""
    run = current(chat_id)
    if run is None or run.phase not in ("starting", "streaming"):
        return False
    if origin is not None and run.origin != origin:
        return False
    run.stop.set()
    return True


def is_busy(chat_id: int) -> bool:
    run = current(chat_id)
    return run is not None and run.phase in ("starting", "streaming")


def ensure_idle(chat_id: int) -> None:
    """For an action that runs after its request answers (a turn, a skip): busy now, as the
    answer, rather than later as a notice. The action still takes the lock itself."""
    if is_busy(chat_id):
        raise ChatBusy(chat_id)
