"""Turns that run after the request that started them: failures reach every tab as a notice."""

from __future__ import annotations

import asyncio
import contextvars
import logging

from play.engine import broadcast
from play.engine.errors import Conflict, ModelFailed

log = logging.getLogger("rp.background")

_tasks: set[asyncio.Task] = set()


def spawn(chat_id: int, coro) -> asyncio.Task:
    """Run a turn in the background; failures reach every tab as a notice."""

    async def guarded():
        try:
            await coro
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
    # asgiref executor, which closes when the response is sent.
    task = asyncio.get_running_loop().create_task(guarded(), context=contextvars.Context())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task
