"""The counts behind ``docs/RELIABILITY.md``: what the reliability suite sent, injected and checked.

Tests call :func:`count` as they go; the session's terminal summary prints the totals and,
when ``RELIABILITY_FIGURES`` names a file, writes them there as JSON, so the figures in the
document are copied from a real run rather than estimated.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

FIGURES: Counter[str] = Counter()


def count(name: str, n: int = 1) -> None:
    FIGURES[name] += n


def report_lines() -> list[str]:
    return [f"{name}: {FIGURES[name]}" for name in sorted(FIGURES)]


def write(path: str | None = None) -> Path | None:
    path = path or os.environ.get("RELIABILITY_FIGURES")
    if not path or not FIGURES:
        return None
    target = Path(path)
    target.write_text(json.dumps(dict(sorted(FIGURES.items())), indent=2) + "\n")
    return target
