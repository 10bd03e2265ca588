"""Keeping the vector index filled: after turns, after branch switches, at start-up.

Embedding is CPU work: it runs on one worker thread of its own, never on the event loop and
never on the database thread the play loop uses.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, connections, transaction

from memory import fts, vectors
from memory.embeddings import embed_query, get_embedder, local_model_name
from memory.models import Memory, VectorIndexState
from memory.retrieval import embedding_query
from memory.vectors import index_pending
from rpsite.config import load_config

log = logging.getLogger("rp.indexing")

_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rp-index")
_queries: dict[tuple[str, str], object] = {}
_queries_lock = threading.Lock()
QUERY_CACHE = 512


class ModelChanged(Exception):
    """The configured embedding model is not the one that built the index."""


def index_state():

    return VectorIndexState.objects.order_by("-pk").first()


def check_model() -> None:
    """Record the model on first use; refuse to mix vectors of two models."""

    embedder = get_embedder()
    state = index_state()
    if state is None:
        VectorIndexState.objects.create(model=embedder.name, dims=embedder.dims)
        return
    if state.model != embedder.name:
        raise ModelChanged(
            f"the vector index was built with {state.model}; the configured embedding model is "
            f"{embedder.name}. Run `manage.py reembed` (or use the Settings page) to rebuild it."
        )


def model_changed() -> str | None:
    try:
        check_model()
    except ModelChanged as exc:
        return str(exc)
    return None


def index_now(chat_id: int | None = None, progress=None) -> int:

    try:
        check_model()
    except ModelChanged as exc:
        log.warning("%s", exc)
        return 0
    return index_pending(chat_id, progress=progress)


def enabled() -> bool:
    return getattr(settings, "RP_EMBEDDINGS", True)


def _lower_priority() -> None:
    """Embedding must not starve the play loop: this worker thread runs at a lower priority."""

    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def schedule(chat_id: int | None = None) -> None:
    """Index in the background (off in tests, which call index_now themselves)."""
    if not enabled() or not getattr(settings, "RP_INDEX_IN_BACKGROUND", True):
        return

    def job():
        _lower_priority()
        try:
            index_now(chat_id)
        except Exception:
            log.exception("indexing failed")
        finally:
            connections.close_all()

    _worker.submit(job)


def warm_up() -> None:
    """Load the embedder at start-up (in the background) rather than on the first turn; an
    index built by another model (the default changed, or config.toml names another) is
    rebuilt then, with vector search over what is done so far and lexical search throughout."""
    if not enabled() or not getattr(settings, "RP_INDEX_IN_BACKGROUND", True):
        return

    def job():
        _lower_priority()
        try:
            get_embedder().embed(["warm up"])
        except Exception:
            log.exception("the embedding model could not be loaded; retrieval stays lexical")
            return
        try:
            changed = mismatch()
            if changed:
                log.warning("re-embedding every memory: %s -> %s", *changed)
                reembed()
        except Exception:
            log.exception("re-embedding failed")
        finally:
            connections.close_all()

    _worker.submit(job)


def query_vector(text: str, *, chat_id: int | None = None):
    """The query's embedding (kept in memory, not in the database: queries are ephemeral).
    With ``chat_id``, of the query as retrieval wants it embedded (embedding_query: the
    participants' names as pronouns)."""
    if chat_id is not None:
        text = embedding_query(chat_id, text)
    embedder = get_embedder()
    key = (embedder.name, text)
    with _queries_lock:
        if key in _queries:
            return _queries[key]
    vector = embed_query([text], embedder)[0]
    with _queries_lock:
        if len(_queries) >= QUERY_CACHE:
            _queries.pop(next(iter(_queries)))
        _queries[key] = vector
    return vector


def reembed(*, progress=None, on_total=None) -> int:
    """Rebuild the whole vector index with the configured model (dimensions may change)."""

    embedder = get_embedder()
    with transaction.atomic(), connection.cursor() as cur:
        for sql in vectors.DROP:
            cur.execute(sql)
        VectorIndexState.objects.all().delete()
        VectorIndexState.objects.create(model=embedder.name, dims=embedder.dims)
        for sql in vectors.create_sql(embedder.dims):
            cur.execute(sql)
    if on_total is not None:
        on_total(Memory.objects.count())
    return vectors.index_pending(progress=progress)


def configured_model_name() -> str:

    inference = load_config()["inference"]
    model = inference["embedding_model"].strip()
    if inference["embeddings_url"].strip():
        return model or local_model_name(model)
    return local_model_name(model)


def mismatch() -> tuple[str, str] | None:
    """(index model, configured model) when they differ; no network, no model load."""
    state = index_state()
    wanted = configured_model_name()
    if state is not None and state.model != wanted:
        return state.model, wanted
    return None


def reembed_in_background() -> None:
    def job():
        _lower_priority()
        try:
            reembed()
        except Exception:
            log.exception("re-embedding failed")
        finally:
            connections.close_all()

    _worker.submit(job)


def on_branch_switched(sender, *, stream_id: int, **kwargs) -> None:
    schedule(stream_id)  # rebuilt memories get their vectors back (from the cache)


def on_post_migrate(sender, using: str = "default", **kwargs) -> None:
    """The FTS index, its triggers and the vector change log come back after a table rebuild."""
    tables = connections[using].introspection.table_names()
    if Memory._meta.db_table in tables:
        fts.ensure(connections[using])
    if VectorIndexState._meta.db_table in tables:
        vectors.ensure(connections[using])
