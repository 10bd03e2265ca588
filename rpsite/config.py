"""``data/config.toml``: model endpoints, budgets and play options.

Read on demand (cached by file mtime) so the settings page takes effect without a restart.
Written back by ``save_config`` as commented TOML.
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, dict[str, Any]] = {
    "inference": {
        "base_url": "",
        "api_key_env": "RP_API_KEY",
        "narrative_model": "",
        "classifier_model": "",
        "classifier_fallbacks": [],
        "timeout_s": 60.0,
        "classifier_timeout_s": 10.0,
        "embeddings_url": "",
        "embedding_model": "all-MiniLM-L6-v2",
    },
    "budgets": {
        "narrative_hard": 8192,
        "narrative_soft": 6144,
        "classifier_hard": 4096,
    },
    "play": {
        "ooc_marker": "((",
        "dialogue_window": 16,
        "retrieval_k": 6,
        "reply_tokens": 220,
        "max_message_chars": 8000,
    },
}

COMMENTS: dict[str, str] = {
    "inference.base_url": "OpenAI-compatible endpoint, e.g. https://api.featherless.ai/v1 ; "
    "empty = the embedded Gemma 3 270M model (offline demo quality)",
    "inference.api_key_env": "name of the environment variable that holds the API key",
    "inference.narrative_model": "model that writes the story",
    "inference.classifier_model": "model for bookkeeping (structured JSON); empty = narrative model",
    "inference.classifier_fallbacks": "tried in order when the classifier refuses",
    "inference.timeout_s": "narrative request timeout, seconds",
    "inference.classifier_timeout_s": "bookkeeping call timeout, seconds",
    "inference.embeddings_url": "OpenAI-compatible /v1 base for embeddings; empty = local MiniLM",
    "inference.embedding_model": "embedding model name",
    "budgets.narrative_hard": "tokens: never exceeded",
    "budgets.narrative_soft": "tokens: nice-to-have sections are trimmed above this",
    "budgets.classifier_hard": "tokens for a bookkeeping prompt",
    "play.ooc_marker": "opening marker of out-of-character text; the closing one is its mirror",
    "play.dialogue_window": "raw turns of recent dialogue in a prompt; older scenes come as summaries",
    "play.retrieval_k": "memories retrieved per prompt",
    "play.reply_tokens": "default reply length target (a character can override it)",
    "play.max_message_chars": "longest message a user may send",
}

_cache: dict[str, Any] = {"mtime": None, "path": None, "value": None}


def config_path() -> Path:
    return Path(settings.DATA_DIR) / "config.toml"


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for section, values in override.items():
        if isinstance(values, dict) and section in merged:
            merged[section].update(values)
    return merged


def load_config() -> dict[str, dict[str, Any]]:
    path = config_path()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return copy.deepcopy(DEFAULTS)
    if _cache["path"] == path and _cache["mtime"] == mtime:
        return copy.deepcopy(_cache["value"])
    with path.open("rb") as fh:
        value = _merge(DEFAULTS, tomllib.load(fh))
    _cache.update(path=path, mtime=mtime, value=value)
    return copy.deepcopy(value)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def render_config(config: dict[str, dict[str, Any]], *, commented: bool = False) -> str:
    lines = ["# Roleplay Engine configuration. Edited by the settings page or by hand.", ""]
    for section, defaults in DEFAULTS.items():
        lines.append(f"[{section}]")
        for key in defaults:
            comment = COMMENTS.get(f"{section}.{key}")
            if comment:
                lines.append(f"# {comment}")
            prefix = "# " if commented else ""
            lines.append(f"{prefix}{key} = {_toml_value(config[section][key])}")
        lines.append("")
    return "\n".join(lines)


def save_config(config: dict[str, dict[str, Any]]) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(render_config(_merge(DEFAULTS, config)), encoding="utf-8")
    tmp.replace(path)


def ensure_data_dir() -> Path:
    """Create ``data/`` and its sub-folders, and a config.toml of commented defaults."""
    data = Path(settings.DATA_DIR)
    for sub in ("backups", "snapshots", "exports", "media"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    if not config_path().exists():
        config_path().write_text(render_config(DEFAULTS, commented=True), encoding="utf-8")
    return data


def ooc_markers(config: dict | None = None) -> tuple[str, str]:
    opening = (config or load_config())["play"]["ooc_marker"] or "(("
    mirror = str.maketrans("([{<", ")]}>")
    return opening, opening[::-1].translate(mirror)
