from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from play.web.consumers import ChatConsumer

websocket_urlpatterns = [
    path("ws/chats/<int:chat_id>/", ChatConsumer.as_asgi()),
]

# the websocket side of the site as served (rpsite/asgi.py): localhost origins only
websocket_application = AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns))
