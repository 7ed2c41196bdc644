"""Template filters for how the web pages say things (``{% load display %}``)."""

import datetime as dt
import re

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(value: dt.datetime | None) -> str:
    """ "just now", "5 minutes ago", "2 days ago"; empty for no value."""
    if value is None:
        return ""
    if timezone.now() - value < dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, depth=1)} ago"


_TECHNICAL_PREFIX = re.compile(r"^[A-Z][A-Za-z]+: ")


@register.filter
def plain_error(text: str | None) -> str:
    """A recorded error without its exception-class prefix ("ReauthRequired: Google refused ...")."""
    return _TECHNICAL_PREFIX.sub("", text or "", count=1)
