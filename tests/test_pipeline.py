"""The command line end to end: run on a small simulated municipality, twice; bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from reintegration_effects.cli import main
from reintegration_effects.contract import EFFECTS_COLUMNS, FLOWS_COLUMNS, HAZARDS_COLUMNS

PERSONS = "600"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    data = base / "sim" / "input"
    assert main(["simulate", "--out", str(data), "--persons", PERSONS, "--seed", "7"]) == 0
    outs = []
    # the second run spreads the fits over two threads: the tables must not change (one DML fold
    # split: the invariance of three splits over workers is tests/test_repeated_crossfit.py's)
    for k, extra in ((1, ["--n-jobs", "1"]), (2, ["--n-jobs", "2", "--backend", "threading"])):
        out = base / f"out{k}"
        assert main(["run", "--data", str(data), "--out", str(out), "--seed", "7", "--no-report",
                     "--dml-repetitions", "1", *extra]) == 0
        outs.append(out)
    return data, outs


def test_run_writes_the_contract_tables(two_runs):
    _, (out, _) = two_runs
    flows = pd.read_csv(out / "tables" / "flows.csv")
    assert list(flows.columns[:4]) == list(FLOWS_COLUMNS)
    assert set(flows.status) == {"bijstand", "werk", "bijstand_met_werk", "ww", "overig"}
    effects = pd.read_csv(out / "tables" / "effects.csv")
    assert list(effects.columns[:10]) == list(EFFECTS_COLUMNS)
    assert set(effects.method) == {"naive", "matching", "dml"}
    hazards = pd.read_csv(out / "tables" / "hazards.csv")
    assert list(hazards.columns[:5]) == list(HAZARDS_COLUMNS)
    assert {"exit_to_work", "reentry"} <= set(hazards.model)
    assert hazards.term.str.startswith("programme=").any()
    assert (out / "cleaning_log.csv").exists()
    published = flows.persons.dropna()
    assert (published % 5 == 0).all() and (published >= 10).all()


def test_manifest_records_inputs_versions_and_seed(two_runs):
    data, (out, _) = two_runs
    m = json.loads((out / "manifest.json").read_text())
    assert m["seed"] == 7
    assert set(m["inputs"]) >= {"persons", "benefits", "jobs"}
    assert all(len(v["sha256"]) == 64 for v in m["inputs"].values())
    assert m["versions"]["pandas"] == pd.__version__
    assert "tables/flows.csv" in m["outputs"]


def test_two_runs_give_byte_identical_tables(two_runs):
    _, (a, b) = two_runs
    names = sorted(p.name for p in (a / "tables").glob("*.csv"))
    assert names == sorted(p.name for p in (b / "tables").glob("*.csv"))
    for name in names:
        assert (a / "tables" / name).read_bytes() == (b / "tables" / name).read_bytes(), name
    ma = json.loads((a / "manifest.json").read_text())
    mb = json.loads((b / "manifest.json").read_text())
    assert ma["outputs"] == mb["outputs"]
    assert mb["parallel"] == {"backend": "threading", "n_jobs": 2, "inner_threads": 1}


def test_bad_input_gives_a_clear_message_and_exit_status_2(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "persons.csv").write_text("person_id,sex,birth_date,migration_background\n1,X,1980-01-01,dutch\n")
    (folder / "benefits.csv").write_text("person_id,benefit,start,end\n1,bijstand,2020-05-01,2020-01-01\n")
    (folder / "jobs.csv").write_text("person_id,start,end\n")
    proc = subprocess.run([sys.executable, "-m", "reintegration_effects", "validate", "--data", str(folder)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "persons.csv" in proc.stderr and "sex" in proc.stderr
    assert "benefits.csv" in proc.stderr and "Fix:" in proc.stderr


def _analysis_copied_from(done, monkeypatch):
    """The run's analysis steps replaced by a copy of a finished run's tables (the report is real)."""
    import shutil

    from reintegration_effects import pipeline

    def copy_tables(ctx):
        shutil.copytree(done / "tables", ctx.tables_dir, dirs_exist_ok=True)
        ctx.outputs.extend(sorted(ctx.tables_dir.glob("*.csv")))
        return "tables copied"

    monkeypatch.setattr(pipeline, "STEPS", [*pipeline.STEPS[:2], ("tables", copy_tables)])


def test_run_with_report_on_a_relative_output_folder(two_runs, tmp_path, monkeypatch):
    """What `make report` does: a relative --out, the report included, the manifest listing it.

    The analysis steps are the fixture's tables (the whole run with its report is the session's
    default run, tests/conftest.py); the report, the PDF and the manifest are real."""
    data, (done, _) = two_runs
    _analysis_copied_from(done, monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--data", str(data), "--out", "rel/out", "--seed", "7", "--lang", "en"]) == 0
    out = tmp_path / "rel" / "out"
    assert (out / "report.html").stat().st_size > 100_000
    assert (out / "report.pdf").read_bytes()[:4] == b"%PDF"
    m = json.loads((out / "manifest.json").read_text())
    assert m["report"] == ["report.html", "report.pdf"]


def test_run_with_no_pdf_writes_the_html_report_only(two_runs, tmp_path, monkeypatch):
    """--no-pdf: report.html, no report.pdf (typst never runs), the manifest lists the HTML only.

    Fast: the analysis steps are replaced by a copy of the fixture's tables; the report is real.
    """
    from reintegration_effects import report

    data, (done, _) = two_runs

    def no_pdf(*args, **kwargs):
        raise AssertionError("--no-pdf must not render the PDF")

    _analysis_copied_from(done, monkeypatch)
    monkeypatch.setattr(report.build, "_render_pdf", no_pdf)  # write_report looks it up in report.build
    out = tmp_path / "out"
    assert main(["run", "--data", str(data), "--out", str(out), "--seed", "7", "--lang", "en", "--no-pdf"]) == 0
    assert (out / "report.html").stat().st_size > 100_000
    assert not (out / "report.pdf").exists()
    m = json.loads((out / "manifest.json").read_text())
    assert m["report"] == ["report.html"]
    assert "report.pdf" not in json.dumps(m)
    # the report is hashed like every other file, and nothing names the temporary folder
    assert m["status"] == "complete" and len(m["outputs"]["report.html"]) == 64
    assert main(["verify", str(out)]) == 0
    assert ".tmp-" not in (out / "report.html").read_text(encoding="utf-8")


def test_run_refuses_bad_settings_before_writing(tmp_path):
    """The API refuses what the CLI's option checks refuse (RunError: exit status 2 on the command line)."""
    from reintegration_effects.manifest import RunError
    from reintegration_effects.pipeline import run

    out = tmp_path / "out"
    for kwargs in ({"persons": 0}, {"persons": -5}, {"max_risk_set_rows": -1}, {"seed": -1}):
        with pytest.raises(RunError):
            run(None, out, **{"seed": 7, "with_report": False, **kwargs})
    with pytest.raises(RunError, match="at least 10"):
        run(None, out, seed=7, persons=5, with_report=False)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no lock, no temporary folder


def test_a_run_that_fails_midway_leaves_the_previous_run_whole(two_runs, tmp_path, monkeypatch):
    """A rerun that breaks after writing some tables: OUT keeps the old tables and the old manifest,
    whose hashes still match (no manifest vouching for a mix)."""
    import shutil

    from reintegration_effects import pipeline
    from reintegration_effects.manifest import verify

    data, (done, _) = two_runs
    out = tmp_path / "out"
    shutil.copytree(done, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def half(ctx):
        (ctx.tables_dir / "flows.csv").write_text("new,but,half\n")
        raise RuntimeError("killed midway")

    monkeypatch.setattr(pipeline, "STEPS", [*pipeline.STEPS[:2], ("half", half)])
    with pytest.raises(RuntimeError, match="killed midway"):
        pipeline.run(data, out, seed=7, with_report=False, echo=lambda _m: None)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert verify(out).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == [".reintegration-cache", "out"]  # no lock, no temp
