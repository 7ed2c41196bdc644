"""The create_merchant management command."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from merchants.models import Merchant

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_merchant_with_defaults():
    output = run(
        "create_merchant",
        "--email",
        "Bob@Example.com",
        "--password",
        "bobs-long-password",
        "--timezone",
        "America/New_York",
    )

    merchant = Merchant.objects.get()
    assert merchant.user.username == "bob@example.com"
    assert merchant.user.check_password("bobs-long-password")
    assert merchant.name == "bob"
    assert merchant.slug == "bob"
    assert merchant.time_zone == "America/New_York"
    assert [(h.weekday, h.start, h.end) for h in merchant.business_hours.all()] == [
        (d, dt.time(9), dt.time(17)) for d in range(5)
    ]
    assert "bob@example.com" in output


def test_create_merchant_with_slug_and_name():
    run(
        "create_merchant",
        "--email", "c@example.com", "--password", "cs-long-password", "--timezone", "Europe/Berlin",
        "--slug", "chez-claire", "--name", "Chez Claire",
    )  # fmt: skip

    merchant = Merchant.objects.get()
    assert (merchant.slug, merchant.name) == ("chez-claire", "Chez Claire")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timezone", "Berlin"], "IANA time zone"),
        (["--email", "not-an-email"], "Email"),
        (["--password", "short"], "Password"),
        (["--slug", "no spaces allowed"], "Slug"),
        (["--email", "TAKEN@example.com"], "already exists"),
        (["--slug", "taken"], "taken"),
    ],
)
def test_create_merchant_refuses_bad_input(args, message):
    run(
        "create_merchant",
        "--email",
        "taken@example.com",
        "--password",
        "a-long-password",
        "--timezone",
        "UTC",
        "--slug",
        "taken",
    )
    base = {"--email": "new@example.com", "--password": "another-long-password", "--timezone": "UTC"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))

    with pytest.raises(CommandError, match=message):
        run("create_merchant", *[item for pair in base.items() for item in pair])

    assert Merchant.objects.count() == 1


def test_create_merchant_requires_its_arguments():
    with pytest.raises(CommandError):
        run("create_merchant", "--email", "x@example.com")
