"""Omitted-variable bounds on the restricted-mean effects (issue 14c), against a known truth.

The world: x and a hidden u, both 0/1; u raises both the chance of starting (D) and the monthly
chance of leaving bijstand; the programme raises that chance by a known amount. Everything the
bounds of Chernozhukov et al. (2022) are made of has a closed form here: the residual variance
sigma^2 = E (Y - g_s(D, x))^2 of the uncensored restricted mean Y, the Riesz representer's
nu^2 = E alpha_s^2, the confounding strengths c_y and c_t of u, the short (x-only) and the long
(x and u) ATT. Follow-up is censored at random months, so the inverse-probability-of-censoring
estimate of sigma^2 is put to the test, not only the algebra.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from reintegration_effects.doubly_robust import att_sensitivity_inputs, sensitivity_bounds
from reintegration_effects.duration_effects import DurationEffects, _rmst_sensitivity

M = 12  # outcome months
C_MAX = 18  # follow-up is min(M, C), C uniform on 1..C_MAX: P(observed at m) = (C_MAX - m + 1) / C_MAX
EFFECT = 0.04  # the programme's rise in the monthly exit chance


def _start(x, u):
    return 1 / (1 + np.exp(-(-1.2 + 0.4 * x + 1.2 * u)))


def _hazard(x, u, d):
    return 0.06 + 0.04 * x + 0.10 * u + EFFECT * d


def population(h: int) -> dict:
    """Exact population quantities for the restricted mean over months 1..h."""
    cells = []
    for x, u, d in product((0, 1), (0, 1), (0, 1)):
        m = _start(x, u)
        p = 0.25 * (m if d else 1 - m)
        q = 1 - _hazard(x, u, d)
        surv = q ** np.arange(1, h + 1)
        g = surv.sum()
        # Y = min(T - 1, h), T the exit month (geometric): P(Y = k) = q^k (1 - q) for k < h, q^h for k = h
        k = np.arange(h + 1)
        pk = np.where(k < h, q**k * (1 - q), q**h)
        cells.append(dict(x=x, u=u, d=d, p=p, g=g, var=(pk * k**2).sum() - g**2, m=m))
    c = pd.DataFrame(cells)
    c["g_s"] = c.groupby(["x", "d"])["g"].transform(lambda s: np.average(s, weights=c.loc[s.index, "p"]))
    sigma = (c.p * (c["var"] + (c.g - c.g_s) ** 2)).sum()
    c_y = (c.p * (c.g - c.g_s) ** 2).sum() / sigma
    pi = c.loc[c.d == 1, "p"].sum()
    m_s = {x: 0.5 * (_start(x, 0) + _start(x, 1)) for x in (0, 1)}
    nu = 1 / pi + sum(0.5 * m_s[x] ** 2 / (1 - m_s[x]) for x in (0, 1)) / pi**2
    nu_long = 1 / pi + sum(0.25 * _start(x, u) ** 2 / (1 - _start(x, u)) for x, u in product((0, 1), (0, 1))) / pi**2
    treated = c[c.d == 1].set_index(["x", "u"])
    control = c[c.d == 0].set_index(["x", "u"])
    w = treated.p / pi
    att_long = float((w * (treated.g - control.g)).sum())
    att_short = float((w * (treated.g_s - control.g_s)).sum())
    g_s = c.set_index(["x", "d"])["g_s"].groupby(level=[0, 1]).first()
    return dict(sigma=sigma, nu=nu, c_y=c_y, c_t=1 - nu / nu_long, att_long=att_long, att_short=att_short,
                g_s=g_s, m_s=m_s)


def sample(n: int, seed: int, censored: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n)
    u = rng.integers(0, 2, n)
    d = rng.random(n) < _start(x, u)
    haz = _hazard(x, u, d)
    follow = np.minimum(rng.integers(1, C_MAX + 1, n), M) if censored else np.full(n, M)
    df = pd.DataFrame({"person_id": np.arange(n), "x": x.astype(float), "u": u,
                       "treatment": np.where(d, "P", "none"), "follow_up": follow})
    on = np.ones(n, dtype=bool)
    for m in range(1, M + 1):
        on &= rng.random(n) >= haz
        df[f"on_bijstand_{m}"] = np.where(m <= follow, on.astype(float), np.nan)
    return df


def _fit(df, **kw):
    return DurationEffects(months=M, rmst_horizons=(6, M), n_folds=2, random_state=3,
                           propensity_model=LogisticRegression(), **kw).fit(
        df, covariates=["x"], outcomes=("on_bijstand",))


def _true_nuisances(df, h):
    """The x-only (short) regressions per month and arm, the censoring and start probabilities."""
    x = df["x"].to_numpy().astype(int)
    d = (df["treatment"] == "P").to_numpy()
    mus = {}
    for arm in (0, 1):
        per_x = {}
        for xv in (0, 1):
            pu1 = 0.5 * (_start(xv, 1) if arm else 1 - _start(xv, 1))
            pu0 = 0.5 * (_start(xv, 0) if arm else 1 - _start(xv, 0))
            wu1 = pu1 / (pu0 + pu1)
            per_x[xv] = np.array([wu1 * (1 - _hazard(xv, 1, arm)) ** m + (1 - wu1) * (1 - _hazard(xv, 0, arm)) ** m
                                  for m in range(1, h + 1)])
        mus[arm] = np.stack([per_x[v] for v in x])
    fu = df["follow_up"].to_numpy()
    obs = np.arange(1, h + 1)[None, :] <= fu[:, None]
    pi = np.broadcast_to((C_MAX - np.arange(1, h + 1) + 1) / C_MAX, obs.shape)
    y = np.where(obs, df[[f"on_bijstand_{m}" for m in range(1, h + 1)]].fillna(-1).to_numpy(), -1.0)
    cond = np.array([0.5 * (_start(v, 0) + _start(v, 1)) for v in x])
    return y, mus[0], mus[1], obs, pi, d, cond


def test_population_quantities_by_hand():
    """The closed forms agree with a direct simulation of the uncensored world."""
    pop = population(M)
    df = sample(400_000, seed=11)
    y = df[[f"on_bijstand_{m}" for m in range(1, M + 1)]]
    assert y.notna().all(axis=1).sum() > 0.3 * len(df)
    rng = np.random.default_rng(12)  # the uncensored outcome, simulated afresh (the frame is censored)
    x, u, d = df["x"].to_numpy().astype(int), df["u"].to_numpy(), (df["treatment"] == "P").to_numpy()
    t_exit = rng.geometric(_hazard(x, u, d))
    ysum = np.minimum(t_exit - 1, M)
    g_s = pop["g_s"].loc[list(zip(x, d.astype(int), strict=True))].to_numpy()
    resid2 = (ysum - g_s) ** 2
    assert resid2.mean() == pytest.approx(pop["sigma"], abs=4 * resid2.std() / np.sqrt(len(df)))


def test_without_censoring_the_inputs_are_those_of_the_summed_outcome():
    """All follow-up complete: the pseudo-outcome is the restricted mean itself and the inputs are
    exactly :func:`att_sensitivity_inputs` of sum_m Y_m (the uncensored bounds, tested against
    DoubleML in test_sensitivity.py)."""
    df = sample(3000, seed=5, censored=False)
    y, mu0, mu1, obs, pi, d, cond = _true_nuisances(df, M)
    assert obs.all()
    pi = np.full(obs.shape, 1.0)
    w = np.ones(len(df))
    cl = np.arange(len(df))
    (_, _, theta, sigma, nu, cov, persons), = _rmst_sensitivity("P", y, mu0, mu1, obs / pi, obs, pi, d, cond, w, cl,
                                                                len(df), (M,))
    ref = att_sensitivity_inputs(y.sum(axis=1), d, ~d, mu0.sum(axis=1), mu1.sum(axis=1), cond, w,
                                 np.ones(len(df), dtype=bool), cl, len(df))
    np.testing.assert_allclose([theta, sigma, nu], ref[:3], rtol=1e-12)
    np.testing.assert_allclose(cov, ref[3], rtol=1e-10, atol=1e-14)
    assert persons == int(d.sum())


@pytest.mark.parametrize("h", [6, M])
def test_censored_inputs_estimate_the_population_values(h):
    """With the true short nuisances and the true censoring probabilities, theta, sigma^2 and
    nu^2 from censored data lie within 4 of their own standard errors of the population values."""
    pop = population(h)
    df = sample(60_000, seed=21)
    y, mu0, mu1, obs, pi, d, cond = _true_nuisances(df, h)
    assert (~obs[:, -1]).mean() > 0.2  # censoring is real
    (_, outcome, theta, sigma, nu, cov, _), = _rmst_sensitivity(
        "P", y, mu0, mu1, np.where(obs, 1 / pi, 0.0), obs, pi, d, cond, np.ones(len(df)), np.arange(len(df)),
        len(df), (h,))
    assert outcome == f"rmst_bijstand_{h}m"
    se = np.sqrt(np.diag(cov))
    assert abs(theta - pop["att_short"]) < 4 * se[0]
    assert abs(sigma - pop["sigma"]) < 4 * se[1]
    assert abs(nu - pop["nu"]) < 4 * se[2]


def test_bounds_at_the_true_strengths_cover_the_true_effect():
    """Estimated on x alone, the restricted-mean effect is biased by u: its confidence interval
    misses the true (x and u) effect by far. The sensitivity interval at u's true strengths
    (c_y, c_t, rho = 1, the worst case) covers it; and the published estimate, standard error and
    interval are those of the restricted-mean row in effects."""
    pop = population(M)
    assert pop["att_short"] - pop["att_long"] < -0.5  # u makes the effect look a month larger than it is
    res = _fit(sample(20_000, seed=31), c_y=pop["c_y"], c_t=pop["c_t"])
    s = res.sensitivity.set_index("outcome").loc[f"rmst_bijstand_{M}m"]
    r = res.rmst[(res.rmst.group == "all")].set_index("outcome").loc[f"rmst_bijstand_{M}m"]
    for col in ("estimate", "std_error", "ci_lower", "ci_upper"):
        assert s[col] == pytest.approx(r[col], rel=1e-9)
    assert abs(s.estimate - pop["att_short"]) < 4 * s.std_error  # DR on x estimates the short effect
    assert not s.ci_lower <= pop["att_long"] <= s.ci_upper
    assert s.sensitivity_ci_lower <= pop["att_long"] <= s.sensitivity_ci_upper
    # the bias bound itself (no sampling error) is at least the true bias: the theorem, at the population values
    bias_bound = np.sqrt(pop["c_y"] * pop["c_t"] / (1 - pop["c_t"])) * np.sqrt(pop["sigma"] * pop["nu"])
    assert abs(pop["att_short"] - pop["att_long"]) <= bias_bound
    # the robustness value of the estimate is finite and positive, and ordered with the interval's
    assert 0 < s.robustness_value <= s.robustness_value_estimate < 1


def test_sensitivity_rows_follow_the_restricted_means_over_repeated_splits():
    """With n_rep > 1 the bounds are for the median-aggregated restricted mean (same estimate and
    standard error as res.rmst), one row per programme and horizon."""
    df = sample(4000, seed=41)
    res = DurationEffects(months=M, rmst_horizons=(6, M), n_folds=2, n_rep=3, random_state=3,
                          propensity_model=LogisticRegression()).fit(df, covariates=["x"], outcomes=("on_bijstand",))
    s = res.sensitivity.set_index("outcome")
    r = res.rmst[res.rmst.group == "all"].set_index("outcome")
    assert sorted(s.index) == sorted(r.index) == ["rmst_bijstand_12m", "rmst_bijstand_6m"]
    np.testing.assert_allclose(s.loc[r.index, "estimate"], r["estimate"], rtol=1e-9)
    np.testing.assert_allclose(s.loc[r.index, "std_error"], r["std_error"], rtol=1e-9)
    b = sensitivity_bounds(0.0, 1.0, 1.0, np.eye(3) * 1e-6)
    assert b["robustness_value"] == 0  # nothing to explain away: the value is zero


@pytest.mark.slow  # make validate: 40 fits
def test_monte_carlo_bounds_cover_and_the_plain_interval_does_not():
    """Over 40 seeds (5,000 persons each, censored follow-up): the plain 95% interval covers the
    short (x-only) restricted-mean effect at the nominal rate (binomial 99.9% band around 95%
    for 40 draws: at least 34), so the censoring-aware inputs are calibrated; it almost never
    covers the true effect (u's bias is several standard errors); the sensitivity interval at u's
    true strengths covers the true effect every time but at most once (the bound is a worst case
    over rho, so it is conservative: its coverage may not fall below 95%)."""
    pop = population(M)
    cover_short = cover_long = cover_bound = 0
    n_seeds = 40
    for seed in range(n_seeds):
        res = _fit(sample(5000, seed=1000 + seed), c_y=pop["c_y"], c_t=pop["c_t"])
        s = res.sensitivity.set_index("outcome").loc[f"rmst_bijstand_{M}m"]
        cover_short += s.ci_lower <= pop["att_short"] <= s.ci_upper
        cover_long += s.ci_lower <= pop["att_long"] <= s.ci_upper
        cover_bound += s.sensitivity_ci_lower <= pop["att_long"] <= s.sensitivity_ci_upper
    assert cover_short >= 34, cover_short
    assert cover_long <= 4, cover_long
    assert cover_bound >= n_seeds - 1, cover_bound
