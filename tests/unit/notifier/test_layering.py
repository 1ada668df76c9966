"""The notifier keeps the common shape (issue 13): pure rules in domain/, routes that make no
collection calls, no import of another service, no class over 250 lines."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3] / "services" / "notifier"
FORBIDDEN_IN_DOMAIN = ("pymongo", "bson", "flask", "flask_smorest", "kafka", "shared.auth", "shared.mongo",
                       "shared.bus", "shared.inbox", "shared.outbox", "shared.web", "services.notifier.store",
                       "services.notifier.service")
COLLECTION_CALLS = {"find", "find_one", "insert_one", "insert_many", "update_one", "update_many", "replace_one",
                    "delete_one", "delete_many", "aggregate", "count_documents", "bulk_write", "distinct"}
SHAPE = {"domain", "service.py", "store.py", "handlers.py", "api.py", "worker.py", "schemas.py", "config.py",
         "stats.py", "app.py"}


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "domain").glob("*.py")), ids=lambda p: p.name)
def test_domain_modules_import_no_adapter(path):
    found = {name for name in imports(path) for banned in FORBIDDEN_IN_DOMAIN
             if name == banned or name.startswith(banned + ".")}
    assert not found, f"{path.name} imports {sorted(found)}"


def test_messages_stay_free_of_flask_even_through_shared_modules():
    import subprocess
    import sys

    probe = ("import sys, services.notifier.domain.messages, services.notifier.domain.compose; "
             "print(','.join(m for m in ('flask', 'pymongo', 'kafka') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=ROOT.parents[1]).stdout.strip()
    assert loaded == ""


def test_routes_make_no_collection_calls():
    tree = ast.parse((ROOT / "api.py").read_text())
    calls = {node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not calls & COLLECTION_CALLS


def test_the_notifier_imports_no_other_service():
    for path in ROOT.rglob("*.py"):
        others = {name for name in imports(path) if name.startswith("services.") and
                  not name.startswith("services.notifier")}
        assert not others, f"{path} imports {sorted(others)}"


def test_the_folder_has_the_common_shape_and_no_class_over_250_lines():
    assert SHAPE <= {p.name for p in ROOT.iterdir()}
    for path in ROOT.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno - node.lineno + 1 <= 250, f"{path.name}: {node.name}"
