"""Connection incidents (SPEC §9): a connection that needs the merchant.

An incident opens when a connection needs re-authorising, or when a calendar's syncs have
been failing for over ``CALENDAR_INCIDENT_AFTER`` (an hour); it resolves itself when the
cause goes (a successful sync, a reconnect, a disconnect). While open it is a banner on
every merchant page; the merchant gets one email per incident, sent after the opening
commits, by a task (a mail server that is down delays the email, never the sync).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists
from django.utils import timezone

from integrations.models import CalendarConnection, ConnectionIncident, ExternalCalendar
from integrations.providers import provider_for
from merchants.models import Merchant

logger = logging.getLogger(__name__)


def connection_incident_open(*, connection_id: int, kind: str) -> ConnectionIncident | None:
    """Open an incident unless one of this kind is open already; returns the new one."""
    try:
        with transaction.atomic():
            if ConnectionIncident.objects.filter(connection_id=connection_id, kind=kind, resolved_at=None).exists():
                return None
            incident = ConnectionIncident.objects.create(connection_id=connection_id, kind=kind)
    except IntegrityError:  # opened by another worker at the same moment
        return None
    from integrations.tasks import incident_email_task

    transaction.on_commit(lambda: incident_email_task.delay(incident.pk))
    logger.info("incident %s opened on connection %s (%s)", incident.pk, connection_id, kind)
    return incident


def connection_incidents_resolve(*, connection_id: int, kinds: tuple[str, ...] | None = None) -> int:
    incidents = ConnectionIncident.objects.filter(connection_id=connection_id, resolved_at=None)
    if kinds is not None:
        incidents = incidents.filter(kind__in=kinds)
    return incidents.update(resolved_at=timezone.now())


def calendar_failures_check(*, calendar_id: int) -> None:
    """After a failed sync: open an incident once the calendar has failed for long enough."""
    cutoff = timezone.now() - settings.CALENDAR_INCIDENT_AFTER
    calendar = (
        ExternalCalendar.objects.filter(pk=calendar_id, failing_since__lt=cutoff)
        .exclude(connection__status=CalendarConnection.Status.DISCONNECTED)
        .only("connection_id")
        .first()
    )
    if calendar is not None:
        connection_incident_open(connection_id=calendar.connection_id, kind=ConnectionIncident.Kind.SYNC_FAILING)


def calendar_success_check(*, connection_id: int) -> None:
    """After a successful sync: the failing incident resolves once no selected calendar fails.

    One statement (the check is a ``NOT EXISTS`` of the resolving ``UPDATE``): it runs after
    every sync, where each round trip counts (bench/sync.py, incremental sync)."""
    failing = ExternalCalendar.objects.filter(connection_id=connection_id, selected=True, failing_since__isnull=False)
    ConnectionIncident.objects.filter(
        ~Exists(failing), connection_id=connection_id, resolved_at=None, kind=ConnectionIncident.Kind.SYNC_FAILING
    ).update(resolved_at=timezone.now())


def open_incidents(*, merchant: Merchant) -> list[ConnectionIncident]:
    """What the banner shows: one query."""
    return list(
        ConnectionIncident.objects.filter(connection__merchant=merchant, resolved_at=None).select_related("connection")
    )


def incident_email_send(*, incident_id: int) -> bool:
    """Email the merchant about an open incident, once; returns whether a mail went out."""
    from django.core.mail import send_mail

    incident = (
        ConnectionIncident.objects.select_related("connection__merchant__user")
        .filter(pk=incident_id, resolved_at=None, emailed_at=None)
        .first()
    )
    if incident is None:
        return False
    connection = incident.connection
    name = provider_for(connection.provider).name
    page = settings.PUBLIC_BASE_URL + "/app/integrations"
    if incident.kind == ConnectionIncident.Kind.REAUTH_REQUIRED:
        subject = f"Reconnect {name}: busy times are not being updated"
        body = (
            f"{name} ({connection.account_email or 'your account'}) stopped accepting our access, so changes in that "
            f"calendar no longer block your booking page.\n\nReconnect it here: {page}\n"
        )
    else:
        subject = f"{name} has not synced for over an hour"
        body = (
            f"We could not sync {name} ({connection.account_email or 'your account'}) for over an hour; we keep "
            f"retrying. Until it works, new busy times there may not block your booking page.\n\n"
            f"Details: {page}\n"
        )
    send_mail(subject, body, None, [connection.merchant.user.email])
    ConnectionIncident.objects.filter(pk=incident.pk).update(emailed_at=timezone.now())
    logger.info("emailed merchant %s about incident %s", connection.merchant_id, incident.pk)
    return True
