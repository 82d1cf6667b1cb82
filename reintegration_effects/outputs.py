"""Which protection each output table gets, and the one function that writes them.

Analyses return exact tables; here each is made safe with the disclosure module (suppression,
rounding, share and quantile rules) and written through
:func:`~reintegration_effects.disclosure.write_protected_csv`, which refuses anything unsafe. A
table without a plan here cannot be written: add its plan rather than bypass the gate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import disclosure as sdc
from .survival.nonparametric import cumulative_incidence_from_counts

FLOAT_COLUMNS_HIDDEN_WITH_COUNT = ("share", "ci_lower", "ci_upper", "estimate", "std_error", "z", "p_value")


#: Time points (months) at which survival curves are published: a step per month would show
#: single exits; at these points every estimate rests on the persons at risk, which are protected.
CURVE_TIMES = (0, 1, 2, 3, 6, 9, 12, 18, 24, 30, 36, 48, 60, 72, 84, 96, 108, 120)


def _rows(df: pd.DataFrame, count_cols, rules=sdc.CBS_RULES) -> pd.DataFrame:
    """Rows that are each their own total (a log, a curve point, a model term): round the counts,
    and where any count is too small suppress it and hide every float of the row."""
    count_cols = [count_cols] if isinstance(count_cols, str) else list(count_cols)
    out = df.reset_index(drop=True).copy()
    small = np.zeros(len(out), dtype=bool)
    for col in count_cols:
        exact = pd.to_numeric(out[col]).fillna(0).to_numpy()
        small |= exact < rules.min_persons if rules.suppress_zero else (exact > 0) & (exact < rules.min_persons)
    for col in count_cols:
        exact = pd.to_numeric(out[col]).fillna(0).to_numpy().astype(np.int64)
        out[col] = pd.array(sdc.round_count(exact, rules.rounding_base), dtype="Int64")
        out.loc[small, col] = pd.NA
    for c in out.columns:
        if c not in count_cols and pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].astype("Float64")
            out.loc[small, c] = pd.NA
    out["suppressed"] = small
    out["flag"] = np.where(small, "<10", "")
    return out


# ------------------------------------------------------------------------------------------------
# Curves from protected counts
# ------------------------------------------------------------------------------------------------

_Z95 = 1.959963984540054


def _z(alpha: float) -> float:
    """The normal quantile of a two-sided (1 - alpha) interval."""
    if alpha == 0.05:
        return _Z95
    from scipy.stats import norm

    return float(norm.ppf(1 - alpha / 2))


def _round_int(x, base: int) -> np.ndarray:
    """Round (possibly fractional) counts to the nearest whole number, then to a multiple of ``base``."""
    return sdc.round_count(np.floor(np.asarray(x, dtype=float) + 0.5).astype(np.int64), base)


def _curve_intervals(surv_at, events_in, grid, rules) -> list[tuple]:
    """The published intervals of one curve: (start, end, exact events per cause, effective at risk).

    Candidate ends are the ``grid`` times (:data:`CURVE_TIMES`). An interval is extended over the
    next grid time until every cause has at least ``rules.min_persons`` events in it; its
    effective number at risk is ``events / q`` with ``q = 1 - S(end) / S(start)`` the exact drop of
    the curve over the interval (for a one-month interval exactly the number at risk; for longer
    ones an events-weighted mean of the monthly risk sets, so left truncation and censoring within
    the interval are accounted for). The curve stops before an interval whose survivors
    (effective at risk - events) would number fewer than ``rules.min_persons``, and at the
    last interval that reaches the event rule: the tail beyond is not published.
    """
    out = []
    start, s_start = 0.0, 1.0
    for end in grid:
        if end <= start:
            continue
        d = np.asarray(events_in(start, end), dtype=float)
        if (d < rules.min_persons).any():
            continue  # too few events (of some cause): merged with the next interval
        s_end = surv_at(end)
        q = 1.0 - s_end / s_start if s_start > 0 else np.nan
        if not np.isfinite(q) or q <= 0:
            break
        n_eff = d.sum() / q
        if n_eff - d.sum() < rules.min_persons:
            break  # "all but a few left": the tail is not published
        out.append((start, float(end), d, n_eff))
        start, s_start = float(end), s_end
    return out


def _km_from_counts(n: np.ndarray, d: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, ...]:
    """Survival and exponential-Greenwood (log(-log)) bands from interval counts (n at risk, d events)."""
    n, d = np.asarray(n, float), np.asarray(d, float)
    z = _z(alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(1 - d / n)
        v = np.cumsum(d / (n * (n - d)))
        c = z * np.sqrt(v) / np.abs(np.log(s))
        lo = np.where((s > 0) & (s < 1), s ** np.exp(c), np.where(s >= 1, 1.0, 0.0))
        hi = np.where((s > 0) & (s < 1), s ** np.exp(-c), np.where(s >= 1, 1.0, 0.0))
    return s, lo, hi


def _aj_from_counts(n: np.ndarray, d: np.ndarray, dk: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, ...]:
    """Aalen-Johansen cumulative incidence of one cause with its log(-log) bands, from interval counts:
    the estimator of :func:`~reintegration_effects.survival.aalen_johansen`, with each published
    interval as one time point. Returns F, lower, upper, overall survival, 1 - KM of the cause."""
    F, lo, hi, _, S, one_minus_km = cumulative_incidence_from_counts(n, d, dk, _z(alpha))
    return F, lo, hi, S, one_minus_km


def _protect_km(df: pd.DataFrame, rules=sdc.CBS_RULES) -> pd.DataFrame:
    """``km`` / ``reentry_km`` published from protected counts (see :func:`_curve_intervals`).

    Per group: a row at time 0 (survival 1; persons = observed from time 0, rounded, hidden below
    the threshold) and one row per published interval ending at ``time``: ``events`` (rounded,
    at least 10), ``persons`` (effective number at risk in the interval, rounded), ``interval_start``,
    and ``survival`` with ``ci_lower``/``ci_upper`` (bands for ``survival``) recomputed from those
    rounded counts. Columns of the exact table that are not listed here are not published.
    """
    rows = []
    grid = np.array([t for t in CURVE_TIMES if t > 0], dtype=float)
    for (dim, label), g in df.groupby(["dimension", "group"], sort=False, observed=True):
        g = g.sort_values("time")
        t = g["time"].to_numpy(float)
        surv = g["survival"].to_numpy(float)
        ev = g["events"].to_numpy(float)

        def surv_at(x, t=t, surv=surv):
            i = np.searchsorted(t, x, side="right") - 1
            return float(surv[i]) if i >= 0 else 1.0

        def events_in(a, b, t=t, ev=ev):
            return [ev[(t > a) & (t <= b)].sum()]

        n0 = g.loc[g["time"] == 0, "persons"]
        n0 = int(n0.iloc[0]) if len(n0) else 0
        small0 = n0 < rules.min_persons
        rows.append({"dimension": dim, "group": label, "time": 0.0, "interval_start": pd.NA,
                     "survival": np.nan if small0 else 1.0, "ci_lower": np.nan if small0 else 1.0,
                     "ci_upper": np.nan if small0 else 1.0,
                     "persons": pd.NA if small0 else int(_round_int(n0, rules.rounding_base)),
                     "events": pd.NA, "suppressed": small0, "flag": sdc._primary_flag(rules) if small0 else ""})
        iv = _curve_intervals(surv_at, events_in, grid[grid <= (t.max() if len(t) else 0)], rules)
        if not iv:
            continue
        n_pub = _round_int([x[3] for x in iv], rules.rounding_base)
        d_pub = _round_int([x[2][0] for x in iv], rules.rounding_base)
        s, lo, hi = _km_from_counts(n_pub, d_pub)
        for (a, b, _, _), n_, d_, s_, lo_, hi_ in zip(iv, n_pub, d_pub, s, lo, hi, strict=True):
            rows.append({"dimension": dim, "group": label, "time": b, "interval_start": a, "survival": s_,
                         "ci_lower": lo_, "ci_upper": hi_, "persons": int(n_), "events": int(d_),
                         "suppressed": False, "flag": ""})
    out = pd.DataFrame(rows, columns=["dimension", "group", "time", "interval_start", "survival", "ci_lower",
                                      "ci_upper", "persons", "events", "suppressed", "flag"])
    out = out[["dimension", "group", "time", "survival", "ci_lower", "ci_upper", "persons", "events",
               "interval_start", "suppressed", "flag"]]
    return _typed_curve(out)


def _typed_curve(out: pd.DataFrame) -> pd.DataFrame:
    for c in ("persons", "events", "time", "interval_start"):  # times: whole months of CURVE_TIMES
        out[c] = pd.array(out[c], dtype="Int64")
    for c in ("survival", "ci_lower", "ci_upper", "cumulative_incidence", "one_minus_km"):
        if c in out:
            out[c] = pd.array(pd.to_numeric(out[c]), dtype="Float64")
    out["suppressed"] = out["suppressed"].astype(bool)
    return out.reset_index(drop=True)


def _protect_cumulative_incidence(df: pd.DataFrame, rules=sdc.CBS_RULES) -> pd.DataFrame:
    """``cumulative_incidence`` published from protected counts: every destination has at least 10
    events in every published interval (intervals merged until it does); cumulative incidence,
    its bands, ``one_minus_km`` and ``survival`` recomputed from the rounded events per destination
    and the rounded effective number at risk (``persons``)."""
    dests = [d for d in ("werk", "elsewhere") if d in set(df["destination"].astype(str))]
    dests += sorted(set(df["destination"].astype(str)) - set(dests))
    rows = []
    grid = np.array([t for t in CURVE_TIMES if t > 0], dtype=float)
    for (dim, label), g in df.groupby(["dimension", "group"], sort=False, observed=True):
        g = g.sort_values("time")
        first = g.drop_duplicates("time")
        t_all = first["time"].to_numpy(float)
        s_all = first["survival"].to_numpy(float)
        per = {d: g[g["destination"].astype(str) == d] for d in dests}

        def surv_at(x, t=t_all, s=s_all):
            i = np.searchsorted(t, x, side="right") - 1
            return float(s[i]) if i >= 0 else 1.0

        def events_in(a, b, per=per):
            return [p.loc[(p["time"] > a) & (p["time"] <= b), "events"].sum() for p in per.values()]

        tmax = t_all.max() if len(t_all) else 0
        iv = _curve_intervals(surv_at, events_in, grid[grid <= tmax], rules)
        if not iv:
            continue
        n_pub = _round_int([x[3] for x in iv], rules.rounding_base)
        dk_pub = {d: _round_int([x[2][i] for x in iv], rules.rounding_base) for i, d in enumerate(dests)}
        d_pub = np.sum(list(dk_pub.values()), axis=0)
        for d in dests:
            F, lo, hi, S, omkm = _aj_from_counts(n_pub, d_pub, dk_pub[d])
            for j, (a, b, _, _) in enumerate(iv):
                rows.append({"dimension": dim, "group": label, "time": b, "destination": d,
                             "cumulative_incidence": F[j], "ci_lower": lo[j], "ci_upper": hi[j],
                             "one_minus_km": omkm[j], "survival": S[j], "persons": int(n_pub[j]),
                             "events": int(dk_pub[d][j]), "interval_start": a, "suppressed": False, "flag": ""})
    cols = ["dimension", "group", "time", "destination", "cumulative_incidence", "ci_lower", "ci_upper",
            "one_minus_km", "survival", "persons", "events", "interval_start", "suppressed", "flag"]
    return _typed_curve(pd.DataFrame(rows, columns=cols))


# ------------------------------------------------------------------------------------------------
# Shares and differences from protected counts
# ------------------------------------------------------------------------------------------------


def _wilson_from_published(out: pd.DataFrame, k: str = "persons", n: str = "persons_total",
                           alpha: float = 0.05) -> pd.DataFrame:
    """Replace ``ci_lower``/``ci_upper`` by Wilson intervals of the *published* (rounded) counts,
    NA wherever the share is not published: an interval of the exact counts pins them."""
    from statsmodels.stats.proportion import proportion_confint

    kk = pd.to_numeric(out[k]).astype(float).to_numpy()
    nn = pd.to_numeric(out[n]).astype(float).to_numpy()
    ok = out["share"].notna().to_numpy() & np.isfinite(kk) & np.isfinite(nn) & (nn > 0)
    lo = np.full(len(out), np.nan)
    hi = np.full(len(out), np.nan)
    if ok.any():
        lo[ok], hi[ok] = proportion_confint(kk[ok], nn[ok], alpha=alpha, method="wilson")
    for c, v in (("ci_lower", lo), ("ci_upper", hi)):
        out[c] = pd.array(v, dtype="Float64")
        out.loc[~ok, c] = pd.NA
    return out


def _effect_decimals(n_min: np.ndarray, cap: int = 3) -> np.ndarray:
    """Decimals of a published difference of shares: one step is at least 1 / (smaller group size).

    ``floor(log10(n))`` decimals: 10-99 persons -> 1 decimal, 100-999 -> 2, 1,000+ -> 3 (the cap,
    0.1 percentage point). A finer estimate next to rounded group sizes would pin the numerators
    ("3 of 47 participants employed"); at this precision every numerator of the one group is
    consistent with the published value for some numerator of the other.
    """
    n = np.maximum(np.asarray(n_min, dtype=float), 1.0)
    return np.clip(np.floor(np.log10(n)), 0, cap).astype(int)


def _protect_effects(df: pd.DataFrame, rules=sdc.CBS_RULES) -> pd.DataFrame:
    """``effects``: group sizes rounded; any estimate of a group with fewer than 10 treated or
    control rows suppressed (every method); naive differences (a difference of two shares) rounded
    to :func:`_effect_decimals` of the smaller group, their standard error likewise, and the
    interval recomputed from the rounded estimate and standard error."""
    out = df.reset_index(drop=True).copy()
    nt = pd.to_numeric(out["n_treated"]).to_numpy(dtype=float)
    nc = pd.to_numeric(out["n_control"]).to_numpy(dtype=float)
    small = (nt < rules.min_persons) | (nc < rules.min_persons)
    naive = (out["method"].astype(str) == "naive").to_numpy()
    dec = _effect_decimals(np.minimum(nt, nc))
    for c in ("estimate", "std_error", "ci_lower", "ci_upper"):
        out[c] = pd.to_numeric(out[c]).astype(float)
    est = out["estimate"].to_numpy().copy()
    se = out["std_error"].to_numpy().copy()
    for i in np.flatnonzero(naive):
        est[i] = round(est[i], int(dec[i]))
        se[i] = round(se[i], int(dec[i]))
    lo = np.where(naive, np.round(est - _Z95 * se, 12), out["ci_lower"].to_numpy())
    hi = np.where(naive, np.round(est + _Z95 * se, 12), out["ci_upper"].to_numpy())
    for i in np.flatnonzero(naive):
        lo[i], hi[i] = round(lo[i], int(dec[i])), round(hi[i], int(dec[i]))
    # a difference of shares bounds both shares: est = p_t - p_c puts p_t (and p_c) in an interval
    # of width 1 - |est|. When even the largest group size consistent with the rounded one times
    # that width leaves fewer than 10 persons (with or without the outcome), the estimate shows a
    # small count ("at most 6 of 12 participants found work"): suppressed.
    n_pub_lo = sdc.round_count(np.minimum(nt, nc).astype(np.int64), rules.rounding_base) - rules.rounding_base // 2
    step = 10.0 ** -dec
    bound = naive & (n_pub_lo * (1 - np.abs(est) - step / 2) < rules.min_persons)
    small = small | bound
    out["estimate"], out["std_error"], out["ci_lower"], out["ci_upper"] = est + 0.0, se + 0.0, lo + 0.0, hi + 0.0
    for c in ("n_treated", "n_control"):
        out[c] = pd.array(sdc.round_count(pd.to_numeric(out[c]).to_numpy().astype(np.int64), rules.rounding_base),
                          dtype="Int64")
        out.loc[small, c] = pd.NA
    out = _hide_floats(out, small)
    out["suppressed"] = small
    out["flag"] = np.where(bound & ~((nt < rules.min_persons) | (nc < rules.min_persons)),
                           f"implies <{rules.min_persons}", np.where(small, sdc._primary_flag(rules), ""))
    return out


def _protect_two_shares(df: pd.DataFrame, rules=sdc.CBS_RULES, alpha: float = 0.05) -> pd.DataFrame:
    """``sustainable_vs_short_by_programme``: two shares and their difference, every statistic
    recomputed from the published (rounded) persons and events of both groups; rows where a group,
    its events or its non-events number fewer than 10 are suppressed."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    out = df.reset_index(drop=True).copy()
    small = np.zeros(len(out), dtype=bool)
    for side in ("a", "b"):
        n = pd.to_numeric(out[f"persons_{side}"]).to_numpy(dtype=float)
        e = pd.to_numeric(out[f"events_{side}"]).to_numpy(dtype=float)
        small |= (n < rules.min_persons) | (e < rules.min_persons) | (n - e < rules.min_persons)
    pub = {}
    for c in ("persons_a", "events_a", "persons_b", "events_b"):
        pub[c] = sdc.round_count(pd.to_numeric(out[c]).to_numpy().astype(np.int64), rules.rounding_base)
        out[c] = pd.array(pub[c], dtype="Int64")
        out.loc[small, c] = pd.NA
    stats = {c: np.full(len(out), np.nan) for c in ("share_a", "share_b", "estimate", "std_error", "z",
                                                    "p_value", "ci_lower", "ci_upper")}
    for i in np.flatnonzero(~small):
        na, ka, nb, kb = (float(pub[c][i]) for c in ("persons_a", "events_a", "persons_b", "events_b"))
        pa, pb = ka / na, kb / nb
        stats["share_a"][i], stats["share_b"][i], stats["estimate"][i] = pa, pb, pa - pb
        stats["std_error"][i] = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
        with np.errstate(all="ignore"):
            lo, hi = confint_proportions_2indep(ka, na, kb, nb, method="newcomb", compare="diff", alpha=alpha)
            test = test_proportions_2indep(ka, na, kb, nb, method="score", compare="diff")
        stats["ci_lower"][i], stats["ci_upper"][i] = float(lo), float(hi)
        stats["z"][i], stats["p_value"][i] = float(test.statistic), float(test.pvalue)
    for c, v in stats.items():
        if c in out:
            out[c] = pd.array(v, dtype="Float64")
            out.loc[small, c] = pd.NA
    out["suppressed"] = small
    return out


def _hide_floats(df: pd.DataFrame, mask, cols=FLOAT_COLUMNS_HIDDEN_WITH_COUNT) -> pd.DataFrame:
    for c in cols:
        if c in df:
            df[c] = df[c].astype("Float64")
            df.loc[np.asarray(mask, dtype=bool), c] = pd.NA
    return df


def write_table(out_dir: Path, name: str, df: pd.DataFrame, records: list | None = None) -> Path:
    """Protect table ``name`` and write ``out_dir/tables/<name>.csv`` through the disclosure gate.

    ``records``: a list to which a :class:`TableRecord` of what was written (rule, cells
    suppressed) is appended, for :func:`write_disclosure_report`.
    """
    protected, counts = protect_table(name, df)
    path = sdc.write_protected_csv(protected, Path(out_dir) / "tables" / f"{name}.csv", name=name,
                                   count_cols=counts)
    if records is not None:
        records.append(table_record(name, protected, path, out_dir))
    return path


def write_cleaning_log(data, out_dir: Path, records: list | None = None) -> Path:
    """Write the input's cleaning log to ``out_dir/cleaning_log.csv`` through the disclosure gate.

    ``data``: an :class:`~reintegration_effects.dataset.InputData` (its ``log``) or the log itself
    (columns table, file, outcome, reason, rows). Row counts are rounded to 5 and counts below 10
    (zero included) are suppressed, as for any table: the log is shown in the report and leaves
    with the outputs. The report reads this protected file.
    """
    log = data if isinstance(data, pd.DataFrame) else data.log
    protected, counts = protect_table("cleaning_log", log)
    path = sdc.write_protected_csv(protected, Path(out_dir) / "cleaning_log.csv", name="cleaning_log",
                                   count_cols=counts)
    if records is not None:
        records.append(table_record("cleaning_log", protected, path, out_dir))
    return path


# ------------------------------------------------------------------------------------------------
# The export checklist: OUT/disclosure_report.md
# ------------------------------------------------------------------------------------------------

#: The rule each output table is published under (docs/disclosure.md has the details).
TABLE_RULES: dict[str, str] = {
    "flows": "counts: cells <10 (and 0) suppressed, secondary suppression against row totals, rounded to 5; "
             "the row total (cohort_persons) published rounded",
    "flows_by_group": "counts: as flows, with column totals per cohort, horizon and dimension; the row total "
                      "(group_persons) published rounded",
    "transitions": "counts of paths: cells <10 suppressed (secondary within cohort), rounded to 5",
    "typology": "counts: cells <10 suppressed (secondary within cohort), rounded to 5",
    "typology_profile": "shares: numerator, denominator and complement >=10; counts rounded to 5; "
                        "share computed from the rounded counts",
    "reentry": "shares: numerator, denominator and complement >=10; counts rounded to 5; share and "
               "Wilson interval computed from the rounded counts",
    "job_retention": "shares: as reentry (share and Wilson interval from the rounded counts)",
    "job_quality": "shares of a distribution: secondary suppression; share from the rounded counts",
    "career_clusters": "shares: numerator, denominator and complement >=10; share from rounded counts",
    "career_typical": "shares: as career_clusters",
    "career_state_shares": "shares of a distribution: secondary suppression; share from the rounded counts",
    "career_profile": "shares of a distribution: secondary suppression; share from the rounded counts",
    "career_quality": "model fit statistics (silhouette per k): no counts",
    "wages": "quantiles (q25, q50, q75) only with >=100 persons and never from a min or max; "
             "group sizes rounded to 5",
    "sustainable_vs_short_by_programme": "two shares and their difference: every group, its events and "
                                         "non-events >=10; statistics recomputed from the rounded counts",
    "effects": "estimates: rows with <10 treated or control rows suppressed (any method); naive "
               "differences rounded to 1/(smaller group) precision; group sizes rounded to 5; p_value and "
               "q_value (BH across groups) from the published rows only, empty where suppressed or naive",
    "effects_overlap": "shares off support: numerator, denominator and complement >=10; from rounded counts",
    "effects_curves": "model output (double-ML effect curves, issue 14a): points with <10 starts in the estimate "
                      "or <10 of them observed at that month suppressed; n_treated and n_at_risk rounded to 5",
    "effects_propensity": "histogram counts on fixed bins 0.00-0.05, ...: cells <10 suppressed, rounded to 5",
    "effects_balance": "standardised differences and variance ratios (aggregates of >=10 rows): no counts",
    "effects_blp": "model output: rows with <10 persons suppressed, persons rounded to 5",
    "effects_calibration": "model output: rows with <10 persons suppressed, persons rounded to 5",
    "effects_sensitivity": "model output: rows with <10 persons suppressed, persons rounded to 5",
    "policy": "model output (policy tree leaves): leaves with <10 persons suppressed, persons rounded to 5",
    "effects_heterogeneity": "test statistics per programme (joint Wald test of the BLP, calibration slope): "
                             "rows with <10 persons suppressed, persons rounded to 5",
    "effects_truth": "simulated truth (the built-in municipality's known effects, not person data): groups with "
                     "<10 simulated starts suppressed, n_treated rounded to 5; written for simulated runs only",
    "effects_plain_language": "sentences built from the protected effects table only",
    "risk_set_log": "counts per line: <10 (and 0) suppressed, rounded to 5",
    "cleaning_log": "counts per line: <10 (and 0) suppressed, rounded to 5",
    "km": "curve from protected counts: intervals merged until >=10 events, >=10 survivors; "
          "events and effective at-risk rounded to 5; survival and bands recomputed from them",
    "reentry_km": "curve from protected counts, as km; ci_lower/ci_upper are bands for survival",
    "cumulative_incidence": "curves from protected counts: intervals merged until every destination "
                            "has >=10 events; incidence and bands recomputed from the rounded counts",
    "medians": "median months (whole months) per group; groups <10 suppressed, persons rounded to 5",
    "hazards": "model output: >=10 residual df; terms with <10 persons or events suppressed; counts rounded",
    "cause_specific": "model output: as hazards",
    "timing_of_events": "model output (timing-of-events heterogeneity and implied effects): >=10 residual df; rows "
                        "with <10 persons (a mass point's expected persons, a programme's starters) suppressed, "
                        "persons rounded to 5",
    "ph_tests": "test statistics per model term (no counts)",
    "logrank": "test statistics per dimension (no counts)",
    "immortal_time": "hazard ratios of models that passed the model rule (no counts)",
    "flows_overig": "counts of the two parts of flows' overig: shown only where flows shows overig and both "
                    "parts have >=10 persons (else both suppressed); other_benefit rounded to 5, "
                    "no_work_or_benefit = published overig - published other_benefit, so the parts add up to "
                    "flows.csv",
    "programmes": "texts and costs from study.toml (no person data); participants: <10 (and 0) suppressed "
                  "with the row's cost, rounded to 5",
    "participation": "counts (participating yes/no per cohort, horizon, activity and group): cells <10 (and 0) "
                     "suppressed, secondary suppression against the group sizes and the totals per cohort, "
                     "horizon, activity and dimension, rounded to 5; status rows hidden where flows hides the "
                     "status; group_persons rounded; share from the rounded counts",
    "benchmark": "observed vs expected per municipality and indicator: rows with <10 persons, events or (shares) "
                 "non-events left out, so no municipality code appears beside a small count; counts rounded to 5; "
                 "observed share from the rounded counts, expected, differences and intervals to 1/(observations) "
                 "precision; medians in whole months",
}

# ------------------------------------------------------------------------------------------------
# One plan per published table, and the registry the writer, the checklist and the docs read
# ------------------------------------------------------------------------------------------------


def _with_row_total(protected: pd.DataFrame, df: pd.DataFrame, by: list[str], column: str) -> pd.DataFrame:
    """``protected`` with ``column``: the rounded exact total of ``persons`` per row ``by`` of ``df``.

    The row totals are the ones :func:`~reintegration_effects.disclosure.protect_counts` already
    treats as known (its secondary suppression protects every cell against them), so publishing
    them, rounded, reveals nothing the suppression pattern does not allow for; a total under the
    minimum cell size is suppressed (NA). The report uses it as the denominator of every share
    (the cohort or group size), so shares do not change denominator with the suppressed cells.
    """
    rules = sdc.CBS_RULES
    exact = pd.to_numeric(df["persons"], errors="coerce").fillna(0).groupby([df[c] for c in by]).sum()
    pub = exact.map(lambda x: sdc.round_count(x, rules.rounding_base) if x >= rules.min_persons else pd.NA)
    keys = pd.MultiIndex.from_frame(protected[by]) if len(by) > 1 else pd.Index(protected[by[0]])
    out = protected.copy()
    out[column] = pd.array(pub.reindex(keys).to_numpy(), dtype="Int64")
    return out


def _plan_flows(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of flows: see its rule in :data:`OUTPUT_TABLES`."""
    by = ["cohort", "horizon_months"]
    out = sdc.protect_counts(df, by=by, cell_col="status", col_totals=False)
    return _with_row_total(out, df, by, "cohort_persons"), ("persons", "cohort_persons")


def _plan_flows_by_group(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of flows_by_group: see its rule in :data:`OUTPUT_TABLES`."""
    by = ["cohort", "horizon_months", "dimension", "group"]
    out = sdc.protect_counts(df, by=by, cell_col="status", col_totals=("cohort", "horizon_months", "dimension"))
    return _with_row_total(out, df, by, "group_persons"), ("persons", "group_persons")


def _plan_transitions(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of transitions: see its rule in :data:`OUTPUT_TABLES`."""
    # one cell per path over every horizon of the study (status_<h>m columns, in horizon order)
    scols = sorted((c for c in df.columns if re.fullmatch(r"status_\d+m", str(c))), key=lambda c: int(c[7:-1]))
    path = pd.Series("", index=df.index, dtype=object)
    for i, c in enumerate(scols):
        path = path + (">" if i else "") + df[c].astype(object).where(df[c].notna(), "NA").astype(str)
    d = df.assign(path=path)
    out = sdc.protect_counts(d, by=["cohort"], cell_col="path", col_totals=False, complete=False)
    return out, ("persons",)


def _plan_typology(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of typology: see its rule in :data:`OUTPUT_TABLES`."""
    return sdc.protect_counts(df, by=["cohort"], cell_col="type", col_totals=False), ("persons",)


def _plan_typology_profile(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of typology_profile: see its rule in :data:`OUTPUT_TABLES`."""
    return sdc.protect_shares(df, numerator="persons", denominator="persons_total",
                              by=["cohort", "type", "dimension"], cell_col="group",
                              col_totals=("cohort", "dimension")), ("persons", "persons_total")


def _plan_reentry(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of reentry, job_retention, career_clusters, career_typical: see its rule in :data:`OUTPUT_TABLES`."""
    out = sdc.protect_shares(df, numerator="persons", denominator="persons_total")
    if {"ci_lower", "ci_upper"} <= set(out.columns):
        out = _wilson_from_published(out)
    return _hide_floats(out, out["share"].isna()), ("persons", "persons_total")


def _plan_job_quality(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of job_quality: see its rule in :data:`OUTPUT_TABLES`."""
    return sdc.protect_shares(df, numerator="persons", denominator="persons_total",
                              by=["cohort", "dimension"], cell_col="value", col_totals=False), (
        "persons", "persons_total")


def _plan_career_state_shares(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of career_state_shares: see its rule in :data:`OUTPUT_TABLES`."""
    return sdc.protect_shares(df, numerator="persons", denominator="persons_total", by=["cluster", "month"],
                              cell_col="state", col_totals=False), ("persons", "persons_total")


def _plan_career_profile(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of career_profile: see its rule in :data:`OUTPUT_TABLES`."""
    return sdc.protect_shares(df, numerator="persons", denominator="persons_total",
                              by=["cluster", "dimension"], cell_col="group", col_totals=("dimension",)), (
        "persons", "persons_total")


def _plan_wages(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of wages: see its rule in :data:`OUTPUT_TABLES`."""
    keys = [c for c in ("cohort", "dimension", "value") if c in df]
    return sdc.protect_quantiles(df["monthly_wage"], df[keys], rules=sdc.INCOME_RULES), ("persons",)


def _plan_sustainable_vs_short_by_programme(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of sustainable_vs_short_by_programme: see its rule in :data:`OUTPUT_TABLES`."""
    return _protect_two_shares(df), ("persons_a", "events_a", "persons_b", "events_b")


def _plan_career_quality(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of career_quality: see its rule in :data:`OUTPUT_TABLES`."""
    return df, ()


def _plan_effects(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of effects: see its rule in :data:`OUTPUT_TABLES`.

    ``p_value`` and ``q_value`` (:func:`~reintegration_effects.effects.add_multiplicity`) are
    computed after the protection, from the published rows only: a suppressed row has neither and
    is not part of its family, so no test statistic shows a hidden estimate.
    """
    from .effects import add_multiplicity

    return add_multiplicity(_protect_effects(df)), ("n_treated", "n_control")


def _plan_effects_curves(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of effects_curves: see its rule in :data:`OUTPUT_TABLES`. Every point is
    its own row (:func:`_rows`): a point resting on fewer than 10 starts, or fewer than 10 of them
    observed at that month, shows neither estimate nor interval nor band."""
    return _rows(df, ["n_treated", "n_at_risk"]), ("n_treated", "n_at_risk")


def _plan_effects_overlap(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of effects_overlap: see its rule in :data:`OUTPUT_TABLES`."""
    out = sdc.protect_shares(df.assign(on_support=df["n_treated"] - df["n_off_support"]),
                             numerator="n_off_support", denominator="n_treated")
    out = out.drop(columns=["on_support"])
    return out, ("n_off_support", "n_treated")


def _plan_effects_propensity(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of effects_propensity: see its rule in :data:`OUTPUT_TABLES`."""
    return sdc.protect_counts(df, by=["programme", "treated"], cell_col="bin", col_totals=False), ("persons",)


def _plan_risk_set_log(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of risk_set_log, cleaning_log: see its rule in :data:`OUTPUT_TABLES`."""
    col = "starts" if name == "risk_set_log" else "rows"
    return _rows(df, col), (col,)


def _plan_km(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of km, reentry_km: see its rule in :data:`OUTPUT_TABLES`."""
    return _protect_km(df), ("persons",)


def _plan_cumulative_incidence(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of cumulative_incidence: see its rule in :data:`OUTPUT_TABLES`."""
    return _protect_cumulative_incidence(df), ("persons", "events")


def _plan_medians(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of medians: see its rule in :data:`OUTPUT_TABLES`."""
    return _rows(df.drop(columns=["events"], errors="ignore"), "persons"), ("persons",)


def _plan_hazards(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of hazards, cause_specific: see its rule in :data:`OUTPUT_TABLES`."""
    counts = [c for c in ("n", "n_events", "term_n", "term_events") if c in df]
    return _rows(df, counts), tuple(counts)


def _plan_timing_of_events(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of timing_of_events: see its rule in :data:`OUTPUT_TABLES` (the model rule,
    >=10 residual degrees of freedom, is checked before the table is made)."""
    return _rows(df, "persons"), ("persons",)


def _plan_effects_blp(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of effects_blp, effects_calibration, effects_sensitivity, policy: see its rule in :data:`OUTPUT_TABLES`."""
    out = _rows(df, "persons")
    if "interpretation" in out:  # the sentence quotes the bounds: hidden with the floats
        out["interpretation"] = out["interpretation"].astype(object).where(~out["suppressed"], pd.NA)
    return out, ("persons",)


def _plan_effects_truth(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of effects_truth: see its rule in :data:`OUTPUT_TABLES`.

    Simulated, not person data; protected like ``effects`` all the same (a group with fewer than
    10 starts shows no truth), so it never shows more than the estimates beside it.
    """
    return _rows(df, "n_treated"), ("n_treated",)


def _plan_effects_plain_language(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of effects_plain_language: see its rule in :data:`OUTPUT_TABLES`. built from the already protected effects table."""
    return df, ()


def _plan_effects_balance(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of effects_balance, ph_tests, logrank, immortal_time: see its rule in :data:`OUTPUT_TABLES`."""
    return df, tuple(c for c in ("persons",) if c in df)


def _plan_flows_overig(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of flows_overig: see its rule in :data:`OUTPUT_TABLES`.

    The two details of a (cohort, horizon) add up to flows.csv's overig cell, which a reader knows
    when flows shows it. So: where flows suppresses overig (too small, or to protect another status
    of the row), both details are suppressed, else they would give overig back and with it the cell
    flows protects; where one detail has fewer than 10 persons (or none), both are suppressed, else
    the other and the published overig would give it back. Shown details: ``other_benefit``
    rounded to 5, ``no_work_or_benefit`` = published overig - published other_benefit (a multiple
    of 5 within 4 of its exact count, and at least 10 when that is): the parts add up to flows.csv
    exactly and say nothing about overig beyond its published value. ``persons_overig`` repeats
    flows.csv's overig; ``share_of_overig`` is computed from the published counts.

    ``df``: :func:`~reintegration_effects.flows.flows_overig`, whose ``attrs["flows"]`` holds the
    exact flows table of the same cohorts (its protection is redone here, the same as flows.csv's).
    """
    from .contract import OVERIG_DETAILS

    rules = sdc.CBS_RULES
    exact_flows = df.attrs.get("flows")
    if not isinstance(exact_flows, pd.DataFrame):
        raise ValueError("flows_overig: the exact flows table is missing (attrs['flows']); the breakdown cannot be "
                         "protected without it. Fix: build the table with flows.flows_overig(cohort_set)")
    by = ["cohort", "horizon_months"]
    out = df.reset_index(drop=True).copy()
    out.attrs = {}
    if set(out["detail"].astype(str)) - set(OVERIG_DETAILS) or out.groupby(by).size().ne(len(OVERIG_DETAILS)).any():
        raise ValueError(f"flows_overig: every (cohort, horizon_months) needs exactly the details {OVERIG_DETAILS}")
    exact = pd.to_numeric(out["persons"]).to_numpy().astype(np.int64)
    key = pd.MultiIndex.from_frame(out[by].astype({"cohort": str, "horizon_months": np.int64}))
    fl = exact_flows[exact_flows["status"].astype(str) == "overig"]
    fl_key = pd.MultiIndex.from_frame(fl[by].astype({"cohort": str, "horizon_months": np.int64}))
    overig_exact = pd.Series(pd.to_numeric(fl["persons"]).to_numpy(np.int64), index=fl_key).reindex(key)
    total = pd.Series(exact).groupby([out["cohort"].astype(str), out["horizon_months"]]).transform("sum").to_numpy()
    if overig_exact.isna().any() or (overig_exact.to_numpy() != total).any():
        raise ValueError("flows_overig: the details do not add up to the overig cells of attrs['flows']. "
                         "Fix: build both from the same cohort set (flows.flows_overig)")
    pub_flows, _ = protect_table("flows", exact_flows)
    pub_flows = pub_flows[pub_flows["status"].astype(str) == "overig"]
    pf_key = pd.MultiIndex.from_frame(pub_flows[by].astype({"cohort": str, "horizon_months": np.int64}))
    overig_pub = pd.Series(pd.to_numeric(pub_flows["persons"]).astype("Float64").to_numpy(), index=pf_key)
    overig_pub = overig_pub.reindex(key).to_numpy(dtype=float, na_value=np.nan)
    primary = exact < rules.min_persons if rules.suppress_zero else (exact > 0) & (exact < rules.min_persons)
    row_small = pd.Series(primary).groupby([out["cohort"].astype(str), out["horizon_months"]]).transform("any")
    hidden_total = np.isnan(overig_pub)
    suppressed = row_small.to_numpy(bool) | hidden_total
    other = out["detail"].astype(str).to_numpy() == "other_benefit"
    other_pub = pd.Series(np.where(other, sdc.round_count(exact, rules.rounding_base), 0)).groupby(
        [out["cohort"].astype(str), out["horizon_months"]]).transform("sum").to_numpy()
    shown = np.where(other, sdc.round_count(exact, rules.rounding_base), np.nan_to_num(overig_pub) - other_pub)
    out["persons"] = pd.array(np.where(suppressed, 0, shown).astype(np.int64), dtype="Int64")
    out.loc[suppressed, "persons"] = pd.NA
    out["persons_overig"] = pd.array(np.where(hidden_total, 0, np.nan_to_num(overig_pub)).astype(np.int64),
                                     dtype="Int64")
    out.loc[hidden_total, "persons_overig"] = pd.NA
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.round(shown / overig_pub, 3)
    out["share_of_overig"] = pd.array(np.where(suppressed, np.nan, share), dtype="Float64")
    out.loc[suppressed, "share_of_overig"] = pd.NA
    out["suppressed"] = suppressed
    out["flag"] = np.where(primary, sdc._primary_flag(rules),
                           np.where(hidden_total, f"{sdc.SECONDARY_FLAG} (overig suppressed in flows)",
                                    np.where(suppressed, sdc.SECONDARY_FLAG, "")))
    out.attrs[sdc.LAYOUT_ATTR] = sdc.TableLayout(by=tuple(by), cell_col="detail", count_col="persons",
                                                 col_totals=False)
    return out, ("persons", "persons_overig")


def _plan_programmes(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of programmes: see its rule in :data:`OUTPUT_TABLES`. The texts and costs come
    from study.toml, not from persons; the cost is hidden with a suppressed participant count only
    because the gate hides every number beside a count too small to show."""
    return _rows(df, "participants"), ("participants",)


def _plan_participation(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of participation (issue 16b): see its rule in :data:`OUTPUT_TABLES`.

    The layout of ``flows_by_group`` with the two cells participating yes / no in place of the
    statuses: a row is (cohort, horizon, activity, dimension, group) with its size as row total
    (published rounded as ``group_persons``), the columns add up over the groups of a dimension to
    the cohort's counts. Activities overlap (a person may do several), so they are protected as
    separate tables; ``any`` is not the sum of the activities. ``share`` = published yes /
    published group size, shown only where both are and the group has at least 10 persons.

    The groups of dimension ``status`` (the status on the same date) have the sizes of the cells of
    ``flows.csv``: where flows suppresses a status cell (small, or to protect another), that status
    row is suppressed here whole (yes, no, size; flag ``secondary (status suppressed in flows)``), so
    this table never gives back a cell flows protects. flows hides at least two cells of a row, so
    the hidden rows here are known only as the sums flows already shows. ``df.attrs["flows"]``: the
    exact flows table of the same cohorts (set by :func:`~reintegration_effects.participation.participation_table`).
    """
    rules = sdc.CBS_RULES
    by = ["cohort", "horizon_months", "activity", "dimension", "group"]
    df = df.reset_index(drop=True)
    exact_flows = df.attrs.get("flows")
    forced = np.zeros(len(df), dtype=bool)
    if (df["dimension"].astype(str) == "status").any():
        if not isinstance(exact_flows, pd.DataFrame):
            raise ValueError("participation: the exact flows table is missing (attrs['flows']); the status rows "
                             "cannot be protected without it. Fix: build the table with "
                             "participation.participation_table(cohort_set, data)")
        pub, _ = protect_table("flows", exact_flows)
        hidden = pub.loc[pub["persons"].isna(), ["cohort", "horizon_months", "status"]]
        hidden_keys = set(zip(hidden["cohort"].astype(str), hidden["horizon_months"].astype(np.int64),
                              "status=" + hidden["status"].astype(str), strict=True))
        keys = zip(df["cohort"].astype(str), df["horizon_months"].astype(np.int64), df["group"].astype(str),
                   strict=True)
        forced = (df["dimension"].astype(str) == "status").to_numpy() & np.array(
            [k in hidden_keys for k in keys], dtype=bool)
    rest = df[~forced].copy()
    rest.attrs = {}
    out = sdc.protect_counts(rest, by=by, cell_col="participating",
                             col_totals=("cohort", "horizon_months", "activity", "dimension"))
    layout = out.attrs.get(sdc.LAYOUT_ATTR)
    out = _with_row_total(out, rest, by, "group_persons")
    if forced.any():
        gone = df[forced].copy()
        gone.attrs = {}
        gone["persons"] = pd.array([pd.NA] * len(gone), dtype="Int64")
        gone["suppressed"] = True
        gone["flag"] = f"{sdc.SECONDARY_FLAG} (status suppressed in flows)"
        gone["group_persons"] = pd.array([pd.NA] * len(gone), dtype="Int64")
        order = pd.concat([out.assign(_i=np.flatnonzero(~forced)), gone.assign(_i=np.flatnonzero(forced))],
                          ignore_index=True).sort_values("_i", kind="mergesort")
        out = order.drop(columns="_i").reset_index(drop=True)
        out["persons"] = out["persons"].astype("Int64")
        out["group_persons"] = out["group_persons"].astype("Int64")
        out["suppressed"] = out["suppressed"].astype(bool)
    num = pd.to_numeric(out["persons"]).astype("Float64")
    den = pd.to_numeric(out["group_persons"]).astype("Float64")
    ok = num.notna() & den.notna() & (den >= rules.min_denominator)
    share = (num / den.where(den > 0)).round(3)
    out["share"] = share.where(ok).astype("Float64")
    out.attrs = {}
    if layout is not None:
        out.attrs[sdc.LAYOUT_ATTR] = layout
    return out, ("persons", "group_persons")


def _plan_benchmark(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The disclosure plan of benchmark (issue 16a): see its rule in :data:`OUTPUT_TABLES`. A row
    (municipality x indicator) with fewer than 10 persons, events or (for a share) non-events is left
    out, so the code of a municipality does not appear beside a small count; counts rounded to 5;
    ``observed`` of a share recomputed from the rounded counts; the other shares and differences
    rounded to 1/(observations) precision (:func:`_effect_decimals`); medians in whole months."""
    rules = sdc.CBS_RULES
    out = df.reset_index(drop=True).copy()
    persons = pd.to_numeric(out["persons"]).to_numpy(float)
    n = pd.to_numeric(out["observations"]).to_numpy(float)
    ev = pd.to_numeric(out["events"]).to_numpy(float)
    share = (out["indicator"].astype(str) != "median_duration").to_numpy()
    small = (persons < rules.min_persons) | (ev < rules.min_persons) | (share & (n - ev < rules.min_persons))
    out = out[~small].reset_index(drop=True)
    share = share[~small]
    for c in ("persons", "observations", "events"):
        out[c] = pd.array(sdc.round_count(pd.to_numeric(out[c]).to_numpy().astype(np.int64), rules.rounding_base),
                          dtype="Int64")
    dec = _effect_decimals(pd.to_numeric(out["observations"]).to_numpy(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        observed_pub = out["events"].to_numpy(float) / out["observations"].to_numpy(float)
    keep_exact = ("municipality", "indicator", "persons", "observations", "events", "own")
    for c in [c for c in out.columns if c not in keep_exact and pd.api.types.is_numeric_dtype(out[c])]:
        v = pd.to_numeric(out[c]).to_numpy(float).copy()
        if c == "observed":
            v = np.where(share, observed_pub, v)
        for i in np.flatnonzero(share & np.isfinite(v)):
            if c.startswith("ratio"):
                v[i] = round(v[i], 2)
            elif not c.startswith("rank"):
                v[i] = round(v[i], int(max(dec[i], 1)))
        out[c] = pd.array(v, dtype="Float64")
    out["suppressed"] = False
    out["flag"] = ""
    return out, ("persons", "observations", "events")


@dataclass(frozen=True)
class OutputTable:
    """One published table: its name, file in OUT, disclosure plan and the rule in words."""

    name: str
    file: str
    plan: Callable[[str, pd.DataFrame], tuple[pd.DataFrame, tuple[str, ...]]]
    rule: str


_PLANS = {
    "flows": _plan_flows,
    "flows_by_group": _plan_flows_by_group,
    "transitions": _plan_transitions,
    "typology": _plan_typology,
    "typology_profile": _plan_typology_profile,
    "reentry": _plan_reentry,
    "job_retention": _plan_reentry,
    "career_clusters": _plan_reentry,
    "career_typical": _plan_reentry,
    "job_quality": _plan_job_quality,
    "career_state_shares": _plan_career_state_shares,
    "career_profile": _plan_career_profile,
    "wages": _plan_wages,
    "sustainable_vs_short_by_programme": _plan_sustainable_vs_short_by_programme,
    "career_quality": _plan_career_quality,
    "effects": _plan_effects,
    "effects_overlap": _plan_effects_overlap,
    "effects_curves": _plan_effects_curves,
    "effects_propensity": _plan_effects_propensity,
    "risk_set_log": _plan_risk_set_log,
    "cleaning_log": _plan_risk_set_log,
    "km": _plan_km,
    "reentry_km": _plan_km,
    "cumulative_incidence": _plan_cumulative_incidence,
    "medians": _plan_medians,
    "hazards": _plan_hazards,
    "cause_specific": _plan_hazards,
    "timing_of_events": _plan_timing_of_events,
    "effects_blp": _plan_effects_blp,
    "effects_calibration": _plan_effects_blp,
    "effects_sensitivity": _plan_effects_blp,
    "policy": _plan_effects_blp,
    "effects_heterogeneity": _plan_effects_blp,
    "effects_truth": _plan_effects_truth,
    "effects_plain_language": _plan_effects_plain_language,
    "effects_balance": _plan_effects_balance,
    "ph_tests": _plan_effects_balance,
    "logrank": _plan_effects_balance,
    "immortal_time": _plan_effects_balance,
    "flows_overig": _plan_flows_overig,
    "programmes": _plan_programmes,
    "participation": _plan_participation,
    "benchmark": _plan_benchmark,
}
_missing_rules = sorted(set(_PLANS) ^ set(TABLE_RULES))
if _missing_rules:  # a plan without its rule text, or a rule without a plan: fix it here
    raise RuntimeError(f"outputs: plans and TABLE_RULES differ for {_missing_rules}")

#: Every table the run may publish (name -> :class:`OutputTable`). A table not listed here cannot
#: be written: add its plan and its rule text rather than bypass the gate.
OUTPUT_TABLES: dict[str, OutputTable] = {
    n: OutputTable(name=n, file="cleaning_log.csv" if n == "cleaning_log" else f"tables/{n}.csv", plan=plan,
                   rule=TABLE_RULES[n])
    for n, plan in _PLANS.items()
}


def protect_table(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The protected version of output table ``name`` and its count columns (for the gate)."""
    table = OUTPUT_TABLES.get(name)
    if table is None:
        raise KeyError(f"no disclosure plan for output table '{name}': add one in outputs.OUTPUT_TABLES")
    return table.plan(name, df)


#: Column names that hold counts of persons (or rows) in the published tables.
COUNT_COLUMNS = ("persons", "persons_total", "events", "n_treated", "n_control", "n_off_support", "persons_a",
                 "events_a", "persons_b", "events_b", "n", "n_events", "term_n", "term_events", "starts", "rows",
                 "persons_overig", "participants", "n_at_risk")


@dataclass(frozen=True)
class TableRecord:
    """What one written table publishes: for the export checklist."""

    name: str
    file: str
    rule: str
    rows: int
    count_cells: int  # published cells in count columns (shown or suppressed)
    suppressed_primary: int  # count cells hidden because the cell itself is too small
    suppressed_secondary: int  # count cells hidden to protect another cell
    rows_suppressed: int  # rows marked suppressed


def table_record(name: str, table: pd.DataFrame, path: Path, out_dir: Path | None = None) -> TableRecord:
    """The :class:`TableRecord` of a published (protected) table ``name`` written at ``path``."""
    path = Path(path)
    file = path.relative_to(out_dir).as_posix() if out_dir is not None and path.is_relative_to(out_dir) \
        else path.name
    counts = [c for c in COUNT_COLUMNS if c in table.columns]
    flags = table["flag"].fillna("").astype(str) if "flag" in table.columns else pd.Series("", index=table.index)
    secondary = flags.str.contains(sdc.SECONDARY_FLAG).to_numpy()
    na = table[counts].isna().to_numpy() if counts else np.zeros((len(table), 0), dtype=bool)
    n_secondary = int(na[secondary].sum())
    n_primary = int(na[~secondary].sum())
    rows_suppressed = int(table["suppressed"].fillna(False).astype(bool).sum()) if "suppressed" in table else 0
    return TableRecord(name=name, file=file, rule=OUTPUT_TABLES[name].rule if name in OUTPUT_TABLES else "see docs/disclosure.md",
                       rows=len(table), count_cells=int(na.size), suppressed_primary=n_primary,
                       suppressed_secondary=n_secondary, rows_suppressed=rows_suppressed)


def _records_from_files(out_dir: Path) -> list[TableRecord]:
    files = sorted((out_dir / "tables").glob("*.csv")) if (out_dir / "tables").is_dir() else []
    if (out_dir / "cleaning_log.csv").is_file():
        files.append(out_dir / "cleaning_log.csv")
    records = []
    for f in files:
        try:
            table = pd.read_csv(f, keep_default_na=False, na_values=[""])
        except pd.errors.EmptyDataError:
            table = pd.DataFrame()
        records.append(table_record(f.stem, table, f, out_dir))
    return records


def write_disclosure_report(out_dir: Path, records: list[TableRecord] | None = None,
                            rules: sdc.DisclosureRules = sdc.CBS_RULES) -> Path:
    """Write ``out_dir/disclosure_report.md``: the export checklist for the CBS output check.

    One line per table (file, rule applied, rows, count cells, cells suppressed as too small and
    as secondary), the rules in force, and every other file in ``out_dir`` that is not a checked
    table (to be checked by hand or left out of the export). ``records`` from :func:`write_table`
    (and :func:`write_cleaning_log`); None: read from the tables written in ``out_dir``.
    Returns the path written.
    """
    out_dir = Path(out_dir)
    records = _records_from_files(out_dir) if records is None else list(records)
    by_file = {r.file: r for r in records}  # a table written twice: the last write counts
    records = sorted(by_file.values(), key=lambda r: (r.file != "cleaning_log.csv", r.file))
    lines = [
        "# Disclosure checklist",
        "",
        "Export checklist for the CBS output check (generated by reintegration_effects; rules in "
        "`docs/disclosure.md`). Every table below was written through the disclosure gate, which refuses "
        "a table that breaks the rules.",
        "",
        f"Rules: every published count rests on at least {rules.min_persons} persons (zero cells "
        f"{'suppressed' if rules.suppress_zero else 'published'}); counts rounded to multiples of "
        f"{rules.rounding_base}; shares need a denominator of at least {rules.min_denominator} and are computed "
        f"from the rounded counts; quantiles of wages need at least 100 persons and never show a minimum or "
        f"maximum; models need at least {rules.min_model_df} residual degrees of freedom; survival curves "
        f"are published per interval with at least {rules.min_persons} events and are recomputed from the "
        "rounded counts.",
        "",
        "| file | rows | rule | count cells | suppressed (<10) | suppressed (secondary) | rows suppressed |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in records:
        lines.append(f"| `{r.file}` | {r.rows} | {r.rule} | {r.count_cells} | {r.suppressed_primary} | "
                     f"{r.suppressed_secondary} | {r.rows_suppressed} |")
    total_p = sum(r.suppressed_primary for r in records)
    total_s = sum(r.suppressed_secondary for r in records)
    lines += ["", f"{len(records)} tables; {total_p} cells suppressed as too small, {total_s} as secondary "
              "suppression.", ""]
    listed = {r.file for r in records} | {"disclosure_report.md", "manifest.json"}
    other = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()
                   and p.relative_to(out_dir).as_posix() not in listed)
    if other:
        lines += ["## Other files in this folder", "",
                  "Not checked by the table gate. Check by hand before export, or leave out of the export "
                  "(`input/` and `input_truth/` of a simulated run are person-level data: never export them; "
                  "figures in `report/` were checked for individual-level points only).", ""]
        lines += [f"- `{f}`" for f in other[:200]]
        if len(other) > 200:
            lines.append(f"- ... and {len(other) - 200} more")
        lines.append("")
    lines += ["## Before export", "",
              "- [ ] every table above is needed for the publication (leave out what is not)",
              "- [ ] no file from `input/` or any other person-level file is part of the export",
              "- [ ] tables that describe the same persons in different breakdowns were checked for "
              "differencing (rounded counts limit it to the rounding range)", ""]
    path = out_dir / "disclosure_report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
