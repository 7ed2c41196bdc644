"""axe-core run inside Chromium: zero serious or critical violations per page (WCAG 2.x A/AA rules).

axe-core is the npm package pinned in ``tests/browser/package.json`` (``npm ci --prefix
tests/browser``, done by ``.ci/test`` and ``.ci/run``); its script is injected into the page and
``axe.run`` checks the whole document as the browser rendered it.
https://github.com/dequelabs/axe-core/blob/develop/doc/API.md
"""

from __future__ import annotations

from pathlib import Path

AXE_JS = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
MISSING = "axe-core is missing: run `npm ci --prefix tests/browser` (.ci/test does it)."
BLOCKING = ("serious", "critical")

_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").split("\\n")[1]),
  }));
}"""


def axe_violations(page) -> list[dict]:
    """Serious and critical violations on the page as it is now."""
    if not AXE_JS.exists():
        raise AssertionError(MISSING)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not as a <script>: a Content-Security-Policy
        # that forbids inline scripts does not stop it.
        page.evaluate(AXE_JS.read_text() + "\n;undefined")
    return [v for v in page.evaluate(_RUN) if v["impact"] in BLOCKING]


def assert_accessible(page, label: str = "") -> None:
    violations = axe_violations(page)
    assert violations == [], (label or page.url, violations)
