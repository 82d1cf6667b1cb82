"""Recipient types, re-entry, first jobs and group comparisons against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from reintegration_effects.flows import build_cohorts
from reintegration_effects.panel import build_panel
from reintegration_effects.typology import (
    TYPES,
    compare_proportions,
    compare_types,
    first_jobs,
    hours_band,
    job_quality,
    job_retention,
    reentry_rates,
    typology,
    typology_counts,
    typology_profile,
    typology_tables,
    wage_values,
    wilson_interval,
)

from .test_flows import COHORTS, cbs_register, hand_register

# Types over the 12 month ends after time zero (see hand_register's docstring for the people):
# stock 2020 (Jan-Dec 2020): P1 on bijstand throughout; P2 bijstand Jan-Mar then work; P3 bijstand
# Jan-Apr, WW May-Dec (back only in Feb 2021); P4 bijstand with work Jan-Aug then work to Dec;
# P6 has two re-entries in the window; P9 bijstand Jan-Mar then overig.
# outflow 2020: P2 work for 12 months; P3 WW, overig, back on bijstand Feb 2021 (within 12 months
# of 14 May 2020); P4 work Sep-Dec then overig; P5 overig Apr-May, bijstand again at 30 Jun.
EXPECTED_TYPES = {
    "stock_2020-01-01": {"P1": "continuous", "P2": "sustainable_work", "P3": "outflow_elsewhere",
                         "P4": "sustainable_work", "P6": "recidivist", "P9": "outflow_elsewhere"},
    "outflow_2020": {"P2": "sustainable_work", "P3": "short_outflow", "P4": "outflow_elsewhere",
                     "P5": "short_outflow", "P6": "recidivist", "P9": "outflow_elsewhere"},
}
# follow-up month ends on bijstand (with or without work)
EXPECTED_MONTHS_BIJSTAND = {
    "stock_2020-01-01": {"P1": 12, "P2": 3, "P3": 4, "P4": 8, "P6": 5, "P9": 3},  # P6: Jan, Apr, Oct-Dec
    "outflow_2020": {"P2": 0, "P3": 3, "P4": 0, "P5": 1, "P6": 5, "P9": 0},  # P6: Apr 2020, Oct 2020-Jan 2021
}


@pytest.fixture(scope="module")
def hand():
    data = hand_register()
    panel = build_panel(data)
    cs = build_cohorts(data, panel, cohorts=COHORTS, horizons=(6, 12))
    return data, panel, cs, typology(cs, panel)


def test_types_by_hand(hand):
    *_, typ = hand
    for cohort, want in EXPECTED_TYPES.items():
        sub = typ[typ.cohort == cohort].set_index("person_id")
        assert sub["type"].astype(str).to_dict() == want
        assert sub["months_bijstand"].to_dict() == EXPECTED_MONTHS_BIJSTAND[cohort]
        assert (sub["follow_up_months"] == 12).all()
    assert typ.set_index(["cohort", "person_id"]).loc[("outflow_2020", "P6"), "reentries_window"] == 2
    assert typ.set_index(["cohort", "person_id"]).loc[("outflow_2020", "P3"), "reentries_window"] == 1


def test_type_counts_and_profile(hand):
    *_, typ = hand
    counts = typology_counts(typ)
    assert list(counts.columns) == ["cohort", "type", "persons"]
    want = []
    for cohort, people in EXPECTED_TYPES.items():
        want += [(cohort, t, sum(v == t for v in people.values())) for t in TYPES]
    assert [tuple(r) for r in counts.itertuples(index=False)] == want
    prof = typology_profile(typ).set_index(["cohort", "type", "group"])
    short = prof.loc[("outflow_2020", "short_outflow")]  # P3 (F, 50+, no programme) and P5 (M, 27-49, programme)
    assert (short["persons_total"] == 2).all()
    assert short.loc["sex=F", "persons"] == 1 and short.loc["programme=yes", "persons"] == 1
    assert short.loc["age=50+", "persons"] == 1 and short.loc["age=18-26", "persons"] == 0
    # within a type and dimension the groups add up to the type's size
    tot = typology_profile(typ).groupby(["cohort", "type", "dimension"])
    assert (tot.persons.sum() == tot.persons_total.first()).all()


def test_reentry_rates_by_hand(hand):
    _, panel, cs, _ = hand
    got = reentry_rates(cs, panel).set_index(["destination", "horizon_months"])
    assert set(got.cohort) == {"outflow_2020"}
    # new spells: P3 on 1 Feb 2021 (9 months after 14 May 2020), P5 on 1 Jun 2020, P6 on 1 Apr 2020
    want = {("all", 6): (2, 6), ("all", 12): (3, 6), ("werk", 6): (0, 2), ("werk", 12): (0, 2),
            ("ww", 6): (0, 1), ("ww", 12): (1, 1), ("overig", 6): (2, 3), ("overig", 12): (2, 3)}
    for key, (k, n) in want.items():
        assert (got.loc[key, "persons"], got.loc[key, "persons_total"]) == (k, n), key
        assert got.loc[key, "share"] == pytest.approx(k / n)
        assert got.loc[key, "ci_lower"] <= k / n <= got.loc[key, "ci_upper"]


def test_reentry_on_the_cbs_cohort():
    # 75 persons back on bijstand and 20 with bijstand and work re-entered exactly 3 months after
    # leaving (time zero + DateOffset(months=3)): within 3 months (the bound is inclusive), not within 2
    data = cbs_register()
    cs = build_cohorts(data, cohorts=["outflow_2015"], horizons=(2, 3, 6))
    got = reentry_rates(cs, build_panel(data), by_destination=False).set_index("horizon_months")
    assert got.loc[2, "persons"] == 0 and got.loc[3, "persons"] == 95
    assert got.loc[6, "persons"] == 95 and got.loc[6, "persons_total"] == 460


def test_first_jobs_and_job_quality_by_hand(hand):
    data, _, cs, _ = hand
    jobs = first_jobs(data, cs).set_index("person_id")
    assert sorted(jobs.index) == ["P2", "P4"]  # the outflow members who left for work
    # P2 holds two jobs at 30 Apr 2020; the main job is the better paid permanent one
    p2 = jobs.loc["P2"]
    assert (p2.contract, p2.sector, p2.sector_nl, p2.sector_en, p2.hours_band, p2.monthly_wage) == (
        "permanent", "C", "Industrie", "Manufacturing", "35+", 2500.0)
    p4 = jobs.loc["P4"]
    assert (p4.contract, p4.sector, p4.hours_band) == ("agency", "N", "12-19")
    assert bool(p2.off_bijstand_12m) and bool(p4.off_bijstand_6m)
    jq = job_quality(first_jobs(data, cs)).set_index(["dimension", "value"])
    assert jq.loc[("contract", "permanent"), "persons"] == 1 and jq.loc[("contract", "on_call"), "persons"] == 0
    assert (jq["persons_total"] == 2).all()
    assert jq.loc[("sector", "N"), "label_en"].startswith("Administrative")
    assert jq.groupby("dimension").persons.sum().eq(2).all()  # every dimension is complete (incl. unknown)
    wages = wage_values(first_jobs(data, cs))
    assert sorted(wages.loc[wages.dimension == "all", "monthly_wage"]) == [900.0, 2500.0]
    assert wages.loc[(wages.dimension == "contract") & (wages.value == "agency"), "monthly_wage"].tolist() == [900.0]
    assert "person_id" not in wages


def test_job_retention_counts():
    # 10 persons left for permanent jobs (8 still off bijstand at 12 months), 5 for agency work (2)
    n = 15
    jobs = pd.DataFrame({
        "cohort": pd.Categorical(["outflow_2016"] * n),
        "sector": pd.Categorical(["G"] * n), "contract": pd.Categorical(["permanent"] * 10 + ["agency"] * 5),
        "hours_band": pd.Categorical(["35+"] * n),
        "off_bijstand_12m": pd.array([True] * 8 + [False] * 2 + [True] * 2 + [False] * 3, dtype="boolean"),
    })
    got = job_retention(jobs).set_index(["dimension", "value"])
    assert (got.loc[("contract", "permanent"), "persons"], got.loc[("contract", "permanent"), "persons_total"]) == (8, 10)
    assert (got.loc[("contract", "agency"), "persons"], got.loc[("contract", "agency"), "persons_total"]) == (2, 5)
    assert (got.loc[("all", "all"), "persons"], got.loc[("all", "all"), "persons_total"]) == (10, 15)
    lo, hi = wilson_by_formula(8, 10)
    assert got.loc[("contract", "permanent"), "ci_lower"] == pytest.approx(lo)
    assert got.loc[("contract", "permanent"), "ci_upper"] == pytest.approx(hi)
    assert ("contract", "on_call") not in got.index  # no persons: no share


def test_hours_band_edges():
    assert list(hours_band([0, 11.9, 12, 19.99, 20, 34.5, 35, 40, None])) == [
        "<12", "<12", "12-19", "12-19", "20-34", "20-34", "35+", "35+", "unknown"]


# ------------------------------------------------------------------------------------------------
# Group comparisons
# ------------------------------------------------------------------------------------------------


def wilson_by_formula(k, n, alpha=0.05):
    z = norm.ppf(1 - alpha / 2)
    centre = (k + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * np.sqrt(k * (n - k) / n + z * z / 4)
    return centre - half, centre + half


def newcomb_by_formula(k1, n1, k2, n2, alpha=0.05):
    """Newcomb (1998) method 10: the hybrid score interval from the two Wilson intervals."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_by_formula(k1, n1, alpha)
    l2, u2 = wilson_by_formula(k2, n2, alpha)
    d = p1 - p2
    return d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def test_wilson_interval_matches_the_formula():
    lo, hi = wilson_interval([0, 3, 10, 7], [10, 12, 10, 0])
    for i, (k, n) in enumerate([(0, 10), (3, 12), (10, 10)]):
        assert (lo[i], hi[i]) == pytest.approx(wilson_by_formula(k, n))
    assert np.isnan(lo[3]) and np.isnan(hi[3])


@pytest.mark.parametrize("k1,n1,k2,n2", [(120, 200, 80, 200), (3, 12, 0, 15), (40, 40, 35, 50)])
def test_compare_proportions_difference_and_ci(k1, n1, k2, n2):
    frame = pd.DataFrame({
        "cohort": "outflow_2016",
        "programme": [True] * n1 + [False] * n2,
        "stayed": [True] * k1 + [False] * (n1 - k1) + [True] * k2 + [False] * (n2 - k2),
    })
    got = compare_proportions(frame, "stayed", "programme").iloc[0]
    assert (got.group_a, got.group_b) == ("True", "False")
    assert (got.persons_a, got.events_a, got.persons_b, got.events_b) == (n1, k1, n2, k2)
    assert got.estimate == pytest.approx(k1 / n1 - k2 / n2)
    assert (got.ci_lower, got.ci_upper) == pytest.approx(newcomb_by_formula(k1, n1, k2, n2))
    p1, p2 = k1 / n1, k2 / n2
    assert got.std_error == pytest.approx(np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2))
    assert 0 <= got.p_value <= 1


def test_compare_proportions_strata_and_errors():
    frame = pd.DataFrame({"cohort": ["a"] * 4 + ["b"] * 4, "g": list("xyxyxyzz"), "y": [1, 0, 1, 1, 0, 0, 1, 1]})
    frame["y"] = frame["y"].astype(bool)
    got = compare_proportions(frame, "y", "g", a="x", b="y")
    assert got.cohort.tolist() == ["a", "b"]
    assert got.loc[0, ["persons_a", "events_a", "persons_b", "events_b"]].tolist() == [2, 2, 2, 1]
    assert got.loc[1, "persons_b"] == 1 and got.loc[1, "estimate"] == pytest.approx(0 - 0)
    with pytest.raises(ValueError, match="3 values"):
        compare_proportions(frame, "y", "g")
    with pytest.raises(ValueError, match="not found"):
        compare_proportions(frame, "y", "nope")


def test_sustainable_vs_short_outflow_by_programme(hand):
    *_, typ = hand
    got = compare_types(typ, "programme").set_index("cohort")
    # outflow 2020: programme P2 (sustainable) and P5 (short); no programme P3 (short)
    o = got.loc["outflow_2020"]
    assert (o.persons_a, o.events_a, o.persons_b, o.events_b) == (2, 1, 1, 0)
    assert o.estimate == pytest.approx(0.5)
    assert o.ci_lower < 0.5 < o.ci_upper and o.ci_lower < 0  # two and one persons: an honest, wide interval
    s = got.loc["stock_2020-01-01"]  # programme P2 (sustainable); no programme P4 (sustainable)
    assert (s.persons_a, s.events_a, s.persons_b, s.events_b) == (1, 1, 1, 1)


def test_typology_tables_bundle(hand):
    data, panel, cs, _ = hand
    tabs = typology_tables(data, panel, cs)
    assert set(tabs) == {"typology", "typology_profile", "reentry", "job_quality", "job_retention", "wages",
                         "sustainable_vs_short_by_programme"}
    pd.testing.assert_frame_equal(tabs["typology"], typology_counts(typology(cs, panel)))
    for name, t in tabs.items():
        if "persons" in t:
            assert t["persons"].dtype == np.int64, name
