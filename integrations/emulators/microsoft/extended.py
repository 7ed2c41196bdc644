"""Single-value extended properties on events: ``$expand`` them into an answer and ``$filter``
event collections by them, in the forms Graph documents.

- ``$expand=singleValueExtendedProperties($filter=id eq '{id}')`` (several ids joined by
  ``or``): the answer carries ``singleValueExtendedProperties: [{id, value}]`` for the named
  properties the event has; without a match the key is left out.
- ``$filter=singleValueExtendedProperties/Any(ep: ep/id eq '{id}' and ep/value eq '{v}')``,
  also ``ne``, ``contains(ep/value, '{v}')`` and ``startswith(ep/value, '{v}')``. The
  property's name is case-sensitive, its value compares case-insensitively (as documented).

Property ids look like ``String {00020329-0000-0000-c000-000000000046} Name Color``: the
type and the GUID compare case-insensitively, the name exactly.

https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get
https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-post-singlevalueextendedproperties
https://learn.microsoft.com/en-us/graph/api/resources/extended-properties-overview
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .errors import bad_request

NAME = "singleValueExtendedProperties"
_LITERAL = r"'((?:[^']|'')*)'"
_EXPAND = re.compile(rf"^\s*{NAME}\s*\(\s*\$filter\s*=\s*(.*)\)\s*$", re.IGNORECASE | re.DOTALL)
_ID_EQ = re.compile(rf"^\s*id\s+eq\s+{_LITERAL}\s*$", re.IGNORECASE)
_ANY = re.compile(rf"^\s*{NAME}/any\(\s*(\w+)\s*:\s*(.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def _unquote(text: str) -> str:
    return text.replace("''", "'")


def normalize_id(prop_id: str) -> str:
    """``String {GUID} Name x``: type and GUID in lower case, the name as written."""
    parts = prop_id.strip().split(None, 3)
    if len(parts) == 4 and parts[2].lower() in ("name", "id"):
        return " ".join([parts[0].lower(), parts[1].lower(), parts[2].lower(), parts[3]])
    return prop_id.strip()


def expand_ids(req) -> list[str] | None:
    """The property ids asked by ``$expand``; None without one. 400 for another ``$expand``."""
    value = req.arg("$expand")
    if value is None:
        return None
    match = _EXPAND.match(value)
    if not match:
        raise bad_request(f"Parsing OData Select and Expand failed: could not expand '{value}'.", "BadRequest")
    ids = []
    for clause in re.split(r"\s+or\s+", match.group(1), flags=re.IGNORECASE):
        one = _ID_EQ.match(clause)
        if not one:
            raise bad_request("Invalid filter clause: only 'id eq' is supported here.", "BadRequest")
        ids.append(normalize_id(_unquote(one.group(1))))
    return ids


def expanded(body: dict, properties: dict[str, str], ids: list[str] | None) -> dict:
    """``body`` with the asked properties the event has (Graph leaves the key out when none match)."""
    if not ids:
        return body
    found = [{"id": pid, "value": value} for pid, value in properties.items() if normalize_id(pid) in ids]
    return {**body, NAME: found} if found else body


def _value_test(var: str, clause: str) -> Callable[[str], bool] | None:
    v = re.escape(var)
    match = re.match(rf"^\s*{v}/value\s+(eq|ne)\s+{_LITERAL}\s*$", clause, re.IGNORECASE)
    if match:
        wanted = _unquote(match.group(2)).lower()
        return (lambda x: x.lower() == wanted) if match.group(1).lower() == "eq" else (lambda x: x.lower() != wanted)
    match = re.match(rf"^\s*(contains|startswith)\(\s*{v}/value\s*,\s*{_LITERAL}\s*\)\s*$", clause, re.IGNORECASE)
    if match:
        wanted = _unquote(match.group(2)).lower()
        if match.group(1).lower() == "contains":
            return lambda x: wanted in x.lower()
        return lambda x: x.lower().startswith(wanted)
    return None


def event_filter(req) -> Callable[[dict[str, str]], bool] | None:
    """A predicate over an event's extended properties from ``$filter``; None without one."""
    value = req.arg("$filter")
    if value is None:
        return None
    match = _ANY.match(value)
    if match:
        var, body = match.group(1), match.group(2)
        parts = re.split(r"\s+and\s+", body, maxsplit=1, flags=re.IGNORECASE)
        id_match = re.match(rf"^\s*{re.escape(var)}/id\s+eq\s+{_LITERAL}\s*$", parts[0], re.IGNORECASE)
        test = _value_test(var, parts[1]) if len(parts) == 2 else None
        if id_match and test:
            wanted_id = normalize_id(_unquote(id_match.group(1)))

            def predicate(properties: dict[str, str]) -> bool:
                return any(normalize_id(pid) == wanted_id and test(val) for pid, val in properties.items())

            return predicate
    raise bad_request(f"Invalid filter clause: '{value}' is not supported by the emulator.", "BadRequest")
