"""Template context for every merchant page: open connection incidents (the banner, SPEC §9)."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.providers import provider_for
from integrations.services.incidents import open_incidents


@dataclass(frozen=True)
class Banner:
    kind: str
    provider: str
    provider_name: str
    account: str


def incidents(request) -> dict:
    user = getattr(request, "user", None)
    merchant = getattr(user, "merchant", None) if user is not None and user.is_authenticated else None
    if merchant is None:
        return {}
    banners = [
        Banner(
            kind=incident.kind,
            provider=incident.connection.provider,
            provider_name=provider_for(incident.connection.provider).name,
            account=incident.connection.account_email,
        )
        for incident in open_incidents(merchant=merchant)
    ]
    return {"connection_incidents": banners}
