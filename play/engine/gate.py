"""The one gate at the prompt boundary: what a reader may be told.

Every line that reaches a model — in a bot's narrative prompt, the turn analysis, a scene
summary, a digest, an interjection decision — passes ``Gate.admit``. For its readers (one
speaker; for the analysis, everyone present) it drops what they did not witness, and removes
from the rest every sentence naming a prop of a closed story event, unless a line said after
the close named it again. What a deleted turn produced never gets this far: replaying the
line without the turn leaves nothing whose sources include it (``worlds.provenance``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from eventstore.projection import read_rows
from worlds import provenance as pv
from worlds.models import StoryEvent, Witness


@dataclass(frozen=True)
class Line:
    """One line of prompt text and where it came from (``entry``: its provenance; ``sources``:
    the lines it quotes, for a turn or a memory). Neither: authored text, known to all."""

    text: str
    entry: dict | None = None
    sources: tuple[int, ...] = ()

    @property
    def origin(self) -> list[int]:
        return sorted({*self.sources, *(self.entry or {}).get("src", ())})


@dataclass
class Gate:
    chat_id: int
    readers: tuple[str, ...]
    _sealed: list[list[str]] = field(default_factory=list)
    _renames: dict[int, set[str]] = field(default_factory=dict)
    # the sources of everything admitted: what a model writes from this request came from
    # them all (an analysis that copies a thread's notes carries the thread's provenance)
    seen: set[int] = field(default_factory=set)

    @classmethod
    def for_readers(
        cls, chat_id: int, readers: Iterable[str], *, also_sealed: list[list[str]] = ()
    ) -> Gate:
        """``also_sealed``: props of events closing in the same pass, not closed yet."""
        gate = cls(chat_id, tuple(sorted(readers)))
        closed = read_rows(
            StoryEvent,
            "chat_id = %s AND status IN ('completed', 'cancelled', 'expired')",
            [chat_id],
        )
        gate._sealed = [list(e.props) for e in closed if e.props] + [p for p in also_sealed if p]
        return gate

    def knows(self, entry: dict | None) -> bool:
        return all(pv.known_to(entry, reader) for reader in self.readers)

    def admit(self, line: Line) -> str | None:
        """The line as its readers may see it, or ``None``."""
        if not self.knows(line.entry):
            return None
        text = self.seal(line.text, line.origin)
        if not text.strip():
            return None
        self.seen.update(line.origin)
        return text

    def lines(self, lines: Iterable[Line]) -> list[Line]:
        """The admitted lines, each with the text the readers may see."""
        out = []
        for line in lines:
            text = self.admit(line)
            if text is not None:
                out.append(Line(text, line.entry, line.sources))
        return out

    def turns(self, turns: Iterable[Any]) -> list[tuple[Any, str, list[str]]]:
        """The turns every reader witnessed: (turn, its text as they may see it, who
        witnessed it, by character key)."""
        turns = list(turns)
        if not turns:
            return []
        marks = ", ".join(["%s"] * len(turns))
        seen = {
            w.event: w.seen_by
            for w in read_rows(
                Witness,
                f"chat_id = %s AND event IN ({marks})",
                [self.chat_id, *(t.id for t in turns)],
            )
        }
        out = []
        for turn in turns:
            by = seen.get(turn.id, [])
            text = self.admit(Line(turn.bot_text or "", {"src": [turn.id], "by": by}))
            if text is not None:
                out.append((turn, text, by))
        return out

    def seal(self, text: str, origin: list[int]) -> str:
        if not self._sealed:
            return text
        renamed = self._renamed(origin)
        for props in self._sealed:
            text = pv.seal_text(text, [p for p in props if p not in renamed])
        return text

    def _renamed(self, origin: list[int]) -> set[str]:
        missing = [s for s in origin if s not in self._renames]
        if missing:
            marks = ", ".join(["%s"] * len(missing))
            for row in read_rows(
                Witness, f"chat_id = %s AND event IN ({marks})", [self.chat_id, *missing]
            ):
                self._renames[row.event] = set(row.renames)
            for s in missing:
                self._renames.setdefault(s, set())
        return set().union(*(self._renames[s] for s in origin)) if origin else set()
