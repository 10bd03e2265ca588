"""The log owns its streams: events and branches point at ``eventstore.Stream``.

Existing logs keep their ids: a stream is made for every chat id the branches name (the domain
migration that follows copies the active branch over and points its chats at them).
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

NO_UPDATE = """
CREATE TRIGGER eventstore_event_no_update BEFORE UPDATE ON eventstore_event
BEGIN SELECT RAISE(ABORT, 'eventstore_event is append-only: events cannot be updated'); END
"""
NO_DELETE = """
CREATE TRIGGER eventstore_event_no_delete BEFORE DELETE ON eventstore_event
WHEN NOT EXISTS (SELECT 1 FROM eventstore_purge WHERE stream_id = OLD.stream_id)
BEGIN SELECT RAISE(ABORT, 'eventstore_event is append-only: events cannot be deleted'); END
"""
DROP = [
    "DROP TRIGGER IF EXISTS eventstore_event_no_update",
    "DROP TRIGGER IF EXISTS eventstore_event_no_delete",
]


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0003_append_only")]

    operations = [
        migrations.CreateModel(
            name="Stream",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "active_branch",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="eventstore.branch",
                    ),
                ),
            ],
        ),
        migrations.RunSQL(
            "INSERT INTO eventstore_stream (id, created_at) "
            "SELECT chat_id, min(created_at) FROM eventstore_branch GROUP BY chat_id",
            reverse_sql=migrations.RunSQL.noop,
        ),
        # the table rebuilds below drop the append-only triggers; they come back at the end
        migrations.RunSQL(DROP, reverse_sql=migrations.RunSQL.noop),
        migrations.RemoveIndex(model_name="event", name="eventstore__chat_id_a14ea8_idx"),
        migrations.RenameField(model_name="branch", old_name="chat", new_name="stream"),
        migrations.AlterField(
            model_name="branch",
            name="stream",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="branches",
                to="eventstore.stream",
            ),
        ),
        migrations.RenameField(model_name="event", old_name="chat", new_name="stream"),
        migrations.AlterField(
            model_name="event",
            name="stream",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="eventstore.stream",
            ),
        ),
        migrations.RemoveField(model_name="event", name="schema_version"),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["stream", "id"], name="eventstore_stream_id_idx"),
        ),
        migrations.RenameField(model_name="purge", old_name="chat_id", new_name="stream_id"),
        migrations.RunSQL([NO_UPDATE, NO_DELETE], reverse_sql=DROP),
    ]
