"""The sync core stays provider-neutral: no Google (or any provider) import in integrations/sync."""

import ast
from pathlib import Path

import integrations.sync

SYNC_DIR = Path(integrations.sync.__file__).parent
FORBIDDEN = ("google", "googleapiclient", "google_auth_oauthlib", "httplib2", "integrations.providers.google")


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_no_module_of_the_sync_core_imports_provider_code():
    files = sorted(SYNC_DIR.glob("*.py"))
    assert {f.name for f in files} >= {"rules.py", "store.py", "engine.py", "locks.py"}
    for path in files:
        for module in imported_modules(path):
            assert not module.startswith(FORBIDDEN), f"{path.name} imports {module}"
            if module.startswith("integrations.providers"):
                assert module == "integrations.providers.base", f"{path.name} imports {module}"
