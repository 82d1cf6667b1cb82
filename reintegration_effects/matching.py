"""Propensity-score matching on any DataFrame: the average effect on the treated (ATT).

:class:`PropensityMatching` fits the exact logit (:class:`~reintegration_effects.propensity.PropensityModel`),
matches every treated row to its nearest comparison rows on the logit (or the probability),
optionally within exact cells and a caliper, and returns :class:`MatchingResults`. It shares its
machinery with the dynamic design's :class:`~reintegration_effects.effects.DynamicMatching`
(:func:`~reintegration_effects.effects.nearest_neighbours`, :class:`~reintegration_effects.effects.CellIndex`,
the linear terms of :func:`~reintegration_effects.effects.matched_att` and the multiplier bootstrap).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .effects import (
    CellIndex,
    PropensityFit,
    att_terms,
    balance_table,
    cluster_se,
    cluster_sums,
    control_residuals,
    multiplier_replication,
    nearest_neighbours,
)
from .propensity import PropensityModel, check_numeric_columns, treatment_indicator

__all__ = ["PropensityMatching", "MatchingResults"]

MATCH_ON = ("logit", "probability")
CALIPER_SCALES = ("sd", "absolute")
SUMMARY_COLUMNS = ("estimate", "std_error", "z", "p_value", "ci_lower", "ci_upper", "n_treated",
                   "n_control", "n_matched_controls", "n_off_support")


def _codes(df: pd.DataFrame, columns: Sequence[str] | str | None, what: str) -> np.ndarray | None:
    """Integer codes of the combinations of ``columns`` (None: no columns), checking for missing values."""
    if columns is None:
        return None
    cols = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} column(s) {missing} not found; the frame has {list(df.columns)[:20]}. "
                         "Fix: pass the names of existing columns.")
    for c in cols:
        na = df[c].isna().to_numpy()
        if na.any():
            rows = df.index[na][:5].tolist()
            raise ValueError(f"{what} column {c!r} has missing values in rows {rows}. Fix: drop or fill those rows.")
    return df.groupby(cols, sort=False, observed=True).ngroup().to_numpy().astype(np.int64)


def _match_without_replacement(score, d, cell, *, n_neighbors, caliper):
    """Greedy matching without replacement: treated rows in data order each take their nearest
    still-unused controls in their cell (distance, then first row), within the caliper."""
    used = np.zeros(len(d), dtype=bool)
    t_out, c_out, w_out = [], [], []
    for i in np.flatnonzero(d):
        c = np.flatnonzero(~d & ~used & (cell == cell[i]))
        if len(c) == 0:
            continue
        dist = np.abs(score[c] - score[i])
        order = np.lexsort((c, dist))[:n_neighbors]
        keep = c[order][dist[order] <= caliper]
        if len(keep):
            used[keep] = True
            t_out += [i] * len(keep)
            c_out += keep.tolist()
            w_out += [1.0 / len(keep)] * len(keep)
    return np.asarray(t_out, dtype=np.int64), np.asarray(c_out, dtype=np.int64), np.asarray(w_out, dtype=float)


class MatchingResults:
    """Results of :class:`PropensityMatching`.

    Attributes
    ----------
    estimate : float
        Matching estimate of the ATT (over the treated with at least one match).
    std_error : float
        Standard error: the multiplier bootstrap (``n_bootstrap > 0``) or the analytic linear form.
    alpha : float
        Default level of :meth:`conf_int`.
    n_treated, n_control, n_matched_controls, n_off_support : int
        Treated rows matched, comparison rows, distinct comparison rows used, treated rows
        without a comparison row within the caliper (left out).
    balance : pandas.DataFrame
        Columns covariate, smd_before, smd_after, variance_ratio_before, variance_ratio_after
        (standardised mean differences with the unadjusted pooled SD in both columns).
    propensity : PropensityModel
        The fitted propensity model.
    matches : pandas.DataFrame
        treated, control (index labels of ``df``) and weight (1 / matches of that treated row).
    model : PropensityMatching
        The estimator.
    """

    def __init__(self, *, estimate, std_error, alpha, n_treated, n_control, n_matched_controls,
                 n_off_support, balance, propensity, matches, model):
        self.estimate = float(estimate)
        self.std_error = float(std_error)
        self.alpha = alpha
        self.n_treated = int(n_treated)
        self.n_control = int(n_control)
        self.n_matched_controls = int(n_matched_controls)
        self.n_off_support = int(n_off_support)
        self.balance = balance
        self.propensity = propensity
        self.matches = matches
        self.model = model

    def conf_int(self, alpha: float | None = None) -> tuple[float, float]:
        """Normal-approximation confidence interval (lower, upper) at level 1 - ``alpha``."""
        q = float(stats.norm.ppf(1 - (self.alpha if alpha is None else alpha) / 2))
        return self.estimate - q * self.std_error, self.estimate + q * self.std_error

    @property
    def summary(self) -> pd.DataFrame:
        """One row (index ``ATT``). Columns: estimate, std_error, z, p_value, ci_lower, ci_upper,
        n_treated, n_control, n_matched_controls, n_off_support."""
        lo, hi = self.conf_int()
        z = self.estimate / self.std_error if self.std_error > 0 else np.nan
        return pd.DataFrame([{
            "estimate": self.estimate, "std_error": self.std_error, "z": z,
            "p_value": 2 * stats.norm.sf(abs(z)), "ci_lower": lo, "ci_upper": hi,
            "n_treated": self.n_treated, "n_control": self.n_control,
            "n_matched_controls": self.n_matched_controls, "n_off_support": self.n_off_support,
        }], index=pd.Index(["ATT"], name="term"), columns=list(SUMMARY_COLUMNS))

    def to_frame(self) -> pd.DataFrame:
        """The summary as a tidy frame (``term`` a column)."""
        return self.summary.reset_index()

    def plot_balance(self, ax=None):
        """Love plot: absolute standardised mean difference per covariate before and after
        matching; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        b = self.balance.sort_values("smd_before", key=np.abs)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.25 * len(b) + 1))
        y = np.arange(len(b))
        ax.scatter(np.abs(b.smd_before), y, marker="o", label="before")
        ax.scatter(np.abs(b.smd_after), y, marker="x", label="after")
        ax.axvline(0.1, color="grey", ls="--", lw=0.8)
        ax.set_yticks(y, b.covariate)
        ax.set_xlabel("|standardised mean difference|")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        lo, hi = self.conf_int()
        return (f"<MatchingResults ATT={self.estimate:.4g} (SE {self.std_error:.4g}, "
                f"{100 * (1 - self.alpha):g}% CI {lo:.4g} to {hi:.4g}), n_treated={self.n_treated}>")

    def _repr_html_(self) -> str:
        return self.summary.to_html(float_format=lambda v: f"{v:.4g}")


class PropensityMatching:
    """Nearest-neighbour propensity-score matching for the average effect on the treated.

    Parameters
    ----------
    n_neighbors : int, default 1
        Comparison rows per treated row (each weighted 1 / number of matches).
    caliper : float or None, default None
        Largest allowed distance on the matching score; treated rows without a comparison row
        within it are left out (``n_off_support``). None: no caliper.
    caliper_scale : {"sd", "absolute"}, default "sd"
        "sd": ``caliper`` in standard deviations of the matching score (Austin 2011 suggests 0.2
        on the logit); "absolute": in the score's own units.
    match_on : {"logit", "probability"}, default "logit"
        The score to match on: the linear predictor or the fitted probability.
    bias_correction : bool, default False
        Regression-adjust the matched differences with a linear model of the outcome on the
        covariates among the comparison rows (Abadie & Imbens 2011).
    replace : bool, default True
        Match with replacement. Without replacement, treated rows take their nearest unused
        comparison rows greedily in data order.
    alpha : float, default 0.05
        Level of the confidence interval.
    n_bootstrap : int, default 199
        Replications of the multiplier bootstrap that re-estimates the propensity score and
        re-matches in every replication (as :class:`~reintegration_effects.effects.DynamicMatching`);
        0: the analytic linear (Otsu & Rai 2017) standard error, which treats the score as
        known. Both are clustered by ``cluster`` and invariant to a constant added to the outcome
        (the linear terms use the outcome minus a regression on the comparison rows).
        ``replace=False`` always uses the analytic form.
    random_state : int, numpy Generator or None
        Seeds the bootstrap.

    Notes
    -----
    Distances tie to the comparison row that comes first in ``df``. ``weights`` are sampling
    weights of the comparison rows (for example 1 / sampling fraction of a thinned pool): they
    enter the propensity model, the bias-correction regression and the balance table; treated rows
    must carry equal weights.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = 2000
    >>> df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    >>> df["treated"] = rng.random(n) < 1 / (1 + np.exp(-(df.x - 1.5)))
    >>> df["y"] = 2.0 * df.treated + df.x + 0.5 * df.z + rng.normal(size=n)
    >>> res = PropensityMatching(n_neighbors=2, caliper=0.2, random_state=0).fit(
    ...     df, outcome="y", treatment="treated", covariates=["x", "z"])
    >>> round(res.estimate, 3), round(res.std_error, 3)
    (2.058, 0.097)
    >>> [round(v, 3) for v in res.conf_int()]
    [1.867, 2.249]
    >>> res.summary[["n_treated", "n_control"]].iloc[0].tolist()
    [420, 1579]
    """

    def __init__(self, n_neighbors: int = 1, caliper: float | None = None, caliper_scale: str = "sd",
                 match_on: str = "logit", bias_correction: bool = False, replace: bool = True,
                 alpha: float = 0.05, n_bootstrap: int = 199, random_state=None):
        self.n_neighbors = n_neighbors
        self.caliper = caliper
        self.caliper_scale = caliper_scale
        self.match_on = match_on
        self.bias_correction = bias_correction
        self.replace = replace
        self.alpha = alpha
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

    def _check_params(self) -> None:
        if self.match_on not in MATCH_ON:
            raise ValueError(f"match_on={self.match_on!r}; expected one of {list(MATCH_ON)}.")
        if self.caliper_scale not in CALIPER_SCALES:
            raise ValueError(f"caliper_scale={self.caliper_scale!r}; expected one of {list(CALIPER_SCALES)}.")
        if not (isinstance(self.n_neighbors, int | np.integer) and self.n_neighbors >= 1):
            raise ValueError(f"n_neighbors={self.n_neighbors!r}; expected a positive integer.")
        if self.caliper is not None and not self.caliper > 0:
            raise ValueError(f"caliper={self.caliper!r}; expected a positive number or None.")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha={self.alpha!r}; expected a number between 0 and 1.")

    def _score(self, lp: np.ndarray) -> np.ndarray:
        return lp if self.match_on == "logit" else 1.0 / (1.0 + np.exp(-lp))

    def _caliper(self, score: np.ndarray) -> float:
        if self.caliper is None:
            return np.inf
        return self.caliper * float(np.std(score)) if self.caliper_scale == "sd" else float(self.caliper)

    def fit(self, df: pd.DataFrame, *, outcome: str, treatment: str, covariates: Sequence[str],
            exact: Sequence[str] | str | None = None, cluster: str | None = None,
            weights: str | None = None) -> MatchingResults:
        """Estimate the ATT of ``treatment`` on ``outcome``.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per unit (or unit-period, with ``cluster``).
        outcome : str
            Numeric outcome column.
        treatment : str
            Binary column: bool, 0/1 integers or 0.0/1.0.
        covariates : list of str
            Numeric columns of the propensity model (and of the bias correction), used as given.
        exact : str or list of str, optional
            Columns matched exactly (each treated row only meets comparison rows with the same values).
        cluster : str, optional
            Rows with the same value are one cluster in the standard error (and share a bootstrap
            multiplier); None: independent rows.
        weights : str, optional
            Positive sampling weights of the comparison rows (see Notes of the class).

        Returns
        -------
        MatchingResults
        """
        from sklearn.utils import check_random_state

        self._check_params()
        if outcome not in df.columns or treatment not in df.columns:
            bad = [c for c in (outcome, treatment) if c not in df.columns]
            raise ValueError(f"column(s) {bad} not found; the frame has {list(df.columns)[:20]}. "
                             "Fix: pass the names of existing columns.")
        d = treatment_indicator(df[treatment], treatment)
        y = check_numeric_columns(df, [outcome], what="outcome", constant=False)[outcome].to_numpy()
        ps = PropensityModel(alpha=self.alpha).fit(df, treatment=treatment, covariates=covariates,
                                                   weights=weights)
        x = check_numeric_columns(df, covariates).to_numpy()
        n = len(df)
        w = np.ones(n) if weights is None else df[weights].to_numpy(dtype=float)
        if weights is not None and np.ptp(w[d]) > 0:
            raise ValueError(f"weights column {weights!r} varies among the treated rows; matching weights "
                             "only the comparison rows. Fix: pass equal weights for the treated rows.")
        cell = _codes(df, exact, "exact")
        cell = np.zeros(n, dtype=np.int64) if cell is None else cell
        cl = _codes(df, cluster, "cluster")
        cl = np.arange(n) if cl is None else cl
        n_cl = int(cl.max()) + 1

        lp = ps.linear_predictor()
        score = self._score(lp)
        if self.replace:
            index = CellIndex.build(d, cell, score)

            def match(s):
                return nearest_neighbours(s, d, cell, n_neighbors=self.n_neighbors, caliper=self._caliper(s),
                                          index=index, ties="row")
        else:
            def match(s):
                return _match_without_replacement(s, d, cell, n_neighbors=self.n_neighbors,
                                                  caliper=self._caliper(s))

        t_rows, c_rows, wts = match(score)
        r = control_residuals(y, d, x if self.bias_correction else None, w)
        r_se = None if self.bias_correction else control_residuals(y, d, x, w)
        tau, terms, n1, n0 = att_terms(r, d, t_rows, c_rows, wts, None, r_se)
        if n1 == 0:
            raise ValueError("no treated row has a comparison row within the caliper (and exact cells). "
                             "Fix: widen the caliper or coarsen the exact-matching columns.")
        se = cluster_se(terms, cl, n1)
        if self.n_bootstrap > 0 and self.replace:
            rng = check_random_state(self.random_state)
            fit = PropensityFit(design=ps.scaled_design, coef=ps.scaled_params, penalty=0.0)
            s_rows, hess = fit.score_and_hessian(d.astype(float), w)
            s_cl = cluster_sums(s_rows, cl, n_cl)
            h_inv = np.linalg.inv(hess)
            g = np.ones((n, 1))
            draws = np.empty(self.n_bootstrap)
            for b in range(self.n_bootstrap):
                eta = rng.standard_normal(n_cl)
                tb, cb, wb = match(self._score(fit.linear_predictor(fit.coef + h_inv @ (s_cl.T @ eta))))
                draws[b] = multiplier_replication(tb, cb, wb, r[:, None], eta[cl], g,
                                                  None if r_se is None else r_se[:, None])[0, 0]
            se = float(np.nanstd(draws, ddof=1))

        on_support = np.zeros(n, dtype=bool)
        on_support[t_rows] = True
        k_all = np.bincount(c_rows, weights=wts, minlength=n)
        keep = (d & on_support) | ~d
        balance = balance_table(pd.DataFrame(x[keep], columns=list(covariates)), d[keep], w[keep], k_all[keep])
        labels = df.index.to_numpy()
        matches = pd.DataFrame({"treated": labels[t_rows], "control": labels[c_rows], "weight": wts})
        return MatchingResults(estimate=tau, std_error=se, alpha=self.alpha, n_treated=n1,
                               n_control=int((~d).sum()), n_matched_controls=n0,
                               n_off_support=int(d.sum()) - n1, balance=balance, propensity=ps,
                               matches=matches, model=self)
