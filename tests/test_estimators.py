"""The public estimators against external references on public data.

- PropensityModel: statsmodels ``Logit(...).fit(method="newton")`` (log-likelihood, coefficients,
  standard errors) on the Dehejia-Wahba NSW-CPS comparison sample with unscaled earnings;
- PropensityMatching: a brute-force 1-NN search written here (ties to the first comparison row in
  the data), and the NSW experimental benchmark ($1,794);
- DoublyRobustATT: the NSW experimental benchmark;
- HazardResults: lifelines ``CoxPHFitter`` on Rossi (log_likelihood_, log_likelihood_ratio_test(),
  AIC_partial_);
- input errors name the column.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from reintegration_effects.doubly_robust import DoublyRobustATT
from reintegration_effects.matching import PropensityMatching
from reintegration_effects.propensity import (
    CollinearityError,
    ConstantColumnError,
    PropensityModel,
    SeparationError,
)

matplotlib.use("Agg")

EXPERIMENTAL = 1794.34  # 6349.14 - 4554.80: the NSW experiment's difference in mean 1978 earnings
NSW_COVARIATES = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75", "u74", "u75"]


@pytest.fixture(scope="module")
def nsw():
    """The NSW experimental sample (Dehejia & Wahba 1999; 185 treated, 260 controls)."""
    causaldata = pytest.importorskip("causaldata")
    df = causaldata.nsw_mixtape.load_pandas().data
    df = df.astype({c: float for c in ("age", "educ", "re74", "re75", "re78")})
    return df.assign(u74=(df.re74 == 0) * 1.0, u75=(df.re75 == 0) * 1.0).reset_index(drop=True)


@pytest.fixture(scope="module")
def nsw_cps():
    """NSW treated vs the CPS comparison sample, the Dehejia-Wahba specification, unscaled earnings."""
    causaldata = pytest.importorskip("causaldata")
    nsw = causaldata.nsw_mixtape.load_pandas().data
    cps = causaldata.cps_mixtape.load_pandas().data
    df = pd.concat([nsw[nsw.treat == 1], cps.assign(treat=0)], ignore_index=True)
    for v in ("re74", "re75", "re78", "age", "educ"):
        df[v] = df[v].astype(float)
    x = pd.DataFrame({
        "age": df.age, "age2": df.age**2, "age3": df.age**3, "educ": df.educ, "educ2": df.educ**2,
        "married": df.marr, "nodegree": df.nodegree, "black": df.black, "hisp": df.hisp,
        "re74": df.re74, "re75": df.re75, "u74": (df.re74 == 0) * 1.0, "u75": (df.re75 == 0) * 1.0,
        "educ_re74": df.educ * df.re74,
    }).astype(float)
    return x.assign(treat=df.treat.astype(int).to_numpy(), re78=df.re78.to_numpy()), list(x.columns)


# ------------------------------------------------------------------------------------------------
# PropensityModel vs statsmodels
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sample", ["nsw_cps", "nsw"])
def test_propensity_model_equals_statsmodels_logit(sample, request):
    import statsmodels.api as sm

    if sample == "nsw_cps":
        df, cov = request.getfixturevalue("nsw_cps")
    else:
        df, cov = request.getfixturevalue("nsw"), NSW_COVARIATES
    ref = sm.Logit(df["treat"].astype(float), sm.add_constant(df[cov])).fit(method="newton", maxiter=100, disp=0)
    assert ref.mle_retvals["converged"]
    m = PropensityModel().fit(df, treatment="treat", covariates=cov)
    assert m.converged and m.relative_gradient < 1e-8 and m.n_iter < 30
    assert m.log_likelihood == pytest.approx(ref.llf, abs=1e-6)
    assert m.log_likelihood_null == pytest.approx(ref.llnull, abs=1e-6)
    assert m.aic == pytest.approx(ref.aic, abs=1e-5)
    np.testing.assert_allclose(m.params.to_numpy(), ref.params.to_numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(m.std_errors.to_numpy(), ref.bse.to_numpy(), rtol=1e-5)
    # the fitted scores are the model's
    np.testing.assert_allclose(m.predict(df), ref.predict(), rtol=1e-6, atol=1e-14)
    assert list(m.summary.columns) == ["term", "estimate", "std_error", "z", "p_value", "ci_lower", "ci_upper", "n"]


def test_the_old_penalised_lbfgs_stopped_short_of_the_maximum(nsw_cps):
    """What the exact model replaces: sklearn's L-BFGS with C = 1e4 on standardised covariates
    (effects.py until issue 12) ends several log-likelihood units below the maximum here (16.5 with
    scikit-learn 1.9), with no warning."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    df, cov = nsw_cps
    d = df["treat"].to_numpy()
    xs = StandardScaler().fit_transform(df[cov])
    old = LogisticRegression(C=1e4, max_iter=5000).fit(xs, d)
    p = old.predict_proba(xs)[:, 1]
    ll_old = float(np.sum(d * np.log(p) + (1 - d) * np.log1p(-p)))
    exact = PropensityModel().fit(df, treatment="treat", covariates=cov)
    assert exact.log_likelihood - ll_old > 1.0


# ------------------------------------------------------------------------------------------------
# PropensityMatching vs a brute-force search
# ------------------------------------------------------------------------------------------------

def brute_force_1nn(score, d, y, cell=None):
    """Every treated row (in data order) takes the comparison row at the smallest |score
    difference| in its cell, the first one in the data on ties; ATT = mean of y_i - y_j."""
    cell = np.zeros(len(d), int) if cell is None else cell
    pairs = []
    for i in np.flatnonzero(d):
        best, best_j = np.inf, -1
        for j in np.flatnonzero(~d & (cell == cell[i])):
            dist = abs(score[j] - score[i])
            if dist < best:  # strict: an equal distance later in the data does not replace
                best, best_j = dist, j
        pairs.append((i, best_j))
    est = float(np.mean([y[i] - y[j] for i, j in pairs]))
    return est, pairs


@pytest.mark.parametrize("match_on", ["logit", "probability"])
def test_one_to_one_matching_equals_brute_force_on_nsw_cps(nsw_cps, match_on):
    """Many CPS rows share their covariates (zero earnings, same age and schooling): exact ties."""
    df, cov = nsw_cps
    res = PropensityMatching(match_on=match_on, n_bootstrap=0).fit(df, outcome="re78", treatment="treat",
                                                                   covariates=cov)
    lp = res.propensity.linear_predictor()
    score = lp if match_on == "logit" else 1 / (1 + np.exp(-lp))
    d = df["treat"].to_numpy() == 1
    want, pairs = brute_force_1nn(score, d, df["re78"].to_numpy())
    assert res.estimate == pytest.approx(want, rel=1e-12)
    assert list(zip(res.matches.treated, res.matches.control, strict=True)) == pairs
    assert res.n_treated == 185 and res.n_control == 15992


def test_ties_go_to_the_first_comparison_row_in_the_data():
    """Discrete covariates: many comparison rows with the same score, and equal distances above
    and below a treated row; shuffled so that the first row in the data is not the lowest index
    of any sorted order."""
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame({"a": rng.integers(0, 4, n).astype(float), "b": rng.integers(0, 3, n).astype(float)})
    df["treated"] = rng.random(n) < 1 / (1 + np.exp(-(df.a - 2.5)))
    df["y"] = rng.normal(size=n) + df.a
    df["cell"] = rng.integers(0, 3, n)
    df.index = rng.permutation(n) + 1000  # labels differ from positions
    res = PropensityMatching(n_bootstrap=0).fit(df, outcome="y", treatment="treated", covariates=["a", "b"],
                                                exact="cell")
    d = df["treated"].to_numpy()
    lp = res.propensity.linear_predictor()
    want, pairs = brute_force_1nn(lp, d, df["y"].to_numpy(), df["cell"].to_numpy())
    assert res.estimate == pytest.approx(want, rel=1e-12)
    labels = df.index.to_numpy()
    assert list(zip(res.matches.treated, res.matches.control, strict=True)) == [(labels[i], labels[j]) for i, j in pairs]
    # symmetric ties by construction: scores 0 and 2 around a treated row at 1
    sym = pd.DataFrame({"s": [0.0, 2.0, 1.0, 5.0], "t": [0, 0, 1, 1], "y": [1.0, 3.0, 10.0, 20.0]})
    from reintegration_effects.effects import nearest_neighbours

    for order in ([0, 1, 2, 3], [1, 0, 2, 3]):
        s = sym.iloc[order].reset_index(drop=True)
        t, c, _ = nearest_neighbours(s.s.to_numpy(), s.t.to_numpy() == 1, np.zeros(4, int), n_neighbors=1,
                                     caliper=np.inf, ties="row")
        assert c[0] == 0  # the first in the data, whichever score it has


def test_matching_without_replacement_uses_each_control_once(nsw):
    res = PropensityMatching(replace=False, n_bootstrap=0).fit(nsw, outcome="re78", treatment="treat",
                                                                covariates=NSW_COVARIATES)
    assert res.matches["control"].is_unique
    assert res.n_treated == 185 and res.n_matched_controls == 185


def test_matching_recovers_the_nsw_experimental_benchmark(nsw, nsw_cps):
    # experimental sample: 1-NN on the logit, bootstrap SE
    res = PropensityMatching(random_state=0).fit(nsw, outcome="re78", treatment="treat", covariates=NSW_COVARIATES)
    lo, hi = res.conf_int()
    assert lo < EXPERIMENTAL < hi, res
    assert list(res.summary.columns[:7]) == ["estimate", "std_error", "z", "p_value", "ci_lower", "ci_upper", "n_treated"]
    assert {"n_control", "n_matched_controls"} <= set(res.summary.columns)
    assert res.balance.smd_after.abs().max() < res.balance.smd_before.abs().max() + 0.1
    # observational NSW-CPS: 5 neighbours, caliper 0.2 SD of the logit, bias correction
    df, cov = nsw_cps
    obs = PropensityMatching(n_neighbors=5, caliper=0.2, bias_correction=True, random_state=0).fit(
        df, outcome="re78", treatment="treat", covariates=cov)
    lo, hi = obs.conf_int()
    assert lo < EXPERIMENTAL < hi, obs
    assert obs.balance.smd_before.abs().max() > 1.0 and obs.balance.smd_after.abs().max() < 0.25
    ax = obs.plot_balance()
    assert isinstance(ax, matplotlib.axes.Axes)
    assert obs.conf_int(alpha=0.5)[1] - obs.conf_int(alpha=0.5)[0] < hi - lo


@pytest.mark.parametrize("n_bootstrap", [0, 49])
@pytest.mark.parametrize("bias_correction", [False, True])
def test_standard_error_ignores_a_constant_added_to_the_outcome(nsw, n_bootstrap, bias_correction):
    """The linear terms use y - mu0(x) for the comparison rows; with the raw outcome (the old
    analytic form without bias correction) a constant entered every comparison row's term."""
    kw = dict(n_neighbors=3, bias_correction=bias_correction, n_bootstrap=n_bootstrap, random_state=3)
    a = PropensityMatching(**kw).fit(nsw, outcome="re78", treatment="treat", covariates=NSW_COVARIATES)
    b = PropensityMatching(**kw).fit(nsw.assign(re78=nsw.re78 + 50_000.0), outcome="re78", treatment="treat",
                                     covariates=NSW_COVARIATES)
    assert b.estimate == pytest.approx(a.estimate, rel=1e-9)
    assert b.std_error == pytest.approx(a.std_error, rel=1e-9)


def test_matched_att_standard_error_with_se_resid_ignores_the_constant(nsw):
    from reintegration_effects.effects import control_residuals, matched_att, nearest_neighbours

    d = nsw.treat.to_numpy() == 1
    x = nsw[NSW_COVARIATES].to_numpy()
    lp = PropensityModel().fit(nsw, treatment="treat", covariates=NSW_COVARIATES).linear_predictor()
    t, c, w = nearest_neighbours(lp, d, np.zeros(len(d), int), n_neighbors=1, caliper=np.inf)
    ses = []
    for shift in (0.0, 1e5):
        y = nsw.re78.to_numpy() + shift
        ses.append(matched_att(y, d, t, c, w, clusters=np.arange(len(d)),
                               se_resid=control_residuals(y, d, x))[1])
    assert ses[1] == pytest.approx(ses[0], rel=1e-9)


def test_cluster_none_means_independent_rows_and_exact_none_needs_no_cells(nsw):
    kw = dict(outcome="re78", treatment="treat", covariates=NSW_COVARIATES)
    a = PropensityMatching(n_bootstrap=0).fit(nsw, **kw)
    b = PropensityMatching(n_bootstrap=0).fit(nsw.assign(pid=np.arange(len(nsw))), cluster="pid",
                                              exact=None, **kw)
    assert a.estimate == b.estimate and a.std_error == pytest.approx(b.std_error, rel=1e-12)


# ------------------------------------------------------------------------------------------------
# DoublyRobustATT
# ------------------------------------------------------------------------------------------------

def test_doubly_robust_recovers_the_nsw_experimental_benchmark(nsw):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    for kw in ({}, dict(propensity_model=LogisticRegression(solver="newton-cholesky", max_iter=1000), outcome_model=LinearRegression())):
        res = DoublyRobustATT(random_state=0, **kw).fit(nsw, outcome="re78", treatment="treat",
                                                         covariates=NSW_COVARIATES, groups="black")
        lo, hi = res.conf_int()
        assert lo < EXPERIMENTAL < hi, res
        assert list(res.summary.index) == ["all", "black=1", "black=0"]
        assert res.summary.loc["all", "n_treated"] == res.summary.loc[["black=1", "black=0"], "n_treated"].sum()
        assert res.conf_int(group="black=1")[0] < res.summary.loc["black=1", "estimate"]


def test_doubly_robust_with_clusters_keeps_clusters_in_one_fold(nsw):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    kw = dict(propensity_model=LogisticRegression(solver="newton-cholesky", max_iter=1000),
              outcome_model=LinearRegression(), random_state=1)
    df = nsw.assign(pid=np.arange(len(nsw)) // 2)
    res = DoublyRobustATT(**kw).fit(df, outcome="re78", treatment="treat", covariates=NSW_COVARIATES, cluster="pid")
    assert np.isfinite(res.std_error) and res.summary.loc["all", "n_treated"] == 185
    same = DoublyRobustATT(**kw).fit(df, outcome="re78", treatment="treat", covariates=NSW_COVARIATES, cluster="pid")
    assert same.estimate == res.estimate  # random_state fixes the folds


# ------------------------------------------------------------------------------------------------
# Cox fit statistics vs lifelines
# ------------------------------------------------------------------------------------------------

def test_cox_log_likelihood_lr_test_and_aic_equal_lifelines():
    from lifelines import CoxPHFitter
    from lifelines.datasets import load_rossi

    from reintegration_effects.survival import CoxModel

    rossi = load_rossi()
    covs = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    ref = CoxPHFitter().fit(rossi, duration_col="week", event_col="arrest")
    lr_ref = ref.log_likelihood_ratio_test()
    res = CoxModel().fit(rossi, duration_col="week", event_col="arrest", covariates=covs)
    assert res.log_likelihood == pytest.approx(ref.log_likelihood_, abs=1e-8)
    assert res.aic == pytest.approx(ref.AIC_partial_, abs=1e-8)
    lr = res.log_likelihood_ratio_test()
    assert lr.statistic == pytest.approx(lr_ref.test_statistic, abs=1e-8)
    assert lr.degrees_freedom == lr_ref.degrees_freedom == 7
    assert lr.p_value == pytest.approx(lr_ref.p_value, rel=1e-8)
    # lifelines prints: log-likelihood -658.75, partial AIC 1331.50, LR test 33.27 on 7 df
    assert (round(res.log_likelihood, 2), round(res.aic, 2), round(lr.statistic, 2)) == (-658.75, 1331.50, 33.27)
    with pytest.raises(ValueError, match=r"covariates is required.*'fin'.*'prio'"):
        CoxModel().fit(rossi, duration_col="week", event_col="arrest")


def test_discrete_time_log_likelihood_is_the_person_period_bernoulli_likelihood():
    """Both solvers and the collapsed cells give the log-likelihood of a Bernoulli GLM on the
    uncollapsed person-weeks (statsmodels), and so the same LR test."""
    import statsmodels.api as sm
    from lifelines.datasets import load_rossi

    from reintegration_effects.survival import DiscreteTimeModel, expand_person_periods

    covs = ["fin", "age", "prio"]
    pw = expand_person_periods(load_rossi(), duration_col="week", event_col="arrest")
    dummies = pd.get_dummies(pw["time"], prefix="t", dtype=float)
    ref = sm.GLM(pw["event"], pd.concat([dummies, pw[covs].astype(float)], axis=1),
                 family=sm.families.Binomial(link=sm.families.links.CLogLog())).fit()
    null = sm.GLM(pw["event"], dummies, family=sm.families.Binomial(link=sm.families.links.CLogLog())).fit()
    for solver in ("statsmodels", "newton"):
        res = DiscreteTimeModel(link="cloglog", solver=solver).fit(pw, time_col="time", event_col="event",
                                                                   covariates=covs)
        assert res.log_likelihood == pytest.approx(ref.llf, abs=1e-4)
        assert res.log_likelihood_ratio_test().statistic == pytest.approx(2 * (ref.llf - null.llf), abs=1e-3)


# ------------------------------------------------------------------------------------------------
# input errors
# ------------------------------------------------------------------------------------------------

def _toy(n=300, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    df["d"] = (rng.random(n) < 1 / (1 + np.exp(-df.x))).astype(int)
    df["y"] = df.x + df.d + rng.normal(size=n)
    return df


def test_treatment_codings():
    df = _toy()
    kw = dict(outcome="y", covariates=["x", "z"])
    ref = PropensityMatching(n_bootstrap=0).fit(df, treatment="d", **kw)
    for coded in (df.d.astype(bool), df.d.astype(float), df.d.astype("int8")):
        res = PropensityMatching(n_bootstrap=0).fit(df.assign(d=coded), treatment="d", **kw)
        assert res.estimate == ref.estimate and res.n_treated == ref.n_treated
    # a 0/1 integer treatment is an indicator, never row numbers
    assert ref.n_treated == int(df.d.sum())
    with pytest.raises(ValueError, match=r"column 'd' must be a binary treatment indicator.*\[1, 2\]"):
        PropensityMatching().fit(df.assign(d=df.d + 1), treatment="d", **kw)
    with pytest.raises(ValueError, match="column 'd'"):
        DoublyRobustATT().fit(df.assign(d=df.d.astype(str)), treatment="d", **kw)
    with pytest.raises(ValueError, match="column 'd' has missing values"):
        PropensityModel().fit(df.assign(d=df.d.where(df.index != 5)), treatment="d", covariates=["x"])


def test_missing_and_constant_columns_are_named():
    df = _toy()
    with pytest.raises(ValueError, match=r"covariate column 'z' has missing or infinite values in rows 3"):
        PropensityMatching().fit(df.assign(z=df.z.where(df.index != 3)), outcome="y", treatment="d",
                                 covariates=["x", "z"])
    with pytest.raises(ValueError, match="outcome column 'y' has missing"):
        DoublyRobustATT().fit(df.assign(y=np.nan), outcome="y", treatment="d", covariates=["x", "z"])
    with pytest.raises(ConstantColumnError, match="covariate column 'k' is constant"):
        PropensityMatching().fit(df.assign(k=1.0), outcome="y", treatment="d", covariates=["x", "k"])
    with pytest.raises(ValueError, match="covariate column 'c' is not numeric"):
        PropensityModel().fit(df.assign(c="a"), treatment="d", covariates=["x", "c"])


def test_separation_and_collinearity_are_named():
    df = _toy()
    # complete separation: x > 0.3 exactly when treated
    sep = df.assign(d=(df.x > 0.3).astype(int))
    with pytest.raises(SeparationError, match=r"separation by covariate\(s\) \['x'\]") as e:
        PropensityMatching().fit(sep, outcome="y", treatment="d", covariates=["x", "z"])
    assert e.value.columns == ["x"]
    # quasi-complete separation: a dummy that no treated row has
    quasi = df.assign(g=((df.d == 0) & (df.index % 7 == 0)).astype(float))
    with pytest.raises(SeparationError, match=r"\['g'\]"):
        PropensityModel().fit(quasi, treatment="d", covariates=["x", "z", "g"])
    # separation only by a combination of two columns
    comb = df.assign(d=((df.x + df.z) > 0).astype(int))
    with pytest.raises(SeparationError) as e:
        PropensityModel().fit(comb, treatment="d", covariates=["x", "z"])
    assert set(e.value.columns) == {"x", "z"}
    with pytest.raises(CollinearityError, match="'w'"):
        PropensityModel().fit(df.assign(w=2 * df.x - df.z + 1), treatment="d", covariates=["x", "z", "w"])
    with pytest.raises(ValueError, match="match_on='score'; expected one of"):
        PropensityMatching(match_on="score").fit(df, outcome="y", treatment="d", covariates=["x"])


def test_pipeline_propensity_leaves_out_columns_the_public_model_refuses():
    """effects.fit_propensity (the dynamic design) drops constant, collinear and separating
    columns and fits the exact logit on the rest."""
    from reintegration_effects.effects import fit_propensity

    df = _toy()
    x = df.assign(k=1.0, g=((df.d == 0) & (df.index % 7 == 0)) * 1.0, w=2 * df.x)[["x", "z", "k", "g", "w"]]
    fit = fit_propensity(x.to_numpy(), df.d.to_numpy() == 1, None, list(x.columns))
    assert set(fit.dropped) == {"k", "g", "w"} or set(fit.dropped) == {"k", "g", "x"}
    m = PropensityModel().fit(df, treatment="d", covariates=["x", "z"])
    if "w" in fit.dropped:
        np.testing.assert_allclose(fit.linear_predictor(), m.linear_predictor(), atol=1e-8)


def test_bias_correction_in_row_blocks_equals_the_plain_regression(monkeypatch):
    """control_residuals fills the weighted control design and the fitted values a block of rows
    at a time; the residuals are those of y - [1, x] beta with beta the weighted least squares
    fit on the controls, written out in full."""
    from reintegration_effects import matching as mt

    rng = np.random.default_rng(4)
    n, k = 1000, 4
    x = rng.normal(size=(n, k))
    d = rng.random(n) < 0.2
    w = rng.uniform(0.5, 2.0, n)
    y = np.column_stack([x @ rng.normal(size=k) + rng.normal(size=n), rng.random(n) < 0.4]).astype(float)
    xd = np.column_stack([np.ones(n), x])
    sw = np.sqrt(w[~d])
    beta = np.linalg.lstsq(xd[~d] * sw[:, None], y[~d] * sw[:, None], rcond=None)[0]
    monkeypatch.setattr(mt, "_ROW_BLOCK", 96)  # many blocks, the last one short
    got = mt.control_residuals(y, d, x, w)
    np.testing.assert_allclose(got, y - xd @ beta, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mt.control_residuals(y[:, 0], d, x, w), (y - xd @ beta)[:, 0], rtol=1e-12, atol=1e-12)


def test_cluster_score_equals_the_summed_row_scores():
    """The bootstrap's clustered propensity score, summed without the rows x terms matrix, is the
    per-row score summed within clusters (the same numbers)."""
    from reintegration_effects.matching import fit_propensity
    from reintegration_effects.stats import cluster_sums

    rng = np.random.default_rng(5)
    n = 2000
    x = rng.normal(size=(n, 3))
    d = rng.random(n) < 1 / (1 + np.exp(-(x[:, 0] - 1.5)))
    w = rng.uniform(0.5, 2.0, n)
    cl = rng.integers(0, 400, n)
    fit = fit_propensity(x, d, w)
    score, hess = fit.score_and_hessian(d.astype(float), w)
    s_cl, hess2 = fit.cluster_score_and_hessian(d.astype(float), w, cl, 400)
    np.testing.assert_array_equal(s_cl, cluster_sums(score, cl, 400))
    np.testing.assert_array_equal(hess2, hess)
    np.testing.assert_allclose(s_cl.sum(axis=0), 0.0, atol=1e-6)  # the score sums to zero at the maximum


def test_standardised_design_is_column_stack_of_the_centred_columns():
    """The logit's standardised design, built in one work array, has the values and the memory
    layout (C or Fortran, which decides the order of Newton's sums) of column_stack([1, (x - m) / s]),
    for one covariate and for several, from C- and Fortran-ordered input."""
    rng = np.random.default_rng(6)
    for x in (rng.normal(size=(400, 1)), rng.normal(size=(400, 3)), np.asfortranarray(rng.normal(size=(400, 3)))):
        d = rng.random(400) < 1 / (1 + np.exp(-x[:, 0]))
        m = PropensityModel().fit_arrays(x, d)
        xv = np.asfortranarray(x)
        mean = xv.mean(axis=0)
        ref = np.column_stack([np.ones(400), (xv - mean) / np.sqrt(((xv - mean) ** 2).mean(axis=0))])
        np.testing.assert_allclose(m.scaled_design, ref, rtol=1e-13)
        assert m.scaled_design.flags.c_contiguous == ref.flags.c_contiguous
        assert m.scaled_design.flags.f_contiguous == ref.flags.f_contiguous
