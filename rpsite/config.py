"""``data/config.toml``: model endpoints, budgets and play options; ``data/secrets.toml``:
API keys.

Read on demand (cached by file mtime) so the settings page takes effect without a restart.
``save_config`` edits the file in place (tomlkit), so a hand-written comment or layout
survives a save from the settings page. Keys never go in config.toml: the settings page
writes them to ``secrets.toml`` (mode 0600), under the name of the environment variable the
config names (``api_key_env``); an environment variable of that name wins over the file.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import tomlkit
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
        "embedding_model": "all-MiniLM-L6-v2+multilingual-e5-small",
    },
    # how the story model draws its words (a chat can override each; bookkeeping calls keep
    # their own low temperature); the context size is budgets.narrative_hard
    "samplers": {
        "temperature": 0.8,
        "top_p": 0.95,
        "min_p": 0.05,
        "repetition_penalty": 1.1,
        "frequency_penalty": 0.0,
        "presence_penalty": 0.0,
        "max_tokens": 0,
    },
    "budgets": {
        "narrative_hard": 8192,
        "narrative_soft": 6144,
        "classifier_hard": 4096,
    },
    "play": {
        "ooc_marker": "((",
        "dialogue_window": 24,
        "retrieval_k": 2,
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
    "inference.embeddings_url": "OpenAI-compatible /v1 base for embeddings; empty = a local model",
    "inference.embedding_model": "embedding model name; local: all-MiniLM-L6-v2+multilingual-e5-small (both), multilingual-e5-small or all-MiniLM-L6-v2",
    "samplers.temperature": "story sampling temperature",
    "samplers.top_p": "nucleus sampling: the smallest set of words whose chances add up to this",
    "samplers.min_p": "drop words less likely than this share of the likeliest; 0 = off",
    "samplers.repetition_penalty": "1.0 = off; sent to a remote server only when not 1.0",
    "samplers.frequency_penalty": "OpenAI-style, -2 to 2; 0 = off",
    "samplers.presence_penalty": "OpenAI-style, -2 to 2; 0 = off",
    "samplers.max_tokens": "longest story reply in tokens; 0 = 1.6 x the reply length",
    "budgets.narrative_hard": "tokens: never exceeded (the context size)",
    "budgets.narrative_soft": "tokens: nice-to-have sections are trimmed above this",
    "budgets.classifier_hard": "tokens for a bookkeeping prompt",
    "play.ooc_marker": "opening marker of out-of-character text; the closing one is its mirror",
    "play.dialogue_window": "turns the start of a prompt's dialogue history moves by at a time (it fills the budget)",
    "play.retrieval_k": "memories a prompt recalls anew (they stay beside the line they were recalled for)",
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
    """Write the values into config.toml, keeping its comments, order and unknown keys."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = _merge(DEFAULTS, config)
    try:
        document = tomlkit.parse(_uncomment_defaults(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        document = tomlkit.parse(render_config(merged))
    for section, defaults in DEFAULTS.items():
        table = document.get(section)
        if table is None:
            table = tomlkit.table()
            document[section] = table
        for key in defaults:
            value = merged[section][key]
            if table.get(key) == value:
                continue  # untouched: its formatting stays as the author wrote it
            comment = COMMENTS.get(f"{section}.{key}")
            # a new key gets its explanation, unless the file already has it (a commented-out
            # default, as setup writes them)
            if key not in table and comment and f"# {key} =" not in tomlkit.dumps(table):
                table.add(tomlkit.comment(comment))
            table[key] = value
    _write_atomic(path, tomlkit.dumps(document))


_HEADER = re.compile(r"^\s*\[([A-Za-z0-9_.-]+)\]\s*(#.*)?$")
_COMMENTED_KEY = re.compile(r"^(\s*)#\s*([A-Za-z0-9_]+)\s*=\s*(.+?)\s*$")


def _uncomment_defaults(text: str) -> str:
    """Turn a commented-out known key ("# timeout_s = 60.0", as setup writes the defaults)
    back into a key where it stands, so saving sets it in place instead of adding a second
    line at the end of its table. Only lines whose value is valid TOML, only once per key,
    and not where the key is already set."""
    lines = text.splitlines(keepends=True)
    section = ""
    real: set[tuple[str, str]] = set()
    for line in lines:
        if m := _HEADER.match(line):
            section = m[1]
        elif m := re.match(r"^\s*([A-Za-z0-9_]+)\s*=", line):
            real.add((section, m[1]))
    section = ""
    for i, line in enumerate(lines):
        if m := _HEADER.match(line):
            section = m[1]
            continue
        m = _COMMENTED_KEY.match(line)
        if not m or m[2] not in DEFAULTS.get(section, {}) or (section, m[2]) in real:
            continue
        try:
            tomllib.loads(f"v = {m[3]}")
        except tomllib.TOMLDecodeError:
            continue
        lines[i] = f"{m[1]}{m[2]} = {m[3]}\n"
        real.add((section, m[2]))
    return "".join(lines)


def _write_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    tmp = path.with_name(path.name + ".tmp")
    if mode is not None:
        # created with its mode: the key is never readable by others, not even for a moment
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# -- API keys ------------------------------------------------------------------------------

_secrets_cache: dict[str, Any] = {"mtime": None, "path": None, "value": {}}


def secrets_path() -> Path:
    return Path(settings.DATA_DIR) / "secrets.toml"


def load_secrets() -> dict[str, str]:
    """The saved keys, by environment variable name."""
    path = secrets_path()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return {}
    if _secrets_cache["path"] != path or _secrets_cache["mtime"] != mtime:
        with path.open("rb") as fh:
            keys = tomllib.load(fh).get("keys", {})
        value = {str(k): str(v) for k, v in keys.items() if isinstance(v, str)}
        _secrets_cache.update(path=path, mtime=mtime, value=value)
    return dict(_secrets_cache["value"])


def save_api_key(env_name: str, key: str | None) -> None:
    """Keep ``key`` for ``env_name`` in secrets.toml (0600); ``None`` forgets it."""
    if not env_name.strip():
        raise ValueError("name the environment variable for the key (api_key_env) first")
    keys = load_secrets()
    if key is None:
        keys.pop(env_name, None)
    else:
        keys[env_name] = key.strip()
    document = tomlkit.document()
    document.add(tomlkit.comment("API keys saved by the settings page. Keep this file private."))
    table = tomlkit.table()
    for name in sorted(keys):
        table[name] = keys[name]
    document["keys"] = table
    path = secrets_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, tomlkit.dumps(document), mode=0o600)


def api_key(env_name: str) -> str:
    """The key for ``env_name``: the environment variable, else the saved one, else ""."""
    if not env_name:
        return ""
    return os.environ.get(env_name, "") or load_secrets().get(env_name, "")


def api_key_source(env_name: str) -> str:
    """Where the key comes from: "environment", "secrets file" or "" (none); never the key."""
    if env_name and os.environ.get(env_name):
        return "environment"
    if env_name and load_secrets().get(env_name):
        return "secrets file"
    return ""


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
