"""Database expressions that read instants as whole Unix seconds.

The availability sweep reads up to tens of thousands of (start, end) pairs. Turning each
into a ``datetime`` costs far more than the sweep itself (Django's time-zone-aware
loaders run in Python per value), so the database hands over integers instead.

Rounding is exact for our purpose: slot bounds are whole seconds, and for an integer
``t``, ``floor(start) < t`` iff ``start < t`` and ``ceil(end) > t`` iff ``end > t``.
Only PostgreSQL and SQLite are supported, as by the rest of the project.
https://docs.djangoproject.com/en/5.2/ref/models/expressions/#func-expressions
https://www.postgresql.org/docs/current/functions-datetime.html#FUNCTIONS-DATETIME-EXTRACT
https://www.sqlite.org/lang_datefunc.html
"""

from django.db import NotSupportedError
from django.db.models import BigIntegerField, Func


class _Epoch(Func):
    output_field = BigIntegerField()
    postgresql_template: str
    sqlite_template: str

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"{self.__class__.__name__} supports PostgreSQL and SQLite only.")

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template=self.postgresql_template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template=self.sqlite_template, **extra_context)


# SQLite: Django stores UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]", writing the fraction only when it
# is not zero. SQLite's own date functions round to milliseconds (".9999995" would become the next
# second), so the seconds are read from the first 19 characters and the fraction from the length.
# "%%%%" survives two rounds of %-formatting (the template, then the backend's placeholders).
_SQLITE_WHOLE_SECONDS = "CAST(strftime('%%%%s', substr(%(expressions)s, 1, 19)) AS INTEGER)"


class EpochFloor(_Epoch):
    """Seconds since 1970-01-01T00:00Z, rounded down."""

    postgresql_template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint"
    sqlite_template = _SQLITE_WHOLE_SECONDS


class EpochCeil(_Epoch):
    """Seconds since 1970-01-01T00:00Z, rounded up."""

    postgresql_template = "CEIL(EXTRACT(EPOCH FROM %(expressions)s))::bigint"
    sqlite_template = f"({_SQLITE_WHOLE_SECONDS} + (length(%(expressions)s) > 19))"
