"""The package's shape: the import layers hold and no module reaches into another's private names."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reintegration_effects"


def _private_imports(path: Path) -> list[str]:
    """``from .other import _name`` (or ``from reintegration_effects.other import _name``) in one file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            inside = node.level > 0 or (node.module or "").startswith("reintegration_effects")
            if inside:
                found += [f"{path.name}:{node.lineno} imports {a.name} from {node.module}"
                          for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def test_no_private_name_is_imported_across_modules():
    problems = [p for f in sorted(PACKAGE.rglob("*.py")) for p in _private_imports(f)]
    assert problems == [], "make the name public (no underscore) or keep it in its module:\n" + "\n".join(problems)


def test_the_private_import_check_can_fail(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("from .effects import _cluster_se\nfrom .effects import build_risk_sets\n")
    assert _private_imports(f) == ["m.py:1 imports _cluster_se from effects"]


def test_import_layers_hold():
    exe = shutil.which("lint-imports") or str(Path(__import__("sys").executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.fail("lint-imports (import-linter) is not installed: pip install -e '.[dev]'")
    run = subprocess.run([exe, "--no-cache"], cwd=PACKAGE.parent, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:]
