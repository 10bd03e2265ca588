from django.db import migrations

from memory import fts

OLD_DROP = [
    "DROP TRIGGER IF EXISTS memory_fts_ai",
    "DROP TRIGGER IF EXISTS memory_fts_ad",
    "DROP TRIGGER IF EXISTS memory_fts_au",
    "DROP TABLE IF EXISTS memory_fts",
]


class Migration(migrations.Migration):
    dependencies = [("memory", "0007_embedding_cache")]

    operations = [
        migrations.RunSQL(sql=[*OLD_DROP, *fts.create_sql(keys=False), fts.fill_sql(keys=False)], reverse_sql=fts.DROP),
    ]
