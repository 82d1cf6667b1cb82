"""Issue 14a: effects on the duration itself with censoring (duration_effects) and its truth.

Against the simulator's true curves over ALL starts (simulate(..., truth_months=36)), against a
hand-computed case (randomised treatment, no censoring: the difference in means), and the
censoring machinery itself (recent starts contribute, n_at_risk falls). The 20-seed Monte Carlo
is marked slow (make validate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from reintegration_effects.duration_effects import (
    CURVES_COLUMNS,
    DurationEffects,
    build_duration_risk_sets,
)
from reintegration_effects.errors import InsufficientDataError
from reintegration_effects.simulate import simulate_municipality, write_simulation

SEED = 20150101


def _simulated(tmp_path, n, seed=SEED):
    from reintegration_effects.panel import build_panel
    from reintegration_effects.validate import load_input

    sim = simulate_municipality(n, seed=seed, truth_months=36)
    data_dir, truth_dir = write_simulation(sim, tmp_path / f"input{seed}")
    data = load_input(data_dir)
    return data, build_panel(data), sim, truth_dir


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """One simulated municipality of 3,000 persons, its duration risk sets and one fit."""
    data, panel, sim, truth_dir = _simulated(tmp_path_factory.mktemp("dur"), 3000)
    risk = build_duration_risk_sets(panel, data, months=36)
    res = DurationEffects(random_state=7).fit(risk)
    return dict(data=data, panel=panel, sim=sim, truth_dir=truth_dir, risk=risk, res=res)


# ------------------------------------------------------------------------------------------------
# the truth
# ------------------------------------------------------------------------------------------------


def test_truth_months_leaves_the_input_and_the_other_truths_unchanged():
    """simulate(truth_months=36) runs past the window end, but every input table, the states in
    the window and the existing truths are exactly those of the default simulation."""
    a = simulate_municipality(600, seed=3)
    b = simulate_municipality(600, seed=3, truth_months=36)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    for attr in ("true_effects", "true_hazard_ratios", "individual_effects"):
        pd.testing.assert_frame_equal(getattr(a, attr), getattr(b, attr))
    assert np.array_equal(a.states, b.states)
    assert not hasattr(a, "true_curves")
    c = b.true_curves
    assert set(c["outcome"]) == {"on_bijstand", "work_off_bijstand"} and c["month"].max() == 36
    all_ = c[(c["group"] == "all")]
    n_starts = a.individual_effects.groupby("programme").size()
    assert (all_.groupby("programme")["n_treated"].first() == n_starts).all()  # ALL starts, censored ones included
    obs = all_[all_["outcome"] == "on_bijstand"].groupby("programme")["n_observed"]
    assert (obs.first() >= obs.last()).all() and (obs.last() < n_starts).all()
    r = b.true_rmst.set_index(["programme", "group", "outcome"])["estimate"]
    s = all_[all_["outcome"] == "on_bijstand"].groupby("programme")["estimate"]
    for h in (12, 18, 36):  # the restricted mean is the sum of the curve
        summed = all_[(all_["outcome"] == "on_bijstand") & (all_["month"] <= h)].groupby("programme")["estimate"].sum()
        got = r.xs(("all", f"rmst_bijstand_{h}m"), level=("group", "outcome"))
        np.testing.assert_allclose(got.sort_index(), summed.sort_index(), atol=1e-12)
    assert len(s)


def test_truth_months_writes_a_byte_identical_input_folder(tmp_path):
    from reintegration_effects.simulate import write_simulation

    da, ta = write_simulation(simulate_municipality(300, seed=6), tmp_path / "a")
    db, tb = write_simulation(simulate_municipality(300, seed=6, truth_months=36), tmp_path / "b")
    names = sorted(p.name for p in da.iterdir())
    assert names == sorted(p.name for p in db.iterdir())
    for name in names:
        assert (da / name).read_bytes() == (db / name).read_bytes(), name
    for name in ("true_effects.csv", "true_hazard_ratios.csv", "params.json"):
        assert (ta / name).read_bytes() == (tb / name).read_bytes(), name
    assert (tb / "true_curves.csv").is_file() and not (ta / "true_curves.csv").exists()


def test_truth_months_participation_truth_unchanged():
    a = simulate_municipality(400, seed=4, participation=True)
    b = simulate_municipality(400, seed=4, participation=True, truth_months=36)
    pd.testing.assert_frame_equal(a.true_effects, b.true_effects)
    pd.testing.assert_frame_equal(a.tables["participation"], b.tables["participation"])


def test_true_curves_match_the_18_month_truth_on_full_follow_up():
    """On the starts whose 18 months lie in the window, months_bijstand_18m's true effect is the
    sum of their on-bijstand curve over months 1..18 (the states the clones and the window show)."""
    from reintegration_effects.simulate.params import BMW
    from reintegration_effects.simulate.tables import compute_true_curves  # noqa: F401 (the function tested)

    sim = simulate_municipality(800, seed=5, truth_months=18)
    ind = sim.individual_effects
    full = ind[ind["in_truth"]]
    months = pd.DatetimeIndex(sim.months)
    pid = full["person_id"].str[1:].astype(int).to_numpy() - 1
    t0 = months.get_indexer(pd.DatetimeIndex(full["time_zero"]))
    actual = sum((sim.states[pid, t0 + k] <= BMW).astype(int) for k in range(1, 19))
    np.testing.assert_array_equal(actual, full["months_bijstand_18m_actual"].to_numpy())


# ------------------------------------------------------------------------------------------------
# the estimator against the simulated truth
# ------------------------------------------------------------------------------------------------


def _with_truth(res, truth_dir):
    tc = pd.read_csv(truth_dir / "true_curves.csv").rename(columns={"estimate": "truth", "n_treated": "n_true"})
    m = res.curves.merge(tc[["programme", "group", "outcome", "month", "truth", "n_true"]])
    tr = pd.read_csv(truth_dir / "true_rmst.csv").rename(columns={"estimate": "truth"})
    r = res.rmst.merge(tr[["programme", "group", "outcome", "truth"]])
    return m, r


def test_curves_and_restricted_means_recover_the_truth_over_all_starts(fitted):
    """Group "all": every restricted mean within a Bonferroni interval of its truth (12 cells),
    and the curve points (4 programmes x 2 outcomes x 36 months, strongly correlated) inside their
    simultaneous bands. The truth is over ALL starts, the censored recent ones included."""
    m, r = _with_truth(fitted["res"], fitted["truth_dir"])
    a = m[m["group"] == "all"]
    assert len(a) == 4 * 2 * 36
    ra = r[r["group"] == "all"]
    z = norm.ppf(1 - 0.05 / (2 * len(ra)))
    t = (ra["estimate"] - ra["truth"]) / ra["std_error"]
    assert (t.abs() < z).all(), ra.assign(t=t)
    inside = (a["truth"] >= a["band_lower"]) & (a["truth"] <= a["band_upper"])
    bands = inside.groupby([a["programme"], a["outcome"]]).all()
    assert bands.sum() >= len(bands) - 1, bands  # 8 bands at 95%: at most one may miss by chance
    # pointwise: about 5% outside at 95% (correlated points: allow up to 15%)
    outside = ((a["truth"] < a["ci_lower"]) | (a["truth"] > a["ci_upper"])).mean()
    assert outside < 0.15


def test_censored_recent_starts_contribute(fitted):
    """Every start with >= 1 month of follow-up is in the estimate (n_treated = the true number of
    starts but those of the last window month); n_at_risk falls with the month; rows with short
    follow-up are in the risk sets."""
    res, sim, risk = fitted["res"], fitted["sim"], fitted["risk"]
    c = res.curves[(res.curves["group"] == "all") & (res.curves["outcome"] == "on_bijstand")]
    ind = sim.individual_effects
    last = ind["month_index"] == ind["month_index"].max()
    n_true = ind[~last].groupby("programme").size()
    n_est = c.groupby("programme")["n_treated"].first()
    pd.testing.assert_series_equal(n_est.sort_index(), n_true.sort_index(), check_names=False)
    for _, g in c.groupby("programme"):
        at = g.sort_values("month")["n_at_risk"].to_numpy()
        assert (np.diff(at) <= 0).all() and at[0] == g["n_treated"].iloc[0] and at[-1] < at[0]
    starts = risk.frame[risk.frame["treatment"] != "none"]
    assert (starts["follow_up"] < 18).sum() > 0 and starts["follow_up"].min() == 1


def test_risk_sets_agree_with_the_18_month_design(fitted):
    """Rows with full 18-month follow-up are exactly build_risk_sets' rows, and the sum of the
    on-bijstand months 1..18 is its months_bijstand_18m (rmst_bijstand_18m's data = that outcome)."""
    from reintegration_effects.effects import build_risk_sets

    risk18 = build_risk_sets(fitted["panel"], fitted["data"])
    dur = fitted["risk"]
    f = dur.frame.assign(_sum18=dur.outcomes["on_bijstand"][:, :18].sum(axis=1))
    full = f[f["follow_up"] >= 18]
    key = ["pcode", "month_index", "treatment"]
    m = full.merge(risk18.frame[[*key, "months_bijstand_18m"]], on=key, how="outer", indicator=True)
    assert (m["_merge"] == "both").all()
    np.testing.assert_array_equal(m["_sum18"].to_numpy(), m["months_bijstand_18m"].to_numpy())
    assert (dur.outcomes["on_bijstand"][f["follow_up"].to_numpy() < 36, -1] == -1).all()


def test_band_wider_than_pointwise_and_columns(fitted):
    c = fitted["res"].curves
    assert list(c.columns) == list(CURVES_COLUMNS)
    ok = c["std_error"] > 0
    assert ((c["band_upper"] - c["band_lower"])[ok] > (c["ci_upper"] - c["ci_lower"])[ok]).all()
    ci = fitted["res"].conf_int("band")
    assert list(ci.columns) == ["lower", "upper"]
    import matplotlib

    matplotlib.use("Agg")
    ax = fitted["res"].plot("job_coaching", outcome="work_off_bijstand")
    assert len(ax.lines) >= 1 and ax.get_xlabel()


@pytest.mark.slow  # 25 s: a second double-ML fit; CI keeps the data-level check above
def test_rmst_close_to_the_18_month_dml_estimate(fitted):
    """rmst_bijstand_18m over all starts and the existing DML months_bijstand_18m over the starts
    with full follow-up estimate nearly the same thing (the recent starts are a few percent): they
    agree within the larger standard error times 2.5."""
    from reintegration_effects.effects import DynamicDML, build_risk_sets

    risk18 = build_risk_sets(fitted["panel"], fitted["data"])
    dml = DynamicDML(n_rep=1, random_state=7, outcomes=("months_bijstand_18m",)).fit(risk18).effects
    dml = dml[dml["group"] == "all"].set_index("programme")
    r = fitted["res"].rmst
    r = r[(r["group"] == "all") & (r["outcome"] == "rmst_bijstand_18m")].set_index("programme")
    se = np.maximum(r["std_error"], dml.loc[r.index, "std_error"])
    assert ((r["estimate"] - dml.loc[r.index, "estimate"]).abs() < 2.5 * se).all()


# ------------------------------------------------------------------------------------------------
# by hand, determinism, errors
# ------------------------------------------------------------------------------------------------


def _randomised(n=3000, months=4, seed=0, censor=False):
    rng = np.random.default_rng(seed)
    d = rng.random(n) < 0.3
    df = pd.DataFrame({"person_id": np.arange(n), "const": 1.0, "treatment": np.where(d, "P", "none")})
    base = np.array([0.9, 0.8, 0.7, 0.6])[:months]
    effect = np.array([0.0, -0.05, -0.1, -0.1])[:months]
    y = rng.random((n, months)) < base[None, :] + effect[None, :] * d[:, None]
    for m in range(months):
        df[f"on_bijstand_{m + 1}"] = y[:, m].astype(int)
    df["follow_up"] = rng.integers(1, months + 1, size=n) if censor else months
    return df, y, d


def test_randomised_without_censoring_is_the_difference_in_means():
    """Randomised treatment, no covariate, no censoring: the doubly robust curve is the difference
    in means month by month (to a twentieth of its standard error; cross-fitting moves it a hair)."""
    df, y, d = _randomised()
    res = DurationEffects(months=4, rmst_horizons=(4,), n_folds=2, random_state=1).fit(
        df, covariates=["const"], outcomes=("on_bijstand",))
    diff = y[d].mean(axis=0) - y[~d].mean(axis=0)
    c = res.curves
    np.testing.assert_allclose(c["estimate"], diff, atol=0.05 * c["std_error"].min())
    # the clustered SE is the two-sample SE of the difference (one row per person)
    se = np.sqrt(y[d].var(axis=0) / d.sum() + y[~d].var(axis=0) / (~d).sum() * 1.0)
    np.testing.assert_allclose(c["std_error"], se, rtol=0.05)
    np.testing.assert_allclose(res.rmst["estimate"].iloc[0], diff.sum(), atol=0.05 * res.rmst["std_error"].iloc[0])


def test_random_censoring_still_recovers_the_full_data_difference():
    df, y, d = _randomised(n=6000, censor=True, seed=2)
    res = DurationEffects(months=4, rmst_horizons=(4,), n_folds=2, random_state=1).fit(
        df, covariates=["const"], outcomes=("on_bijstand",))
    full = y[d].mean(axis=0) - y[~d].mean(axis=0)
    c = res.curves
    assert (np.abs(c["estimate"] - full) < 3 * c["std_error"]).all()
    assert list(c["n_at_risk"]) == [int((d & (df["follow_up"] >= m)).sum()) for m in range(1, 5)]


def test_same_random_state_same_numbers():
    df, _, _ = _randomised(n=800, censor=True, seed=3)
    df["x"] = np.random.default_rng(0).normal(size=len(df))
    kw = dict(covariates=["x"], outcomes=("on_bijstand",))
    a = DurationEffects(months=4, rmst_horizons=(4,), n_folds=2, random_state=5).fit(df, **kw)
    b = DurationEffects(months=4, rmst_horizons=(4,), n_folds=2, random_state=5).fit(df, **kw)
    pd.testing.assert_frame_equal(a.curves, b.curves)
    pd.testing.assert_frame_equal(a.rmst, b.rmst)


def test_bad_input_is_refused_with_a_clear_error():
    df, _, _ = _randomised(n=200)
    est = DurationEffects(months=4, rmst_horizons=(4,), n_folds=2)
    with pytest.raises(ValueError, match="not in the frame"):
        est.fit(df.drop(columns="on_bijstand_3"), covariates=["const"], outcomes=("on_bijstand",))
    bad = df.assign(follow_up=-1)
    with pytest.raises(ValueError, match="whole number of months"):
        est.fit(bad, covariates=["const"], outcomes=("on_bijstand",))
    bad = df.assign(on_bijstand_2=2)
    with pytest.raises(ValueError, match="0/1"):
        est.fit(bad, covariates=["const"], outcomes=("on_bijstand",))
    with pytest.raises(ValueError, match="rmst_horizons"):
        DurationEffects(months=4, rmst_horizons=(12,)).fit(df, covariates=["const"], outcomes=("on_bijstand",))
    with pytest.raises(InsufficientDataError):
        est.fit(df.assign(treatment="none"), covariates=["const"], outcomes=("on_bijstand",))
    with pytest.raises(ValueError, match="covariates"):
        est.fit(df, outcomes=("on_bijstand",))
    with pytest.raises(TypeError):
        est.fit(df.to_numpy(), covariates=["const"])


def test_published_through_disclosure_control():
    from reintegration_effects.outputs import protect_table

    df, _, _ = _randomised(n=400, censor=True, seed=4)
    res = DurationEffects(months=4, rmst_horizons=(4,), n_folds=2, random_state=1).fit(
        df, covariates=["const"], outcomes=("on_bijstand",))
    small = res.curves.assign(n_at_risk=[60, 40, 9, 3])
    prot, counts = protect_table("effects_curves", small)
    assert counts == ("n_treated", "n_at_risk")
    assert prot["suppressed"].tolist() == [False, False, True, True]
    assert prot.loc[prot["suppressed"], ["estimate", "band_lower", "ci_upper"]].isna().all().all()
    assert (prot.loc[~prot["suppressed"], "n_at_risk"] % 5 == 0).all()


# ------------------------------------------------------------------------------------------------
# Monte Carlo (make validate)
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_monte_carlo_coverage_and_bias(tmp_path):
    """20 seeds at 6,000 persons: pooled 95% coverage of the group-"all" restricted means and
    curve points in 90-98%, and no cell's mean error significant after Bonferroni. Measured (same
    seeds and estimator, run as a script): coverage curves 94.6%, rmst 95.0%; largest |t| 2.8 against
    the Bonferroni bound 3.8 over 300 cells; about 30 s per seed on one core."""
    rows = []
    for seed in range(1, 21):
        data, panel, _, truth_dir = _simulated(tmp_path, 6000, seed=seed)
        res = DurationEffects(random_state=seed).fit(build_duration_risk_sets(panel, data))
        m, r = _with_truth(res, truth_dir)
        m = m[m["group"] == "all"].assign(seed=seed, kind="curve")
        r = r[r["group"] == "all"].assign(seed=seed, kind="rmst", month=0)
        rows.append(pd.concat([m, r], ignore_index=True))
    allr = pd.concat(rows, ignore_index=True)
    allr["err"] = allr["estimate"] - allr["truth"]
    allr["cover"] = (allr["truth"] >= allr["ci_lower"]) & (allr["truth"] <= allr["ci_upper"])
    for kind, g in allr.groupby("kind"):
        assert 0.90 <= g["cover"].mean() <= 0.98, (kind, g["cover"].mean())
    cells = allr.groupby(["kind", "programme", "outcome", "month"])
    t = cells["err"].mean() / (cells["err"].std() / np.sqrt(cells["err"].count()))
    assert (t.abs() < norm.ppf(1 - 0.05 / (2 * len(t)))).all(), t.abs().sort_values().tail()


def test_cli_simulate_truth_months(tmp_path):
    from reintegration_effects.cli import main

    assert main(["simulate", "--out", str(tmp_path / "sim"), "--persons", "200", "--truth-months", "24"]) == 0
    curves = pd.read_csv(tmp_path / "sim_truth" / "true_curves.csv")
    assert curves["month"].max() == 24 and set(curves["method"]) == {"truth"}
    rmst = pd.read_csv(tmp_path / "sim_truth" / "true_rmst.csv")
    assert set(rmst["outcome"]) == {"rmst_bijstand_12m", "rmst_bijstand_18m"}  # horizons within 24 months
    assert main(["simulate", "--out", str(tmp_path / "plain"), "--persons", "200"]) == 0
    assert not (tmp_path / "plain_truth" / "true_curves.csv").exists()
