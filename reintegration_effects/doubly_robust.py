"""Cross-fitted doubly robust (AIPW) estimate of the average effect on the treated, on any DataFrame.

:class:`DoublyRobustATT` uses the Neyman-orthogonal ATT score of Chernozhukov et al. (2018,
section 5.1) with nuisances (propensity score and comparison-group outcome model) fitted by any
scikit-learn learners on held-out folds. It shares the fold fit and the score with the dynamic
design's :class:`~reintegration_effects.effects.DynamicDML`
(:func:`~reintegration_effects.effects.fit_fold`, :func:`~reintegration_effects.effects.att_score`,
:func:`~reintegration_effects.effects.att_from_score`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats

from .parallel import map_tasks
from .propensity import check_numeric_columns, treatment_indicator
from .stats import cluster_se

__all__ = ["DoublyRobustATT", "DoublyRobustResults"]


# ------------------------------------------------------------------------------------------------
# The cross-fitting cores, shared with the dynamic design (effects.DynamicDML)
# ------------------------------------------------------------------------------------------------


#: The nuisance learners' settings (gradient boosting, 100 trees of at most 15 leaves, at least 100
#: rows per leaf, no early stopping). LightGBM rather than scikit-learn's HistGradientBoosting:
#: the same algorithm (histograms, leaf-wise trees) with these settings, several times faster
#: per fit on one thread (docs/validation.md, "LightGBM nuisances"), and already installed with econml.
#: ``deterministic`` and ``force_col_wise``: the same trees whatever the machine's threads;
#: ``n_jobs=1``: the package parallelises over folds (parallel.map_tasks), and LightGBM's own
#: OpenMP threads in two loky workers on two cores stalled the default run (threadpoolctl's
#: limit did not prevent it; the cause was not investigated further). Pass your own learner for a
#: multi-threaded single fit.
BOOSTING = dict(n_estimators=100, learning_rate=0.1, num_leaves=15, min_child_samples=100,
                reg_lambda=0.0, subsample=1.0, colsample_bytree=1.0, max_bin=255)
LIGHTGBM_FIXED = dict(deterministic=True, force_col_wise=True, n_jobs=1, verbose=-1)


def boosting_classifier(random_state, **settings):
    """A LightGBM classifier with :data:`BOOSTING`'s settings, updated by ``settings``."""
    from lightgbm import LGBMClassifier

    return LGBMClassifier(**{**BOOSTING, **settings, **LIGHTGBM_FIXED}, random_state=random_state)


def boosting_regressor(random_state, **settings):
    """A LightGBM regressor with :data:`BOOSTING`'s settings, updated by ``settings``."""
    from lightgbm import LGBMRegressor

    return LGBMRegressor(**{**BOOSTING, **settings, **LIGHTGBM_FIXED}, random_state=random_state)


def default_classifier(random_state):
    """The propensity model of the doubly robust estimators: :func:`boosting_classifier`."""
    return boosting_classifier(random_state)


def default_regressor(random_state):
    """The outcome model of the doubly robust estimators: :func:`boosting_regressor`."""
    return boosting_regressor(random_state)


def fit_fold(fold, *, x, t, controls, ys, clf, reg, n_labels, treated_ys=None):
    """One cross-fitting fold: propensity and control-outcome models on ``train`` (with the
    propensity weights ``w_train``), predicted on ``test``.

    ``treated_ys`` (outcome -> values): also an outcome model per treatment label k >= 1, fitted
    on the training rows with ``t == k`` (the treated outcome mu_k, which only the sensitivity
    bounds need); its predictions are under the key ``(outcome, k)``. The other fits, and so the
    estimates, do not change.
    """
    from sklearn.base import clone

    train, test, w_train = fold
    m = clone(clf).fit(x[train], t[train], sample_weight=w_train)
    proba = np.zeros((len(test), n_labels))
    proba[:, m.classes_] = m.predict_proba(x[test])
    tr_c = train[controls[train]]
    mu = {y: clone(reg).fit(x[tr_c], yv[tr_c]).predict(x[test]) for y, yv in ys.items()}
    for y, yv in (treated_ys or {}).items():
        for k in range(1, n_labels):
            tr_k = train[t[train] == k]
            mu[y, k] = clone(reg).fit(x[tr_k], yv[tr_k]).predict(x[test]) if len(tr_k) else np.full(len(test), np.nan)
    return test, proba, mu


def fit_fold_task(task, **kw):
    """:func:`fit_fold` of one (fold, propensity learner, outcome learner) task of a repeated cross-fit."""
    fold, clf, reg = task
    return fit_fold(fold, clf=clf, reg=reg, **kw)


def att_score(resid: np.ndarray, odds: np.ndarray, d: np.ndarray, control: np.ndarray,
              w: np.ndarray) -> np.ndarray:
    """The doubly robust ATT score per row, psi = w [D r - (1 - D) odds r] with r = Y - mu0(X)
    and odds = e / (1 - e); rows neither treated nor control get 0 (Chernozhukov et al. 2018, 5.1)."""
    return np.where(d, w * resid, 0.0) - np.where(control, w * odds * resid, 0.0)


def att_from_score(psi: np.ndarray, d: np.ndarray, sel: np.ndarray, clusters: np.ndarray,
                   w: np.ndarray | None = None) -> tuple[float, float]:
    """ATT = sum of psi over ``sel`` / the (weighted) number of treated in ``sel``, and its
    standard error from the centred score summed within ``clusters`` (integer codes)."""
    wd = np.where(d & sel, 1.0 if w is None else w, 0.0)
    n1 = wd.sum()
    tau = psi[sel].sum() / n1
    terms = np.where(sel, psi - wd * tau, 0.0)
    return float(tau), cluster_se(terms, clusters, n1)


# ------------------------------------------------------------------------------------------------
# Repeated cross-fitting (Chernozhukov et al. 2018, section 3.4)
# ------------------------------------------------------------------------------------------------

#: Default number of independent fold splits (``n_rep``) of :class:`DoublyRobustATT` and
#: :class:`~reintegration_effects.effects.DynamicDML`: three, measured best (docs/validation.md,
#: "Repeated cross-fitting"; five did no better); DynamicDML's training-row budget keeps the three
#: splits at about the cost one split had.
N_REP = 3


def check_n_rep(n_rep) -> int:
    """``n_rep`` as an int, or a ValueError saying what is expected."""
    if isinstance(n_rep, bool) or not isinstance(n_rep, int | np.integer) or n_rep < 1:
        raise ValueError(f"n_rep={n_rep!r}; expected an integer of at least 1 (the number of independent "
                         "cross-fitting fold splits; 1: a single split).")
    return int(n_rep)


def repetition_seeds(first_seed: int, n_rep: int) -> list[int]:
    """The seed of every repetition's fold split (and of its default learners and thinning draws).

    Repetition 0 gets ``first_seed``, the seed a single split has always used, so ``n_rep=1``
    gives exactly the single-split results and the first split of every ``n_rep``; repetition s
    >= 1 gets the s-th child of ``numpy.random.SeedSequence(first_seed).spawn(n_rep)``. The seeds
    are nested (the first k of ``n_rep`` are those of ``n_rep=k``) and depend on nothing but
    ``first_seed``, whichever worker fits which fold.
    """
    children = np.random.SeedSequence(int(first_seed)).spawn(n_rep)
    return [int(first_seed)] + [int(c.generate_state(1, dtype=np.uint32)[0] % (2**31 - 1)) for c in children[1:]]


def median_aggregate(estimates, std_errors) -> tuple[float, float]:
    """The estimate and standard error over repeated fold splits (Chernozhukov et al. 2018, 3.4).

    theta = median_s theta_s and se^2 = median_s (se_s^2 + (theta_s - theta)^2): the spread of the
    estimates over the splits enters the standard error, on the estimate's own scale (DoubleML up
    to 0.7 added the squared deviations to the n-scaled variance, where they are divided by n;
    DoubleML 0.9+ takes the median of the upper confidence limits instead: neither counts the
    spread over splits in full). One split: its own numbers, unchanged. Non-finite splits (a cell
    without estimate in that split) are left out; none left: NaN.
    """
    est = np.asarray(estimates, dtype=float)
    se = np.asarray(std_errors, dtype=float)
    ok = np.isfinite(est) & np.isfinite(se)
    if len(est) == 1 or ok.sum() == 1:
        return float(est[ok][0]) if ok.any() else np.nan, float(se[ok][0]) if ok.any() else np.nan
    if not ok.any():
        return np.nan, np.nan
    est, se = est[ok], se[ok]
    theta = float(np.median(est))
    return theta, float(np.sqrt(np.median(se**2 + (est - theta) ** 2)))


def median_aggregate_frame(splits: pd.DataFrame, keys: Sequence[str], *, counts: Sequence[str] = ()) -> pd.DataFrame:
    """:func:`median_aggregate` of ``estimate`` and ``std_error`` within every cell ``keys`` of a
    per-split table (one row per cell and split); ``counts`` (integer columns such as n_treated,
    which trimming can make differ between splits): their median, rounded down. Cells keep the
    order of their first appearance."""
    out = []
    for key, g in splits.groupby(list(keys), sort=False):
        tau, se = median_aggregate(g["estimate"].to_numpy(), g["std_error"].to_numpy())
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True), estimate=tau, std_error=se)
        row.update({c: int(np.floor(np.median(g[c].to_numpy()))) for c in counts})
        out.append(row)
    return pd.DataFrame(out, columns=[*keys, "estimate", "std_error", *counts])



# ------------------------------------------------------------------------------------------------
# Sensitivity to an omitted confounder (Chernozhukov, Cinelli, Newey, Sharma & Syrgkanis 2022)
# ------------------------------------------------------------------------------------------------

#: Default confounding strengths of the sensitivity bounds (econml's and DoubleML's defaults):
#: the hidden confounder explains 5% of the residual variation of the outcome (c_y) and of the
#: treatment's Riesz representer (c_t), with full correlation rho = 1 (the worst case).
SENSITIVITY_C_Y, SENSITIVITY_C_T, SENSITIVITY_RHO = 0.05, 0.05, 1.0
#: Columns of a sensitivity table (``effects_sensitivity``): see
#: :class:`~reintegration_effects.heterogeneity.HeterogeneityResults`.
SENSITIVITY_COLUMNS = ("programme", "outcome", "target", "estimate", "std_error", "p_value", "ci_lower", "ci_upper",
                       "c_y", "c_t", "bound_lower", "bound_upper", "sensitivity_ci_lower", "sensitivity_ci_upper",
                       "robustness_value", "robustness_value_estimate", "persons")


def att_sensitivity_inputs(y, d, control, mu0, mu1, cond, w, keep, clusters, n_clusters, sq_resid=None):
    """theta, sigma^2, nu^2 and the covariance of their estimates for the ATT of ``d`` vs ``control``.

    Among the rows in ``keep`` that are treated or control (weights ``w``): pi = the weighted
    share treated; alpha = D/pi - (1 - D) c/(1 - c)/pi the ATT's Riesz representer (c = ``cond``,
    the conditional propensity); theta = mean alpha (Y - mu0) (the ATT: with unit treated weights
    exactly sum(psi)/sum(D) of :func:`att_score`); sigma^2 = mean (Y - mu_D)^2 (mu1 for the treated,
    mu0 for the controls); nu^2 = mean of 2 D/(pi^2 (1 - c)) - alpha^2 (the debiased E alpha^2).
    These are DoubleML's ATTE sensitivity elements (``DoubleMLIRM(score="ATTE")``), weighted and
    clustered: the covariance sums influence terms within ``clusters`` (integer codes), with the
    small-sample factor g/(g - 1) of :func:`~reintegration_effects.stats.cluster_se`, and accounts
    for pi being estimated.

    ``sq_resid``: per row, an unbiased estimate of (Y - mu_D)^2 to use for sigma^2 instead of
    the squared residual of ``y``: for an outcome observed only on some rows (censored durations,
    :mod:`~reintegration_effects.duration_effects`), ``y`` is then the doubly robust pseudo-outcome
    and ``sq_resid`` the inverse-probability-of-censoring weighted squared residual.
    """
    sub = keep & (d | control)
    d = d & sub
    ww = np.where(sub, w, 0.0)
    sw = ww.sum()
    pi = (ww * d).sum() / sw
    odds = cond / (1 - cond)
    alpha = np.where(d, 1 / pi, -odds / pi)
    r0 = y - mu0
    mu_obs = np.where(d, mu1, mu0)
    theta_s = np.where(sub, alpha * r0, 0.0)
    sigma_s = np.where(sub, (y - mu_obs) ** 2 if sq_resid is None else sq_resid, 0.0)
    nu_s = np.where(sub, 2 * d / (pi**2 * (1 - cond)) - alpha**2, 0.0)
    theta = (ww * theta_s).sum() / sw
    sigma = (ww * sigma_s).sum() / sw
    nu = (ww * nu_s).sum() / sw
    u = np.column_stack([ww * (theta_s - d * theta / pi), ww * (sigma_s - sigma), ww * (nu_s - nu)]) / sw
    s = np.column_stack([np.bincount(clusters, weights=u[:, k], minlength=n_clusters) for k in range(3)])
    g = int(np.any(s != 0, axis=1).sum())
    factor = g / (g - 1) if g > 1 else 1.0
    return float(theta), float(sigma), float(nu), factor * s.T @ s


def sensitivity_bounds(theta, sigma, nu, cov, *, c_y=SENSITIVITY_C_Y, c_t=SENSITIVITY_C_T, rho=SENSITIVITY_RHO,
                       alpha=0.05) -> dict:
    """Bounds and robustness values from the sensitivity inputs, by econml's functions.

    bound = theta -/+ |rho| sqrt(c_y c_t / (1 - c_t)) sqrt(sigma^2 nu^2) (``bound_lower``,
    ``bound_upper``); ``sensitivity_ci_*``: that range widened by sampling error (one-sided normal
    quantiles of the bound's own standard error); ``robustness_value``: the strength r = c_y = c_t
    (rho = 1) at which the widened interval reaches zero (0 when the plain interval already
    covers it); ``robustness_value_estimate``: the same for the point estimate, which has the
    closed form r = (-k + sqrt(k^2 + 4k))/2 with k = theta^2 / (sigma^2 nu^2). NaN everywhere when
    sigma^2 or nu^2 came out negative (econml refuses them). When sigma^2 nu^2 is exactly zero (an
    outcome with no residual variation, possible in a small group) no confounder of any strength
    moves the estimate: the bounds are the estimate, the widened interval is the plain interval, and
    the robustness values are 1 (0 when the plain interval, or the estimate, is already zero) --
    econml divides by sigma^2 and nu^2, so this limit is taken here.
    """
    from econml.validate.sensitivity_analysis import RV, sensitivity_interval

    keys = ("bound_lower", "bound_upper", "sensitivity_ci_lower", "sensitivity_ci_upper", "robustness_value",
            "robustness_value_estimate")
    if not (sigma >= 0 and nu >= 0):
        return dict.fromkeys(keys, np.nan)
    if sigma * nu == 0:
        from statistics import NormalDist

        half = NormalDist().inv_cdf(1 - alpha / 2) * float(np.sqrt(cov[0][0]))
        covers = theta - half <= 0 <= theta + half
        return dict(bound_lower=float(theta), bound_upper=float(theta), sensitivity_ci_lower=float(theta - half),
                    sensitivity_ci_upper=float(theta + half), robustness_value=0.0 if covers else 1.0,
                    robustness_value_estimate=0.0 if theta == 0 else 1.0)
    args = dict(theta=theta, sigma=sigma, nu=nu, cov=cov, alpha=alpha)
    lo, hi = sensitivity_interval(**args, c_y=c_y, c_t=c_t, rho=rho, interval_type="theta")
    clo, chi = sensitivity_interval(**args, c_y=c_y, c_t=c_t, rho=rho, interval_type="ci")
    return dict(bound_lower=float(lo), bound_upper=float(hi), sensitivity_ci_lower=float(clo),
                sensitivity_ci_upper=float(chi),
                robustness_value=float(RV(**args, null_hypothesis=0, interval_type="ci")),
                robustness_value_estimate=float(RV(**args, null_hypothesis=0, interval_type="theta")))


def sensitivity_table(per_split, *, c_y=SENSITIVITY_C_Y, c_t=SENSITIVITY_C_T, rho=SENSITIVITY_RHO, alpha=0.05,
                      method: str = "dml") -> pd.DataFrame:
    """The omitted-variable bounds (:data:`SENSITIVITY_COLUMNS` and ``method``) of every
    (programme, outcome) from the sensitivity inputs of every fold split: ``per_split`` holds tuples
    (programme, outcome, split, theta, sigma^2, nu^2, cov, persons), the inputs as
    :func:`att_sensitivity_inputs` returns them.

    Over several splits the inputs are aggregated the way the estimates are
    (:func:`median_aggregate`): theta the median, the variance of theta
    median_s (var_s + (theta_s - theta)^2), sigma^2, nu^2 and the other covariance entries their
    medians; the bounds are computed once from those (:func:`sensitivity_bounds`). So
    ``estimate`` and ``std_error`` are those of the median-aggregated effect, and the bounds widen
    that estimate and interval. One split: its own inputs.
    """
    from statistics import NormalDist

    from .stats import normal_p_value

    q = NormalDist().inv_cdf(1 - alpha / 2)
    cells: dict[tuple, list] = {}
    for prog, y, _split, theta, sigma, nu, cov, persons in per_split:
        cells.setdefault((prog, y), []).append((theta, sigma, nu, cov, persons))
    out = []
    for (prog, y), parts in cells.items():
        if len(parts) == 1:
            theta, sigma, nu, cov, persons = parts[0]
        else:
            th = np.array([p[0] for p in parts])
            covs = np.array([p[3] for p in parts])
            theta, se = median_aggregate(th, np.sqrt(covs[:, 0, 0]))
            cov = np.median(covs, axis=0)
            cov[0, 0] = se**2
            sigma, nu = float(np.median([p[1] for p in parts])), float(np.median([p[2] for p in parts]))
            persons = int(np.floor(np.median([p[4] for p in parts])))
        se = float(np.sqrt(cov[0, 0]))
        out.append(dict(programme=prog, outcome=y, target="treated", estimate=theta, std_error=se,
                        p_value=float(normal_p_value(theta, se)), ci_lower=theta - q * se,
                        ci_upper=theta + q * se, c_y=c_y, c_t=c_t,
                        **sensitivity_bounds(theta, sigma, nu, cov, c_y=c_y, c_t=c_t, rho=rho, alpha=alpha),
                        persons=persons, method=method))
    return pd.DataFrame(out, columns=[*SENSITIVITY_COLUMNS, "method"])


SUMMARY_COLUMNS = ("estimate", "std_error", "z", "p_value", "ci_lower", "ci_upper", "n_treated",
                   "n_control", "n_trimmed")


class DoublyRobustResults:
    """Results of :class:`DoublyRobustATT`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per group (index ``group``: "all", then "<column>=<value>" for every value of the
        ``groups`` column). Columns: estimate, std_error, z, p_value, ci_lower, ci_upper,
        n_treated, n_control, n_trimmed (treated rows left out for a propensity above ``trim``).
    estimate, std_error : float
        The "all" row.
    nuisances : pandas.DataFrame
        Out-of-fold propensity ``e`` and comparison-outcome prediction ``mu0`` per row of ``df``
        (of the first fold split when there are several).
    splits : pandas.DataFrame
        The estimate of every fold split before aggregation: split (0 to n_rep - 1), group,
        estimate, std_error, n_treated, n_control, n_trimmed. ``summary`` is its
        :func:`median_aggregate` per group (one split: the same numbers).
    alpha : float
        Level of the intervals.
    model : DoublyRobustATT
        The estimator.
    """

    def __init__(self, *, summary: pd.DataFrame, nuisances: pd.DataFrame, alpha: float, model,
                 splits: pd.DataFrame | None = None):
        self.summary = summary
        self.nuisances = nuisances
        self.splits = splits if splits is not None else pd.DataFrame()
        self.alpha = alpha
        self.model = model

    @property
    def estimate(self) -> float:
        return float(self.summary.loc["all", "estimate"])

    @property
    def std_error(self) -> float:
        return float(self.summary.loc["all", "std_error"])

    def conf_int(self, alpha: float | None = None, group: str = "all") -> tuple[float, float]:
        """Normal-approximation confidence interval (lower, upper) of ``group`` at level 1 - ``alpha``."""
        q = stats.norm.ppf(1 - (self.alpha if alpha is None else alpha) / 2)
        row = self.summary.loc[group]
        return float(row["estimate"] - q * row["std_error"]), float(row["estimate"] + q * row["std_error"])

    def to_frame(self) -> pd.DataFrame:
        """The summary as a tidy frame (``group`` a column)."""
        return self.summary.reset_index()

    def __repr__(self) -> str:
        lo, hi = self.conf_int()
        return (f"<DoublyRobustResults ATT={self.estimate:.4g} (SE {self.std_error:.4g}, "
                f"{100 * (1 - self.alpha):g}% CI {lo:.4g} to {hi:.4g}), {len(self.summary)} group(s)>")

    def _repr_html_(self) -> str:
        return self.summary.to_html(float_format=lambda v: f"{v:.4g}")


class DoublyRobustATT:
    """Doubly robust ATT with cross-fitted machine-learning nuisances.

    The score per row is psi = w [D (Y - mu0(X)) - (1 - D) e(X) / (1 - e(X)) (Y - mu0(X))], with
    e the propensity score and mu0 the outcome model of the comparison rows, both predicted for
    each row by models fitted on the other folds; ATT = sum(psi) / sum(w D). The estimate is
    consistent if either nuisance is, and its standard error comes from the score (summed within
    ``cluster`` when given).

    Parameters
    ----------
    propensity_model : sklearn classifier, optional
        Any estimator with ``fit(X, d, sample_weight=...)`` and ``predict_proba``; cloned per
        fold. Default: the gradient boosting of :class:`~reintegration_effects.effects.DynamicDML`.
    outcome_model : sklearn regressor, optional
        Fitted on the comparison rows of the training folds; cloned per fold. Default: gradient boosting.
    n_folds : int, default 5
        Cross-fitting folds (rows of one cluster stay in one fold).
    n_rep : int, default :data:`N_REP`
        Independent fold splits (repeated cross-fitting, Chernozhukov et al. 2018, section 3.4):
        the nuisances are refitted on every split, and the estimates are aggregated per group by
        :func:`median_aggregate` (median estimate; the spread over the splits enters the standard
        error). Split s has its own seed (:func:`repetition_seeds`); the first split is the
        single-split fit.
    trim : float, default 0.95
        Rows with a propensity above it are left out (and counted in ``n_trimmed``).
    alpha : float, default 0.05
        Level of the confidence intervals.
    random_state : int, numpy Generator or None
        Seeds the fold splits and the default learners.
    parallel : ParallelConfig or None
        How the folds are fitted (:func:`reintegration_effects.parallel.map_tasks`, one thread
        per fit; None: the environment decides). The results do not depend on it.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> rng = np.random.default_rng(2)
    >>> n = 2000
    >>> df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.integers(0, 2, n)})
    >>> df["treated"] = (rng.random(n) < 1 / (1 + np.exp(-(df.x - 1)))).astype(int)
    >>> df["y"] = (1.0 + df.g) * df.treated + df.x + rng.normal(size=n)
    >>> est = DoublyRobustATT(propensity_model=LogisticRegression(), outcome_model=LinearRegression(),
    ...                       random_state=0)
    >>> res = est.fit(df, outcome="y", treatment="treated", covariates=["x", "g"], groups="g")
    >>> res.summary[["estimate", "std_error", "n_treated"]].round(3)  # doctest: +NORMALIZE_WHITESPACE
           estimate  std_error  n_treated
    group
    all       1.459      0.063        594
    g=0       0.928      0.085        293
    g=1       1.977      0.085        301
    >>> res.splits.groupby("split").size().tolist()  # three fold splits (the default), 3 groups each
    [3, 3, 3]
    """

    def __init__(self, *, propensity_model=None, outcome_model=None, n_folds: int = 5, n_rep: int = N_REP,
                 trim: float = 0.95, alpha: float = 0.05, random_state=None, parallel=None):
        self.propensity_model = propensity_model
        self.outcome_model = outcome_model
        self.n_folds = n_folds
        self.n_rep = n_rep
        self.trim = trim
        self.alpha = alpha
        self.random_state = random_state
        self.parallel = parallel

    def fit(self, df: pd.DataFrame, *, outcome: str, treatment: str, covariates: Sequence[str],
            groups: str | None = None, cluster: str | None = None, weights: str | None = None
            ) -> DoublyRobustResults:
        """Estimate the ATT of ``treatment`` on ``outcome``, overall and per value of ``groups``.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per unit (or unit-period, with ``cluster``).
        outcome : str
            Numeric outcome column.
        treatment : str
            Binary column: bool, 0/1 integers or 0.0/1.0.
        covariates : list of str
            Numeric columns given to both learners.
        groups : str, optional
            Column whose values define group effects (the same score averaged within the group).
        cluster : str, optional
            Rows with the same value stay in one fold and form one cluster of the standard error;
            None: independent rows.
        weights : str, optional
            Positive sampling weights: in the propensity fits and the score.

        Returns
        -------
        DoublyRobustResults
        """
        from sklearn.model_selection import GroupKFold
        from sklearn.utils import check_random_state

        if not (isinstance(self.n_folds, int | np.integer) and self.n_folds >= 2):
            raise ValueError(f"n_folds={self.n_folds!r}; expected an integer of at least 2.")
        for c in (outcome, treatment, groups, cluster):
            if c is not None and c not in df.columns:
                raise ValueError(f"column {c!r} not found; the frame has {list(df.columns)[:20]}. "
                                 "Fix: pass the name of an existing column.")
        d = treatment_indicator(df[treatment], treatment)
        y = check_numeric_columns(df, [outcome], what="outcome", constant=False)[outcome].to_numpy()
        x = check_numeric_columns(df, covariates).to_numpy()
        n = len(df)
        w = np.ones(n)
        if weights is not None:
            w = check_numeric_columns(df, [weights], what="weights", constant=False)[weights].to_numpy()
            if (w <= 0).any():
                raise ValueError(f"values in weights column {weights!r} must be positive. Fix: drop those rows.")
        for c in (groups, cluster):
            if c is not None and df[c].isna().any():
                raise ValueError(f"column {c!r} has missing values. Fix: drop or fill those rows.")
        cl = (np.arange(n) if cluster is None
              else pd.factorize(df[cluster], sort=False)[0].astype(np.int64))
        n_cl = int(cl.max()) + 1
        if n_cl < self.n_folds:
            raise ValueError(f"{n_cl} cluster(s) (rows) for {self.n_folds} folds. Fix: lower n_folds.")
        n_rep = check_n_rep(self.n_rep)
        seeds = repetition_seeds(int(check_random_state(self.random_state).randint(2**31 - 1)), n_rep)
        t = d.astype(np.int64)
        tasks = []  # (fold, learners) for every fold of every repetition, fitted in one map_tasks call
        for seed in seeds:
            clf = self.propensity_model if self.propensity_model is not None else default_classifier(seed)
            reg = self.outcome_model if self.outcome_model is not None else default_regressor(seed)
            folds = GroupKFold(n_splits=self.n_folds, shuffle=True, random_state=seed)
            tasks += [((train, test, w[train]), clf, reg) for train, test in folds.split(x, d, groups=cl)]
        parts = map_tasks(partial(fit_fold_task, x=x, t=t, controls=~d, ys={"y": y}, n_labels=2), tasks,
                          self.parallel)
        masks = {"all": np.ones(n, dtype=bool)}
        if groups is not None:
            vals = df[groups].to_numpy()
            for v in pd.unique(vals):
                masks[f"{groups}={v}"] = vals == v
        rows, nuis = [], None
        for s in range(n_rep):
            e, mu0 = np.zeros(n), np.zeros(n)
            for test, proba, mu in parts[s * self.n_folds:(s + 1) * self.n_folds]:
                e[test] = proba[:, 1]
                mu0[test] = mu["y"]
            if s == 0:
                nuis = pd.DataFrame({"e": e, "mu0": mu0}, index=df.index)
            keep = e <= self.trim
            odds = np.where(keep, e / np.where(keep, 1 - e, 1.0), 0.0)
            psi = att_score(y - mu0, odds, d, ~d, w)
            for name, gm in masks.items():
                sel = keep & gm
                n1 = int((d & sel).sum())
                tau, se = att_from_score(psi, d, sel, cl, w) if n1 else (np.nan, np.nan)
                rows.append(dict(split=s, group=name, estimate=tau, std_error=se, n_treated=n1,
                                 n_control=int((~d & sel).sum()), n_trimmed=int((d & gm & ~keep).sum())))
        splits = pd.DataFrame(rows)
        agg = median_aggregate_frame(splits, ["group"], counts=("n_treated", "n_control", "n_trimmed"))
        q = stats.norm.ppf(1 - self.alpha / 2)
        tau, se = agg["estimate"].to_numpy(), agg["std_error"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(se > 0, tau / se, np.nan)
        summary = agg.assign(z=z, p_value=2 * stats.norm.sf(np.abs(z)), ci_lower=tau - q * se,
                             ci_upper=tau + q * se).set_index("group")[list(SUMMARY_COLUMNS)]
        return DoublyRobustResults(summary=summary, nuisances=nuis, alpha=self.alpha, model=self, splits=splits)
