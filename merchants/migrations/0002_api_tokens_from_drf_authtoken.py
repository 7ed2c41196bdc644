"""API tokens move from DRF's authtoken (plain-text keys, no expiry) to django-rest-knox.

Each existing DRF token becomes a knox token: its key's SHA-512 digest (the same hash knox
applies) with an expiry API_TOKEN_TTL_DAYS from now, so clients keep working until then.
Then the plain-text table is dropped, with authtoken's migration records, content type and
permissions, so nothing of the old tokens stays behind. On a new database there is nothing
to move.
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"


def move_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    expiry = timezone.now() + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {OLD_TABLE}")
        rows = cursor.fetchall()
    AuthToken.objects.bulk_create(
        AuthToken(
            digest=hashlib.sha512(key.encode()).hexdigest(),
            token_key=key[:15],
            user_id=user_id,
            expiry=expiry,
        )
        for key, user_id in rows
    )
    schema_editor.execute(schema_editor.sql_delete_table % {"table": schema_editor.quote_name(OLD_TABLE)})
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="authtoken").delete()  # its permissions go with it


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0001_initial"),
        ("knox", "0009_extend_authtoken_field"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(move_tokens, migrations.RunPython.noop, elidable=True)]
