"""The witness rule (memory.witness) is one rule in every spelling: over every combination of
owner, witness bits, seal, kind and character, the ORM query, the plain SQL clause, the FTS
scope token and the vector store's flags select exactly the rows the rule says."""

from itertools import product

import pytest
from django.db import connection

from memory import fts, witness
from memory.models import Memory
from memory.vectors import flags_of, need
from tests.factories import make_chat
from worlds.roles import BOTS, ROLES

pytestmark = pytest.mark.django_db

CHARACTERS = (None, 7)


def _recalls(m: Memory, speaker: str, character: int | None, facing_you: bool) -> bool:
    """The rule in words: the speaker's own store, its bit set, not sealed; facing you, no
    dialogue you did not witness."""
    own = m.owner == speaker and m.character_id == character
    recalled = own and m.witnessed_by(speaker) and not m.sealed
    return recalled and not (facing_you and m.kind == Memory.Kind.TURN and not m.w_you)


def _every_row(chat) -> list[Memory]:
    rows = []
    combos = product(ROLES, CHARACTERS, *[(False, True)] * 4, (Memory.Kind.TURN, "summary"))
    for n, (owner, character, w_you, w_host, w_guest, sealed, kind) in enumerate(combos):
        rows.append(
            Memory.objects.create(
                id=10_000 + n,
                chat=chat,
                owner=owner,
                character_id=character,
                kind=kind,
                text=f"line {n}",
                w_you=w_you,
                w_host=w_host,
                w_guest=w_guest,
                sealed=sealed,
                source_event=0,
            )
        )
    return rows


def test_every_spelling_of_the_witness_rule_selects_the_same_rows():
    chat = make_chat()
    Memory.objects.filter(chat=chat).delete()
    rows = _every_row(chat)
    for speaker, character, facing_you in product(BOTS, CHARACTERS, (False, True)):
        expected = {m.id for m in rows if _recalls(m, speaker, character, facing_you)}
        assert expected  # the combinations include rows the speaker recalls

        rule = witness.q(chat.pk, speaker, character, facing_you=facing_you)
        by_orm = set(Memory.objects.filter(rule).values_list("id", flat=True))

        clause, params = witness.where(chat.pk, speaker, character, facing_you=facing_you)
        token = fts.visible_scope(chat.pk, speaker, character, facing_you=facing_you)
        with connection.cursor() as cur:
            cur.execute(f"SELECT id FROM {Memory._meta.db_table} WHERE {clause}", params)
            by_sql = {row[0] for row in cur.fetchall()}
            cur.execute(
                "SELECT rowid FROM memory_fts WHERE memory_fts MATCH %s", [f"scope:{token}"]
            )
            by_fts = {row[0] for row in cur.fetchall()}

        wanted = need(speaker, facing_you=facing_you)
        by_flags = {
            m.id
            for m in rows
            if m.owner == speaker
            and m.character_id == character
            and flags_of(*(getattr(m, c) for c in witness.COLUMNS)) & wanted == wanted
        }
        assert by_orm == by_sql == by_fts == by_flags == expected, (speaker, facing_you)


def test_only_bots_have_a_store_to_recall_from():
    with pytest.raises(ValueError):
        witness.q(1, "you", None)
    with pytest.raises(ValueError):
        witness.where(1, "you", None)
