"""The house rules of the source tree: sizes that fit a reader, and a map that names it all.

The layer contract itself (imports only point down) is `lint-imports`, run by `.ci/run`
with the contract in pyproject.toml; this file checks what that tool cannot.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "prefstore"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 250


def _modules() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(SOURCE).as_posix()


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_module_fits_the_limits(path: Path) -> None:
    text = path.read_text()
    assert text.count("\n") <= MAX_MODULE_LINES, f"{_name(path)} is over {MAX_MODULE_LINES} lines"
    too_long = []
    for node in ast.walk(ast.parse(text)):
        assert node is not None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            limit = MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
            if lines > limit:
                too_long.append(f"{node.name} ({lines} lines > {limit})")
    assert not too_long, f"{_name(path)}: {', '.join(too_long)}"


def test_the_architecture_document_names_every_module() -> None:
    """docs/ARCHITECTURE.md draws the tree; a module missing from it is a module a newcomer
    cannot place. Every module must appear there as its path below src/prefstore/."""
    document = ARCHITECTURE.read_text()
    named = set(re.findall(r"[\w/]+\.py", document))
    missing = [
        _name(path)
        for path in _modules()
        if path.name != "__init__.py" and _name(path) not in named
    ]
    assert not missing, f"docs/ARCHITECTURE.md does not name: {', '.join(missing)}"


def test_the_architecture_document_names_no_module_that_is_gone() -> None:
    document = ARCHITECTURE.read_text()
    tree = document[document.index("<!-- tree: start -->") : document.index("<!-- tree: end -->")]
    listed = set(re.findall(r"[\w/]+\.py", tree))
    existing = {_name(path) for path in _modules()}
    assert not listed - existing, f"listed but absent: {sorted(listed - existing)}"


def test_a_lookup_and_an_import_row_take_short_paths() -> None:
    """The walks docs/ARCHITECTURE.md describes, measured: `scripts/trace_paths.py` traces a
    lookup from the route to the Redis command (at most 5 project files) and one import row
    from its bytes to the batch send (at most 10), and no path comes back to a stage."""
    script = ROOT / "scripts" / "trace_paths.py"
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    paths = dict(re.findall(r"^(\S.*): (\d+) files$", done.stdout, flags=re.M))
    lookups = {title: int(n) for title, n in paths.items() if title.startswith("lookup")}
    rows = {title: int(n) for title, n in paths.items() if title.startswith("import row")}
    assert len(lookups) == 3 and len(rows) == 2, done.stdout
    assert max(lookups.values()) <= 5, done.stdout
    assert max(rows.values()) <= 10, done.stdout
    assert done.stdout.count("re-entered: none") == len(paths), done.stdout
