"""World Info activation: which lorebook entries enter a prompt, with SillyTavern's semantics.

The core (``activate``) is pure: books of ``Rule`` values and ``ScanMessage`` values in, an
``Activation`` out; no database, no clock, no random source. ``rule_of`` and ``book_of`` turn
``LoreEntry``/``Lorebook`` rows into those values.

Followed from SillyTavern's World Info docs, and from its ``world-info.js`` where the docs are
silent:

* Keys. ``/pattern/flags`` is a regular expression (flags ``i``, ``m``, ``s``; ``g``, ``u``,
  ``y`` mean nothing here); its case comes from its flags, whole-word matching does not apply,
  a pattern that does not compile is skipped. Anything else is plain text, case-insensitive
  unless the entry (else its book) is case-sensitive; with whole-word matching it must not
  touch a word character on either side, and a key of several words matches as a phrase (any
  whitespace between the words). Keys never match across two messages. Macros in keys are
  expanded (``render``) before matching; messages are matched as written, each prefixed with
  its speaker's name ("Mara: ...") when it has one.
* Secondary keys (``selective`` entries with secondary keys): AND ANY, AND ALL, NOT ANY,
  NOT ALL, over the same text as the primary keys.
* Scan depth: the newest N messages (the entry's own depth, else its book's); 0 scans none.
* Order of checks per entry: disabled, character filter, delay, cooldown (unless sticky),
  delay-until-recursion, non-recursable, decorators (``@@activate``/``@@dont_activate`` on the
  first lines of the content), constant, sticky, primary keys, secondary keys.
* Then, per scan pass: inclusion groups (sticky members win; group scoring keeps the members
  with the most matching keys; a group that already fired in an earlier pass fires no more;
  else the prioritised member with the highest order, else a pick weighted by group weight),
  probability (sticky entries do not roll; a failed roll is final for this activation), and
  the token budget: sticky first, then constants, then by order (higher first); the first
  entry that does not fit ends the whole activation.
* Recursion (the book's ``recursive``): the content of what fired is scanned in further
  passes, except content of ``prevent_recursion`` entries; ``exclude_recursion`` entries cannot
  fire in those passes; ``delay_until_recursion`` entries fire only in them, level by level.
  ``max_recursion_steps`` bounds the passes (0: no bound; each entry fires at most once, so
  the passes end anyway).
* Min activations: while fewer entries fired, the book's depth grows by one message per pass
  (not past ``min_activations_depth_max`` nor past the messages there are); those passes do
  not scan recursed lore.
* Timed effects, counted in messages (``chat_length``, the messages in the chat when the
  prompt is built): an entry that fires sets sticky (active while the chat is shorter than
  start + sticky) and cooldown (blocked likewise) unless already set; when sticky ends a
  cooldown starts; delay N blocks an entry until the chat holds N messages; an effect set at
  the current length or later is dropped (the chat did not advance), except the cooldown that
  starts when a sticky ends; an effect whose entry changed is dropped; an effect whose entry is
  not in any book now is kept until it would have ended.
* Chance: probability rolls and group picks are ``draw(seed, book, uid, ...)``: the same seed
  gives the same result (the engine seeds with the chat and the turn).

Unlike SillyTavern, each book is activated on its own with its own settings (depth, budget,
recursion, case and whole-word defaults, min activations): groups and recursion stay inside a
book. Timed state is shared, keyed ``"<book id>.<uid>"``.
"""

from worlds.lore.activation import activate, lore_for_prompt
from worlds.lore.rules import (
    POSITIONS,
    REASONS,
    ROLES,
    Activation,
    Book,
    BookSettings,
    Fired,
    Rule,
    ScanMessage,
    Speaker,
    book_of,
    rule_of,
    settings_of,
)

__all__ = [
    "POSITIONS",
    "REASONS",
    "ROLES",
    "Activation",
    "Book",
    "BookSettings",
    "Fired",
    "Rule",
    "ScanMessage",
    "Speaker",
    "activate",
    "book_of",
    "lore_for_prompt",
    "rule_of",
    "settings_of",
]
