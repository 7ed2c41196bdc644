"""Celery beat schedule of the calendar integration, merged into ``CELERY_BEAT_SCHEDULE``.

Plain data (no Django imports) so that ``config/settings.py`` can import it.
https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html
"""

from datetime import timedelta

from celery.schedules import crontab

# The minute ticks only read what is due (partial indexes on next_poll_at and renew_at), and
# what is due is spread over the interval, so work arrives evenly instead of in bursts at the
# tick (docs/BENCHMARKS.md, the scale model).
BEAT_SCHEDULE = {
    # Channels live 7 days at Google (3 at Graph); each is renewed a day ahead at its
    # calendar's own time of day (WatchChannel.renew_at).
    "calendar-channels-renew": {
        "task": "integrations.tasks.watch_channels_renew_due_task",
        "schedule": timedelta(minutes=1),
    },
    # Hourly: also opens missing channels (a failed watch) and forgets old stopped ones.
    "calendar-channels-repair": {
        "task": "integrations.tasks.watch_channels_renew_task",
        "schedule": timedelta(hours=1),
    },
    # Whatever is due (ExternalCalendar.next_poll_at): CalDAV polls, every CALDAV_POLL_MINUTES
    # at each calendar's own offset, and the push providers' safety net, between half and all
    # of CALENDAR_PERIODIC_SYNC_INTERVAL after the last run, spread.
    "calendar-periodic-sync": {
        "task": "integrations.tasks.calendars_sync_periodic_task",
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
