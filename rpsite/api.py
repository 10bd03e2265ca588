"""The JSON API: one NinjaAPI, a Router per app. Errors are JSON with a clear message."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from play.web.api import router as play_router
from play.web.errors import STATUSES, message_of, status_of
from rpsite.apidocs import OfflineSwagger
from worlds.api import router as worlds_router

api = NinjaAPI(title="Roleplay Engine API", version="1", docs_url="/docs", docs=OfflineSwagger())


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": str(exc) or "not found"}, status=404)


@api.exception_handler(ValidationError)
def invalid(request, exc):
    return api.create_response(
        request, {"detail": "invalid request", "errors": exc.errors}, status=422
    )


@api.exception_handler(HttpError)
def http_error(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def unauthorised(request, exc):
    return api.create_response(request, {"detail": "not allowed"}, status=401)


def domain_error(request, exc):
    """The engine's errors, by the one table the pages use too."""
    return api.create_response(request, {"detail": message_of(exc)}, status=status_of(exc))


for _kind, _status in STATUSES:
    api.add_exception_handler(_kind, domain_error)


@api.exception_handler(MultiPartParserError)
def bad_upload(request, exc):
    return api.create_response(request, {"detail": f"malformed upload: {exc}"}, status=400)


@api.exception_handler(RequestDataTooBig)
def too_big(request, exc):
    return api.create_response(request, {"detail": "the request is too large"}, status=413)


@api.exception_handler(SuspiciousOperation)
def suspicious(request, exc):
    return api.create_response(request, {"detail": f"bad request: {exc}"}, status=400)


@api.exception_handler(Exception)
def server_error(request, exc):

    logging.getLogger("rp.api").exception("unhandled API error")
    return api.create_response(
        request, {"detail": f"internal error: {type(exc).__name__}"}, status=500
    )


def _mount() -> None:

    api.add_router("/", play_router)
    api.add_router("/", worlds_router)


_mount()
