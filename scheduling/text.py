"""Plain-text checks for what customers type (SPEC §12).

A customer's name reaches the merchant's week view, emails (headers too), calendar
invitations and logs, so it may hold no control or format characters: CR/LF (header
injection), ESC (terminal escapes), bidirectional overrides such as U+202E (spoofed text),
zero-width characters, separators and unassigned or private-use code points.
https://www.unicode.org/reports/tr44/#General_Category_Values
"""

from __future__ import annotations

import unicodedata

REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
MESSAGE = "Use letters, digits, spaces and punctuation only (no control, formatting or invisible characters)."


def plain_text_problem(value: str) -> str | None:
    """None when ``value`` is plain text, else the message to show."""
    if any(unicodedata.category(char) in REFUSED_CATEGORIES for char in value):
        return MESSAGE
    return None
