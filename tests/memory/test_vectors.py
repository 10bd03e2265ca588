"""The vector index: witness constraint inside the KNN query, cache, mirror triggers, model
changes. A deterministic embedder stands in for MiniLM here (test_eval_memory uses the real
one)."""

from __future__ import annotations

import hashlib
from io import StringIO
from unittest import mock

import numpy as np
import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore.replay import replay
from eventstore.services import append
from memory import embeddings, retrieval, vectors
from memory.indexing import index_now, model_changed
from memory.models import EmbeddingCache, Memory, VectorIndexState
from memory.retrieval import retrieve
from memory.selectors import speaker_character
from memory.vectors import INDEX, Index, knn, need, pending_ids
from play.engine.schemas import StoryEventChange
from play.engine.story import story_event_apply
from tests.factories import make_chat

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


class BagOfWords:
    """Words hashed into 384 buckets: similar texts get similar vectors, deterministically."""

    name = "bag-of-words-test"
    dims = 384

    def __init__(self):
        self.calls = 0

    def embed(self, texts):
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dims] += 1
            out[i] /= max(np.linalg.norm(out[i]), 1e-9)
        return out


@pytest.fixture(autouse=True)
def fake_embedder():
    embedder = BagOfWords()
    embeddings.override_embedder(embedder)
    yield embedder
    embeddings.override_embedder(None)


def say(chat, text, witnesses=None, speaker="you"):
    return append(
        stream=chat,
        kind="user_turn" if speaker == "you" else "assistant_turn",
        payload={
            "speaker": speaker,
            "name": speaker,
            "text": text,
            "witnesses": witnesses or {"you": True, "host": True},
        },
    )


def edit_memory(chat, mem, changes):
    """A drawer edit of one memory (a manual_edit event)."""
    append(
        stream=chat,
        kind="manual_edit",
        payload={"target": "memory", "key": {"id": mem.id}, "changes": changes},
    )


def vec(text):
    return BagOfWords().embed([text])[0]


def test_k_results_come_back_when_most_neighbours_belong_to_another_witness():
    chat = make_chat()
    for i in range(40):  # the closest matches: witnessed by the guest only
        say(chat, f"the lighthouse lamp is broken again {i}", {"you": True, "guest": True})
    for i in range(5):
        say(chat, f"a lamp story number {i}", {"you": True, "host": True})
    index_now(chat.pk)

    hits = knn(
        chat.pk,
        "host",
        speaker_character(chat.pk, "host"),
        vec("the lighthouse lamp is broken"),
        k=5,
    )
    assert len(hits) == 5
    rows = Memory.objects.filter(pk__in=[h[0] for h in hits])
    assert all(m.owner == "host" and m.w_host for m in rows)
    assert {m.text for m in rows} == {f"you: a lamp story number {i}" for i in range(5)}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    masks=st.lists(
        st.fixed_dictionaries({r: st.booleans() for r in ("you", "host", "guest")}),
        min_size=1,
        max_size=25,
    ),
    query=st.sampled_from(["lamp", "storm over the harbour", "the blue key", "tea"]),
    k=st.integers(1, 10),
    edits=st.lists(st.integers(0, 100), max_size=4),
)
def test_vector_search_never_returns_what_the_speaker_did_not_witness(masks, query, k, edits):
    chat = make_chat()
    words = ["lamp", "storm", "harbour", "blue", "key", "tea", "rain"]
    for i, mask in enumerate(masks):
        say(chat, f"{words[i % len(words)]} {words[(i * 3) % len(words)]} line {i}", mask)
    index_now(chat.pk)
    mems = list(Memory.objects.filter(chat=chat).order_by("id"))
    for e in edits:  # witness bits edited after indexing: the mirror must follow
        mem = mems[e % len(mems)]
        edit_memory(chat, mem, {f"w_{mem.owner}": not mem.witnessed_by(mem.owner)})
    for speaker in ("host", "guest"):
        found = retrieve(chat.pk, speaker, query, k=k, mode="vector", query_vector=vec(query))
        visible = Memory.objects.filter(chat=chat, owner=speaker, **{f"w_{speaker}": True})
        assert all(r.memory.owner == speaker and r.memory.witnessed_by(speaker) for r in found)
        assert len(found) == min(k, visible.count())


def test_replay_keeps_vectors_and_reindexes_lost_rows_from_the_cache(fake_embedder):
    chat = make_chat()
    for i in range(6):
        say(chat, f"memory number {i}")
    assert index_now(chat.pk) == 7  # and the greeting
    calls = fake_embedder.calls
    replay(chat)  # nothing differs: no row is rewritten, every vector stays
    assert pending_ids(chat.pk) == []
    Memory.objects.filter(chat=chat).delete()  # the rows lost: their vectors go with them…
    replay(chat)
    assert len(pending_ids(chat.pk)) == 7
    assert index_now(chat.pk) == 7  # …and come back from the cache
    assert fake_embedder.calls == calls
    assert EmbeddingCache.objects.filter(model=fake_embedder.name).count() == 7


def test_editing_a_memory_text_drops_its_vector_until_it_is_embedded_again(fake_embedder):
    chat = make_chat()
    event = say(chat, "the old words")
    index_now(chat.pk)
    mem = Memory.objects.get(turn_id=event.id, owner="host")
    edit_memory(chat, mem, {"text": "entirely new words"})
    assert pending_ids(chat.pk) == [mem.id]
    index_now(chat.pk)

    hits = knn(chat.pk, "host", speaker_character(chat.pk, "host"), vec("entirely new words"), k=1)
    assert hits[0][0] == mem.id and hits[0][1] < 0.01


def test_a_sealed_memory_leaves_vector_search():
    chat = make_chat()
    say(chat, "the wicker basket is heavy")
    index_now(chat.pk)

    story_event_apply(
        chat=chat, change=StoryEventChange(action="plan", title="Picnic", props=["wicker basket"])
    )
    story_event_apply(
        chat=chat, change=StoryEventChange(action="cancel", key="picnic", gist="Rain.")
    )
    found = retrieve(
        chat.pk, "host", "wicker basket", k=5, mode="vector", query_vector=vec("wicker basket")
    )
    assert not any("basket" in r.memory.text for r in found)


def test_a_model_change_is_detected_and_reembed_rebuilds(fake_embedder):
    chat = make_chat()
    say(chat, "something to remember")
    index_now(chat.pk)
    VectorIndexState.objects.update(model="some-other-model", dims=768)
    assert "some-other-model" in model_changed()
    assert index_now(chat.pk) == 0  # never mixes two models' vectors
    out = StringIO()
    call_command("reembed", stdout=out, stderr=StringIO())
    assert "rebuilding" in out.getvalue() and "indexed 2 memories" in out.getvalue()
    assert model_changed() is None
    assert VectorIndexState.objects.get().model == fake_embedder.name


def _store_ids(index, chat, speaker, query, facing_you=False):
    """Every id the speaker's store lets through (n above the store's size: no ties cut)."""

    key = (chat.pk, speaker, speaker_character(chat.pk, speaker))
    wanted = need(speaker, facing_you=facing_you)
    return set(index.nearest(key, vec(query), wanted, 10_000).tolist())


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(
        st.one_of(
            st.tuples(
                st.just("say"),
                st.fixed_dictionaries({r: st.booleans() for r in ("you", "host", "guest")}),
            ),
            st.tuples(st.just("flip"), st.integers(0, 100)),
            st.tuples(st.just("retext"), st.integers(0, 100)),
            st.tuples(st.just("query"), st.booleans()),
        ),
        max_size=20,
    )
)
def test_the_in_process_index_follows_every_change_like_a_fresh_load(ops):
    """The copy kept between queries (updated from the change log) always holds exactly
    what a copy loaded from the tables at that moment holds."""

    chat = make_chat()
    index_now(chat.pk)
    for n, (op, arg) in enumerate(ops):
        mems = list(Memory.objects.filter(chat=chat).order_by("id"))
        if op == "say":
            say(chat, f"lamp storm line {n}", arg)
            index_now(chat.pk)
        elif op == "flip":
            mem = mems[arg % len(mems)]
            edit_memory(chat, mem, {f"w_{mem.owner}": not mem.witnessed_by(mem.owner)})
        elif op == "retext":
            mem = mems[arg % len(mems)]
            edit_memory(chat, mem, {"text": f"tea rain {n}"})
            if arg % 2:
                index_now(chat.pk)  # otherwise the memory stays without a vector for a while
        for speaker in ("host", "guest"):
            followed = _store_ids(INDEX, chat, speaker, "lamp", facing_you=arg is True)
            fresh = _store_ids(Index(), chat, speaker, "lamp", facing_you=arg is True)
            assert followed == fresh
            visible = set(
                Memory.objects.filter(
                    chat=chat, owner=speaker, sealed=False, **{f"w_{speaker}": True}
                )
                .exclude(**({"kind": "turn", "w_you": False} if arg is True else {"pk": None}))
                .values_list("id", flat=True)
            )
            assert followed == visible - set(pending_ids(chat.pk))


def test_a_rolled_back_write_never_stays_in_the_index():
    """A rolled-back transaction's log entries are gone and their sequence numbers are given
    out again: the copy notices (the nonce differs) and reloads."""

    chat = make_chat()
    say(chat, "lamp first", {"you": True, "host": True})
    index_now(chat.pk)
    before = _store_ids(INDEX, chat, "host", "lamp")

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        event = say(chat, "lamp second", {"you": True, "host": True})
        index_now(chat.pk)
        rolled_back = set(Memory.objects.filter(turn_id=event.id).values_list("id", flat=True))
        assert rolled_back <= _store_ids(INDEX, chat, "host", "lamp")  # seen inside
        raise Undo
    event = say(chat, "lamp third, unseen by the host", {"you": True, "guest": True})
    index_now(chat.pk)
    after = _store_ids(INDEX, chat, "host", "lamp")
    assert after == before  # the same ids may be reused by the guest's memory: not the host's
    assert Memory.objects.filter(turn_id=event.id, owner="host").exists() is False or all(
        not m.w_host for m in Memory.objects.filter(turn_id=event.id, owner="host")
    )


def test_the_index_keeps_only_the_most_recently_used_stores(monkeypatch):

    monkeypatch.setattr(Index, "KEEP", 2)
    index = Index()
    chats = [make_chat() for _ in range(3)]
    for chat in chats:
        say(chat, "the lamp is lit", {"you": True, "host": True})
        index_now(chat.pk)
    found = [_store_ids(index, chat, "host", "lamp") for chat in chats]
    assert len(index._stores) == 2
    assert all(found)  # each chat's own memories
    assert _store_ids(index, chats[0], "host", "lamp") == found[0]  # evicted, reloaded alike


def test_a_word_in_too_many_memories_is_left_out_of_the_lexical_query(monkeypatch):

    monkeypatch.setattr(retrieval, "COMMON_MIN", 5)
    monkeypatch.setattr(retrieval, "_row_counts", {})
    monkeypatch.setattr(retrieval, "_counts", {})
    chat = make_chat()
    for i in range(12):
        say(chat, f"the harbour at dusk, line {i}", {"you": True, "host": True})
    say(chat, "the harbour lighthouse keeper waved", {"you": True, "host": True})
    assert retrieval.common_words(["harbour", "lighthouse"]) == {"harbour"}
    found = retrieve(chat.pk, "host", "harbour lighthouse", k=3, mode="lexical")
    assert [r.memory.text for r in found] == ["you: the harbour lighthouse keeper waved"]


class Leaning(BagOfWords):
    """Another model: bag-of-words vectors with a large shared offset, like e5's (every pair
    has a cosine near 0.8). Plain sign bits would be the offset's for every memory."""

    name = "leaning-test"

    def embed(self, texts):
        out = super().embed(texts) * 0.5
        out += np.linspace(0.5, 1.5, self.dims, dtype=np.float32) / np.sqrt(self.dims)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_the_binary_pass_finds_neighbours_of_vectors_that_all_lean_one_way():
    embeddings.override_embedder(Leaning())
    chat = make_chat()
    for i in range(80):
        say(chat, f"filler line about the weather number {i} and more rain")
    wanted = say(chat, "the lighthouse keeper lost his brass telescope")
    index_now(chat.pk)
    query = Leaning().embed(["lighthouse keeper brass telescope"])[0]
    hits = knn(chat.pk, "host", speaker_character(chat.pk, "host"), query, k=1)
    assert Memory.objects.get(pk=hits[0][0]).turn_id == wanted.id


def test_a_model_switch_re_embeds_with_a_progress_bar_and_search_works_meanwhile(
    fake_embedder, settings
):
    chat = make_chat()
    for i in range(30):
        say(chat, f"the harbour lamp story number {i}", {"you": True, "host": True})
    say(chat, "a secret the host never heard about the harbour lamp", {"you": True})
    index_now(chat.pk)
    new = Leaning()
    embeddings.override_embedder(new)
    assert "bag-of-words-test" in model_changed()
    # before the rebuild: no neighbours from the old model's vectors, lexical still finds
    assert retrieve(chat.pk, "host", "lamp", k=5, mode="vector", query_vector=vec("lamp")) == []
    assert len(retrieve(chat.pk, "host", "harbour lamp", k=5, query_vector=vec("lamp"))) == 5

    seen = []
    real = vectors.index_pending

    def pending(*args, progress=None, **kwargs):
        def step(n):
            progress(n)
            query = new.embed(["harbour lamp story"])[0]
            found = retrieve(chat.pk, "host", "harbour lamp story", k=5, query_vector=query)
            assert all(r.memory.owner == "host" and r.memory.w_host for r in found)
            seen.append(len(found))

        return real(*args, progress=step, batch=8, **kwargs)

    settings.RP_EMBEDDINGS = True
    out, err = StringIO(), StringIO()
    with mock.patch.object(vectors, "index_pending", pending):
        call_command("reembed", stdout=out, stderr=err)
    assert "rebuilding" in out.getvalue() and "indexed" in out.getvalue()
    assert "embedding" in err.getvalue() and "memory/s" in err.getvalue()  # tqdm's bar
    assert len(seen) >= 3 and all(n == 5 for n in seen)  # search answered at every batch
    assert model_changed() is None
    assert VectorIndexState.objects.get().model == "leaning-test"
    found = retrieve(
        chat.pk, "host", "lamp", k=3, mode="vector", query_vector=new.embed(["lamp"])[0]
    )
    assert len(found) == 3
