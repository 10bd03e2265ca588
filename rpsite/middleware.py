"""Refuse state-changing requests that a foreign web page sent (cross-site request forgery).

Browsers put an ``Origin`` header on every cross-origin POST; a page on another site cannot
forge it. Forms and HTMX posts also carry Django's CSRF token; the JSON API, which has no
token, is covered by this check (scripts and the CLI send no Origin and are allowed).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponseForbidden

SAFE = {"GET", "HEAD", "OPTIONS", "TRACE"}


class OriginGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        origin = request.headers.get("Origin")
        if request.method not in SAFE and origin and not _local(origin):
            return HttpResponseForbidden(f"requests from {origin} are not allowed")
        return self.get_response(request)


def _local(origin: str) -> bool:
    host = urlsplit(origin).hostname or ""
    allowed = {h.strip("[]") for h in settings.ALLOWED_HOSTS}
    return host in allowed
