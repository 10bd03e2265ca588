"""``/api/docs`` from the vendored swagger-ui-dist (static/vendor/): no CDN, so the API's
documentation works offline like the rest of the app."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import Swagger


class OfflineSwagger(Swagger):
    template = "api_docs.html"

    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        return render(request, self.template, {"settings": settings, "api": api})
