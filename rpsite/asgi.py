"""ASGI entry point: HTTP through Django, websockets through Channels (localhost origins only)."""

import os

import rpsite.sqlite_swap  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rpsite.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from play.engine.recovery import start_in_background  # noqa: E402
from play.web.routing import websocket_application  # noqa: E402

# Interrupted bookkeeping (a crash between a reply and its analysis) completes at start-up.
start_in_background()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_application,
    }
)
