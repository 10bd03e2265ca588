"""At start-up: finish the bookkeeping of any bot turn a crash interrupted, and rewrite any
summary that lost a line to a delete."""

from __future__ import annotations

import asyncio
import logging
import threading

from asgiref.sync import sync_to_async
from django.db import connections

from eventstore.backup import nightly_loop
from memory.indexing import schedule, warm_up
from memory.models import Memory
from play.engine import turnlock
from play.engine.bookkeeping import bookkeep, summaries_rewrite
from play.engine.errors import ChatBusy
from play.models import Chat, Turn
from worlds.roles import NARRATOR, YOU

log = logging.getLogger("rp.recovery")
_started = threading.Event()


def pending_turns(chat_id: int | None = None) -> list[tuple[int, int]]:

    live = Chat.objects.filter(active_branch__isnull=False).values_list("pk", flat=True)
    if chat_id is not None:
        live = live.filter(pk=chat_id)
    return list(
        Turn.objects.filter(bookkept=False, chat_id__in=live)
        .exclude(speaker=YOU)
        .order_by("id")
        .values_list("chat_id", "id")
    )


async def recover(chat_id: int | None = None) -> int:

    done = 0
    for pending_chat, turn_id in await sync_to_async(pending_turns)(chat_id):
        try:
            async with turnlock.aheld(pending_chat, turnlock.RECOVERY, wait_s=0) as run:
                run.phase = "bookkeeping"
                chat = await sync_to_async(Chat.objects.get)(pk=pending_chat)
                log.info("completing interrupted bookkeeping of turn %s", turn_id)
                await bookkeep(chat, turn_id)
                done += 1
        except ChatBusy:
            continue  # a live turn holds the chat; its own bookkeeping will run
    for chat in await sync_to_async(_chats_to_rewrite)(chat_id):
        done += await summaries_rewrite(chat)
    return done


def _chats_to_rewrite(chat_id: int | None) -> list[Chat]:
    wanted = Memory.objects.filter(rewrite=True).values_list("chat_id", flat=True)
    chats = Chat.objects.filter(pk__in=wanted)
    return list(chats.filter(pk=chat_id) if chat_id is not None else chats)


def rewrite_in_background(chat_id: int) -> None:
    """After a delete: the summaries it left as extracts, rewritten by the model."""

    def main():
        try:
            chat = Chat.objects.get(pk=chat_id)
            asyncio.run(summaries_rewrite(chat))
        except Exception:
            log.exception("rewriting summaries failed; a restart tries again")
        finally:
            connections.close_all()

    threading.Thread(target=main, name=f"rp-rewrite-{chat_id}", daemon=True).start()


def bookkeep_in_background(chat_id: int) -> None:
    """Bookkeeping over a chat's unanalysed turns (an import): one turn at a time, resumable
    (a turn is done once its turn_bookkept event exists; a restart picks up the rest)."""

    def main():
        try:
            asyncio.run(recover(chat_id))
        except Exception:
            log.exception("background bookkeeping failed")
        finally:
            connections.close_all()

    threading.Thread(target=main, name=f"rp-bookkeep-{chat_id}", daemon=True).start()


def progress(chat_id: int) -> tuple[int, int]:
    """(analysed, total) bot turns of a chat."""

    bots = Turn.objects.filter(chat_id=chat_id).exclude(speaker__in=[YOU, NARRATOR])
    return bots.filter(bookkept=True).count(), bots.count()


def start_in_background() -> None:
    """Run once per process, off the request path, in its own thread and event loop."""
    if _started.is_set():
        return
    _started.set()

    def main():
        try:
            asyncio.run(recover())
        except Exception:
            log.exception("recovery failed")
        finally:
            connections.close_all()

    threading.Thread(target=main, name="rp-recovery", daemon=True).start()

    warm_up()
    schedule(None)  # memories written while the index was not running

    threading.Thread(
        target=nightly_loop, args=(threading.Event(),), name="rp-backup", daemon=True
    ).start()
