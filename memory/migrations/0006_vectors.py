from django.db import migrations

from memory import vectors


class Migration(migrations.Migration):
    dependencies = [("memory", "0005_story_event_scope")]

    operations = [
        migrations.RunSQL(sql=vectors.create_sql(vectors.DEFAULT_DIMS, keys=False), reverse_sql=vectors.DROP)
    ]
