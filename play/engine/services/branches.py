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


def turn_fork(*, chat: Chat, turn_id: int, kind: str = Branch.Kind.REWIND) -> Branch:
    """A branch whose log ends with this turn becomes active; the old tail stays reachable.

    Always preceded by a pre-rewind snapshot of the current state.
    """
    if kind not in (Branch.Kind.REWIND, Branch.Kind.BRANCH):
        raise ValueError(f"unknown fork kind {kind!r}")
    event = _turn_event(chat, turn_id)
    run = turnlock.begin_blocking(chat.pk, "api")
    try:
        label = ("rewound to" if kind == Branch.Kind.REWIND else "branched at") + f" turn {turn_id}"
        return branch_fork(stream=chat, fork_event=event, kind=kind, label=label)
    finally:
        turnlock.end(run)


def branch_switch(*, chat: Chat, branch_id: int) -> Branch:
    branch = Branch.objects.filter(stream=chat, pk=branch_id).first()
    if branch is None:
        raise NotFound(f"no branch {branch_id} in chat {chat.pk}")
    if branch.pk == chat.active_branch_id:
        return branch
    run = turnlock.begin_blocking(chat.pk, "api")
    try:
        snapshot_create(chat, kind="pre_rewind")
        branch_activate(stream=chat, branch=branch)
        return branch
    finally:
        turnlock.end(run)


def swipe_switch(*, chat: Chat, turn_id: int, direction: int) -> Branch:
    """Show the previous (-1) or next (+1) sibling reply of this turn, with all its state."""

    group = swipe_groups(chat).get(turn_id)
    if group is None:
        raise NotFound(f"turn {turn_id} has no other swipes")
    target = group.index - 1 + direction
    if not 0 <= target < group.total:
        raise ValueError("no swipe in that direction")
    _, branch_id = group.siblings[target]
    return branch_switch(chat=chat, branch_id=branch_id)
