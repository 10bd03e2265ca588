from django.db import migrations

from memory import fts


class Migration(migrations.Migration):
    """The FTS rows carry whether their owner may recall them, so a lexical query filters by
    witness inside FTS5 (no join per match); the index is rebuilt from the memory rows."""

    dependencies = [("memory", "0012_vectors_in_process")]

    operations = [migrations.RunSQL(sql=[*fts.DROP, *fts.create_sql(keys=False), fts.fill_sql(keys=False)], reverse_sql=fts.DROP)]
