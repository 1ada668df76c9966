"""The common shape of the five services (issue 13, docs/architecture.md), checked mechanically
so that it cannot decay silently. Reads the source with `ast`; imports nothing it checks.

- domain/ imports nothing from pymongo, flask, kafka, bson (nor werkzeug, flask_smorest, gunicorn),
  directly or through first-party modules, and nothing of its own service outside domain/
  (its store above all);
- api.py makes no collection calls and never imports pymongo;
- no service imports another service, and shared/ imports no service;
- the five service folders list the same .py files, and each module defines what the shape
  promises (RegistryService, MatcherService, ... in service.py; Store; handlers(); blp; ...);
- no class in a service is longer than 250 lines.
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("registry", "matcher", "scheduler", "notifier", "resources")
SHAPE = {"__init__.py", "api.py", "app.py", "config.py", "handlers.py", "schemas.py", "service.py", "stats.py",
         "store.py", "worker.py"}
NOT_IN_DOMAIN = ("pymongo", "bson", "flask", "flask_smorest", "werkzeug", "kafka", "gunicorn")
COLLECTION_CALLS = {"find", "find_one", "find_one_and_update", "find_one_and_replace", "find_one_and_delete",
                    "insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one",
                    "delete_many", "aggregate", "count_documents", "estimated_document_count", "bulk_write",
                    "distinct", "create_index", "watch"}
MAX_CLASS_LINES = 250


@lru_cache(maxsize=None)
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@lru_cache(maxsize=None)
def _module_path(name: str) -> Path | None:
    """The first-party file of a dotted module name (shared.*, services.*), else None."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@lru_cache(maxsize=None)
def imported_modules(path: Path) -> frozenset[str]:
    """Every module `path` imports (anywhere in it), as absolute dotted names; `from a import b`
    counts `a` and, when it is a module, `a.b`."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names if _module_path(f"{module}.{alias.name}"))
    return frozenset(found)


def _with_parents(module: str) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ too."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def reachable(start: Path) -> dict[str, str]:
    """Every module imported from `start`, following first-party modules: {module: who imported it}."""
    seen: dict[str, str] = {}
    queue = [(start, _module_name(start))]
    while queue:
        path, name = queue.pop()
        for module in imported_modules(path):
            for each in sorted(_with_parents(module)):
                if each in seen:
                    continue
                seen[each] = name
                first_party = _module_path(each)
                if first_party is not None and each.split(".")[0] in ("shared", "services"):
                    queue.append((first_party, each))
    return seen


def service_dir(service: str) -> Path:
    return ROOT / "services" / service


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_folder_lists_the_shape_files_and_a_domain_package(service):
    folder = service_dir(service)
    listed = {p.name for p in folder.glob("*.py")}
    assert listed == SHAPE, (f"services/{service}/ has {sorted(listed - SHAPE)} beyond the shape and lacks "
                             f"{sorted(SHAPE - listed)}; rules go in domain/, use cases in service.py")
    assert (folder / "domain" / "__init__.py").is_file(), f"services/{service}/domain/ is not a package"


@pytest.mark.parametrize("service", SERVICES)
def test_domain_imports_no_database_web_or_broker_code_nor_the_rest_of_its_service(service):
    domain = service_dir(service) / "domain"
    assert domain.is_dir(), f"services/{service}/domain/ is missing"
    own = f"services.{service}"
    allowed_own = {"services", own, f"{own}.domain"}
    problems = []
    for path in python_files(domain):
        for module, importer in reachable(path).items():
            top = module.split(".")[0]
            if top in NOT_IN_DOMAIN:
                problems.append(f"{path.relative_to(ROOT)} reaches {module} (imported by {importer})")
            elif module.startswith(own) and module not in allowed_own and not module.startswith(f"{own}.domain."):
                problems.append(f"{path.relative_to(ROOT)} imports {module} (domain/ must not use its service's "
                                "store, api or use cases)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("service", SERVICES)
def test_api_makes_no_collection_calls(service):
    path = service_dir(service) / "api.py"
    calls = [f"line {node.lineno}: .{node.func.attr}(...)" for node in ast.walk(_tree(path))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr in COLLECTION_CALLS]
    assert not calls, f"services/{service}/api.py talks to collections (use the service layer):\n" + "\n".join(calls)
    pymongo = [m for m in imported_modules(path) if m.split(".")[0] in ("pymongo", "bson")]
    assert not pymongo, f"services/{service}/api.py imports {pymongo}"


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another(service):
    others = {name for name in (p.name for p in (ROOT / "services").iterdir() if p.is_dir()) if name != service}
    found = [f"{path.relative_to(ROOT)} imports {module}" for path in python_files(service_dir(service))
             for module in imported_modules(path)
             if module.startswith("services.") and module.split(".")[1] in others]
    assert not found, "\n".join(found)


def test_shared_imports_no_service():
    found = [f"{path.relative_to(ROOT)} imports {module}" for path in python_files(ROOT / "shared")
             for module in imported_modules(path) if module.split(".")[0] == "services"]
    assert not found, "\n".join(found)


def _top_level(path: Path) -> dict[str, ast.AST]:
    return {node.name: node for node in _tree(path).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))} | {
        target.id: node for node in _tree(path).body if isinstance(node, ast.Assign)
        for target in node.targets if isinstance(target, ast.Name)}


@pytest.mark.parametrize("service", SERVICES)
def test_each_module_defines_what_the_shape_promises(service):
    folder = service_dir(service)
    name = service.capitalize()
    promised = {"service.py": f"{name}Service", "config.py": f"{name}Config", "store.py": "Store",
                "handlers.py": "handlers", "api.py": "blp", "stats.py": "stats", "worker.py": "build_worker",
                "app.py": "create_app"}
    missing = [f"{module} defines no {symbol}" for module, symbol in promised.items()
               if not (folder / module).is_file() or symbol not in _top_level(folder / module)]
    assert not missing, f"services/{service}: " + "; ".join(missing)
    store = _top_level(folder / "store.py")["Store"]
    assert any(isinstance(f, ast.FunctionDef) and f.name == "ensure_indexes" for f in store.body), \
        f"services/{service}/store.py: Store has no ensure_indexes()"
    factory_calls = [node for node in ast.walk(_tree(folder / "app.py")) if isinstance(node, ast.Call)
                     and getattr(node.func, "id", getattr(node.func, "attr", None)) == "create_service_app"]
    assert factory_calls and all(any(k.arg == "use_cases" for k in call.keywords) for call in factory_calls), \
        f"services/{service}/app.py must hand its {name}Service to create_service_app(use_cases=...)"


@pytest.mark.parametrize("service", SERVICES)
def test_no_class_is_longer_than_250_lines(service):
    long = [f"{path.relative_to(ROOT)}: {node.name} has {node.end_lineno - node.lineno + 1} lines"
            for path in python_files(service_dir(service)) for node in ast.walk(_tree(path))
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES]
    assert not long, "\n".join(long)
