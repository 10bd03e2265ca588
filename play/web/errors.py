"""One table from the engine's errors to HTTP statuses, for the JSON API and for pages alike."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

from django.http import HttpResponse
from django.utils.html import escape
from pydantic import ValidationError as PydanticError

from eventstore.restore import RestoreRefused
from play.engine.errors import ChatBusy, Conflict, ModelFailed

# Most specific first: the first row an error is an instance of decides.
STATUSES: tuple[tuple[type[BaseException], int], ...] = (
    (ChatBusy, 409),  # a bot is writing: the same words on a page, in a tab, from the API
    (Conflict, 409),
    (RestoreRefused, 409),
    (ModelFailed, 502),
    (LookupError, 404),
    (ValueError, 400),
    (OverflowError, 400),  # e.g. an id beyond SQLite's 64-bit integers
)


def status_of(exc: BaseException) -> int | None:
    return next((status for kind, status in STATUSES if isinstance(exc, kind)), None)


def message_of(exc: BaseException) -> str:
    if isinstance(exc, PydanticError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "input"
        return f"invalid {where}: {first.get('msg', 'not valid')}"
    if isinstance(exc, ModelFailed):
        return f"the model failed: {exc.message}"
    if isinstance(exc, OverflowError):
        return "a number is out of range"
    return str(exc)


def error_fragment(message: str, status: int = 400) -> HttpResponse:
    """What a page's HTMX request gets back when it cannot be done."""
    return HttpResponse(f'<p class="notice error">{escape(message)}</p>', status=status)


def page_errors(view: Callable) -> Callable:
    """Turn the engine's errors into an error fragment with the table's status."""

    def answer(exc: Exception) -> HttpResponse:
        status = status_of(exc)
        if status is None:
            raise exc
        return error_fragment(message_of(exc), status)

    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapped(request, *args, **kwargs):
            try:
                return await view(request, *args, **kwargs)
            except Exception as exc:
                return answer(exc)

        return async_wrapped

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Exception as exc:
            return answer(exc)

    return wrapped


def int_field(data, name: str) -> int:
    """An integer from a form or websocket message, or a clear 400 (never a 500)."""
    try:
        return int(data[name])
    except KeyError:
        raise ValueError(f"{name} is missing") from None
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number") from None
