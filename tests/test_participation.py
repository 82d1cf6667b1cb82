"""Participation beyond paid work (issue 16b): the input table, the monitor table, the outcomes and
their estimates against the simulator's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reintegration_effects.contract import (
    PARTICIPATION_ACTIVITIES,
    PARTICIPATION_COLUMNS,
    PARTICIPATION_OUTCOMES,
    TABLES,
)
from reintegration_effects.effects import (
    ALL_OUTCOMES,
    NONE,
    DynamicDML,
    DynamicMatching,
    build_risk_sets,
    risk_outcomes,
)
from reintegration_effects.errors import InputError
from reintegration_effects.flows import build_cohorts
from reintegration_effects.io import write_input_folder
from reintegration_effects.outputs import protect_table, write_table
from reintegration_effects.panel import build_panel
from reintegration_effects.participation import participation_table
from reintegration_effects.validate import load_input

# ------------------------------------------------------------------------------------------------
# a hand-built folder: three persons, window 2015-2017
# ------------------------------------------------------------------------------------------------

STUDY = {"window_start": "2015-01-01", "window_end": "2017-12-31", "cohorts": ["stock_2016-01-01"],
         "horizons": [6, 12]}


def _tables(participation=True):
    persons = pd.DataFrame({"person_id": ["A", "B", "C"], "sex": ["F", "M", "F"],
                            "birth_date": ["1980-05-01"] * 3, "migration_background": ["dutch"] * 3,
                            "education": ["low"] * 3})
    benefits = pd.DataFrame({"person_id": ["A", "B", "C"], "benefit": ["bijstand"] * 3,
                             "start": ["2015-01-01", "2015-06-01", "2016-02-01"],
                             "end": [None, "2016-03-31", None]})
    jobs = pd.DataFrame({"person_id": ["B"], "start": ["2016-04-01"], "end": [None]})
    programmes = pd.DataFrame({"person_id": ["A"], "programme": ["participation"], "start": ["2015-03-10"],
                               "end": ["2015-12-31"]})
    tables = {"persons": persons, "benefits": benefits, "jobs": jobs, "programmes": programmes}
    if participation:
        tables["participation"] = pd.DataFrame({
            "person_id": ["A", "A", "A", "B", "C", "C"],
            "start": ["2016-05-01", "2016-08-01", "2016-06-01", "2016-12-01", "2017-08-01", "2017-09-01"],
            "end": ["2016-08-15", "2016-09-30", None, "2017-02-01", "2017-08-30", "2017-09-30"],
            "activity": ["volunteering", "Volunteering", "education", "informal_care", "other",
                         "social activation"],
        })
    return tables


@pytest.fixture
def folder(tmp_path):
    return write_input_folder(_tables(), tmp_path / "in", study=STUDY)


def test_the_table_is_read_merged_and_logged(folder):
    data = load_input(folder)
    p = data.participation
    # A's two volunteering rows overlap: merged into one spell (their union), logged; A's education
    # overlaps them and is kept (several activities at once)
    assert len(p) == 5
    vol = p[(p.person_id == "A") & (p.activity == "volunteering")]
    assert len(vol) == 1 and vol.start.iloc[0] == pd.Timestamp("2016-05-01") and vol.end.iloc[0] == pd.Timestamp(
        "2016-09-30")
    assert p.loc[(p.person_id == "A") & (p.activity == "education"), "end"].isna().all()
    assert set(p.activity.astype(str)) == {"volunteering", "education", "informal_care", "other", "social_activation"}
    log = data.log[data.log.table == "participation"]
    assert log.loc[log.outcome == "kept", "rows"].sum() == 5
    merged = log[log.outcome == "merged"]
    assert merged.rows.tolist() == [1] and "same activity" in merged.reason.iloc[0]
    # every row accounted for: kept + merged = rows in the file
    assert log.loc[log.outcome.isin(["kept", "merged"]), "rows"].sum() == 6


def test_parquet_reads_the_same(tmp_path):
    a = load_input(write_input_folder(_tables(), tmp_path / "csv", study=STUDY))
    b = load_input(write_input_folder(_tables(), tmp_path / "pq", fmt="parquet", study=STUDY))
    pd.testing.assert_frame_equal(a.participation.drop(columns="row"), b.participation.drop(columns="row"))


def test_absent_table_is_none_and_changes_nothing(tmp_path):
    with_p = load_input(write_input_folder(_tables(), tmp_path / "a", study=STUDY))
    without = load_input(write_input_folder(_tables(participation=False), tmp_path / "b", study=STUDY))
    assert without.participation is None
    assert "participation" not in set(without.log.table)
    assert with_p.window_start == without.window_start and with_p.window_end == without.window_end
    pd.testing.assert_frame_equal(with_p.log[with_p.log.table != "participation"].reset_index(drop=True),
                                  without.log.reset_index(drop=True))
    panel = build_panel(without)
    risk = build_risk_sets(panel, without)
    assert not set(PARTICIPATION_OUTCOMES) & set(risk.frame.columns)
    assert risk_outcomes(risk) == ALL_OUTCOMES
    cs = build_cohorts(without, panel)
    empty = participation_table(cs, without)
    assert empty.empty and tuple(empty.columns) == PARTICIPATION_COLUMNS


def test_participation_dates_do_not_set_the_window(tmp_path):
    tables = _tables()
    tables["participation"].loc[0, "start"] = "2005-01-01"  # long before every register spell
    data = load_input(write_input_folder(tables, tmp_path / "in", study={"cohorts": STUDY["cohorts"]}))
    assert data.window_start == pd.Timestamp("2015-01-01")


@pytest.mark.parametrize("column,value,words", [
    ("activity", "sports", ["unknown value(s) 'sports'", "volunteering, education, informal_care"]),
    ("person_id", "Z", ["not in persons", "'Z'"]),
    ("start", "2016-02-30", ["not real dates", "2016-02-30"]),
    ("end", "2016-04-01", ["end before they start"]),
])
def test_bad_rows_are_refused_naming_file_column_and_row(tmp_path, column, value, words):
    tables = _tables()
    tables["participation"].loc[0, column] = value  # row 1: A volunteering 2016-05-01 to 2016-08-15
    with pytest.raises(InputError) as err:
        load_input(write_input_folder(tables, tmp_path / "in", study=STUDY))
    text = str(err.value)
    assert "participation.csv" in text and f"column '{column}'" in text and "row 1" in text.replace("rows 1", "row 1")
    for w in words:
        assert w in text, text


def test_missing_activity_column_is_refused(tmp_path):
    tables = _tables()
    tables["participation"] = tables["participation"].drop(columns="activity")
    with pytest.raises(InputError, match="participation.csv.*activity"):
        load_input(write_input_folder(tables, tmp_path / "in", study=STUDY))


# ------------------------------------------------------------------------------------------------
# monitor and outcomes by hand
# ------------------------------------------------------------------------------------------------


def _cell(t, horizon, activity, dimension, group, participating="yes"):
    row = t[(t.horizon_months == horizon) & (t.activity == activity) & (t.dimension == dimension)
            & (t.group == group) & (t.participating == participating)]
    assert len(row) == 1
    return int(row.persons.iloc[0])


def test_monitor_shares_by_hand(folder):
    """Stock 1 January 2016: A and B (C starts in February). On 1 July 2016 A volunteers and is in
    education, B nothing; on 1 January 2017 A is in education, B (now in work) gives informal care."""
    data = load_input(folder)
    cs = build_cohorts(data, build_panel(data))
    t = participation_table(cs, data)
    assert tuple(t.columns) == PARTICIPATION_COLUMNS
    assert set(t.cohort) == {"stock_2016-01-01"}
    assert _cell(t, 6, "any", "all", "all") == 1 and _cell(t, 6, "any", "all", "all", "no") == 1
    assert _cell(t, 6, "volunteering", "all", "all") == 1
    assert _cell(t, 6, "education", "all", "all") == 1
    assert _cell(t, 6, "informal_care", "all", "all") == 0
    assert _cell(t, 12, "any", "all", "all") == 2
    assert _cell(t, 12, "volunteering", "all", "all") == 0
    assert _cell(t, 12, "informal_care", "all", "all") == 1
    assert _cell(t, 12, "any", "sex", "sex=F") == 1 and _cell(t, 12, "any", "sex", "sex=M") == 1
    assert _cell(t, 6, "any", "sex", "sex=M") == 0 and _cell(t, 6, "any", "sex", "sex=M", "no") == 1
    # next to outflow: by the status on the same date
    assert _cell(t, 12, "any", "status", "status=werk") == 1
    assert _cell(t, 12, "any", "status", "status=bijstand") == 1
    # every dimension adds up to the cohort (2 persons) per horizon and activity
    sums = t.groupby(["horizon_months", "activity", "dimension"]).persons.sum()
    assert (sums == 2).all()


def test_outcomes_by_hand(folder):
    """participating_18m / volunteering_18m read at the month end 18 months after time zero."""
    data = load_input(folder)
    panel = build_panel(data)
    risk = build_risk_sets(panel, data)
    assert risk_outcomes(risk) == (*ALL_OUTCOMES, *PARTICIPATION_OUTCOMES)
    f = risk.frame.set_index(["person_id", "month_index"])
    # A starts in March 2015 (index 2): outcome at 2016-09-30, covered by the merged volunteering spell
    a = f.loc[("A", 2)]
    assert a.treatment == "participation" and a.participating_18m == 1 and a.volunteering_18m == 1
    # A before the start (pool): 2016-07-31 and 2016-08-31, volunteering and education
    assert f.loc[("A", 0), ["participating_18m", "volunteering_18m"]].tolist() == [1, 1]
    assert f.loc[("A", 1), ["participating_18m", "volunteering_18m"]].tolist() == [1, 1]
    # B on bijstand June 2015 - March 2016 (indices 5..14); informal care 2016-12-01 to 2017-02-01
    b = f.loc["B"]
    want = {m: int(m in (5, 6)) for m in range(5, 15)}  # 2016-12-31 and 2017-01-31 covered, 2017-02-28 not
    assert b.participating_18m.to_dict() == want
    assert (b.volunteering_18m == 0).all()
    # C: 'other' ends 2017-08-30 (does not cover the month end), social activation covers 2017-09-30
    c = f.loc["C"]
    assert c.participating_18m.to_dict() == {13: 0, 14: 1, 15: 0, 16: 0, 17: 0}


# ------------------------------------------------------------------------------------------------
# disclosure
# ------------------------------------------------------------------------------------------------


def test_small_cells_are_suppressed_and_the_table_passes_the_gate(folder, tmp_path):
    data = load_input(folder)
    t = participation_table(build_cohorts(data, build_panel(data)), data)
    out, counts = protect_table("participation", t)
    assert counts == ("persons", "group_persons")
    assert out.persons.isna().all() and out.group_persons.isna().all() and out.share.isna().all()
    path = write_table(tmp_path / "out", "participation", t)
    assert path.name == "participation.csv" and path.is_file()


# ------------------------------------------------------------------------------------------------
# the simulator: participation does not change the other tables; estimates against the truth
# ------------------------------------------------------------------------------------------------


def test_simulating_participation_changes_no_other_table():
    from reintegration_effects.simulate import simulate_municipality

    a = simulate_municipality(300, seed=5)
    b = simulate_municipality(300, seed=5, participation=True)
    assert "participation" not in a.tables and len(b.tables["participation"])
    for name, df in a.tables.items():
        pd.testing.assert_frame_equal(df, b.tables[name])
    old = b.true_effects[~b.true_effects.outcome.isin(PARTICIPATION_OUTCOMES)].reset_index(drop=True)
    pd.testing.assert_frame_equal(a.true_effects, old)
    assert set(b.true_effects.outcome) == {*a.true_effects.outcome, *PARTICIPATION_OUTCOMES}
    assert a.participation_params is None and b.participation_params["hr_in_post"] > 1
    part = b.tables["participation"]
    assert list(part.columns) == list(TABLES["participation"].column_names)
    assert set(part.activity) <= set(PARTICIPATION_ACTIVITIES)
    assert pd.api.types.is_datetime64_any_dtype(part.start) and pd.api.types.is_datetime64_any_dtype(part.end)
    assert (part.end.isna() | (part.end >= part.start)).all()


@pytest.fixture(scope="module")
def simulated():
    from reintegration_effects.datasets import load_simulated

    data, truth = load_simulated(4000, seed=11, participation=True)
    panel = build_panel(data)
    return data, truth, panel, build_risk_sets(panel, data)


def test_risk_set_outcomes_equal_the_simulated_ones(simulated):
    """Person by person, the outcomes built from the participation table equal the simulator's actual ones."""
    _, truth, _, risk = simulated
    ind = truth.individual[truth.individual.in_truth]
    treated = risk.frame[risk.frame.treatment != NONE]
    got = treated.set_index(["person_id", "month"]).sort_index()
    want = ind.set_index(["person_id", "time_zero"]).sort_index()
    assert len(got) == len(want) and (got.index == want.index).all()
    for y in PARTICIPATION_OUTCOMES:
        np.testing.assert_array_equal(got[y].to_numpy(dtype=float), want[f"{y}_actual"].to_numpy())


def _compare(estimates: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    t = truth[["programme", "group", "outcome", "estimate"]].rename(columns={"estimate": "truth"})
    m = estimates.merge(t, on=["programme", "group", "outcome"])
    m["z"] = (m["estimate"] - m["truth"]) / m["std_error"]
    return m


def test_matching_and_dml_recover_the_true_participation_effects(simulated):
    """One seed, overall effects of every programme on both outcomes: within 3.5 standard errors of
    the truth (the simulator's ATT, "not now" counterfactual). The participation programme's true
    effect is large (about +25 points participating, +15 volunteering) and must be found as such."""
    _, truth, _, risk = simulated
    for est in (DynamicMatching(outcomes=PARTICIPATION_OUTCOMES, random_state=1),
                DynamicDML(n_folds=3, n_rep=1, random_state=1, outcomes=PARTICIPATION_OUTCOMES)):
        res = _compare(est.fit(risk).effects, truth.effects)
        overall = res[res.group == "all"]
        assert len(overall) == 8
        assert overall.z.abs().max() < 3.5, overall[["programme", "outcome", "estimate", "truth", "std_error", "z"]]
        part = overall[overall.programme == "participation"].set_index("outcome")
        assert (part.truth > 0.1).all() and (part.estimate / part.std_error > 4).all(), part


def test_simulated_table_passes_the_gate_and_hides_what_flows_hides(simulated, tmp_path):
    """On the 4,000-person municipality: the table goes through the gate; every status row whose
    flows cell is suppressed is suppressed whole, and the stock's participation is plausible."""
    data, _, panel, _ = simulated
    cs = build_cohorts(data, panel)
    t = participation_table(cs, data)
    pub, _ = protect_table("participation", t)
    fl, _ = protect_table("flows", t.attrs["flows"])
    hidden = fl[fl.persons.isna()]
    assert len(hidden)  # the check below is not empty
    st = pub[pub.dimension == "status"].assign(status=lambda f: f.group.str.removeprefix("status="))
    m = st.merge(hidden[["cohort", "horizon_months", "status"]], on=["cohort", "horizon_months", "status"])
    assert len(m) and m.persons.isna().all() and m.group_persons.isna().all() and m.share.isna().all()
    shown = pub[pub.share.notna()]
    np.testing.assert_allclose(shown.share, (shown.persons / shown.group_persons).round(3))
    write_table(tmp_path / "out", "participation", t)
    anyall = pub[(pub.dimension == "all") & (pub.activity == "any") & (pub.participating == "yes")]
    assert anyall.share.between(0.2, 0.7).all(), anyall


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_report_shows_participation_next_to_outflow_or_says_it_is_absent(simulated, tmp_path, lang):
    from reintegration_effects.flows import flows
    from reintegration_effects.i18n import TEXTS
    from reintegration_effects.report import Report
    from reintegration_effects.report.tables import read_tables

    data, _, panel, _ = simulated
    cs = build_cohorts(data, panel)
    write_table(tmp_path, "flows", flows(cs))
    absent = Report(tables=read_tables(tmp_path), lang=lang, strict=True)
    words = TEXTS[lang]["participation.absent"].split("**")[1]
    note = absent.participation_overview().html
    assert words in note and 'class="missing"' in note and "tbl-participation" not in note
    assert "participation" in absent.participation_effects_note().html
    write_table(tmp_path, "participation", participation_table(cs, data))
    shown = Report(tables=read_tables(tmp_path), lang=lang, strict=True).participation_overview()
    assert 'id="tbl-participation"' in shown.html and 'class="missing"' not in shown.html
    assert shown.html.count("<tr>") >= 1 + 3  # header and one row per horizon (6, 12, 18)
    assert TEXTS[lang]["participation.activity.volunteering"] in shown.markdown


# ------------------------------------------------------------------------------------------------
# Slow (make validate): ten seeds against the truth
# ------------------------------------------------------------------------------------------------

VALIDATION_SEEDS = range(1, 11)


def _participation_seed(seed: int) -> pd.DataFrame:
    from reintegration_effects.datasets import load_simulated

    data, truth = load_simulated(4000, seed=seed, participation=True)
    risk = build_risk_sets(build_panel(data), data)
    frames = [est.fit(risk).effects for est in (DynamicMatching(outcomes=PARTICIPATION_OUTCOMES, random_state=seed),
                                                 DynamicDML(random_state=seed, outcomes=PARTICIPATION_OUTCOMES))]
    m = _compare(pd.concat(frames, ignore_index=True), truth.effects)
    m["seed"] = seed
    return m


@pytest.mark.slow
def test_participation_effects_over_ten_seeds():
    """Ten seeds of 4,000 persons, every programme x both participation outcomes, group "all": in
    every cell the mean error is under a point or not distinguishable from zero at a family-wise 5%
    (t test with 9 df on the seeds' errors, Bonferroni over the 16 cells: |t| < 4.0; a
    per-cell 5% rule would fail a perfect estimator in most runs); the pooled coverage of the 95%
    intervals (80 per method) is 90-99%, the binomial 99% range around 95% for 80 intervals; and
    the group effects' coverage (groups with 50+ starts) is at least 90%. Writes
    reports/validation/participation_by_seed.csv."""
    from pathlib import Path

    from scipy import stats

    from reintegration_effects.parallel import ParallelConfig, map_tasks

    res = pd.concat(map_tasks(_participation_seed, VALIDATION_SEEDS, ParallelConfig.from_env(n_jobs=2)),
                    ignore_index=True)
    out = Path(__file__).resolve().parents[1] / "reports" / "validation"
    out.mkdir(parents=True, exist_ok=True)
    res.to_csv(out / "participation_by_seed.csv", index=False)
    res["error"] = res["estimate"] - res["truth"]
    res["covered"] = (res["ci_lower"] <= res["truth"]) & (res["truth"] <= res["ci_upper"])
    overall = res[res.group == "all"]
    cells = overall.groupby(["method", "programme", "outcome"])["error"].agg(["mean", "std", "count"])
    t_crit = stats.t.ppf(1 - 0.05 / (2 * len(cells)), df=len(VALIDATION_SEEDS) - 1)
    t_stat = cells["mean"] / (cells["std"] / np.sqrt(cells["count"]))
    assert ((cells["mean"].abs() < 0.01) | (t_stat.abs() < t_crit)).all(), cells.assign(t=t_stat, t_crit=t_crit)
    coverage = overall.groupby("method")["covered"].mean()
    assert ((coverage >= 0.90) & (coverage <= 0.99)).all(), coverage
    groups = res[(res.group != "all") & (res.n_treated >= 50)]
    assert (groups.groupby("method")["covered"].mean() >= 0.90).all()
