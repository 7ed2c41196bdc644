"""Push-notification channels: open, renew, stop. Filled in by the sync engine work."""

from django.db import transaction

from integrations.models import ExternalCalendar
from integrations.providers.base import CalendarClient


def calendar_watch_enqueue(*, calendar_id: int) -> None:
    """Queue opening a channel for one calendar once the current transaction commits."""
    from integrations.tasks import calendar_watch_task

    transaction.on_commit(lambda: calendar_watch_task.delay(calendar_id))


def calendar_channels_stop(*, calendar: ExternalCalendar, client: CalendarClient | None) -> None:
    """Stop every active channel of ``calendar``: at the provider when ``client`` is given
    (best effort, failures logged), and locally always."""
