from django.db import migrations

# The log is append-only at the database level. Rows leave only for a chat listed in
# eventstore_purge (eventstore.services.chat_purge, and test teardown through the same door).
TRIGGERS = [
    """
    CREATE TRIGGER eventstore_event_no_update BEFORE UPDATE ON eventstore_event
    BEGIN SELECT RAISE(ABORT, 'eventstore_event is append-only: events cannot be updated'); END
    """,
    """
    CREATE TRIGGER eventstore_event_no_delete BEFORE DELETE ON eventstore_event
    WHEN NOT EXISTS (SELECT 1 FROM eventstore_purge WHERE chat_id = OLD.chat_id)
    BEGIN SELECT RAISE(ABORT, 'eventstore_event is append-only: events cannot be deleted'); END
    """,
]


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0002_initial")]

    operations = [
        migrations.RunSQL(
            sql=TRIGGERS,
            reverse_sql=[
                "DROP TRIGGER IF EXISTS eventstore_event_no_update",
                "DROP TRIGGER IF EXISTS eventstore_event_no_delete",
            ],
        )
    ]
