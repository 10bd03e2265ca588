"""Transcript and scene exports: Markdown and JSON of a chat, or of one closed scene.

``export_chat`` builds the bytes (for a download); ``write_export`` also stores them under
``settings.DATA_DIR / "exports"``. Both read the projected tables, so an export is the transcript
of the chat's *active branch*. This is the author's export: hidden turns are included (marked),
and every per-POV scene summary is included whoever owns it and whatever its witness mask.

JSON shape (``version`` 1; times are the story clock's strings, ``exported_at`` is ISO 8601)::

    {
      "format": "roleplay-engine-transcript",
      "version": 1,
      "chat": {"id": 7, "title": "Night drive", "exported_at": "2024-10-12T21:00:00+00:00"},
      "scene": 2,                      # the exported scene, or null for the whole chat
      "entities": [{"role": "you", "name": "Sam"}, {"role": "host", "name": "Mara"}],
      "scenes": [                      # every scene of the chat, or just the exported one
        {"number": 1, "container": "car", "configuration": "host+you",
         "present": ["host", "you"], "opened_time": "...", "closed_time": "...",
         "close_reason": "moved to the diner", "meanwhile": false,
         "summaries": [                # kind="summary" memories of that scene, one per owner
           {"owner": "host", "name": "Mara", "text": "...",
            "witnesses": {"you": true, "host": true, "guest": false}}]}],
      "turns": [                       # in log order, only the exported scene's when scene is set
        {"id": 12, "speaker": "host", "name": "Mara", "text": "...", "significance": 2,
         "scene": 1, "story_time": "...", "truncated": false, "hidden": false,
         "interjection": false}],
      "story_events": [{"key": "...", "title": "...", "status": "active", "gist": "..."}],
      "threads": [{"key": "...", "title": "...", "status": "open"}]
    }

``story_events`` and ``threads`` are always the whole chat's (they carry no scene number).
``summaries[].name`` is an addition to the brief: the owner's display name.

Markdown: a ``#`` title and a legend line, then per scene a ``##`` heading such as
``## Scene 2 — the diner (closed: moved to the diner)``, the per-POV summaries as blockquotes
(``> **Mara remembers:** …``) and the turns as ``**Name:** text`` paragraphs (a turn's single
line breaks become hard breaks, its blank lines paragraph breaks). Significance ≥ 2
is marked with ★, narration is in italics, hidden turns are kept and prefixed ``_(hidden)_``.
Scenes with neither turns nor summaries (typically the empty scene just opened) are left out of
the Markdown, not of the JSON. Turn text is left as the Markdown it already is (never
HTML-escaped), but every line that would open a block of its own (a heading, quote, list, fence,
rule, setext underline, HTML block, table row, link definition) gets a backslash so one turn
cannot restructure the document; leading indentation is dropped so it cannot become code.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify

from memory.models import Memory
from play.models import Chat, Turn
from worlds.models import Character, Container, EntityState, Scene, StoryEvent, Thread
from worlds.roles import NARRATOR, ROLES

FORMAT = "roleplay-engine-transcript"
VERSION = 1
FORMATS = {"md": "text/markdown; charset=utf-8", "json": "application/json"}
STAR = "★"
SIGNIFICANT = 2  # significance at or above which a turn gets the star

LEGEND = (
    f"_{STAR} marks a significant moment (significance {SIGNIFICANT} or more); "
    "narration is in italics; hidden turns are marked (hidden)._"
)


# ----------------------------------------------------------------------------- public API


def export_chat(chat: Chat, *, fmt: str, scene: int | None = None) -> tuple[bytes, str, str]:
    """The export as ``(data, content_type, filename)``; ``fmt`` is ``"md"`` or ``"json"``.

    With ``scene``, only that scene: ``LookupError`` if the chat has no such scene,
    ``ValueError("scene N is not closed yet")`` if it is still open. An unknown ``fmt`` is a
    ``ValueError`` too. Hidden turns are included and marked (see the module docstring).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (expected 'md' or 'json')")
    if scene is not None:
        row = Scene.objects.filter(chat=chat, number=scene).first()
        if row is None:
            raise LookupError(f"chat {chat.pk} has no scene {scene}")
        if row.closed_event is None:
            raise ValueError(f"scene {scene} is not closed yet")
    now = timezone.now().replace(microsecond=0)
    doc, extra = _document(chat, scene=scene, now=now)
    if fmt == "json":
        data = (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    else:
        data = _markdown(doc, extra).encode("utf-8")
    return data, FORMATS[fmt], _filename(chat, fmt=fmt, scene=scene, now=now)


def write_export(chat: Chat, *, fmt: str, scene: int | None = None) -> Path:
    """Write the export into ``DATA_DIR/exports/`` (created if missing) and return its path.

    The name is ``<slugified title>-chat<id>[-scene<n>]-<UTC yyyymmdd-hhmmss>.<fmt>``; an
    existing file is never overwritten (a ``-2``, ``-3``… suffix is added instead).
    """
    data, _, filename = export_chat(chat, fmt=fmt, scene=scene)
    folder = exports_dir()
    stem, ext = filename.rsplit(".", 1)
    n = 1
    while True:
        path = folder / (filename if n == 1 else f"{stem}-{n}.{ext}")
        try:
            with path.open("xb") as fh:
                fh.write(data)
        except FileExistsError:
            n += 1
            continue
        return path


def exports_dir() -> Path:
    folder = Path(settings.DATA_DIR) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ----------------------------------------------------------------------------- the document


def _filename(chat: Chat, *, fmt: str, scene: int | None, now: datetime) -> str:
    slug = slugify(chat.title)[:60].strip("-") or "chat"
    part = f"-scene{scene}" if scene is not None else ""
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{slug}-chat{chat.pk}{part}-{stamp}.{fmt}"


def _document(
    chat: Chat, *, scene: int | None, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON document, and what the Markdown needs besides (container names, closed flags)."""
    # Longer than 60 lines: most of it is the document as one literal, in the shape the
    # module's docstring shows.
    entities = {e.role: e for e in EntityState.objects.filter(chat=chat)}
    order = {role: i for i, role in enumerate(ROLES)}
    scenes = Scene.objects.filter(chat=chat).order_by("number")
    turns = Turn.objects.filter(chat=chat).order_by("id")
    summaries = Memory.objects.filter(chat=chat, kind=Memory.Kind.SUMMARY).order_by("id")
    if scene is not None:
        scenes = scenes.filter(number=scene)
        turns = turns.filter(scene=scene)
        summaries = summaries.filter(scene=scene)

    characters = dict(
        Character.objects.filter(
            pk__in={m.character_id for m in summaries if m.character_id is not None}
        ).values_list("pk", "name")
    )
    by_scene: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for mem in summaries:
        by_scene[mem.scene].append(
            {
                "owner": mem.owner,
                "name": _owner_name(mem, entities, characters),
                "text": mem.text,
                "witnesses": mem.witnesses,
            }
        )

    doc = {
        "format": FORMAT,
        "version": VERSION,
        "chat": {"id": chat.pk, "title": chat.title, "exported_at": now.isoformat()},
        "scene": scene,
        "entities": [
            {"role": e.role, "name": e.name}
            for e in sorted(entities.values(), key=lambda e: order.get(e.role, len(order)))
        ],
        "scenes": [
            {
                "number": s.number,
                "container": s.container,
                "configuration": s.configuration,
                "present": s.present,
                "opened_time": s.opened_time,
                "closed_time": s.closed_time,
                "close_reason": s.close_reason,
                "meanwhile": s.meanwhile,
                "summaries": by_scene.get(s.number, []),
            }
            for s in scenes
        ],
        "turns": [
            {
                "id": t.id,
                "speaker": t.speaker,
                "name": t.name,
                "text": t.text,
                "significance": t.significance,
                "scene": t.scene,
                "story_time": t.story_time,
                "truncated": t.truncated,
                "hidden": t.hidden,
                "interjection": t.interjection,
            }
            for t in turns
        ],
        "story_events": [
            {"key": e.key, "title": e.title, "status": e.status, "gist": e.gist}
            for e in StoryEvent.objects.filter(chat=chat).order_by("id")
        ],
        "threads": [
            {"key": t.key, "title": t.title, "status": t.status}
            for t in Thread.objects.filter(chat=chat).order_by("id")
        ],
    }
    extra = {
        "containers": dict(Container.objects.filter(chat=chat).values_list("key", "name")),
        "closed": {s.number: s.closed_event is not None for s in scenes},
    }
    return doc, extra


def _owner_name(mem: Memory, entities: dict[str, EntityState], characters: dict) -> str:
    """Who wrote the summary: the character in the owner's role at the time, if still known."""
    entity = entities.get(mem.owner)
    if entity is not None and (mem.character_id is None or entity.character_id == mem.character_id):
        return entity.name
    return characters.get(mem.character_id) or (entity.name if entity else mem.owner.title())


# ----------------------------------------------------------------------------- Markdown

_BLOCK_START = re.compile(
    r"""^(?:
        [#>|<]                          # heading, quote, table row, HTML block
      | [-+*](?:\s|$)                   # bullet list item
      | ([-*_])(?:\s*\1){2,}\s*$        # thematic break
      | =+\s*$                          # setext underline
      | -+\s*$                          # setext underline / rule
      | `{3,} | ~{3,}                   # code fence
      | \[[^\]]*\]:                     # link reference definition
    )""",
    re.VERBOSE,
)
_ORDERED_ITEM = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _escape_inline(text: str) -> str:
    """Names and titles: plain text that must not turn into emphasis, links or headings."""
    return _INLINE_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _escape_block(line: str) -> str:
    """A backslash in front of whatever would make this (stripped) line open a block."""
    if _BLOCK_START.match(line):
        return "\\" + line
    return _ORDERED_ITEM.sub(r"\1\\\2", line)  # "1. x" -> "1\. x"


def _safe_lines(text: str) -> list[str]:
    """Turn text as lines that cannot open a block: at most one blank line in a row."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            if lines and lines[-1]:
                lines.append("")
            continue
        lines.append(_escape_block(line))
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _hard_breaks(lines: list[str]) -> list[str]:
    """Keep the turn's single line breaks: two trailing spaces before each one inside a paragraph."""
    return [
        f"{line}  " if line and i + 1 < len(lines) and lines[i + 1] else line
        for i, line in enumerate(lines)
    ]


def _italic(line: str) -> str:
    """One narration line in italics; ``_`` nests cleanly around the usual ``*action*``."""
    if not line or (len(line) > 1 and line[0] == line[-1] and line[0] in "*_"):
        return line  # blank, or already emphasised
    mark = "*" if "_" in (line[0], line[-1]) else "_"
    return f"{mark}{line}{mark}"


def _scene_heading(scene: dict[str, Any] | None, number: int, extra: dict[str, Any]) -> str:
    heading = f"## Scene {number}"
    if scene is None:
        return heading
    place = extra["containers"].get(scene["container"]) or scene["container"]
    if place:
        heading += f" — {_escape_inline(place)}"
    notes = ["meanwhile"] if scene["meanwhile"] else []
    if extra["closed"].get(number):
        reason = " ".join(scene["close_reason"].split())
        notes.append(f"closed: {_escape_inline(reason)}" if reason else "closed")
    else:
        notes.append("open")
    return f"{heading} ({'; '.join(notes)})"


def _scene_meta(scene: dict[str, Any], names: dict[str, str]) -> str:
    parts = []
    opened, closed = scene["opened_time"], scene["closed_time"]
    if opened or closed:
        parts.append(f"{opened or '?'} – {closed}" if closed else f"from {opened}")
    if scene["present"]:
        present = ", ".join(_escape_inline(names.get(r, r)) for r in scene["present"])
        parts.append(f"present: {present}")
    return f"_{' · '.join(parts)}_" if parts else ""


def _summary_block(summary: dict[str, Any]) -> list[str]:
    lines = _safe_lines(summary["text"]) or [""]
    label = f"**{_escape_inline(summary['name'] or summary['owner'])} remembers:**"
    lines[0] = f"{label} {lines[0]}".rstrip()
    return [f"> {line}" if line else ">" for line in _hard_breaks(lines)]


def _turn_block(turn: dict[str, Any], names: dict[str, str]) -> list[str]:
    marks = []
    if turn["significance"] >= SIGNIFICANT:
        marks.append(STAR)
    if turn["hidden"]:
        marks.append("_(hidden)_")
    prefix = " ".join(marks)
    lines = _safe_lines(turn["text"]) or [""]
    if turn["speaker"] == NARRATOR:
        lines = [_italic(line) for line in lines]
    else:
        name = turn["name"] or names.get(turn["speaker"]) or turn["speaker"]
        label = f"**{_escape_inline(name)}:**"
        prefix = f"{prefix} {label}" if prefix else label
    if prefix:
        lines[0] = f"{prefix} {lines[0]}".rstrip()
    return _hard_breaks(lines)


def _markdown(doc: dict[str, Any], extra: dict[str, Any]) -> str:
    names = {e["role"]: e["name"] for e in doc["entities"]}
    title = _escape_inline(doc["chat"]["title"]) or "Untitled chat"
    if doc["scene"] is not None:
        title += f" — scene {doc['scene']}"
    out = [f"# {title}", "", f"_Exported {doc['chat']['exported_at']}._", "", LEGEND]

    scenes = {s["number"]: s for s in doc["scenes"]}
    turns_by_scene: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for turn in doc["turns"]:
        turns_by_scene[turn["scene"]].append(turn)
    for number in sorted(set(scenes) | set(turns_by_scene)):
        scene = scenes.get(number)
        summaries = scene["summaries"] if scene else []
        turns = turns_by_scene.get(number, [])
        if not turns and not summaries:
            continue
        out += ["", _scene_heading(scene, number, extra)]
        meta = _scene_meta(scene, names) if scene else ""
        if meta:
            out += ["", meta]
        for summary in summaries:
            out += ["", *_summary_block(summary)]
        for turn in turns:
            out += ["", *_turn_block(turn, names)]
    return "\n".join(out) + "\n"
