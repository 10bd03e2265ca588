"""The settings page: edits data/config.toml, keeps an API key in data/secrets.toml, and tests
the model connection."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string

from memory import indexing
from play.engine.inference import GenParams, InferenceError
from play.engine.inference.formats import LABELS as STRUCTURED_MODES
from play.engine.inference.local import LocalLlama
from play.engine.inference.remote import OpenAICompatible
from play.engine.samplers import value_check
from rpsite.config import (
    COMMENTS,
    DEFAULTS,
    api_key_source,
    load_config,
    save_api_key,
    save_config,
)

FIELDS = [
    ("inference", "base_url", str),
    ("inference", "api_key_env", str),
    ("inference", "narrative_model", str),
    ("inference", "classifier_model", str),
    ("inference", "classifier_fallbacks", list),
    ("inference", "timeout_s", float),
    ("inference", "classifier_timeout_s", float),
    ("samplers", "temperature", float),
    ("samplers", "top_p", float),
    ("samplers", "min_p", float),
    ("samplers", "repetition_penalty", float),
    ("samplers", "frequency_penalty", float),
    ("samplers", "presence_penalty", float),
    ("samplers", "max_tokens", int),
    ("budgets", "narrative_hard", int),
    ("budgets", "narrative_soft", int),
    ("budgets", "classifier_hard", int),
    ("play", "ooc_marker", str),
    ("play", "dialogue_window", int),
    ("play", "retrieval_k", int),
    ("play", "reply_tokens", int),
    ("play", "max_message_chars", int),
]

LABELS = {
    "inference.base_url": "Endpoint (base URL)",
    "inference.api_key_env": "Key name",
    "inference.narrative_model": "Story model",
    "inference.classifier_model": "Bookkeeping model",
    "inference.classifier_fallbacks": "Fallback models",
    "inference.timeout_s": "Story timeout (s)",
    "inference.classifier_timeout_s": "Bookkeeping timeout (s)",
    "samplers.temperature": "Temperature",
    "samplers.top_p": "Top-p",
    "samplers.min_p": "Min-p",
    "samplers.repetition_penalty": "Repetition penalty",
    "samplers.frequency_penalty": "Frequency penalty",
    "samplers.presence_penalty": "Presence penalty",
    "samplers.max_tokens": "Longest reply (tokens)",
    "budgets.narrative_hard": "Context size (story prompt limit)",
    "budgets.narrative_soft": "Story prompt target",
    "budgets.classifier_hard": "Bookkeeping prompt limit",
    "play.ooc_marker": "Out-of-character marker",
    "play.dialogue_window": "Dialogue window",
    "play.retrieval_k": "Memories per prompt",
    "play.reply_tokens": "Reply length",
    "play.max_message_chars": "Longest message",
}

HELP = {
    "inference.base_url": "Any OpenAI-compatible server, ending in /v1. Leave it empty to use "
    "the embedded Gemma 3 270M model: no key, no network, demo quality.",
    "inference.api_key_env": "The environment variable that holds the key (e.g. "
    "OPENROUTER_API_KEY). A key pasted below is saved under this name; the variable, when "
    "set, wins.",
    "inference.narrative_model": "The model that writes the story, as the server names it.",
    "inference.classifier_model": "The model that keeps the books after each reply "
    "(structured JSON: relationships, moods, scenes). Empty: the story model.",
    "inference.classifier_fallbacks": "Comma-separated; tried in order when the bookkeeping "
    "model refuses.",
    "inference.timeout_s": "How long a story reply may take before it is given up.",
    "inference.classifier_timeout_s": "How long one bookkeeping call may take; the story "
    "never waits on it.",
    "samplers.temperature": "Higher: more varied, riskier prose; lower: safer and flatter. "
    "Bookkeeping keeps its own low temperature.",
    "samplers.top_p": "Draw only from the likeliest words whose chances add up to this (1: "
    "all of them).",
    "samplers.min_p": "Leave out words less likely than this share of the likeliest one (0: "
    "off). Sent to a remote server as an extra field (vLLM, llama.cpp, OpenRouter, "
    "Featherless take it).",
    "samplers.repetition_penalty": "Above 1 the model avoids repeating its words (1: off). "
    "llama.cpp's repeat penalty; an extra field for a remote server, sent only when not 1.",
    "samplers.frequency_penalty": "OpenAI's: -2 to 2, the more a word was used the less "
    "likely it comes again (0: off).",
    "samplers.presence_penalty": "OpenAI's: -2 to 2, a word used once is less likely again "
    "(0: off).",
    "samplers.max_tokens": "The longest a story reply may run. 0: 1.6 × the reply length "
    "below (a character's own length counts).",
    "budgets.narrative_hard": "Tokens a story prompt never exceeds: the model's context size, "
    "less room for its reply. The embedded model reads at most 8,192.",
    "budgets.narrative_soft": "Above this, nice-to-have sections (older memories, lore) are "
    "trimmed first.",
    "budgets.classifier_hard": "Tokens for one bookkeeping prompt.",
    "play.ooc_marker": "Text between this and its mirror, e.g. ((like this)), is shown dimmed "
    "and never sent to a bot.",
    "play.dialogue_window": "The history fills the budget; when full, its oldest turns go this many at a time (fewer,"
    " larger moves keep a model server's prompt cache warm).",
    "play.retrieval_k": "Memories retrieved into each prompt beside the pinned ones.",
    "play.reply_tokens": "Default reply length target (a character can set its own).",
    "play.max_message_chars": "The longest message you may send.",
}


# A remote model is left its own repetition handling (1.0: the field is not sent); the small
# embedded model repeats itself without a penalty.
REMOTE_SAMPLERS = {
    "temperature": 0.8,
    "top_p": 0.95,
    "min_p": 0.05,
    "repetition_penalty": 1.0,
    "frequency_penalty": 0.0,
    "presence_penalty": 0.0,
    "max_tokens": 0,
}


@dataclass(frozen=True)
class Preset:
    id: str
    label: str
    base_url: str
    api_key_env: str
    narrative_model: str
    classifier_model: str
    note: str
    samplers: dict[str, float | int] = field(default_factory=lambda: dict(REMOTE_SAMPLERS))


PRESETS = [
    Preset(
        "embedded",
        "Embedded (offline)",
        "",
        "RP_API_KEY",
        "",
        "",
        "No key, no network.",
        dict(DEFAULTS["samplers"]),
    ),
    Preset(
        "openrouter",
        "OpenRouter",
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
        "mistralai/mistral-small-3.2-24b-instruct",
        "",
        "Needs a key from openrouter.ai.",
    ),
    Preset(
        "featherless",
        "Featherless",
        "https://api.featherless.ai/v1",
        "FEATHERLESS_API_KEY",
        "dphn/Dolphin-Mistral-24B-Venice-Edition",
        "NousResearch/Hermes-3-Llama-3.1-8B",
        "Needs a key from featherless.ai.",
    ),
    Preset(
        "ollama",
        "Ollama",
        "http://127.0.0.1:11434/v1",
        "OLLAMA_API_KEY",
        "llama3.1:8b",
        "",
        "Local, no key: `ollama pull llama3.1:8b` first.",
    ),
    Preset(
        "lmstudio",
        "LM Studio",
        "http://127.0.0.1:1234/v1",
        "LMSTUDIO_API_KEY",
        "local-model",
        "",
        "Local, no key: start LM Studio's server and load a model.",
    ),
    Preset(
        "vllm",
        "vLLM",
        "http://127.0.0.1:8001/v1",
        "VLLM_API_KEY",
        "served-model-name",
        "",
        "vLLM's default port 8000 is this app's: start it with --port 8001.",
    ),
    Preset(
        "llamacpp",
        "llama.cpp server",
        "http://127.0.0.1:8080/v1",
        "LLAMACPP_API_KEY",
        "served-model-name",
        "",
        "Local: llama-server -m model.gguf --port 8080.",
    ),
]


def _read_form(post) -> dict:
    config = load_config()
    for section, key, kind in FIELDS:
        raw = (post.get(f"{section}.{key}") or "").strip()
        if kind is list:
            config[section][key] = [
                v.strip() for v in raw.replace("\n", ",").split(",") if v.strip()
            ]
        elif kind is str:
            config[section][key] = raw
        elif section == "samplers":  # 0 and below have meanings here (off, automatic)
            config[section][key] = value_check(key, raw)
        else:
            try:
                value = kind(raw)
            except ValueError as exc:
                raise ValueError(f"{section}.{key} must be a number") from exc
            if value <= 0:
                raise ValueError(f"{section}.{key} must be positive")
            config[section][key] = value
    if config["budgets"]["narrative_soft"] > config["budgets"]["narrative_hard"]:
        raise ValueError("the soft narrative budget cannot exceed the hard one")
    if not config["play"]["ooc_marker"]:
        raise ValueError("the OOC marker cannot be empty")
    return config


def _save_key(post, env_name: str) -> str:
    """Save or forget the key from the form; what to tell the user (never the key)."""
    if post.get("forget_key") == "on":
        save_api_key(env_name, None)
        return f"Forgot the saved key for {env_name}."
    key = (post.get("api_key") or "").strip()
    if key:
        save_api_key(env_name, key)
        return f"Saved the key for {env_name} in data/secrets.toml."
    return ""


def settings_fields(config: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{s}.{k}",
            "section": s,
            "key": k,
            "label": LABELS.get(f"{s}.{k}", k),
            "help": HELP.get(f"{s}.{k}") or COMMENTS.get(f"{s}.{k}", ""),
            "value": ", ".join(config[s][k]) if kind is list else config[s][k],
            "default": ", ".join(DEFAULTS[s][k]) if kind is list else DEFAULTS[s][k],
            "kind": kind.__name__,
        }
        for s, k, kind in FIELDS
    ]


def settings_page(request: HttpRequest) -> HttpResponse:

    if request.method == "POST" and request.POST.get("action") == "reembed":
        indexing.reembed_in_background()
        messages.success(request, "Re-embedding every memory in the background.")
        return redirect("play:settings")
    if request.method == "POST":
        try:
            config = _read_form(request.POST)
            save_config(config)
            said = _save_key(request.POST, config["inference"]["api_key_env"])
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, " ".join(filter(None, ["Saved data/config.toml.", said])))
        return redirect("play:settings")
    config = load_config()
    env_name = config["inference"]["api_key_env"]
    return render(
        request,
        "play/settings.html",
        {
            "fields": settings_fields(config),
            "presets": PRESETS,
            "preset_data": [asdict(p) for p in PRESETS],
            # where each key name the form may show has its key (never the key): the hint
            # under the key field follows the key name as a preset or the reader changes it
            "key_sources": {
                name: api_key_source(name) for name in {env_name, *(p.api_key_env for p in PRESETS)}
            },
            "key_env": env_name,
            "key_source": api_key_source(env_name),
            "embedding_mismatch": indexing.mismatch(),
        },
    )


def _test_rows(describe: dict[str, Any], shown: set[str]) -> list[tuple[str, str]]:
    """Whatever else the backend reports about itself, as label/value rows (a backend may
    add fields, e.g. the structured-output mode it settled on)."""
    rows = []
    for key, value in describe.items():
        if key in shown or key.startswith("api_key"):
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value) or "—"
        elif isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "—"
        rows.append((key.replace("_", " ").capitalize(), str(value) if value != "" else "—"))
    return rows


async def test_connection(request: HttpRequest) -> HttpResponse:
    """Try the endpoint in the form (unsaved, with the key typed in if any) and say what it
    answered, in words."""

    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        config = await sync_to_async(_read_form)(request.POST)
    except ValueError as exc:
        return HttpResponse(
            render_to_string("play/_test_result.html", {"ok": False, "headline": str(exc)})
        )
    inference = config["inference"]
    typed_key = (request.POST.get("api_key") or "").strip()
    if inference["base_url"]:
        backend = OpenAICompatible(
            base_url=inference["base_url"],
            api_key_env=inference["api_key_env"],
            api_key=typed_key or None,
            narrative_model=inference["narrative_model"],
            classifier_model=inference["classifier_model"],
            timeout=min(float(inference["timeout_s"]), 30.0),
        )
        source = (
            "typed in (not saved yet)" if typed_key else api_key_source(inference["api_key_env"])
        )
        key_row = f"{inference['api_key_env']}: " + (
            f"set ({source})" if source else "none (fine for a local server)"
        )
    else:
        backend = _embedded()
        key_row = "not needed"
    describe = backend.describe()
    rows: list[tuple[str, str]] = [
        ("Backend", str(describe.get("backend", backend.name))),
        ("Endpoint", inference["base_url"] or "the embedded model, in this process"),
        ("Key", key_row),
    ]
    if hasattr(backend, "list_models"):
        try:
            models = await backend.list_models()
            offered = ", ".join(models[:20]) + (
                f" (and {len(models) - 20} more)" if len(models) > 20 else ""
            )
            rows.append(("Models offered", offered or "(none listed)"))
        except InferenceError as exc:
            rows.append(("Models offered", f"could not list them: {exc.message}"))
    started = time.monotonic()
    try:
        reply = await backend.generate(
            [
                {"role": "system", "content": "Reply with one short friendly sentence."},
                {"role": "user", "content": "Say hello."},
            ],
            GenParams(max_tokens=24, temperature=0.2, timeout=30),
        )
    except InferenceError as exc:
        ok = False
        headline = f"Failed: {exc.message}"
    else:
        ok = True
        headline = f"Connected: the model answered in {time.monotonic() - started:.1f} s."
        rows.append(("Reply", f"“{reply[:200]}”"))
        rows.append(("Structured output", await _structured_output(backend)))
    rows += _test_rows(backend.describe(), {"backend", "base_url"})
    return HttpResponse(
        render_to_string("play/_test_result.html", {"ok": ok, "headline": headline, "rows": rows})
    )


async def _structured_output(backend) -> str:
    """Which structured-output mode the endpoint takes (bookkeeping needs one)."""
    if not hasattr(backend, "probe_structured"):
        return "JSON constrained by a llama.cpp grammar (the embedded model)"
    try:
        mode = await backend.probe_structured()
    except InferenceError as exc:
        return f"none worked: {exc.message}"
    return STRUCTURED_MODES[mode]


def _embedded():

    return LocalLlama()
