"""Heterogeneity: BLP against the simulated truth, sensitivity, policy tree, econml equivalence, sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reintegration_effects.effects import GROUP_VALUES, NONE, RiskSets, build_risk_sets
from reintegration_effects.heterogeneity import (
    BLP_COLUMNS,
    CALIBRATION_COLUMNS,
    POLICY_COLUMNS,
    SENSITIVITY_COLUMNS,
    HeterogeneityAnalysis,
    _outcome_models,
    _projection,
    _ratio,
    _sensitivity_ate,
)
from reintegration_effects.panel import build_panel
from reintegration_effects.plain_language import add_sensitivity_sentences

#: The simulated age gradient of job coaching is largest on this outcome (truth: 8.9 points for
#: 18-26, 0 for 50+, seed 11); on off_bijstand_6_18m it is 3 points, which 4,000 simulated persons
#: cannot resolve (standard error of the coefficient ~6 points).
OUTCOME = "off_bijstand_12m"


@pytest.fixture(scope="module")
def simulated():
    from reintegration_effects.datasets import load_simulated

    data, truth = load_simulated(4000, seed=11)
    return truth, build_risk_sets(build_panel(data), data)


@pytest.fixture(scope="module")
def fitted(simulated):
    _, risk = simulated
    return HeterogeneityAnalysis(outcome=OUTCOME, random_state=1).fit(risk)


# ------------------------------------------------------------------------------------------------
# against the simulated truth (one fit, ~20-30 s)
# ------------------------------------------------------------------------------------------------

def test_blp_recovers_the_age_gradient_of_job_coaching(simulated, fitted):
    """Coaching helps the young most: the coefficient of age 50+ (reference 18-26) is negative,
    and the truth's GATE difference (50+ minus 18-26, effects on participants) lies in its CI."""
    truth, _ = simulated
    te = truth.effects[(truth.effects.outcome == OUTCOME) & (truth.effects.programme == "job_coaching")]
    te = te.set_index("group")["estimate"]
    true_diff = te["age=50+"] - te["age=18-26"]
    assert true_diff < -0.05  # the simulation's heterogeneity the test relies on
    b = fitted.blp[fitted.blp.programme == "job_coaching"].set_index("term")
    old = b.loc["age=50+"]
    assert old["reference"] == "age=18-26"
    assert old["estimate"] < 0, old  # 18-26 (the reference, 0) above 50+
    assert old["ci_lower"] <= true_diff <= old["ci_upper"], (true_diff, old)
    assert b.loc["intercept", "persons"] == pytest.approx(
        (simulated[1].frame.treatment == "job_coaching").sum(), rel=0.1)


def test_blp_table_layout(fitted):
    b = fitted.blp
    assert list(b.columns) == list(BLP_COLUMNS)
    assert set(b.programme) == set(fitted.programmes) == {"job_coaching", "participation", "training",
                                                          "work_experience"}
    for _, g in b.groupby("programme"):
        assert g.term.iloc[0] == "intercept"
        assert {"sex=F", "age=27-49", "age=50+", f"migration={GROUP_VALUES['migration'][2]}",
                "education=medium"} <= set(g.term)
    assert not (b.term.isin(["sex=M", "age=18-26", "migration=dutch", "household=single", "education=low"])).any()
    assert ((b.ci_lower <= b.estimate) & (b.estimate <= b.ci_upper)).all()
    assert (b.std_error > 0).all()
    assert pd.api.types.is_integer_dtype(b.persons)


def test_sensitivity_is_most_robust_for_the_most_significant_programme(fitted):
    s = fitted.sensitivity.set_index("programme")
    assert list(fitted.sensitivity.columns) == list(SENSITIVITY_COLUMNS)
    strongest = (s.estimate / s.std_error).abs().idxmax()
    assert s.robustness_value.idxmax() == strongest
    assert s.loc[strongest, "robustness_value"] > 0
    others = s.drop(index=strongest)
    assert (others.robustness_value < s.loc[strongest, "robustness_value"]).all()
    # robustness value 0 exactly when the ordinary CI already contains zero
    contains_zero = (s.ci_lower <= 0) & (s.ci_upper >= 0)
    assert ((s.robustness_value == 0) == contains_zero).all()
    # the bounds widen the estimate, the sensitivity CI widens the CI
    assert ((s.bound_lower <= s.estimate) & (s.estimate <= s.bound_upper)).all()
    assert ((s.sensitivity_ci_lower <= s.ci_lower) & (s.ci_upper <= s.sensitivity_ci_upper)).all()
    rv = 100 * s.loc[strongest, "robustness_value"]
    pct = f"{rv:.1f}%" if rv >= 1 else f"{rv:.2f}%"
    sentences = add_sensitivity_sentences(fitted.sensitivity, lang="en").set_index("programme")["interpretation"]
    assert pct in sentences[strongest]
    assert "not significant" in sentences[others.index[0]] or others.robustness_value.iloc[0] > 0


def test_calibration_is_aggregated_and_ordered(fitted):
    c = fitted.calibration
    assert list(c.columns) == list(CALIBRATION_COLUMNS)
    for prog, g in c.groupby("programme"):
        q = g[g.group != "slope"]
        assert list(q.group) == [f"Q{k}" for k in range(1, len(q) + 1)] and len(q) >= 3
        assert q.predicted.is_monotonic_increasing, prog
        assert (q.persons >= 50).all()
        assert (g.group == "slope").sum() == 1
    assert len(c) <= 5 * len(fitted.programmes)  # aggregates only, no row per person


def test_policy_tree_recommends_real_programmes(fitted):
    p = fitted.policy
    assert list(p.columns) == list(POLICY_COLUMNS)
    leaves = p[p.leaf != "all"]
    assert 2 <= len(leaves) <= 4  # depth 2
    assert set(leaves.programme) <= {NONE, *fitted.programmes}
    assert (leaves.persons > 0).all()
    total = p[p.leaf == "all"].iloc[0]
    assert total.programme == "policy" and total.persons <= leaves.persons.sum()
    assert total.ci_lower <= total.estimate <= total.ci_upper
    labels = {f"{dim}={v}" for dim, vals in GROUP_VALUES.items() for v in vals}
    for group in leaves.group:
        for part in group.split("; "):
            dim, values = part.split("=", 1)
            assert all(f"{dim}={v}" in labels for v in values.split("|")), group
    # none recommended -> effect vs none is exactly 0; a recommended programme has a positive effect
    assert (leaves.loc[leaves.programme == NONE, "effect"] == 0).all()
    assert (leaves.loc[leaves.programme != NONE, "effect"] > 0).all()
    assert (leaves.loc[leaves.programme != NONE, "programme"] == leaves.loc[leaves.programme != NONE,
                                                                              "tree_programme"]).all()
    assert p.heterogeneity_detected.nunique() == 1


def test_to_frames_names_and_counts(fitted):
    frames = fitted.to_frames()
    assert set(frames) == {"effects_blp", "effects_calibration", "effects_sensitivity", "policy",
                           "effects_heterogeneity"}
    for name, df in frames.items():
        assert "persons" in df.columns, name
        assert not {"person_id", "pcode"} & set(df.columns), name


# ------------------------------------------------------------------------------------------------
# reproducibility and the econml path, on a subset of persons (small fits)
# ------------------------------------------------------------------------------------------------

def test_same_seed_same_numbers_and_all_target_equals_econml(simulated):
    _, risk = simulated
    sub = RiskSets(frame=risk.frame[risk.frame.pcode < 1500].reset_index(drop=True), programmes=risk.programmes)
    kw = dict(outcome=OUTCOME, control_fraction=0.2, n_folds=2, min_participants=20)
    a = HeterogeneityAnalysis(**kw, random_state=5).fit(sub).to_frames()
    b = HeterogeneityAnalysis(**kw, random_state=5).fit(sub).to_frames()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    res = HeterogeneityAnalysis(**kw, target="all", random_state=5).fit(sub)
    for prog in res.programmes:
        got = res.blp[res.blp.programme == prog]
        want = [res.estimator.intercept_(T=prog), *res.estimator.coef_(T=prog)]
        np.testing.assert_allclose(got.estimate.to_numpy(), want, rtol=1e-6, atol=1e-9)
    assert (res.blp.target == "all").all()


def _synthetic(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n, 2)).astype(float)
    w = rng.normal(size=(n, 2))
    logits = np.column_stack([np.zeros(n), -1 + 0.5 * w[:, 0], -1.5 + 0.7 * x[:, 0]])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    t = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    y = w[:, 0] + (t == 1) * (0.5 + 0.3 * x[:, 0]) + (t == 2) * 0.2 + rng.normal(size=n)
    return x, w, t, y


def test_projection_and_ate_sensitivity_equal_econml():
    """The 'all' BLP is econml's final stage (weighted), and the ATE sensitivity inputs are econml's
    dr_sensitivity_values (unit weights, one row per cluster): so the bounds are econml's."""
    from econml.dr import LinearDRLearner
    from sklearn.linear_model import LinearRegression, LogisticRegression

    x, w, t, y = _synthetic()
    n = len(y)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, n)
    z = np.column_stack([np.ones(n), x])
    est = LinearDRLearner(model_propensity=LogisticRegression(), model_regression=LinearRegression(), cv=2,
                          random_state=0)
    est.fit(y, t, X=x, W=w, sample_weight=sw, cache_values=True)
    gamma, e, _ = est._cached_values.nuisances
    for j in (1, 2):
        beta, cov = _projection(z, sw, sw * (gamma[:, j] - gamma[:, 0]), np.arange(n), n)
        np.testing.assert_allclose(beta, [est.intercept_(T=j), *est.coef_(T=j)], rtol=1e-8)
    est.fit(y, t, X=x, W=w, cache_values=True)  # unweighted: econml's sensitivity inputs ignore weights
    gamma, e, _ = est._cached_values.nuisances
    params = est._ortho_learner_model_final.sensitivity_params
    for j in (1, 2):
        theta, sigma, nu, cov = _sensitivity_ate(y.astype(float), t, gamma, e, j, np.ones(n), np.arange(n), n)
        np.testing.assert_allclose([theta, sigma, nu], [params.theta[j - 1], params.sigma[j - 1], params.nu[j - 1]],
                                   rtol=1e-9)
        np.testing.assert_allclose(cov, params.cov[j - 1], rtol=1e-9)
    mu = _outcome_models(y.astype(float), t, gamma, e)
    assert np.isfinite(mu).all() and np.abs(mu - gamma).max() > 0


def test_treated_projection_on_one_dimension_is_the_group_att():
    """Projected on one dimension's dummies, the ATT projection is the GATE sum(psi)/sum(D) of
    effects.DynamicDML (point estimate and clustered standard error)."""
    rng = np.random.default_rng(3)
    n = 4000
    g = rng.integers(0, 3, n)
    d = rng.random(n) < 0.1
    s = np.where(d, rng.normal(0.3, 1, n), -0.1 * rng.normal(0.2, 1, n))
    codes = rng.integers(0, 800, n)
    z = np.eye(3)[g]
    beta, cov = _projection(z, d.astype(float), s, codes, 800)
    for k in range(3):
        m = g == k
        est, se = _ratio(d[m].astype(float), s[m], codes[m], 800)
        assert beta[k] == pytest.approx(est, rel=1e-10)
        assert np.sqrt(cov[k, k]) == pytest.approx(se, rel=0.02)  # small-sample factors differ slightly


def test_bad_input_is_reported(simulated):
    _, risk = simulated
    with pytest.raises(ValueError, match="no outcome column 'wage'"):
        HeterogeneityAnalysis(outcome="wage").fit(risk)
    with pytest.raises(ValueError, match="target must be one of"):
        HeterogeneityAnalysis(target="everyone").fit(risk)


# ------------------------------------------------------------------------------------------------
# row budget
# ------------------------------------------------------------------------------------------------

def test_row_budget_shares():
    h = HeterogeneityAnalysis(control_fraction=0.3, max_rows=1000)
    assert h._shares(100, 2000) == (0.3, 1.0)  # 100 + 600 rows: within the budget
    f_pool, f_part = h._shares(300, 10_000)
    assert f_part == 1.0 and 300 + f_pool * 10_000 == pytest.approx(1000)
    f_pool, f_part = h._shares(4000, 10_000)  # participants alone over half the budget
    assert f_part * 4000 == pytest.approx(500) and f_pool * 10_000 == pytest.approx(500)
    assert HeterogeneityAnalysis(max_rows=None)._shares(10**7, 10**8) == (0.3, 1.0)


def test_sampled_participants_and_pool_keep_the_att_unbiased(simulated):
    """A budget that keeps half the participants and a tenth of the pool (weights 1/share): the
    ATT of every programme (the sensitivity table's estimate) stays within 3.5 standard errors of
    the simulated truth."""
    truth, risk = simulated
    n_part = int((risk.frame.treatment != NONE).sum())
    res = HeterogeneityAnalysis(outcome=OUTCOME, random_state=2, max_rows=n_part).fit(risk)
    log = res.log.set_index("item")["value"]
    sampled = [k for k in log.index if k.startswith("participants sampled")]
    assert sampled and abs(log[sampled[0]] - n_part / 2) < 4 * np.sqrt(n_part / 4)
    te = truth.effects[(truth.effects.outcome == OUTCOME) & (truth.effects.group == "all")]
    m = res.sensitivity.merge(te[["programme", "estimate"]], on="programme", suffixes=("", "_truth"))
    assert len(m) == 4
    z = (m["estimate"] - m["estimate_truth"]) / m["std_error"]
    assert z.abs().max() < 3.5, m[["programme", "estimate", "estimate_truth", "std_error"]]
