"""The provider-neutral calendar sync core (SPEC §4, §5); see docs/calendar-sync.md.

- ``rules``: an event -> the interval it blocks, or None (pure functions).
- ``store``: batched, idempotent writes of blocked times keyed by (calendar, external key).
- ``engine``: full and incremental syncs of one calendar, reconcile, run recording.
- ``locks``: one sync per calendar across workers.
- ``readahead``: a full sync's listing fetched one page ahead on a thread.

Nothing here imports a provider: providers hand in a ``CalendarClient``
(``integrations.providers.base``).
"""
