from django.db import migrations

from memory import vectors

OLD = [
    "DROP TRIGGER IF EXISTS memory_vec_mirror",
    "DROP TRIGGER IF EXISTS memory_vec_move",
    "DROP TRIGGER IF EXISTS memory_vec_forget",
    "DROP TRIGGER IF EXISTS memory_vec_retext",
    "DROP TABLE IF EXISTS memory_vec",
]


class Migration(migrations.Migration):
    """Full-precision vectors move beside the vec0 table (its point lookups are slow); the
    index refills from the embedding cache."""

    dependencies = [("memory", "0009_vectors_partitioned")]

    operations = [
        migrations.RunSQL(sql=[*OLD, *vectors.create_sql(vectors.DEFAULT_DIMS, keys=False)],
                          reverse_sql=vectors.DROP)
    ]
