"""The layers hold: front ends reach the library only through ``search.api``; the library
never reaches up; ingest never touches an engine; importing the API loads no engine.

Read from the source with :mod:`ast`, so an import inside a function counts too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

WEB = sorted((ROOT / "web").rglob("*.py"))
LIBRARY = sorted((ROOT / "search").rglob("*.py"))
# The ingest chain and entity resolution: engine-free by design.
INGEST_PARTS = ("readers", "extract", "clean.py", "clean_lines.py", "pipeline.py", "resolution.py", "aliases.py",
                "document.py", "textnorm.py", "namekeys.py", "ingest.py", "model.py", "settings.py", "limits.py",
                "errors.py")
INGEST = [p for p in LIBRARY if p.relative_to(ROOT / "search").parts[0] in INGEST_PARTS]


def imported(path: Path) -> list[str]:
    """Every module *path* imports, relative imports made absolute."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        package = ".".join(path.relative_to(ROOT).parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.append(base)
            out.extend(f"{base}.{alias.name}" for alias in node.names if base in ("search",))
    return out


def test_the_file_lists_are_not_empty():
    assert len(WEB) >= 5 and len(LIBRARY) >= 20 and len(INGEST) >= 10


@pytest.mark.parametrize("path", WEB, ids=lambda p: str(p.relative_to(ROOT)))
def test_web_and_the_cli_use_only_the_api(path):
    wrong = [m for m in imported(path) if m.split(".")[0] == "search" and m not in ("search", "search.api")]
    assert not wrong, f"{path.name} imports {wrong}: go through search.api"


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_never_reaches_up(path):
    wrong = [m for m in imported(path) if m.split(".")[0] in ("flask", "jinja2", "werkzeug", "markupsafe", "web")]
    assert not wrong, f"{path.name} imports {wrong}"


@pytest.mark.parametrize("path", INGEST, ids=lambda p: str(p.relative_to(ROOT)))
def test_ingest_imports_no_engine(path):
    wrong = [m for m in imported(path) if m.split(".")[0] == "whoosh" or m.startswith("search.whoosh_backend")]
    assert not wrong, f"{path.name} imports {wrong}"


def test_importing_the_api_loads_no_engine_and_no_ingest():
    code = ("import sys, search.api; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('whoosh', 'trafilatura', 'numpy', 'flask')"
            " or m.startswith(('search.whoosh_backend', 'search.extract', 'search.readers'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
