"""For whom does a programme work, how robust is that to hidden confounding, and which programme for whom?

Builds on the dynamic design of :mod:`reintegration_effects.effects` (Sianesi 2004: starting a
programme *now* versus *not now*, in monthly risk sets) and adds the heterogeneity part of the
programme-effects analysis: a best-linear-projection summary of how effects vary over the target
groups, a calibration check of the individual effect predictions, bounds for hidden confounding,
and a shallow policy tree. Numbers only: the sentences about them (the plain-language summary of
the group effects, the reading of the sensitivity bounds) are made in the report layer,
:mod:`reintegration_effects.plain_language`.

**One first stage for everything.** :class:`HeterogeneityAnalysis` fits econml's
``LinearDRLearner`` once, with every programme as one value of a multi-valued treatment and
"none" (the not-yet-treated pool) as control. ``X`` are the target-group dummies (sex, age band,
migration background, household position, education; the first contract value of each is the
reference), ``W`` the other time-zero covariates of :func:`~reintegration_effects.effects.covariate_matrix`
(age, elapsed duration, calendar time, labour-market history, ...). Nuisances are gradient
boosting (a multi-class propensity model and an outcome model with the treatment as a feature),
cross-fitted over folds that keep a person's rows together (``groups=pcode``). For speed a random
``control_fraction`` of the pool rows is kept with weight 1/fraction (every participant is kept);
the weights go to the nuisance models, the final stage and every average below, so estimates stay
unbiased and only the variance grows. Everything downstream uses the cross-fitted doubly robust
quantities of that one fit.

**Target population** (``target``). The headline effects (``effects.csv``) are effects on the
participants (ATT): the pool is reweighted to the participants with the odds e_P/e_none, and no
participant's outcome is divided by its (often tiny, ~1% a month) propensity. The CATE of econml's
final stage is an effect over the whole risk set (every person-month at risk, most of whom never
start), which leans on exactly those inverse propensities. On the simulated municipality (4,000
persons, seed 11) the econml BLP of job coaching put the 50+ about 10 points *above* the young
(SE 6), while the simulation makes coaching help the young most (true GATE difference -3 points);
the participants' projection gives +1 (SE 6) and, on off_bijstand_12m, -6 (truth -9). Therefore:

- ``target="treated"`` (default): the projection of the participants' effect on the group
  dummies, beta = (sum_i D_i z_i z_i')^-1 sum_i z_i psi_i, with psi the ATT score of
  :class:`~reintegration_effects.effects.DynamicDML` (D (Y - mu0) - (1 - D) w odds (Y - mu0)).
  With the dummies of one dimension only, it reproduces that module's GATEs, so the tables agree.
  Rows with conditional propensity e_P / (e_P + e_none) above ``trim`` are left out, as there.
- ``target="all"``: econml's own final stage, the projection of the CATE over all risk-set rows
  (the DR pseudo-outcome Gamma_P - Gamma_none regressed on the dummies; point estimates equal
  ``est.coef_`` / ``est.intercept_``).

Standard errors are clustered by person in both cases (econml's ``coef__inference`` is
heteroskedasticity-robust per row, and a person has many rows in the risk sets).

**Calibration**: the final stage is refitted out of fold (person folds); the rows are sorted
into ``n_groups`` quantile groups of that out-of-fold predicted effect (quantiles among the
target population), and per group the mean prediction is set beside the doubly robust estimate
of the group (with CI). Plus the calibration slope of Chernozhukov, Demirer, Duflo & Fernandez-Val
(2018): the DR score projected on (1, prediction - mean): slope 1 = calibrated, 0 = the
predictions carry no information about the effect. Aggregates only: no individual prediction
leaves this module (disclosure rules).

**Sensitivity** to hidden confounding: the omitted-variable bounds of Chernozhukov, Cinelli,
Newey, Sharma & Syrgkanis (2022), through econml's ``sensitivity_interval`` and robustness value
(``econml.validate.sensitivity_analysis``; the same functions behind
``LinearDRLearner.robustness_value``). econml computes their inputs (theta, sigma^2, nu^2 and
their covariance) unweighted and row by row; here they are computed with the control weights and
clustered by person, for the ATE (``target="all"``: econml's formulas exactly; a test checks
that with unit weights they equal econml's) or for the ATT (``target="treated"``: the Riesz
representer of the ATT, alpha = D/pi - (1 - D) odds/pi). A start is rare (about 1% of the
person-months at risk), so nu^2 (~1/pi) is large and the bounds are wide: robustness values of a
few tenths of a percent to ~2% are what a clearly significant effect gets on the simulation.

**Policy tree**: econml's ``PolicyTree`` (depth ``max_depth``) on the doubly robust rewards
(Gamma_none, Gamma_P1, ...) over the group dummies assigns each cell of target groups a programme
or none. Rewards use inverse propensities, so the policy population is the common support:
person-months at which every option has a propensity of at least ``policy_min_propensity``
(the persons outside are counted in ``log``). Honest by default: the tree is grown on a random
half of the persons and each leaf's gain is estimated on the other half. Gain = the expected
change in the outcome for a person-month in the leaf if the recommended programme were started
that month, instead of what happened (Gamma_recommended - Y), with a CI clustered by person.
A leaf recommends the tree's programme only where that programme's effect (vs none), estimated
on the held-out half, is positive; otherwise "none" (the tree's choice and its effect stay in
``tree_programme``, ``tree_effect``). The rule looks at the same half the gains are estimated on,
so where it changes a leaf to none the policy's total gain is no longer fully honest: it leaves
out that leaf's negative held-out estimate (weighted by the leaf's share), an optimistic choice.

**Heterogeneity tests** (``tests``, effects_heterogeneity): per programme, the joint Wald test
that every group coefficient of the BLP is zero, W = b' V^-1 b with V their full person-clustered
covariance (not the marginal z-tests), chi-square with as many degrees of freedom as tested terms;
terms with fewer than :data:`MIN_TEST_PERSONS` participants are left out (their rows are suppressed
in effects_blp and a clustered variance on a handful of persons is unreliable). Then the
calibration slope (the BLP of the score on the out-of-fold prediction, Chernozhukov, Demirer,
Duflo & Fernandez-Val 2018, "Generic machine learning inference on heterogeneous treatment
effects"): 0 = the predictions carry no information, so H0: slope = 0 is a test of heterogeneity
along the groups too, from one sample split (their median over many splits is not done here).
``heterogeneity_detected`` (on every policy row): any programme's Wald test rejects at 5% after
Holm's correction across programmes (statsmodels ``multipletests(method="holm")``); without it the
data give no basis for targeting, and the report shows no rule.

Every stochastic step (control subsampling, folds, boosting, the honest split, the tree) draws
its seed from ``random_state`` in ``fit``: the same seed gives the same numbers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .doubly_robust import (
    SENSITIVITY_COLUMNS,
    att_sensitivity_inputs,
    boosting_classifier,
    boosting_regressor,
    sensitivity_bounds,
)
from .effects import (
    ALL_OUTCOMES,
    GROUP_COLUMNS,
    GROUP_VALUES,
    NONE,
    RiskSets,
    budget_shares,
    covariate_matrix,
)
from .errors import InsufficientDataError

Z95 = 1.959963984540054
TARGETS = ("treated", "all")
#: Row budget of :class:`HeterogeneityAnalysis` (participants and sampled pool rows, weighted).
HETEROGENEITY_MAX_ROWS = 300_000
#: Column sets of the four output tables (see HeterogeneityResults).
BLP_COLUMNS = ("programme", "outcome", "target", "term", "reference", "estimate", "std_error", "z", "p_value",
               "ci_lower", "ci_upper", "persons")
CALIBRATION_COLUMNS = ("programme", "outcome", "target", "group", "predicted", "estimate", "std_error", "z",
                       "p_value", "ci_lower", "ci_upper", "persons")
POLICY_COLUMNS = ("outcome", "leaf", "group", "programme", "persons", "estimate", "std_error", "ci_lower",
                  "ci_upper", "effect", "effect_ci_lower", "effect_ci_upper", "tree_programme", "tree_effect",
                  "tree_effect_ci_lower", "tree_effect_ci_upper", "heterogeneity_detected")
#: Columns of the heterogeneity tests (effects_heterogeneity).
TEST_COLUMNS = ("programme", "outcome", "target", "test", "statistic", "df", "p_value", "persons")
#: The tests, in the order listed: the joint Wald test of the BLP's group terms (the one that
#: decides ``heterogeneity_detected``), then the calibration slope (Chernozhukov et al. 2018).
TESTS = ("blp_wald", "calibration_slope")
#: Group terms with fewer participants than this are left out of the joint test (their
#: coefficients are suppressed in effects_blp, and a clustered variance resting on a handful of
#: persons is unreliable).
MIN_TEST_PERSONS = 10
#: Level of the heterogeneity tests (Holm-corrected across programmes) that decides ``heterogeneity_detected``.
DETECTION_ALPHA = 0.05
#: The reference category of every group dimension (the first contract value).
REFERENCE = {dim: values[0] for dim, values in GROUP_VALUES.items()}


# ------------------------------------------------------------------------------------------------
# design
# ------------------------------------------------------------------------------------------------

def group_features(frame: pd.DataFrame, *, drop_reference: bool = True) -> pd.DataFrame:
    """One 0/1 column per target-group value, named like the contract labels (``age=50+``).

    ``drop_reference`` leaves out the first value of every dimension (the reference of the BLP);
    without it every value gets a column (the policy tree's split candidates).
    """
    cols = {}
    for dim, col in GROUP_COLUMNS.items():
        vals = frame[col].astype(str).to_numpy()
        values = GROUP_VALUES[dim]
        unknown = sorted(set(np.unique(vals)) - set(values))
        if unknown:
            raise ValueError(f"column '{col}' holds {unknown}, not a contract value of {dim} ({list(values)}). "
                             "Fix: build the risk sets with effects.build_risk_sets")
        for v in (values[1:] if drop_reference else values):
            cols[f"{dim}={v}"] = (vals == v).astype(float)
    return pd.DataFrame(cols, index=frame.index)


def _controls(frame: pd.DataFrame) -> pd.DataFrame:
    """The time-zero covariates that are not group dummies (econml's W)."""
    x = covariate_matrix(frame)
    return x[[c for c in x.columns if "=" not in c]]


def _default_classifier(seed: int):
    # shrunk and regularised: take-up is ~1% a month per programme, and an unregularised booster
    # pushes some participants' propensities to ~0, which the inverse-propensity terms then amplify
    return boosting_classifier(seed, learning_rate=0.05, num_leaves=8, min_child_samples=200, reg_lambda=1.0)


def _default_regressor(seed: int):
    return boosting_regressor(seed)


# ------------------------------------------------------------------------------------------------
# small numerical helpers (all clustered by person)
# ------------------------------------------------------------------------------------------------

def _p_value(z):
    z = np.abs(np.asarray(z, dtype=float))
    return np.vectorize(lambda v: math.erfc(v / math.sqrt(2)) if np.isfinite(v) else np.nan, otypes=[float])(z)


def _cluster_sums(values: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Column sums of ``values`` (n x k) within clusters (codes 0..n_clusters-1)."""
    values = values.reshape(len(values), -1)
    return np.column_stack([np.bincount(codes, weights=values[:, j], minlength=n_clusters)
                            for j in range(values.shape[1])])


def _cluster_cov(u: np.ndarray, codes: np.ndarray, n_clusters: int, *, small_sample: bool = True) -> np.ndarray:
    """sum over clusters of (sum of u)(sum of u)', u the rows' influence terms (n x k)."""
    s = _cluster_sums(u, codes, n_clusters)
    g = int(np.any(s != 0, axis=1).sum())
    factor = g / (g - 1) if small_sample and g > 1 else 1.0
    return factor * s.T @ s


def _projection(z: np.ndarray, a: np.ndarray, s: np.ndarray, codes: np.ndarray, n_clusters: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """beta = (sum a z z')^-1 sum z s and its person-clustered covariance.

    With (a, s) = (D, ATT score) this is the linear projection of the participants' effect; with
    (a, s) = (w, w x DR pseudo-outcome) the weighted least squares of econml's final stage.
    """
    a_mat = (z * a[:, None]).T @ z
    a_inv = np.linalg.pinv(a_mat)
    beta = a_inv @ (z.T @ s)
    u = z * (s - a * (z @ beta))[:, None]
    return beta, a_inv @ _cluster_cov(u, codes, n_clusters) @ a_inv


def _ratio(a: np.ndarray, s: np.ndarray, codes: np.ndarray, n_clusters: int) -> tuple[float, float]:
    """theta = sum s / sum a and its clustered standard error (a group's DR estimate)."""
    den = a.sum()
    if den <= 0:
        return np.nan, np.nan
    theta = s.sum() / den
    var = _cluster_cov((s - a * theta) / den, codes, n_clusters)[0, 0]
    return float(theta), float(np.sqrt(var))


def _persons(codes: np.ndarray, mask: np.ndarray) -> int:
    return int(np.unique(codes[mask]).size)


def _sensitivity_ate(y, t, gamma, e, j, w, codes, n_clusters):
    """econml's ``dr_sensitivity_values`` for treatment j vs control 0, weighted and clustered.

    theta: the ATE (mean of Gamma_j - Gamma_0); sigma: mean squared outcome residual of the rows
    with treatment 0 or j (0 for other rows, as econml); nu: the debiased second moment of the
    Riesz representer D_j/e_j - D_0/e_0. Returns (theta, sigma, nu, cov of the three means).
    """
    d0 = t == 0
    dj = t == j
    mu_obs = np.choose(t, _outcome_models(y, t, gamma, e).T)
    theta_s = gamma[:, j] - gamma[:, 0]
    sigma_s = np.where(d0 | dj, (y - mu_obs) ** 2, 0.0)
    alpha = dj / e[:, j] - d0 / e[:, 0]
    nu_s = 2 * (1 / e[:, j] + 1 / e[:, 0]) - alpha**2
    scores = np.column_stack([theta_s, sigma_s, nu_s])
    sw = w.sum()
    means = w @ scores / sw
    cov = _cluster_cov(w[:, None] * (scores - means) / sw, codes, n_clusters, small_sample=False)
    return means[0], means[1], means[2], cov


def _sensitivity_att(y, t, mu, e, j, w, keep, codes, n_clusters):
    """The same inputs for the ATT of treatment j vs control 0 among the rows in ``keep``:
    :func:`~reintegration_effects.doubly_robust.att_sensitivity_inputs` (one formula for this
    analysis and the headline :class:`~reintegration_effects.effects.DynamicDML`)."""
    return att_sensitivity_inputs(y, t == j, t == 0, mu[:, 0], mu[:, j], e[:, j] / (e[:, j] + e[:, 0]), w, keep,
                                  codes, n_clusters)


def joint_wald_test(beta: np.ndarray, cov: np.ndarray) -> tuple[float, int, float]:
    """Wald test that every coefficient in ``beta`` is zero, with their full covariance ``cov``.

    W = beta' cov^+ beta, chi-square with rank(cov) degrees of freedom (the pseudo-inverse and the
    rank guard against a singular covariance: a term that is a combination of others adds nothing).
    Returns (W, df, p). Not the marginal z-tests: correlated coefficients are tested jointly.
    """
    from scipy.stats import chi2

    beta = np.asarray(beta, dtype=float)
    cov = np.asarray(cov, dtype=float)
    if beta.size == 0 or not np.isfinite(beta).all() or not np.isfinite(cov).all():
        return np.nan, 0, np.nan
    df = int(np.linalg.matrix_rank(cov))
    if df == 0:
        return np.nan, 0, np.nan
    w = float(beta @ np.linalg.pinv(cov) @ beta)
    return w, df, float(chi2.sf(w, df))


def holm_detected(p_values, alpha: float = DETECTION_ALPHA) -> bool:
    """Whether any of the p-values rejects at ``alpha`` after Holm's correction (statsmodels)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    p = p[np.isfinite(p)]
    return bool(p.size) and bool(multipletests(p, alpha=alpha, method="holm")[0].any())


def _outcome_models(y, t, gamma, e):
    """Undo econml's doubly robust correction: mu_k from Gamma_k = mu_k + 1[T=k] (Y - mu_k)/e_k."""
    mu = gamma.copy()
    for k in range(gamma.shape[1]):
        on = t == k
        mu[on, k] = (gamma[on, k] * e[on, k] - y[on]) / (e[on, k] - 1)
    return mu


# ------------------------------------------------------------------------------------------------
# the analysis
# ------------------------------------------------------------------------------------------------

class HeterogeneityAnalysis:
    """Heterogeneity, calibration, sensitivity and a policy tree for every programme at once.

    Parameters
    ----------
    outcome : one of :data:`reintegration_effects.effects.ALL_OUTCOMES`.
    n_folds : cross-fitting folds (persons kept together) for the nuisances and the calibration.
    control_fraction : share of the not-yet-treated pool rows kept (weight 1/fraction); 1 = all.
    max_rows : row budget of the analysis (None: none). Above it the pool share is lowered further
        and, when the participants alone fill more than half of it (a national register), a random
        share of the participants is kept too; every kept row carries weight 1/share, which every
        step here uses (econml's sample_weight, the ATT weights ``a``), so the estimands do not
        change, only their precision. It does not bind for a municipality (20,000 persons: about
        125,000 rows at the default ``control_fraction``).
    target : "treated" (effect on participants, as effects.csv) or "all" (CATE over the risk set,
        econml's final stage). See the module docstring.
    trim : participants and pool rows with e_P / (e_P + e_none) above this are left out of the
        "treated" target (as :class:`~reintegration_effects.effects.DynamicDML`).
    min_propensity : econml's clipping of propensities (inverse-propensity terms of "all", rewards).
    n_groups : quantile groups of the calibration check.
    c_y, c_t, rho : the confounding strengths for the sensitivity interval (econml's defaults).
    alpha : 1 - confidence level of every interval.
    max_depth, min_leaf_share, policy_min_propensity, honest : the policy tree (depth; smallest leaf
        as a share of the rows the tree is grown on; common-support floor; honest split).
    min_participants : programmes with fewer participants are left out (listed in ``log``).
    propensity_model, outcome_model : sklearn estimators replacing the default gradient boosting.
    random_state : seed for every stochastic step (resolved in ``fit``).
    """

    def __init__(self, *, outcome: str = "off_bijstand_6_18m", n_folds: int = 3, control_fraction: float = 0.3,
                 target: str = "treated", trim: float = 0.95, min_propensity: float = 1e-3, n_groups: int = 4,
                 c_y: float = 0.05, c_t: float = 0.05, rho: float = 1.0, alpha: float = 0.05, max_depth: int = 2,
                 min_leaf_share: float = 0.1, policy_min_propensity: float = 2e-3, honest: bool = True,
                 min_participants: int = 30, propensity_model=None, outcome_model=None,
                 max_rows: int | None = HETEROGENEITY_MAX_ROWS, random_state: int | None = None):
        self.outcome = outcome
        self.max_rows = max_rows
        self.n_folds = n_folds
        self.control_fraction = control_fraction
        self.target = target
        self.trim = trim
        self.min_propensity = min_propensity
        self.n_groups = n_groups
        self.c_y = c_y
        self.c_t = c_t
        self.rho = rho
        self.alpha = alpha
        self.max_depth = max_depth
        self.min_leaf_share = min_leaf_share
        self.policy_min_propensity = policy_min_propensity
        self.honest = honest
        self.min_participants = min_participants
        self.propensity_model = propensity_model
        self.outcome_model = outcome_model
        self.random_state = random_state

    # -------------------------------------------------------------------------------- checks
    def _check(self, risk: RiskSets) -> None:
        f = risk.frame
        if self.outcome not in f.columns:
            raise ValueError(f"risk-set frame has no outcome column '{self.outcome}'; found outcomes "
                             f"{[c for c in ALL_OUTCOMES if c in f.columns]}. Fix: pass outcome= one of them")
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {list(TARGETS)}; found {self.target!r}")
        if not 0 < self.control_fraction <= 1:
            raise ValueError(f"control_fraction must be in (0, 1]; found {self.control_fraction}")
        missing = [c for c in ("pcode", "treatment", "weight", *GROUP_COLUMNS.values()) if c not in f.columns]
        if missing:
            raise ValueError(f"risk-set frame lacks columns {missing}. Fix: build it with effects.build_risk_sets")
        bad = f[self.outcome].isna()
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())[:5].tolist()
            raise ValueError(f"column '{self.outcome}' is empty in {int(bad.sum())} risk-set rows (first: {rows}). "
                             "Fix: outcomes need the full follow-up; rebuild the risk sets")
        if not (f["treatment"] == NONE).any():
            raise InsufficientDataError(f"column 'treatment' has no '{NONE}' rows: there is no comparison pool")

    # -------------------------------------------------------------------------------- fit
    def fit(self, risk: RiskSets) -> HeterogeneityResults:
        """Fit the first stage once and derive the four tables; returns a :class:`HeterogeneityResults`."""
        from sklearn.base import clone
        from sklearn.utils import check_random_state
        from threadpoolctl import threadpool_limits

        self._check(risk)
        rs = check_random_state(self.random_state)
        seed_sub, seed_econml, seed_models, seed_folds, seed_split, seed_tree = (
            int(s) for s in rs.randint(0, 2**31 - 1, size=6))
        log = [("risk-set rows", len(risk.frame)), ("persons", int(risk.frame["pcode"].nunique()))]

        f = risk.frame
        counts = f.loc[f["treatment"] != NONE, "treatment"].value_counts()
        programmes = [p for p in risk.programmes if counts.get(p, 0) >= self.min_participants]
        for p in risk.programmes:
            if p not in programmes:
                log.append((f"{p}: left out, fewer than {self.min_participants} participants", int(counts.get(p, 0))))
        if not programmes:
            # the counts are not given: they are small counts, and the message goes into the run log
            raise InsufficientDataError(f"no programme has {self.min_participants} or more participants in the "
                                        f"risk sets. Fix: lower min_participants or use more data")
        use = f["treatment"].isin([NONE, *programmes]).to_numpy()
        pool = (f["treatment"] == NONE).to_numpy()
        f_pool, f_part = self._shares(int((use & ~pool).sum()), int(pool.sum()))
        if f_pool < 1 or f_part < 1:
            # one uniform draw per row: with a budget that binds the kept pool rows are a subset
            # of those kept without it
            draw = np.random.default_rng(seed_sub).random(len(f))
            use &= np.where(pool, draw < f_pool, draw < f_part)
        fs = f[use].reset_index(drop=True)
        w = fs["weight"].to_numpy(dtype=float) * np.where(fs["treatment"] == NONE, 1 / f_pool, 1 / f_part)
        if f_part < 1:
            log.append((f"participants sampled (share {f_part:.4f}, weight 1/share) for max_rows={self.max_rows}",
                        int((fs["treatment"] != NONE).sum())))
        log.append(("rows used (participants and sampled pool rows)", len(fs)))

        labels = [NONE, *programmes]
        t = pd.Categorical(fs["treatment"], categories=labels).codes.astype(np.int64)
        y = fs[self.outcome].to_numpy(dtype=float)
        xb = group_features(fs, drop_reference=True)
        xb = xb.loc[:, xb.std() > 0]
        codes, uniq = pd.factorize(fs["pcode"])
        n_cl = len(uniq)

        from econml.dr import LinearDRLearner

        clf = (clone(self.propensity_model) if self.propensity_model is not None
               else _default_classifier(seed_models))
        reg = clone(self.outcome_model) if self.outcome_model is not None else _default_regressor(seed_models)
        est = LinearDRLearner(model_propensity=clf, model_regression=reg, categories=labels, cv=self.n_folds,
                              min_propensity=self.min_propensity, random_state=seed_econml)
        # one thread per fit: OpenMP threads in gradient boosting oversubscribe a busy 2-core machine
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Cc]o-variance matrix is underdetermined.*")
            est.fit(y, fs["treatment"].to_numpy(), X=xb.to_numpy(), W=_controls(fs).to_numpy(), sample_weight=w,
                    groups=fs["pcode"].to_numpy(), cache_values=True)
        gamma, e, e_raw = (np.asarray(v) for v in est._cached_values.nuisances)
        est._cached_values = None  # individual-level values stay out of the results object
        if gamma.shape != (len(fs), len(labels)):
            raise RuntimeError(f"econml returned nuisances of shape {gamma.shape}; expected {(len(fs), len(labels))}")
        mu = _outcome_models(y, t, gamma, e)

        z = np.column_stack([np.ones(len(fs)), xb.to_numpy()])
        terms = ["intercept", *xb.columns]
        blp, cal, sens, tests, slopes = [], [], [], [], []
        folds = self._person_folds(fs["pcode"].to_numpy(), seed_folds)
        for j, prog in enumerate(programmes, start=1):
            a, s, keep, dj = self._scores(t, j, y, gamma, mu, e, w)
            log.append((f"{prog}: participants", int((t == j).sum())))
            log.append((f"{prog}: participants with propensity below min_propensity={self.min_propensity} (clipped)",
                        int(((t == j) & (e_raw[:, j] < self.min_propensity)).sum())))
            if self.target == "treated":
                log.append((f"{prog}: participants off support (e_P/(e_P+e_none) > {self.trim})",
                            int(((t == j) & ~keep).sum())))
            blp_rows, wald = self._blp(prog, z, terms, a, s, dj, codes, n_cl)
            blp.append(blp_rows)
            tests.append(wald)
            cal.append(self._calibration(prog, z, a, s, dj, codes, n_cl, folds))
            slope = cal[-1][-1]
            slopes.append(dict(programme=prog, outcome=self.outcome, target=self.target, test="calibration_slope",
                               statistic=slope["z"] ** 2, df=1, p_value=slope["p_value"], persons=slope["persons"]))
            sens.append(self._sensitivity(prog, j, y, t, gamma, mu, e, w, keep, codes, n_cl))
        tests = pd.DataFrame(tests + slopes, columns=list(TEST_COLUMNS))
        detected = holm_detected(tests.loc[tests["test"] == TESTS[0], "p_value"])
        log.append((f"heterogeneity detected (any programme's {TESTS[0]} test, Holm-corrected, "
                    f"at {DETECTION_ALPHA})", int(detected)))
        policy = self._policy(fs, labels, t, y, gamma, e_raw, w, codes, n_cl, seed_split, seed_tree, log)
        policy["heterogeneity_detected"] = detected
        return HeterogeneityResults(
            outcome=self.outcome, target=self.target, programmes=programmes,
            blp=pd.DataFrame([r for rows in blp for r in rows], columns=list(BLP_COLUMNS)),
            calibration=pd.DataFrame([r for rows in cal for r in rows], columns=list(CALIBRATION_COLUMNS)),
            sensitivity=pd.DataFrame(sens, columns=list(SENSITIVITY_COLUMNS)),
            policy=policy,
            tests=tests,
            log=pd.DataFrame(log, columns=["item", "value"]),
            estimator=est, model=self,
        )

    # -------------------------------------------------------------------------------- pieces
    def _shares(self, n_part: int, n_pool: int) -> tuple[float, float]:
        """Kept shares of the pool rows and of the participants' rows under ``max_rows``."""
        return budget_shares(n_part, n_pool, self.max_rows, self.control_fraction)

    def _person_folds(self, pcode: np.ndarray, seed: int) -> np.ndarray:
        from sklearn.model_selection import GroupKFold

        fold = np.zeros(len(pcode), dtype=np.int64)
        splitter = GroupKFold(n_splits=self.n_folds, shuffle=True, random_state=seed)
        for k, (_, test) in enumerate(splitter.split(pcode, groups=pcode)):
            fold[test] = k
        return fold

    def _scores(self, t, j, y, gamma, mu, e, w):
        """(a, s) of the target: weights of the population and the DR score (see _projection)."""
        dj = t == j
        if self.target == "all":
            return w, w * (gamma[:, j] - gamma[:, 0]), np.ones(len(t), dtype=bool), dj
        c = t == 0
        cond = e[:, j] / (e[:, j] + e[:, 0])
        keep = (dj | c) & (cond <= self.trim)
        r0 = y - mu[:, 0]
        s = np.where(keep, np.where(dj, w * r0, 0.0) - np.where(c, w * cond / (1 - cond) * r0, 0.0), 0.0)
        a = np.where(keep & dj, w, 0.0)
        return a, s, keep, dj & keep

    def _row(self, prog, est, se):
        z = est / se if se and se > 0 else np.nan
        q = _z(self.alpha)
        return dict(programme=prog, outcome=self.outcome, target=self.target, estimate=est, std_error=se, z=z,
                    p_value=float(_p_value(z)), ci_lower=est - q * se, ci_upper=est + q * se)

    def _blp(self, prog, z, terms, a, s, dj, codes, n_cl):
        beta, cov = _projection(z, a, s, codes, n_cl)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        rows = []
        for k, term in enumerate(terms):
            if k == 0:
                ref = ", ".join(f"{d}={v}" for d, v in REFERENCE.items())
                persons = _persons(codes, dj)
            else:
                ref = f"{term.split('=')[0]}={REFERENCE[term.split('=')[0]]}"
                persons = _persons(codes, dj & (z[:, k] == 1))
            rows.append({**self._row(prog, float(beta[k]), float(se[k])), "term": term, "reference": ref,
                         "persons": persons})
        tested = [k for k in range(1, len(terms)) if rows[k]["persons"] >= MIN_TEST_PERSONS]
        stat, df, p = joint_wald_test(beta[tested], cov[np.ix_(tested, tested)])
        test = dict(programme=prog, outcome=self.outcome, target=self.target, test="blp_wald", statistic=stat,
                    df=df, p_value=p, persons=rows[0]["persons"])
        return rows, test

    def _calibration(self, prog, z, a, s, dj, codes, n_cl, folds):
        pred = np.zeros(len(a))
        for k in range(self.n_folds):
            test = folds == k
            beta, _ = _projection(z[~test], a[~test], s[~test], codes[~test], n_cl)
            pred[test] = z[test] @ beta
        on = a > 0
        order = np.argsort(pred[on], kind="stable")
        cum = np.cumsum(a[on][order])
        cuts = [pred[on][order][np.searchsorted(cum, cum[-1] * q / self.n_groups)] for q in range(1, self.n_groups)]
        group = np.searchsorted(np.asarray(cuts), pred, side="left")
        rows = []
        for g in range(self.n_groups):
            m = group == g
            if (a[m] > 0).sum() < 2:
                continue
            est, se = _ratio(a[m], s[m], codes[m], n_cl)
            rows.append({**self._row(prog, est, se), "group": f"Q{g + 1}",
                         "predicted": float((a[m] * pred[m]).sum() / a[m].sum()), "persons": _persons(codes, dj & m)})
        centred = pred - (a * pred).sum() / a.sum()
        beta, cov = _projection(np.column_stack([np.ones(len(a)), centred]), a, s, codes, n_cl)
        rows.append({**self._row(prog, float(beta[1]), float(np.sqrt(max(cov[1, 1], 0)))), "group": "slope",
                     "predicted": np.nan, "persons": _persons(codes, dj)})
        return rows

    def _sensitivity(self, prog, j, y, t, gamma, mu, e, w, keep, codes, n_cl):
        if self.target == "all":
            theta, sigma, nu, cov = _sensitivity_ate(y, t, gamma, e, j, w, codes, n_cl)
        else:
            theta, sigma, nu, cov = _sensitivity_att(y, t, mu, e, j, w, keep, codes, n_cl)
        se = float(np.sqrt(cov[0, 0]))
        row = {**self._row(prog, float(theta), se), "c_y": self.c_y, "c_t": self.c_t,
               "persons": _persons(codes, (t == j) & keep)}
        row.pop("z")
        row.update(sensitivity_bounds(theta, sigma, nu, cov, c_y=self.c_y, c_t=self.c_t, rho=self.rho,
                                      alpha=self.alpha))
        return row

    def _policy(self, fs, labels, t, y, gamma, e_raw, w, codes, n_cl, seed_split, seed_tree, log) -> pd.DataFrame:
        from econml.policy import PolicyTree
        from threadpoolctl import threadpool_limits

        support = e_raw.min(axis=1) >= self.policy_min_propensity
        log.append((f"policy: rows on common support (every option's propensity >= {self.policy_min_propensity})",
                    int(support.sum())))
        log.append(("policy: persons with no row on common support",
                    int(n_cl - np.unique(codes[support]).size)))
        xf = group_features(fs, drop_reference=False)
        present = {c: xf[c].to_numpy() for c in xf.columns if xf.loc[support, c].std() > 0}
        names = list(present)
        x = np.column_stack(list(present.values())) if names else np.zeros((len(fs), 0))
        if self.honest:
            persons = np.unique(codes)
            grow_persons = np.random.default_rng(seed_split).permutation(persons)[: len(persons) // 2]
            grow = np.isin(codes, grow_persons)
        else:
            grow = np.ones(len(fs), dtype=bool)
        rows_grow = support & grow
        rows_est = support & (~grow if self.honest else grow)
        if rows_grow.sum() < 2 or rows_est.sum() < 2:
            log.append(("policy: too few rows on common support, no policy tree", int(support.sum())))
            return pd.DataFrame(columns=list(POLICY_COLUMNS))
        tree = PolicyTree(max_depth=self.max_depth, min_samples_leaf=max(self.min_leaf_share, 1 / rows_grow.sum()),
                          min_balancedness_tol=0.45, honest=False, random_state=seed_tree)
        with threadpool_limits(limits=1):
            tree.fit(x[rows_grow], gamma[rows_grow], sample_weight=w[rows_grow])
        leaf_of = tree.apply(x)
        choice = tree.predict(x)
        descriptions = _leaf_descriptions(tree, names, fs)
        out = []
        total_gain = np.zeros(len(fs))
        total_effect = np.zeros(len(fs))
        q = _z(self.alpha)
        for n, leaf in enumerate(sorted(descriptions), start=1):
            in_leaf = support & (leaf_of == leaf)
            m = in_leaf & rows_est
            k_tree = int(np.bincount(choice[in_leaf], minlength=len(labels)).argmax())
            # the tree's choice, judged on the estimation half: a programme is recommended only
            # where its estimated effect (vs none) in the leaf is positive, else none
            t_ef, t_se = _ratio(w[m], w[m] * (gamma[m, k_tree] - gamma[m, 0]), codes[m], n_cl)
            k = k_tree if k_tree != 0 and np.isfinite(t_ef) and t_ef > 0 else 0
            gain = gamma[:, k] - y
            effect = gamma[:, k] - gamma[:, 0]
            total_gain[in_leaf] = gain[in_leaf]
            total_effect[in_leaf] = effect[in_leaf]
            row = self._policy_row(str(n), descriptions[leaf], labels[k], in_leaf, rows_est, gain, effect, w,
                                   codes, n_cl)
            row.update(tree_programme=labels[k_tree], tree_effect=t_ef, tree_effect_ci_lower=t_ef - q * t_se,
                       tree_effect_ci_upper=t_ef + q * t_se)
            out.append(row)
        out.append(self._policy_row("all", "all", "policy", support, rows_est, total_gain, total_effect, w, codes,
                                    n_cl))
        return pd.DataFrame(out, columns=list(POLICY_COLUMNS))

    def _policy_row(self, leaf, group, programme, in_leaf, rows_est, gain, effect, w, codes, n_cl) -> dict:
        m = in_leaf & rows_est
        q = _z(self.alpha)
        g, g_se = _ratio(w[m], w[m] * gain[m], codes[m], n_cl)
        ef, ef_se = _ratio(w[m], w[m] * effect[m], codes[m], n_cl)
        return dict(outcome=self.outcome, leaf=leaf, group=group, programme=programme,
                    persons=_persons(codes, in_leaf), estimate=g, std_error=g_se, ci_lower=g - q * g_se,
                    ci_upper=g + q * g_se, effect=ef, effect_ci_lower=ef - q * ef_se, effect_ci_upper=ef + q * ef_se,
                    tree_programme=programme if leaf == "all" else None, tree_effect=np.nan,
                    tree_effect_ci_lower=np.nan, tree_effect_ci_upper=np.nan)


def _z(alpha: float) -> float:
    from statistics import NormalDist

    return Z95 if alpha == 0.05 else NormalDist().inv_cdf(1 - alpha / 2)


def _leaf_descriptions(tree, names: list[str], frame: pd.DataFrame) -> dict[int, str]:
    """Leaf node id -> the leaf's target groups in contract labels ('age=18-26|27-49; sex=F')."""
    tr = tree.tree_
    present = {dim: [v for v in GROUP_VALUES[dim] if (frame[col].astype(str) == v).any()]
               for dim, col in GROUP_COLUMNS.items()}
    out = {}

    def walk(node, allowed):
        left, right = tr.children_left[node], tr.children_right[node]
        if left == -1:
            parts = []
            for dim, vals in allowed.items():
                if set(vals) != set(present[dim]):
                    parts.append(f"{dim}={'|'.join(vals)}")
            out[node] = "; ".join(parts) if parts else "all"
            return
        dim, value = names[tr.feature[node]].split("=", 1)
        no = {**allowed, dim: [v for v in allowed[dim] if v != value]}
        yes = {**allowed, dim: [v for v in allowed[dim] if v == value]}
        walk(left, no)  # feature <= 0.5: not this value
        walk(right, yes)

    walk(0, dict(present))
    return out


# ------------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------------

@dataclass
class HeterogeneityResults:
    """The four heterogeneity tables (aggregates only), the run log and the fitted models.

    Columns
    -------
    ``blp`` (effects_blp): programme, outcome, target, term ('intercept' = the effect for the
    reference person; 'age=50+' = difference from the reference value of that dimension, the
    other group features held fixed), reference (the term's reference category), estimate,
    std_error, z, p_value, ci_lower, ci_upper (person-clustered, normal), persons (participants of
    the programme with this feature value; intercept: all participants used).

    ``calibration`` (effects_calibration): programme, outcome, target, group ('Q1'..'Qk' quantile
    groups of the out-of-fold predicted effect, low to high; 'slope' the calibration slope),
    predicted (mean predicted effect in the group; empty for 'slope'), estimate (doubly robust
    effect in the group; for 'slope' the slope: 1 = calibrated, 0 = no information), std_error,
    z, p_value (H0: 0), ci_lower, ci_upper, persons (participants in the group).

    ``sensitivity`` (effects_sensitivity): programme, outcome, target, estimate (the ATT or ATE
    the bounds are for), std_error, p_value, ci_lower, ci_upper, c_y, c_t (assumed confounding
    strengths: share of the residual variation of outcome and of take-up explained by the hidden
    confounder), bound_lower, bound_upper (range of the estimate under that confounding),
    sensitivity_ci_lower, sensitivity_ci_upper (that range widened by sampling error),
    robustness_value (confounding strength in both, 0-1, at which the CI reaches zero; 0 if it
    already contains zero), robustness_value_estimate (same for the point estimate),
    persons (participants). The run adds ``interpretation`` (one plain sentence) with
    :func:`reintegration_effects.plain_language.add_sensitivity_sentences`.

    ``policy``: outcome, leaf ('1'.., and 'all' for the whole policy), group (the leaf's target
    groups in contract labels, '|' = or, '; ' = and), programme (recommended: a programme label or
    'none'; 'policy' on the 'all' row; a programme only where its estimated effect in the leaf is
    positive), persons (persons with a risk-set row in the leaf), estimate,
    std_error, ci_lower, ci_upper (expected gain per person-month vs the current assignment, on
    the outcome's scale: shares for 0/1 outcomes), effect, effect_ci_lower, effect_ci_upper (the
    recommended option vs none; 0 when none is recommended), tree_programme, tree_effect,
    tree_effect_ci_lower, tree_effect_ci_upper (the tree's own choice and its effect vs none on the
    held-out half: differs from programme where that effect was not positive),
    heterogeneity_detected (the same on every row: see ``tests``).

    ``tests`` (effects_heterogeneity): programme, outcome, target, test ('blp_wald' rows first, then
    'calibration_slope'), statistic (chi-square), df, p_value, persons (participants used).
    """

    outcome: str
    target: str
    programmes: list[str]
    blp: pd.DataFrame
    calibration: pd.DataFrame
    sensitivity: pd.DataFrame
    policy: pd.DataFrame
    tests: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(TEST_COLUMNS)))
    log: pd.DataFrame = field(default_factory=pd.DataFrame)
    estimator: object = None
    model: object = None

    @property
    def summary(self) -> pd.DataFrame:
        return self.blp.set_index(["programme", "term"])

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """The tables the run writes, under their output names (count columns are ``persons``)."""
        return {"effects_blp": self.blp.copy(), "effects_calibration": self.calibration.copy(),
                "effects_sensitivity": self.sensitivity.copy(), "policy": self.policy.copy(),
                "effects_heterogeneity": self.tests.copy()}

    @property
    def heterogeneity_detected(self) -> bool:
        """Any programme's joint BLP test rejects at 5% after Holm's correction across programmes."""
        return holm_detected(self.tests.loc[self.tests["test"] == TESTS[0], "p_value"])

    def plot_calibration(self, programme: str, ax=None):
        """Mean predicted effect against the DR estimate per quantile group (aggregates only)."""
        import matplotlib.pyplot as plt

        c = self.calibration[(self.calibration.programme == programme) & (self.calibration.group != "slope")]
        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 4))
        err = np.vstack([c.estimate - c.ci_lower, c.ci_upper - c.estimate])
        ax.errorbar(c.predicted, c.estimate, yerr=err, fmt="o", capsize=3, gid="aggregated")
        lo = float(np.nanmin([c.predicted.min(), c.ci_lower.min()]))
        hi = float(np.nanmax([c.predicted.max(), c.ci_upper.max()]))
        ax.plot([lo, hi], [lo, hi], color="grey", ls="--", lw=0.8)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel("mean predicted effect")
        ax.set_ylabel("doubly robust estimate (95% CI)")
        ax.set_title(programme)
        return ax

    def _repr_html_(self) -> str:
        fmt = lambda v: f"{v:.3f}"  # noqa: E731
        return ("<h4>Best linear projection</h4>" + self.blp.to_html(index=False, float_format=fmt)
                + "<h4>Sensitivity</h4>" + self.sensitivity.to_html(
                    index=False, float_format=fmt)
                + "<h4>Policy tree</h4>" + self.policy.to_html(index=False, float_format=fmt))


def __getattr__(name: str):
    """``heterogeneity.plain_language`` (and its phrase tables) moved to the report layer."""
    if name in ("plain_language", "GROUP_PHRASES", "PROGRAMME_NAMES", "OUTCOME_PHRASES", "PLAIN_LANGUAGE_COLUMNS"):
        import importlib
        import warnings

        warnings.warn(f"reintegration_effects.heterogeneity.{name} moved to reintegration_effects.plain_language",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module("reintegration_effects.plain_language"), name)
    raise AttributeError(f"module 'reintegration_effects.heterogeneity' has no attribute '{name}'")
