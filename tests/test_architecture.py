"""The import graph of the product: dependencies point one way, and no module imports itself back.

Read with ``ast`` (no import is run), every import counts: at the top, inside a function, under
``TYPE_CHECKING``. The allowed direction is written once, in ``MAY_IMPORT``.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("assistant", "ingest", "evals")

# Each module belongs to the first group whose prefix names it (most specific prefixes first).
GROUPS: list[tuple[str, str]] = [
    ("assistant.types", "records"),
    ("assistant.corpus", "records"),
    ("assistant.settings", "records"),
    ("assistant.sentences", "records"),
    ("assistant.argparse_fr", "records"),
    ("assistant.copies", "records"),
    ("assistant.periods", "records"),
    ("assistant.backends", "backends"),
    ("ingest", "ingest"),
    ("assistant.indexing", "indexing"),
    ("assistant.jobs", "indexing"),  # the durable ingest queue runs jobs through the indexer
    ("assistant.notes", "notes"),  # the desk and its notes: above the cards and the generation they combine
    ("assistant.factory", "assembly"),
    ("assistant.ui", "interface"),
    ("assistant.api", "interface"),  # the HTTP API is an interface too, beside the web pages
    ("assistant.cli", "entry points"),
    ("assistant.serving", "entry points"),
    ("assistant.__main__", "entry points"),
    ("evals", "entry points"),
    ("app", "entry points"),
    ("assistant", "answering"),  # retrieval, generation, citations, claims, experiences, pipeline, glossary…
]

# The one statement of the direction: what each group may import besides itself.
# Files → ingest → the index → answering → interface; ingest and answering meet only in the indexer
# and the assembly, through the records below both.
MAY_IMPORT: dict[str, set[str]] = {
    "records": set(),
    "backends": {"records"},
    "ingest": {"records", "backends"},
    "answering": {"records", "backends"},
    "indexing": {"records", "backends", "ingest", "answering"},
    "notes": {"records", "backends", "answering"},
    "assembly": {"records", "backends", "ingest", "answering", "indexing", "notes"},
    "interface": {"records", "backends", "answering", "indexing", "notes"},
    "entry points": {"records", "backends", "ingest", "answering", "indexing", "notes", "assembly", "interface"},
}


def group_of(module: str) -> str:
    for prefix, group in GROUPS:
        if module == prefix or module.startswith(prefix + "."):
            return group
    raise AssertionError(f"{module} belongs to no group: add it to GROUPS")


def product_modules() -> dict[str, Path]:
    modules = {"app": REPO / "app.py"}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported_modules(path: Path, modules: dict[str, Path]) -> set[str]:
    """The product modules ``path`` imports (a name imported from a package counts as its submodule when it is one)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    modules = product_modules()
    return {name: imported_modules(path, modules) - {name} for name, path in modules.items()}


def test_the_allowed_direction_has_no_cycle_itself():
    seen: set[str] = set()

    def visit(group: str, path: tuple[str, ...]) -> None:
        assert group not in path, f"MAY_IMPORT loops: {' -> '.join((*path, group))}"
        for lower in MAY_IMPORT[group]:
            visit(lower, (*path, group))
        seen.add(group)

    for group in MAY_IMPORT:
        visit(group, ())
    assert seen == set(MAY_IMPORT)


def test_every_import_points_down():
    upward = [
        f"{module} ({group_of(module)}) imports {target} ({group_of(target)})"
        for module, targets in sorted(import_graph().items())
        for target in sorted(targets)
        if group_of(target) != group_of(module) and group_of(target) not in MAY_IMPORT[group_of(module)]
    ]
    assert upward == []


def test_no_module_imports_itself_back_even_lazily():
    assert cycles_in(import_graph()) == []


def package_of(module: str, modules: dict[str, Path]) -> str:
    """A module's package below the top one (``assistant.generation.prompts`` → ``assistant.generation``); a
    top-level module is its own (``assistant.citations``)."""
    parts = module.split(".")
    for depth in range(2, len(parts)):
        candidate = ".".join(parts[:depth])
        if modules.get(candidate, Path()).name == "__init__.py":
            return candidate
    return module


def package_graph() -> dict[str, set[str]]:
    modules = product_modules()
    graph: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        package = package_of(module, modules)
        graph.setdefault(package, set()).update(package_of(t, modules) for t in targets)
    return {package: targets - {package} for package, targets in graph.items()}


def cycles_in(graph: dict[str, set[str]]) -> list[str]:
    """Each cycle met by a depth-first walk, as ``a -> b -> a``."""
    done: set[str] = set()
    cycles: list[str] = []

    def visit(node: str, stack: list[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target in stack:
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in done:
                visit(target, [*stack, target])
        done.add(node)

    for node in sorted(graph):
        if node not in done:
            visit(node, [node])
    return cycles


def test_no_package_imports_itself_back_through_another():
    # modules may each point one way while their packages loop (generation's prompts read experience cards,
    # the note drafter in experiences called generation): a package is read and moved as a whole
    assert cycles_in(package_graph()) == []


def test_a_package_cycle_is_seen():
    graph = {"assistant.generation": {"assistant.experiences"}, "assistant.experiences": {"assistant.generation"}}
    assert cycles_in(graph) == ["assistant.experiences -> assistant.generation -> assistant.experiences"]
    assert package_of("assistant.generation.prompts", product_modules()) == "assistant.generation"
    assert package_of("assistant.citations", product_modules()) == "assistant.citations"


def test_the_graph_sees_imports_inside_functions(tmp_path):
    # the checks above would pass on an empty graph: make sure a lazy import is read
    source = tmp_path / "lazy.py"
    source.write_text(
        "def f():\n    from assistant.corpus import LoadError\n    import ingest.sync\n", encoding="utf-8"
    )
    assert imported_modules(source, product_modules()) == {"assistant.corpus", "ingest.sync"}
