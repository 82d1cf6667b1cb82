"""The package as its users get it: the public names, the version, and a built wheel that makes a report."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import reintegration_effects as re_pkg
from reintegration_effects.report import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_name_resolves_and_is_documented():
    assert re_pkg.__version__ == metadata.version("reintegration_effects")
    for name in re_pkg.__all__:
        obj = getattr(re_pkg, name)
        if name != "__version__":
            assert obj.__doc__ and obj.__doc__.strip(), f"{name} has no docstring"
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        re_pkg.nonsense  # noqa: B018


def test_importing_the_package_loads_no_estimator_library():
    code = ("import sys, reintegration_effects; "
            "print(sorted(m for m in ('lifelines', 'econml', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _build_wheel(dest: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(dest)],
                   check=True, capture_output=True, text=True)
    (wheel,) = dest.glob("reintegration_effects-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _build_wheel(tmp_path_factory.mktemp("wheel"))


def test_wheel_ships_notebooks_and_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for stem in NOTEBOOKS:
        assert f"reintegration_effects/notebooks/{stem}.py" in names
    for t in ("report.html.j2", "report.typ", "report.css", "report.js"):
        assert f"reintegration_effects/templates/{t}" in names
    assert not any(n.startswith(("tests/", "analyses/", "benchmarks/")) for n in names)


def test_installed_wheel_makes_the_html_report(wheel, tmp_path):
    """The wheel's own files (not the source tree) make a report: notebooks found as package data."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run([sys.executable, "-c", "import reintegration_effects.report as r; print(r._notebook_dir())"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(target), where
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "reintegration_effects", "run", "--out", str(out), "--persons", "600",
                          "--no-pdf", "--seed", "3", "--dml-repetitions", "1"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert len(html) > 100_000 and "Traceback" not in html


@pytest.mark.slow
def test_fresh_venv_pip_install_makes_html_and_pdf(wheel, tmp_path):
    """`pip install` of the wheel in a new virtual environment, then `run`: the full report, PDF included."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"), str(wheel)],
                   check=True, capture_output=True, text=True)
    out = tmp_path / "out"
    run = subprocess.run([str(env_dir / "bin" / "reintegration-effects"), "run", "--out", str(out),
                          "--persons", "600", "--seed", "3"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (out / "report.html").stat().st_size > 100_000
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
