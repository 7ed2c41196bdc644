"""Re-encrypt every encrypted column under the newest key of FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first (it encrypts), keep the old ones after it (they still
decrypt), run this command, then drop the old keys. Rows are rewritten one by one in
short transactions; a row no key can decrypt is reported and left alone (exit status 1).
https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet.rotate
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, router, transaction

from integrations.fields import DecryptionError, EncryptedTextField, rotate


def _encrypted_columns():
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            yield model, fields


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields (tokens) under the first key of FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Check every value decrypts; write nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        rotated = failed = 0
        for model, fields in _encrypted_columns():
            db = router.db_for_write(model)
            qn = connections[db].ops.quote_name
            table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
            columns = ", ".join(qn(f.column) for f in fields)
            # Raw SQL: the ORM would decrypt on read and encrypt on write; here the
            # ciphertext itself is rotated (MultiFernet keeps the original timestamp).
            with connections[db].cursor() as cursor:
                cursor.execute(f"SELECT {pk}, {columns} FROM {table}")
                rows = cursor.fetchall()
            for row_pk, *values in rows:
                updates = {}
                for field, value in zip(fields, values, strict=True):
                    if value is None:
                        continue
                    try:
                        updates[field.column] = (value, rotate(value))
                    except DecryptionError:
                        failed += 1
                        self.stderr.write(f"{model._meta.label} {row_pk} {field.name}: no configured key decrypts it")
                if dry_run:
                    rotated += len(updates)
                    continue
                for column, (old, new) in updates.items():
                    # Compare-and-swap: a token refreshed meanwhile is newer than ours; keep it.
                    with transaction.atomic(using=db), connections[db].cursor() as cursor:
                        cursor.execute(
                            f"UPDATE {table} SET {qn(column)} = %s WHERE {pk} = %s AND {qn(column)} = %s",
                            [new, row_pk, old],
                        )
                        rotated += cursor.rowcount
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(f"{verb} {rotated} value(s); {failed} value(s) could not be decrypted.")
        if failed:
            raise CommandError(f"{failed} value(s) could not be decrypted with FIELD_ENCRYPTION_KEYS.")
