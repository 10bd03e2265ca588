"""Surgical delete (docs/design.md, Time travel): a branch that replays the log without a turn and everything it
caused, previewed before it is made. Nothing leaves the log."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import transaction

from eventstore import branches as branch_log
from eventstore.models import Branch, Event
from eventstore.projection import MemoryStore, dump_db, project
from eventstore.records import EventRecord
from eventstore.services import BranchError, active_branch, append, branch_fork, events_copy
from memory.models import IDS_PER_EVENT, Memory
from play.engine import turnlock
from play.engine.errors import NotFound
from play.engine.gate import scrub_payload
from play.engine.impact import describe
from play.engine.recovery import rewrite_in_background
from play.engine.selectors import chat_get
from play.models import Chat, Turn
from worlds import lexicon
from worlds.lexicon import LINE_KINDS

DELETABLE = LINE_KINDS


@dataclass
class Plan:
    fork: Event  # the last event kept as it is
    removed: list[EventRecord]  # the turn and everything it caused
    kept: list[EventRecord]  # later events that survive, to be copied onto the new branch
    prefix: list[EventRecord]  # the log up to and including the fork


def plan(chat: Chat, turn_id: int) -> Plan:
    event = Event.objects.filter(stream=chat, pk=turn_id).first()
    if event is not None and event.kind == "chat_started":
        raise BranchError("the start of a chat cannot be deleted (delete the chat instead)")
    if event is None or not Turn.objects.filter(chat=chat, pk=turn_id).exists():
        raise LookupError(f"no turn {turn_id} on chat {chat.pk}'s active line")
    if event.kind not in DELETABLE:
        raise BranchError(f"a {event.kind} event cannot be deleted, only turns")
    active = active_branch(chat)
    log = list(branch_log.events(active))
    index = next(i for i, r in enumerate(log) if r.id == turn_id)
    if index == 0:
        raise BranchError("the start of a chat cannot be deleted")
    removed_ids = {turn_id}
    removed, kept = [], []
    for record in log[index:]:
        if record.id in removed_ids or record.caused_by_id in removed_ids:
            removed_ids.add(record.id)
            removed.append(record)
        else:
            kept.append(record)
    fork = Event.objects.get(pk=log[index - 1].id)
    return Plan(fork, removed, kept, log[:index])


def remap_payload(
    payload: Any,
    ids: dict[int, int],
    removed: set[int] = frozenset(),
    words: set[str] = frozenset(),
) -> Any:
    """Event and memory ids inside a copied payload point at their copies; ``words`` (what
    deleted or edited-away lines alone said) leave its free text; ``removed`` lines leave its
    sources (a summary keeps them: missing, they make it an extract until it is rewritten)."""

    def memory(mem_id: int) -> int:
        event_id, n = divmod(mem_id, IDS_PER_EVENT)
        return ids.get(event_id, event_id) * IDS_PER_EVENT + n

    out = dict(payload)
    out = scrub_payload(out, words)  # what was written from those lines loses their words
    if removed and isinstance(out.get("sources"), list):
        out["sources"] = [s for s in out["sources"] if s not in removed]
    for name in ("turn_id", "reply_to"):
        if isinstance(out.get(name), int):
            out[name] = ids.get(out[name], out[name])
    if isinstance(out.get("sources"), list):  # the lines it came from: their copies
        out["sources"] = [ids.get(s, s) for s in out["sources"]]
    if isinstance(out.get("summaries"), list):
        out["summaries"] = [
            {**s, "sources": [ids.get(x, x) for x in s.get("sources", [])]}
            if isinstance(s, dict)
            else s
            for s in out["summaries"]
        ]
    prompt = out.get("prompt")
    if isinstance(prompt, dict):  # a copied line's prompt: the memories it named are copies
        prompt = dict(prompt)
        if isinstance(prompt.get("recalled"), list):
            prompt["recalled"] = [[memory(r[0]), *r[1:]] for r in prompt["recalled"]]
        if isinstance(prompt.get("memories"), list):
            prompt["memories"] = [
                {**m, "id": memory(m["id"])} if isinstance(m.get("id"), int) else m
                for m in prompt["memories"]
            ]
        out["prompt"] = prompt
    if isinstance(out.get("memory_id"), int):
        out["memory_id"] = memory(out["memory_id"])
    if isinstance(out.get("memory_ids"), list):
        out["memory_ids"] = [memory(m) for m in out["memory_ids"]]
    if out.get("target") == "memory" and isinstance(out.get("key", {}).get("id"), int):
        out["key"] = {**out["key"], "id": memory(out["key"]["id"])}
    return out


def said_only_there(p: Plan) -> set[str]:
    """The words the deleted lines said that no line left on the story says (a line a model
    wrote from others, a skip's narration, says none of its own: it carries ``sources``)."""

    def words(records) -> set[str]:
        return {
            w
            for r in records
            if r.kind in DELETABLE and not r.payload.get("sources")
            for w in lexicon.words_of(r.payload.get("bot_text", r.payload.get("text", "")))
        }

    return words(p.removed) - words(p.prefix) - words(p.kept)


def turn_delete_preview(*, chat_id: int, turn_id: int) -> dict[str, Any]:
    """The impact of deleting a turn, from a candidate state folded in memory."""
    chat = chat_get(chat_id)
    p = plan(chat, turn_id)
    gone, words = {r.id for r in p.removed}, said_only_there(p)
    store = MemoryStore()
    for record in p.prefix:
        project(store, record)
    next_id = (Event.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    ids: dict[int, int] = {}
    for offset, record in enumerate(p.kept):
        new_id = next_id + offset
        ids[record.id] = new_id
        project(
            store,
            replace(
                record,
                id=new_id,
                seq=p.fork.seq + 1 + offset,
                payload=remap_payload(record.payload, ids, gone, words),
                caused_by_id=ids.get(record.caused_by_id, record.caused_by_id),
            ),
        )
    candidate = store.dump()
    live = dump_db(chat.pk)
    impact = describe(live, candidate, ids)
    impact["summaries_rewritten"] = _summary_changes(live, candidate)
    impact["events_removed"] = [{"id": r.id, "kind": r.kind} for r in p.removed]
    impact["events_copied"] = len(p.kept)
    return impact


def _summary_changes(live: dict, candidate: dict) -> list[dict[str, Any]]:
    """Each scene summary the delete changes: its text now and after (an extract of the
    remaining lines, until the model's rewrite lands)."""

    def summaries(tables: dict) -> dict[tuple, str]:
        return {
            (m["owner"], m["scene"]): m["text"]
            for m in tables.get("memory.Memory", [])
            if m["kind"] == "summary"
        }

    now, after = summaries(live), summaries(candidate)
    return [
        {"owner": key[0], "scene": key[1], "now": now[key], "after": after.get(key, "")}
        for key in sorted(now)
        if now[key] != after.get(key, "")
    ]


def turn_delete(*, chat_id: int, turn_id: int, origin: str) -> Branch:
    """Make the branch without the turn (and its consequences) the chat's active line."""
    with turnlock.held(chat_id, origin):
        chat = chat_get(chat_id)
        p = plan(chat, turn_id)
        gone, words = {r.id for r in p.removed}, said_only_there(p)

        def copy_survivors(branch: Branch) -> None:
            events_copy(
                stream=chat,
                branch=branch,
                records=p.kept,
                payload_of=lambda record, ids: remap_payload(record.payload, ids, gone, words),
                ids={},
            )

        branch = branch_fork(
            stream=chat,
            fork_event=p.fork,
            kind=Branch.Kind.DELETE,
            label=f"without turn {turn_id}",
            snapshot_kind="pre_delete",
            fill=copy_survivors,
        )
    if (
        settings.RP_REWRITE_IN_BACKGROUND
        and Memory.objects.filter(chat=chat, rewrite=True).exists()
    ):
        transaction.on_commit(lambda: rewrite_in_background(chat.pk))
    return branch


def turn_hide(
    *, chat_id: int, turn_id: int, hidden: bool | None = None, origin: str
) -> EventRecord:
    """Out of sight on the page, still in the story (bots remember it); ``None`` turns it
    over."""
    with turnlock.held(chat_id, origin):
        turn = Turn.objects.filter(chat_id=chat_id, pk=turn_id).first()
        if turn is None:
            raise NotFound(f"no turn {turn_id} on chat {chat_id}'s active line")
        hidden = not turn.hidden if hidden is None else hidden
        return append(
            stream=chat_id, kind="turn_hidden", payload={"turn_id": turn_id, "hidden": hidden}
        )
