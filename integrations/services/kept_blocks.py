"""Blocked times kept at a disconnect: one group per calendar, removable in one click, and
adopted back (not doubled) when the same account is connected again (SPEC §9)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count

from integrations.models import CalendarConnection, ExternalCalendar, KeptBlockGroup
from merchants.models import Merchant
from scheduling.models import BlockedTime
from scheduling.services import merchant_changed


def kept_blocks_keep(*, connection: CalendarConnection) -> None:
    """Turn the connection's synced blocks into kept groups (call inside the disconnect's
    transaction, before its calendars go: their FK would cascade to the blocks)."""
    for calendar in ExternalCalendar.objects.filter(connection=connection, blocked_times__isnull=False).distinct():
        group = KeptBlockGroup.objects.create(
            merchant_id=connection.merchant_id,
            provider=connection.provider,
            account_id=connection.account_id,
            calendar_external_id=calendar.external_id,
            calendar_name=calendar.summary,
        )
        BlockedTime.objects.filter(calendar=calendar).update(
            source=BlockedTime.Source.MANUAL, calendar=None, kept_group=group, reason=""
        )


def kept_blocks_adopt(*, connection: CalendarConnection) -> int:
    """Give kept blocks of this account back to their calendars (selecting them again); the
    initial full sync then reconciles them by external key. Returns the blocks adopted."""
    adopted = 0
    groups = KeptBlockGroup.objects.filter(
        merchant_id=connection.merchant_id, provider=connection.provider, account_id=connection.account_id
    )
    for group in groups:
        calendar = connection.calendars.filter(external_id=group.calendar_external_id).first()
        if calendar is None:
            continue
        adopted += BlockedTime.objects.filter(kept_group=group).update(
            source=connection.provider, calendar=calendar, kept_group=None
        )
        ExternalCalendar.objects.filter(pk=calendar.pk).update(selected=True)
        group.delete()
    return adopted


def kept_block_groups(*, merchant: Merchant) -> list[KeptBlockGroup]:
    """The merchant's kept groups with their block counts (``block_count``)."""
    return list(KeptBlockGroup.objects.filter(merchant=merchant).annotate(block_count=Count("blocked_times")))


@transaction.atomic
def kept_block_group_delete(*, merchant: Merchant, group_id: int) -> bool:
    """Remove a kept group and all its blocks; False when the merchant has no such group."""
    deleted, _ = KeptBlockGroup.objects.filter(merchant=merchant, pk=group_id).delete()
    if deleted:
        transaction.on_commit(lambda: merchant_changed(merchant.pk))
    return bool(deleted)
