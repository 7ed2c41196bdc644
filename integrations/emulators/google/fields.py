"""The ``fields`` partial-response selector (``items(id,status),nextPageToken``).

https://developers.google.com/calendar/api/guides/performance#partial-response
"""

from __future__ import annotations


def parse_fields(text: str) -> dict:
    spec, rest = _parse_list(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise ValueError(f"Invalid field selection {text!r}")
    return spec


def _parse_list(text: str, pos: int) -> tuple[dict, int]:
    spec: dict = {}
    while pos < len(text):
        start = pos
        while pos < len(text) and text[pos] not in ",()":
            pos += 1
        path = text[start:pos].split("/")
        if not all(path):
            raise ValueError(f"Invalid field selection {text!r}")
        leaf: dict | bool = True
        if pos < len(text) and text[pos] == "(":
            leaf, pos = _parse_list(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise ValueError(f"Invalid field selection {text!r}")
            pos += 1
        node = spec
        for name in path[:-1]:
            node = node.setdefault(name, {}) if node.get(name) is not True else node
        node[path[-1]] = leaf
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        break
    return spec, pos


def _select(value, spec):
    if spec is True:
        return value
    if isinstance(value, list):
        return [_select(item, spec) for item in value]
    if isinstance(value, dict):
        return {k: _select(v, spec[k]) for k, v in value.items() if k in spec}
    return value


def apply_fields(data: dict, text: str) -> dict:
    return _select(data, parse_fields(text))
