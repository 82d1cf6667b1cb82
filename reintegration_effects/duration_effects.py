"""Effects on the duration itself, with censoring (issue 14a): effect curves and restricted means.

Design: the dynamic "start now versus not (yet) now" comparison of :mod:`.effects` (Sianesi
2004). Time zero t0 is a participant's start month; the pool at t0 is everyone on bijstand at the
end of t0 without a programme start in the spell so far. Estimands, for programme P, on ALL its
starters in the window (not only those whose follow-up ends inside it):

- the ATT on P(on bijstand at month end t0+m) and on P(in work without bijstand at t0+m), for
  m = 1..``months`` (a curve), with pointwise confidence intervals and a simultaneous band;
- the ATT on the restricted mean time on bijstand within L months, sum_{m<=L} of the on-bijstand
  curve (``rmst_bijstand_<L>m``; on starts with full follow-up this is the existing
  ``months_bijstand_18m`` for L = 18).

Censoring. A start at t0 is followed until the window end: outcome month m is observed when
t0 + m <= the last window month (``follow_up`` >= m). The register shows no death or emigration
(the data contract has neither), so the window end is the only censoring. Every start and pool
row with at least ``min_follow_up`` (default 1) month of follow-up contributes. The score is the
doubly robust ATT score (Chernozhukov et al. 2018, 5.1) with each outcome residual weighted by the
inverse probability of being observed at m (AIPCW: Robins & Rotnitzky 1992; Bang & Tsiatis 2000;
Rotnitzky & Robins 2005; for the dynamic-assignment estimand under censoring, van den Berg &
Vikstrom 2022). For programme P (D = 1 its starters, pool rows D = 0 with weight w):

    psi_m = D [mu1_m(X) - mu0_m(X) + R_m / pi1_m(X) (Y_m - mu1_m(X))]
            - (1 - D) w odds(X) R_m / pi0_m(X) (Y_m - mu0_m(X)),      ATT_m = sum psi_m / sum D,

with R_m = 1{follow_up >= m}, odds = e_P / e_none (the multi-class propensity, as in
:class:`~reintegration_effects.effects.DynamicDML`), mu_d,m the outcome regressions among the
observed rows of arm d and pi_d,m = P(R_m = 1 | X, arm d). Nuisances are cross-fitted over
person-grouped folds; standard errors cluster by person; the simultaneous band is the sup-t band
from a Gaussian multiplier bootstrap of the person-clustered influence functions over the months
(seeded; Chernozhukov, Chetverikov & Kato 2013; Montiel Olea & Plagborg-Moller 2019).

The censoring assumption. Censoring by the window end is a deterministic function of the calendar
month of time zero: a censoring model that conditions on calendar time has probabilities 0 or 1
(no overlap). The censoring model pi and the outcome models mu therefore use the covariates
WITHOUT calendar time (the propensity keeps it). The assumption is that, at given characteristics,
history and elapsed duration, the outcomes of the recent starts (and of their comparison pool)
would follow those of the earlier ones: outcome paths, and so the effects, at a given X are stable
over calendar time. The earlier starts' observed months stand in for the recent starts' unobserved
ones; composition shifts in X between early and recent starts are reweighted by pi. A calendar
shock after the recent starts (a recession at the window end) violates it.

Nuisance learners (cheap; the cost is measured in benchmarks/README.md): one
multi-class gradient-boosting propensity per fold for all months and programmes (as DynamicDML,
with its training-row budget); the outcome regressions are ridge-stabilised linear probability
models per month and arm, all months from one pass (nested risk sets: the observed rows at m+1
are a subset of those at m); the censoring model is one pooled logit per fold with a month
intercept per m and common slopes, fitted on one random month per training row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from .contract import EFFECTS_COLUMNS, RMST_PREFIX, age_band
from .dataset import InputData
from .doubly_robust import (
    SENSITIVITY_C_T,
    SENSITIVITY_C_Y,
    SENSITIVITY_RHO,
    att_sensitivity_inputs,
    check_n_rep,
    default_classifier,
    median_aggregate,
    repetition_seeds,
    sensitivity_table,
)
from .effects import NONE, budget_shares, covariate_matrix, group_masks, training_row_budget
from .errors import InsufficientDataError
from .panel import Panel, link_programme_starts, person_codes

#: Outcomes of the curves (0/1 at month end t0 + m): on bijstand (with or without work), in work without bijstand.
CURVE_OUTCOMES = ("on_bijstand", "work_off_bijstand")
#: Months after time zero of the effect curves (and the longest restricted-mean horizon).
CURVE_MONTHS = 36
#: Horizons (months) of the restricted-mean effects ``rmst_bijstand_<L>m`` in effects.csv.
RMST_HORIZONS = (12, 18, 36)
#: Columns of ``effects_curves.csv`` (:attr:`DurationEffectsResults.curves`).
CURVES_COLUMNS = ("programme", "group", "outcome", "month", "method", "estimate", "std_error", "ci_lower",
                  "ci_upper", "band_lower", "band_upper", "n_treated", "n_at_risk")
#: Gaussian multiplier draws of the sup-t band.
BAND_DRAWS = 4_000
#: Smallest probability of being observed used in the weights (a floor, counted never reached at the default data).
PI_FLOOR = 0.02
#: Rows per block of the score computation (bounds its float64 temporaries).
SCORE_BLOCK_ROWS = 1 << 16


# ------------------------------------------------------------------------------------------------
# risk sets with censored follow-up
# ------------------------------------------------------------------------------------------------


@dataclass
class DurationRiskSets:
    """Risk-set rows (as :class:`~reintegration_effects.effects.RiskSets`) with censored monthly outcomes.

    ``frame``: person_id, pcode, month_index, month, spell_id, treatment, weight, the covariates of
    :func:`~reintegration_effects.effects.covariate_matrix`, the group columns, and ``follow_up``
    (months observed after time zero, at most ``months``). ``outcomes``: name -> int8 array
    (rows x months), month m in column m-1, 1/0, -1 where censored (m > follow_up).
    """

    frame: pd.DataFrame
    outcomes: dict
    programmes: list
    months: int
    log: pd.DataFrame = field(default_factory=pd.DataFrame)


def build_duration_risk_sets(panel: Panel, data: InputData, *, months: int = CURVE_MONTHS, min_follow_up: int = 1,
                             max_rows: int | None = None, random_state: int | None = None) -> DurationRiskSets:
    """The risk sets of :func:`~reintegration_effects.effects.build_risk_sets` (the same starts,
    linking rules and covariates), but every start and pool row with at least ``min_follow_up``
    month of follow-up inside the window, and the monthly outcomes up to ``months`` (censored at
    the window end). ``max_rows`` thins the pool as there (weights 1/share)."""
    if int(months) < 1 or int(min_follow_up) < 0:
        raise ValueError(f"months={months!r} must be at least 1 and min_follow_up={min_follow_up!r} at least 0")
    mo = panel.months
    n = len(panel.persons)
    t_win = panel.grid.n_window
    bij = mo["bijstand"].to_numpy().reshape(n, t_win)
    emp = mo["employed"].to_numpy().reshape(n, t_win)
    sid = mo["spell_id"].to_numpy().reshape(n, t_win)
    link = link_programme_starts(panel.spells, data.programmes)
    pcode = person_codes(link["person_id"], panel.persons)
    t0 = link["start_month"].to_numpy() - panel.grid.first_window_month
    inside = (t0 >= 0) & (t0 < t_win)
    starts = pd.DataFrame({"pcode": pcode[inside], "t0": t0[inside], "programme": link["programme"].to_numpy()[inside],
                           "spell_id": link["spell_id"].to_numpy()[inside]})
    starts = starts[starts["spell_id"] >= 0]
    starts = starts[starts["t0"] == starts.groupby("spell_id")["t0"].transform("min")]
    n_same = starts.groupby("spell_id")["programme"].transform("nunique")
    n_spells = len(panel.spells)
    first_start = np.full(n_spells + 1, np.iinfo(np.int32).max, dtype=np.int64)
    first_start[starts["spell_id"].to_numpy()] = starts["t0"].to_numpy()
    ambiguous = np.zeros(n_spells + 1, dtype=bool)
    ambiguous[starts.loc[n_same > 1, "spell_id"].to_numpy()] = True
    starts = starts[n_same == 1].drop_duplicates("spell_id")
    sid_safe = np.where(sid >= 0, sid, n_spells)
    fs = first_start[sid_safe]
    month_idx = np.arange(t_win)[None, :]
    eligible = bij & (month_idx + min_follow_up <= t_win - 1) & (month_idx <= fs)
    eligible &= ~((month_idx == fs) & ambiguous[sid_safe])
    p_idx, m_idx = np.nonzero(eligible)
    treated = m_idx == fs[p_idx, m_idx]
    share = 1.0
    n_pool = int((~treated).sum())
    if max_rows is not None and n_pool > 0:
        n_t = int(treated.sum())
        share = min(1.0, max(max_rows - n_t, n_t) / n_pool)
    if share < 1.0:
        keep = treated | (np.random.default_rng(random_state).random(len(p_idx)) < share)
        p_idx, m_idx, treated = p_idx[keep], m_idx[keep], treated[keep]
    follow = np.minimum(t_win - 1 - m_idx, months)
    outcomes = {o: np.full((len(p_idx), months), -1, dtype=np.int8) for o in CURVE_OUTCOMES}
    for m in range(1, months + 1):
        obs = follow >= m
        col = np.minimum(m_idx + m, t_win - 1)
        b = bij[p_idx, col]
        outcomes["on_bijstand"][obs, m - 1] = b[obs]
        outcomes["work_off_bijstand"][obs, m - 1] = (emp[p_idx, col] & ~b)[obs]
    treat = np.full(len(p_idx), NONE, dtype=object)
    ti = np.flatnonzero(treated)
    lab = pd.DataFrame({"pcode": p_idx[ti], "t0": m_idx[ti]}).merge(
        starts[["pcode", "t0", "programme"]], on=["pcode", "t0"], how="left", validate="one_to_one")
    treat[ti] = lab["programme"].to_numpy()
    rows = p_idx * t_win + m_idx
    frame = pd.DataFrame({
        "person_id": panel.persons["person_id"].astype(str).to_numpy()[p_idx], "pcode": p_idx.astype(np.int32),
        "month_index": m_idx.astype(np.int16), "month": mo["month"].to_numpy()[rows], "spell_id": sid[p_idx, m_idx],
        "treatment": treat, "spell_month": mo["spell_month"].to_numpy()[rows], "calendar": m_idx.astype(float) / 12.0,
        "hist_employed_36m": mo["hist_employed_36m"].to_numpy()[rows],
        "hist_bijstand_36m": mo["hist_bijstand_36m"].to_numpy()[rows], "hist_ww_36m": mo["hist_ww_36m"].to_numpy()[rows],
        "side_job_before": np.where(m_idx > 0, emp[p_idx, np.maximum(m_idx - 1, 0)], False).astype(np.int8),
        "household": mo["household"].astype(object).to_numpy()[rows], "follow_up": follow.astype(np.int16),
    })
    frame["household"] = frame["household"].fillna("unknown").astype(str)
    per = panel.persons.set_index(panel.persons["person_id"].astype(str))
    for col in ("sex", "migration_background", "education"):
        frame[col] = per[col].astype(str).to_numpy()[p_idx]
    holder = per["status_holder"] if "status_holder" in per else pd.Series(False, index=per.index)
    frame["status_holder"] = holder.fillna(False).astype(bool).to_numpy()[p_idx].astype(np.int8)
    birth = pd.to_datetime(per["birth_date"]).to_numpy()[p_idx]
    frame["age"] = ((frame["month"].to_numpy() - birth) / np.timedelta64(1, "D") / 365.25).astype(float)
    frame["age_band"] = age_band(np.floor(frame["age"]))
    frame["weight"] = np.where(treated, 1.0, 1.0 / share)
    is_t = frame["treatment"] != NONE
    log = pd.DataFrame([("starts used as time zero", int(is_t.sum())),
                        ("of which censored before the last month", int((is_t & (frame["follow_up"] < months)).sum()))],
                       columns=["item", "starts"])
    return DurationRiskSets(frame=frame, outcomes=outcomes, programmes=sorted(set(frame.loc[is_t, "treatment"])),
                            months=int(months), log=log)


# ------------------------------------------------------------------------------------------------
# nuisances of one fold
# ------------------------------------------------------------------------------------------------


class _Columns:
    """A float64 matrix stored column by column, each in the smallest of ``_LOSSLESS`` that holds
    its values bit for bit (the one-hot dummies and counts fit in int8): the fold workers each
    receive the covariates, so their size counts once per worker. ``take`` gives rows as float64,
    the same values as the matrix's."""

    _LOSSLESS = (np.int8, np.int16, np.int32, np.float32)

    def __init__(self, x):
        x = np.asarray(x, dtype=float)
        self.cols = []
        for j in range(x.shape[1]):
            col = x[:, j]
            for dt in self._LOSSLESS:
                with np.errstate(invalid="ignore", over="ignore"):  # out of range: fails the check below
                    small = col.astype(dt)
                if np.array_equal(small.astype(float).view(np.int64), col.view(np.int64)):
                    col = small
                    break
            self.cols.append(np.ascontiguousarray(col))
        self.shape = x.shape

    def __len__(self):
        return self.shape[0]

    def take(self, rows, cols=None, out=None):
        """Rows ``rows`` of the columns ``cols`` (None: all), float64 C-ordered (into ``out`` if given)."""
        cols = range(self.shape[1]) if cols is None else cols
        out = np.empty((len(rows), len(cols))) if out is None else out
        for j, c in enumerate(cols):
            out[:, j] = self.cols[c][rows]
        return out


def _scaling(x_train):
    """Means and standard deviations (zero replaced by 1) of the training rows' columns."""
    mu, sd = x_train.mean(axis=0), x_train.std(axis=0)
    return mu, np.where(sd > 0, sd, 1.0)


def _design(x, rows, cols, mu, sd):
    """[1, (x - mu) / sd] of ``rows``: the standardised covariates with an intercept column,
    written into one array (the same values as standardising all rows and stacking, without the
    intermediate copies)."""
    xi = np.empty((len(rows), (x.shape[1] if cols is None else len(cols)) + 1))
    xi[:, 0] = 1.0
    x.take(rows, cols, out=xi[:, 1:])
    xi[:, 1:] -= mu
    xi[:, 1:] /= sd
    return xi


def _ridge_per_month(xi, w, follow, ys, months, lam=1.0):
    """Coefficients (q+1 x months) per outcome of weighted ridge regressions of Y_m on the design
    ``xi`` (intercept first) among the rows observed at m (follow >= m), all months from one pass
    over the rows. ``xi`` is overwritten (scaled by the weights)."""
    q = xi.shape[1]
    f = np.minimum(follow, months)
    grams = np.zeros((months + 1, q, q))
    for c in np.unique(f):
        sel = f == c
        xs = xi[sel]
        grams[c] = (xs * w[sel, None]).T @ xs
        del xs
    cum = np.cumsum(grams[::-1], axis=0)[::-1]  # cum[m] = sum over rows with follow >= m
    pen = lam * np.eye(q)
    pen[0, 0] = 0.0
    xi *= w[:, None]  # in place: the design is no longer needed unweighted, and a copy is the fold's largest array
    yz = np.empty((len(xi), months))
    out = {}
    for o, y in ys.items():
        np.copyto(yz, y)
        np.maximum(yz, 0.0, out=yz)  # censored cells (-1) are 0 and so left out
        xty = xi.T @ yz  # q x months
        b = np.zeros((q, months))
        for m in range(1, months + 1):
            if cum[m][0, 0] > 0:
                b[:, m - 1] = np.linalg.solve(cum[m] + pen, xty[:, m - 1])
        out[o] = b
    return out


def _censoring_logit(x_train, arm_train, follow, w, months, rng, x_test, arm_test, n_arms):
    """P(follow_up >= m | x, arm), m = 1..months: one pooled logit with a month intercept and
    common slopes, each training row entered at one random month; (test rows x months)."""
    from sklearn.linear_model import LogisticRegression

    m = rng.integers(1, months + 1, size=len(x_train))
    arms = np.eye(n_arms)[arm_train][:, 1:]
    mdum = np.eye(months)[m - 1]
    z = np.column_stack([x_train, arms, mdum])
    r = (follow >= m).astype(int)
    if r.min() == 1:  # nobody censored in the training rows: observed with probability 1
        return np.ones((len(x_test), months))
    fit = LogisticRegression(C=10.0, max_iter=500, fit_intercept=False).fit(z, r, sample_weight=w)
    k = x_train.shape[1] + n_arms - 1
    lin = np.column_stack([x_test, np.eye(n_arms)[arm_test][:, 1:]]) @ fit.coef_[0, :k]
    return 1.0 / (1.0 + np.exp(-(lin[:, None] + fit.coef_[0, k:][None, :])))


def _check_budget(value):
    if value is None or value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"max_train_rows={value!r}; expected 'auto', None (train on every row) or a "
                         "positive number of rows")
    return int(value)


def _thin_rows(train, controls, w, max_rows, rng):
    """The propensity's training rows within ``max_rows`` as DynamicDML thins them
    (:func:`~reintegration_effects.effects.budget_shares`: a random share of the pool, and of the
    starts when they alone fill half the budget, each kept row's weight divided by its share)."""
    tr_w = w[train]
    is_c = controls[train]
    f_pool, f_part = budget_shares(int((~is_c).sum()), int(is_c.sum()), max_rows)
    if f_pool == 1 and f_part == 1:
        return train, tr_w
    share = np.where(is_c, f_pool, f_part)
    keep = rng.random(len(train)) < share
    return train[keep], (tr_w / share)[keep]


def _fold_task(task, *, x, e_cols, o_cols, t, w, follow, ys, months, n_labels, cap):
    """One fold: propensity (multi-class, with calendar; columns ``e_cols`` of ``x``), censoring and
    outcome models (without; columns ``o_cols``). One covariate matrix serves both, so the workers
    receive it once."""
    from sklearn.base import clone

    (train, test), clf, seed = task
    rng = np.random.default_rng(seed)
    controls = t == 0
    tr_e, w_e = _thin_rows(train, controls, w, cap, rng)
    model = clone(clf).fit(x.take(tr_e, e_cols), t[tr_e], sample_weight=w_e)
    proba = np.zeros((len(test), n_labels))
    proba[:, model.classes_] = model.predict_proba(x.take(test, e_cols))
    mu_x, sd_x = _scaling(x.take(train, o_cols))
    x_te, x_e = ((x.take(r, o_cols) - mu_x) / sd_x for r in (test, tr_e))
    # the censoring model on the propensity's (thinned, reweighted) training rows: the same estimand, a third of the cost
    pi = _censoring_logit(x_e, t[tr_e], follow[tr_e], w_e, months, rng, x_te, t[test], n_labels)
    del x_e
    mu = {}
    t_tr = t[train]
    for k in range(n_labels):
        sel = t_tr == k
        rows = train[sel]
        coef = _ridge_per_month(_design(x, rows, o_cols, mu_x, sd_x), w[rows], follow[rows],
                                {o: y[rows] for o, y in ys.items()}, months)
        at = np.ones(len(test), dtype=bool) if k == 0 else t[test] == k
        xi = np.column_stack([np.ones(int(at.sum())), x_te[at]])
        for o in ys:
            mu[o, k] = (at, (xi @ coef[o]).astype(np.float32))
    return test, proba, pi.astype(np.float32), mu


# ------------------------------------------------------------------------------------------------
# the estimator
# ------------------------------------------------------------------------------------------------


class DurationEffects:
    """Censoring-aware doubly robust effect curves and restricted-mean effects (module docstring).

    Parameters
    ----------
    months : outcome months after time zero (the curve's length), default 36.
    rmst_horizons : horizons L of the restricted mean time on bijstand (each <= months).
    n_folds, n_rep : cross-fitting folds (split by person) and independent fold splits (median
        aggregation as :class:`~reintegration_effects.effects.DynamicDML`; default 1, the cost).
    trim : rows whose conditional propensity e_P / (e_P + e_none) exceeds it are left out.
    alpha : level of the pointwise intervals and of the simultaneous band.
    propensity_model : a scikit-learn classifier (default: the DML's gradient boosting).
    max_train_rows : "auto" (the DML's budget), an int or None: the propensity's training rows.
    random_state, parallel : seeds every fold split and the band draws; the folds' workers.
    c_y, c_t, rho : the confounding strengths of the omitted-variable bounds on the restricted
        means (``sensitivity``; as :class:`~reintegration_effects.effects.DynamicDML`).

    ``fit`` returns :class:`DurationEffectsResults`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> df = pd.DataFrame({"person_id": np.arange(n), "x": rng.normal(size=n),
    ...                    "treatment": np.where(rng.random(n) < 0.3, "P", "none"), "follow_up": 3})
    >>> for m in (1, 2, 3):
    ...     df[f"on_bijstand_{m}"] = (rng.random(n) < 0.8 - 0.1 * m).astype(int)
    >>> res = DurationEffects(months=3, rmst_horizons=(3,), n_folds=2, random_state=1).fit(
    ...     df, covariates=["x"], outcomes=("on_bijstand",))
    >>> list(res.curves["month"])
    [1, 2, 3]
    """

    method = "dml"

    def __init__(self, *, months: int = CURVE_MONTHS, rmst_horizons=RMST_HORIZONS, n_folds: int = 5, n_rep: int = 1,
                 trim: float = 0.95, alpha: float = 0.05, propensity_model=None, max_train_rows="auto",
                 random_state: int | None = None, parallel=None, c_y: float = SENSITIVITY_C_Y,
                 c_t: float = SENSITIVITY_C_T, rho: float = SENSITIVITY_RHO):
        self.months = months
        self.c_y = c_y
        self.c_t = c_t
        self.rho = rho
        self.rmst_horizons = rmst_horizons
        self.n_folds = n_folds
        self.n_rep = n_rep
        self.trim = trim
        self.alpha = alpha
        self.propensity_model = propensity_model
        self.max_train_rows = max_train_rows
        self.random_state = random_state
        self.parallel = parallel

    # --- input ----------------------------------------------------------------------------------
    def _inputs(self, data, covariates, propensity_covariates, outcomes, treatment, control, follow_up, cluster,
                weight, groups):
        M = int(self.months)
        if isinstance(data, DurationRiskSets):
            f = data.frame
            if data.months < M:
                raise ValueError(f"the risk sets hold {data.months} outcome months; months={M} asks for more. "
                                 f"Fix: build_duration_risk_sets(..., months={M}) or DurationEffects(months={data.months})")
            xe = covariate_matrix(f)
            o_cols = [i for i, c in enumerate(xe.columns) if c != "calendar"]
            ys = {o: data.outcomes[o][:, :M] for o in outcomes}
            masks = group_masks(f) if groups is None or groups == "contract" else groups
            return f, (_Columns(xe.to_numpy()), None, o_cols), ys, f["treatment"].astype(str).to_numpy(), NONE, \
                f["follow_up"].to_numpy(), f["pcode"].to_numpy(), f["weight"].to_numpy(), masks
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"fit expects a DurationRiskSets or a pandas DataFrame, found {type(data).__name__}")
        if not covariates:
            raise ValueError("fit(df, covariates=[...]): name the covariate columns (numeric)")
        need = [*covariates, *(propensity_covariates or []), treatment, follow_up, cluster,
                *(f"{o}_{m}" for o in outcomes for m in range(1, M + 1)), *([weight] if weight else [])]
        missing = [c for c in dict.fromkeys(need) if c not in data.columns]
        if missing:
            raise ValueError(f"fit: column(s) {missing[:8]} not in the frame; expected the covariates, "
                             f"'{treatment}', '{follow_up}', '{cluster}' and <outcome>_1..<outcome>_{M}")
        fu = pd.to_numeric(data[follow_up], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(fu) | (fu < 0) | (fu != np.round(fu)))
        if len(bad):
            raise ValueError(f"fit: '{follow_up}' must be a whole number of months >= 0; rows {bad[:5].tolist()} "
                             f"hold {data[follow_up].iloc[bad[:5]].tolist()}")
        fu = np.minimum(fu.astype(np.int64), M)
        ys = {}
        for o in outcomes:
            y = data[[f"{o}_{m}" for m in range(1, M + 1)]].to_numpy(dtype=float)
            obs = np.arange(1, M + 1)[None, :] <= fu[:, None]
            bad = np.flatnonzero((obs & ~np.isin(y, (0.0, 1.0))).any(axis=1))
            if len(bad):
                raise ValueError(f"fit: outcome '{o}' must be 0/1 in every observed month (m <= {follow_up}); "
                                 f"rows {bad[:5].tolist()} are not. Censored months may hold anything (NaN)")
            ys[o] = np.where(obs, np.nan_to_num(y), -1).astype(np.int8)
        xs = data[list(covariates)]
        xe = data[list(propensity_covariates or covariates)]
        for name, frame in (("covariates", xs), ("propensity_covariates", xe)):
            if not all(pd.api.types.is_numeric_dtype(frame[c]) for c in frame) or frame.isna().any().any():
                raise ValueError(f"fit: {name} must be numeric without missing values (one-hot encode categories)")
        w = data[weight].to_numpy(dtype=float) if weight else np.ones(len(data))
        clusters = pd.factorize(data[cluster])[0]
        masks = {"all": np.ones(len(data), dtype=bool)} if groups is None else groups
        names = list(dict.fromkeys([*xe.columns, *xs.columns]))
        e_cols = None if names == list(xe.columns) else [names.index(c) for c in xe.columns]
        x = _Columns(data[names].to_numpy(dtype=float))
        return data, (x, e_cols, [names.index(c) for c in xs.columns]), ys, \
            data[treatment].astype(str).to_numpy(), str(control), fu, clusters, w, masks

    # --- fit ------------------------------------------------------------------------------------
    def fit(self, data, *, covariates=None, propensity_covariates=None, outcomes=CURVE_OUTCOMES,
            treatment: str = "treatment", control="none", follow_up: str = "follow_up", cluster: str = "person_id",
            weight: str | None = None, groups=None) -> DurationEffectsResults:
        """Fit on :class:`DurationRiskSets` (:func:`build_duration_risk_sets`) or on a DataFrame.

        A DataFrame has one row per start or comparison row: ``treatment`` (a programme label, or
        ``control`` for the comparison pool), ``follow_up`` (months observed after time zero),
        ``cluster`` (the person), numeric ``covariates`` (the outcome and censoring models; no
        calendar time, see the module docstring) and ``propensity_covariates`` (default the same;
        add calendar time here), the outcomes as columns ``<outcome>_1`` .. ``<outcome>_<months>``
        (0/1, anything where censored), optional ``weight`` (pool rows). ``groups``: name -> row
        mask (default: "all"; on risk sets, every contract group).
        """
        M = int(self.months)
        if M < 1:
            raise ValueError(f"months={self.months!r}; expected a positive number of months")
        horizons = tuple(int(h) for h in self.rmst_horizons)
        if any(h < 1 or h > M for h in horizons):
            raise ValueError(f"rmst_horizons={self.rmst_horizons!r}: each must lie in 1..months={M}")
        if not 0 < self.alpha < 1 or not 0.5 <= self.trim <= 1:
            raise ValueError(f"alpha={self.alpha!r} must lie in (0, 1) and trim={self.trim!r} in [0.5, 1]")
        n_rep = check_n_rep(self.n_rep)
        cap = _check_budget(self.max_train_rows)
        f, (x, e_cols, o_cols), ys, treat, control, follow, clusters, w, masks = self._inputs(
            data, covariates, propensity_covariates, outcomes, treatment, control, follow_up, cluster, weight, groups)
        progs = sorted(set(treat) - {control})
        if not progs or not (treat == control).any():
            raise InsufficientDataError("duration effects: need programme starts and comparison rows "
                                        f"(treatment '{control}')", tables=("effects_curves",))
        labels = [control, *progs]
        t = pd.Categorical(treat, categories=labels).codes.astype(np.int64)
        if cap == "auto":
            cap = training_row_budget(len(t))
        from sklearn.model_selection import GroupKFold

        from .parallel import map_tasks

        if len(np.unique(clusters)) < self.n_folds:
            raise InsufficientDataError(f"duration effects: fewer persons than the {self.n_folds} folds",
                                        tables=("effects_curves",))
        first = int(np.random.default_rng(self.random_state).integers(2**31 - 1))
        seeds = repetition_seeds(first, n_rep)
        tasks = []
        for seed in seeds:
            clf = self.propensity_model if self.propensity_model is not None else default_classifier(seed)
            folds = GroupKFold(n_splits=self.n_folds, shuffle=True, random_state=seed)
            for i, (train, test) in enumerate(folds.split(t, t, groups=clusters)):
                absent = [labels[k] for k in range(len(labels)) if not (t[train] == k).any()]
                if absent:
                    raise InsufficientDataError(f"duration effects: {', '.join(absent)} too rare for every fold's "
                                                f"training rows ({self.n_folds} folds)", tables=("effects_curves",))
                tasks.append(((train, test), clf, seed + i))
        parts = map_tasks(partial(_fold_task, x=x, e_cols=e_cols, o_cols=o_cols, t=t, w=w, follow=follow, ys=ys,
                                  months=M, n_labels=len(labels), cap=cap), tasks, self.parallel)
        del x  # the scores need the folds' predictions only
        band_rng = np.random.default_rng(np.random.SeedSequence([first, 14]))
        gauss = band_rng.standard_normal((BAND_DRAWS, M))
        from threadpoolctl import threadpool_limits

        splits = []
        for _ in range(n_rep):
            split_parts, parts[:self.n_folds] = parts[:self.n_folds], []  # released as they are read
            with threadpool_limits(1):  # small dense algebra: BLAS threads only contend on a busy machine
                splits.append(self._scores(split_parts, t, w, follow, ys, clusters, masks, labels, M, horizons,
                                           gauss))
        curves, rmst = self._aggregate([sp[:2] for sp in splits], labels[1:], horizons)
        sens = sensitivity_table([(p, o, i, *inputs) for i, sp in enumerate(splits) for p, o, *inputs in sp[2]],
                                 c_y=self.c_y, c_t=self.c_t, rho=self.rho, alpha=self.alpha)
        return DurationEffectsResults(curves=curves, rmst=rmst, alpha=self.alpha, model=self,
                                      splits=pd.concat([sp[0].assign(split=i) for i, sp in enumerate(splits)],
                                                       ignore_index=True), sensitivity=sens)

    def _scores(self, parts, t, w, follow, ys, clusters, masks, labels, M, horizons, gauss):
        """Curves, restricted means and sensitivity inputs of one fold split; ``parts`` (the folds'
        predictions) is emptied as it is read."""
        from scipy import sparse
        from scipy.stats import norm

        n = len(t)
        e = np.zeros((n, len(labels)))
        pi = np.zeros((n, M), dtype=np.float32)
        mu0 = {o: np.zeros((n, M), dtype=np.float32) for o in ys}
        # mu1 is read on the starts' rows only: kept for them alone, at their position among the starts
        starts = np.flatnonzero(t > 0)
        at_start = np.full(n, -1, dtype=np.int64)
        at_start[starts] = np.arange(len(starts))
        mu1 = {o: np.zeros((len(starts), M), dtype=np.float32) for o in ys}
        while parts:  # the test folds are disjoint: the order does not matter, and each fold is freed once copied
            test, proba, pi_f, mu = parts.pop()
            e[test] = proba
            pi[test] = pi_f
            for (o, k), (rows, pred) in mu.items():
                if k == 0:
                    mu0[o][test[rows]] = pred
                else:
                    mu1[o][at_start[test[rows]]] = pred
            del test, proba, pi_f, mu
        np.maximum(pi, PI_FLOOR, out=pi)
        fu = np.minimum(follow, M)
        z = norm.ppf(1 - self.alpha / 2)
        ccodes, uniq = pd.factorize(clusters)
        curves, rmst, sens = [], [], []
        e0 = np.clip(e[:, 0], 1e-6, None)
        for k, prog in enumerate(labels[1:], start=1):
            d, c = t == k, t == 0
            cond = e[:, k] / (e[:, k] + e0)
            keep = (d | c) & (cond <= self.trim)
            odds = np.where(c, w * cond / (1 - np.minimum(cond, 1 - 1e-9)), 0.0)
            rows = np.flatnonzero(keep)
            dr = d[rows]
            fu_r = fu[rows]
            cl = ccodes[rows]
            group_rows = {}
            for g, gm in masks.items():
                sel = gm[rows]
                n1 = int((dr & sel).sum())
                if n1 >= 2:
                    # the group's rows only: the rows outside it would add 0 x psi, which changes no sum
                    a = sparse.csr_matrix((np.ones(int(sel.sum())), (cl[sel], np.flatnonzero(sel))),
                                          shape=(len(uniq), len(rows)))
                    group_rows[g] = (sel, n1, a, a @ dr.astype(float))
            for o, y in ys.items():
                sens_h = horizons if o == "on_bijstand" and "all" in group_rows else ()
                psi, sums = _score_rows(rows, dr, y, mu0[o], mu1[o], at_start, pi, odds[rows], fu_r, sens_h)
                for g, (sel, n1, a, sd) in group_rows.items():
                    theta = (sel.astype(float) @ psi) / n1
                    inf = (a @ psi - sd[:, None] * theta[None, :]) / n1  # person-clustered, persons x months
                    inf = inf[np.abs(inf).sum(axis=1) > 0]
                    g_n = len(inf)
                    cov = inf.T @ inf * (g_n / (g_n - 1) if g_n > 1 else 1.0)
                    se = np.sqrt(np.clip(np.diag(cov), 0, None))
                    crit = _sup_t(cov, se, gauss, 1 - self.alpha)
                    curves.append(pd.DataFrame({"programme": prog, "group": g, "outcome": o, "month": np.arange(1, M + 1),
                                                "method": "dml", "estimate": theta, "std_error": se,
                                                "crit": crit, "n_treated": n1, "n_at_risk": _at_risk(fu_r[dr & sel], M)}))
                    if o == "on_bijstand":
                        for h in horizons:
                            est = float(theta[:h].sum())
                            sv = float(np.sqrt(max(cov[:h, :h].sum(), 0.0)))
                            rmst.append(dict(programme=prog, group=g, outcome=f"{RMST_PREFIX}{h}m", method="dml",
                                             estimate=est, std_error=sv, ci_lower=est - z * sv, ci_upper=est + z * sv,
                                             n_treated=n1, n_control=int((c[rows] & sel).sum())))
                del psi
                if sens_h:
                    sens.extend(_sensitivity_from_sums(prog, sums, {h: fu_r >= h for h in horizons},
                                                       {h: pi[rows, h - 1] for h in horizons}, dr, cond[rows], w[rows],
                                                       cl, len(uniq), horizons))
        cols = ["programme", "group", "outcome", "month", "method", "estimate", "std_error", "crit", "n_treated",
                "n_at_risk"]
        return (pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=cols),
                pd.DataFrame(rmst, columns=list(EFFECTS_COLUMNS)), sens)

    def _aggregate(self, splits, programmes, horizons):
        from scipy.stats import norm

        z = norm.ppf(1 - self.alpha / 2)
        keys = ["programme", "group", "outcome", "month", "method"]
        if len(splits) == 1:
            cur, rm = splits[0]
        else:
            allc = pd.concat([c for c, _ in splits], ignore_index=True)
            rows = []
            for key, g in allc.groupby(keys, sort=False):
                est, se = median_aggregate(g["estimate"].to_numpy(), g["std_error"].to_numpy())
                rows.append((*key, est, se, float(g["crit"].median()), int(np.floor(g["n_treated"].median())),
                             int(np.floor(g["n_at_risk"].median()))))
            cur = pd.DataFrame(rows, columns=[*keys, "estimate", "std_error", "crit", "n_treated", "n_at_risk"])
            allr = pd.concat([r for _, r in splits], ignore_index=True)
            rrows = []
            for key, g in allr.groupby(["programme", "group", "outcome", "method"], sort=False):
                est, se = median_aggregate(g["estimate"].to_numpy(), g["std_error"].to_numpy())
                rrows.append(dict(zip(["programme", "group", "outcome", "method"], key, strict=True), estimate=est,
                                  std_error=se, ci_lower=est - z * se, ci_upper=est + z * se,
                                  n_treated=int(np.floor(g["n_treated"].median())),
                                  n_control=int(np.floor(g["n_control"].median()))))
            rm = pd.DataFrame(rrows, columns=list(EFFECTS_COLUMNS))
        cur = cur.copy()
        cur["ci_lower"] = cur["estimate"] - z * cur["std_error"]
        cur["ci_upper"] = cur["estimate"] + z * cur["std_error"]
        cur["band_lower"] = cur["estimate"] - cur["crit"] * cur["std_error"]
        cur["band_upper"] = cur["estimate"] + cur["crit"] * cur["std_error"]
        return cur[list(CURVES_COLUMNS)].reset_index(drop=True), rm.reset_index(drop=True)


def _rmst_sensitivity(prog, y, mu0, mu1, r, obs, pi, d, cond, w, clusters, n_clusters, horizons):
    """Sensitivity inputs (theta, sigma^2, nu^2, cov, persons) of the restricted-mean ATTs.

    The omitted-variable bounds of Chernozhukov et al. (2022) need the outcome's residual variance
    sigma^2 = E (Y - g(D, X))^2 for the uncensored Y = sum_{m<=L} Y_m, and the ATT's Riesz
    representer. The ATT score with censoring (module docstring) is the uncensored ATT score
    applied to the AIPCW pseudo-outcome Y~ = mu_D + sum_{m<=L} R_m / pi_m (Y_m - mu_D,m), so theta
    is :func:`~reintegration_effects.doubly_robust.att_sensitivity_inputs` of Y~ (exactly the
    restricted-mean estimate); sigma^2 is estimated by inverse-probability-of-censoring weighting
    of the squared residual on the rows observed to L (R_L / pi_L (Y - mu_D)^2: unbiased for
    sigma^2 under the censoring assumption of the module; the squared residual of Y~ would add the
    censoring noise and overstate it). Censoring is taken as not confounded (the hidden confounder
    acts on take-up and outcome, as in the uncensored bounds).
    """
    return _sensitivity_from_sums(prog, _horizon_sums(y, mu0, mu1, r, obs, d, horizons),
                                  {h: obs[:, h - 1] for h in horizons}, {h: pi[:, h - 1] for h in horizons}, d, cond,
                                  w, clusters, n_clusters, horizons)


def _horizon_sums(y, mu0, mu1, r, obs, d, horizons):
    """Per horizon L, the row sums over m <= L of mu0, mu1, the weighted residuals R_m / pi_m (Y_m - mu_D,m)
    and the observed Y_m (on rows observed to L): what :func:`_rmst_sensitivity` needs of the
    (rows x months) arrays. Sums within a row, so blocks of rows give the same values."""
    if not horizons:
        return {}
    resid_terms = np.where(d[:, None], r * (y - mu1), r * (y - mu0))
    return {h: (mu0[:, :h].sum(axis=1), mu1[:, :h].sum(axis=1), resid_terms[:, :h].sum(axis=1),
                np.where(obs[:, h - 1][:, None], y[:, :h], 0.0).sum(axis=1)) for h in horizons}


def _sensitivity_from_sums(prog, sums, full, pi, d, cond, w, clusters, n_clusters, horizons):
    """:func:`_rmst_sensitivity` from :func:`_horizon_sums`; ``full`` and ``pi``: per horizon L, the
    rows observed to L and their pi_L."""
    out = []
    wd = np.where(d, 1.0, w)
    cond = np.minimum(cond, 1 - 1e-9)
    persons = int(np.unique(clusters[d]).size)
    for h in horizons:
        m0, m1, resid, y_obs = sums[h]
        mu_d = np.where(d, m1, m0)
        pseudo = mu_d + resid
        sq = np.where(full[h], (y_obs - mu_d) ** 2 / pi[h], 0.0)
        inputs = att_sensitivity_inputs(pseudo, d, ~d, m0, m1, cond, wd, np.ones(len(d), dtype=bool), clusters,
                                        n_clusters, sq_resid=sq)
        out.append((prog, f"{RMST_PREFIX}{h}m", *inputs, persons))
    return out


def _score_rows(rows, d, y, mu0, mu1, at_start, pi, odds, fu, horizons):
    """The score psi (rows x months, float64) of one programme and outcome, and with ``horizons``
    the row sums of :func:`_horizon_sums`. Built in blocks of rows: the float64 copies of the
    outcomes and nuisances exist for one block at a time; every step is elementwise or a sum
    within a row, so the values are those of whole-array copies."""
    n, M = len(rows), mu0.shape[1]
    psi = np.empty((n, M))
    sums = {h: tuple(np.empty(n) for _ in range(4)) for h in horizons}
    months = np.arange(1, M + 1)[None, :]
    for s in range(0, n, SCORE_BLOCK_ROWS):
        b = slice(s, s + SCORE_BLOCK_ROWS)
        rb, db = rows[b], d[b]
        obs = months <= fu[b][:, None]
        r = np.where(obs, 1.0 / pi[rb], 0.0)
        yy = y[rb].astype(float)
        m0 = mu0[rb].astype(float)
        m1 = np.zeros_like(m0)
        m1[db] = mu1[at_start[rb[db]]]
        p = np.where(db[:, None], m1 - m0 + r * (yy - m1), -odds[b][:, None] * r * (yy - m0))
        p[~np.isfinite(p)] = 0.0  # censored cells: r = 0 (their y is the -1 placeholder)
        psi[b] = p
        for h, block in _horizon_sums(yy, m0, m1, r, obs, db, horizons).items():
            for acc, v in zip(sums[h], block, strict=True):
                acc[b] = v
    return psi, sums


def _at_risk(fu, months):
    """Rows observed at m = 1..months (follow-up fu >= m), counted."""
    return np.cumsum(np.bincount(fu, minlength=months + 1)[::-1])[::-1][1:months + 1]


def _sup_t(cov, se, gauss, level):
    """Critical value of the sup-t band: the ``level`` quantile of max_m |Z_m| / se_m, Z ~ N(0, cov)
    (the Gaussian multiplier bootstrap of the clustered influence functions, given the data)."""
    ok = se > 0
    if not ok.any():
        return np.nan
    corr = cov[np.ix_(ok, ok)] / np.outer(se[ok], se[ok])
    vals, vecs = np.linalg.eigh(corr)
    root = vecs * np.sqrt(np.clip(vals, 0, None))[None, :]
    draws = gauss[:, :ok.sum()] @ root.T
    return float(np.quantile(np.abs(draws).max(axis=1), level))


@dataclass
class DurationEffectsResults:
    """Results of :class:`DurationEffects`.

    ``curves`` (:data:`CURVES_COLUMNS`): per programme x group x outcome (``on_bijstand``,
    ``work_off_bijstand``) x month 1..months: ``estimate`` (ATT on the probability at month end
    t0 + month, over all starters), ``std_error`` (person-clustered), ``ci_lower/ci_upper``
    (pointwise, level 1 - alpha), ``band_lower/band_upper`` (simultaneous over the months, sup-t),
    ``n_treated`` (starts in the estimate), ``n_at_risk`` (of which observed at that month).
    ``rmst``: the contract's effects layout, outcome ``rmst_bijstand_<L>m`` (ATT on the months on
    bijstand among month ends t0+1..t0+L), method "dml", n_control the comparison rows.
    ``splits``: every fold split's curve estimates before the median aggregation.
    ``sensitivity``: the omitted-variable bounds (Chernozhukov et al. 2022) of every programme's
    restricted-mean ATTs, group "all", as the DML's ``effects_sensitivity`` (outcome
    ``rmst_bijstand_<L>m``, same estimate and standard error as ``rmst``).
    """

    curves: pd.DataFrame
    rmst: pd.DataFrame
    alpha: float
    model: object = None
    splits: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def summary(self) -> pd.DataFrame:
        return self.curves.set_index(["programme", "group", "outcome", "month"])

    def conf_int(self, kind: str = "pointwise") -> pd.DataFrame:
        """Lower and upper limits per curve point: ``kind`` "pointwise" or "band" (simultaneous)."""
        if kind not in ("pointwise", "band"):
            raise ValueError(f"kind={kind!r}; expected 'pointwise' or 'band'")
        cols = ["ci_lower", "ci_upper"] if kind == "pointwise" else ["band_lower", "band_upper"]
        return self.summary[cols].set_axis(["lower", "upper"], axis=1)

    def to_frame(self) -> pd.DataFrame:
        return self.curves.copy()

    def plot(self, programme: str | None = None, outcome: str = "on_bijstand", group: str = "all", ax=None):
        """The effect curve with its pointwise interval and simultaneous band; returns the Axes."""
        import matplotlib.pyplot as plt

        c = self.curves[(self.curves["outcome"] == outcome) & (self.curves["group"] == group)]
        programme = programme if programme is not None else c["programme"].iloc[0]
        c = c[c["programme"] == programme]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        ax.fill_between(c["month"], c["band_lower"], c["band_upper"], alpha=0.15, label="simultaneous band")
        ax.fill_between(c["month"], c["ci_lower"], c["ci_upper"], alpha=0.3, label="pointwise interval")
        ax.plot(c["month"], c["estimate"], marker=".", label=programme)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("months after the start")
        ax.set_ylabel(f"effect on P({outcome})")
        ax.legend()
        return ax

    def _repr_html_(self) -> str:
        return self.curves.to_html(index=False, float_format=lambda v: f"{v:.3f}")


def duration_tables(panel: Panel, data: InputData, *, months: int = CURVE_MONTHS, random_state: int | None = None,
                    parallel=None, max_rows: int | None = None,
                    n_rep: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The run's duration effects: ``effects_curves`` (:data:`CURVES_COLUMNS`, groups "all" and
    every contract group; the disclosure plan hides the small ones), the ``rmst_bijstand_<L>m``
    rows for ``effects`` (method "dml") and their omitted-variable bounds for
    ``effects_sensitivity``. Raises InsufficientDataError when no programme has starts and a
    comparison pool with follow-up."""
    risk = build_duration_risk_sets(panel, data, months=months, max_rows=max_rows, random_state=random_state)
    res = DurationEffects(months=months, n_rep=n_rep, random_state=random_state, parallel=parallel).fit(risk)
    return res.curves, res.rmst, res.sensitivity
