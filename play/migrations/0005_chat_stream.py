"""A chat is an eventstore stream: same id, and the active branch lives on the stream row.

Existing chats keep their ids and rows: the stream rows are made (or completed) from them, and
the chat table loses the two columns the stream now holds.
"""

import django.db.models.deletion
from django.db import migrations, models

PROJECTION_CHAT = models.ForeignKey(
    db_constraint=False,
    on_delete=django.db.models.deletion.DO_NOTHING,
    related_name="+",
    to="eventstore.stream",
)


class Migration(migrations.Migration):
    dependencies = [
        ("play", "0004_turn_fts"),
        ("eventstore", "0004_streams"),
        ("worlds", "0003_projections_on_streams"),
        ("memory", "0014_projections_on_streams"),
    ]

    operations = [
        # projection rows keep their chat_id column; only what it points at changes
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name=model, name="chat", field=PROJECTION_CHAT)
                for model in ("turn", "classifierfailure")
            ]
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [
                        # a chat that never got a branch still gets its stream
                        "INSERT OR IGNORE INTO eventstore_stream (id, created_at) "
                        "SELECT id, created_at FROM play_chat",
                        "UPDATE eventstore_stream SET "
                        "active_branch_id = (SELECT c.active_branch_id FROM play_chat c "
                        "WHERE c.id = eventstore_stream.id), "
                        "created_at = (SELECT c.created_at FROM play_chat c "
                        "WHERE c.id = eventstore_stream.id) "
                        "WHERE id IN (SELECT id FROM play_chat)",
                    ],
                    reverse_sql=migrations.RunSQL.noop,
                ),
                migrations.RemoveField(model_name="chat", name="active_branch"),
                migrations.RemoveField(model_name="chat", name="created_at"),
            ],
            state_operations=[
                migrations.DeleteModel(name="Chat"),
                migrations.CreateModel(
                    name="Chat",
                    fields=[
                        (
                            "stream_ptr",
                            models.OneToOneField(
                                db_column="id",
                                on_delete=django.db.models.deletion.CASCADE,
                                parent_link=True,
                                primary_key=True,
                                related_name="chat",
                                serialize=False,
                                to="eventstore.stream",
                            ),
                        ),
                        ("title", models.CharField(max_length=200)),
                        ("archived", models.BooleanField(default=False)),
                        (
                            "character",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="worlds.character",
                            ),
                        ),
                        (
                            "persona",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="worlds.persona",
                            ),
                        ),
                        (
                            "scenario",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="worlds.scenario",
                            ),
                        ),
                    ],
                    options={"ordering": ["-created_at"]},
                    bases=("eventstore.stream",),
                ),
            ],
        ),
    ]
