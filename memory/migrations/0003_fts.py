from django.db import migrations

from memory import fts


class Migration(migrations.Migration):
    dependencies = [("memory", "0002_initial")]

    operations = [migrations.RunSQL(sql=fts.CREATE, reverse_sql=fts.DROP)]
