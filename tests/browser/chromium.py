"""Debian's Chromium for Playwright (its own browser download is not used): where it is, how to start it."""

from __future__ import annotations

import os
import shutil

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING = (
    "Chromium is needed for the browser tests: install Debian's package (apt-get install chromium; "
    ".ci/run does it) or set CHROMIUM_PATH."
)


def executable() -> str | None:
    """``CHROMIUM_PATH``, else ``chromium`` or ``chromium-browser`` on the PATH; None when there is none."""
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    return path if path and os.path.exists(path) else None


def launch(playwright):
    path = executable()
    if path is None:
        raise RuntimeError(MISSING)
    return playwright.chromium.launch(executable_path=path, args=ARGS, headless=True)
