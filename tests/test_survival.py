"""Survival analysis: published fits, hand-computed estimators, truth recovery, fast path vs lifelines.

Tolerances come from the standard errors or from rounding:
- the published Rossi fit is printed to 4 decimals, so the package must match to 5e-4;
- the discrete-time (cloglog) fit on Rossi person-weeks estimates the same log hazard ratios as
  the Cox model with Efron ties; the two differ only through the handling of ties within a week
  (weekly arrest hazard about 0.5%), so they must agree within 0.05 standard errors;
- truth recovery: each 95% CI should cover the truth; over k independent checks at least k - 1
  (k = 6) or k - 2 (k = 12) must cover (chance of failing with a correct estimator below 0.5%)
  and no |z| may exceed 3.5;
- fast path vs lifelines on the same monthly data: hazard ratios within 0.005 (2 decimals); the
  gap in principle is O(monthly hazard x |beta|), measured about 0.001 here. The exact
  like-with-like check is the Poisson form (== Cox with Breslow ties; == lifelines without ties),
  which must agree to 1e-8.
"""

from __future__ import annotations

import importlib.util
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from reintegration_effects import survival as sv
from reintegration_effects.contract import HAZARDS_COLUMNS
from reintegration_effects.errors import StatisticalWarning
from reintegration_effects.panel import build_panel, month_number
from reintegration_effects.survival import grouped_compiled

from .conftest import make_input

matplotlib.use("Agg")

ROSSI_PUBLISHED = {"fin": -0.3794, "age": -0.0574, "race": 0.3139, "wexp": -0.1498, "mar": -0.4337,
                   "paro": -0.0849, "prio": 0.0915}
ROSSI_COVS = list(ROSSI_PUBLISHED)


# --------------------------------------------------------------------------------------------
# A small self-contained simulator: monthly grouped proportional hazards
# --------------------------------------------------------------------------------------------

TRUE_HR = {"coaching": 1.5, "training": 1.0}
WINDOW = ("2019-01-01", "2022-12-31")


def _dates(m, day) -> pd.DatetimeIndex:
    """Dates (numpy datetime64) on ``day`` of absolute month ``m``; NaT where m < 0."""
    m = np.asarray(m, dtype=np.int64)
    ok = m >= 0
    mm = np.where(ok, m, 24000)
    out = pd.to_datetime(pd.DataFrame({"year": mm // 12, "month": mm % 12 + 1,
                                       "day": np.broadcast_to(np.asarray(day), m.shape)})).to_numpy()
    return np.where(ok, out, np.datetime64("NaT"))


def simulate_grouped_ph(n: int, seed: int):
    """Bijstand spells with a monthly cloglog exit-to-work hazard and time-varying programmes.

    The row of month m (on bijstand at its month end, k = m - spell start month) carries the
    exit hazard of the interval to the next month end: log h = log 0.06 - 0.35 log(1 + k/6)
    - 0.2 F - 0.25 [27-49] - 0.7 [50+] - 0.1 western - 0.4 non-western + log HR * programme(m),
    where programme(m) = 1 from the month a programme starts (day 15) for the rest of the spell.
    Take-up (4%/month x 1.5 under 50, x 0.5 from 50, x 1.2 for women) depends on the same
    covariates (confounding that the model adjusts for). Exits elsewhere 1.2%/month. After an exit
    re-entry 3%/month (6% after an agency job, 5% after 'overig'), starting a new spell in which
    programme terms start from zero again. Spells start from 36 months before to 44 months into
    the 48-month window (left truncation). Vectorised over persons, a loop over months.
    """
    rng = np.random.default_rng(seed)
    w0 = int(month_number([pd.Timestamp(WINDOW[0])])[0])
    w1 = w0 + 47
    s0 = w0 + rng.integers(-36, 44, n)
    female = rng.random(n) < 0.55
    birth_m = s0 - np.floor(rng.uniform(18, 62, n) * 12).astype(np.int64)
    mig = rng.choice(np.array(["dutch", "western", "non_western"]), n, p=[0.5, 0.15, 0.35])
    contracts = np.array(["permanent", "fixed_term", "agency", "on_call"])
    state = np.zeros(n, dtype=np.int8)  # 0 before the first spell, 1 on bijstand, 2 off
    spell_start, start_day = s0.copy(), rng.integers(1, 11, n)
    prog = {lab: np.zeros(n, dtype=bool) for lab in TRUE_HR}
    off_since, reentry_h = np.zeros(n, dtype=np.int64), np.zeros(n)
    spells, progs, jobs, backs = [], [], [], []
    for m in range(int(s0.min()), w1 + 1):
        new = (state == 0) & (s0 == m)
        back = (state == 2) & (m >= off_since + 1) & (rng.random(n) < reentry_h)
        backs.append(pd.DataFrame({"pid": np.flatnonzero(back), "m": m}))
        spell_start[new | back] = m
        start_day[back] = 5
        for lab in prog:
            prog[lab][new | back] = False
        state[new | back] = 1
        on = state == 1
        age = (m - birth_m) // 12
        take = on & ~prog["coaching"] & ~prog["training"] & (
            rng.random(n) < 0.04 * np.where(age < 50, 1.5, 0.5) * np.where(female, 1.2, 0.9))
        which = rng.random(n) < 0.5
        for lab, sel in (("coaching", take & which), ("training", take & ~which)):
            prog[lab][sel] = True
            progs.append(pd.DataFrame({"pid": np.flatnonzero(sel), "programme": lab, "m": m}))
        eta = (np.log(0.06) - 0.35 * np.log1p(np.maximum(m - spell_start, 0) / 6) - 0.2 * female
               - 0.25 * ((age >= 27) & (age < 50)) - 0.7 * (age >= 50)
               - 0.1 * (mig == "western") - 0.4 * (mig == "non_western")
               + sum(np.log(hr) * prog[lab] for lab, hr in TRUE_HR.items()))
        work = on & (rng.random(n) < -np.expm1(-np.exp(eta)))
        other = on & ~work & (rng.random(n) < 0.012)
        ended = work | other
        spells.append(pd.DataFrame({"pid": np.flatnonzero(ended), "s": spell_start[ended],
                                    "d": start_day[ended], "e": m + 1}))
        c = contracts[rng.integers(0, 4, n)]
        hours = rng.choice(np.array([8.0, 20.0, 32.0]), n)
        jobs.append(pd.DataFrame({"pid": np.flatnonzero(work), "m": m + 1, "contract": c[work], "hours": hours[work]}))
        reentry_h[work] = np.where(c[work] == "agency", 0.06, 0.03)
        reentry_h[other] = 0.05
        state[ended] = 2
        off_since[ended] = m + 1
    on = state == 1
    spells.append(pd.DataFrame({"pid": np.flatnonzero(on), "s": spell_start[on], "d": start_day[on], "e": -1}))
    sp = pd.concat(spells, ignore_index=True).sort_values(["pid", "s"])
    benefits = pd.DataFrame({"person_id": sp["pid"].astype(str).to_numpy(), "benefit": "bijstand",
                             "start": _dates(sp["s"], sp["d"]),
                             "end": _dates(sp["e"], 10)})
    pr = pd.concat(progs, ignore_index=True)
    programmes = pd.DataFrame({"person_id": pr["pid"].astype(str).to_numpy(), "programme": pr["programme"].to_numpy(),
                               "start": _dates(pr["m"], 15), "end": _dates(pr["m"] + 3, 14)})
    jb = pd.concat(jobs, ignore_index=True).sort_values("m")
    bk = pd.concat(backs, ignore_index=True).sort_values("m").rename(columns={"m": "back"})
    jb = pd.merge_asof(jb, bk, left_on="m", right_on="back", by="pid", direction="forward",
                       allow_exact_matches=False)  # a job ends the day before its holder returns
    jobs_df = pd.DataFrame({"person_id": jb["pid"].astype(str).to_numpy(), "start": _dates(jb["m"], 11),
                            "end": _dates(jb["back"].fillna(-1).astype(np.int64), 4),
                            "sector": "N", "contract": jb["contract"].to_numpy(), "hours_per_week": jb["hours"].to_numpy(),
                            "monthly_wage": 2000.0})
    persons = pd.DataFrame({"person_id": np.arange(n).astype(str), "sex": np.where(female, "F", "M"),
                            "birth_date": _dates(birth_m, 15), "migration_background": mig,
                            "education": "medium", "status_holder": False})
    return make_input(*(f.to_dict("records") for f in (persons, pd.DataFrame(columns=["person_id"]), benefits,
                                                       jobs_df, programmes)), window=WINDOW)


SIM_COVARIATES = ("sex", "age", "migration")


@pytest.fixture(scope="module")
def sims():
    """Three simulated municipalities (fixed seeds) and their panels."""
    out = []
    for seed in (11, 12, 13):
        data = simulate_grouped_ph(2500, seed)
        out.append((seed, data, build_panel(data)))
    return out


def _z(summary: pd.DataFrame, term: str, truth: float) -> float:
    r = summary.loc[term]
    return float((r["estimate"] - np.log(truth)) / r["std_error"])


# --------------------------------------------------------------------------------------------
# Published Cox fit (Rossi recidivism data) through the package's own model code
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rossi():
    from lifelines.datasets import load_rossi

    return load_rossi()


def test_rossi_published_cox_fit_through_package(rossi):
    res = sv.CoxModel(name="rossi").fit(rossi, duration_col="week", event_col="arrest", covariates=ROSSI_COVS)
    s = res.summary
    for term, coef in ROSSI_PUBLISHED.items():
        assert s.loc[term, "estimate"] == pytest.approx(coef, abs=5e-4), term
    assert s.loc["fin", "std_error"] == pytest.approx(0.1914, abs=5e-4)
    assert s.loc["fin", "hazard_ratio"] == pytest.approx(np.exp(-0.3794), abs=1e-3)
    assert res.n == 432 and res.n_events == 114
    # the same data as start/stop episodes through the time-varying class: identical fit
    ep = rossi.assign(start=0, id=np.arange(len(rossi))).rename(columns={"week": "stop"})
    tv = sv.TimeVaryingCoxModel().fit(ep, id_col="id", event_col="arrest", covariates=ROSSI_COVS)
    np.testing.assert_allclose(tv.params_[ROSSI_COVS], res.params_[ROSSI_COVS], atol=1e-6)


def test_rossi_cloglog_on_person_weeks_matches_cox(rossi):
    cox = sv.CoxModel().fit(rossi, duration_col="week", event_col="arrest", covariates=ROSSI_COVS)
    pw = sv.expand_person_periods(rossi, duration_col="week", event_col="arrest")
    assert len(pw) == rossi["week"].sum() and pw["event"].sum() == 114
    dt = sv.DiscreteTimeModel(link="cloglog", solver="statsmodels").fit(pw, time_col="time", event_col="event",
                                                                        covariates=ROSSI_COVS)
    assert dt.engine == "statsmodels.GLM(cloglog)"
    gap = (dt.params_ - cox.params_).abs() / cox.standard_errors_
    assert (gap < 0.05).all(), gap
    for term, coef in ROSSI_PUBLISHED.items():  # and so close to the published numbers
        assert dt.params_[term] == pytest.approx(coef, abs=0.05 * cox.standard_errors_[term])
    # the structured solver for large registers maximises the same likelihood
    nt = sv.DiscreteTimeModel(link="cloglog", solver="newton").fit(pw, time_col="time", event_col="event",
                                                                   covariates=ROSSI_COVS)
    np.testing.assert_allclose(nt.params_, dt.params_, atol=1e-7)
    np.testing.assert_allclose(nt.standard_errors_, dt.standard_errors_, atol=1e-7)
    np.testing.assert_allclose(nt.baseline_["coef"], dt.baseline_["coef"], atol=1e-6)
    np.testing.assert_allclose(nt.ph_test()["test_statistic"], dt.ph_test()["test_statistic"], rtol=1e-5)


def test_collapsed_and_uncollapsed_fits_are_identical(rossi):
    pw = sv.expand_person_periods(rossi, duration_col="week", event_col="arrest")
    model = sv.DiscreteTimeModel(solver="statsmodels")
    a = model.fit(pw, time_col="time", event_col="event", covariates=["fin", "race", "wexp"])
    b = model.fit(pw, time_col="time", event_col="event", covariates=["fin", "race", "wexp"], collapse=False)
    assert len(a.cells_) < len(b.cells_) / 5  # the collapse does collapse
    np.testing.assert_allclose(a.params_, b.params_, atol=1e-8)
    np.testing.assert_allclose(a.standard_errors_, b.standard_errors_, atol=1e-8)


def test_ph_test_and_concordance_match_lifelines(rossi):
    from lifelines.statistics import proportional_hazard_test
    from lifelines.utils import concordance_index

    res = sv.CoxModel().fit(rossi, duration_col="week", event_col="arrest", covariates=ROSSI_COVS)
    ref = proportional_hazard_test(res.fitter, rossi, time_transform="km").summary
    ph = res.ph_test()
    assert list(ph.columns) == ["model", "term", "test", "test_statistic", "df", "p_value", "fails", "recommendation"]
    # own start/stop implementation (used for time-varying models) == lifelines' on the same data
    ep = rossi.assign(start=0, id=np.arange(len(rossi))).rename(columns={"week": "stop"})
    tv = sv.TimeVaryingCoxModel().fit(ep, id_col="id", event_col="arrest", covariates=ROSSI_COVS)
    np.testing.assert_allclose(tv.ph_test()["test_statistic"], ph["test_statistic"], rtol=1e-4)
    # age and wexp break proportional hazards in Rossi (as in lifelines' documentation)
    failing = set(ph.loc[ph["fails"], "term"])
    assert {"age", "wexp"} <= failing
    assert ref.loc["age", "p"] < 0.05
    assert all(ph.loc[ph["fails"], "recommendation"].str.len() > 20)
    assert (ph.loc[~ph["fails"], "recommendation"] == "").all()
    lin = rossi[ROSSI_COVS].to_numpy() @ res.params_.to_numpy()
    assert res.concordance_ == pytest.approx(concordance_index(rossi["week"], -lin, rossi["arrest"]), abs=1e-12)
    assert tv.concordance_ == pytest.approx(res.concordance_, abs=1e-12)


# --------------------------------------------------------------------------------------------
# Non-parametric estimators, hand-computed
# --------------------------------------------------------------------------------------------


def tiny_panel(person_rows):
    """Spells (entry, duration, outcome): A1 (2, 4, werk), A2 (0, 1, censored), B (0, 5, censored),
    C (0, 2, overig), E (3, 8, censored); A re-enters 3 months after leaving for an agency job.
    A censored spell covering d month ends up to the window's last one is known to survive d - 1
    months: whether it ends by the next month end is not observed."""
    data = make_input(
        persons=person_rows("A", "B", "C", "E"),
        benefits=[
            dict(person_id="A", benefit="bijstand", start="2019-11-15", end="2020-03-10"),
            dict(person_id="A", benefit="bijstand", start="2020-05-10", end=None),
            dict(person_id="B", benefit="bijstand", start="2020-01-31", end=None),
            dict(person_id="C", benefit="bijstand", start="2020-02-10", end="2020-04-15"),
            dict(person_id="E", benefit="bijstand", start="2019-10-15", end=None),
        ],
        jobs=[dict(person_id="A", start="2020-03-11", end=None, contract="agency", hours_per_week=10)],
    )
    return data, build_panel(data)


def test_spell_table_entry_duration_cause(person_rows):
    _, panel = tiny_panel(person_rows)
    st = sv.spell_table(panel).set_index("person_id")
    a = st.loc["A"].sort_values("start")
    assert a["entry"].tolist() == [2, 0] and a["duration"].tolist() == [4, 1]
    assert a["event"].tolist() == [True, False] and a["cause"].tolist() == [1, 0]
    assert (st.loc["B", "entry"], st.loc["B", "duration"], st.loc["B", "event"]) == (0, 5, False)
    assert (st.loc["C", "duration"], st.loc["C", "cause"], st.loc["C", "destination"]) == (2, 2, "overig")
    assert (st.loc["E", "entry"], st.loc["E", "duration"]) == (3, 8)


def test_kaplan_meier_left_truncation_hand_computed(person_rows):
    _, panel = tiny_panel(person_rows)
    km = sv.km_by_group(panel, by="all").set_index("time")
    # risk sets entry < t <= duration: t=2: B, C (C leaves) -> 1/2; t=4: A1, B, E (A1 leaves) -> 2/3
    expected = {0: 1, 1: 1, 2: 1 / 2, 3: 1 / 2, 4: 1 / 3, 5: 1 / 3, 8: 1 / 3}
    for t, s in expected.items():
        assert km.loc[t, "survival"] == pytest.approx(s, abs=1e-12), t
    assert km["persons"].tolist() == [3, 3, 2, 2, 3, 2, 1, 1, 1]
    assert km.loc[2, "events"] == 1 and km.loc[4, "events"] == 1
    assert (km["ci_lower"] <= km["survival"] + 1e-12).all() and (km["ci_upper"] >= km["survival"] - 1e-12).all()
    # ignoring the truncation would give S(2) = 3/4 (A1 and E wrongly at risk at t = 2)
    naive = sv.kaplan_meier([4, 1, 5, 2, 8], [1, 0, 0, 1, 0])
    assert naive.set_index("time").loc[2, "survival"] == pytest.approx(3 / 4)
    med = sv.median_durations(panel, by="all")
    assert med.loc[0, "median_months"] == 2 and med.loc[0, "persons"] == 5


def test_cumulative_incidence_hand_computed(person_rows):
    _, panel = tiny_panel(person_rows)
    ci = sv.cumulative_incidence_by_group(panel, by="all")
    werk = ci[ci["destination"] == "werk"].set_index("time")
    other = ci[ci["destination"] == "elsewhere"].set_index("time")
    assert other.loc[2, "cumulative_incidence"] == pytest.approx(1 / 2)
    assert werk.loc[4, "cumulative_incidence"] == pytest.approx(1 / 2 * 1 / 3)  # S(3) * d/n
    assert werk.loc[4, "one_minus_km"] == pytest.approx(1 / 3)  # the wrong curve is larger
    # all destinations plus still on bijstand add up to one
    assert werk.loc[4, "cumulative_incidence"] + other.loc[4, "cumulative_incidence"] + werk.loc[4, "survival"] \
        == pytest.approx(1.0)
    assert "persons" in ci.columns


def test_aalen_johansen_and_logrank_match_lifelines_without_ties():
    from lifelines import AalenJohansenFitter
    from lifelines.statistics import multivariate_logrank_test

    rng = np.random.default_rng(0)
    n = 300
    t, c = rng.exponential(10, n), rng.exponential(15, n)
    cause = np.where(t < c, rng.integers(1, 3, n), 0)
    d = np.minimum(t, c)
    aj = sv.aalen_johansen(d, cause)
    for k in (1, 2):
        ref = AalenJohansenFitter().fit(d, cause, event_of_interest=k)
        mine = aj[aj["cause"] == k].set_index("time")
        np.testing.assert_allclose(mine["cumulative_incidence"], ref.cumulative_density_.iloc[:, 0].reindex(mine.index),
                                   atol=1e-12)
        mine = mine[mine["cumulative_incidence"] > 0]  # lifelines leaves the bands undefined at 0
        # lifelines labels its columns the other way round; the values are the same bands
        np.testing.assert_allclose(mine[["ci_lower", "ci_upper"]].to_numpy(),
                                   ref.confidence_interval_.reindex(mine.index).to_numpy(), atol=1e-10)
    g = rng.integers(0, 3, n)
    mine = sv.logrank_test(d, cause > 0, g)
    ref = multivariate_logrank_test(d, g, cause > 0)
    assert mine["test_statistic"] == pytest.approx(ref.test_statistic, rel=1e-10)
    assert mine["df"] == 2


def test_reentry_table_hand_computed(person_rows):
    data, panel = tiny_panel(person_rows)
    r = sv.reentry_table(panel, data).set_index("person_id")
    a = r.loc["A"]
    assert (a["duration"], a["event"], a["destination"], a["contract"], a["job_hours"]) == (3, True, "werk", "agency", "<12")
    assert a["exit_month"] == pd.Timestamp("2020-03-31")
    c = r.loc["C"]  # left in April, no return by the window end (June): censored after 3 months
    assert (c["duration"], c["event"], c["contract"]) == (3, False, "none")
    km = sv.reentry_km(panel, data, by="destination").set_index(["group", "time"])
    assert km.loc[("destination=werk", 3), "reentered"] == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------
# Programme participation as a time-varying covariate
# --------------------------------------------------------------------------------------------


def programme_case(person_rows):
    return make_input(
        persons=person_rows("P", "Q"),
        benefits=[
            dict(person_id="P", benefit="bijstand", start="2020-01-05", end="2020-06-10"),
            dict(person_id="P", benefit="bijstand", start="2020-08-03", end=None),
            dict(person_id="Q", benefit="bijstand", start="2020-01-05", end=None),
        ],
        jobs=[dict(person_id="P", start="2020-06-11", end="2020-07-31", contract="permanent")],
        programmes=[
            dict(person_id="P", programme="coaching", start="2020-03-15", end="2020-04-20"),
            dict(person_id="P", programme="training", start="2020-10-01", end="2020-11-30"),
        ],
        window=("2020-01-01", "2020-12-31"),
    )


def test_programme_term_switches_on_in_start_month_and_resets_per_spell(person_rows):
    data = programme_case(person_rows)
    panel = build_panel(data)
    pp = sv.exit_person_periods(panel, data, covariates=("sex",), lock_in=True)
    p = pp[pp["person_id"] == "P"].sort_values(["spell_id", "start"])
    s1, s2 = (g for _, g in p.groupby("spell_id"))
    assert s1["start"].tolist() == [0, 1, 2, 3, 4] and s1["stop"].tolist() == [1, 2, 3, 4, 5]
    assert s1["programme=coaching"].tolist() == [0, 0, 1, 1, 1]  # March on, for the rest of the spell
    assert s1["lock_in=coaching"].tolist() == [0, 0, 1, 0, 0]  # covers the March month end only
    assert s1["event"].tolist() == [0, 0, 0, 0, 1]  # left for work in June (May row)
    # spell 2 runs Aug-Dec; December (the window's last month) has no row: its outcome is unobserved
    assert s2["start"].tolist() == [0, 1, 2, 3]
    assert s2["programme=coaching"].tolist() == [0] * 4  # a new spell starts without it
    assert s2["programme=training"].tolist() == [0, 0, 1, 1]
    assert s2["lock_in=training"].tolist() == [0, 0, 1, 1]
    assert s2["event"].sum() == 0
    ep = sv.exit_episodes(panel, data, covariates=("sex",), lock_in=True)
    e1 = ep[ep["spell_id"] == s1["spell_id"].iloc[0]]
    assert list(zip(e1["start"], e1["stop"], e1["event"], strict=True)) == [(0, 2, 0), (2, 3, 0), (3, 5, 1)]
    d = sv._exit_design(panel, data, destination="werk", covariates=("sex",), programmes=None, lock_in=False)
    p_rows = d.person_id == "P"
    assert d.ever.loc[p_rows, "programme=coaching"].tolist() == [1] * 5 + [0] * 4  # the 'ever' dummy


def test_truth_recovery_own_simulator_several_seeds(sims):
    zs, zs_ever = [], []
    for _seed, data, panel in sims:
        res = sv.ExitToWorkModel(covariates=SIM_COVARIATES, engine="lifelines").fit(panel, data)
        for lab, hr in TRUE_HR.items():
            zs.append(_z(res.summary, f"programme={lab}", hr))
            zs_ever.append(_z(res.ever.summary, f"programme={lab}", hr))
        assert res.engine == "lifelines.CoxTimeVaryingFitter"
        assert res.summary.loc["age=50+", "hazard_ratio"] < 0.7  # true 0.50
    zs, zs_ever = np.array(zs), np.array(zs_ever)
    covered = (np.abs(zs) < 1.96).sum()
    assert covered >= len(zs) - 1, zs
    assert (np.abs(zs) < 3.5).all(), zs
    # negative control: the 'ever participated' dummy (immortal-time bias) misses the truth
    assert (np.abs(zs_ever) > 3.5).sum() >= len(zs_ever) - 1, zs_ever
    assert (zs_ever < 0).all()  # biased against the programme: the event is the desired exit


def test_fast_path_matches_lifelines_on_same_monthly_data(sims):
    _seed, data, panel = sims[0]
    kw = dict(covariates=SIM_COVARIATES, fit_ever=False)
    a = sv.ExitToWorkModel(engine="lifelines", **kw).fit(panel, data)
    b = sv.ExitToWorkModel(engine="discrete", **kw).fit(panel, data)
    assert "cloglog" in b.engine
    assert list(a.params_.index) == list(b.params_.index)
    diff = (a.hazard_ratios_ - b.hazard_ratios_).abs()
    assert diff.max() < 0.005, diff  # 2 decimals in the hazard ratios
    assert ((a.standard_errors_ - b.standard_errors_).abs() / a.standard_errors_).max() < 0.01
    assert len(b.cells_) < len(sv.exit_person_periods(panel, data, covariates=SIM_COVARIATES)) / 3


def test_poisson_form_reproduces_lifelines_exactly_without_ties():
    """Like with like: piecewise exponential with one interval per event time == Cox partial
    likelihood (Breslow ties == Efron without ties), here with a time-varying term."""
    rng = np.random.default_rng(1)
    n = 300
    t, c = rng.exponential(10, n), rng.exponential(15, n)
    ev, d = (t < c).astype(int), np.minimum(t, c)
    x, z, tch = rng.integers(0, 2, n), rng.normal(size=n), rng.exponential(6, n)
    et = np.unique(d[ev == 1])
    i, j = np.nonzero(d[:, None] >= et[None, :])  # subject i at risk at event time j
    pp = pd.DataFrame({"time": et[j], "event": ((d[i] == et[j]) & (ev[i] == 1)).astype(int), "x": x[i],
                       "z": z[i], "prog": (et[j] > tch[i]).astype(int)})
    pw = sv.DiscreteTimeModel(link="log").fit(pp, time_col="time", event_col="event", covariates=["x", "z", "prog"])
    switched = tch < d
    ep = pd.concat([
        pd.DataFrame({"id": np.arange(n), "start": 0.0, "stop": np.where(switched, tch, d),
                      "event": np.where(switched, 0, ev), "prog": 0}),
        pd.DataFrame({"id": np.arange(n)[switched], "start": tch[switched], "stop": d[switched],
                      "event": ev[switched], "prog": 1}),
    ]).assign(x=lambda f: x[f["id"]], z=lambda f: z[f["id"]])
    cox = sv.TimeVaryingCoxModel().fit(ep, id_col="id", covariates=["x", "z", "prog"])
    np.testing.assert_allclose(pw.params_, cox.params_, atol=1e-8)
    np.testing.assert_allclose(pw.standard_errors_, cox.standard_errors_, atol=1e-8)


def test_results_api_and_hazards_rows(sims):
    _seed, data, panel = sims[1]
    res = sv.ExitToWorkModel(covariates=SIM_COVARIATES, lock_in=True).fit(panel, data)
    assert res.model_name == "exit_to_work"
    assert {"programme=coaching", "lock_in=coaching", "sex=F", "age=27-49", "age=50+",
            "migration=western", "migration=non_western"} <= set(res.params_.index)
    frame = res.to_frame()
    assert list(frame.columns[:5]) == list(HAZARDS_COLUMNS)
    assert (frame["ci_lower"] < frame["hazard_ratio"]).all() and (frame["hazard_ratio"] < frame["ci_upper"]).all()
    assert {"std_error", "p_value", "n", "n_events", "term_events"} <= set(frame.columns)
    ci = res.confidence_intervals_
    assert ci.shape == (len(res.params_), 2)
    np.testing.assert_allclose(np.exp(ci.iloc[:, 0]), res.summary["ci_lower"])
    ax = res.plot()
    assert len(ax.get_yticklabels()) == len(res.params_)
    diag = res.diagnostics()
    assert {"term", "p_value", "fails", "recommendation", "concordance"} <= set(diag.columns)
    assert 0.5 < res.concordance_ < 1
    imm = res.immortal_time_bias()
    assert list(imm["programme"]) == ["coaching", "training"]
    assert (imm["hazard_ratio_ever"] < imm["hazard_ratio"]).all()
    from reintegration_effects.plain_language import COMPETING_RISKS_TEXT, IMMORTAL_TIME_TEXT

    assert "1 - KM" in COMPETING_RISKS_TEXT["en"] and "immortal" in IMMORTAL_TIME_TEXT["en"]


def test_reentry_model_recovers_contract_effect(sims):
    _seed, data, panel = sims[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        res = sv.ReentryModel(covariates=("sex",)).fit(panel, data)
        fast = sv.ReentryModel(covariates=("sex",), engine="discrete").fit(panel, data)
    s = res.summary
    assert res.model_name == "reentry" and res.engine == "lifelines.CoxPHFitter"
    # truth: agency 6%/month vs 3% (HR about 2), overig 5% vs 3% (about 1.7), hours no effect
    assert abs(_z(s, "contract=agency", 2.0)) < 3.5
    assert s.loc["contract=agency", "ci_lower"] > 1
    assert s.loc["exit=overig", "ci_lower"] > 1
    assert abs(_z(s, "job_hours=<12", 1.0)) < 3.5
    assert (fast.hazard_ratios_ - res.hazard_ratios_).abs().max() < 0.01


def test_survival_tables_and_group_outputs(sims):
    _seed, data, panel = sims[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        out = sv.survival_tables(panel, data)
    assert set(out["hazards"]["model"]) == {"exit_to_work", "reentry"}
    km = out["km"]
    assert {"dimension", "group", "time", "survival", "ci_lower", "ci_upper", "persons"} <= set(km.columns)
    assert {"all", "sex=F", "sex=M", "age=50+", "migration=non_western"} <= set(km["group"])
    lr = out["logrank"].set_index("dimension")
    assert lr.loc["age", "p_value"] < 1e-3  # the simulated hazard differs strongly by age band
    assert set(out["cumulative_incidence"]["destination"]) == {"werk", "elsewhere"}
    assert len(out["immortal_time"]) == 2 and not out["ph_tests"].empty


def test_input_errors_name_the_column(rossi):
    with pytest.raises(ValueError, match="weeks"):
        sv.CoxModel().fit(rossi, duration_col="weeks", event_col="arrest")
    with pytest.raises(ValueError, match="engine"):
        sv.ExitToWorkModel(engine="fast").fit(*_tiny_for_errors())


def _tiny_for_errors():
    data = programme_case(lambda *ids: [dict(person_id=i, sex="F", birth_date="1980-05-01",
                                              migration_background="dutch", education="low",
                                              status_holder=False) for i in ids])
    return build_panel(data), data


# --------------------------------------------------------------------------------------------
# The package's simulated municipality (reintegration_effects.simulate)
# --------------------------------------------------------------------------------------------

HAS_SIMULATOR = importlib.util.find_spec("reintegration_effects.simulate") is not None


def _recovery_on_simulated(seeds, n_persons):
    from reintegration_effects.datasets import load_simulated

    zs = []
    for seed in seeds:
        data, truth = load_simulated(n_persons, seed=seed, effects="constant")
        panel = build_panel(data)
        hr = truth.hazard_ratios
        post = hr[(hr["group"] == "all") & (hr["phase"] == "post")].set_index("programme")["hazard_ratio"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            res = sv.ExitToWorkModel(fit_ever=False).fit(panel, data)
        for prog, true_hr in post.items():
            zs.append(_z(res.summary, f"programme={prog}", true_hr))
    return np.array(zs)


@pytest.mark.skipif(not HAS_SIMULATOR, reason="reintegration_effects.simulate not written yet")
def test_truth_recovery_simulated_municipality_several_seeds():
    zs = _recovery_on_simulated((1, 2, 3), 2500)
    assert len(zs) == 12  # four programmes x three seeds
    assert (np.abs(zs) < 1.96).sum() >= len(zs) - 2, zs
    assert (np.abs(zs) < 3.5).all(), zs


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SIMULATOR, reason="reintegration_effects.simulate not written yet")
def test_truth_recovery_simulated_municipality_many_seeds():
    zs = _recovery_on_simulated(range(100, 110), 6000)
    coverage = (np.abs(zs) < 1.96).mean()
    assert coverage >= 0.85, zs  # 40 checks; with a correct estimator P(coverage < 0.85) < 1%
    assert abs(zs.mean()) < 3 / np.sqrt(len(zs)) * 1.5, zs


@pytest.mark.slow
def test_truth_recovery_own_simulator_many_seeds():
    zs = []
    for seed in range(200, 220):
        data = simulate_grouped_ph(2500, seed)
        res = sv.ExitToWorkModel(covariates=SIM_COVARIATES, fit_ever=False).fit(build_panel(data), data)
        zs += [_z(res.summary, f"programme={lab}", hr) for lab, hr in TRUE_HR.items()]
    zs = np.array(zs)
    assert (np.abs(zs) < 1.96).mean() >= 0.85, zs
    assert abs(zs.mean()) < 0.5, zs


# --------------------------------------------------------------------------------------------
# The large-register path: proportional-hazards score test, chunks and batches, shortcuts
# --------------------------------------------------------------------------------------------


def _non_ph_person_months(n: int, seed: int) -> pd.DataFrame:
    """Person-months with a monthly cloglog hazard log(0.05) + (0.6 - 0.5 log t) x1 + 0.3 x2: the
    effect of x1 falls with duration (non-proportional), that of x2 is constant; up to 36 months,
    random censoring."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.random(n) < 0.5, rng.random(n) < 0.4
    t = np.arange(1, 37)
    eta = np.log(0.05) + np.outer(x1, 0.6 - 0.5 * np.log(t)) + 0.3 * x2[:, None]
    event = rng.random((n, len(t))) < -np.expm1(-np.exp(eta))
    last = np.minimum(np.where(event.any(axis=1), event.argmax(axis=1), len(t) - 1), rng.integers(3, 36, n))
    rows = np.repeat(np.arange(n), last + 1)
    time = np.arange(len(rows)) - np.repeat(np.cumsum(last + 1) - (last + 1), last + 1) + 1
    return pd.DataFrame({"time": time, "event": event[rows, time - 1].astype(np.int8),
                         "x1": x1[rows].astype(np.int8), "x2": x2[rows].astype(np.int8)})


def _wald_interaction(df: pd.DataFrame, term: str, solver: str) -> float:
    """Wald statistic of term x log(time) (centred as in the package) from refitting the model."""
    g = np.log(df["time"].to_numpy(float))
    g = g - np.average(g, weights=df["event"].to_numpy(float))
    res = sv.DiscreteTimeModel(solver=solver).fit(df.assign(z=df[term] * g), time_col="time", event_col="event",
                                                  covariates=["x1", "x2", "z"])
    return float((res.params_["z"] / res.standard_errors_["z"]) ** 2)


@pytest.mark.parametrize("solver", ["statsmodels", "newton"])
def test_discrete_ph_score_test_finds_a_time_varying_effect_only(solver):
    df = _non_ph_person_months(20_000, seed=5)
    res = sv.DiscreteTimeModel(solver=solver).fit(df, time_col="time", event_col="event", covariates=["x1", "x2"])
    ph = res.ph_test().set_index("term")
    assert (ph["test"] == "interaction with log(duration), score").all()
    assert ph.loc["x1", "p_value"] < 1e-6 and ph.loc["x1", "fails"]  # beta_1(t) = 0.6 - 0.5 log t
    assert ph.loc["x2", "p_value"] > 0.05 and not ph.loc["x2", "fails"]  # proportional
    # the score test needs no refit; the Wald test of the same interaction (refit) agrees
    wald = _wald_interaction(df, "x1", solver)
    assert ph.loc["x1", "test_statistic"] == pytest.approx(wald, rel=0.1)


def test_ph_score_test_does_not_reject_under_proportional_hazards():
    """Under proportional hazards the p-values are uniform: over 20 simulated data sets the test
    rejects at 5% about once (at most 4 with a correct test, chance of more below 2%)."""
    rejections, pvals = 0, []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        n, t = 3000, np.arange(1, 25)
        x = rng.random(n) < 0.5
        eta = np.log(0.06) - 0.3 * np.log(t)[None, :] + 0.4 * x[:, None]
        event = rng.random((n, len(t))) < -np.expm1(-np.exp(eta))
        last = np.where(event.any(axis=1), event.argmax(axis=1), len(t) - 1)
        rows = np.repeat(np.arange(n), last + 1)
        time = np.arange(len(rows)) - np.repeat(np.cumsum(last + 1) - (last + 1), last + 1) + 1
        df = pd.DataFrame({"time": time, "event": event[rows, time - 1].astype(np.int8), "x": x[rows].astype(np.int8)})
        p = sv.DiscreteTimeModel(solver="newton").fit(df, time_col="time", event_col="event",
                                                      covariates=["x"]).ph_test()["p_value"].iloc[0]
        pvals.append(p)
        rejections += p < 0.05
    assert rejections <= 4, pvals
    assert 0.3 < np.mean(pvals) < 0.7, pvals


def test_chunked_passes_and_batched_collapse_match_one_piece(rossi, monkeypatch):
    """The fits accumulate over chunks of cells and collapse in batches of intervals; tiny chunks
    and batches (many interval segments cut by chunk borders, 0/1 terms through bit patterns,
    continuous ones dense) give the same fit, cells and tests as one piece."""
    pw = sv.expand_person_periods(rossi, duration_col="week", event_col="arrest")
    kw = dict(time_col="time", event_col="event", covariates=ROSSI_COVS)
    one = sv.DiscreteTimeModel(solver="newton").fit(pw, **kw)
    monkeypatch.setattr(sv.grouped, "_CHUNK_CELLS", 64)  # read where they are defined
    monkeypatch.setattr(sv.grouped, "_COLLAPSE_ROWS", 1024)
    many = sv.DiscreteTimeModel(solver="newton").fit(pw, **kw)
    np.testing.assert_allclose(many.params_, one.params_, rtol=1e-10)
    np.testing.assert_allclose(many.standard_errors_, one.standard_errors_, rtol=1e-10)
    np.testing.assert_allclose(many.ph_test()["test_statistic"], one.ph_test()["test_statistic"], rtol=1e-8)
    assert many.concordance_ == pytest.approx(one.concordance_, abs=1e-14)
    key = list(one.cells_.columns)
    a = one.cells_.sort_values(key).reset_index(drop=True)
    b = many.cells_.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_collapse_index_first_appearance_and_wide_keys():
    rng = np.random.default_rng(3)
    cols = [rng.integers(0, 1000, 5000) for _ in range(8)]  # 1000^8 > 2^62: the key is compressed on the way
    cols.append(rng.random(5000).round(1))
    inv, first = sv._collapse_index(cols)
    ref = pd.DataFrame({f"c{i}": c for i, c in enumerate(cols)}).groupby(
        [f"c{i}" for i in range(len(cols))], sort=False).ngroup().to_numpy()
    np.testing.assert_array_equal(inv, ref)  # same cells, numbered by first appearance
    np.testing.assert_array_equal(first, np.flatnonzero(np.r_[True, ref[1:] > np.maximum.accumulate(ref)[:-1]]))


def test_reentry_cells_from_durations_equal_expanded_person_months(sims):
    """The re-entry model builds its cells straight from the durations; expanding to person-months
    and collapsing gives the same cells and fit."""
    _seed, data, panel = sims[0]
    model = sv.ReentryModel(covariates=("sex", "age"), engine="discrete")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        fast = model.fit(panel, data)
        d = model.design(panel, data)
    keep = list(fast.params_.index)
    pp = sv.expand_person_periods(d[["spell_id", "duration", "event"] + keep], duration_col="duration", event_col="event")
    slow = sv.DiscreteTimeModel(name="reentry").fit(pp, time_col="time", event_col="event", covariates=keep)
    np.testing.assert_allclose(fast.params_, slow.params_, rtol=1e-10)
    np.testing.assert_allclose(fast.standard_errors_, slow.standard_errors_, rtol=1e-10)
    cols = list(slow.cells_.columns)
    pd.testing.assert_frame_equal(fast.cells_.sort_values(cols).reset_index(drop=True).astype(float),
                                  slow.cells_.sort_values(cols).reset_index(drop=True).astype(float))


def _random_cells(seed: int = 5, n: int = 3000, exposure: bool = False):
    """Collapsed cells with 0/1 terms (bit patterns), two non-0/1 terms, counts above one, and
    with ``exposure`` an exposure that differs from the number at risk (the Poisson offset)."""
    rng = np.random.default_rng(seed)
    terms = sv.grouped.Terms(n)
    for j in range(6):
        terms.add_binary(f"b{j}", rng.random(n) < 0.2 + 0.1 * j)
    terms.add_column("h1", rng.integers(0, 37, n).astype(np.int8), lambda v: v.astype(np.float32) / np.float32(12))
    terms.add_column("h2", rng.normal(size=n))
    time = rng.integers(1, 40, n)
    event = (rng.random(n) < 0.08).astype(np.int8)
    return sv.grouped.Cells.from_rows(terms, time, {"event": event}, n_at=rng.integers(1, 4, n),
                                      expo=rng.uniform(0.5, 3.0, n) if exposure else None)


@pytest.mark.parametrize("link", ["cloglog", "poisson"])
@pytest.mark.parametrize("info", ["observed", "expected", "both"])
def test_compiled_pass_equals_the_numpy_pass(link, info, monkeypatch):
    """The compiled cell loop gives the numpy pass's likelihood, scores and information blocks
    (sums in another order: relative differences of rounding size), with inactive intervals and
    a subset of the terms; and the same bits whatever the number of threads."""
    cells = _random_cells(exposure=link == "poisson")
    assert cells.patterns is not None
    ev = cells.events["event"]
    names = ["b0", "h1", "b2", "b3", "h2", "b5"]
    rng = np.random.default_rng(1)
    active = np.ones(len(cells.band_labels), bool)
    active[[0, 5]] = False
    alpha, beta = rng.normal(-2.5, 0.3, active.sum()), rng.normal(0, 0.2, len(names))
    ref = sv.grouped.grouped_pass(cells, ev, names, active, alpha, beta, link, info, compiled=False)
    monkeypatch.setattr(sv.grouped, "_CHUNK_CELLS", 64)  # many chunks, so several parts
    got = [grouped_compiled.compiled_pass(cells, ev, names, active, alpha, beta, link, info, threads=t) for t in (1, 3)]
    for field in ("ga", "gb", "D", "C", "A"):
        np.testing.assert_allclose(getattr(got[0], field), getattr(ref, field), rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(getattr(got[0], field), getattr(got[1], field))
    assert got[0].ll == pytest.approx(ref.ll, rel=1e-13)
    assert got[0].ll == got[1].ll
    if ref.expected is not None:
        for a, b in zip(got[0].expected, ref.expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert sv.grouped.grouped_pass(cells, ev, names, active, alpha, beta, link, info).ll == got[0].ll


def test_collapsed_cells_carry_the_patterns_of_their_terms():
    """The patterns numbered while collapsing (from the rows) describe each cell's 0/1 terms, as
    the patterns found from the cells' own terms do."""
    cells = _random_cells(seed=8)
    pat = cells.patterns
    binary = [c for c in cells.names if cells.terms.is_binary(c)]
    bits = np.column_stack([cells.terms.column(c) for c in binary])
    np.testing.assert_array_equal(pat.table[pat.pid][:, [pat.col[c] for c in binary]], bits)
    fresh = sv.grouped._Patterns.of(cells.terms)
    assert fresh.n == pat.n


def test_words_pack_every_plane_into_the_row_bits():
    rng = np.random.default_rng(2)
    for n, k in ((0, 3), (13, 5), (1001, 64), (999, 70)):
        terms = sv.grouped.Terms(n)
        for j in range(k):
            terms.add_binary(f"t{j}", rng.random(n) < 0.3)
        for lo, hi in ((0, n), (8 * (n > 16), max(n - 3, 8 * (n > 16)))):
            got = terms.words(terms.names, lo, hi)
            assert len(got) == -(-k // 64)
            for g, w in enumerate(got):
                ref = np.zeros(hi - lo, dtype=np.uint64)
                for j, c in enumerate(terms.names[64 * g:64 * g + 64]):
                    ref |= terms.on(c)[lo:hi].astype(np.uint64) << np.uint64(j)
                np.testing.assert_array_equal(w, ref)
    with pytest.raises(ValueError, match="multiple of 8"):
        terms.words(terms.names, 3, 10)


def test_pass_threads_follow_the_inner_thread_limit(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert grouped_compiled.pass_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert grouped_compiled.pass_threads() >= 1
