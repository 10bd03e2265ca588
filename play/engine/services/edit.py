"""Editing a line, and the world following its words (docs/design.md, Time travel).

An edit is a branch, like every change of line: nothing is overwritten, the old words stay on
the branch they were said on (a variant of the line, one click away). On the new branch the
line says the new words; what its analysis found is found again from them; what came only
from the old words leaves every later derived text, exactly as a surgical delete scrubs a
deleted line's words; and, with **Save**, what followed is copied after it. **Save and branch**
stops at the edited line: the story goes on from there, what followed stays on the old branch.

The analysis redone is the one that read the line as an exchange: the line's own when it is a
bot's reply, the reply's when it is your line (the reply stays as it was written). Replay
never calls a model: the new analysis is recorded on the branch like any other.
An edit that only corrects spelling (same words, a letter or two apart, numbers alike) keeps
the analysis as it was: it changes no state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from asgiref.sync import sync_to_async

from eventstore import branches as branch_log
from eventstore.models import Branch, Event
from eventstore.projection import DBStore, MemoryStore, dump_db, project
from eventstore.records import EventRecord
from eventstore.services import (
    BranchError,
    active_branch,
    append,
    branch_activate,
    branch_fork,
    events_copy,
)
from memory.indexing import schedule
from play.engine import broadcast, turnlock
from play.engine.bookkeeping import bookkeep
from play.engine.errors import NotFound
from play.engine.impact import describe
from play.engine.pipeline import validate_text
from play.engine.selectors import chat_get
from play.engine.services.delete import remap_payload
from play.engine.text import strip_ooc
from play.models import Chat, Turn
from rpsite.config import ooc_markers
from worlds import cast, lexicon
from worlds.cast import Seats
from worlds.lexicon import LINE_KINDS as LINES
from worlds.services import manual_edit

EDITABLE = LINES
# what a line's prompt left behind, not what its analysis found: kept as it was
NOT_ANALYSIS = ("lore_timed_state",)


@dataclass
class EditPlan:
    fork: Event  # the last event kept as it is
    line: EventRecord  # the line edited
    analysed: int | None  # the bot turn whose analysis read it (itself, or its reply)
    redo: set[int]  # that analysis: its events, to be found again from the new words
    after: list[EventRecord]  # every later event of the active line
    prefix: list[EventRecord]  # the log up to and including the fork


def plan(chat: Chat, turn_id: int) -> EditPlan:
    event = Event.objects.filter(stream=chat, pk=turn_id).first()
    if event is None or not Turn.objects.filter(chat=chat, pk=turn_id).exists():
        raise NotFound(f"no line {turn_id} on chat {chat.pk}'s active line")
    if event.kind not in EDITABLE:
        raise BranchError(f"a {event.kind} event is not a line to edit")
    log = list(branch_log.events(active_branch(chat)))
    index = next(i for i, r in enumerate(log) if r.id == turn_id)
    if index == 0:
        raise BranchError("the start of a chat has no line to edit")
    line, after = log[index], log[index + 1 :]
    analysed = None
    if line.kind == "assistant_turn":
        analysed = line.id
    elif line.kind == "user_turn":
        analysed = next(
            (
                r.id
                for r in after
                if r.kind == "assistant_turn" and r.payload.get("reply_to") == line.id
            ),
            None,
        )
    redo: set[int] = set()
    if analysed is not None:
        causes = {analysed}
        for r in after:
            if r.caused_by_id in causes and r.kind not in LINES and r.kind not in NOT_ANALYSIS:
                redo.add(r.id)
                causes.add(r.id)
    fork = Event.objects.get(pk=log[index - 1].id)
    return EditPlan(fork, line, analysed, redo, after, log[:index])


def spelling_only(old: str, new: str) -> bool:
    """The same words in the same order, each at most a slip of the keys apart; numbers and
    codes exactly alike."""
    a = [w for w, _ in lexicon._tokens(old) if w.isalnum()]
    b = [w for w, _ in lexicon._tokens(new) if w.isalnum()]
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        if any(c.isdigit() for c in x + y):
            return False
        if slips(x, y) > max(1, min(len(x), len(y)) // 4):
            return False
    return True


def slips(a: str, b: str) -> int:
    """Keys missed, added, swapped for another, or two swapped with each other (the optimal
    string alignment distance)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def old_only_words(p: EditPlan, new_text: str) -> set[str]:
    """What the old words said that neither the new words nor any other line says."""

    def said(r: EventRecord) -> str:
        return r.payload.get("bot_text", r.payload.get("text", ""))

    others = {
        w
        for r in (*p.prefix, *p.after)
        if r.kind in LINES and not r.payload.get("sources")
        for w in lexicon.words_of(said(r))
    }
    return set(lexicon.words_of(said(p.line))) - set(lexicon.words_of(new_text)) - others


def edited_payload(line: EventRecord, text: str) -> dict[str, Any]:
    """The line's payload with the new words (what the bots see: out-of-character parts
    removed, as for a message)."""
    payload = dict(line.payload)
    payload["text"] = text
    payload["bot_text"] = strip_ooc(text, *ooc_markers()) if line.kind == "user_turn" else text
    payload["edited_from"] = line.payload.get("edited_from") or line.id
    return payload


@dataclass
class Copier:
    """Copies later events onto the edit's branch: ids read as their copies, the old words
    scrubbed from what was derived from them."""

    chat: Chat
    branch: Branch
    line: EventRecord
    words: set[str]
    ids: dict[int, int]

    def copy(self, records: list[EventRecord]) -> None:
        events_copy(
            stream=self.chat,
            branch=self.branch,
            records=records,
            payload_of=lambda r, ids: remap_payload(r.payload, ids, words=self.words),
            ids=self.ids,
        )


def _keep(p: EditPlan, spelling: bool) -> list[EventRecord]:
    return [r for r in p.after if spelling or r.id not in p.redo]


def _start(chat: Chat, p: EditPlan, text: str, words: set[str], spelling: bool, keep: bool):
    """The edit's branch: the new line, and (keeping) what followed — up to the analysed
    reply when its analysis is to be found again, else all of it; made active. Returns the
    copier (its ids: old event → copy)."""
    state: dict[str, Any] = {}

    def fill(branch: Branch) -> None:
        new = append(
            stream=chat,
            kind=p.line.kind,
            branch=branch,
            payload=edited_payload(p.line, text),
            caused_by=p.line.caused_by_id,
        )
        copier = Copier(chat, branch, p.line, words, {p.line.id: new.id})
        if keep:
            kept = _keep(p, spelling)
            if _reanalyses(p, spelling):  # up to the reply whose analysis is found again
                upto = [i for i, r in enumerate(kept) if r.id == p.analysed]
                kept = kept[: upto[0] + 1] if upto else []  # (a bot line: its own, at once)
            copier.copy(kept)
        state["copier"] = copier

    branch_fork(
        stream=chat,
        fork_event=p.fork,
        kind=Branch.Kind.EDIT,
        label=f"edit of line {p.line.id}",
        snapshot_kind="pre_rewind",
        fill=fill,
        # still being built when a new analysis follows: the tabs see it once it is whole
        announce=not (keep and _reanalyses(p, spelling)),
    )
    return state["copier"]


def _reanalyses(p: EditPlan, spelling: bool) -> bool:
    return p.analysed is not None and not spelling


def _finish(chat: Chat, p: EditPlan, copier: Copier, spelling: bool) -> None:
    """The rest of what followed, after the new analysis, then the tables rebuilt once."""
    copied = set(copier.ids)
    copier.copy([r for r in _keep(p, spelling) if r.id not in copied])
    branch_activate(stream=chat, branch=copier.branch)


async def turn_edit(
    *, chat_id: int, turn_id: int, text: str, keep_after: bool = True, origin: str
) -> dict[str, Any]:
    """Give a line new words. ``keep_after`` (Save): what followed is kept after it; else
    (Save and branch) the story goes on from the edited line. Returns {"turn_id": the new
    line, "branch", "reanalysed"}. Raises NotFound, ValueError (empty, too long), BranchError,
    ChatBusy."""
    text = validate_text(text)
    async with turnlock.aheld(chat_id, origin) as run:
        return await _turn_edit(run, chat_id, turn_id, text, keep_after)


async def _turn_edit(
    run: turnlock.Run, chat_id: int, turn_id: int, text: str, keep_after: bool
) -> dict[str, Any]:
    try:
        chat = await sync_to_async(Chat.objects.get)(pk=chat_id)
        p = await sync_to_async(plan)(chat, turn_id)
        old = p.line.payload.get("text", "")
        if text == old:
            return {"turn_id": turn_id, "branch": chat.active_branch_id, "reanalysed": False}
        previous = chat.active_branch_id
        spelling = spelling_only(old, text)
        words = set() if spelling else old_only_words(p, text)
        copier = await sync_to_async(_start)(chat, p, text, words, spelling, keep_after)
        try:
            analysed = copier.ids.get(p.analysed) if p.analysed else None
            reanalyse = analysed is not None and _reanalyses(p, spelling)
            if reanalyse:
                run.phase = "bookkeeping"
                await bookkeep(chat, analysed)
                if keep_after:
                    await sync_to_async(_finish)(chat, p, copier, spelling)
        except BaseException:
            await sync_to_async(_back)(chat_id, previous)
            raise
        return {
            "turn_id": copier.ids[p.line.id],
            "branch": copier.branch.pk,
            "reanalysed": reanalyse,
        }
    finally:
        await broadcast.send(chat_id, "chat.refresh", reason="edit")
        schedule(chat_id)


def _back(chat_id: int, branch_id: int) -> None:
    chat = Chat.objects.get(pk=chat_id)
    branch_activate(stream=chat, branch=Branch.objects.get(pk=branch_id))


def turn_edit_preview(*, chat_id: int, turn_id: int, text: str) -> dict[str, Any]:
    """What the old words' removal takes with it (before the new words are analysed): the
    same diff as a delete's preview, folded in memory."""
    text = validate_text(text)
    chat = chat_get(chat_id)
    p = plan(chat, turn_id)
    old = p.line.payload.get("text", "")
    spelling = spelling_only(old, text)
    words = set() if spelling else old_only_words(p, text)
    store = MemoryStore()
    for record in p.prefix:
        project(store, record)
    next_id = (Event.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    seq = p.fork.seq + 1
    new = replace(p.line, id=next_id, seq=seq, payload=edited_payload(p.line, text))
    project(store, new)
    ids = {p.line.id: new.id}
    for offset, record in enumerate(_keep(p, spelling), start=1):
        ids[record.id] = next_id + offset
        project(
            store,
            replace(
                record,
                id=next_id + offset,
                seq=seq + offset,
                payload=remap_payload(record.payload, ids, words=words),
                caused_by_id=ids.get(record.caused_by_id, record.caused_by_id),
            ),
        )
    impact = describe(dump_db(chat.pk), store.dump(), ids)
    impact["spelling_only"] = spelling
    impact["reanalysed"] = p.analysed is not None and not spelling
    impact["words_removed"] = len(words)
    return impact


# -- what the world holds, by hand ---------------------------------------------------------------


def state_edit(
    *,
    chat_id: int,
    target: str,
    key: dict[str, Any],
    changes: dict[str, Any] | None = None,
    knowledge_add: list[str] | None = None,
    knowledge_remove: list[str] | None = None,
    origin: str,
) -> EventRecord:
    """A hand edit of the world's state — an edge's words and what one knows of the other, a
    memory's words (a summary's too), a character's mood, goals and status, the place, the
    weather — as one ``manual_edit`` event (gated like any derived value: those present
    witness it). Raises ValueError (unknown target or field, nothing to change), ChatBusy."""
    changes = dict(changes or {})
    with turnlock.held(chat_id, origin):
        if knowledge_add or knowledge_remove:
            if target != "edge":
                raise ValueError("knowledge belongs to an edge")
            edge = cast.edge(DBStore(), Seats.live(chat_id), key.get("source"), key.get("target"))
            if edge is None:
                raise ValueError(f"no edge {key.get('source')} → {key.get('target')}")
            known = [k for k in edge.knowledge if k not in (knowledge_remove or [])]
            known += [k.strip() for k in knowledge_add or [] if k.strip() and k not in known]
            changes["knowledge"] = known
        return manual_edit(chat=chat_id, target=target, key=key, changes=changes)
