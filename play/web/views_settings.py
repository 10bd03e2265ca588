"""The settings page: edits data/config.toml and tests the model connection."""

from __future__ import annotations

import time

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape

from memory import indexing
from play.engine.inference import GenParams, InferenceError
from play.engine.inference.formats import LABELS
from play.engine.inference.local import LocalLlama
from play.engine.inference.remote import OpenAICompatible
from rpsite.config import DEFAULTS, load_config, save_config

FIELDS = [
    ("inference", "base_url", str),
    ("inference", "api_key_env", str),
    ("inference", "narrative_model", str),
    ("inference", "classifier_model", str),
    ("inference", "classifier_fallbacks", list),
    ("inference", "timeout_s", float),
    ("inference", "classifier_timeout_s", float),
    ("budgets", "narrative_hard", int),
    ("budgets", "narrative_soft", int),
    ("budgets", "classifier_hard", int),
    ("play", "ooc_marker", str),
    ("play", "dialogue_window", int),
    ("play", "retrieval_k", int),
    ("play", "reply_tokens", int),
    ("play", "max_message_chars", int),
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


def settings_page(request: HttpRequest) -> HttpResponse:

    if request.method == "POST" and request.POST.get("action") == "reembed":
        indexing.reembed_in_background()
        messages.success(request, "Re-embedding every memory in the background.")
        return redirect("play:settings")
    if request.method == "POST":
        try:
            save_config(_read_form(request.POST))
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Saved data/config.toml.")
        return redirect("play:settings")
    config = load_config()
    fields = [
        {
            "name": f"{s}.{k}",
            "section": s,
            "key": k,
            "value": ", ".join(config[s][k]) if kind is list else config[s][k],
            "default": DEFAULTS[s][k],
            "kind": kind.__name__,
        }
        for s, k, kind in FIELDS
    ]
    return render(
        request, "play/settings.html", {"fields": fields, "embedding_mismatch": indexing.mismatch()}
    )


async def test_connection(request: HttpRequest) -> HttpResponse:
    """Try the endpoint in the form (unsaved) and report what it answered."""

    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        config = await sync_to_async(_read_form)(request.POST)
    except ValueError as exc:
        return HttpResponse(f'<p class="notice error">{escape(str(exc))}</p>')
    inference = config["inference"]
    if inference["base_url"]:
        backend = OpenAICompatible(
            base_url=inference["base_url"],
            api_key_env=inference["api_key_env"],
            narrative_model=inference["narrative_model"],
            classifier_model=inference["classifier_model"],
            timeout=min(float(inference["timeout_s"]), 30.0),
        )
    else:
        backend = _embedded()
    lines = [f"Backend: {escape(str(backend.describe()))}"]
    if hasattr(backend, "list_models"):
        try:
            models = await backend.list_models()
            lines.append(f"Models offered: {escape(', '.join(models[:20]) or '(none listed)')}")
        except InferenceError as exc:
            lines.append(f"Listing models failed: {escape(exc.message)}")
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
        lines.append(f"<b>Failed</b>: {escape(exc.message)}")
        ok = False
    else:
        lines.append(f"Answered in {time.monotonic() - started:.1f} s: “{escape(reply[:200])}”")
        ok = True
        lines.append(await _structured_line(backend))
    status = "ok" if ok else "error"
    return HttpResponse(f'<div class="notice {status}">' + "<br>".join(lines) + "</div>")


async def _structured_line(backend) -> str:
    """Which structured-output mode the endpoint takes (bookkeeping needs one)."""
    if not hasattr(backend, "probe_structured"):
        return "Structured output: JSON constrained by a llama.cpp grammar (embedded model)"
    try:
        mode = await backend.probe_structured()
    except InferenceError as exc:
        return f"<b>Structured output failed</b>: {escape(exc.message)}"
    return f"Structured output: {escape(LABELS[mode])}"


def _embedded():

    return LocalLlama()
