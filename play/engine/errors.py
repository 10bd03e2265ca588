"""What can go wrong, in the engine's words. The web gives each kind one HTTP status
(play/web/errors.py); nothing else decides a status.

- ``LookupError`` (and ``NotFound``): the chat, turn or branch named does not exist → 404.
- ``ValueError``: the request itself is not valid (a bad field, an empty message) → 400.
- ``Conflict``: the request is fine, the story's state does not allow it now (a bot is still
  writing, a guest is already here) → 409.
- ``ModelFailed``: the model endpoint failed the call → 502.
"""

from __future__ import annotations


class NotFound(LookupError):
    pass


class Conflict(Exception):
    pass


class ModelFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
