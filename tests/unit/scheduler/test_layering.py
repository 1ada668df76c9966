"""The scheduler keeps the common shape (issue 13), checked mechanically so it cannot decay:
domain/ is pure, api.py makes no collection calls, no class in service.py grows past 250 lines,
and nothing imports another service."""
import ast
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[3] / "services" / "scheduler"
FORBIDDEN_IN_DOMAIN = ("pymongo", "flask", "flask_smorest", "kafka", "bson", "services.scheduler.store",
                       "services.scheduler.service", "services.scheduler.api", "shared.mongo", "shared.bus",
                       "shared.outbox", "shared.inbox", "shared.auth", "shared.web")
COLLECTION_CALLS = {"find", "find_one", "find_one_and_update", "insert_one", "insert_many", "update_one",
                    "update_many", "replace_one", "delete_one", "delete_many", "aggregate", "count_documents",
                    "bulk_write"}
SHAPE = {"__init__.py", "api.py", "app.py", "config.py", "handlers.py", "schemas.py", "service.py", "stats.py",
         "store.py", "worker.py"}


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_folder_has_the_common_shape():
    assert {p.name for p in SERVICE.glob("*.py")} == SHAPE
    assert (SERVICE / "domain" / "__init__.py").exists()


def test_domain_imports_no_database_web_or_broker_code():
    for path in (SERVICE / "domain").glob("*.py"):
        for name in imports(path):
            assert not any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_IN_DOMAIN), (path.name, name)


def test_the_routes_make_no_collection_calls():
    tree = ast.parse((SERVICE / "api.py").read_text(encoding="utf-8"))
    calls = {node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not calls & COLLECTION_CALLS
    assert "services.scheduler.store" not in imports(SERVICE / "api.py")


def test_no_use_case_class_is_over_250_lines():
    tree = ast.parse((SERVICE / "service.py").read_text(encoding="utf-8"))
    sizes = {node.name: node.end_lineno - node.lineno + 1 for node in tree.body if isinstance(node, ast.ClassDef)}
    assert sizes and max(sizes.values()) < 250, sizes


def test_no_other_service_is_imported():
    for path in SERVICE.rglob("*.py"):
        for name in imports(path):
            if name.startswith("services."):
                assert name.startswith("services.scheduler"), (path, name)
