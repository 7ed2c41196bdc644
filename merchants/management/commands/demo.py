"""``demo``: migrate, create the demo merchant if missing, print its login and run the app.

Everything runs on the embedded defaults (SQLite file, eager tasks); see README.md.
"""

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from merchants.services import merchant_create

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-calendar-2026"
DEMO_NAME = "Demo Salon"
DEMO_SLUG = "demo"
DEMO_TIME_ZONE = "Europe/Berlin"


class Command(BaseCommand):
    help = "Set up the demo (migrate, demo merchant) and run the development server."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="Where to serve (host:port).")
        parser.add_argument("--no-server", action="store_true", help="Only migrate and create the demo merchant.")

    def handle(self, *args, addrport, no_server, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if get_user_model().objects.filter(username=DEMO_EMAIL).exists():
            self.stdout.write("Demo merchant already exists.")
        else:
            merchant_create(
                email=DEMO_EMAIL, password=DEMO_PASSWORD, name=DEMO_NAME, time_zone=DEMO_TIME_ZONE, slug=DEMO_SLUG
            )
            self.stdout.write(self.style.SUCCESS("Created the demo merchant."))
        base = f"http://{addrport}"
        self.stdout.write(
            f"\n  Log in at {base}/accounts/login/\n"
            f"    email:    {DEMO_EMAIL}\n"
            f"    password: {DEMO_PASSWORD}\n"
            f"  Public booking page: {base}/book/{DEMO_SLUG}\n"
            f"  API docs: {base}/api/v1/docs/\n"
        )
        if not no_server:
            # No autoreloader: it would re-run this whole command in a child process.
            call_command("runserver", addrport, use_reloader=False)
