"""Time travel: rewind, branch-from-here and swipe switching, all as branches (docs/design.md, Time travel)."""

from __future__ import annotations

from eventstore.models import Branch, Event
from eventstore.services import branch_activate, branch_fork
from eventstore.snapshots import snapshot_create
from play.engine import turnlock
from play.engine.errors import NotFound
from play.engine.selectors import swipe_groups
from play.models import Chat, Turn


def _turn_event(chat: Chat, turn_id: int) -> Event:
    if not Turn.objects.filter(chat=chat, pk=turn_id).exists():
        raise NotFound(f"no turn {turn_id} on chat {chat.pk}'s active line")
    return Event.objects.get(pk=turn_id)


def turn_fork(*, chat_id: int, turn_id: int, kind: str = Branch.Kind.REWIND, origin: str) -> Branch:
    """A branch whose log ends with this turn becomes active; the old tail stays reachable.

    Always preceded by a pre-rewind snapshot of the current state.
    """
    if kind not in (Branch.Kind.REWIND, Branch.Kind.BRANCH):
        raise ValueError(f"unknown fork kind {kind!r}")
    with turnlock.held(chat_id, origin):
        chat = Chat.objects.get(pk=chat_id)
        event = _turn_event(chat, turn_id)
        label = ("rewound to" if kind == Branch.Kind.REWIND else "branched at") + f" turn {turn_id}"
        return branch_fork(stream=chat, fork_event=event, kind=kind, label=label)


def _switch(chat: Chat, branch: Branch) -> Branch:
    if branch.pk != chat.active_branch_id:
        snapshot_create(chat, kind="pre_rewind")
        branch_activate(stream=chat, branch=branch)
    return branch


def branch_switch(*, chat_id: int, branch_id: int, origin: str) -> Branch:
    with turnlock.held(chat_id, origin):
        chat = Chat.objects.get(pk=chat_id)
        branch = Branch.objects.filter(stream=chat, pk=branch_id).first()
        if branch is None:
            raise NotFound(f"no branch {branch_id} in chat {chat_id}")
        return _switch(chat, branch)


def swipe_switch(*, chat_id: int, turn_id: int, direction: int, origin: str) -> Branch:
    """Show the previous (-1) or next (+1) sibling reply of this turn, with all its state."""
    with turnlock.held(chat_id, origin):
        chat = Chat.objects.get(pk=chat_id)
        group = swipe_groups(chat).get(turn_id)
        if group is None:
            raise NotFound(f"turn {turn_id} has no other swipes")
        target = group.index - 1 + direction
        if not 0 <= target < group.total:
            raise ValueError("no swipe in that direction")
        _, branch_id = group.siblings[target]
        return _switch(chat, Branch.objects.get(pk=branch_id))
