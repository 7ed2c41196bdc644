"""Writes for merchant accounts: sign-up (web form) and ``create_merchant`` share one service."""

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import IntegrityError, transaction
from django.utils import timezone
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
