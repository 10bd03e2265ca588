import json

import pytest
from django.contrib.auth import get_user_model
from django.forms import BooleanField, NullBooleanField
from django.urls import reverse

from eventstore.models import Event
from eventstore.services import append
from memory.models import Memory
from play.engine.lore import authors_note_state, lorebooks_for
from tests.factories import edge_of, make_character, make_chat, make_persona
from tests.worlds.test_lorebooks import export_book, wi_entry
from worlds.lore.rules import rule_of
from worlds.models import Lorebook, LoreEntry, PromptTemplate
from worlds.prompts import current
from worlds.services_cards import lorebook_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("admin", "", "pw")
    client.force_login(user)
    return client


def test_the_admin_requires_login(client):
    response = client.get(reverse("admin:worlds_character_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_saving_an_edge_in_the_admin_appends_a_manual_edit_the_projector_applies(staff):
    chat = make_chat()
    edge = edge_of(chat, "host", "you")
    url = reverse("admin:worlds_edge_change", args=[edge.pk])
    response = staff.post(
        url,
        {
            "affinity": 35,
            "trust": 0,
            "summary": "she likes the photographer",
            "knowledge": "[]",
            "private_moments": "[]",
            "last_interaction": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.filter(stream=chat, kind="manual_edit").get()
    assert event.payload == {
        "target": "edge",
        "key": {"source": f"c{chat.character_id}", "target": "you"},  # by character
        "changes": {"affinity": 35, "summary": "she likes the photographer"},
    }
    edge.refresh_from_db()
    assert edge.affinity == 35
    # the other direction is its own row and did not move
    assert edge_of(chat, "you", "host").affinity == 0


def test_the_edge_page_shows_the_reverse_direction_beside_it(staff):
    chat = make_chat()
    edge = edge_of(chat, "host", "you")
    page = staff.get(reverse("admin:worlds_edge_change", args=[edge.pk])).content.decode()
    assert "Sam → Mara" in page  # by the characters' names
    listing = staff.get(reverse("admin:worlds_edge_changelist")).content.decode()
    assert "Mara → Sam" in listing and "Sam → Mara" in listing


def test_the_admin_lists_the_whole_cast_and_edits_an_away_guests_edge_by_name(staff):
    chat = make_chat()
    theo, iris = make_character("Theo"), make_character("Iris")
    mara = f"c{chat.character_id}"
    for character in (theo, iris):  # Theo comes and goes; Iris takes the guest seat
        append(
            stream=chat,
            kind="guest_added",
            payload={
                "role": "guest",
                "name": character.name,
                "character_id": character.pk,
                "edges": [{"source": "host", "target": "guest", "affinity": 5}],
            },
        )
    cast = staff.get(reverse("admin:worlds_castmember_changelist")).content.decode()
    assert all(name in cast for name in ("Sam", "Mara", "Theo", "Iris"))
    assert "→ Theo 5/0" in cast and "→ Iris 5/0" in cast  # Mara's edges to both
    listing = staff.get(reverse("admin:worlds_edge_changelist")).content.decode()
    assert "Mara → Theo" in listing and "Mara → Iris" in listing
    trios = staff.get(reverse("admin:worlds_groupnode_changelist")).content.decode()
    assert "Theo" in trios and "Iris" in trios  # each trio its own node, by name
    edge = edge_of(chat, mara, f"c{theo.pk}")
    response = staff.post(
        reverse("admin:worlds_edge_change", args=[edge.pk]),
        {
            "affinity": 40,
            "trust": 0,
            "summary": "",
            "knowledge": "[]",
            "private_moments": "[]",
            "last_interaction": "",
        },
    )
    assert response.status_code == 302
    event = Event.objects.filter(stream=chat, kind="manual_edit").get()
    assert event.payload["key"] == {"source": mara, "target": f"c{theo.pk}"}
    assert edge_of(chat, mara, f"c{theo.pk}").affinity == 40
    assert edge_of(chat, "host", "guest").affinity == 5  # Iris's own did not move


def test_editing_memory_witness_bits_in_the_admin_is_an_event(staff):
    chat = make_chat()
    mem = Memory.objects.filter(chat=chat).first()
    url = reverse("admin:memory_memory_change", args=[mem.pk])
    response = staff.post(
        url, {"text": mem.text, "w_you": "on", "w_host": "on", "w_guest": "on", "significance": 2}
    )
    assert response.status_code == 302
    mem.refresh_from_db()
    assert mem.w_guest and mem.significance == 2
    assert Event.objects.filter(stream=chat, kind="manual_edit", payload__target="memory").exists()


def test_events_are_read_only_in_the_admin(staff):
    chat = make_chat()
    event = Event.objects.filter(stream=chat).first()
    page = staff.get(reverse("admin:eventstore_event_change", args=[event.pk]))
    assert page.status_code == 200
    assert "chat_started" in page.content.decode()
    staff.post(reverse("admin:eventstore_event_change", args=[event.pk]), {"kind": "forged"})
    event.refresh_from_db()
    assert event.kind == "chat_started"
    assert staff.get(reverse("admin:eventstore_event_add")).status_code == 403


def test_saving_a_prompt_template_adds_a_version(staff):
    first = current(PromptTemplate.Kind.NARRATIVE)
    url = reverse("admin:worlds_prompttemplate_change", args=[first.pk])
    staff.post(url, {"kind": "narrative", "text": "Be brief."})
    versions = list(PromptTemplate.objects.filter(kind="narrative").values_list("version", "text"))
    assert (first.version, first.text) in versions
    assert (first.version + 1, "Be brief.") in versions


def test_a_chat_records_the_prompt_versions_it_used():
    chat = make_chat()
    started = Event.objects.get(stream=chat, kind="chat_started")
    assert started.payload["prompt_versions"]["narrative"] == current("narrative").version


def test_persona_and_character_lorebooks_and_the_default_note_are_set_in_the_admin(staff):
    harbor = Lorebook.objects.create(name="Harbor")
    sea = Lorebook.objects.create(name="Sea")
    persona = make_persona()
    response = staff.post(
        reverse("admin:worlds_persona_change", args=[persona.pk]),
        {"name": persona.name, "description": "", "lorebooks": [harbor.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    character = make_character()
    page = staff.get(reverse("admin:worlds_character_change", args=[character.pk])).content
    assert b"authors_note_frequency" in page and b"extra_lorebooks" in page
    form = {
        "name": character.name,
        "description": character.description,
        "first_mes": character.first_mes,
        "alternate_greetings": "[]",
        "tags": "[]",
        "extensions": "{}",
        "card_extra": "{}",
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "extra_lorebooks": [sea.pk],
        "authors_note": "[Mara is tired.]",
        "authors_note_position": "after_scenario",
        "authors_note_depth": 4,
        "authors_note_role": "system",
        "authors_note_frequency": 3,
        "assets-TOTAL_FORMS": 0,
        "assets-INITIAL_FORMS": 0,
    }
    response = staff.post(reverse("admin:worlds_character_change", args=[character.pk]), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    chat = make_chat(character, persona)
    assert [(b.lorebook.name, b.source) for b in lorebooks_for(chat.pk)] == [
        ("Harbor", "persona"),
        ("Sea", "character"),
    ]
    note = authors_note_state(chat.pk)
    assert (note["text"], note["position"], note["frequency"], note["source"]) == (
        "[Mara is tired.]",
        "after_scenario",
        3,
        "character",
    )


def test_the_lorebook_admin_edits_each_books_activation_settings(staff):
    book = Lorebook.objects.create(name="Harbor")
    page = staff.get(reverse("admin:worlds_lorebook_change", args=[book.pk])).content
    for field in (
        b"budget_percent",
        b"min_activations",
        b"max_recursion_steps",
        b"use_group_scoring",
    ):
        assert field in page


def _posted(response) -> dict:
    """The change form's data as the browser would post it back unchanged."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            if isinstance(bound.field, NullBooleanField):
                data[bound.html_name] = {None: "unknown", True: "true", False: "false"}[value]
            elif isinstance(bound.field, BooleanField):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = list(value)
            else:
                data[bound.html_name] = "" if value is None else value
    return data


ENTRY_FIELDS = (
    "uid",
    "comment",
    "keys",
    "secondary_keys",
    "selective",
    "selective_logic",
    "content",
    "constant",
    "enabled",
    "insertion_order",
    "case_sensitive",
    "match_whole_words",
    "scan_depth",
    "position",
    "depth",
    "role",
    "outlet_name",
    "probability",
    "use_probability",
    "group",
    "group_weight",
    "group_override",
    "use_group_scoring",
    "sticky",
    "cooldown",
    "delay",
    "exclude_recursion",
    "prevent_recursion",
    "delay_until_recursion",
    "automation_id",
    "vectorized",
    "display_index",
    "filter_names",
    "filter_tags",
    "filter_exclude",
    "extensions",
    "extra",
)


def test_the_world_info_entry_form_edits_every_setting_import_keeps(staff):
    imported = wi_entry(3, position=0, depth=4, sticky=0, probability=80, group="towers")
    imported.update(role=None, characterFilter={"isExclude": False, "names": [], "tags": []})
    book = lorebook_import(
        data=json.dumps({"entries": {"3": imported}}).encode(), filename="Towers.json"
    )
    made_here = LoreEntry.objects.create(lorebook=book, uid=9, keys=["pier"], content="Boats.")
    url = reverse("admin:worlds_lorebook_change", args=[book.pk])
    response = staff.get(url)
    page = response.content.decode()
    for index in (0, 1):
        for field in ENTRY_FIELDS:
            assert f'name="entries-{index}-{field}"' in page, field
    # the form shows what import kept, as the engine reads it
    shown = {
        form.instance.uid: form for form in response.context["inline_admin_formsets"][0].formset
    }
    assert (shown[3].initial["probability"], shown[3].initial["group"]) == (80, "towers")
    assert shown[3].initial["prevent_recursion"] is True

    data = _posted(response)
    first = next(i for i in (0, 1) if data[f"entries-{i}-uid"] == 3)
    for index in (0, 1):
        data.update(
            {
                f"entries-{index}-position": "4",  # at a depth
                f"entries-{index}-depth": "2",
                f"entries-{index}-sticky": "3",
                f"entries-{index}-probability": "35",
                f"entries-{index}-group": "weather, towers",
            }
        )
    data[f"entries-{first}-filter_names"] = "Mara, Theo"
    response = staff.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]

    for entry in LoreEntry.objects.filter(lorebook=book):
        rule = rule_of(entry)
        assert (rule.position, rule.depth, rule.sticky, rule.probability, rule.groups) == (
            "at_depth",
            2,
            3,
            35,
            ("weather", "towers"),
        )
    wi = LoreEntry.objects.get(lorebook=book, uid=3)
    assert rule_of(wi).filter_names == ("Mara", "Theo")
    kept = wi.extra["world_info"]  # written where World Info keeps them, the rest untouched
    assert (kept["position"], kept["depth"], kept["sticky"], kept["group"]) == (
        4,
        2,
        3,
        "weather, towers",
    )
    assert kept["role"] is None and kept["preventRecursion"] is True
    made_here.refresh_from_db()
    assert made_here.extensions == {
        "position": 4,
        "depth": 2,
        "sticky": 3,
        "probability": 35,
        "group": "weather, towers",
    }
    exported = export_book(book, "sillytavern")["entries"]
    assert (exported["3"]["position"], exported["9"]["sticky"]) == (4, 3)


def test_an_unchanged_entry_form_changes_nothing(staff):
    book = lorebook_import(
        data=json.dumps({"entries": {"1": wi_entry(1, sticky=None)}}).encode(),
        filename="Towers.json",
    )
    before = LoreEntry.objects.get(lorebook=book)
    url = reverse("admin:worlds_lorebook_change", args=[book.pk])
    response = staff.post(url, _posted(staff.get(url)))
    assert response.status_code == 302, response.content.decode()[:3000]
    after = LoreEntry.objects.get(lorebook=book)
    assert (after.extra, after.extensions) == (before.extra, before.extensions)
