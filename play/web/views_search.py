"""The author's search page: every chat, every speaker, no witness filter."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from play.engine import search as turn_search

LIMIT = 50


@require_GET
def search(request):
    query = request.GET.get("q", "").strip()
    hits = turn_search.search(query, limit=LIMIT) if query else []
    return render(
        request,
        "play/search.html",
        {"q": query, "hits": hits, "limit": LIMIT, "capped": len(hits) >= LIMIT},
    )
