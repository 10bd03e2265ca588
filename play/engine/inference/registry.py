"""Which backend serves: the remote endpoint if configured, else the embedded model."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from play.engine.inference.local import LocalLlama
from play.engine.inference.remote import OpenAICompatible
from rpsite.config import load_config

_override: Any = None
_cache: dict[tuple, Any] = {}


def get_backend() -> Any:
    if _override is not None:
        return _override
    inference = load_config()["inference"]
    if not inference["base_url"].strip():
        key: tuple = ("embedded",)
        if key not in _cache:
            _cache[key] = LocalLlama()
        return _cache[key]
    key = (
        "remote",
        inference["base_url"],
        inference["api_key_env"],
        inference["narrative_model"],
        inference["classifier_model"],
        float(inference["timeout_s"]),
    )
    if key not in _cache:
        _cache[key] = OpenAICompatible(
            base_url=inference["base_url"].strip(),
            api_key_env=inference["api_key_env"],
            narrative_model=inference["narrative_model"],
            classifier_model=inference["classifier_model"],
            timeout=float(inference["timeout_s"]),
        )
    return _cache[key]


@contextmanager
def override_backend(backend: Any):
    """Use ``backend`` (e.g. the scripted one) for everything inside the block."""
    global _override
    previous, _override = _override, backend
    try:
        yield backend
    finally:
        _override = previous
