"""The WSGI entry point (gunicorn ``config.wsgi``).

Once the app and its URLs (so every view) are loaded, what is in memory lives as long as
the process, so it is frozen out of the garbage collector's full passes: otherwise each
full pass scans all of Django and its libraries, a 70 ms stall that requests allocating
many objects (availability over 10,000 blocked times) hit every few calls
(docs/BENCHMARKS.md). https://docs.python.org/3/library/gc.html#gc.freeze
"""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
import_module(settings.ROOT_URLCONF)
gc.freeze()
