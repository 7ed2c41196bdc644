#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if sys.argv[1:2] in (["demo"], ["google_emulator"]):
        # The demo (a development server on loopback) and the local Google emulator are
        # development tools: they say so themselves, so they run with no variables. Anything
        # else without DEBUG=true is production and refuses the repository's keys.
        os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
