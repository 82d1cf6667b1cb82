"""Omitted-variable bounds on the headline estimate (effects_sensitivity): same estimate as
effects.csv, robustness values by hand, and the inputs against DoubleML where it is installed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from reintegration_effects.doubly_robust import att_sensitivity_inputs, sensitivity_bounds
from reintegration_effects.effects import DynamicDML
from tests.test_heterogeneity_tests import OUTCOME, synthetic_risk


def _dml(**kw):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    return DynamicDML(n_folds=3, outcomes=(OUTCOME,), propensity_model=LogisticRegression(max_iter=5000),
                      outcome_model=LinearRegression(), random_state=4, **kw)


def test_bounds_are_for_the_headline_estimate_and_change_nothing_else():
    """With sensitivity_outcomes the effects are the same numbers, and the sensitivity table's
    estimate, standard error and interval are the group-"all" row of the effects."""
    risk = synthetic_risk(n_persons=1200, effects={"job_coaching": lambda f: 0.4}, seed=8)
    plain = _dml().fit(risk)
    res = _dml(sensitivity_outcomes=(OUTCOME,)).fit(risk)
    assert plain.effects.equals(res.effects)
    head = res.effects[res.effects.group == "all"].set_index("programme")
    s = res.sensitivity.set_index("programme")
    assert set(s.index) == set(risk.programmes) and (s.method == "dml").all() and (s.target == "treated").all()
    for col in ("estimate", "std_error", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(s.loc[head.index, col], head[col], rtol=1e-9, atol=1e-12)
    assert s.loc["job_coaching", "robustness_value"] > 0  # 0.4 (sd ~0.6) is clearly significant
    assert (s.bound_lower <= s.estimate).all() and (s.estimate <= s.bound_upper).all()
    assert (s.sensitivity_ci_lower <= s.bound_lower).all() and (s.bound_upper <= s.sensitivity_ci_upper).all()


def _inputs(n=5000, share=0.05, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    m = 1 / (1 + np.exp(-(np.log(share / (1 - share)) + 0.5 * x)))
    d = rng.random(n) < m
    y = 0.5 * x + d * 0.25 + rng.normal(size=n)
    mu0, mu1 = 0.5 * x, 0.5 * x + 0.25
    return att_sensitivity_inputs(y, d, ~d, mu0, mu1, m, np.ones(n), np.ones(n, bool), np.arange(n), n), \
        (y, d, m, mu0, mu1)


def test_sensitivity_inputs_and_robustness_values_by_hand():
    """theta, sigma^2 and nu^2 by the formulas of Chernozhukov et al. (2022) for the ATT written
    out here; the robustness value of the estimate in closed form; that of the interval as the root
    (scipy's brentq) of the lower end of the widened interval, bias sqrt(r^2/(1 - r)) sqrt(sigma^2 nu^2)."""
    (theta, sigma, nu, cov), (y, d, m, mu0, mu1) = _inputs()
    pi = d.mean()
    alpha = np.where(d, 1 / pi, -m / (1 - m) / pi)  # the ATT's Riesz representer
    assert theta == pytest.approx(np.mean(alpha * (y - mu0)), rel=1e-10)
    assert theta == pytest.approx((y - mu0)[d].mean() - np.sum((m / (1 - m) * (y - mu0))[~d]) / d.sum(), rel=1e-10)
    assert sigma == pytest.approx(np.mean((y - np.where(d, mu1, mu0)) ** 2), rel=1e-10)
    assert nu == pytest.approx(np.mean(2 * d / (pi**2 * (1 - m)) - alpha**2), rel=1e-10)
    b = sensitivity_bounds(theta, sigma, nu, cov)
    s = np.sqrt(sigma * nu)
    k = theta**2 / s**2
    rv_theta = (-k + np.sqrt(k**2 + 4 * k)) / 2
    assert b["robustness_value_estimate"] == pytest.approx(rv_theta, abs=2e-6)

    def lower_ci(r):
        c = r / np.sqrt(1 - r) / 2  # C of c_y = c_t = r, rho = 1
        coef = np.array([1, -c * np.sqrt(nu / sigma), -c * np.sqrt(sigma / nu)])
        return theta - 2 * c * s - stats.norm.isf(0.025) * np.sqrt(coef @ cov @ coef)

    assert lower_ci(0) > 0  # significant without confounding
    assert b["robustness_value"] == pytest.approx(optimize.brentq(lower_ci, 0, 0.99), abs=2e-6)
    assert b["robustness_value"] < b["robustness_value_estimate"]
    bias = np.sqrt(0.05 * 0.05 / 0.95) * s
    assert b["bound_lower"] == pytest.approx(theta - bias, rel=1e-12)
    assert b["bound_upper"] == pytest.approx(theta + bias, rel=1e-12)


def test_rare_starts_make_the_robustness_value_small():
    """The same effect and noise, 1% instead of 20% starting: nu^2 (~1/share) grows about 20-fold
    and the robustness value falls accordingly. A start is ~1% of the person-months at risk in the
    monthly risk sets, which is why the run's robustness values are fractions of a percent."""
    (t1, s1, n1, c1), _ = _inputs(n=40000, share=0.20, seed=1)
    (t2, s2, n2, c2), _ = _inputs(n=40000, share=0.01, seed=1)
    assert 10 < n2 / n1 < 40
    assert sensitivity_bounds(t2, s2, n2, c2)["robustness_value_estimate"] < \
        sensitivity_bounds(t1, s1, n1, c1)["robustness_value_estimate"] / 2


def test_inputs_equal_doubleml():
    """The inputs are DoubleML's ATTE sensitivity elements (one row per person, unit weights):
    theta, sigma^2, nu^2 and the bounds without sampling error equal
    ``DoubleMLIRM(score='ATTE').sensitivity_analysis`` on the same predictions. (DoubleML's widened
    interval uses a one-sided 95% quantile per side, econml's two-sided 95%: equal at alpha = 0.10.)"""
    dml = pytest.importorskip("doubleml")
    import pandas as pd
    from sklearn.linear_model import LinearRegression, LogisticRegression

    rng = np.random.default_rng(3)
    n = 4000
    x = rng.normal(size=(n, 2))
    m = 1 / (1 + np.exp(-(-2 + 0.6 * x[:, 0])))
    d = (rng.random(n) < m).astype(float)
    y = x @ [0.5, 0.2] + d * 0.3 + rng.normal(size=n)
    g0, g1 = x @ [0.5, 0.2], x @ [0.5, 0.2] + 0.3
    data = dml.DoubleMLData(pd.DataFrame({"y": y, "d": d, "x0": x[:, 0], "x1": x[:, 1]}), "y", "d")
    obj = dml.DoubleMLIRM(data, LinearRegression(), LogisticRegression(), score="ATTE", n_folds=2,
                          trimming_threshold=1e-12)
    obj.fit(external_predictions={"d": {"ml_g0": g0[:, None], "ml_g1": g1[:, None], "ml_m": m[:, None]}})
    obj.sensitivity_analysis(cf_y=0.05, cf_d=0.05, rho=1.0)
    theta, sigma, nu, cov = att_sensitivity_inputs(y, d == 1, d == 0, g0, g1, m, np.ones(n), np.ones(n, bool),
                                                   np.arange(n), n)
    el = obj.sensitivity_elements
    assert theta == pytest.approx(obj.coef[0], rel=1e-9)
    assert sigma == pytest.approx(float(np.squeeze(el["sigma2"])), rel=1e-9)
    assert nu == pytest.approx(float(np.squeeze(el["nu2"])), rel=1e-9)
    b = sensitivity_bounds(theta, sigma, nu, cov, alpha=0.10)
    sp = obj.sensitivity_params
    assert b["bound_lower"] == pytest.approx(sp["theta"]["lower"][0], rel=1e-9)
    assert b["robustness_value_estimate"] == pytest.approx(sp["rv"][0], abs=1e-5)
    assert b["robustness_value"] == pytest.approx(sp["rva"][0], abs=2e-4)  # small-sample factor g/(g-1)


@pytest.mark.parametrize("theta", [28.96, 0.01])
def test_no_residual_variation_is_the_limit_of_econmls_bounds(theta):
    """sigma^2 = 0 (an outcome with no residual variation in a small group; hypothesis found one in
    test_settings): econml divides by sigma^2, so the bounds take the limit sigma^2 -> 0+ themselves.
    They must equal econml's bounds at a sigma^2 of 1e-14 (the covariance row of sigma^2 is zero there,
    as it is when every squared residual is zero)."""
    cov = np.array([[2934.0, 0.0, -1109.2], [0.0, 0.0, 0.0], [-1109.2, 0.0, 1981.8]]) / 100
    at_zero = sensitivity_bounds(theta, 0.0, 52.6, cov)
    near_zero = sensitivity_bounds(theta, 1e-14, 52.6, cov)
    for key, value in near_zero.items():
        assert at_zero[key] == pytest.approx(value, abs=1e-5), key
    assert at_zero["robustness_value"] == (0.0 if theta < 1 else 1.0)
