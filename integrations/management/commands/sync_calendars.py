"""``manage.py sync_calendars``: sync every selected calendar now (SPEC §7).

Runs in this process, one calendar after the other, through the same service the
workers use (so the per-calendar lock still keeps it from racing a worker). ``--queue``
hands the work to the workers instead.
"""

from django.core.management.base import BaseCommand

from integrations.models import ExternalCalendar, SyncRun
from integrations.providers.base import ProviderError
from integrations.services.sync import SYNCABLE_STATUSES, calendar_sync_request, calendar_sync_run


class Command(BaseCommand):
    help = "Sync every selected calendar of every usable connection now."

    def add_arguments(self, parser):
        parser.add_argument("--calendar", type=int, action="append", help="Only this calendar id (repeatable).")
        parser.add_argument("--full", action="store_true", help="List the whole window and reconcile.")
        parser.add_argument("--queue", action="store_true", help="Queue Celery tasks instead of syncing here.")

    def handle(self, *args, calendar=None, full=False, queue=False, **options):
        calendars = ExternalCalendar.objects.filter(selected=True, connection__status__in=SYNCABLE_STATUSES)
        if calendar:
            calendars = calendars.filter(pk__in=calendar)
        trigger = SyncRun.Trigger.MANUAL if full else SyncRun.Trigger.PERIODIC
        failures = 0
        for calendar_id in calendars.order_by("pk").values_list("pk", flat=True):
            if queue:
                calendar_sync_request(calendar_id=calendar_id, trigger=trigger)
                self.stdout.write(f"calendar {calendar_id}: queued")
                continue
            try:
                runs = calendar_sync_run(calendar_id=calendar_id, trigger=trigger)
            except ProviderError as exc:
                failures += 1
                self.stderr.write(f"calendar {calendar_id}: failed: {exc}")
                continue
            if not runs:
                self.stdout.write(f"calendar {calendar_id}: skipped (being synced elsewhere)")
            for run in runs:
                self.stdout.write(
                    f"calendar {calendar_id}: {run.kind} sync, {run.events_seen} events, "
                    f"{run.blocks_upserted} blocks written, {run.blocks_deleted} removed in {run.duration_ms} ms"
                )
        if failures:
            self.stderr.write(self.style.ERROR(f"{failures} calendar(s) failed"))
