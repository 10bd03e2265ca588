"""The JSON API: one NinjaAPI, a Router per app. Errors are JSON with a clear message."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from rpsite.apidocs import OfflineSwagger

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


@api.exception_handler(ValueError)
def bad_value(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(OverflowError)
def out_of_range(request, exc):  # e.g. an id beyond SQLite's 64-bit integers
    return api.create_response(request, {"detail": "a number is out of range"}, status=400)


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
    import logging

    logging.getLogger("rp.api").exception("unhandled API error")
    return api.create_response(
        request, {"detail": f"internal error: {type(exc).__name__}"}, status=500
    )


def _mount() -> None:
    from play.web.api import router as play_router
    from worlds.api import router as worlds_router

    api.add_router("/", play_router)
    api.add_router("/", worlds_router)


_mount()
