"""Untrusted text (model output, cards, user input) to safe HTML: light markdown, then nh3."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

from play.engine.text import split_ooc
from rpsite.config import ooc_markers

# No links, images or raw HTML: model and card text is untrusted.
_md = MarkdownIt("zero").enable(["emphasis", "backticks", "strikethrough"])
_ALLOWED = {"em", "strong", "code", "s", "br", "span", "p"}
_ATTRS = {"span": {"class"}}


def render_text(text: str) -> str:
    opening, closing = ooc_markers()
    parts = []
    for is_ooc, segment in split_ooc(text or "", opening, closing):
        html = _md.renderInline(segment)
        if is_ooc:
            html = f'<span class="ooc">{html}</span>'
        parts.append(html)
    html = "".join(parts).replace("\n", "<br>")
    return nh3.clean(html, tags=_ALLOWED, attributes=_ATTRS, url_schemes=set(), link_rel=None)
