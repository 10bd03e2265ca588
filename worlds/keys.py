"""Keys made from words: a place's (a container's, from its name) and a story event's or a
thread's (from its title). One rule, two alphabets: lower case, what falls outside the
alphabet becomes the separator, separators at the ends go, the key is capped, an empty one
defaults."""

from __future__ import annotations

import re

# A place: each character that is not a letter or digit, in any script, becomes "_" (the
# kickoff parse and a scene transition agree, so a place named again finds its container).
PLACE = re.compile(r"[\W_]")
# A story event or thread: each run of anything but ASCII letters and digits becomes "-".
STORY = re.compile(r"[^a-z0-9]+")


def slug(text: str, apart: re.Pattern, sep: str, *, limit: int | None, default: str) -> str:
    return apart.sub(sep, text.lower()).strip(sep)[:limit] or default


def place_key(name: str, *, limit: int | None = None, default: str = "scene") -> str:
    return slug(name, PLACE, "_", limit=limit, default=default)


def story_key(title: str) -> str:
    return slug(title, STORY, "-", limit=48, default="event")
