"""Starting syncs. Filled in by the sync engine work."""

from django.db import transaction


def calendar_sync_enqueue(*, calendar_id: int, trigger: str) -> None:
    """Queue a sync of one calendar once the current transaction commits."""
    from integrations.tasks import calendar_sync_task

    transaction.on_commit(lambda: calendar_sync_task.delay(calendar_id, trigger))
