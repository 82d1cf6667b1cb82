"""The heterogeneity test (joint Wald test of the BLP) and the honest policy rule.

Reference library (statsmodels' cluster-robust Wald test), size under no heterogeneity on a cheap
synthetic design (many replications of the projection; a few of the whole estimator, more under
``-m slow``), power under strong heterogeneity, and the policy tree's sign rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from reintegration_effects.effects import GROUP_COLUMNS, GROUP_VALUES, NONE, RiskSets
from reintegration_effects.heterogeneity import (
    TEST_COLUMNS,
    HeterogeneityAnalysis,
    _projection,
    holm_detected,
    joint_wald_test,
)

OUTCOME = "off_bijstand_6_18m"


def test_joint_wald_test_equals_statsmodels_cluster_robust_wald():
    """Unit weights, the score = outcome: the projection is OLS, its covariance statsmodels'
    cluster-robust one (same small-sample factor when statsmodels' df correction is off), and the
    joint test of the slopes is statsmodels' chi-square Wald test."""
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    n, g = 1500, 300
    x = rng.integers(0, 2, size=(n, 3)).astype(float)
    codes = rng.integers(0, g, n)
    y = 0.2 + x @ np.array([0.1, 0.0, -0.05]) + rng.normal(size=n) + rng.normal(size=g)[codes]
    z = np.column_stack([np.ones(n), x])
    beta, cov = _projection(z, np.ones(n), y, codes, g)
    g = np.unique(codes).size  # clusters present (ours counts those)
    fit = sm.OLS(y, z).fit(cov_type="cluster", cov_kwds={"groups": codes, "use_correction": False})
    np.testing.assert_allclose(beta, fit.params, rtol=1e-10)
    # statsmodels without its correction has no g/(g-1) factor either: undo ours
    np.testing.assert_allclose(cov * (g - 1) / g, fit.cov_params(), rtol=1e-8)
    stat, df, p = joint_wald_test(beta[1:], cov[1:, 1:] * (g - 1) / g)
    ref = fit.wald_test(np.eye(4)[1:], use_f=False, scalar=True)
    assert df == 3
    assert stat == pytest.approx(float(ref.statistic), rel=1e-8)
    assert p == pytest.approx(float(ref.pvalue), rel=1e-8)


def test_joint_wald_test_guards_a_singular_covariance():
    cov = np.array([[1.0, 1.0], [1.0, 1.0]])  # two copies of one coefficient
    stat, df, p = joint_wald_test(np.array([2.0, 2.0]), cov)
    assert df == 1 and stat == pytest.approx(4.0) and p == pytest.approx(stats.chi2.sf(4.0, 1))
    assert np.isnan(joint_wald_test(np.array([]), np.zeros((0, 0)))[0])


def test_holm_detection_rule():
    assert holm_detected([0.001, 0.6, 0.7, 0.8])  # 0.001 * 4 < 0.05
    assert not holm_detected([0.02, 0.6, 0.7, 0.8])  # 0.02 * 4 > 0.05: a raw 5% would have said yes
    assert not holm_detected([np.nan, np.nan])


def _att_projection_p(rng, n_persons=600, months=4, het=0.0):
    """One replication of the ATT projection on the group dummies with known nuisances.

    Persons with two dummies, ``months`` risk-set rows each (clustered), take-up ~10% depending
    on a covariate, outcome effect 0.3 + het * dummy1. The score is the ATT score of
    effects.DynamicDML with the true mu0 and propensity.
    """
    n = n_persons * months
    codes = np.repeat(np.arange(n_persons), months)
    g1 = np.repeat(rng.integers(0, 2, n_persons), months).astype(float)
    g2 = np.repeat(rng.integers(0, 2, n_persons), months).astype(float)
    x = rng.normal(size=n)
    e = 1 / (1 + np.exp(-(-2.2 + 0.5 * x + 0.3 * g1)))
    d = rng.random(n) < e
    u = np.repeat(rng.normal(scale=0.5, size=n_persons), months)
    mu0 = 0.5 * x + 0.2 * g2
    y = mu0 + u + rng.normal(size=n) + d * (0.3 + het * g1)
    r0 = y - mu0
    s = np.where(d, r0, -e / (1 - e) * r0)
    z = np.column_stack([np.ones(n), g1, g2])
    beta, cov = _projection(z, d.astype(float), s, codes, n_persons)
    return joint_wald_test(beta[1:], cov[1:, 1:])[2]


def test_wald_p_values_are_uniform_without_heterogeneity_and_reject_with_it():
    """400 replications without heterogeneity: size within 3 binomial standard errors of 5% and
    the p-values uniform (Kolmogorov-Smirnov); with a 1.5 effect difference (outcome sd ~1.1): always rejected."""
    rng = np.random.default_rng(20)
    p = np.array([_att_projection_p(rng) for _ in range(400)])
    size = (p < 0.05).mean()
    assert abs(size - 0.05) < 3 * np.sqrt(0.05 * 0.95 / len(p)), size
    assert stats.kstest(p, "uniform").pvalue > 0.001
    p_het = np.array([_att_projection_p(rng, het=1.5) for _ in range(20)])
    assert (p_het < 0.05).all(), p_het


# ------------------------------------------------------------------------------------------------
# the whole estimator on a synthetic risk set
# ------------------------------------------------------------------------------------------------

def synthetic_risk(n_persons=1500, months=6, *, effects=None, seed=0) -> RiskSets:
    """Risk sets of ``n_persons`` persons x ``months`` person-months, three programmes.

    ``effects``: programme -> function(frame) giving each row's effect on the outcome (default:
    0 for every programme: no effect, no heterogeneity). Take-up depends on a covariate
    (``spell_month``) and on age band; the outcome (a continuous score named like the contract's
    outcome) on the covariates and the groups.
    """
    rng = np.random.default_rng(seed)
    n = n_persons * months
    pcode = np.repeat(np.arange(n_persons), months)

    def per_person(values, p=None):
        return np.repeat(rng.choice(values, size=n_persons, p=p), months)

    f = pd.DataFrame({"pcode": pcode.astype(np.int32), "person_id": pcode.astype(str),
                      "month_index": np.tile(np.arange(months), n_persons).astype(np.int16)})
    groups = {"sex": GROUP_VALUES["sex"], "age": GROUP_VALUES["age"],
              "migration": GROUP_VALUES["migration"][:3], "household": GROUP_VALUES["household"][:3],
              "education": GROUP_VALUES["education"][:3]}
    for dim, vals in groups.items():
        f[GROUP_COLUMNS[dim]] = per_person(list(vals))
    f["age"] = np.where(f["age_band"] == GROUP_VALUES["age"][0], 22.0,
                        np.where(f["age_band"] == GROUP_VALUES["age"][1], 38.0, 55.0)) + rng.normal(0, 2, n)
    f["spell_month"] = np.tile(np.arange(months), n_persons) + per_person(np.arange(24))
    f["calendar"] = f["month_index"] / 12.0
    for c in ("hist_employed_36m", "hist_bijstand_36m", "hist_ww_36m"):
        f[c] = per_person(np.arange(4)).astype(float)
    f["side_job_before"] = (rng.random(n) < 0.1).astype(np.int8)
    f["status_holder"] = np.int8(0)
    progs = ["job_coaching", "participation", "training"]
    young = (f["age_band"] == GROUP_VALUES["age"][0]).to_numpy()
    lin = np.column_stack([np.zeros(n)] + [-2.6 + 0.03 * f["spell_month"].to_numpy() + 0.4 * young * (k == 0)
                                            for k in range(len(progs))])
    pr = np.exp(lin) / np.exp(lin).sum(axis=1, keepdims=True)
    choice = (rng.random(n)[:, None] > np.cumsum(pr, axis=1)).sum(axis=1)
    f["treatment"] = np.asarray([NONE, *progs], dtype=object)[choice]
    f["weight"] = 1.0
    y = (0.2 + 0.01 * f["spell_month"].to_numpy() - 0.05 * young + 0.1 * (f["sex"] == "F").to_numpy()
         + np.repeat(rng.normal(0, 0.3, n_persons), months) + rng.normal(0, 0.5, n))
    for k, p in enumerate(progs, start=1):
        if effects and p in effects:
            y = y + (choice == k) * np.asarray(effects[p](f), dtype=float)
    f[OUTCOME] = y
    return RiskSets(frame=f, programmes=progs)


def _fast(**kw):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    return HeterogeneityAnalysis(outcome=OUTCOME, n_folds=2, control_fraction=1.0, min_participants=20,
                                 propensity_model=LogisticRegression(max_iter=5000),
                                 outcome_model=LinearRegression(), **kw)


def _wald_p(res) -> pd.Series:
    t = res.tests
    return t[t["test"] == "blp_wald"].set_index("programme")["p_value"]


def test_heterogeneity_table_layout_and_power_under_strong_heterogeneity():
    """Job coaching helps the young by 1 (outcome sd ~0.6) and nobody else: its joint test rejects,
    the others' (no effect) do not need to; detection follows Holm over programmes."""
    young = GROUP_VALUES["age"][0]
    risk = synthetic_risk(effects={"job_coaching": lambda f: (f["age_band"] == young) * 1.0}, seed=3)
    res = _fast(random_state=1).fit(risk)
    t = res.tests
    assert tuple(t.columns) == TEST_COLUMNS
    assert list(t["test"].unique()) == ["blp_wald", "calibration_slope"]  # the Wald rows first
    assert (t.loc[t.test == "blp_wald", "df"] == 9).all()  # sex 1, age 2, migration 2, household 2, education 2
    p = _wald_p(res)
    assert p["job_coaching"] < 1e-6
    assert res.heterogeneity_detected and res.policy["heterogeneity_detected"].all()
    assert "effects_heterogeneity" in res.to_frames()


def _null_p_values(seeds) -> np.ndarray:
    out = []
    for s in seeds:
        res = _fast(random_state=s).fit(synthetic_risk(n_persons=800, months=5, seed=100 + s))
        out.extend(_wald_p(res).to_numpy())
    return np.asarray(out)


def test_whole_estimator_without_heterogeneity_rarely_rejects():
    """Eight replications x three programmes of the whole estimator without any effect: at most
    three of the 24 joint tests reject at 5% (expected 1.2; P(>= 4) = 3% under a correct size)."""
    p = _null_p_values(range(8))
    assert np.isfinite(p).all() and (p < 0.05).sum() <= 3, np.sort(p)


@pytest.mark.slow
def test_whole_estimator_size_is_five_percent_over_many_replications():
    """60 replications x 3 programmes: size within 3 binomial standard errors of 5%, p-values uniform."""
    p = _null_p_values(range(60))
    assert abs((p < 0.05).mean() - 0.05) < 3 * np.sqrt(0.05 * 0.95 / len(p))
    assert stats.kstest(p, "uniform").pvalue > 0.001


# ------------------------------------------------------------------------------------------------
# the policy rule
# ------------------------------------------------------------------------------------------------

def test_no_programme_is_recommended_where_every_programme_hurts():
    """Every programme lowers the outcome by 0.3 for everyone: no leaf recommends one, and the
    leaves where the tree's choice was demoted say which programme and what its effect was."""
    hurt = {p: (lambda f: -0.3) for p in ("job_coaching", "participation", "training")}
    res = _fast(random_state=2, min_leaf_share=0.05).fit(synthetic_risk(effects=hurt, seed=4))
    leaves = res.policy[res.policy.leaf != "all"]
    assert len(leaves) and (leaves.programme == NONE).all(), leaves
    assert (leaves.effect == 0).all()
    demoted = leaves[leaves.tree_programme != NONE]
    assert (demoted.tree_effect <= 0).all()


def test_policy_recovers_the_right_programme_per_group():
    """Job coaching helps the young (+1), training the others (+1), participation nobody (-0.2):
    every leaf of young persons recommends job coaching, every other leaf training, with a
    positive effect whose interval excludes zero."""
    young = GROUP_VALUES["age"][0]
    eff = {"job_coaching": lambda f: np.where(f["age_band"] == young, 1.0, -0.2),
           "training": lambda f: np.where(f["age_band"] == young, -0.2, 1.0),
           "participation": lambda f: -0.2}
    res = _fast(random_state=3, max_depth=1).fit(synthetic_risk(n_persons=3000, effects=eff, seed=5))
    leaves = res.policy[res.policy.leaf != "all"]
    assert len(leaves) == 2, leaves
    for r in leaves.itertuples():
        ages = [g for g in r.group.split("; ") if g.startswith("age=")]
        assert ages, r.group
        want = "job_coaching" if ages[0] == f"age={young}" else "training"
        assert r.programme == want, (r.group, r.programme)
        assert r.effect > 0 and r.effect_ci_lower > 0
