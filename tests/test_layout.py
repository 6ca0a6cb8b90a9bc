"""The layers stay apart (README's layout): kb/ knows nothing of Flask or the packages above it; importers/
uses kb/ only; api/ and web/ both stand on server/ and never import each other. Read from the source, so an
import added anywhere (even inside a function) is caught."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    # werkzeug.security (password hashes) is a library, not the web framework: kb/auth.py may use it
    "kb": ("flask", "flask_smorest", "flask_wtf", "flask_limiter", "api", "web", "server", "importers"),
    "importers": ("flask", "api", "web", "server"),
    "api": ("web",),
    "web": ("api",),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_only_downwards(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line, module in imported_modules(path):
            if module.split(".")[0] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not bad, "\n".join(bad)


def test_the_checker_sees_an_import_inside_a_function(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from web.errors import error_response\n    import flask\n", encoding="utf-8")
    assert [m for _, m in imported_modules(sample)] == ["web.errors", "flask"]
