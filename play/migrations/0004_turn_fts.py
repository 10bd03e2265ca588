from django.db import migrations

from play.engine import search


class Migration(migrations.Migration):
    dependencies = [("play", "0003_turn_bot_text")]

    operations = [migrations.RunSQL(sql=[*search.CREATE, search.REBUILD], reverse_sql=search.DROP)]
