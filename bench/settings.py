"""Settings for benchmark runs: the product's settings plus a bench-only URLconf.

Production code carries nothing for benchmarks: the bare baseline view lives in
``bench.urls``, which only a server started with ``DJANGO_SETTINGS_MODULE=bench.settings``
serves.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
