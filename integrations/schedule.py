"""Celery beat schedule of the calendar integration, merged into ``CELERY_BEAT_SCHEDULE``.

Plain data (no Django imports) so that ``config/settings.py`` can import it.
https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html
"""

from datetime import timedelta

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Channels live 7 days at Google; renewal starts a day ahead, so hourly leaves many tries.
    "calendar-channels-renew": {
        "task": "integrations.tasks.watch_channels_renew_task",
        "schedule": timedelta(hours=1),
    },
    # Syncs calendars whose last sync is older than CALENDAR_PERIODIC_SYNC_INTERVAL.
    "calendar-periodic-sync": {
        "task": "integrations.tasks.calendars_sync_periodic_task",
        "schedule": timedelta(minutes=15),
    },
    # CalDAV polling: each calendar is due every CALDAV_POLL_MINUTES at its own offset;
    # the minute tick only finds who is due (spread over the interval).
    "calendar-caldav-poll": {
        "task": "integrations.tasks.calendars_poll_task",
        "schedule": timedelta(minutes=1),
    },
    # SPEC §10: copies of bookings whose write failed or was lost, until they land.
    "booking-copies-retry": {
        "task": "integrations.tasks.booking_copies_retry_task",
        "schedule": timedelta(minutes=5),
    },
    "calendar-horizon-roll": {
        "task": "integrations.tasks.calendars_horizon_roll_task",
        "schedule": crontab(hour=3, minute=17),
    },
}
