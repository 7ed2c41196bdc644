"""Scope names: Graph's short and resource-qualified forms, and the identity scopes."""

from __future__ import annotations

GRAPH_RESOURCE = "https://graph.microsoft.com/"
IDENTITY_SCOPES = ("openid", "profile", "email", "offline_access")
GRAPH_SCOPES = {
    "User.Read",
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite",
    "Calendars.Read",
    "Calendars.ReadBasic",
    "Calendars.ReadWrite",
    "Calendars.Read.Shared",
    "Calendars.ReadWrite.Shared",
    "Mail.Read",
    "Contacts.Read",
}
_CANONICAL = {scope.lower(): scope for scope in GRAPH_SCOPES}
USER_READ = {"User.Read", "User.ReadWrite", "User.Read.All"}
CALENDAR_READ = {"Calendars.Read", "Calendars.ReadWrite", "Calendars.ReadBasic"}
CALENDAR_READ_FULL = {"Calendars.Read", "Calendars.ReadWrite"}
CALENDAR_WRITE = {"Calendars.ReadWrite"}  # creating calendars, writing events


class ScopeError(ValueError):
    pass


def parse(text: str) -> tuple[list[str], list[str]]:
    """(Graph scopes in short form, identity scopes) of a space-separated scope parameter."""
    graph: list[str] = []
    identity: list[str] = []
    for raw in (text or "").split():
        lowered = raw.lower()
        if lowered in IDENTITY_SCOPES:
            if lowered not in identity:
                identity.append(lowered)
            continue
        if lowered.startswith(GRAPH_RESOURCE):
            lowered = lowered[len(GRAPH_RESOURCE) :]
        if lowered == ".default":
            if len(text.split()) > 1 and any(s.lower() not in IDENTITY_SCOPES for s in text.split() if s != raw):
                raise ScopeError(".default cannot be combined with other resource scopes")
            graph.extend(s for s in ("User.Read", "Calendars.Read") if s not in graph)
            continue
        if lowered not in _CANONICAL:
            raise ScopeError(f"unknown scope {raw!r}")
        if _CANONICAL[lowered] not in graph:
            graph.append(_CANONICAL[lowered])
    return graph, identity


def render(graph, identity, *, qualified: bool = False) -> str:
    names = [(GRAPH_RESOURCE + s) if qualified else s for s in graph]
    return " ".join([*names, *[s for s in ("openid", "profile", "email") if s in identity]])
