"""Turns that run after the request that started them: failures reach every tab as a notice.

A run that is still going after ``STALL_S`` is logged with where it waits (its own stack and
every thread's), once, so a turn that never ends says why in the server log."""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import sys
import threading
import time
import traceback

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db import connections

from play.engine import broadcast
from play.engine.errors import Conflict, ModelFailed

log = logging.getLogger("rp.background")

# Every model call a run makes is bounded (a reply by ``timeout_s``, each analysis call by
# ``classifier_timeout_s``); a run past this is waiting on something else.
STALL_S = 150.0
WATCH_EVERY_S = 15.0

_tasks: dict[asyncio.Task, tuple[int, float]] = {}  # task -> (chat id, started)
_reported: set[asyncio.Task] = set()
_watchers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


def spawn(chat_id: int, coro) -> asyncio.Task:
    """Run a turn in the background; failures reach every tab as a notice."""

    async def guarded():
        try:
            async with ThreadSensitiveContext():
                try:
                    await coro
                finally:
                    await sync_to_async(connections.close_all)()
        except ModelFailed as exc:
            await broadcast.send(chat_id, "chat.notice", message=f"The model failed: {exc.message}")
        except (Conflict, ValueError, LookupError) as exc:
            await broadcast.send(chat_id, "chat.notice", message=str(exc))
        except Exception:
            log.exception("turn failed")
            await broadcast.send(
                chat_id,
                "chat.notice",
                message="Something went wrong; see the "
                "server log. Nothing already committed was lost.",
            )

    # A fresh context: a task started by a request must not inherit that request's
    # asgiref executor, which closes when the response is sent. Each run then gets a database
    # thread of its own (ThreadSensitiveContext), as a request does: a run never waits for the
    # thread another run or a tab's rendering holds, and closes its connection when it ends.
    loop = asyncio.get_running_loop()
    task = loop.create_task(guarded(), context=contextvars.Context())
    _tasks[task] = (chat_id, time.monotonic())
    task.add_done_callback(_forget)
    _watch(loop)
    return task


def _forget(task: asyncio.Task) -> None:
    _tasks.pop(task, None)
    _reported.discard(task)


def _watch(loop: asyncio.AbstractEventLoop) -> None:
    watcher = _watchers.get(loop)
    if watcher is None or watcher.done():
        _watchers[loop] = loop.create_task(_watchdog(), context=contextvars.Context())


async def _watchdog() -> None:
    while _tasks:
        await asyncio.sleep(WATCH_EVERY_S)
        for task in stalled():
            _reported.add(task)
            log.warning("%s", describe_stall(task))


def stalled() -> list[asyncio.Task]:
    """Runs going for longer than ``STALL_S`` that were not reported yet."""
    now = time.monotonic()
    return [
        task
        for task, (_chat, started) in list(_tasks.items())
        if now - started > STALL_S and task not in _reported and not task.done()
    ]


def await_chain(coro) -> list[str]:
    """Where a suspended coroutine waits: each frame down its chain of awaits (a task's own
    stack shows only the outermost)."""
    lines = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
        frame = frame or getattr(coro, "gi_frame", None)
        if frame is not None:
            lines.append(
                f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}\n"
            )
        coro = (
            getattr(coro, "cr_await", None)
            or getattr(coro, "ag_await", None)
            or getattr(coro, "gi_yieldfrom", None)
        )
    return lines


def describe_stall(task: asyncio.Task) -> str:
    chat_id, started = _tasks.get(task, (0, time.monotonic()))
    out = io.StringIO()
    out.write(
        f"a run of chat {chat_id} is still going after {time.monotonic() - started:.0f} s; "
        "where it waits:\n"
    )
    out.write("".join(await_chain(task.get_coro())))
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        out.write(f"thread {names.get(ident, ident)}:\n")
        out.write("".join(traceback.format_stack(frame)[-8:]))
    return out.getvalue()
