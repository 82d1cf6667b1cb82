"""Both report languages from one run, and `reintegration-effects render` (issue 13, item 6).

One small simulated run with ``--lang nl,en`` (shared by the module: the report is the slow part);
each test that changes a folder works on a copy. The checks are about structure (which files, which
language, the same bytes, the manifest), not the report's prose, which others change.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from reintegration_effects import i18n
from reintegration_effects.cli import main
from reintegration_effects.dataset import DEFAULT_SEED

REPORT_FILES = ["report.html", "report.pdf", "report.en.html", "report.en.pdf"]


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages).replace("\xa0", " ")


@pytest.fixture(scope="module")
def bilingual(tmp_path_factory) -> Path:
    """A 300-person simulated municipality, run once with --lang nl,en (HTML and PDF)."""
    base = tmp_path_factory.mktemp("bilingual")
    out = base / "out"
    argv = ["run", "--out", str(out), "--persons", "300", "--seed", str(DEFAULT_SEED), "--lang", "nl,en",
            "--cache", str(base / "cache"), "--dml-repetitions", "1"]  # one DML split: the checks are structural
    assert main(argv) == 0
    return out


@pytest.fixture
def copy(bilingual, tmp_path) -> Path:
    """A copy of the run folder, for a test that changes it."""
    out = tmp_path / "out"
    shutil.copytree(bilingual, out)
    return out


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------------
# run --lang nl,en
# ------------------------------------------------------------------------------------------------


def test_one_run_writes_the_report_in_both_languages(bilingual):
    for name in REPORT_FILES:
        assert (bilingual / name).stat().st_size > 0, name
    assert '<html lang="nl"' in (bilingual / "report.html").read_text(encoding="utf-8")[:200]
    assert '<html lang="en"' in (bilingual / "report.en.html").read_text(encoding="utf-8")[:200]
    nl, en = pdf_text(bilingual / "report.pdf"), pdf_text(bilingual / "report.en.pdf")
    toc_nl, toc_en = i18n.NL["report.toc"], i18n.EN["report.toc"]  # "Inhoudsopgave", "Contents"
    assert toc_nl != toc_en
    assert toc_en in en and toc_nl not in en
    assert toc_nl in nl and toc_en not in nl
    assert i18n.EN["report.title"] in en and i18n.NL["report.title"] in nl


def test_the_manifest_records_each_report_file_and_its_language(bilingual):
    m = manifest(bilingual)
    assert m["lang"] == "nl" and m["languages"] == ["nl", "en"]
    assert m["report"] == REPORT_FILES
    assert {k: v["files"] for k, v in m["reports"].items()} == {"nl": REPORT_FILES[:2], "en": REPORT_FILES[2:]}
    assert {v["made_by"] for v in m["reports"].values()} == {"run"}
    assert all(v["date"] == m["report_date"] for v in m["reports"].values())
    assert all(len(m["outputs"][name]) == 64 for name in REPORT_FILES)
    assert main(["verify", str(bilingual)]) == 0


# ------------------------------------------------------------------------------------------------
# render
# ------------------------------------------------------------------------------------------------


def test_render_makes_the_same_report_bytes_and_verify_still_passes(copy, capsys):
    """Nothing recomputed, the run's report date: the same tables give the same HTML and PDF."""
    before = snapshot(copy)
    tables = {k: v for k, v in before.items() if k != "manifest.json" and not k.startswith("report")}
    assert main(["render", "--out", str(copy)]) == 0
    after = snapshot(copy)
    for name in REPORT_FILES:
        assert after[name] == before[name], f"{name} differs from the run's"
    assert {k: v for k, v in after.items() if k in tables} == tables  # the tables are untouched
    assert set(after) == set(before)
    m = manifest(copy)
    assert len(m["renders"]) == 1 and m["renders"][0]["languages"] == ["nl", "en"]
    assert {v["made_by"] for v in m["reports"].values()} == {"render"}
    assert m["report"] == REPORT_FILES
    assert main(["verify", str(copy)]) == 0
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".out.")]  # no temporary folder, no lock


def test_render_one_language_leaves_the_other_alone(copy):
    before = snapshot(copy)
    assert main(["render", "--out", str(copy), "--lang", "en", "--no-pdf"]) == 0
    after = snapshot(copy)
    assert after["report.html"] == before["report.html"] and after["report.pdf"] == before["report.pdf"]
    assert after["report.en.html"] == before["report.en.html"]
    assert "report.en.pdf" not in after  # an English PDF from before would not belong to the new HTML
    m = manifest(copy)
    assert m["reports"]["en"]["files"] == ["report.en.html"] and m["reports"]["en"]["made_by"] == "render"
    assert m["reports"]["nl"]["made_by"] == "run"
    assert m["report"] == ["report.html", "report.pdf", "report.en.html"]
    assert main(["verify", str(copy)]) == 0
    # and back: the English PDF again, the same bytes as the run's
    assert main(["render", "--out", str(copy), "--lang", "en"]) == 0
    assert (copy / "report.en.pdf").read_bytes() == before["report.en.pdf"]
    assert main(["verify", str(copy)]) == 0
    assert len(manifest(copy)["renders"]) == 2


def test_render_with_another_date(copy):
    assert main(["render", "--out", str(copy), "--lang", "nl", "--no-pdf", "--date", "2031-02-03"]) == 0
    m = manifest(copy)
    assert m["reports"]["nl"]["date"] == "2031-02-03" and m["reports"]["en"]["date"] == m["report_date"]
    assert "2031" in (copy / "report.html").read_text(encoding="utf-8")
    assert main(["verify", str(copy)]) == 0


def test_render_reads_the_manifest_of_an_older_version(copy):
    """A manifest from before languages/reports/report_date (one language, ``report`` a list): the
    run's language and the date it finished."""
    m = manifest(copy)
    for name in REPORT_FILES[2:]:
        (copy / name).unlink()
        del m["outputs"][name]
    for key in ("languages", "reports", "report_date"):
        del m[key]
    m["report"] = REPORT_FILES[:2]
    (copy / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    before = snapshot(copy)
    assert main(["verify", str(copy)]) == 0
    assert main(["render", "--out", str(copy)]) == 0
    after = snapshot(copy)
    assert sorted(after) == sorted(before)
    assert after["report.html"] == before["report.html"] and after["report.pdf"] == before["report.pdf"]
    new = manifest(copy)
    assert new["report"] == REPORT_FILES[:2] and list(new["reports"]) == ["nl"]
    assert new["reports"]["nl"]["date"] == m["run"]["finished"][:10]
    assert main(["verify", str(copy)]) == 0


def test_render_after_a_run_without_report(copy):
    """A --no-report run (simulated by removing the report): render writes the first report; the run's
    first language keeps the name report.html, so English alone is report.en.*."""
    m = manifest(copy)
    for name in REPORT_FILES:
        (copy / name).unlink()
        del m["outputs"][name]
    m.update(report=[], reports={})
    (copy / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    assert main(["render", "--out", str(copy), "--lang", "en", "--no-pdf"]) == 0
    assert sorted(p.name for p in copy.glob("report*")) == ["report.en.html"]
    assert manifest(copy)["report"] == ["report.en.html"]
    assert main(["verify", str(copy)]) == 0


def test_render_refuses_a_folder_that_is_not_a_finished_run(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "tables").mkdir()
    for folder in (empty, tmp_path / "absent"):
        assert main(["render", "--out", str(folder)]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and "Fix:" in err and "reintegration-effects run" in err
    assert not (tmp_path / "absent").exists()
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "manifest.json").write_text(json.dumps({"status": "report pending", "outputs": {}}))
    assert main(["render", "--out", str(unfinished)]) == 2
    assert "did not finish" in capsys.readouterr().err


def test_render_refuses_a_run_whose_tables_changed(copy, capsys):
    """Re-hashing would vouch for tables the run did not write: refused, the folder left as it was."""
    table = sorted((copy / "tables").glob("*.csv"))[0]
    table.write_text(table.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    before = snapshot(copy)
    assert main(["render", "--out", str(copy)]) == 2
    err = capsys.readouterr().err
    assert f"tables/{table.name}" in err and "Fix:" in err and "verify" in err
    assert snapshot(copy) == before


def test_render_refuses_a_locked_folder(copy, capsys):
    lock = copy.parent / f".{copy.name}.lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "host": __import__("socket").gethostname(), "started": "now"}))
    assert main(["render", "--out", str(copy)]) == 2
    assert "another run is writing" in capsys.readouterr().err
    lock.unlink()


def test_an_interrupted_render_leaves_the_folder_as_it_was(copy, monkeypatch, capsys):
    from reintegration_effects.report import build

    before = snapshot(copy)

    def interrupted(out, languages, **kwargs):
        (Path(out) / "report.en.html").write_text("half", encoding="utf-8")  # the work folder, not OUT
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "write_reports", interrupted)
    assert main(["render", "--out", str(copy), "--lang", "en"]) == 130
    assert "as it was before the render" in capsys.readouterr().err
    assert snapshot(copy) == before
    assert sorted(p.name for p in copy.parent.iterdir()) == ["out"]  # no work folder, no lock
    assert main(["verify", str(copy)]) == 0


# ------------------------------------------------------------------------------------------------
# the language list
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["run", "--out", "o", "--lang", "de"],
    ["run", "--out", "o", "--lang", "nl,de"],
    ["run", "--out", "o", "--lang", "nl,nl"],
    ["run", "--out", "o", "--lang", "nl,"],
    ["render", "--out", "o", "--lang", "fr"],
    ["render", "--out", "o", "--date", "yesterday"],
])
def test_bad_language_lists_exit_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Fix:" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_parse_languages():
    from reintegration_effects.pipeline import parse_languages

    assert parse_languages("en,nl") == ["en", "nl"] and parse_languages(" nl ") == ["nl"]
    for bad, word in (("nl,nl", "more than once"), ("xx", "unknown"), ("", "separated by commas")):
        with pytest.raises(ValueError, match=word):
            parse_languages(bad)


def test_study_toml_lang_is_the_default(tmp_path, monkeypatch):
    """No --lang: the study's `lang`; --lang wins over it (fast: tables only, no analyses)."""
    from reintegration_effects import pipeline

    monkeypatch.setattr(pipeline, "STEPS", pipeline.STEPS[:1])  # validate only
    data = tmp_path / "input"
    assert main(["simulate", "--out", str(data), "--persons", "30", "--seed", "7"]) == 0
    study = data / "study.toml"
    study.write_text('lang = "en"\n' + study.read_text(encoding="utf-8"), encoding="utf-8")  # before any [table]
    for extra, expected in (([], ["en"]), (["--lang", "nl,en"], ["nl", "en"])):
        out = tmp_path / f"out{len(extra)}"
        assert main(["run", "--data", str(data), "--out", str(out), "--no-report", *extra]) == 0
        m = manifest(out)
        assert m["languages"] == expected and m["lang"] == expected[0] and m["report"] == [] and m["reports"] == {}
