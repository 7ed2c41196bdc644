"""``manage.py caldav_server``: run a local CalDAV server (Radicale) for the demo, optionally seeded.

The product refuses private addresses for CalDAV unless ``CALDAV_ALLOW_PRIVATE_ADDRESSES=true``
(printed on start); the demo sets it. Stops with Ctrl-C.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from integrations.emulators.caldav import RadicaleServer


class Command(BaseCommand):
    help = "Run a local CalDAV server (Radicale with htpasswd auth) for the demo."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=5232)
        parser.add_argument("--seed-demo", action="store_true", help="create a demo account with a realistic week")
        parser.add_argument("--timezone", default="Europe/Berlin")

    def handle(self, *args, **options):
        server = RadicaleServer()
        server.start(port=options["port"])
        try:
            if options["seed_demo"]:
                from integrations.emulators.caldav.demo import seed_demo_week

                seeded = seed_demo_week(server, zone=options["timezone"])
                self.stdout.write(
                    f"Seeded {seeded['user']} (password {seeded['password']}): {', '.join(seeded['calendars'])}"
                )
            self.stdout.write(
                f"CalDAV server (Radicale) at {server.url}\n"
                "Set CALDAV_ALLOW_PRIVATE_ADDRESSES=true for the app, then connect 'Apple iCloud / CalDAV'"
                f" with server {server.url}"
            )
            while server.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
