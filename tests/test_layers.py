"""The architecture as a test: packages import only sideways or down the layers of README's
drawing, only `engine/` imports SpiffWorkflow, only the entry points import the wiring, and no
function imports inside its body (but the command line, which keeps `token` fast)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import xinedai_workflow

PACKAGE = Path(xinedai_workflow.__file__).parent

# top to bottom; a package may import from its own layer and the ones below it
LAYERS: list[tuple[str, frozenset[str]]] = [
    ("entry points", frozenset({"app", "cli", "bootstrap", "__main__"})),
    ("simulation", frozenset({"simulation"})),  # runs whole service graphs on scratch databases
    ("worker", frozenset({"worker"})),
    (
        "features",
        frozenset(
            {
                "events",
                "tasks",
                "cases",
                "compliance",
                "reports",
                "migration",
                "batches",
                "agencies",
                "complaints",
                "bureau",
                "incidents",
                "studio",
                "web",
            }
        ),
    ),
    ("case step", frozenset({"runtime"})),
    ("records", frozenset({"definitions", "history"})),
    ("web plumbing", frozenset({"api", "auth"})),
    ("adapters", frozenset({"engine", "db", "channels", "documents"})),
    ("foundation", frozenset({"domain", "errors", "ids", "clock", "settings", "__init__"})),
]
# (importing package, imported package): the upward imports we accept, each with its reason
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}
WIRING = "bootstrap"


def layer_of(package: str) -> int:
    for index, (_name, members) in enumerate(LAYERS):
        if package in members:
            return index
    raise AssertionError(f"package {package!r} is in no layer of tests/test_layers.py (add it)")


def modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def top_package(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of the import nodes under `if TYPE_CHECKING:` (annotations only, never run)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            ids.update(id(inner) for inner in ast.walk(node))
    return ids


def imported_packages(path: Path, tree: ast.Module) -> Iterator[tuple[str, int]]:
    """(top-level package of ours, line) for every import of the module that runs."""
    here = list(path.relative_to(PACKAGE).parts[:-1])
    skip = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
            target = base + (node.module.split(".") if node.module else [node.names[0].name])
            yield target[0].removesuffix(".py"), node.lineno
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for name in names:
                if name.startswith("xinedai_workflow."):
                    yield name.split(".")[1], node.lineno


def test_imports_run_only_sideways_or_down_the_layers() -> None:
    upward = []
    for path, tree in modules():
        source = top_package(path)
        for target, line in imported_packages(path, tree):
            if target == source or target == "__version__":
                continue
            if layer_of(target) < layer_of(source) and (source, target) not in ALLOWED_UPWARD:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {target} (a higher layer)")
    assert upward == []


def test_only_the_entry_points_import_the_wiring() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path, tree in modules()
        if top_package(path) not in LAYERS[0][1]
        for target, line in imported_packages(path, tree)
        if target == WIRING
    ]
    assert offenders == []


def test_only_the_engine_imports_spiffworkflow() -> None:
    offenders = []
    for path, tree in modules():
        if top_package(path) == "engine":
            continue
        for node in ast.walk(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [
                f"{path.relative_to(PACKAGE)}:{node.lineno}" for n in names if n.startswith("Spiff")
            ]
    assert offenders == []


def test_no_function_level_imports_outside_the_command_line() -> None:
    offenders = []
    for path, tree in modules():
        if path.name == "cli.py" and path.parent == PACKAGE:
            continue
        for func in ast.walk(tree):
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                offenders += [
                    f"{path.relative_to(PACKAGE)}:{node.lineno}"
                    for node in ast.walk(func)
                    if isinstance(node, ast.Import | ast.ImportFrom)
                ]
    assert offenders == []


def test_every_package_has_a_layer() -> None:
    packages = {top_package(path) for path, _tree in modules()}
    for package in packages:
        layer_of(package)
