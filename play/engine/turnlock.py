"""One turn at a time per chat (in this process). A second send while a bot streams is busy;
a send that arrives while bookkeeping finishes waits for it instead."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from play.engine.errors import Conflict

BOOKKEEPING_WAIT_S = 45.0


class ChatBusy(Conflict):
    def __init__(self, chat_id: int) -> None:
        super().__init__(f"chat {chat_id} is busy: a bot is still writing. Wait or press Stop.")


@dataclass
class Run:
    chat_id: int
    origin: str  # "ws" (a browser tab) or "api"
    phase: str = "starting"  # starting | streaming | bookkeeping
    stop: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)


_mutex = threading.Lock()
_runs: dict[int, Run] = {}


def current(chat_id: int) -> Run | None:
    with _mutex:
        return _runs.get(chat_id)


def try_begin(chat_id: int, origin: str) -> Run:
    with _mutex:
        if chat_id in _runs:
            raise ChatBusy(chat_id)
        run = _runs[chat_id] = Run(chat_id, origin)
        return run


async def begin(chat_id: int, origin: str, *, wait_s: float = BOOKKEEPING_WAIT_S) -> Run:
    """Start a run; wait while the previous one only has bookkeeping left, else busy."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return try_begin(chat_id, origin)
        except ChatBusy:
            run = current(chat_id)
            if run is None:
                continue
            if run.phase != "bookkeeping" or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.05)


def begin_blocking(chat_id: int, origin: str, *, wait_s: float = BOOKKEEPING_WAIT_S) -> Run:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return try_begin(chat_id, origin)
        except ChatBusy:
            run = current(chat_id)
            if run is not None and (run.phase != "bookkeeping" or time.monotonic() > deadline):
                raise
        time.sleep(0.05)


def end(run: Run) -> None:
    with _mutex:
        if _runs.get(run.chat_id) is run:
            del _runs[run.chat_id]


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
