"""The matcher keeps the common shape (issue 13): pure domain/, routes without collection calls."""
import ast
import re
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[3] / "services" / "matcher"
SHAPE = {"domain", "service.py", "store.py", "handlers.py", "api.py", "worker.py", "schemas.py", "config.py",
         "stats.py", "app.py", "__init__.py"}


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return names


def test_the_service_folder_has_the_common_files():
    assert {p.name for p in SERVICE.iterdir() if p.name != "__pycache__"} == SHAPE


def test_domain_imports_no_database_web_or_bus():
    for path in (SERVICE / "domain").glob("*.py"):
        for name in imports(path):
            root = name.split(".")[0]
            assert root not in ("pymongo", "bson", "flask", "flask_smorest", "kafka", "werkzeug"), (path, name)
            assert not name.startswith(("services.matcher.store", "services.matcher.service", "shared.mongo",
                                        "shared.auth", "shared.web", "shared.bus")), (path, name)


def test_routes_make_no_collection_calls():
    text = (SERVICE / "api.py").read_text(encoding="utf-8")
    assert not re.search(r"\.(find|find_one|insert_\w+|update_\w+|delete_\w+|aggregate|count_documents)\(", text)


def test_no_class_is_over_250_lines():
    for path in SERVICE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno - node.lineno < 250, (path, node.name)
