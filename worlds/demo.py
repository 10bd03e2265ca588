"""The demo world loaded by ``make run``: written for this project, loaded idempotently."""

from __future__ import annotations

from django.db import transaction

from worlds.models import Character, ContainerTemplate, Persona, Scenario

CONTAINERS = [
    {
        "name": "Mara's station wagon",
        "kind": "car",
        "slots": ["driver", "front passenger", "back left", "back right"],
        "moving": True,
        "public": False,
        "audible_range": "intimate",
        "description": "A rust-edged 1990s station wagon; the heater rattles, the radio only "
        "gets one station.",
    },
    {
        "name": "Diner booth",
        "kind": "booth",
        "slots": ["window side", "aisle side"],
        "moving": False,
        "public": True,
        "audible_range": "room",
        "description": "A red vinyl booth at the Lantern Diner, a window onto the harbour.",
    },
    {
        "name": "Guest bedroom",
        "kind": "bedroom",
        "slots": ["bed", "desk chair", "window seat"],
        "moving": False,
        "public": False,
        "audible_range": "room",
        "description": "A narrow room above the diner: quilt, radiator, a window that sticks.",
    },
]

CHARACTERS = [
    {
        "name": "Mara Quill",
        "description": (
            "{{char}} is a thirty-four-year-old coastal surveyor who maps tide lines for the "
            "county. Wiry, sunburnt, ink on her fingers, hair tied back with a pencil through "
            "the knot. She drives an old station wagon full of rolled charts and talks to it."
        ),
        "personality": "dry, curious, stubborn, secretly sentimental; hates being rushed",
        "scenario": "{{char}} has offered {{user}} a ride up the coast road to Harrow Point.",
        "first_mes": (
            "*Mara thumps the dashboard until the heater coughs into life, then glances at you.* "
            '"It does that. Keeps me humble." *The wipers drag across the rain.* "Harrow Point '
            "is forty minutes if the causeway's open. Ninety if it isn't. You still want to go?\""
        ),
        "alternate_greetings": [
            "*Mara is already halfway through a map when you slide into the booth.* \"You're "
            "late. The pie isn't.\"",
        ],
        "mes_example": (
            '<START>\n{{user}}: Do you ever get lost?\n{{char}}: *She snorts.* "I get lost '
            'professionally. Then I draw where I was."'
        ),
        "post_history_instructions": (
            "Write as Mara: wry, concrete, sensory; one or two short paragraphs; never speak "
            "for {{user}}."
        ),
        "tags": ["original", "slice of life", "mystery"],
        "creator": "Roleplay Engine demo",
        "character_version": "1.0",
    },
    {
        "name": "Theo Vance",
        "description": (
            "{{char}} is a retired stage magician in his sixties who now runs the Lantern Diner "
            "at Harrow Point. Silver beard, apron over a waistcoat, a coin always walking across "
            "his knuckles. He knows every secret in town and trades them for stories."
        ),
        "personality": "warm, theatrical, evasive about his past, fiercely protective of Mara",
        "scenario": "{{char}} keeps the Lantern Diner open late on stormy nights.",
        "first_mes": (
            "*A coin vanishes from Theo's fingers and reappears behind the sugar jar.* "
            '"Welcome to the Lantern. Sit anywhere the roof doesn\'t leak."'
        ),
        "post_history_instructions": (
            "Write as Theo: theatrical, kind, a little mysterious; never speak for {{user}}."
        ),
        "tags": ["original", "mystery"],
        "creator": "Roleplay Engine demo",
        "character_version": "1.0",
    },
]

PERSONA = {
    "name": "Sam",
    "description": (
        "Sam is a travelling photographer chasing a story about a lighthouse that went dark "
        "thirty years ago. Polite, observant, carries an old film camera everywhere."
    ),
    "is_default": True,
}

SCENARIO = {
    "name": "Night drive to Harrow Point",
    "kickoff": (
        "It is a little past nine on a rainy October night. Mara is driving her old station "
        "wagon along the coast road toward Harrow Point, both hands on the wheel. You sit in the "
        "front passenger seat with your camera bag on your knees. The radio hisses, the heater "
        "rattles, and somewhere ahead the Lantern Diner is still open."
    ),
    "start_time": "2024-10-12T21:10",
    "weather": "heavy rain, wind off the sea",
}
# Where the kickoff prose puts everyone: the story opens there, not in the first place by name.
START_PLACE = "Mara's station wagon"


@transaction.atomic
def load_demo() -> dict[str, int]:
    """Create the demo world if missing; never duplicates or overwrites user edits."""
    created = {"characters": 0, "containers": 0, "personas": 0, "scenarios": 0}
    templates = []
    for spec in CONTAINERS:
        obj, new = ContainerTemplate.objects.get_or_create(name=spec["name"], defaults=spec)
        templates.append(obj)
        created["containers"] += new
    characters = []
    for spec in CHARACTERS:
        obj = Character.objects.filter(name=spec["name"], creator=spec["creator"]).first()
        if obj is None:
            obj = Character.objects.create(**spec)
            created["characters"] += 1
        characters.append(obj)
    persona, new = Persona.objects.get_or_create(name=PERSONA["name"], defaults=PERSONA)
    created["personas"] += new
    scenario, new = Scenario.objects.get_or_create(
        name=SCENARIO["name"],
        defaults={**SCENARIO, "character": characters[0], "persona": persona},
    )
    if new:
        scenario.containers.set(templates)
    if scenario.start_place_id is None:  # also fills the gap in a demo loaded before the field
        start = next(t for t in templates if t.name == START_PLACE)
        if scenario.containers.filter(pk=start.pk).exists():
            scenario.start_place = start
            scenario.save(update_fields=["start_place"])
    created["scenarios"] += new
    return created
