"""The layers of src/: every import (module level, function level, importlib) goes down, never up or around.

Layers, lowest first (README "Architecture"):

    core      localize (package), errors, model, locales, config, templating
    storage   localize.storage
    engine    localize.engine
    catalogs  localize.catalogs
    domain    localize.partners | localize.regions   (peers: neither imports the other)
    views     localize.views
    app       localize.app
    cli       localize.cli
    dev       localize_dev (development helpers; nothing in localize imports it)
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

LAYERS: dict[str, int] = {
    "localize": 0,
    "localize.errors": 0,
    "localize.model": 0,
    "localize.locales": 0,
    "localize.config": 0,
    "localize.ids": 0,
    "localize.templating": 0,
    "localize.storage": 1,
    "localize.engine": 2,
    "localize.catalogs": 3,
    "localize.partners": 4,
    "localize.regions": 4,
    "localize.views": 5,
    "localize.app": 6,
    "localize.cli": 7,
    "localize_dev": 8,
}

# Lazy imports allowed by name: (importing module, imported module, why).
ALLOWED_LAZY = {
    ("localize.storage.locations", "localize.storage.s3"): "boto3 loads only when an s3:// location is opened",
    ("localize.cli.common", "localize.config"): "pydantic loads only when a command reads a configuration",
    ("localize.cli.run", "flows.cli"): "`localize run` is the one way from the library into flows/ (Prefect)",
    ("localize.app.pages", "localize.engine.build"): "`localize extract`, a process per course, loads no build",
    ("localize.app.pages", "localize.app.output"): "the staging of an output folder loads only for a build",
    ("localize.storage.courses", "localize.storage.sites"): "the crawler loads only for a live site",
    ("localize.storage.sites", "localize.storage.paced"): "httpx loads only when a live site is crawled",
    ("localize.regions.remote", "localize.storage.paced"): "httpx loads only for a region pulled over https",
}
# Within the core layer the order matters too (config reads locales, which reads errors).
CORE_ORDER = [
    "localize",
    "localize.errors",
    "localize.ids",
    "localize.model",
    "localize.locales",
    "localize.config",
    "localize.templating",
]


def _module_name(path: Path) -> str:
    base = SRC if path.is_relative_to(SRC) else SRC.parent
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package(module: str) -> str:
    """The layer key of a module: its core module or its first sub-package."""
    if module in LAYERS:
        return module
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYERS and (n > 1 or parts[0] == "localize_dev"):
            return ".".join(parts[:n])
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at function level) for every import, importlib.import_module("...") included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int, bool]] = []
    module = _module_name(path)

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, inner) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = module.split(".")[: -child.level] if path.name != "__init__.py" else module.split(".")
                    target = ".".join([*base, child.module] if child.module else base)
                else:
                    target = child.module or ""
                found.append((target, child.lineno, inner))
                # `from localize.x import submodule`
                for a in child.names:
                    candidate = f"{target}.{a.name}"
                    if (SRC / Path(*candidate.split("."))).with_suffix(".py").exists() or (
                        SRC / Path(*candidate.split("."))
                    ).is_dir():
                        found.append((candidate, child.lineno, inner))
            elif (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr == "import_module"
                and child.args
                and isinstance(child.args[0], ast.Constant)
                and isinstance(child.args[0].value, str)
            ):
                found.append((child.args[0].value, child.lineno, True))
            visit(child, inner)

    visit(tree, False)
    return found


def _graph() -> dict[str, list[tuple[str, int, bool]]]:
    graph: dict[str, list[tuple[str, int, bool]]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if "samples" in path.parts:
            continue
        graph[_module_name(path)] = _imports(path)
    return graph


GRAPH = _graph()
OURS = set(GRAPH)


def _rank(module: str) -> tuple[int, int]:
    key = _package(module)
    return LAYERS[key], CORE_ORDER.index(key) if key in CORE_ORDER else 0


def test_every_module_has_a_layer_and_packages_say_what_they_own() -> None:
    for module in GRAPH:
        _package(module)
    for init in [*list((SRC / "localize").glob("*/__init__.py")), SRC / "localize_dev" / "__init__.py"]:
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{init}: the package docstring says what it owns and what it may import"


def test_no_import_goes_up_a_layer_or_across_peers() -> None:
    wrong = []
    for module, imports in GRAPH.items():
        for target, line, _nested in imports:
            if target.startswith("flows"):
                if (module, target) not in ALLOWED_LAZY:
                    wrong.append(f"{module}:{line} imports {target} (the library never imports flows/)")
                continue
            if target not in OURS:
                continue
            a, b = _package(module), _package(target)
            if a == b:
                continue
            if _rank(target) > _rank(module) or (LAYERS[a] == LAYERS[b] and a not in CORE_ORDER):
                wrong.append(f"{module}:{line} imports {target} ({a} may not import {b})")
    assert not wrong, "\n".join(wrong)


def test_function_level_imports_of_our_modules_only_where_allowed_by_name() -> None:
    lazy = [
        f"{module}: {target}"
        for module, imports in GRAPH.items()
        for target, _line, nested in imports
        if nested
        and (target in OURS or target.startswith("flows"))
        and (module, target) not in ALLOWED_LAZY
        and (module, target.rsplit(".", 1)[0]) not in ALLOWED_LAZY
    ]
    assert not lazy, "import these at module level (or allow them by name with a reason):\n" + "\n".join(lazy)


def test_no_import_cycle_between_modules() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, imports in GRAPH.items():
        for target, _line, _nested in imports:
            if target in OURS and target != module and not module.startswith(target + "."):
                edges[module].add(target)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


def test_the_architecture_test_sees_function_level_and_importlib_imports(tmp_path: Path) -> None:
    sample = SRC / "localize" / "cli" / "run.py"
    found = {(t, nested) for t, _l, nested in _imports(sample)}
    assert ("flows.cli", True) in found


def test_modules_stay_readable() -> None:
    """No module over about 400 lines unless its docstring says why it is one cohesive thing."""
    long = []
    for path in sorted((SRC / "localize").rglob("*.py")):
        if "samples" in path.parts:
            continue
        n = len(path.read_text(encoding="utf-8").splitlines())
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if n > 420 and "cohesive" not in doc:
            long.append(f"{path.relative_to(SRC)}: {n} lines")
    assert not long, "\n".join(long)


def test_runtime_dependencies_are_what_the_runtime_imports() -> None:
    import tomllib

    project = tomllib.loads((SRC.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {
        d.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip().lower() for d in project["dependencies"]
    }
    dist_of = {"yaml": "pyyaml", "bs4": "beautifulsoup4", "botocore": "boto3"}
    imported: set[str] = set()
    for path in list((SRC / "localize").rglob("*.py")) + list((SRC.parent / "flows").glob("*.py")):
        for target, _l, _n in _imports(path):
            top = target.split(".")[0]
            if top and top not in ("localize", "flows", "localize_dev") and not _stdlib(top):
                imported.add(dist_of.get(top, top).lower())
    assert imported == declared, (
        f"imported but not declared: {imported - declared}; declared, not imported: {declared - imported}"
    )


def _stdlib(name: str) -> bool:
    import sys

    return name in sys.stdlib_module_names or name == "__future__"
