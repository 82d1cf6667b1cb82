"""The disclosure plans of outputs.py: curves, shares and effects published from protected counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reintegration_effects import disclosure as sdc
from reintegration_effects import outputs
from reintegration_effects.effects import propensity_histogram
from reintegration_effects.survival import aalen_johansen, kaplan_meier
from tests.test_attacks import _old_curve, attack_counts, attack_curve, attack_naive, attack_shares


def _km_exact(n=400, seed=1, entry=False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    duration = rng.geometric(0.08, n).astype(float)
    event = rng.random(n) < 0.8
    ent = np.where(rng.random(n) < 0.3, np.floor(duration * rng.random(n)), 0) if entry else None
    t = kaplan_meier(duration, event, ent)
    t.insert(0, "group", "all")
    t.insert(0, "dimension", "all")
    return t


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype(object).where(df.notna(), None).astype(str).replace({"None": None, "<NA>": None})


@pytest.mark.parametrize("entry", [False, True], ids=["from-start", "left-truncated"])
def test_km_is_published_from_rounded_counts(entry):
    exact = _km_exact(entry=entry)
    pub, counts = outputs.protect_table("km", exact)
    sdc.check_table(pub, name="km", count_cols=counts)
    steps = pub[pub["events"].notna()]
    assert len(steps) >= 5
    assert (steps["events"] >= 10).all() and (steps["events"] % 5 == 0).all() and (steps["persons"] % 5 == 0).all()
    # the published curve is the product of the published counts, nothing finer
    s = np.cumprod(1 - steps["events"].astype(float) / steps["persons"].astype(float))
    assert np.allclose(steps["survival"].astype(float), s)
    assert ((steps["ci_lower"] <= steps["survival"]) & (steps["survival"] <= steps["ci_upper"])).all()
    # and it stays close to the exact Kaplan-Meier curve: within the rounding of the counts
    exact_s = exact.set_index("time")["survival"].reindex(steps["time"].astype(float)).to_numpy()
    assert np.max(np.abs(exact_s - steps["survival"].astype(float).to_numpy())) < 0.03
    assert not attack_curve("km", _as_text(pub))
    assert attack_curve("km", _old_curve(exact)), "the attack must find the events in the exact curve"


def test_reentry_bands_are_bands_for_survival():
    exact = _km_exact(seed=3)
    exact["reentered"] = 1 - exact["survival"]
    exact["ci_lower"], exact["ci_upper"] = 1 - exact["ci_upper"], 1 - exact["ci_lower"]  # bands of reentered
    pub, _ = outputs.protect_table("reentry_km", exact)
    shown = pub[pub["survival"].notna()]
    assert ((shown["ci_lower"] <= shown["survival"]) & (shown["survival"] <= shown["ci_upper"])).all()


def test_cumulative_incidence_has_ten_events_of_every_destination_per_step():
    rng = np.random.default_rng(5)
    n = 600
    duration = rng.geometric(0.07, n).astype(float)
    cause = np.where(rng.random(n) < 0.15, 0, np.where(rng.random(n) < 0.8, 1, 2))
    aj = aalen_johansen(duration, cause, causes=(1, 2))
    aj["destination"] = aj["cause"].map({1: "werk", 2: "elsewhere"})
    aj.insert(0, "group", "all")
    aj.insert(0, "dimension", "all")
    pub, counts = outputs.protect_table("cumulative_incidence", aj.drop(columns=["cause", "variance"]))
    sdc.check_table(pub, name="cumulative_incidence", count_cols=counts)
    assert len(pub) and (pub["events"] >= 10).all()
    assert set(pub["destination"]) == {"werk", "elsewhere"}
    werk = pub[pub["destination"] == "werk"]
    assert werk["cumulative_incidence"].is_monotonic_increasing
    assert not attack_curve("cumulative_incidence", _as_text(pub))


def test_curve_tail_with_few_survivors_is_not_published():
    exact = _km_exact(n=60, seed=2)
    pub, _ = outputs.protect_table("km", exact)
    steps = pub[pub["events"].notna()]
    assert (steps["persons"] - steps["events"] >= 5).all()  # >= 10 survivors, as rounded
    assert steps["time"].max() < exact["time"].max()


def test_shares_and_intervals_come_from_rounded_counts():
    df = pd.DataFrame({"cohort": ["a", "b"], "persons": [271, 133], "persons_total": [301, 258],
                       "share": [271 / 301, 133 / 258], "ci_lower": [0.0, 0.0], "ci_upper": [1.0, 1.0]})
    pub, _ = outputs.protect_table("job_retention", df)
    assert pub["share"].tolist() == pytest.approx([0.9, 135 / 260], abs=5e-4)
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(np.array([270, 135]), np.array([300, 260]), method="wilson")
    assert pub["ci_lower"].astype(float).tolist() == pytest.approx(lo.tolist())
    assert not attack_shares("job_retention", _as_text(pub))


def test_naive_effects_are_rounded_to_the_group_size_and_bounded_counts_suppressed():
    rows = [dict(programme="p", group="all", outcome="y", method="naive", estimate=0.19207329545,
                 std_error=0.0148477, ci_lower=0.1629, ci_upper=0.2211, n_treated=1080, n_control=112980),
            dict(programme="p", group="g", outcome="y", method="naive", estimate=0.1234567,
                 std_error=0.0412345, ci_lower=0.04, ci_upper=0.2, n_treated=213, n_control=5000),
            dict(programme="p", group="h", outcome="y", method="naive", estimate=-0.5, std_error=0.1,
                 ci_lower=-0.7, ci_upper=-0.3, n_treated=14, n_control=5000),
            dict(programme="p", group="all", outcome="y", method="dml", estimate=0.0379616, std_error=0.0139,
                 ci_lower=0.0107, ci_upper=0.0652, n_treated=1080, n_control=112980)]
    pub, _ = outputs.protect_table("effects", pd.DataFrame(rows))
    assert pub["estimate"].tolist()[:2] == [0.192, 0.12]  # 3 decimals from 1,000 persons, 2 from 100
    assert pub["std_error"].tolist()[:2] == [0.015, 0.04]
    assert pub["ci_lower"].tolist()[0] == pytest.approx(round(0.192 - 1.959963984540054 * 0.015, 3))
    assert pd.isna(pub["estimate"][2]) and pub["suppressed"][2]  # 14 x (1 - 0.5) < 10: bounds a small count
    assert pub["estimate"][3] == pytest.approx(0.0379616)  # other methods keep their precision
    assert not attack_naive("effects", _as_text(pub))
    # the attack works: 31 of 1,081 minus 2,003 of 112,983 at full precision beside the rounded sizes
    precise = pd.DataFrame(rows[:1]).assign(estimate=31 / 1081 - 2003 / 112983, n_treated=1080, n_control=112985)
    assert attack_naive("effects", _as_text(precise))


def test_propensity_bins_have_fixed_edges():
    scores = pd.DataFrame({"programme": "p", "treated": [True] * 5 + [False] * 5,
                           "score": [0.01, 0.02, 0.31, 0.33, 0.0497, 0.9, 0.12, 0.051, 0.049, 0.999]})
    h = propensity_histogram(scores)
    assert h["bin"].iloc[:3].tolist() == ["0.00-0.05", "0.05-0.10", "0.10-0.15"]
    assert h["bin"].iloc[19] == "0.95-1.00"
    assert h["persons"].sum() == 10
    assert h.loc[(h["bin"] == "0.00-0.05") & h["treated"], "persons"].item() == 3


def test_cleaning_log_goes_through_the_gate(tmp_path):
    log = pd.DataFrame({"table": ["persons", "benefits", "jobs", "study"], "file": ["p.csv", "b.csv", "j.csv", "s"],
                        "outcome": ["kept", "merged", "rejected", "kept"],
                        "reason": ["valid rows kept", "=cmd", "x", "window"], "rows": [873, 3, 12, 0]})
    path = outputs.write_cleaning_log(log, tmp_path)
    assert path == tmp_path / "cleaning_log.csv"
    back = pd.read_csv(path)
    assert back["rows"].tolist()[0] == 875 and back["rows"].isna().tolist() == [False, True, False, True]
    assert back["reason"][1] == "'=cmd"
    assert not attack_counts("cleaning_log", pd.read_csv(path, dtype=str))


def test_disclosure_report_lists_tables_rules_and_suppressed_cells(tmp_path):
    records = []
    flows = pd.DataFrame({"cohort": "c", "horizon_months": 6, "status": ["werk", "ww", "bijstand"],
                          "persons": [50, 3, 40]})
    outputs.write_table(tmp_path, "flows", flows, records=records)
    outputs.write_cleaning_log(pd.DataFrame({"table": ["persons"], "file": ["p.csv"], "outcome": ["kept"],
                                             "reason": ["ok"], "rows": [120]}), tmp_path, records=records)
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "persons.csv").write_text("person_id\n1\n")
    rec = {r.name: r for r in records}
    assert (rec["flows"].suppressed_primary, rec["flows"].suppressed_secondary) == (1, 1)
    text = outputs.write_disclosure_report(tmp_path, records).read_text()
    assert "| `tables/flows.csv` | 3 |" in text and "| 1 | 1 | 2 |" in text
    assert "`cleaning_log.csv`" in text and "`input/persons.csv`" in text
    # without records: read from the files written, with the same numbers
    again = outputs.write_disclosure_report(tmp_path).read_text()
    assert "| `tables/flows.csv` | 3 |" in again and "| 1 | 1 | 2 |" in again


def test_one_registry_of_output_tables_serves_the_writer_the_checklist_and_the_docs(tmp_path):
    """OUTPUT_TABLES is the one list: each table has a plan, a file and a rule; the checklist quotes
    the rule; docs/disclosure.md describes every table; a table outside it cannot be written."""
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[1] / "docs" / "disclosure.md").read_text(encoding="utf-8")
    for name, table in outputs.OUTPUT_TABLES.items():
        assert table.name == name and table.rule and callable(table.plan)
        assert table.file in (f"tables/{name}.csv", "cleaning_log.csv")
        assert f"`{name}`" in docs, f"docs/disclosure.md does not describe {name}"
    record = outputs.table_record("km", pd.DataFrame({"persons": [10]}), tmp_path / "tables" / "km.csv", tmp_path)
    assert record.rule == outputs.OUTPUT_TABLES["km"].rule
    with pytest.raises(KeyError, match="no disclosure plan for output table 'secret'"):
        outputs.write_table(tmp_path, "secret", pd.DataFrame({"persons": [12]}))

