"""Which memories a bot may recall: the rule, written once, and how each reader spells it.

A bot recalls from its own store (the memories of one chat owned by its seat, written while
the character now in that seat held it) those its own witness bit marks and no closed story
event sealed. Facing you (you are in the scene), it also leaves out dialogue you did not
witness: a meanwhile scene reaches you only through the bots' digest of it.

The rule is data: ``STORE`` names a store, ``recalled(owner)`` and ``UNSEEN_BY_YOU`` are
columns and the values they hold. The readers spell it from them: ``q`` for the ORM, ``where``
for plain SQL, ``fts_scope_sql`` for the scope tokens the FTS triggers write
(``memory.fts``), ``bits`` for the flags of the in-process vector store (``memory.vectors``).
"""

from __future__ import annotations

from django.db.models import Q

from worlds.roles import BOTS, ROLES

STORE = ("chat_id", "owner", "character_id")

# Dialogue you did not witness: a memory for which all of these hold.
UNSEEN_BY_YOU: dict[str, bool | str] = {"kind": "turn", "w_you": False}


def recalled(owner: str) -> dict[str, bool | str]:
    """What a memory of ``owner``'s store holds for its owner to recall it."""
    return {f"w_{owner}": True, "sealed": False}


# Every column the rule reads beyond the store's: a change of one may change who recalls.
COLUMNS = tuple(dict.fromkeys([*(c for r in ROLES for c in recalled(r)), *UNSEEN_BY_YOU]))


def _bot(owner: str) -> str:
    if owner not in BOTS:
        raise ValueError(f"only bots have memory stores, not {owner!r}")
    return owner


# -- the ORM -----------------------------------------------------------------------------


def q(chat_id: int, owner: str, character_id: int | None, *, facing_you: bool = False) -> Q:
    store = dict(zip(STORE, (chat_id, _bot(owner), character_id), strict=True))
    found = Q(**store, **recalled(owner))
    return found & ~Q(**UNSEEN_BY_YOU) if facing_you else found


# -- plain SQL ---------------------------------------------------------------------------


def _holds(terms: dict[str, bool | str], row: str = "") -> str:
    """``terms`` as a SQL condition over the columns of ``row`` (a table alias, or none)."""
    prefix = f"{row}." if row else ""
    values = {True: "1", False: "0"}
    return " AND ".join(
        f"{prefix}{column} = {values[v] if isinstance(v, bool) else repr(v)}"
        for column, v in terms.items()
    )


def store_sql(row: str = "") -> str:
    """A store as a SQL condition (parameters: ``STORE``'s values) over ``row``'s columns."""
    prefix = f"{row}." if row else ""
    # IS: a store's character may be none
    return " AND ".join(f"{prefix}{c} {'IS' if c == 'character_id' else '='} %s" for c in STORE)


def where(
    chat_id: int, owner: str, character_id: int | None, *, facing_you: bool = False
) -> tuple[str, list]:
    """The rule as a WHERE clause over the memory table, and its parameters."""
    clause = f"{store_sql()} AND {_holds(recalled(_bot(owner)))}"
    if facing_you:
        clause += f" AND NOT ({_holds(UNSEEN_BY_YOU)})"
    return clause, [chat_id, owner, character_id]


def fts_scope_sql(row: str) -> str:
    """The scope tokens of the memory ``row`` (a trigger's ``new``, or a table alias): its
    store's; while its owner may recall it, 'v' + the store's; while that may face you too,
    'f' + the store's. A lexical query names one token, so the rule is inside the FTS query."""
    store = f"'k' || {row}.chat_id || {row}.owner || coalesce({row}.character_id, 0)"
    recall = " ".join(f"WHEN '{r}' THEN ({_holds(recalled(r), row)})" for r in ROLES)
    return (
        f"{store} || CASE WHEN CASE {row}.owner {recall} ELSE 0 END "
        f"THEN ' v' || {store} || CASE WHEN {_holds(UNSEEN_BY_YOU, row)} THEN '' "
        f"ELSE ' f' || {store} END ELSE '' END"
    )


# -- the vector store's flags ------------------------------------------------------------


def bits(values: dict[str, bool | str]) -> tuple[int, int]:
    """(the owner bit of each role that may recall a memory with these column values, and
    whether it may face you): what the vector store keeps of each row."""
    recall = 0
    for n, role in enumerate(ROLES):
        if all(values[c] == v for c, v in recalled(role).items()):
            recall |= 1 << n
    return recall, not all(values[c] == v for c, v in UNSEEN_BY_YOU.items())


def role_bit(owner: str) -> int:
    return 1 << ROLES.index(_bot(owner))
