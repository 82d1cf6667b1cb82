"""Recipient types, re-entry, the first job after outflow, and group comparisons with honest CIs.

Reads a :class:`~reintegration_effects.flows.CohortSet` (cohort members, characteristics and
statuses; see :mod:`reintegration_effects.flows` for the cohort definitions) and the
:class:`~reintegration_effects.panel.Panel`. Every table is plain and unprotected; person counts
are integers in ``persons``, denominators in ``persons_total``.

**Typology** of each cohort member over the follow-up (the H month ends strictly after time zero,
H = the cohort's longest horizon that fits, 18 by default; month-end statuses from the panel).
Types are exclusive and assigned in this order:

1. ``recidivist``: two or more re-entries in the window (bijstand spells that start inside the
   study window and follow an earlier bijstand spell of the same person), whatever the follow-up
   shows;
2. ``continuous`` (stock cohorts only): on bijstand (with or without work) at every follow-up
   month end;
3. otherwise the person *left*: at time zero (outflow cohorts) or at the first follow-up month end
   off bijstand (stock cohorts). Then ``short_outflow``: back on bijstand at a later follow-up
   month end (left and came back); ``sustainable_work``: in work without bijstand (status werk) at
   every follow-up month end from leaving on; ``outflow_elsewhere``: left and did not come back,
   but not in work throughout (left to WW or other, or work that did not last).

**Re-entry** after an exit (outflow cohorts): a new bijstand spell starts within h months, i.e.
on or before time zero + ``pd.DateOffset(months=h)`` (exact dates, from the spell table's
``next_start``); the denominator is every member of the cohort (all left with a known
destination) and the horizons are those that fit the cohort.

**First job after outflow to work** (outflow members whose exit destination is werk): of the job
spells covering the first month end after the exit (the month end that made the destination
werk), the main job: highest monthly wage, then most hours, then earliest start (CBS's main-job
rule by wage). Hours bands are CBS's: under 12, 12-19, 20-34, 35 or more hours a week.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    test_proportions_2indep,
)

from .contract import CONTRACTS, EXIT_DESTINATIONS, SECTOR_NAMES, SECTORS, STATUS_ORDER
from .dataset import InputData
from .errors import StatisticalWarning
from .flows import (
    GROUPS,
    CohortSet,
    follow_up_statuses,
    group_labels,
    panel_status_matrix,
    resolve_groups,
    status_column,
)
from .panel import Panel

__all__ = [
    "CONTRACT_NAMES",
    "HOURS_BANDS",
    "HOURS_NAMES",
    "TYPES",
    "compare_proportions",
    "compare_types",
    "first_jobs",
    "hours_band",
    "job_quality",
    "job_retention",
    "reentry_rates",
    "typology",
    "typology_counts",
    "typology_profile",
    "typology_tables",
    "wage_values",
    "wilson_interval",
]

#: Recipient types, in table order.
TYPES = ("continuous", "sustainable_work", "short_outflow", "outflow_elsewhere", "recidivist")
#: Weekly hours bands of the first job (CBS: small part-time, large part-time, full-time).
HOURS_BANDS = ("<12", "12-19", "20-34", "35+")
UNKNOWN = "unknown"
#: Contract types named in Dutch and English.
CONTRACT_NAMES: dict[str, tuple[str, str]] = {
    "permanent": ("vast contract", "permanent"),
    "fixed_term": ("tijdelijk contract", "fixed-term"),
    "agency": ("uitzendkracht", "agency work"),
    "on_call": ("oproepkracht", "on-call work"),
    UNKNOWN: ("onbekend", "unknown"),
}
HOURS_NAMES: dict[str, tuple[str, str]] = {
    "<12": ("minder dan 12 uur", "under 12 hours"),
    "12-19": ("12 tot 20 uur", "12 to 19 hours"),
    "20-34": ("20 tot 35 uur", "20 to 34 hours"),
    "35+": ("35 uur of meer", "35 hours or more"),
    UNKNOWN: ("onbekend", "unknown"),
}
_SECTOR_NAMES = {**SECTOR_NAMES, UNKNOWN: ("onbekend", "unknown")}
_BIJ = np.array([s in ("bijstand", "bijstand_met_werk") for s in STATUS_ORDER])
_WERK = STATUS_ORDER.index("werk")

#: Characteristics in typology and job profiles: the flow groups plus programme participation.
PROFILE_EXTRA = {"programme": ("programme", ("yes", "no"))}


def wilson_interval(persons, persons_total, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for shares persons / persons_total (NaN where the total is 0)."""
    k = np.asarray(persons, dtype=float)
    n = np.asarray(persons_total, dtype=float)
    lo = np.full(k.shape, np.nan)
    hi = np.full(k.shape, np.nan)
    ok = n > 0
    if ok.any():
        lo[ok], hi[ok] = proportion_confint(k[ok], n[ok], alpha=alpha, method="wilson")
    return lo, hi


def _share_columns(out: pd.DataFrame, alpha: float) -> pd.DataFrame:
    k, n = out["persons"].to_numpy(), out["persons_total"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share"] = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    out["ci_lower"], out["ci_upper"] = wilson_interval(k, n, alpha)
    return out


# --------------------------------------------------------------------------------------------
# Typology
# --------------------------------------------------------------------------------------------


def _reentries_in_window(panel: Panel) -> pd.Series:
    sp = panel.spells
    inside = (sp["spell_number"] >= 2) & (sp["start"] >= panel.window_start) & (sp["start"] <= panel.window_end)
    return sp.loc[inside].groupby("person_id").size()


def typology(cs: CohortSet, panel: Panel) -> pd.DataFrame:
    """Each cohort member's type (see the module docstring).

    Columns: the columns of ``cs.members`` plus ``type`` (category, :data:`TYPES`; NA for a
    cohort with no horizon inside the window), ``follow_up_months`` (H), ``months_bijstand``
    (follow-up month ends on bijstand, with or without work), ``reentries_window`` (re-entries
    in the window, counted over the person's whole record in the window).
    """
    m = cs.members.copy()
    n = len(m)
    types = np.full(n, -1, dtype=np.int64)
    h_used = np.zeros(n, dtype=np.int64)
    months_bij = np.zeros(n, dtype=np.int64)
    reent = _reentries_in_window(panel)
    m["reentries_window"] = reent.reindex(m["person_id"].to_numpy()).fillna(0).astype(np.int64).to_numpy()
    matrix = panel_status_matrix(panel) if n else None
    code = {t: i for i, t in enumerate(TYPES)}
    for c in cs.cohorts:
        rows = np.flatnonzero(m["cohort"].to_numpy() == c.name)
        if len(rows) == 0:
            continue
        if not c.horizons:
            warnings.warn(f"cohort '{c.name}': no follow-up inside the window, no typology", StatisticalWarning,
                          stacklevel=2)
            continue
        H = max(c.horizons)
        sub = m.iloc[rows]
        st = follow_up_statuses(panel, sub["person_id"], sub["time_zero"], H, matrix)
        inside = (st >= 0).all(axis=1)
        if not inside.all():  # only for a cohort date whose month-end follow-up passes a mid-month window end
            warnings.warn(f"cohort '{c.name}': some persons' follow-up month ends run past the panel window "
                          f"(mid-month window end); their type is left NA", StatisticalWarning, stacklevel=2)
        onb = _BIJ[np.maximum(st, 0)]
        if c.kind == "stock":
            continuous = onb.all(axis=1)
            left_at = np.where(continuous, H, np.argmin(onb, axis=1))
        else:
            continuous = np.zeros(len(rows), dtype=bool)
            left_at = np.zeros(len(rows), dtype=np.int64)
        after = np.arange(H)[None, :] >= left_at[:, None]
        came_back = (onb & after).any(axis=1)
        work_through = ((st == _WERK) | ~after).all(axis=1)
        t = np.select([continuous, came_back, work_through],
                      [code["continuous"], code["short_outflow"], code["sustainable_work"]],
                      default=code["outflow_elsewhere"])
        t = np.where(m["reentries_window"].to_numpy()[rows] >= 2, code["recidivist"], t)
        types[rows] = np.where(inside, t, -1)
        h_used[rows] = H
        months_bij[rows] = onb.sum(axis=1)
    m["type"] = pd.Categorical.from_codes(types, categories=list(TYPES))
    m["follow_up_months"] = h_used
    m["months_bijstand"] = months_bij
    return m


def typology_counts(typ: pd.DataFrame) -> pd.DataFrame:
    """Persons per type per cohort.

    Columns: ``cohort``, ``type`` (every type in :data:`TYPES`, zero counts included; a stock
    cohort's ``continuous`` and an outflow cohort's, always 0, alike), ``persons`` (int64). The
    persons of a cohort add up to its size.
    """
    g = typ.groupby(["cohort", "type"], observed=False).size().rename("persons").reset_index()
    g["cohort"] = g["cohort"].astype(str)
    g["type"] = g["type"].astype(str)
    g["persons"] = g["persons"].astype(np.int64)
    return g


def _profile_dims(groups) -> dict[str, tuple[str, tuple[str, ...]]]:
    dims = resolve_groups(groups) if groups is not None else tuple(GROUPS)
    return {**{d: GROUPS[d] for d in dims}, **PROFILE_EXTRA}


def profile_shares(frame: pd.DataFrame, keys: Sequence[str], dims: dict) -> pd.DataFrame:
    """Counts of each characteristic value within every combination of ``keys`` (categoricals)."""
    pieces = []
    base = frame[list(keys)].copy()
    totals = base.groupby(list(keys), observed=False).size().rename("persons_total")
    for d, (col, values) in dims.items():
        g = group_labels(frame[col], d, values)
        t = base.assign(group=g).groupby([*keys, "group"], observed=False).size().rename("persons").reset_index()
        t.insert(len(keys), "dimension", d)
        pieces.append(t)
    out = pd.concat(pieces, ignore_index=True)
    out = out.merge(totals.reset_index(), on=list(keys), how="left")
    for k in keys:
        out[k] = out[k].astype(str)
    out["group"] = out["group"].astype(str)
    out["persons"] = out["persons"].astype(np.int64)
    out["persons_total"] = out["persons_total"].astype(np.int64)
    return out


def typology_profile(typ: pd.DataFrame, groups: Iterable[str] | None = None) -> pd.DataFrame:
    """Background characteristics of each type: counts per group within the type.

    Columns: ``cohort``, ``type`` (every type), ``dimension`` (the flow groups and
    ``programme``), ``group`` (e.g. ``sex=F``, ``programme=yes``; every value), ``persons`` (in
    the type with that characteristic), ``persons_total`` (in the type). Within a cohort, type and
    dimension the persons add up to ``persons_total``.
    """
    return profile_shares(typ, ["cohort", "type"], _profile_dims(groups))


def reentry_rates(cs: CohortSet, panel: Panel, *, by_destination: bool = True, alpha: float = 0.05) -> pd.DataFrame:
    """Share of each outflow cohort back on bijstand within 6, 12, 18 (the fitting horizons) months.

    Columns: ``cohort``, ``destination`` ('all', and with ``by_destination`` each exit destination
    werk / ww / overig), ``horizon_months``, ``persons`` (started a new bijstand spell within h
    months of the exit), ``persons_total`` (left), ``share``, ``ci_lower``, ``ci_upper`` (Wilson,
    level 1 - alpha).
    """
    m = cs.members
    nxt = panel.spells.set_index("spell_id")["next_start"]
    rows = []
    for c in cs.cohorts:
        if c.kind != "outflow":
            continue
        sub = m.loc[m["cohort"] == c.name]
        nstart = pd.to_datetime(nxt.reindex(sub["spell_id"].to_numpy()).to_numpy())
        dests = ["all"] + (list(EXIT_DESTINATIONS) if by_destination else [])
        for h in c.horizons:
            back = pd.notna(nstart) & (nstart <= (sub["time_zero"] + pd.DateOffset(months=h)).to_numpy())
            for d in dests:
                sel = np.ones(len(sub), dtype=bool) if d == "all" else (sub["exit_destination"] == d).to_numpy()
                rows.append((c.name, d, h, int((back & sel).sum()), int(sel.sum())))
    out = pd.DataFrame(rows, columns=["cohort", "destination", "horizon_months", "persons", "persons_total"])
    out = out.astype({"horizon_months": np.int64, "persons": np.int64, "persons_total": np.int64})
    return _share_columns(out, alpha)


# --------------------------------------------------------------------------------------------
# The first job after outflow to work
# --------------------------------------------------------------------------------------------


def hours_band(hours) -> np.ndarray:
    """CBS weekly hours band: '<12', '12-19', '20-34', '35+'; 'unknown' where hours are missing."""
    h = pd.to_numeric(pd.Series(hours), errors="coerce").to_numpy(dtype=float)
    return np.select([np.isnan(h), h < 12, h < 20, h < 35], [UNKNOWN, *HOURS_BANDS[:3]], default=HOURS_BANDS[3])


def first_jobs(data: InputData, cs: CohortSet) -> pd.DataFrame:
    """The first job of every outflow-cohort member who left bijstand for work.

    Columns: the columns of ``cs.members`` (outflow cohorts, exit destination werk), plus
    ``job_start``, ``job_end``, ``sector`` (SBI section letter or 'unknown'), ``sector_nl``,
    ``sector_en`` (:data:`~reintegration_effects.contract.SECTOR_NAMES`), ``contract``
    (permanent / fixed_term / agency / on_call / unknown), ``hours_per_week``, ``hours_band``,
    ``monthly_wage`` (gross euros; NaN if unknown), and ``off_bijstand_<h>m`` (boolean, NA where
    the horizon does not fit the cohort): not on bijstand (status neither bijstand nor
    bijstand_met_werk) h months after the exit.
    """
    m = cs.members
    out = m.loc[(m["kind"] == "outflow") & (m["exit_destination"] == "werk")].reset_index(drop=True)
    out["cohort"] = out["cohort"].cat.set_categories([c.name for c in cs.cohorts if c.kind == "outflow"])
    me = (out["time_zero"] + pd.Timedelta(days=1)) + pd.offsets.MonthEnd(0)
    jobs = data.jobs
    q = pd.DataFrame({"person_id": out["person_id"].to_numpy(), "date": me.to_numpy(), "qi": np.arange(len(out))})
    cols = ["sector", "contract", "hours_per_week", "monthly_wage"]
    j = jobs[["person_id", "start", "end"]].copy()
    for c in cols:
        j[c] = jobs[c] if c in jobs else np.nan
    j["person_id"] = j["person_id"].astype(str)
    hit = q.merge(j, on="person_id", how="inner")
    hit = hit.loc[(hit["start"] <= hit["date"]) & (hit["end"].isna() | (hit["end"] >= hit["date"]))].copy()
    hit["_w"] = pd.to_numeric(hit["monthly_wage"], errors="coerce")
    hit["_h"] = pd.to_numeric(hit["hours_per_week"], errors="coerce")
    hit = hit.sort_values(["qi", "_w", "_h", "start"], ascending=[True, False, False, True],
                          na_position="last", kind="mergesort").drop_duplicates("qi").set_index("qi")
    idx = pd.RangeIndex(len(out))
    out["job_start"] = pd.to_datetime(hit["start"].reindex(idx)).to_numpy()
    out["job_end"] = pd.to_datetime(hit["end"].reindex(idx)).to_numpy()
    sector = hit["sector"].reindex(idx).astype(object)
    sector = sector.where(sector.notna(), UNKNOWN).astype(str)
    out["sector"] = pd.Categorical(sector, categories=[*SECTORS, UNKNOWN])
    out["sector_nl"] = [_SECTOR_NAMES.get(s, (s, s))[0] for s in sector]
    out["sector_en"] = [_SECTOR_NAMES.get(s, (s, s))[1] for s in sector]
    contract = hit["contract"].reindex(idx).astype(object)
    out["contract"] = pd.Categorical(contract.where(contract.notna(), UNKNOWN).astype(str),
                                     categories=[*CONTRACTS, UNKNOWN])
    out["hours_per_week"] = hit["_h"].reindex(idx).to_numpy(dtype=float)
    out["hours_band"] = pd.Categorical(hours_band(out["hours_per_week"]), categories=[*HOURS_BANDS, UNKNOWN])
    out["monthly_wage"] = hit["_w"].reindex(idx).to_numpy(dtype=float)
    for h in cs.horizons:
        s = out[status_column(h)]
        off = ~s.isin(["bijstand", "bijstand_met_werk"])
        out[f"off_bijstand_{h}m"] = pd.array(np.where(s.isna(), None, off), dtype="boolean")
    return out


_JOB_DIMS = {
    "sector": ("sector", (*SECTORS, UNKNOWN), _SECTOR_NAMES),
    "contract": ("contract", (*CONTRACTS, UNKNOWN), CONTRACT_NAMES),
    "hours_band": ("hours_band", (*HOURS_BANDS, UNKNOWN), HOURS_NAMES),
}


def job_quality(jobs: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the first job's sector, contract and hours band per outflow cohort.

    Columns: ``cohort``, ``dimension`` (sector / contract / hours_band), ``value`` (SBI letter,
    contract, hours band or 'unknown'; every value, zero counts included), ``label_nl``,
    ``label_en``, ``persons`` (first jobs with that value), ``persons_total`` (persons who left
    for work in the cohort). Within a cohort and dimension the persons add up to ``persons_total``.
    """
    pieces = []
    cohorts = jobs["cohort"]
    for d, (col, values, names) in _JOB_DIMS.items():
        g = jobs.assign(_v=pd.Categorical(jobs[col].astype(str), categories=list(values)), _c=cohorts)
        t = g.groupby(["_c", "_v"], observed=False).size().rename("persons").reset_index()
        t.columns = ["cohort", "value", "persons"]
        t.insert(1, "dimension", d)
        t["label_nl"] = [names[v][0] for v in t["value"].astype(str)]
        t["label_en"] = [names[v][1] for v in t["value"].astype(str)]
        pieces.append(t)
    out = pd.concat(pieces, ignore_index=True)
    out["cohort"] = out["cohort"].astype(str)
    out["value"] = out["value"].astype(str)
    totals = jobs.groupby(cohorts, observed=True).size()
    out["persons_total"] = out["cohort"].map(totals.rename(index=str)).fillna(0).astype(np.int64)
    out["persons"] = out["persons"].astype(np.int64)
    return out[["cohort", "dimension", "value", "label_nl", "label_en", "persons", "persons_total"]]


def job_retention(jobs: pd.DataFrame, *, horizons: Sequence[int] | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Share still off bijstand h months after leaving for work, by the first job's characteristics.

    Columns: ``cohort``, ``dimension`` ('all', sector, contract, hours_band), ``value``,
    ``label_nl``, ``label_en``, ``horizon_months``, ``persons`` (off bijstand at h),
    ``persons_total`` (left for a job with that value, horizon inside the window), ``share``,
    ``ci_lower``, ``ci_upper`` (Wilson, level 1 - alpha). Values with no persons are left out.
    """
    if horizons is None:
        horizons = [int(c[len("off_bijstand_"):-1]) for c in jobs.columns if c.startswith("off_bijstand_")]
    rows = []
    dims = {"all": (None, ("all",), {"all": ("alle", "all")}), **_JOB_DIMS}
    for h in horizons:
        off = jobs[f"off_bijstand_{h}m"]
        known = off.notna().to_numpy()
        offv = off.fillna(False).to_numpy(dtype=bool)
        for d, (col, values, names) in dims.items():
            v = np.full(len(jobs), "all", dtype=object) if col is None else jobs[col].astype(str).to_numpy()
            g = pd.DataFrame({"cohort": jobs["cohort"].astype(str).to_numpy(), "value": v,
                              "off": offv & known, "known": known})
            t = g.groupby(["cohort", "value"], sort=False).agg(persons=("off", "sum"), persons_total=("known", "sum"))
            t = t.reset_index()
            t = t.loc[t["persons_total"] > 0]
            order = {x: i for i, x in enumerate(values)}
            t = t.assign(_o=t["value"].map(order)).sort_values(["cohort", "_o"], kind="mergesort").drop(columns="_o")
            t.insert(1, "dimension", d)
            t["label_nl"] = [names.get(x, (x, x))[0] for x in t["value"]]
            t["label_en"] = [names.get(x, (x, x))[1] for x in t["value"]]
            t["horizon_months"] = int(h)
            rows.append(t)
    cols = ["cohort", "dimension", "value", "label_nl", "label_en", "horizon_months", "persons", "persons_total"]
    out = pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)
    out = out.astype({"horizon_months": np.int64, "persons": np.int64, "persons_total": np.int64})
    return _share_columns(out.reset_index(drop=True), alpha)


def wage_values(jobs: pd.DataFrame, dimensions: Sequence[str] = ("contract", "hours_band", "sector")) -> pd.DataFrame:
    """Raw gross monthly wages of the first jobs, grouped, for the disclosure module's quantiles.

    Not for output as such: pass ``monthly_wage`` with the group columns to
    :func:`reintegration_effects.disclosure.protect_quantiles` (with the income rules).

    Columns: ``cohort``, ``dimension`` ('all' and each of ``dimensions``), ``value`` ('all' or
    the job's value), ``monthly_wage`` (float): one row per first job with a known wage per
    dimension. No person identifiers.
    """
    ok = jobs["monthly_wage"].notna().to_numpy()
    base = jobs.loc[ok]
    pieces = [pd.DataFrame({"cohort": base["cohort"].astype(str).to_numpy(), "dimension": "all", "value": "all",
                            "monthly_wage": base["monthly_wage"].to_numpy(dtype=float)})]
    for d in dimensions:
        col = _JOB_DIMS[d][0]
        pieces.append(pd.DataFrame({"cohort": base["cohort"].astype(str).to_numpy(), "dimension": d,
                                    "value": base[col].astype(str).to_numpy(),
                                    "monthly_wage": base["monthly_wage"].to_numpy(dtype=float)}))
    return pd.concat(pieces, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Group comparisons
# --------------------------------------------------------------------------------------------

COMPARISON_COLUMNS = ("outcome", "group_a", "group_b", "persons_a", "events_a", "share_a", "persons_b", "events_b",
                      "share_b", "estimate", "std_error", "z", "p_value", "ci_lower", "ci_upper")


def compare_proportions(frame: pd.DataFrame, outcome: str, by: str, *, a=None, b=None,
                        strata: Sequence[str] = ("cohort",), subset=None, alpha: float = 0.05,
                        method: str = "newcomb") -> pd.DataFrame:
    """Difference in a binary outcome between two groups, with its confidence interval.

    ``frame[outcome]`` is boolean (rows where it is NA are left out); ``frame[by]`` holds the
    groups; ``a`` and ``b`` are the two values compared (default: True/False for a boolean ``by``,
    else its two values, sorted). One row per combination of ``strata`` (e.g. per cohort; pass
    ``()`` to pool). ``subset`` (boolean mask) restricts the rows first.

    The estimate is share_a - share_b. ``ci_lower``/``ci_upper``: statsmodels
    ``confint_proportions_2indep`` (default ``method='newcomb'``, Newcomb's hybrid score interval,
    which keeps its coverage for small groups and shares near 0 or 1); ``z`` and ``p_value``: the
    score test (``test_proportions_2indep``, method 'score'); ``std_error``: the unpooled Wald
    standard error sqrt(pa(1-pa)/na + pb(1-pb)/nb).

    Columns: the ``strata``, ``outcome``, ``group_a``, ``group_b``, ``persons_a``, ``events_a``
    (persons with the outcome), ``share_a``, ``persons_b``, ``events_b``, ``share_b``,
    ``estimate``, ``std_error``, ``z``, ``p_value``, ``ci_lower``, ``ci_upper``. Person counts
    are integers; a group with no persons gives NaN statistics.
    """
    for col in (outcome, by, *strata):
        if col not in frame:
            raise ValueError(f"column '{col}' not found; columns are {list(frame.columns)}")
    f = frame if subset is None else frame.loc[np.asarray(subset, dtype=bool)]
    f = f.loc[f[outcome].notna()]
    if a is None or b is None:
        if f[by].dtype == bool or str(f[by].dtype) == "boolean":
            a, b = True, False
        else:
            vals = sorted(pd.unique(f[by].dropna().astype(str)))
            if len(vals) != 2:
                raise ValueError(f"column '{by}' has {len(vals)} values {vals[:10]}; pass a= and b= to choose two")
            a, b = vals
    groups = [((), f)] if not strata else list(f.groupby(list(strata), observed=True, sort=True))
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        gv = g[by].astype(str) if not isinstance(a, bool) else g[by].astype(bool)
        ya = g.loc[(gv == a).to_numpy(), outcome].astype(bool)
        yb = g.loc[(gv == b).to_numpy(), outcome].astype(bool)
        na, nb, ka, kb = len(ya), len(yb), int(ya.sum()), int(yb.sum())
        row = dict(zip(strata, key, strict=True))
        row.update(outcome=outcome, group_a=str(a), group_b=str(b), persons_a=na, events_a=ka, persons_b=nb,
                   events_b=kb)
        stats = dict.fromkeys(("share_a", "share_b", "estimate", "std_error", "z", "p_value", "ci_lower",
                               "ci_upper"), np.nan)
        if na > 0 and nb > 0:
            pa, pb = ka / na, kb / nb
            se = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                lo, hi = confint_proportions_2indep(ka, na, kb, nb, method=method, compare="diff", alpha=alpha)
                test = test_proportions_2indep(ka, na, kb, nb, method="score", compare="diff")
            stats.update(share_a=pa, share_b=pb, estimate=pa - pb, std_error=se, z=float(test.statistic),
                         p_value=float(test.pvalue), ci_lower=float(lo), ci_upper=float(hi))
        row.update(stats)
        rows.append(row)
    out = pd.DataFrame(rows, columns=[*strata, *COMPARISON_COLUMNS])
    return out.astype({c: np.int64 for c in ("persons_a", "events_a", "persons_b", "events_b")})


def compare_types(typ: pd.DataFrame, by: str = "programme", *, success: str = "sustainable_work",
                  failure: str = "short_outflow", a=None, b=None, strata: Sequence[str] = ("cohort",),
                  alpha: float = 0.05) -> pd.DataFrame:
    """Share ``success`` among those of type ``success`` or ``failure``, compared between groups.

    E.g. sustainable vs short outflow by programme participation: of those who left (to work
    for good, or for a while), how many more stayed out among programme participants? The
    outcome column is named ``<success>_vs_<failure>``. Columns as :func:`compare_proportions`.
    """
    name = f"{success}_vs_{failure}"
    sel = typ["type"].isin([success, failure]).to_numpy()
    f = typ.assign(**{name: (typ["type"] == success).to_numpy()})
    return compare_proportions(f, name, by, a=a, b=b, strata=strata, subset=sel, alpha=alpha)


# --------------------------------------------------------------------------------------------
# All tables at once
# --------------------------------------------------------------------------------------------


def typology_tables(data: InputData, panel: Panel, cs: CohortSet, *, alpha: float = 0.05) -> dict[str, pd.DataFrame]:
    """Every typology and job-quality table for a :class:`~reintegration_effects.flows.CohortSet`.

    Keys: ``typology`` (:func:`typology_counts`), ``typology_profile``, ``reentry``
    (:func:`reentry_rates`), ``job_quality``, ``job_retention``, ``wages`` (:func:`wage_values`:
    raw values for the disclosure module's quantiles, not for output as they are),
    ``sustainable_vs_short_by_programme`` (:func:`compare_types`). Unprotected.
    """
    typ = typology(cs, panel)
    jobs = first_jobs(data, cs)
    return {
        "typology": typology_counts(typ),
        "typology_profile": typology_profile(typ, cs.groups),
        "reentry": reentry_rates(cs, panel, alpha=alpha),
        "job_quality": job_quality(jobs),
        "job_retention": job_retention(jobs, alpha=alpha),
        "wages": wage_values(jobs),
        "sustainable_vs_short_by_programme": compare_types(typ, "programme", alpha=alpha),
    }
