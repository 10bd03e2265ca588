"""Where every derived line came from, and who may know it: the rules, in one place.

Anything that can reach a prompt and was not authored (a thread's notes, what someone holds,
what one character knows about another, a summary) carries a provenance entry:

    {"src": [ids of the events it came from], "by": [keys of everyone who witnessed them all]}

A source is a line (a user, bot or narrator turn) or a hand edit (the drawer, the API); the
``Witness`` table records who witnessed each one, by character key, at the moment it happened.
Three rules follow, and nothing else decides them:

- **witness**: a character may know an entry only if it is in ``by``;
- **deleted**: an entry whose sources are not all on the active line (a deleted turn) is gone;
- **sealed**: a closed story event's props leave every sentence that names them, unless a line
  said after the close names the prop again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from eventstore.projection import mentions
from eventstore.records import EventRecord
from worlds import lexicon
from worlds.models import EntityState, StoryEvent, Witness
from worlds.roles import YOU

Entry = dict[str, list]

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


# -- who is who ------------------------------------------------------------------------------


def entity_key(role: str, character_id: int | None) -> str:
    """A character, whatever seat it holds: the user's persona is one, each card another."""
    if role == YOU:
        return YOU
    return f"c{character_id}" if character_id else role


def key_of(entity: EntityState) -> str:
    return entity_key(entity.role, entity.character_id)


def present_keys(store, chat_id: int) -> list[str]:
    return sorted(key_of(e) for e in store.filter(EntityState, chat_id=chat_id, present=True))


def keys_for_roles(store, chat_id: int, roles: Iterable[str]) -> list[str]:
    """The characters in these seats now (a line's witnesses, resolved as it is said)."""
    wanted = set(roles)
    return sorted(key_of(e) for e in store.filter(EntityState, chat_id=chat_id) if e.role in wanted)


# -- recording -------------------------------------------------------------------------------


def record_witnesses(
    store,
    event: EventRecord,
    keys: list[str],
    renames: list[str] | None = None,
    *,
    said: str = "",
) -> None:
    """Who witnessed ``event``, and what it ``said`` in the words the gate compares."""
    if store.get(Witness, chat_id=event.stream_id, event=event.id) is None:
        store.add(
            Witness(
                chat_id=event.stream_id,
                event=event.id,
                seen_by=sorted(keys),
                renames=renames or [],
                words=lexicon.words_of(said),
                names=lexicon.names_of(said),
            )
        )


def record_line(store, event: EventRecord) -> None:
    """A turn: its witnesses are the seats its payload marks, resolved to characters now; it
    may name again a prop that a story event closed before it."""
    p = event.payload
    marks = p.get("witnesses", {})
    text = p.get("bot_text", p.get("text", ""))
    renames = sorted(
        {
            prop
            for _, props in closed_props(store, event.stream_id)
            for prop in props
            if names_prop(text, [prop])
        }
    )
    keys = keys_for_roles(store, event.stream_id, [r for r, on in marks.items() if on])
    record_witnesses(store, event, keys, renames, said=text)


def provenance(store, event: EventRecord) -> Entry | None:
    """The entry for what ``event`` writes. Its sources are the lines its payload names
    (an analysis names the lines it was shown); an event naming none is its own source (a
    hand edit, witnessed by whoever is present). ``None``: a source is not on this line."""
    sources = event.payload.get("sources")
    if not sources:
        said = lexicon.said_in(event.payload)
        record_witnesses(store, event, present_keys(store, event.stream_id), said=said)
        sources = [event.id]
    by: set[str] | None = None
    for source in sources:
        row = store.get(Witness, chat_id=event.stream_id, event=source)
        if row is None:
            return None
        by = set(row.seen_by) if by is None else by & set(row.seen_by)
    return {"src": sorted(set(sources)), "by": sorted(by or ())}


def merged(*entries: Entry | None) -> Entry | None:
    """One entry for text built from several: every source, known only to who knows all."""
    present = [e for e in entries if e is not None]
    if not present:
        return None
    by = set(present[0]["by"])
    for e in present[1:]:
        by &= set(e["by"])
    return {"src": sorted({s for e in present for s in e["src"]}), "by": sorted(by)}


# -- the three rules -------------------------------------------------------------------------


def known_to(entry: Entry | None, key: str) -> bool:
    """Witness: authored text (no entry) is known to all; derived text to its witnesses."""
    return entry is None or key in entry.get("by", ())


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s.strip()]


def seal_text(text: str, props: list[str]) -> str:
    """Sealed: the sentences that name a prop go, the rest stays (never the whole text)."""
    props = [p.strip() for p in props if p and p.strip()]
    if not props or not mentions(text, props):
        return text
    return " ".join(s for s in sentences(text) if not mentions(s, props))


def names_prop(text: str, props: list[str]) -> bool:
    return mentions(text, [p.strip() for p in props if p and p.strip()])


def closed_props(store, chat_id: int) -> list[tuple[int, list[str]]]:
    """(closing event id, props) of every closed story event of the chat."""
    return [
        (e.closed_event or 0, list(e.props))
        for e in store.filter(StoryEvent, chat_id=chat_id)
        if e.status in StoryEvent.CLOSED and e.props
    ]


def prov_of(obj: Any, name: str) -> Entry | None:
    return (obj.prov or {}).get(name)


def set_prov(obj: Any, name: str, entry: Entry | None) -> None:
    prov = dict(obj.prov or {})
    if entry is None:
        prov.pop(name, None)
    else:
        prov[name] = entry
    obj.prov = prov
