"""Settings of the test suite: the product's own, started explicitly in development mode.

``config.settings`` refuses to start without ``DEBUG=true`` on the repository's development
keys (SPEC §12). The tests run on those keys, so this module says ``DEBUG=true`` for the
import, unless the environment already says otherwise, and then takes it back out of the
environment: processes the tests start (``manage.py demo``, gunicorn, a Celery worker,
``manage.py check --deploy``) see the environment they are given, not this choice.
pytest-django still runs every test with ``settings.DEBUG = False``.
"""

import os

_debug_given = "DEBUG" in os.environ
os.environ.setdefault("DEBUG", "true")
try:
    from config.settings import *  # noqa: F403
finally:
    if not _debug_given:
        del os.environ["DEBUG"]
