"""Generic Cox estimators (lifelines) and their diagnostics: Schoenfeld test, concordance."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .grouped import single_thread_blas
from .results import HazardResults, ph_table
from .terms import binary_term_counts, check_columns


class CoxModel:
    """Cox proportional-hazards model for time-fixed covariates (lifelines ``CoxPHFitter``, Efron ties).

    ``CoxModel(alpha=0.05, penalizer=0.0, name="cox").fit(df, duration_col=..., event_col=...,
    entry_col=None, covariates=[...], strata=None, weights_col=None)`` returns
    :class:`HazardResults`. ``entry_col`` gives left truncation (at risk for entry < t <= duration).
    ``covariates`` is required: without it the error lists the numeric columns it would have used
    (an event flag's complement or a log duration among them would silently enter the model).
    """

    def __init__(self, *, alpha: float = 0.05, penalizer: float = 0.0, name: str = "cox"):
        self.alpha = alpha
        self.penalizer = penalizer
        self.name = name

    def fit(self, df: pd.DataFrame, *, duration_col: str, event_col: str, entry_col: str | None = None,
            covariates: Sequence[str] | None = None, strata: str | Sequence[str] | None = None,
            weights_col: str | None = None) -> HazardResults:
        from lifelines import CoxPHFitter

        special = [c for c in (duration_col, event_col, entry_col, weights_col) if c]
        strata_l = [strata] if isinstance(strata, str) else list(strata or [])
        check_columns(df, special + strata_l, f"{type(self).__name__}.fit")
        if covariates is None:
            would = [c for c in df.columns if c not in special + strata_l and pd.api.types.is_numeric_dtype(df[c])]
            raise ValueError(f"{type(self).__name__}.fit: covariates is required; without it every other numeric "
                             f"column would be used: {would}. Fix: pass covariates=[...] with the columns "
                             "that belong in the model.")
        if isinstance(covariates, str):
            covariates = [covariates]
        covariates = list(covariates)
        check_columns(df, covariates, f"{type(self).__name__}.fit")
        d = df[special + strata_l + covariates].reset_index(drop=True)
        if d.isna().any().any():
            bad = d.columns[d.isna().any()].tolist()
            raise ValueError(f"{type(self).__name__}.fit: missing values in column(s) {bad}. "
                             "Fix: drop or impute those rows first.")
        cph = CoxPHFitter(alpha=self.alpha, penalizer=self.penalizer)
        with warnings.catch_warnings(), single_thread_blas():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            cph.fit(d, duration_col=duration_col, event_col=event_col, entry_col=entry_col,
                    strata=strata_l or None, weights_col=weights_col)
        params, var = _params_and_variance(cph, covariates)
        ev = d[event_col].to_numpy().astype(bool)

        def ph_fn(res, cph=cph, d=d):
            from lifelines.statistics import proportional_hazard_test

            r = proportional_hazard_test(cph, d, time_transform=_rank_among_events)
            s = r.summary
            s.index = [n[0] if isinstance(n, tuple) else n for n in s.index]
            s = s.loc[covariates]
            return ph_table(covariates, s["test_statistic"], 1, s["p"], "scaled Schoenfeld (rank of time)")

        def conc_fn(res, d=d):
            score = d[covariates].to_numpy(float) @ res.params_.to_numpy()
            entry = d[entry_col].to_numpy(float) if entry_col else np.full(len(d), -np.inf)
            return concordance(entry, d[duration_col].to_numpy(float), ev, score)

        return HazardResults(model_name=self.name, params=params, variance=var, alpha=self.alpha, n=len(d),
                             n_events=int(ev.sum()), engine="lifelines.CoxPHFitter", model=self, fitter=cph,
                             term_counts=binary_term_counts(d[covariates], ev), ph_test_fn=ph_fn,
                             concordance_fn=conc_fn)


def _params_and_variance(fitter, covariates) -> tuple[pd.Series, pd.DataFrame]:
    """Coefficients and their covariance from a lifelines fitter, labelled by term."""
    names = list(fitter.params_.index)
    V = pd.DataFrame(np.asarray(fitter.variance_matrix_, float), index=names, columns=names)
    return fitter.params_.reindex(covariates), V.loc[covariates, covariates]


def _rank_among_events(durations, events, weights):
    """lifelines time transform: rank of each event time among event times (ties averaged)."""
    t = pd.Series(np.asarray(durations, float), index=getattr(durations, "index", None))
    e = np.asarray(events).astype(bool)
    return t.where(e).rank(method="average")


class TimeVaryingCoxModel:
    """Cox model on start/stop episodes (lifelines ``CoxTimeVaryingFitter``, Efron ties).

    ``fit(df, id_col=..., start_col="start", stop_col="stop", event_col="event", covariates=None,
    strata=None, unit_col=None)``: one row per episode (start, stop]; the event flag is set on the
    episode in which the event happens. ``unit_col`` names the column that counts as one subject
    for ``n`` and ``term_n`` (default ``id_col``).
    """

    def __init__(self, *, alpha: float = 0.05, penalizer: float = 0.0, name: str = "cox_tv"):
        self.alpha = alpha
        self.penalizer = penalizer
        self.name = name

    def fit(self, df: pd.DataFrame, *, id_col: str, start_col: str = "start", stop_col: str = "stop",
            event_col: str = "event", covariates: Sequence[str] | None = None,
            strata: str | Sequence[str] | None = None, unit_col: str | None = None) -> HazardResults:
        from lifelines import CoxTimeVaryingFitter

        special = [id_col, start_col, stop_col, event_col]
        strata_l = [strata] if isinstance(strata, str) else list(strata or [])
        check_columns(df, special + strata_l, f"{type(self).__name__}.fit")
        if covariates is None:
            covariates = [c for c in df.columns if c not in special + strata_l
                          and pd.api.types.is_numeric_dtype(df[c])]
        covariates = list(covariates)
        d = df[special + strata_l + covariates].reset_index(drop=True)
        bad = d[stop_col] <= d[start_col]
        if bad.any():
            raise ValueError(f"{type(self).__name__}.fit: {int(bad.sum())} episodes with {stop_col} <= "
                             f"{start_col} (first rows {list(np.flatnonzero(bad)[:5])}). Fix: drop empty episodes.")
        ctv = CoxTimeVaryingFitter(alpha=self.alpha, penalizer=self.penalizer)
        with warnings.catch_warnings(), single_thread_blas():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            ctv.fit(d, id_col=id_col, event_col=event_col, start_col=start_col, stop_col=stop_col,
                    strata=strata_l or None)
        params, var = _params_and_variance(ctv, covariates)
        start = d[start_col].to_numpy(float)
        stop = d[stop_col].to_numpy(float)
        ev = d[event_col].to_numpy().astype(bool)
        X = d[covariates].to_numpy(float)
        unit = (df[unit_col] if unit_col else d[id_col]).to_numpy()
        stratum = (d[strata_l].astype(str).agg("|".join, axis=1).to_numpy() if strata_l else None)

        def ph_fn(res):
            stat, p = schoenfeld_test(start, stop, ev, X, res.params_.to_numpy(), res.variance_matrix_.to_numpy(),
                                      strata=stratum)
            return ph_table(covariates, stat, 1, p, "scaled Schoenfeld (rank of time)")

        def conc_fn(res):
            return concordance(start, stop, ev, X @ res.params_.to_numpy())

        return HazardResults(model_name=self.name, params=params, variance=var, alpha=self.alpha,
                             n=len(np.unique(unit)), n_events=int(ev.sum()),
                             engine="lifelines.CoxTimeVaryingFitter", model=self, fitter=ctv,
                             term_counts=binary_term_counts(d[covariates], ev, unit), ph_test_fn=ph_fn,
                             concordance_fn=conc_fn)


def schoenfeld_test(start, stop, event, X, beta, variance, *, strata=None):
    """Grambsch-Therneau test on scaled Schoenfeld residuals for start/stop data (Efron weights).

    The residual of an event at time t is x_i minus the Efron-weighted mean of x over the risk set
    {start < t <= stop} (tied events share the tie-corrected means, as in lifelines); scaled
    residuals are ``n_events * r @ variance``; g(t) is the rank of the event time among event times
    (ties averaged). Returns (test statistics, p-values), one per column of X (1 df each).
    Vectorised over rows; loops over the distinct event times only.
    """
    start, stop = np.asarray(start, float), np.asarray(stop, float)
    event = np.asarray(event).astype(bool)
    X = np.asarray(X, float)
    beta = np.asarray(beta, float)
    eta = X @ beta
    w = np.exp(eta - eta.max())
    strata = np.zeros(len(stop), dtype=int) if strata is None else pd.factorize(np.asarray(strata))[0]
    resid_rows, times = [], []
    for s in np.unique(strata):
        in_s = strata == s
        ev_idx = np.flatnonzero(event & in_s)
        for t in np.unique(stop[ev_idx]):
            risk = in_s & (start < t) & (stop >= t)
            tied = ev_idx[stop[ev_idx] == t]
            wr = w[risk]
            s0, s1 = wr.sum(), wr @ X[risk]
            t0, t1 = w[tied].sum(), w[tied] @ X[tied]
            dcount = len(tied)
            frac = np.arange(dcount)[:, None] / dcount
            means = ((s1[None, :] - frac * t1[None, :]) / (s0 - frac * t0)).mean(axis=0)
            resid_rows.append(X[tied] - means)
            times.append(np.full(dcount, t))
    r = np.vstack(resid_rows)
    t = np.concatenate(times)
    g = pd.Series(t).rank(method="average").to_numpy()
    g = g - g.mean()
    n_ev = len(t)
    scaled = n_ev * r @ np.asarray(variance, float)
    var_diag = np.diag(np.asarray(variance, float))
    stat = (g @ scaled) ** 2 / (n_ev * var_diag * (g ** 2).sum())
    return stat, stats.chi2.sf(stat, 1)


def concordance(start, stop, event, score) -> float:
    """Harrell's C over risk sets: for each event at t, compare its risk score with every subject
    at risk at t ({start < t <= stop}) that does not have an event at t (censored at t counts as
    surviving longer). Higher score = higher hazard. Ties in the score count one half. For plain
    right-censored data pass ``start = -inf``. Vectorised over rows; loops over event times."""
    start, stop = np.asarray(start, float), np.asarray(stop, float)
    event = np.asarray(event).astype(bool)
    score = np.asarray(score, float)
    conc = ties = total = 0.0
    ev_idx = np.flatnonzero(event)
    for t in np.unique(stop[ev_idx]):
        at_t = ev_idx[stop[ev_idx] == t]
        others = np.sort(score[(start < t) & (stop >= t) & ~(event & (stop == t))])
        if len(others) == 0:
            continue
        lo = np.searchsorted(others, score[at_t], side="left")
        hi = np.searchsorted(others, score[at_t], side="right")
        conc += lo.sum()
        ties += (hi - lo).sum()
        total += len(others) * len(at_t)
    return (conc + 0.5 * ties) / total if total else float("nan")
