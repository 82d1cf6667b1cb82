"""Small municipalities run end to end (issue 15, part 2).

A 300-person municipality used to crash in lifelines (StatError) after 15 tables, leaving no
manifest; a handful of persons crashed in the effects (too few persons for the cross-fitting
folds, no programme with 30 participants). Now every part that too little data cannot support is
skipped with a ``skipped [tables]: reason`` line in the run log (the manifest's ``notes``), and the
report, made with ``strict=True`` (any failing part raises), says why each table is missing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from reintegration_effects.dataset import DEFAULT_SEED
from reintegration_effects.errors import InsufficientDataError
from reintegration_effects.io import write_input_folder
from tests.conftest import data_rows


def skipped_tables(notes) -> dict[str, str]:
    """table (first word of each entry) -> reason, from the run log's skip lines."""
    out = {}
    for n in notes:
        parsed = InsufficientDataError.parse_note(n)
        if parsed:
            out.update({t.split(" ")[0]: parsed[1] for t in parsed[0]})
    return out


def test_300_person_municipality_runs_with_report(tmp_path):
    """The issue's crash case, tables and the HTML report (strict: every part must render)."""
    from reintegration_effects.pipeline import run
    from reintegration_effects.report import write_report

    out = tmp_path / "out"
    ctx = run(None, out, seed=DEFAULT_SEED, persons=300, with_report=False, echo=lambda s: None,
              cache=tmp_path / "cache", dml_repetitions=1)  # one DML split: the subject is what runs
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    for name in ("flows", "transitions", "km", "hazards", "effects"):  # the core results are there
        assert data_rows(out / "tables" / f"{name}.csv") > 0, name
    skipped = skipped_tables(ctx.notes)
    for name in ("effects_blp", "effects_calibration", "effects_sensitivity", "policy"):
        path = out / "tables" / f"{name}.csv"
        assert path.is_file() or name in skipped, f"{name}: neither written nor explained"
    files = write_report(out, lang="nl", manifest=manifest, strict=True, pdf=False)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert [f.name for f in files] == ["report.html"] and 'class="part-failed"' not in html
    for reason in set(skipped.values()):  # every skip is explained in the report, with its reason
        assert reason[:40] in html.replace("&#x27;", "'").replace("&quot;", '"'), reason


@pytest.fixture(scope="module")
def handful(tmp_path_factory) -> Path:
    """The first 6 persons of a simulated municipality (2015-2018) as an input folder."""
    from reintegration_effects.simulate import simulate_municipality

    tables = simulate_municipality(40, seed=7, window_start="2015-01-01", window_end="2018-12-31").tables
    keep = set(tables["persons"]["person_id"].iloc[:6])
    folder = tmp_path_factory.mktemp("handful") / "input"
    return write_input_folder({k: v[v["person_id"].isin(keep)] for k, v in tables.items()}, folder,
                              study={"window_start": "2015-01-01", "window_end": "2018-12-31"})


def test_a_handful_of_persons_runs_and_the_report_says_why(handful, tmp_path):
    from reintegration_effects.pipeline import run
    from reintegration_effects.report import CHAPTER_TABLES, write_report

    out = tmp_path / "out"
    ctx = run(handful, out, seed=1, with_report=False, echo=lambda s: None, cache=tmp_path / "cache")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["notes"] == ctx.notes
    skipped = skipped_tables(ctx.notes)
    assert skipped, "six persons cannot support every analysis: some part must be skipped"
    shown = {t for tables in CHAPTER_TABLES.values() for t in tables}
    for name in shown:  # each table the report draws on: rows, or a reason in the run log
        assert data_rows(out / "tables" / f"{name}.csv") > 0 or name in skipped, name
    write_report(out, lang="en", manifest=manifest, strict=True, pdf=True)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'class="part-failed"' not in html and (out / "report.pdf").stat().st_size > 10_000
    notes = re.findall(r'<p class="missing">([^<]*)</p>', html)
    for name in skipped:  # named in a chapter note that quotes the run log
        if name in shown:
            assert any(name in n and "From the run log" in n for n in notes), name


def test_report_parts_with_only_the_total_or_nothing_left(tmp_path):
    """Parts whose table keeps only the total, or no published point at all, render a figure or a
    note (strict: a failing part raises); the chapter note quotes the run log's reason."""
    from reintegration_effects.report import Report

    na = float("nan")
    curve = pd.DataFrame({"dimension": ["all"] * 3 + ["sex"] * 3, "group": ["all"] * 3 + ["sex=F"] * 3,
                          "time": [0, 1, 2] * 2, "survival": [1.0, 0.9, 0.8, na, na, na],
                          "ci_lower": [1.0, 0.8, 0.7, na, na, na], "ci_upper": [1.0, 0.95, 0.9, na, na, na],
                          "persons": [100, 90, 80, na, na, na], "suppressed": [False] * 3 + [True] * 3})
    hidden = curve.assign(survival=na, ci_lower=na, ci_upper=na, persons=na, suppressed=True)
    cif = pd.DataFrame({"dimension": "all", "group": "all", "time": [0, 1], "destination": "werk",
                        "cumulative_incidence": na, "suppressed": True})
    hazards = pd.DataFrame({"model": "exit_to_work", "term": ["sex=F"], "hazard_ratio": [na], "ci_lower": [na],
                            "ci_upper": [na], "suppressed": [True]})
    note = InsufficientDataError("fewer than 10 exits to work").note(["effects (method dml)"])
    for km, reentry in ((curve, curve), (hidden, hidden)):
        r = Report({"km": km, "reentry_km": reentry, "cumulative_incidence": cif, "hazards": hazards}, lang="en",
                   figures=tmp_path / "f", strict=True, settings={"manifest": {"notes": [note]}})
        for part in (r.outflow_curves, r.outflow_by_group, r.reentry_curves, r.reentry_by_group, r.competing_risks,
                     r.hazards_chart, r.sankey):
            part()
        assert any("fewer than 10 exits to work" in n and "From the run log" in n for n in r._absent_notes("effects"))
    assert "nothing to show" in " ".join(r._absent_notes("survival"))  # every cell of km suppressed


def test_a_risk_set_that_runs_empty_is_too_little_data_not_a_crash():
    """lifelines refuses a left-truncated Kaplan-Meier curve whose risk set empties early (StatError,
    the 300-person crash): that is InsufficientDataError (km_by_group then leaves the group out)."""
    from reintegration_effects.survival import kaplan_meier

    with pytest.raises(InsufficientDataError, match="nobody at risk"):
        kaplan_meier([5, 20, 21, 22], [1, 1, 1, 1], [0, 15, 15, 15])  # nobody at risk in months 6-15
    assert len(kaplan_meier([5, 20, 21, 22], [1, 1, 0, 1], [0, 0, 15, 15])) == 23  # the gap bridged: a curve
