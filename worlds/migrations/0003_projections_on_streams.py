"""Projection rows belong to an eventstore stream; their chat_id column is unchanged."""

import django.db.models.deletion
from django.db import migrations, models

MODELS = (
    "activity",
    "container",
    "edge",
    "entitystate",
    "groupnode",
    "scene",
    "storyevent",
    "thread",
    "worldstate",
)


class Migration(migrations.Migration):
    dependencies = [
        ("worlds", "0002_story_event_scope"),
        ("eventstore", "0004_streams"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name=model,
                    name="chat",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="eventstore.stream",
                    ),
                )
                for model in MODELS
            ]
        )
    ]
