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
    """KNN moves from the vec0 table to an in-process binary index that follows the vector
    table through a change log; the full-precision vectors stay where they were."""

    dependencies = [("memory", "0011_prompt_read_indexes")]

    operations = [
        migrations.RunSQL(
            sql=[*OLD, *vectors.create_sql(vectors.DEFAULT_DIMS, keys=False)], reverse_sql=migrations.RunSQL.noop
        )
    ]
