"""Non-parametric estimators (vectorised; left truncation via entry < t <= duration)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InsufficientDataError, StatisticalWarning
from .settings import z_quantile


def _at_risk(entry, duration, times) -> np.ndarray:
    """Number with entry < t <= duration at each t (assumes entry < duration)."""
    e = np.sort(np.asarray(entry, float))
    d = np.sort(np.asarray(duration, float))
    return np.searchsorted(e, times, side="left") - np.searchsorted(d, times, side="left")


def kaplan_meier(duration, event, entry=None, *, alpha: float = 0.05, times=None) -> pd.DataFrame:
    """Kaplan-Meier survival with left truncation (lifelines ``KaplanMeierFitter`` with ``entry``).

    Returns columns time, survival, ci_lower, ci_upper (exponential Greenwood, lifelines' log(-log)
    bands), persons (at risk of the event at t: entry < t <= duration; at t = 0 the subjects
    observed from time 0), events, censored. ``times`` defaults to every whole time unit from 0 to
    the largest duration.
    """
    from lifelines import KaplanMeierFitter

    duration = np.asarray(duration, float)
    event = np.asarray(event).astype(bool)
    entry = np.zeros(len(duration)) if entry is None else np.asarray(entry, float)
    if np.any(entry >= duration):
        raise ValueError("kaplan_meier: every entry time must be below its duration (a subject must be at "
                         "risk for some time). Fix: drop subjects with entry >= duration.")
    if times is None:
        times = np.arange(0, int(np.ceil(duration.max())) + 1 if len(duration) else 1)
    times = np.asarray(times, float)
    if len(duration) == 0:
        return pd.DataFrame({"time": times, "survival": np.nan, "ci_lower": np.nan, "ci_upper": np.nan,
                             "persons": 0, "events": 0, "censored": 0})
    kmf = KaplanMeierFitter(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _fit_km(kmf, duration, event, entry)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    grid = np.union1d(sf.index.to_numpy(float), times)
    surv = sf.reindex(grid).ffill().fillna(1.0).reindex(times).to_numpy()
    lo = ci.iloc[:, 0].reindex(grid).ffill().fillna(1.0).reindex(times).to_numpy()
    hi = ci.iloc[:, 1].reindex(grid).ffill().fillna(1.0).reindex(times).to_numpy()
    persons = _at_risk(entry, duration, times)
    persons = np.where(times == 0, (entry <= 0).sum(), persons) if (times == 0).any() else persons
    ev_t = pd.Series(event.astype(int)).groupby(duration).sum().reindex(times, fill_value=0).to_numpy()
    ce_t = pd.Series((~event).astype(int)).groupby(duration).sum().reindex(times, fill_value=0).to_numpy()
    return pd.DataFrame({"time": times, "survival": surv, "ci_lower": lo, "ci_upper": hi,
                         "persons": persons.astype(int), "events": ev_t.astype(int), "censored": ce_t.astype(int)})


def _fit_km(kmf, duration, event, entry) -> None:
    """``kmf.fit`` with left truncation; a risk set that runs empty early is too little data.

    lifelines refuses (``StatError``) when, in the first half of the time line, nobody is at risk
    (every spell seen so far has ended and the next enters later): the curve cannot be carried
    across that gap. That happens only with a handful of spells.
    """
    from lifelines.exceptions import StatError

    try:
        kmf.fit(duration, event_observed=event, entry=entry)
    except StatError as e:
        raise InsufficientDataError(
            "Kaplan-Meier: months with nobody at risk before the last exit (too few spells observed from "
            "their start); no curve") from e


def warn_left_out(table: str, labels: Sequence[str]) -> None:
    """One StatisticalWarning naming the groups whose Kaplan-Meier estimate :func:`_fit_km` refused."""
    if labels:
        shown = ", ".join(labels[:8]) + (f" and {len(labels) - 8} more" if len(labels) > 8 else "")
        warnings.warn(f"{table}: {len(labels)} group(s) left out ({shown}): months with nobody at risk before "
                      f"the last exit (too few spells observed from their start, e.g. in a short window)",
                      StatisticalWarning, stacklevel=3)


def km_median(duration, event, entry, alpha) -> tuple[float, float, float]:
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    kmf = KaplanMeierFitter(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _fit_km(kmf, duration, event, entry)
        ci = median_survival_times(kmf.confidence_interval_)
    return float(kmf.median_survival_time_), float(ci.iloc[0, 0]), float(ci.iloc[0, 1])


def cumulative_incidence_from_counts(n, d, dk, z: float) -> tuple[np.ndarray, ...]:
    """The Aalen-Johansen cumulative incidence of one cause from counts per time point.

    ``n`` at risk, ``d`` events of any cause and ``dk`` of this cause at each time point; ``z``
    the normal quantile of the bands. Returns F_k, its log(-log) bands (0 where F_k is 0), the
    delta-method variance (Collett 2015, p. 411), the overall survival S and 1 - KM of the cause
    with the other causes censored. :func:`aalen_johansen` uses it per event time, the published
    curves (:mod:`reintegration_effects.outputs`) per protected interval.
    """
    n, d, dk = (np.asarray(x, float) for x in (n, d, dk))
    with np.errstate(divide="ignore", invalid="ignore"):
        S = np.cumprod(1 - d / n)
        S_lag = np.concatenate([[1.0], S[:-1]])
        a = np.where(n > d, d / (n * (n - d)), 0.0)
        F = np.cumsum(S_lag * dk / n)
        b = S_lag * dk / n ** 2
        first = F ** 2 * np.cumsum(a) - 2 * F * np.cumsum(a * F) + np.cumsum(a * F ** 2)
        second = np.cumsum(S_lag ** 2 * dk * (n - dk) / n ** 3)
        third = F * np.cumsum(b) - np.cumsum(b * F)
        var = np.maximum(first + second - 2 * third, 0.0)
        se_t = np.sqrt(var) / (F * np.abs(np.log(F)))
        ft = np.log(-np.log(F))
        lower = np.where(F > 0, np.exp(-np.exp(ft + z * se_t)), 0.0)
        upper = np.where(F > 0, np.exp(-np.exp(ft - z * se_t)), 0.0)
        km_k = np.cumprod(1 - dk / n)
    return F, lower, upper, var, S, 1 - km_k


def aalen_johansen(duration, cause, entry=None, *, causes: Sequence[int] | None = None,
                   alpha: float = 0.05) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence per cause, with left truncation and tied times.

    ``cause``: 0 = censored, k > 0 = ended by cause k. At each distinct event time t with n(t)
    at risk (entry < t <= duration), d(t) events of any cause and d_k(t) of cause k:
    S(t) = prod (1 - d/n), F_k(t) = sum S(t-) d_k/n. Ties between causes need no jitter in this
    form (lifelines' ``AalenJohansenFitter`` jitters tied times at random and counts subjects that
    enter at t as at risk at t). Variance: the delta-method (Greenwood-type) formula lifelines uses
    (Collett 2015, p. 411), bands on the log(-log) scale.

    Returns long format: time, cause, cumulative_incidence, ci_lower, ci_upper, variance,
    survival (overall, any cause), one_minus_km (1 - KM with other causes censored: the wrong
    curve, for comparison), persons (at risk), events (of this cause).
    """
    duration = np.asarray(duration, float)
    cause = np.asarray(cause).astype(int)
    entry = np.zeros(len(duration)) if entry is None else np.asarray(entry, float)
    if causes is None:
        causes = sorted(int(c) for c in np.unique(cause[cause > 0]))
    ev_any = cause > 0
    times = np.unique(duration[ev_any])
    n = _at_risk(entry, duration, times).astype(float)
    pos = np.searchsorted(times, duration)
    d = np.bincount(pos[ev_any], minlength=len(times)).astype(float)
    z = z_quantile(alpha)
    out = []
    for k in causes:
        dk = np.bincount(pos[cause == k], minlength=len(times)).astype(float)
        F, lower, upper, var, S, one_minus_km = cumulative_incidence_from_counts(n, d, dk, z)
        out.append(pd.DataFrame({"time": times, "cause": k, "cumulative_incidence": F, "ci_lower": lower,
                                 "ci_upper": upper, "variance": var, "survival": S,
                                 "one_minus_km": one_minus_km, "persons": n.astype(int), "events": dk.astype(int)}))
    cols = ["time", "cause", "cumulative_incidence", "ci_lower", "ci_upper", "variance", "survival",
            "one_minus_km", "persons", "events"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def logrank_test(duration, event, group, entry=None) -> dict:
    """Log-rank test of equal hazards across groups, with left truncation (entry < t <= duration).

    Returns dict(test_statistic, df, p_value, groups, observed, expected). Same statistic as
    lifelines' ``multivariate_logrank_test`` when there is no truncation (which lifelines' tests do
    not support).
    """
    duration = np.asarray(duration, float)
    event = np.asarray(event).astype(bool)
    entry = np.zeros(len(duration)) if entry is None else np.asarray(entry, float)
    codes, labels = pd.factorize(pd.Series(group).astype(str), sort=True)
    G = len(labels)
    times = np.unique(duration[event])
    n_g = np.empty((G, len(times)))
    d_g = np.empty((G, len(times)))
    for g in range(G):
        m = codes == g
        n_g[g] = _at_risk(entry[m], duration[m], times)
        d_g[g] = np.bincount(np.searchsorted(times, duration[m & event]), minlength=len(times))
    n, d = n_g.sum(0), d_g.sum(0)
    ok = n > 0
    n_g, d_g, n, d = n_g[:, ok], d_g[:, ok], n[ok], d[ok]
    expected = (n_g * d / n).sum(1)
    observed = d_g.sum(1)
    f = np.where(n > 1, d * (n - d) / np.maximum(n - 1, 1), 0.0) / n
    p_ = n_g / n
    V = np.einsum("t,gt,ht->gh", f * n, p_, -p_)
    V[np.diag_indices(G)] += (f * n * p_).sum(1)
    diff = (observed - expected)[:-1]
    stat = float(diff @ np.linalg.pinv(V[:-1, :-1]) @ diff) if G > 1 else float("nan")
    return {"test_statistic": stat, "df": G - 1, "p_value": float(stats.chi2.sf(stat, G - 1)) if G > 1 else np.nan,
            "groups": list(labels), "observed": observed, "expected": expected}
