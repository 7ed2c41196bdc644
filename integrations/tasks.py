"""Celery tasks: thin wrappers that take ids and call one service. Filled in by the sync engine work."""

from celery import shared_task


@shared_task
def calendar_sync_task(calendar_id: int, trigger: str) -> None:
    """Sync one calendar (full when it has no cursor, else incremental)."""


@shared_task
def calendar_watch_task(calendar_id: int) -> None:
    """Open a push-notification channel for one calendar when the webhook URL is usable."""
