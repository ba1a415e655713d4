"""The layers point down (ui -> diagrams -> engine) and the engine and diagrams never touch Qt."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "payviz"
QT = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "PySide2")

# What each layer may not import: Qt, and anything above itself.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "engine": (*QT, "payviz.ui", "payviz.diagrams", "payviz.cli"),
    "diagrams": (*QT, "payviz.ui", "payviz.cli"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(source: str, package: str) -> Iterator[tuple[int, str]]:
    """Every module some source imports (relative imports made absolute), with its line.

    `package` is the package the source lives in, which relative imports start from.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:  # `from payviz import ui` imports payviz.ui
                yield node.lineno, f"{base}.{alias.name}"


def _file_imports(path: Path) -> Iterator[tuple[int, str]]:
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    return _imports(path.read_text(encoding="utf-8"), package)


def _violations(layer: str) -> list[str]:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, name in _file_imports(path):
            for banned in FORBIDDEN[layer]:
                if name == banned or name.startswith(banned + "."):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


@pytest.mark.parametrize("layer", list(FORBIDDEN))
def test_no_layer_imports_qt_or_a_layer_above_it(layer: str) -> None:
    assert (PACKAGE / layer).is_dir()
    assert _violations(layer) == []


def test_the_scan_sees_every_way_of_importing() -> None:
    """The scanner itself: it must catch each form an import can take."""
    source = (
        "import PySide6.QtCore\n"
        "from PySide6 import QtWidgets\n"
        "from ..ui import app\n"
        "from .. import diagrams\n"
        "def late():\n"
        "    import shiboken6\n"
    )
    names = {name for _, name in _imports(source, "payviz.engine")}
    assert {"PySide6.QtCore", "PySide6", "payviz.ui", "payviz.diagrams", "shiboken6"} <= names


def test_importing_every_engine_and_diagrams_module_loads_no_qt() -> None:
    """At run time too (in a fresh interpreter: this one may have loaded Qt for UI tests)."""
    script = (
        "import importlib, pkgutil, sys\n"
        "import payviz.engine, payviz.diagrams\n"
        "for package in (payviz.engine, payviz.diagrams):\n"
        "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {QT!r})\n"
        "print(loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if not lint_imports.exists():
        found = shutil.which("lint-imports")
        if found is None:
            pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
        lint_imports = Path(found)
    done = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" in done.stdout
    assert " 0 broken" in done.stdout
