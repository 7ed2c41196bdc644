"""Writes for merchant accounts: sign-up (web form) and ``create_merchant`` share one service."""

import datetime as dt
import itertools
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email, validate_slug
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.text import slugify
from knox.models import AuthToken

from config.api import ApplicationError
from merchants.models import BusinessHours, Merchant, validate_time_zone

# (weekday, start, end) in the merchant's local time: Monday-Friday 09:00-17:00.
DEFAULT_BUSINESS_HOURS: tuple[tuple[int, dt.time, dt.time], ...] = tuple(
    (weekday, dt.time(9), dt.time(17)) for weekday in range(5)
)
SLUG_MAX_LENGTH = Merchant._meta.get_field("slug").max_length


def email_normalize(email: str) -> str:
    """Emails are usernames; compare them case-insensitively by storing them lower-cased."""
    return email.strip().lower()


def _first_error(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _slug_available(slug: str) -> bool:
    return not Merchant.objects.filter(slug=slug).exists()


def merchant_slug_for(name: str) -> str:
    """A free slug derived from ``name``: ``anna-s-salon``, then ``anna-s-salon-2``, ..."""
    base = slugify(name)[: SLUG_MAX_LENGTH - 6].strip("-") or "merchant"
    candidate, n = base, 1
    while not _slug_available(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def merchant_create(
    *,
    email: str,
    password: str,
    name: str,
    time_zone: str,
    slug: str | None = None,
    business_hours: Iterable[tuple[int, dt.time, dt.time]] = DEFAULT_BUSINESS_HOURS,
) -> Merchant:
    """Create the login user (username = email) and its merchant with business hours.

    Raises :class:`ApplicationError` (400 ``invalid``, 409 ``duplicate``) with a message
    fit for a form or a command line.
    """
    email = email_normalize(email)
    name = name.strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ApplicationError(f"Email: {_first_error(exc)}", code="invalid") from exc
    if not name:
        raise ApplicationError("Business name: this field is required.", code="invalid")
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        raise ApplicationError(f"Time zone: {_first_error(exc)}", code="invalid") from exc
    if slug is not None:
        try:
            validate_slug(slug)
        except ValidationError as exc:
            raise ApplicationError(f"Slug: {_first_error(exc)}", code="invalid") from exc
        if len(slug) > SLUG_MAX_LENGTH:
            raise ApplicationError(f"Slug: at most {SLUG_MAX_LENGTH} characters.", code="invalid")

    User = get_user_model()
    user = User(username=email, email=email)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(f"Password: {_first_error(exc)}", code="invalid") from exc
    if User.objects.filter(username=email).exists():
        raise ApplicationError(f"An account for {email} already exists.", code="duplicate", status_code=409)
    if slug is not None and not _slug_available(slug):
        raise ApplicationError(f"The slug '{slug}' is taken.", code="duplicate", status_code=409)

    try:
        with transaction.atomic():
            user.set_password(password)
            user.save()
            merchant = Merchant.objects.create(
                user=user, name=name, time_zone=time_zone, slug=slug or merchant_slug_for(name)
            )
            BusinessHours.objects.bulk_create(
                BusinessHours(merchant=merchant, weekday=weekday, start=start, end=end)
                for weekday, start, end in business_hours
            )
    except IntegrityError as exc:
        # Lost a race with a concurrent sign-up for the same email or slug.
        raise ApplicationError(
            "That email or slug was just taken; please try again.", code="duplicate", status_code=409
        ) from exc
    return merchant


def api_token_create(*, user) -> tuple:
    """A new API token for one device: ``(AuthToken row, the key)``; the key is shown once, only
    its digest is stored. The user's expired tokens are deleted on the way."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user)


def api_token_revoke(*, token) -> None:
    """Revoke one API token (the ``request.auth`` of a knox-authenticated request)."""
    token.delete()


# Sign-up in two steps, so that the page never tells whether an email has an account (SPEC §12):
# the form takes email, business name and time zone and always answers "check your inbox";
# the inbox gets a link to choose a password (a new address) or a note that an account exists
# (a known one). The account is created only from the link, by whoever reads that inbox.
SIGNUP_SALT = "merchants.signup"
SIGNUP_LINK_MAX_AGE = dt.timedelta(days=1)
# One sign-up email per address per this long: the form cannot be used to flood an inbox.
SIGNUP_EMAIL_INTERVAL = dt.timedelta(minutes=10)


def _absolute(path: str) -> str:
    # PUBLIC_BASE_URL, never the request's Host header: a forged Host must not put an
    # attacker's site into the link (the "password reset poisoning" of sign-up links).
    return settings.PUBLIC_BASE_URL + path


def signup_request(*, email: str, name: str, time_zone: str) -> None:
    """Email ``email`` a link to finish the sign-up, or, when it has an account, a note saying so.

    The caller answers the same either way. At most one email per address per
    ``SIGNUP_EMAIL_INTERVAL``; later requests send nothing (and answer the same).
    """
    email = email_normalize(email)
    throttle_key = "signup-email:" + salted_hmac(SIGNUP_SALT, email).hexdigest()
    if not cache.add(throttle_key, 1, timeout=int(SIGNUP_EMAIL_INTERVAL.total_seconds())):
        return
    if get_user_model().objects.filter(username=email).exists():
        subject = "You already have an account"
        body = (
            "Someone, perhaps you, asked to create a Merchant calendar account with this email address.\n\n"
            "You already have one. Log in here:\n"
            f"{_absolute(reverse('login'))}\n\n"
            "If it was not you, you can ignore this email: nothing has changed."
        )
    else:
        token = signing.dumps({"email": email, "name": name, "time_zone": time_zone}, salt=SIGNUP_SALT, compress=True)
        link = _absolute(reverse("signup-confirm")) + "?token=" + token
        subject = "Finish creating your booking calendar"
        body = (
            f"To create the booking calendar for {name}, choose your password here (valid for 24 hours):\n"
            f"{link}\n\n"
            "If you did not ask for this, ignore this email: no account is created."
        )
    send_mail(subject, body, None, [email])


def signup_link_read(token: str) -> dict:
    """The sign-up a link carries (``email``, ``name``, ``time_zone``); ApplicationError when it is
    tampered with, expired, or its email has an account by now (a link is good once)."""
    try:
        data = signing.loads(token, salt=SIGNUP_SALT, max_age=SIGNUP_LINK_MAX_AGE)
    except signing.BadSignature as exc:
        raise ApplicationError(
            "This link is invalid or has expired. Please sign up again.", code="invalid_link"
        ) from exc
    if get_user_model().objects.filter(username=data["email"]).exists():
        raise ApplicationError("This link has been used: the account exists. Please log in.", code="invalid_link")
    return data


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def business_hours_problems(intervals: Iterable[tuple[int, dt.time, dt.time]]) -> list[str]:
    """What is wrong with a week of opening intervals, in words (empty: fine).

    Any day may have several intervals; each must end after it starts (an interval ends the same
    day, at 23:59 at the latest) and no two of one day may overlap (touching is fine)."""
    problems = []
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, start, end in intervals:
        if not 0 <= weekday <= 6:
            problems.append(f"Weekday {weekday}: use 0 (Monday) to 6 (Sunday).")
            continue
        if end <= start:
            problems.append(f"{WEEKDAY_NAMES[weekday]} {start:%H:%M}-{end:%H:%M}: the end must be after the start.")
            continue
        by_day.setdefault(weekday, []).append((start, end))
    for weekday, spans in sorted(by_day.items()):
        spans.sort()
        for (start_a, end_a), (start_b, end_b) in itertools.pairwise(spans):
            if start_b < end_a:
                day = WEEKDAY_NAMES[weekday]
                problems.append(f"{day}: {start_a:%H:%M}-{end_a:%H:%M} and {start_b:%H:%M}-{end_b:%H:%M} overlap.")
    return problems


def _changed(merchant: Merchant) -> None:
    from scheduling.services import merchant_changed

    transaction.on_commit(lambda: merchant_changed(merchant.pk), robust=True)


@transaction.atomic
def business_hours_replace(*, merchant: Merchant, intervals: Iterable[tuple[int, dt.time, dt.time]]) -> None:
    """Replace the merchant's whole week of business hours; invalid input changes nothing (400)."""
    intervals = list(intervals)
    problems = business_hours_problems(intervals)
    if problems:
        raise ApplicationError(" ".join(problems), code="invalid")
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    merchant.business_hours.all().delete()
    BusinessHours.objects.bulk_create(
        BusinessHours(merchant=merchant, weekday=weekday, start=start, end=end) for weekday, start, end in intervals
    )
    merchant.business_hours_set_at = timezone.now()
    merchant.save(update_fields=["business_hours_set_at"])
    _changed(merchant)


RULE_LIMITS = {
    "buffer_minutes": (0, 240),
    "minimum_notice_minutes": (0, 60 * 24 * 30),
    "max_days_ahead": (1, 730),
}


@transaction.atomic
def booking_rules_update(
    *,
    merchant: Merchant,
    slot_lengths: list[int] | None = None,
    buffer_minutes: int | None = None,
    minimum_notice_minutes: int | None = None,
    max_days_ahead: int | None = None,
) -> Merchant:
    """Change the booking rules (only the ones given); 400 with a message when one is out of range."""
    changes: dict = {}
    if slot_lengths is not None:
        lengths = sorted(set(slot_lengths))
        if not lengths or any(not 5 <= m <= 24 * 60 for m in lengths):
            raise ApplicationError("Slot lengths: give at least one, each 5 to 1440 minutes.", code="invalid")
        changes["slot_lengths"] = lengths
    for name, value in (
        ("buffer_minutes", buffer_minutes),
        ("minimum_notice_minutes", minimum_notice_minutes),
        ("max_days_ahead", max_days_ahead),
    ):
        if value is None:
            continue
        low, high = RULE_LIMITS[name]
        if not low <= value <= high:
            raise ApplicationError(f"{name}: between {low} and {high}.", code="invalid")
        changes[name] = value
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    for name, value in changes.items():
        setattr(merchant, name, value)
    if changes:
        merchant.save(update_fields=list(changes))
        _changed(merchant)
    return merchant


@transaction.atomic
def merchant_profile_update(*, merchant: Merchant, name: str, time_zone: str) -> Merchant:
    name = name.strip()
    if not name:
        raise ApplicationError("Business name: this field is required.", code="invalid")
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        raise ApplicationError(f"Time zone: {_first_error(exc)}", code="invalid") from exc
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    merchant.name, merchant.time_zone = name, time_zone
    merchant.save(update_fields=["name", "time_zone"])
    _changed(merchant)
    return merchant


def merchant_checklist_dismiss(*, merchant: Merchant) -> None:
    Merchant.objects.filter(pk=merchant.pk).update(checklist_dismissed=True)
