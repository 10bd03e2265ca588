"""What can go wrong, in the engine's words. The web gives each kind one HTTP status
(play/web/errors.py); nothing else decides a status.

- ``LookupError`` (and ``NotFound``): the chat, turn or branch named does not exist → 404.
- ``ValueError``: the request itself is not valid (a bad field, an empty message) → 400.
- ``Conflict``: the request is fine, the story's state does not allow it now (a bot is still
  writing: ``ChatBusy``; a guest is already here) → 409.
- ``ModelFailed``: the model endpoint failed the call → 502.
"""

from __future__ import annotations


class NotFound(LookupError):
    pass


class Conflict(Exception):
    pass


class ChatBusy(Conflict):
    """Another action holds the chat (play/engine/turnlock.py): the one busy answer, the same
    words on every page, tab and API call."""

    MESSAGE = "This chat is busy: a bot is still writing. Wait or press Stop."

    def __init__(self, chat_id: int) -> None:
        super().__init__(self.MESSAGE)
        self.chat_id = chat_id


class ModelFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
