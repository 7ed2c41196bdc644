import uuid

import django.utils.timezone
from django.db import migrations, models


def fill_uids(apps, schema_editor):
    Booking = apps.get_model("scheduling", "Booking")
    for booking in Booking.objects.filter(uid__isnull=True).only("pk"):
        Booking.objects.filter(pk=booking.pk).update(uid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0003_blocked_time_kept_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="uid",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_uids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="booking",
            name="uid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, help_text="Invitation UID, manage link.", unique=True
            ),
        ),
        migrations.AddField(
            model_name="booking",
            name="customer_time_zone",
            field=models.CharField(blank=True, help_text="The customer's browser zone, if known.", max_length=64),
        ),
        migrations.AddField(
            model_name="booking",
            name="status",
            field=models.CharField(
                choices=[("confirmed", "Confirmed"), ("cancelled", "Cancelled")], default="confirmed", max_length=20
            ),
        ),
        migrations.AddField(
            model_name="booking",
            name="sequence",
            field=models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE: bumped on every change."),
        ),
        migrations.AddField(
            model_name="booking",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="booking",
            name="cancelled_by",
            field=models.CharField(
                blank=True, choices=[("customer", "the customer"), ("merchant", "the merchant")], max_length=20
            ),
        ),
        migrations.AddField(
            model_name="booking",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="booking",
            index=models.Index(fields=["merchant", "customer_email", "start"], name="booking_merchant_email_start"),
        ),
    ]
