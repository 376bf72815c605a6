"""The layering docs/architecture.md states, checked on the source: only the CLI draws."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tripkb"
#: The modules allowed to import the terminal libraries: the command line and its rendering.
UI_MODULES = {"cli.py", "render.py"}
UI_LIBRARIES = {"typer", "rich", "click", "prompt_toolkit"}


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, relative ones resolved
    to their name inside tripkb (``render`` for ``from .. import render``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.add(node.module or "")
            else:
                names.update(f".{node.module or alias.name}" for alias in node.names)
    return names


def test_only_the_cli_imports_the_terminal_libraries_and_render():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).as_posix() in UI_MODULES:
            continue
        for name in _imports(path):
            top = name.lstrip(".").split(".")[0]
            if (not name.startswith(".") and top in UI_LIBRARIES) or (name.startswith(".") and top == "render"):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    """The check must not pass by looking only at the top of a module."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import rich\n    from .. import render\n", encoding="utf-8")
    assert {"rich", ".render"} <= _imports(module)
