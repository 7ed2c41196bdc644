"""``create_merchant --email E --password P --timezone TZ [--slug S] [--name N]`` (SPEC §7).

Business hours default to Monday-Friday 09:00-17:00 in the merchant's zone.
"""

from django.core.management.base import BaseCommand, CommandError

from config.api import ApplicationError
from merchants.services import email_normalize, merchant_create


class Command(BaseCommand):
    help = "Create a merchant account (login user + merchant, business hours Mon-Fri 09:00-17:00)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="Login email (also the username).")
        parser.add_argument("--password", required=True)
        parser.add_argument("--timezone", required=True, help="IANA time zone, e.g. Europe/Berlin.")
        parser.add_argument("--slug", help="Public URL slug; derived from the name when omitted.")
        parser.add_argument("--name", help="Business name; defaults to the part of the email before '@'.")

    def handle(self, *args, email, password, timezone, slug, name, **options):
        try:
            merchant = merchant_create(
                email=email,
                password=password,
                name=name or email_normalize(email).split("@")[0],
                time_zone=timezone,
                slug=slug,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        summary = f"'{merchant.name}' (slug {merchant.slug}, {merchant.time_zone}) for {merchant.user.email}"
        self.stdout.write(self.style.SUCCESS(f"Created merchant {summary}."))
