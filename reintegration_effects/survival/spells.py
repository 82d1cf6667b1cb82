"""Spells from the panel: the spell table and the Kaplan-Meier, median, log-rank and incidence tables by group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..contract import age_band, group_label
from ..errors import InsufficientDataError
from ..panel import Panel
from .nonparametric import aalen_johansen, kaplan_meier, km_median, logrank_test, warn_left_out
from .settings import CAUSES, HISTORY_BANDS, HISTORY_COLUMNS, SPELL_GROUPS


@dataclass
class _Rows:
    """Person-months on bijstand, grouped by spell (rows of a spell contiguous, months ascending)."""

    pos: np.ndarray  # row positions in panel.months
    sid: np.ndarray  # spell id per row
    k: np.ndarray  # spell_month per row
    abs_m: np.ndarray  # absolute month number per row
    first_row: np.ndarray  # per spell id: index into rows of its first observed month (-1 = none)
    n_rows: np.ndarray  # per spell id: rows observed
    first_abs: np.ndarray  # per spell id: first observed absolute month


def spells_by_id(panel: Panel) -> pd.DataFrame:
    sp = panel.spells
    ids = sp["spell_id"].to_numpy()
    if len(ids) and not np.array_equal(ids, np.arange(len(sp))):
        sp = sp.set_index("spell_id").reindex(np.arange(int(ids.max()) + 1)).reset_index()
    return sp.reset_index(drop=True)


def bijstand_rows(panel: Panel) -> _Rows:
    m = panel.months
    sid_all = m["spell_id"].to_numpy()
    pos = np.flatnonzero(sid_all >= 0)
    if len(m) < 2 ** 31:  # int32 row arrays: half the memory of int64 at tens of millions of rows
        pos = pos.astype(np.int32)
    sid = sid_all[pos].astype(np.int32)
    abs_m = m["month_index"].to_numpy()[pos].astype(np.int32) + np.int32(panel.grid.first_window_month)
    if len(sid) > 1:
        same = sid[1:] == sid[:-1]
        if not (np.all(np.diff(abs_m)[same] == 1) and len(np.unique(sid[np.r_[True, ~same]])) == np.sum(np.r_[True, ~same])):
            order = np.lexsort((abs_m, sid))
            pos, sid, abs_m = pos[order], sid[order], abs_m[order]
    k = m["spell_month"].to_numpy()[pos].astype(np.int32)
    n_sp = len(panel.spells) and int(panel.spells["spell_id"].max()) + 1
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]]) if len(sid) else np.zeros(0, dtype=np.int64)
    first_row = np.full(n_sp, -1, dtype=np.int64)
    first_row[sid[starts]] = starts
    n_rows = np.bincount(sid, minlength=n_sp)
    first_abs = np.full(n_sp, np.iinfo(np.int32).max, dtype=np.int64)
    first_abs[sid[starts]] = abs_m[starts]
    return _Rows(pos, sid, k, abs_m, first_row, n_rows, first_abs)


def age_years(birth, at) -> np.ndarray:
    b = pd.DatetimeIndex(pd.to_datetime(pd.Series(birth)))
    a = pd.DatetimeIndex(pd.to_datetime(pd.Series(at)))
    y = a.year.to_numpy(float) - b.year.to_numpy(float)
    before = (a.month.to_numpy() < b.month.to_numpy()) | (
        (a.month.to_numpy() == b.month.to_numpy()) & (a.day.to_numpy() < b.day.to_numpy()))
    return y - before


def age_band_or_unknown(years) -> np.ndarray:
    years = np.asarray(years, float)
    return np.where(np.isnan(years), "unknown", age_band(np.nan_to_num(years)))


def history_band(v) -> np.ndarray:
    v = np.asarray(v, float)
    out = np.full(len(v), HISTORY_BANDS[-1][2], dtype=object)
    for lo, hi, lab in HISTORY_BANDS:
        out[(v >= lo) & (v <= hi)] = lab
    return out


def spell_attributes(panel: Panel, rows: _Rows | None = None) -> pd.DataFrame:
    """Per spell id (all spells): person code, group columns and history at the first observed month."""
    rows = bijstand_rows(panel) if rows is None else rows
    sp = spells_by_id(panel)
    persons = panel.persons.reset_index(drop=True)
    pcode = pd.Categorical(sp["person_id"].astype(str), categories=persons["person_id"].astype(str)).codes
    pcode = np.asarray(pcode, dtype=np.int64)
    ok = pcode >= 0
    pc = np.where(ok, pcode, 0)

    def person_col(col, default="unknown"):
        if col not in persons.columns or len(persons) == 0:
            return np.full(len(sp), default, dtype=object)
        v = persons[col].astype(object).to_numpy()[pc]
        v = np.where(ok, v, default)
        return np.where(pd.isna(v), default, v).astype(str)

    out = pd.DataFrame({"spell_id": np.arange(len(sp)), "person_code": pcode})
    out["sex"] = person_col("sex")
    out["migration_background"] = person_col("migration_background")
    out["education"] = person_col("education")
    birth = persons["birth_date"].to_numpy()[pc] if "birth_date" in persons else np.full(len(sp), np.datetime64("NaT"))
    out["age_band"] = age_band_or_unknown(age_years(birth, sp["start"]))
    fr = rows.first_row
    has = fr >= 0
    mpos = rows.pos[np.where(has, fr, 0)]
    m = panel.months
    hh = m["household"].iloc[mpos].astype(object).to_numpy() if len(m) else np.full(len(sp), None)
    out["household"] = np.where(has & ~pd.isna(hh), hh, "unknown").astype(str)
    k0 = rows.k[np.where(has, fr, 0)] if len(rows.k) else np.zeros(len(sp), dtype=np.int64)
    for c in HISTORY_COLUMNS:
        v = m[c].to_numpy()[mpos].astype(float) if len(m) else np.zeros(len(sp))
        if c == "hist_bijstand_36m":  # months of earlier spells only: drop the current spell's own months
            v = np.clip(v - np.minimum(k0, 36), 0, None)
        out[c] = np.where(has, v, np.nan)
    out["observed"] = has
    return out


def spell_table(panel: Panel) -> pd.DataFrame:
    """One row per bijstand spell at risk of outflow in the window (vectorised).

    Kept: spells covering a month end in the window with duration > entry. Columns: spell_id,
    person_id, start, entry (= months_before_window; > 0 for left-truncated spells), duration
    (the exit month for ended spells: the number of month ends on bijstand; for spells still on
    bijstand at the window's last month end one less, since whether they leave by the next month
    end is not observed), event (outflow observed: not right-censored),
    destination (werk / ww / overig; NA when censored), cause (0 censored, 1 werk, 2 elsewhere),
    sex, age_band (at the spell's start), migration_background, education, household (at the first
    observed month; 'unknown' without a household spell), hist_employed_36m, hist_bijstand_36m (months
    of earlier spells only), hist_ww_36m (at the first observed month).
    """
    rows = bijstand_rows(panel)
    sp = spells_by_id(panel)
    att = spell_attributes(panel, rows)
    censored = sp["right_censored"].to_numpy(bool)
    # a censored spell is on bijstand at the window's last month end: known to survive d - 1 intervals
    duration = sp["duration_months"].to_numpy(np.int64) - censored
    keep = (sp["covers_month_end"].fillna(False).to_numpy(bool) & sp["in_window"].fillna(False).to_numpy(bool)
            & (duration > sp["months_before_window"].to_numpy()) & att["observed"].to_numpy())
    s = sp.loc[keep]
    a = att.loc[keep]
    event = ~s["right_censored"].to_numpy(bool)
    dest = s["exit_destination"].astype(object).where(event, None)
    cause = np.where(~event, 0, np.where(dest.to_numpy() == "werk", 1, 2))
    out = pd.DataFrame({
        "spell_id": s["spell_id"].to_numpy() if "spell_id" in s else s.index.to_numpy(),
        "person_id": s["person_id"].astype(str).to_numpy(),
        "start": s["start"].to_numpy(),
        "entry": s["months_before_window"].to_numpy(np.int64),
        "duration": duration[keep],
        "event": event,
        "destination": pd.Categorical(dest, categories=["werk", "ww", "overig"]),
        "cause": cause.astype(np.int8),
    })
    for c in ("sex", "age_band", "migration_background", "education", "household", *HISTORY_COLUMNS):
        out[c] = a[c].to_numpy()
    return out.reset_index(drop=True)


def group_specs(frame: pd.DataFrame, by, dims: dict[str, str]) -> list[tuple[str, str, np.ndarray]]:
    """(dimension, group label, mask) for 'all' and each level of each requested dimension."""
    if by is None:
        by = ["all", *dims]
    elif isinstance(by, str):
        by = [by]
    out = []
    for dim in by:
        if dim == "all":
            out.append(("all", "all", np.ones(len(frame), dtype=bool)))
            continue
        if dim not in dims:
            raise ValueError(f"unknown group dimension {dim!r}; expected 'all' or one of {list(dims)}.")
        col = frame[dims[dim]].astype(str)
        for v in sorted(col.unique()):
            out.append((dim, group_label(dim, v), (col == v).to_numpy()))
    return out


def km_by_group(panel: Panel, data=None, *, by: str | Sequence[str] | None = None, alpha: float = 0.05,
                spells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Kaplan-Meier time to outflow (any destination) by target group, with confidence bands.

    ``by``: 'all' and/or group dimensions (sex, age, migration, household, education); default all.
    Time is months since the spell began, left-truncated spells enter at months_before_window.
    Columns: dimension, group ('all' or e.g. 'sex=F'), time, survival, ci_lower, ci_upper,
    persons (spells at risk of leaving in month t; a count to protect), events, censored.
    ``data`` is accepted for a uniform signature and not needed.
    """
    s = spell_table(panel) if spells is None else spells
    out, left_out = [], []
    for dim, label, m in group_specs(s, by, SPELL_GROUPS):
        if not m.any():
            continue
        try:
            t = kaplan_meier(s["duration"].to_numpy()[m], s["event"].to_numpy()[m], s["entry"].to_numpy()[m],
                             alpha=alpha)
        except InsufficientDataError:  # too few spells observed from their start: no curve for this group
            left_out.append(label)
            continue
        t.insert(0, "group", label)
        t.insert(0, "dimension", dim)
        out.append(t)
    warn_left_out("km", left_out)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["dimension", "group", "time", "survival", "ci_lower", "ci_upper", "persons", "events", "censored"])


def median_durations(panel: Panel, data=None, *, by: str | Sequence[str] | None = None, alpha: float = 0.05,
                     spells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median time to outflow (Kaplan-Meier, left-truncated) by group.

    Columns: dimension, group, median_months (inf when survival never drops to one half),
    ci_lower, ci_upper, persons (spells), events.
    """
    s = spell_table(panel) if spells is None else spells
    rows, left_out = [], []
    for dim, label, m in group_specs(s, by, SPELL_GROUPS):
        if not m.any():
            continue
        try:
            med, lo, hi = km_median(s["duration"].to_numpy()[m], s["event"].to_numpy()[m],
                                     s["entry"].to_numpy()[m], alpha)
        except InsufficientDataError:  # as in km_by_group
            left_out.append(label)
            continue
        rows.append({"dimension": dim, "group": label, "median_months": med, "ci_lower": lo, "ci_upper": hi,
                     "persons": int(m.sum()), "events": int(s["event"].to_numpy()[m].sum())})
    warn_left_out("medians", left_out)
    return pd.DataFrame(rows, columns=["dimension", "group", "median_months", "ci_lower", "ci_upper", "persons", "events"])


def logrank_by_group(panel: Panel, data=None, *, by: str | Sequence[str] | None = None,
                     spells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Log-rank tests of equal outflow hazards across the levels of each dimension (left truncation).

    Columns: dimension, groups (the labels compared), test_statistic, df, p_value.
    """
    s = spell_table(panel) if spells is None else spells
    dims = [d for d in (by if by is not None else SPELL_GROUPS) if d != "all"] if not isinstance(by, str) else [by]
    rows = []
    for dim in dims:
        g = s[SPELL_GROUPS[dim]].astype(str)
        if g.nunique() < 2:
            continue
        r = logrank_test(s["duration"], s["event"], g, s["entry"])
        rows.append({"dimension": dim, "groups": ", ".join(group_label(dim, v) for v in r["groups"]),
                     "test_statistic": r["test_statistic"], "df": r["df"], "p_value": r["p_value"]})
    return pd.DataFrame(rows, columns=["dimension", "groups", "test_statistic", "df", "p_value"])


def cumulative_incidence_by_group(panel: Panel, data=None, *, by: str | Sequence[str] | None = None,
                                  alpha: float = 0.05, spells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cumulative incidence of exit to work and exit elsewhere (Aalen-Johansen) by group.

    Columns: dimension, group, time, destination ('werk' or 'elsewhere'), cumulative_incidence,
    ci_lower, ci_upper, one_minus_km (the wrong curve, for the report's comparison: see
    :data:`reintegration_effects.plain_language.COMPETING_RISKS_TEXT`), survival (still on bijstand), persons (spells at risk),
    events (of this destination).
    """
    s = spell_table(panel) if spells is None else spells
    out = []
    for dim, label, m in group_specs(s, by, SPELL_GROUPS):
        if not m.any():
            continue
        aj = aalen_johansen(s["duration"].to_numpy()[m], s["cause"].to_numpy()[m], s["entry"].to_numpy()[m],
                            causes=(1, 2), alpha=alpha)
        aj["destination"] = aj["cause"].map(CAUSES)
        aj.insert(0, "group", label)
        aj.insert(0, "dimension", dim)
        out.append(aj)
    cols = ["dimension", "group", "time", "destination", "cumulative_incidence", "ci_lower", "ci_upper",
            "one_minus_km", "survival", "persons", "events"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)
