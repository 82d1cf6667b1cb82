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
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .propensity import (
    CollinearityError,
    ConstantColumnError,
    PropensityModel,
    SeparationError,
    check_numeric_columns,
    treatment_indicator,
)
from .stats import cluster_se, cluster_sums

__all__ = ["PropensityMatching", "MatchingResults"]


# ------------------------------------------------------------------------------------------------
# The matching cores, shared with the dynamic design (effects.DynamicMatching)
# ------------------------------------------------------------------------------------------------


def _weighted_moments(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = w / w.sum()
    m = w @ x
    t = np.subtract(x, m)
    np.square(t, out=t)  # (x - m) ** 2 without a second temporary
    return m, w @ t


def balance_table(x: pd.DataFrame, treated: np.ndarray, w_before: np.ndarray, w_after: np.ndarray
                  ) -> pd.DataFrame:
    """Standardised mean differences and variance ratios before and after adjustment.

    Columns: covariate, smd_before, smd_after, variance_ratio_before, variance_ratio_after. The
    SMD uses the unadjusted pooled standard deviation in both columns, so they are comparable.
    """
    xv = x.to_numpy(dtype=float)
    mt, vt = _weighted_moments(xv[treated], np.ones(treated.sum()))
    c = ~treated
    mb, vb = _weighted_moments(xv[c], w_before[c])
    keep = w_after[c] > 0
    ma, va = _weighted_moments(xv[c][keep], w_after[c][keep])
    sd = np.sqrt((vt + vb) / 2)
    sd = np.where(sd > 0, sd, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame({
            "covariate": x.columns,
            "smd_before": (mt - mb) / sd,
            "smd_after": (mt - ma) / sd,
            "variance_ratio_before": vt / vb,
            "variance_ratio_after": vt / va,
        })


@dataclass
class PropensityFit:
    """A logistic propensity model on standardised covariates (leading column of ones).

    Kept whole, not only its scores, because the matching bootstrap perturbs the coefficients
    with the model's own score and Hessian (:meth:`DynamicMatching.fit`).
    """

    design: np.ndarray
    coef: np.ndarray
    penalty: float
    dropped: tuple[str, ...] = ()

    def linear_predictor(self, coef: np.ndarray | None = None) -> np.ndarray:
        return self.design @ (self.coef if coef is None else coef)

    def score_and_hessian(self, d: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-row score of the weighted log-likelihood at the estimate, and the Hessian of the
        (penalised) objective; rows of ``score`` sum to the penalty's gradient, i.e. about zero."""
        r, hess = self._residual_and_hessian(d, w)
        return self.design * r[:, None], hess

    def _residual_and_hessian(self, d: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """w (d - p) per row (the score is design x it) and the penalised objective's Hessian."""
        p = 1.0 / (1.0 + np.exp(-self.linear_predictor()))
        hess = (self.design * (w * p * (1 - p))[:, None]).T @ self.design
        hess[1:, 1:] += self.penalty * np.eye(len(self.coef) - 1)
        return w * (d - p), hess

    def cluster_score_and_hessian(self, d: np.ndarray, w: np.ndarray, clusters: np.ndarray,
                                  n_clusters: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`score_and_hessian` with the score summed within ``clusters`` (integer codes):
        ``cluster_sums(score, clusters, n_clusters)`` column by column, the same numbers without
        the rows x terms score matrix (a full copy of the design)."""
        r, hess = self._residual_and_hessian(d, w)
        s_cl = np.column_stack([np.bincount(clusters, weights=self.design[:, j] * r, minlength=n_clusters)
                                for j in range(self.design.shape[1])])
        return s_cl, hess


def fit_propensity(x: np.ndarray, d: np.ndarray, w: np.ndarray | None = None,
                   names: list[str] | None = None) -> PropensityFit:
    """Unpenalised maximum-likelihood logit of the start indicator (:class:`PropensityModel`,
    Newton-Raphson to the maximum) on standardised covariates.

    For the risk sets, where a dummy can be constant or have no starts in a programme's pool,
    covariates that make the maximum non-existent or not identified (constant, collinear or
    separating columns, as :class:`PropensityModel` names them) are left out one set at a time
    and listed in ``PropensityFit.dropped``; the public estimators raise instead."""
    x = np.asarray(x, dtype=float)
    labels = [f"x{j}" for j in range(x.shape[1])] if names is None else list(names)
    keep = list(range(x.shape[1]))
    for _ in range(x.shape[1] + 1):
        try:
            m = PropensityModel().fit_arrays(x[:, keep], d, weights=w, names=[labels[j] for j in keep])
            break
        except (ConstantColumnError, CollinearityError, SeparationError) as e:
            bad = set(e.columns)
            if not bad or not keep:
                raise
            keep = [j for j in keep if labels[j] not in bad]
    return PropensityFit(design=m.scaled_design, coef=m.scaled_params, penalty=0.0,
                         dropped=tuple(labels[j] for j in range(x.shape[1]) if j not in keep))


def propensity_logit(x: np.ndarray, d: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Logit of the propensity score from the unpenalised maximum-likelihood logit
    (:func:`fit_propensity`)."""
    return fit_propensity(x, d, w).linear_predictor()


@dataclass
class CellIndex:
    """Where each exact-matching cell's controls and treated rows are: the part of
    :func:`nearest_neighbours` that does not depend on the score, built once and reused by every
    bootstrap replication. ``controls`` holds the control rows grouped by cell (within a cell in
    row order, or by ``score`` then row, see :meth:`build`); ``blocks`` one (cell code, start,
    end, treated rows) per cell with treated rows."""

    controls: np.ndarray
    blocks: list[tuple[int, int, int, np.ndarray]]

    @classmethod
    def build(cls, d: np.ndarray, cell: np.ndarray, score: np.ndarray | None = None) -> CellIndex:
        """``score``: order each cell's controls by it (then by row) instead of by row. The
        bootstrap passes the estimated score: its replications' scores are close to it, and the
        stable sort (timsort) of a nearly sorted block is about twice as fast. Exact score ties
        then keep this order; they arise from equal covariates, which tie under every score, so
        they stay in row order (the docstring's tie rule) unless two rows with different
        covariates happen to get exactly the same score."""
        cell = np.asarray(cell)
        c_idx, t_idx = np.flatnonzero(~d), np.flatnonzero(d)
        if score is not None:
            c_idx = c_idx[np.argsort(score[c_idx], kind="stable")]
        controls = c_idx[np.argsort(cell[c_idx], kind="stable")]
        treated = t_idx[np.argsort(cell[t_idx], kind="stable")]
        cc, ct = cell[controls], cell[treated]
        cells, t_first = np.unique(ct, return_index=True)
        t_bounds = np.r_[t_first, len(treated)]
        lo, hi = np.searchsorted(cc, cells, "left"), np.searchsorted(cc, cells, "right")
        blocks = [(int(c), int(lo[k]), int(hi[k]), np.sort(treated[t_bounds[k]:t_bounds[k + 1]]))
                  for k, c in enumerate(cells)]
        return cls(controls=controls, blocks=blocks)


def nearest_neighbours(score: np.ndarray, d: np.ndarray, cell: np.ndarray | None, *, n_neighbors: int,
                       caliper: float, index: CellIndex | None = None, ties: str = "score"
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match each treated row to its nearest controls on ``score`` within its exact ``cell``.

    With replacement; controls farther than ``caliper`` are not used; a treated row with none
    left is off support. Returns (treated row, control row, weight 1/m_i) for every match, m_i
    being the number of matches of that treated row, treated rows in ascending order. Ties in
    distance go to the lower score, then the lower row, so the result is reproducible.

    Each cell's controls are sorted by score (one stable sort per cell: many short sorts are
    about twice as fast as one of the whole risk set, and the bootstrap calls this hundreds of
    times). A treated row's candidates are the n_neighbors controls on either side of its
    insertion point; within a run of equal scores the lowest rows come first on the right side and
    nearest to the insertion point on the left side, so the candidates always hold the
    n_neighbors nearest under the tie rule (a brute-force search is the test).
    ``index``: the :class:`CellIndex` of (d, cell), if already built. ``ties="row"``: ties in
    distance go to the lower row directly (the first control in the data), whatever the score;
    the candidates hold the n_neighbors nearest under that rule too (on each side the positional
    order is (distance, row)). ``cell=None``: no exact matching (one cell).
    """
    m = n_neighbors
    if cell is None:
        cell = np.zeros(len(d), dtype=np.int64)
    if index is None:
        index = CellIndex.build(d, cell)
    n_c = len(index.controls)
    if n_c == 0 or not index.blocks:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    right = index.controls.copy()  # per cell: score ascending, then row ascending
    sc = score[index.controls]  # one gather; each cell is then a contiguous slice
    block_id = np.full(n_c, -1, dtype=np.int64)
    t_parts, pos_parts, lo_parts, hi_parts = [], [], [], []
    for k, (_, lo, hi, t_rows) in enumerate(index.blocks):
        o = np.argsort(sc[lo:hi], kind="stable")
        right[lo:hi] = right[lo:hi][o]
        sc[lo:hi] = sc[lo:hi][o]
        block_id[lo:hi] = k
        t_parts.append(t_rows)
        pos_parts.append(lo + np.searchsorted(sc[lo:hi], score[t_rows], side="left"))
        lo_parts.append(np.full(len(t_rows), lo))
        hi_parts.append(np.full(len(t_rows), hi))
    # the left side's order: the same, but each run of equal scores reversed (row descending)
    new_run = np.r_[True, (sc[1:] != sc[:-1]) | (block_id[1:] != block_id[:-1])]
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(n_c), 0))
    run_end = np.r_[np.flatnonzero(new_run)[1:], n_c]
    run_end = run_end[np.cumsum(new_run) - 1]
    left = right[run_start + run_end - 1 - np.arange(n_c)]

    t_idx = np.concatenate(t_parts)
    pos, lo, hi = np.concatenate(pos_parts), np.concatenate(lo_parts), np.concatenate(hi_parts)
    cand = pos[:, None] + np.arange(-m, m)[None, :]
    valid = (cand >= lo[:, None]) & (cand < hi[:, None])
    cand = np.clip(cand, 0, n_c - 1)
    crow = np.where(np.arange(-m, m)[None, :] < 0, left[cand], right[cand])
    c_score = score[crow]
    dist = np.where(valid, np.abs(c_score - score[t_idx][:, None]), np.inf)
    keys = (crow, dist) if ties == "row" else (crow, c_score, dist)
    best = np.lexsort(keys, axis=1)[:, :m]  # distance, then score (unless ties="row"), then row
    bd = np.take_along_axis(dist, best, axis=1)
    bc = np.take_along_axis(crow, best, axis=1)
    ok = bd <= caliper
    n_ok = ok.sum(axis=1)
    t_order = np.argsort(t_idx, kind="stable")  # treated rows ascending, as callers expect
    ok, bc, n_ok, t_idx = ok[t_order], bc[t_order], n_ok[t_order], t_idx[t_order]
    rr, cc = np.nonzero(ok)
    return t_idx[rr], bc[rr, cc], 1.0 / n_ok[rr]


#: Rows per block where a design is filled or multiplied a block at a time (bounded temporaries).
_ROW_BLOCK = 1 << 16


def control_residuals(y: np.ndarray, d: np.ndarray, x_adjust: np.ndarray | None,
                      control_weight: np.ndarray | None = None) -> np.ndarray:
    """r = y - mu0(x), mu0 a (weighted) least-squares fit on the controls: the bias correction
    of Abadie & Imbens (2011). Without ``x_adjust``, r = y (plain matching). ``y`` may be a
    matrix (one outcome per column): one factorisation then serves them all."""
    if x_adjust is None:
        return y.astype(float)
    n = len(y)
    x_adjust = np.asarray(x_adjust, dtype=float)
    if x_adjust.ndim == 1:
        x_adjust = x_adjust[:, None]
    controls = ~d
    cw = np.ones(n) if control_weight is None else control_weight
    sw = np.sqrt(cw[controls])
    yc = y[controls] * (sw[:, None] if y.ndim == 2 else sw)
    # the weighted control design [sw, x * sw] filled a block of rows at a time, and the fitted
    # values likewise: the same numbers as building [1, x] for every row first, without three
    # full-size copies of the design (they set a matching worker's peak memory)
    rows = np.flatnonzero(controls)
    xw = np.empty((len(rows), x_adjust.shape[1] + 1))
    for lo in range(0, len(rows), _ROW_BLOCK):
        r = rows[lo:lo + _ROW_BLOCK]
        xw[lo:lo + len(r), 0] = sw[lo:lo + len(r)]
        np.multiply(x_adjust[r], sw[lo:lo + len(r), None], out=xw[lo:lo + len(r), 1:])
    beta = np.linalg.lstsq(xw, yc, rcond=None)[0]
    del xw
    out = np.empty(np.shape(y))
    for lo in range(0, n, _ROW_BLOCK):
        hi = min(lo + _ROW_BLOCK, n)
        out[lo:hi] = y[lo:hi] - np.column_stack([np.ones(hi - lo), x_adjust[lo:hi]]) @ beta
    return out


def att_terms(resid: np.ndarray, d: np.ndarray, t_rows, c_rows, wts, subset: np.ndarray | None,
               se_resid: np.ndarray | None = None) -> tuple[float, np.ndarray, int, int]:
    """Matching ATT and its centred linear terms per row (see :func:`matched_att`); the terms
    from ``se_resid`` when given (outcomes minus a control-outcome regression)."""
    n = len(resid)
    on_support = np.zeros(n, dtype=bool)
    on_support[t_rows] = True
    if subset is None:
        subset = np.ones(n, dtype=bool)
    t_in = d & on_support & subset
    n1 = int(t_in.sum())
    if n1 == 0:
        return np.nan, np.zeros(n), 0, 0
    sel = subset[t_rows]
    k = np.bincount(c_rows[sel], weights=wts[sel], minlength=n)
    xi = np.where(t_in, resid, 0.0) - k * np.where(~d, resid, 0.0)
    tau = xi.sum() / n1
    if se_resid is not None:
        xi_se = np.where(t_in, se_resid, 0.0) - k * np.where(~d, se_resid, 0.0)
        return float(tau), xi_se - t_in * (xi_se.sum() / n1), n1, int((k > 0).sum())
    return float(tau), xi - t_in * tau, n1, int((k > 0).sum())


def matched_att(resid: np.ndarray, d: np.ndarray, t_rows, c_rows, wts, *, clusters: np.ndarray | None = None,
                subset: np.ndarray | None = None, se_resid: np.ndarray | None = None
                ) -> tuple[float, float, int, int]:
    """Matching ATT from (bias-corrected) outcomes, its standard error, and N treated / controls.

    ATT = (1/N1) [sum over treated of r_i - sum over controls of K_j r_j], r from
    :func:`control_residuals` and K_j the summed weights 1/m_i of the treated that use control j.
    The standard error is the linear (Otsu & Rai 2017) representation of this estimator, with
    its terms summed per cluster (person) before squaring: that accounts for controls used many
    times and for one person appearing in many monthly pools, but treats the propensity score as
    known (see :class:`DynamicMatching` for the bootstrap that does not). ``subset`` restricts
    the treated (a group effect) and keeps their own matches.

    ``se_resid``: outcomes minus a regression on the controls (:func:`control_residuals` with
    covariates) for the linear terms, when ``resid`` is the raw outcome (matching without bias
    correction). The representation needs y - mu0(x) for the controls (Abadie & Imbens 2006):
    with the raw outcome, a constant added to y enters every control's term and the standard
    error changes although the estimate does not.
    """
    tau, terms, n1, n0 = att_terms(resid, d, t_rows, c_rows, wts, subset, se_resid)
    if n1 == 0:
        return np.nan, np.nan, 0, 0
    clusters = np.arange(len(resid)) if clusters is None else clusters  # None: independent rows
    return tau, cluster_se(terms, clusters, n1), n1, n0


def multiplier_draw(t_rows, c_rows, wts, r_mat, eta_row, g_mat) -> np.ndarray:
    """One bootstrap replication for every group (columns of ``g_mat``) and outcome (columns of
    ``r_mat``): the matching ATT with these matches plus the eta-weighted sum of its linear
    terms, sum_i eta_i (r_i - tau) - sum_(i,j) w_ij eta_j r_j, over the N1 matched treated.

    Works on the matches only (about N1 x n_neighbors rows), not on the whole risk set; at eta = 0
    it is :func:`att_terms`' estimate (tested).
    """
    ti, inv = np.unique(t_rows, return_inverse=True)
    r_c = r_mat[c_rows]
    a = cluster_sums(wts[:, None] * r_c, inv, len(ti))  # sum_j w_ij r_j per treated i
    be = cluster_sums((wts * eta_row[c_rows])[:, None] * r_c, inv, len(ti))  # sum_j w_ij eta_j r_j
    g = g_mat[ti]
    n1 = g.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = (g.T @ (r_mat[ti] - a)) / n1[:, None]
        e = eta_row[ti]
        noise = (g.T @ (e[:, None] * r_mat[ti]) - tau * (g.T @ e)[:, None] - g.T @ be) / n1[:, None]
    return tau + noise


def multiplier_replication(t_rows, c_rows, wts, r_mat, eta_row, g_mat, se_mat=None) -> np.ndarray:
    """One replication of the matching bootstrap: :func:`multiplier_draw`, or, when ``se_mat``
    (outcomes minus a control-outcome regression) is given because ``r_mat`` holds raw outcomes,
    the estimate from ``r_mat`` with these matches plus the eta-weighted linear terms from
    ``se_mat`` (see :func:`matched_att`: raw outcomes in those terms make the standard error
    change with a constant added to the outcome)."""
    if se_mat is None:
        return multiplier_draw(t_rows, c_rows, wts, r_mat, eta_row, g_mat)
    zero = np.zeros_like(eta_row)
    return (multiplier_draw(t_rows, c_rows, wts, r_mat, zero, g_mat)
            + multiplier_draw(t_rows, c_rows, wts, se_mat, eta_row, g_mat)
            - multiplier_draw(t_rows, c_rows, wts, se_mat, zero, g_mat))


# ------------------------------------------------------------------------------------------------
# The estimator on any DataFrame
# ------------------------------------------------------------------------------------------------

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
            s_cl, hess = fit.cluster_score_and_hessian(d.astype(float), w, cl, n_cl)
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
