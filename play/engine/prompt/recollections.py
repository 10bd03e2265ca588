"""Recollections that stay put (docs/design.md, Prompts reuse their past).

What a speaker's prompt recalled anew at a turn (``Turn.recalled``, at most ``retrieval_k``,
the best not already in the prompt) stays beside that turn in the speaker's later prompts: in
the history, just before the speaker's line it was recalled for. When the history's start
moves on by a block of ``dialogue_window`` turns, the block's recollections move with it into
the prompt's stable beginning — deduplicated, the best ``PER_BLOCK`` by their retrieval score,
written once and never rewritten. A memory anywhere in the prompt is not recalled again, so a
prompt's recollections are new text only in its changing end, and few.

Every recollection is the speaker's own memory, read again through the witness-filtered
selector at each build: one that a delete, a seal or a witness bit took away is gone from where
it stood.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from memory import selectors as memory_selectors
from memory.models import Memory
from play.engine.gate import Line
from play.models import Turn
from worlds.tokens import estimate

PER_BLOCK = 8
# the stable beginning keeps the recollections of the newest blocks gone from the history, as
# many as this share of the soft budget holds (1/6: about a sixth of a full prompt)
SHARE = 6


@dataclass
class Recollections:
    """The speaker's recollections for one prompt: per turn of the history, and per block
    gone from it (newest blocks last)."""

    by_turn: dict[int, list[Memory]] = field(default_factory=dict)
    gone: list[tuple[tuple[int, int], list[Memory]]] = field(default_factory=list)

    @property
    def ids(self) -> set[int]:
        return {m.id for ms in self.by_turn.values() for m in ms} | {
            m.id for _, ms in self.gone for m in ms
        }


def _recalled(turns: Iterable[Turn], speaker: str) -> list[tuple[Turn, list[list]]]:
    return [(t, t.recalled) for t in turns if t.speaker == speaker and t.recalled]


def gather(
    chat_id: int,
    speaker: str,
    *,
    window: list[Turn],
    before: list[Turn],
    older: int,
    block: int,
    shown: set[int],
    facing_you: bool,
    budget: int,
) -> Recollections:
    """The recollections of the turns in the history (``window``) and of the blocks gone from
    it (``before``: the witnessed turns older than the window, ``older`` more beyond those),
    leaving out what the prompt already shows (``shown``)."""
    first_index = older + 0  # absolute position of before[0] among the witnessed turns
    blocks: dict[int, list[list]] = {}
    for i, turn in enumerate(before):
        if turn.speaker == speaker and turn.recalled:
            blocks.setdefault((first_index + i) // block, []).extend(turn.recalled)
    in_history = _recalled(window, speaker)
    wanted = {r[0] for rs in blocks.values() for r in rs} | {
        r[0] for _, rs in in_history for r in rs
    }
    if not wanted:
        return Recollections()
    held = {
        m.id: m
        for m in memory_selectors.visible_to(chat_id, speaker, facing_you=facing_you).filter(
            id__in=wanted
        )
    }
    seen = set(shown)
    gone: list[tuple[tuple[int, int], list[Memory]]] = []
    for number in sorted(blocks):
        best: dict[int, float] = {}
        for memory_id, score, *_ in blocks[number]:
            if memory_id in held and memory_id not in seen:
                best[memory_id] = max(best.get(memory_id, score), score)
        kept = sorted(best, key=lambda i: (-best[i], i))[:PER_BLOCK]
        if kept:
            seen.update(kept)
            gone.append(((number * block + 1, (number + 1) * block), [held[i] for i in kept]))
    # the newest blocks gone, as many as the share of the budget holds: each block its best
    # that fit (a block's list is fixed once it is gone, so what fits of it stays the same)
    room, kept_blocks = budget // SHARE, []
    for span, memories in reversed(gone):
        fitting = []
        for m in memories:
            cost = estimate(m.text) + 3
            if cost > room:
                break
            room -= cost
            fitting.append(m)
        if not fitting:
            break
        kept_blocks.insert(0, (span, fitting))
    by_turn: dict[int, list[Memory]] = {}
    for turn, recalled in in_history:
        mine = [held[r[0]] for r in recalled if r[0] in held and r[0] not in seen]
        if mine:
            seen.update(m.id for m in mine)
            by_turn[turn.id] = mine
    return Recollections(by_turn=by_turn, gone=kept_blocks)


def recollection_lines(memories: list[Memory]) -> list[Line]:
    """One line per memory, from its lines (a remembered turn is its words as said)."""
    out = []
    for m in memories:
        sources = tuple(m.sources) if m.sources else ((m.turn_id,) if m.turn_id else ())
        out.append(Line(f"- {m.text}", None, sources, verbatim=m.kind == Memory.Kind.TURN))
    return out
