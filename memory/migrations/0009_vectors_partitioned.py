from django.db import migrations

from memory import vectors

OLD = [
    "DROP TRIGGER IF EXISTS memory_vec_mirror",
    "DROP TRIGGER IF EXISTS memory_vec_forget",
    "DROP TRIGGER IF EXISTS memory_vec_retext",
    "DROP TABLE IF EXISTS memory_vec",
]


class Migration(migrations.Migration):
    """The bot's store becomes the vec0 partition and a binary column speeds the first pass.
    Vectors come back from the embedding cache (manage.py reembed, or the server at start)."""

    dependencies = [("memory", "0008_scoped_fts")]

    operations = [
        migrations.RunSQL(sql=[*OLD, *vectors.create_sql(vectors.DEFAULT_DIMS, keys=False)],
                          reverse_sql=vectors.DROP)
    ]
