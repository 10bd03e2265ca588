import pytest

from eventstore import branches, snapshots
from eventstore.models import Branch, Event
from eventstore.replay import build_state
from eventstore.services import BranchError, append, branch_activate, branch_create
from play.models import Turn
from tests.factories import edge_of, make_chat

pytestmark = pytest.mark.django_db


def _say(chat, text, speaker="you"):
    kind = "user_turn" if speaker == "you" else "assistant_turn"
    return append(
        stream=chat,
        kind=kind,
        payload={"speaker": speaker, "text": text, "witnesses": {"you": True, "host": True}},
    )


def _texts(chat):
    return list(Turn.objects.filter(chat=chat).values_list("text", flat=True))


def test_a_forked_branch_shares_the_log_up_to_the_fork_and_no_further():
    chat = make_chat()
    a = _say(chat, "one")
    _say(chat, "two")
    fork = Event.objects.get(pk=a.id)
    branch = branch_create(stream=chat, fork_event=fork, kind="branch")
    branch_activate(stream=chat, branch=branch)
    _say(chat, "three")
    assert _texts(chat)[-2:] == ["one", "three"]
    assert "two" not in _texts(chat)
    kinds = [e.kind for e in branches.events(branch)]
    assert kinds[0] == "chat_started" and kinds.count("user_turn") == 2


def test_switching_branches_switches_all_state_with_it():
    chat = make_chat()
    main = Branch.objects.get(pk=chat.active_branch_id)
    start = _say(chat, "hello")
    append(
        stream=chat,
        kind="edge_update",
        payload={"edges": [{"source": "host", "target": "you", "affinity_delta": 9}]},
    )
    other = branch_create(stream=chat, fork_event=Event.objects.get(pk=start.id), kind="branch")
    branch_activate(stream=chat, branch=other)
    assert edge_of(chat, "host", "you").affinity == 0
    branch_activate(stream=chat, branch=main)
    assert edge_of(chat, "host", "you").affinity == 9


def test_a_nested_branch_reads_each_ancestor_only_up_to_its_fork():
    chat = make_chat()
    x = _say(chat, "x")
    _say(chat, "main-only")
    b1 = branch_create(stream=chat, fork_event=Event.objects.get(pk=x.id), kind="branch")
    branch_activate(stream=chat, branch=b1)
    y = _say(chat, "y")
    _say(chat, "b1-only")
    b2 = branch_create(stream=chat, fork_event=Event.objects.get(pk=y.id), kind="branch")
    branch_activate(stream=chat, branch=b2)
    _say(chat, "z")
    assert _texts(chat)[-3:] == ["x", "y", "z"]
    seqs = [e.seq for e in branches.events(b2)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_loading_a_branch_uses_the_newest_snapshot_on_it():
    chat = make_chat()
    main = Branch.objects.get(pk=chat.active_branch_id)
    for i in range(3):
        _say(chat, f"line {i}")
    snap = snapshots.snapshot_create(chat, kind="periodic")
    _say(chat, "after the snapshot")
    other = branch_create(stream=chat, fork_event=branches.last_event(main), kind="branch")
    branch_activate(stream=chat, branch=other)

    built = build_state(main)
    assert built.snapshot == snap.name
    assert built.events_applied == 1  # only the tail after the snapshot


def test_a_snapshot_from_another_line_is_not_used():
    chat = make_chat()
    main = Branch.objects.get(pk=chat.active_branch_id)
    root = _say(chat, "root")
    other = branch_create(stream=chat, fork_event=Event.objects.get(pk=root.id), kind="branch")
    branch_activate(stream=chat, branch=other)
    _say(chat, "only on the other line")
    snapshots.snapshot_create(chat, kind="manual")
    assert snapshots.newest_for(main) is None


def test_a_chat_has_one_root_branch():
    chat = make_chat()
    with pytest.raises(BranchError):
        branch_create(stream=chat, fork_event=None, kind="main")
