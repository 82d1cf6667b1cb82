"""Cohorts and flow tables: where the people on bijstand are 6, 12 and 18 months later.

Definitions (the contract's names; every table is plain and unprotected: the pipeline passes it
through :mod:`reintegration_effects.disclosure` before it leaves the package):

- **Stock cohort** ``stock_YYYY-MM-DD``: everyone on bijstand (status bijstand or
  bijstand_met_werk, i.e. covered by a bijstand spell) on that exact date. Time zero is that date;
  the person's *spell* is the bijstand spell covering it (the earliest-starting one if spells
  overlap).
- **Outflow cohort** ``outflow_YYYY``: everyone whose bijstand spell ended in that calendar year
  with a known destination (a finite end inside the window that is not right-censored, so the
  panel's ``exit_destination`` is werk / ww / overig). One row per person: their first exit in
  that year. Time zero is the spell's last day.
- **Status h months later**: the contract status on the exact date ``time zero +
  pd.DateOffset(months=h)`` (clipped to the month's last day, e.g. 31 August + 6 months = 28/29
  February), from :func:`reintegration_effects.panel.status_on`.
- A horizon *fits* a cohort when its latest time zero (the stock date, or 31 December of the
  outflow year) plus h months lies on or before the window end. Horizons that do not fit are left
  out for that cohort (a :class:`~reintegration_effects.errors.StatisticalWarning` says so).
- **Default cohorts** (when neither the caller nor ``study.toml`` names any): a stock cohort on 1
  January of every window year and an outflow cohort for every calendar year that lies wholly in
  the window, each only if its longest horizon fits.
- **Groups** (at time zero): sex; age band (completed years at time zero); migration background;
  education; household position on time zero from the household spells ('unknown' if none covers
  it); prior bijstand duration in completed years, ``duration=<1y`` (0), ``1-2y`` (1), ``2-5y``
  (2-4), ``5+y`` (5 or more): the elapsed duration of the current spell at time zero (time zero
  minus spell start) for stock cohorts, the length of the spell that ended (last day + 1 minus
  start) for outflow cohorts. A spell that began before the data starts has its duration counted
  from the first day in the data.
- **'Overig' broken down** (``flows_overig``): a person whose status h months later is overig
  either has a benefit spell 'other' covering that date (``other_benefit``: e.g. AOW, WIA/WAO,
  Wajong, ANW) or no registered work or benefit at all (``no_work_or_benefit``). The two details
  of a cohort and horizon add up to its overig count in ``flows``.
- **Programme** (for group comparisons): a programme started in the bijstand spell on or before
  time zero (linked to the spell by the package's one rule,
  :func:`~reintegration_effects.panel.link_programme_starts`: the spell covering the end of the
  start month).

Everything is vectorised over persons: cohort membership and group positions are merges of
cohort members with spell tables, statuses are one :func:`status_on` call per cohort.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .contract import (
    AGE_BANDS,
    DEFAULT_HORIZONS,
    EDUCATION,
    EXIT_DESTINATIONS,
    FLOWS_COLUMNS,
    FLOWS_OVERIG_COLUMNS,
    GROUP_DIMENSIONS,
    HOUSEHOLD_POSITIONS,
    MIGRATION,
    OVERIG_DETAILS,
    PROGRAMMES_COLUMNS,
    SEX,
    STATUS_ORDER,
    age_band,
    group_label,
    outflow_cohort_name,
    stock_cohort_name,
)
from .dataset import InputData
from .errors import StatisticalWarning
from .io import programme_info
from .panel import Panel, benefit_on, build_panel, link_programme_starts, month_number, status_on

__all__ = [
    "BIJSTAND_STATUSES",
    "DURATION_BANDS",
    "GROUPS",
    "Cohort",
    "CohortSet",
    "build_cohorts",
    "default_cohorts",
    "duration_band",
    "flow_tables",
    "flows",
    "first_month_after",
    "flows_by_group",
    "flows_overig",
    "follow_up_statuses",
    "group_codes",
    "group_labels",
    "other_benefit_column",
    "panel_status_matrix",
    "parse_cohort",
    "programmes_table",
    "status_column",
    "transitions",
]

#: Statuses that mean "on bijstand" (with or without work).
BIJSTAND_STATUSES = ("bijstand", "bijstand_met_werk")
#: Prior bijstand duration bands (completed years 0, 1, 2-4, 5+).
DURATION_BANDS = ("<1y", "1-2y", "2-5y", "5+y")
UNKNOWN = "unknown"

#: Breakdown dimensions: label prefix -> (column of :attr:`CohortSet.members`, values in table order).
#: The contract's dimensions, household with 'unknown' added, plus prior bijstand duration.
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sex": ("sex", SEX),
    "age": ("age_band", AGE_BANDS),
    "migration": ("migration_background", MIGRATION),
    "household": ("household", (*HOUSEHOLD_POSITIONS, UNKNOWN)),
    "education": ("education", EDUCATION),
    "duration": ("duration_band", DURATION_BANDS),
}
assert all(GROUPS[k][0] == v[0] for k, v in GROUP_DIMENSIONS.items())

_STOCK = re.compile(r"^stock_(\d{4}-\d{2}-\d{2})$")
_OUTFLOW = re.compile(r"^outflow_(\d{4})$")


def status_column(h: int) -> str:
    """Column of :attr:`CohortSet.members` with the status ``h`` months after time zero."""
    return f"status_{int(h)}m"


def other_benefit_column(h: int) -> str:
    """Column of :attr:`CohortSet.members`: an 'other' benefit covers the date ``h`` months after time zero."""
    return f"other_benefit_{int(h)}m"


# --------------------------------------------------------------------------------------------
# Cohort names and horizons
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    """One cohort: its contract name, kind ('stock' or 'outflow') and the horizons that fit."""

    name: str
    kind: str
    date: pd.Timestamp | None = None  # stock: the date
    year: int | None = None  # outflow: the calendar year
    horizons: tuple[int, ...] = ()

    @property
    def first_time_zero(self) -> pd.Timestamp:
        return self.date if self.kind == "stock" else pd.Timestamp(self.year, 1, 1)

    @property
    def last_time_zero(self) -> pd.Timestamp:
        return self.date if self.kind == "stock" else pd.Timestamp(self.year, 12, 31)

    def fits(self, h: int, window_end) -> bool:
        """True when the follow-up of ``h`` months ends inside the window for every member."""
        return self.last_time_zero + pd.DateOffset(months=int(h)) <= pd.Timestamp(window_end)


def parse_cohort(name: str) -> Cohort:
    """``'stock_2016-01-01'`` or ``'outflow_2017'`` -> :class:`Cohort` (horizons not yet set)."""
    s = str(name).strip()
    m = _STOCK.match(s)
    if m:
        try:
            date = pd.Timestamp(m.group(1))
        except ValueError:
            date = None
        if date is not None:
            return Cohort(stock_cohort_name(date), "stock", date=date)
    m = _OUTFLOW.match(s)
    if m:
        return Cohort(outflow_cohort_name(int(m.group(1))), "outflow", year=int(m.group(1)))
    raise ValueError(
        f"cohort '{name}' is not a cohort name: expected 'stock_YYYY-MM-DD' (everyone on bijstand on "
        f"that date, e.g. 'stock_2016-01-01') or 'outflow_YYYY' (everyone who left bijstand in that "
        f"year, e.g. 'outflow_2017'). Fix: correct the name in study.toml, key 'cohorts'."
    )


def default_cohorts(window_start, window_end, horizons: Sequence[int] = DEFAULT_HORIZONS) -> list[str]:
    """Default cohort names: a stock cohort on 1 January of every window year and an outflow
    cohort for every calendar year wholly inside the window, each only if its longest horizon fits.
    """
    ws, we = pd.Timestamp(window_start), pd.Timestamp(window_end)
    h = max(int(x) for x in horizons) if len(horizons) else 0
    stocks, outflows = [], []
    for year in range(ws.year, we.year + 1):
        jan1 = pd.Timestamp(year, 1, 1)
        if jan1 >= ws and jan1 + pd.DateOffset(months=h) <= we:
            stocks.append(stock_cohort_name(jan1))
        dec31 = pd.Timestamp(year, 12, 31)
        if jan1 >= ws and dec31 + pd.DateOffset(months=h) <= we:
            outflows.append(outflow_cohort_name(year))
    return stocks + outflows


def _resolve(data: InputData, cohorts, horizons) -> tuple[list[Cohort], tuple[int, ...]]:
    if horizons is None:
        horizons = data.study.horizons if data.study and data.study.horizons else DEFAULT_HORIZONS
    horizons = tuple(sorted({int(h) for h in horizons}))
    if not horizons or min(horizons) < 1:
        raise ValueError(f"horizons must be whole months >= 1; found {list(horizons)}. "
                         f"Fix: set study.toml 'horizons', e.g. [6, 12, 18].")
    ws, we = pd.Timestamp(data.window_start), pd.Timestamp(data.window_end)
    if cohorts is None:
        cohorts = data.study.cohorts if data.study and data.study.cohorts else None
    if cohorts is None:
        names = default_cohorts(ws, we, horizons)
        if not names:
            warnings.warn(f"the window {ws:%Y-%m-%d} to {we:%Y-%m-%d} is too short for any default "
                          f"cohort with a {max(horizons)}-month follow-up; no cohorts", StatisticalWarning,
                          stacklevel=3)
    else:
        names = [cohorts] if isinstance(cohorts, str) else list(cohorts)
    out, seen = [], set()
    for name in names:
        c = parse_cohort(name)
        if c.name in seen:
            continue
        seen.add(c.name)
        if c.last_time_zero < ws or c.first_time_zero > we:
            raise ValueError(
                f"cohort '{c.name}' lies outside the window {ws:%Y-%m-%d} to {we:%Y-%m-%d}. Fix: choose a "
                f"cohort inside the window in study.toml, key 'cohorts', or widen the window."
            )
        if c.kind == "outflow" and (c.first_time_zero < ws or c.last_time_zero > we):
            warnings.warn(f"cohort '{c.name}' lies only partly in the window {ws:%Y-%m-%d} to {we:%Y-%m-%d}: "
                          f"only exits inside the window are counted", StatisticalWarning, stacklevel=3)
        fit = tuple(h for h in horizons if c.fits(h, we))
        if len(fit) < len(horizons):
            dropped = [h for h in horizons if h not in fit]
            warnings.warn(f"cohort '{c.name}': the follow-up of {dropped} months runs past the window end "
                          f"{we:%Y-%m-%d}; those horizons are left out for this cohort", StatisticalWarning,
                          stacklevel=3)
        out.append(Cohort(c.name, c.kind, c.date, c.year, fit))
    return out, horizons


# --------------------------------------------------------------------------------------------
# Cohort members and their characteristics at time zero
# --------------------------------------------------------------------------------------------


def completed_years(start, end) -> np.ndarray:
    """Whole years from ``start`` to ``end`` (like an age), vectorised."""
    s, e = pd.DatetimeIndex(start), pd.DatetimeIndex(end)
    years = e.year.to_numpy() - s.year.to_numpy()
    before = (e.month.to_numpy() * 100 + e.day.to_numpy()) < (s.month.to_numpy() * 100 + s.day.to_numpy())
    return years - before.astype(int)


def duration_band(years) -> np.ndarray:
    """Duration band for completed years on bijstand: 0 -> '<1y', 1 -> '1-2y', 2-4 -> '2-5y', 5+ -> '5+y'."""
    y = np.asarray(years)
    return np.select([y < 1, y < 2, y < 5], list(DURATION_BANDS[:3]), default=DURATION_BANDS[3])


def _covering(q_pid: np.ndarray, q_date: np.ndarray, spells: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """For each query (person, date), the first spell (by start) covering the date; NA if none.

    Returns a frame aligned with the queries (index 0..n-1) with ``cols`` of the spell.
    """
    n = len(q_pid)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    if len(spells) == 0 or n == 0:
        for c in cols:
            out[c] = pd.Series([pd.NA] * n, dtype="object")
        return out
    q = pd.DataFrame({"person_id": q_pid, "date": q_date, "qi": np.arange(n)})
    s = spells[["person_id", "start", "end", *[c for c in cols if c not in ("start", "end")]]].copy()
    s["person_id"] = s["person_id"].astype(str)
    m = q.merge(s, on="person_id", how="inner")
    ok = (m["start"] <= m["date"]) & (m["end"].isna() | (m["end"] >= m["date"]))
    m = m.loc[ok].sort_values(["qi", "start"], kind="mergesort").drop_duplicates("qi")
    m = m.set_index("qi")
    for c in cols:
        out[c] = m[c].reindex(out.index)
    return out


def _stock_members(spells: pd.DataFrame, c: Cohort) -> pd.DataFrame:
    d = c.date
    on = spells.loc[(spells["start"] <= d) & (spells["end"].isna() | (spells["end"] >= d))]
    on = on.sort_values(["person_id", "start"], kind="mergesort").drop_duplicates("person_id")
    out = on[["person_id", "spell_id", "start", "end", "exit_destination"]].copy()
    out["time_zero"] = d
    out["duration_years"] = completed_years(out["start"], out["time_zero"])
    return out


def _outflow_members(spells: pd.DataFrame, c: Cohort, window_start, window_end) -> pd.DataFrame:
    lo = max(c.first_time_zero, pd.Timestamp(window_start))
    hi = min(c.last_time_zero, pd.Timestamp(window_end))
    ended = spells.loc[spells["end"].notna() & (spells["end"] >= lo) & (spells["end"] <= hi)
                       & spells["exit_destination"].notna() & ~spells["right_censored"].astype(bool)]
    ended = ended.sort_values(["person_id", "end"], kind="mergesort").drop_duplicates("person_id")
    out = ended[["person_id", "spell_id", "start", "end", "exit_destination"]].copy()
    out["time_zero"] = out["end"]
    out["duration_years"] = completed_years(out["start"], out["end"] + pd.Timedelta(days=1))
    return out


@dataclass
class CohortSet:
    """Cohort members with their characteristics and statuses: the frame every monitor table reads.

    ``cohorts``: the resolved :class:`Cohort` objects (with the horizons that fit each);
    ``horizons``: all requested horizons.

    ``members`` (one row per cohort per person; cohorts in ``cohorts`` order, persons by id):

    - ``cohort`` (category of cohort names), ``kind`` ('stock' / 'outflow'), ``person_id`` (str),
      ``time_zero`` (datetime64)
    - ``spell_id``, ``spell_start``, ``spell_end``: the bijstand spell covering time zero (stock)
      or the spell that ended (outflow), from :attr:`Panel.spells`; ``exit_destination`` (werk /
      ww / overig; for a stock cohort that of the current spell if it ended, else NA)
    - ``sex``, ``age`` (completed years at time zero), ``age_band``, ``migration_background``,
      ``education``, ``household`` (position on time zero, 'unknown' if none), ``duration_years``
      (completed years, see the module docstring), ``duration_band``, ``programme`` (bool)
    - ``status_<h>m`` for every requested horizon (category, contract statuses in
      :data:`~reintegration_effects.contract.STATUS_ORDER`; NA where the horizon does not fit
      the cohort)
    - ``other_benefit_<h>m`` for every requested horizon (bool): a benefit spell 'other' covers
      that date (whatever the status; False where the horizon does not fit). Read with the
      status: overig and other_benefit is 'another benefit', overig without it is 'no registered
      work or benefit' (:func:`flows_overig`)
    """

    members: pd.DataFrame
    cohorts: list[Cohort]
    horizons: tuple[int, ...]
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    groups: tuple[str, ...] = field(default_factory=lambda: tuple(GROUPS))

    def cohort(self, name: str) -> Cohort:
        for c in self.cohorts:
            if c.name == name:
                return c
        raise KeyError(f"no cohort '{name}'; cohorts: {[c.name for c in self.cohorts]}")


def resolve_groups(groups) -> tuple[str, ...]:
    if groups is None:
        return tuple(GROUPS)
    dims = []
    for g in [groups] if isinstance(groups, str) else groups:
        d = str(g).split("=")[0].strip()
        if d not in GROUPS:
            raise ValueError(f"unknown group dimension '{g}'; expected one of {list(GROUPS)}. "
                             f"Fix: correct study.toml, key 'groups'.")
        if d not in dims:
            dims.append(d)
    return tuple(dims)


def build_cohorts(data: InputData, panel: Panel | None = None, *, cohorts: Iterable[str] | str | None = None,
                  horizons: Sequence[int] | None = None, groups: Iterable[str] | None = None,
                  statuses: bool = True) -> CohortSet:
    """Members of each cohort with their characteristics at time zero and status at every horizon.

    ``cohorts`` (names) and ``horizons`` default to ``data.study`` and then to the defaults (see
    the module docstring); ``groups`` (dimension names, default all of :data:`GROUPS`; also
    ``data.study.groups``) only selects the breakdowns of the tables made from the result.
    ``panel`` supplies the bijstand spell table with exit destinations (built if not given).
    ``statuses=False`` skips the exact-date statuses (the costly part; their columns are then NA),
    for callers that only need the members and their characteristics.
    """
    if panel is None:
        panel = build_panel(data)
    resolved, horizons = _resolve(data, cohorts, horizons)
    if groups is None and data.study is not None and data.study.groups:
        groups = data.study.groups
    dims = resolve_groups(groups)
    spells = panel.spells
    frames = []
    for c in resolved:
        m = (_stock_members(spells, c) if c.kind == "stock"
             else _outflow_members(spells, c, data.window_start, data.window_end))
        m = m.sort_values("person_id", kind="mergesort").reset_index(drop=True)
        if statuses and c.horizons and len(m):
            pid = np.tile(m["person_id"].to_numpy(), len(c.horizons))
            dates = pd.concat([m["time_zero"] + pd.DateOffset(months=h) for h in c.horizons],
                              ignore_index=True)
            st = np.asarray(status_on(data, pid, dates).codes).reshape(len(c.horizons), len(m))
            other = benefit_on(data, pid, dates, "other").reshape(len(c.horizons), len(m))
            for k, h in enumerate(c.horizons):
                m[status_column(h)] = pd.Categorical.from_codes(st[k], categories=list(STATUS_ORDER))
                m[other_benefit_column(h)] = other[k]
        m.insert(0, "cohort", c.name)
        m.insert(1, "kind", c.kind)
        frames.append(m)
    cols = ["cohort", "kind", "person_id", "spell_id", "start", "end", "exit_destination", "time_zero",
            "duration_years"]
    members = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    members = members.rename(columns={"start": "spell_start", "end": "spell_end"})
    members["person_id"] = members["person_id"].astype(str)
    for c in ("spell_start", "spell_end", "time_zero"):
        members[c] = pd.to_datetime(members[c])
    members["cohort"] = pd.Categorical(members["cohort"], categories=[c.name for c in resolved])
    members["exit_destination"] = pd.Categorical(members["exit_destination"], categories=list(EXIT_DESTINATIONS))
    members["duration_years"] = members["duration_years"].astype(np.int64)
    _add_characteristics(members, data, spells)
    for h in horizons:
        col = status_column(h)
        if col not in members:
            members[col] = pd.Categorical([None] * len(members), categories=list(STATUS_ORDER))
        elif members[col].isna().any():
            members[col] = pd.Categorical(members[col], categories=list(STATUS_ORDER))
    for h in horizons:
        col = other_benefit_column(h)
        members[col] = members[col].astype("boolean").fillna(False).astype(bool) if col in members else False
    order = ["cohort", "kind", "person_id", "time_zero", "spell_id", "spell_start", "spell_end",
             "exit_destination", "sex", "age", "age_band", "migration_background", "education", "household",
             "duration_years", "duration_band", "programme"] + [status_column(h) for h in horizons] + [
        other_benefit_column(h) for h in horizons]
    members = members[order]
    return CohortSet(members, resolved, horizons, pd.Timestamp(data.window_start),
                     pd.Timestamp(data.window_end), dims)


def _add_characteristics(members: pd.DataFrame, data: InputData, spells: pd.DataFrame) -> None:
    """Add sex, age, migration, education, household, duration band and programme (in place)."""
    persons = data.persons.assign(person_id=lambda f: f["person_id"].astype(str)).set_index("person_id")
    pid = members["person_id"].to_numpy()
    idx = persons.index.get_indexer(pid)
    if (idx < 0).any():
        raise ValueError(f"bijstand spells refer to persons not in persons: {list(pd.unique(pid[idx < 0])[:5])}")

    def take(col, values):
        if col in persons:
            v = persons[col].astype(object).to_numpy()[idx]
        else:
            v = np.full(len(idx), UNKNOWN, dtype=object)
        v = np.where(pd.isna(v), UNKNOWN, v).astype(str)
        return pd.Categorical(v, categories=list(dict.fromkeys([*values, *sorted(set(v) - set(values))])))

    members["sex"] = take("sex", SEX)
    members["migration_background"] = take("migration_background", MIGRATION)
    members["education"] = take("education", EDUCATION)
    birth = pd.to_datetime(persons["birth_date"]).to_numpy()[idx]
    members["age"] = completed_years(birth, members["time_zero"]) if len(members) else np.zeros(0, dtype=int)
    members["age_band"] = pd.Categorical(age_band(members["age"].to_numpy()) if len(members) else [],
                                         categories=list(AGE_BANDS))
    t0 = members["time_zero"].to_numpy()
    hh = _covering(pid, t0, data.households, ["position"])["position"]
    members["household"] = pd.Categorical(hh.astype(object).where(hh.notna(), UNKNOWN).astype(str).to_numpy(),
                                          categories=list(GROUPS["household"][1]))
    members["duration_band"] = pd.Categorical(duration_band(members["duration_years"].to_numpy()),
                                              categories=list(DURATION_BANDS))
    members["programme"] = _programme_during(members, link_programme_starts(spells, data.programmes))


def _programme_during(members: pd.DataFrame, link: pd.DataFrame) -> np.ndarray:
    """True where a programme start linked to the member's bijstand spell (the one linking rule,
    :func:`~reintegration_effects.panel.link_programme_starts`) lies on or before time zero."""
    out = np.zeros(len(members), dtype=bool)
    link = link[link["spell_id"] >= 0]
    if len(link) == 0 or len(members) == 0:
        return out
    q = pd.DataFrame({"spell_id": members["spell_id"].to_numpy(np.int64), "hi": members["time_zero"].to_numpy(),
                      "qi": np.arange(len(members))})
    m = q.merge(link[["spell_id", "start"]], on="spell_id", how="inner")
    out[m.loc[m["start"] <= m["hi"], "qi"].to_numpy()] = True
    return out


# --------------------------------------------------------------------------------------------
# Month-end statuses after time zero, from the panel
# --------------------------------------------------------------------------------------------


def first_month_after(time_zero) -> np.ndarray:
    """Absolute month number (see :func:`panel.month_number`) of the first month end strictly
    after each time zero: its own month when time zero is not a month end, else the next month."""
    t0 = pd.DatetimeIndex(pd.to_datetime(pd.Series(time_zero)))
    is_month_end = np.asarray(t0.is_month_end, dtype=bool)
    return month_number(t0) + is_month_end.astype(np.int64)


def panel_status_matrix(panel: Panel) -> tuple[np.ndarray, pd.Index]:
    """The panel's statuses as an (persons x window months) int8 array of indices into
    STATUS_ORDER, and the person ids of its rows (panel.persons order)."""
    months = panel.months
    ids = pd.Index(panel.persons["person_id"].astype(str).to_numpy())
    t = panel.grid.n_window
    if len(months) != len(ids) * t:
        raise ValueError(f"the panel has {len(months):,} person-months, expected {len(ids):,} persons x {t} "
                         f"months; rebuild it with build_panel")
    st = months["status"]
    remap = np.array([STATUS_ORDER.index(c) for c in st.cat.categories] + [-1], dtype=np.int8)
    codes = remap[st.cat.codes.to_numpy()]
    return codes.reshape(len(ids), t), ids


def follow_up_statuses(panel: Panel, person_ids, time_zero, months: int,
                       status_matrix: tuple[np.ndarray, pd.Index] | None = None) -> np.ndarray:
    """Status at the ``months`` month ends after each time zero, from the panel.

    The follow-up month ends of a person are the first ``months`` month ends strictly after time
    zero. Returns an (n, months) int8 array of indices into STATUS_ORDER, -1 where the month end
    lies outside the panel's window.
    """
    mat, ids = status_matrix if status_matrix is not None else panel_status_matrix(panel)
    rows = ids.get_indexer(pd.Series(person_ids).astype(str).to_numpy())
    if (rows < 0).any():
        raise ValueError("follow-up requested for persons not in the panel")
    first = first_month_after(time_zero) - panel.grid.first_window_month
    cols = first[:, None] + np.arange(int(months))[None, :]
    ok = (cols >= 0) & (cols < mat.shape[1])
    out = np.full(cols.shape, -1, dtype=np.int8)
    r = np.broadcast_to(rows[:, None], cols.shape)
    out[ok] = mat[r[ok], cols[ok]]
    return out


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def group_codes(col: pd.Series, values: Sequence[str]) -> np.ndarray:
    """Position of each value of ``col`` in ``values`` (-1 if absent); booleans read as 'yes'/'no'."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories.astype(str)
        remap = np.array([values.index(c) if c in values else -1 for c in cats] + [-1], dtype=np.int64)
        return remap[col.cat.codes.to_numpy()]
    if col.dtype == bool:
        v = np.where(col.to_numpy(), "yes", "no")
    else:
        v = col.astype(str).to_numpy()
    return pd.Categorical(v, categories=list(values)).codes.astype(np.int64)


def group_labels(col: pd.Series, dimension: str, values: Sequence[str]) -> pd.Categorical:
    """Contract group labels (``sex=F``) of a column, as a categorical over every value."""
    return pd.Categorical.from_codes(group_codes(col, tuple(values)),
                                     categories=[group_label(dimension, v) for v in values])


def _cohort_horizons(cs: CohortSet) -> pd.DataFrame:
    rows = [(c.name, h) for c in cs.cohorts for h in c.horizons]
    return pd.DataFrame(rows, columns=["cohort", "horizon_months"])


def flows(cs: CohortSet) -> pd.DataFrame:
    """Status of each cohort at each horizon that fits it: the ``flows.csv`` table.

    Columns (:data:`~reintegration_effects.contract.FLOWS_COLUMNS`): ``cohort``,
    ``horizon_months`` (int), ``status`` (every contract status in STATUS_ORDER, zero counts
    included), ``persons`` (int64). The persons of a cohort and horizon add up to the cohort size.
    """
    return _flow_counts(cs, None)


def flows_overig(cs: CohortSet) -> pd.DataFrame:
    """The status 'overig' of :func:`flows` broken down: the ``flows_overig.csv`` table.

    Columns (:data:`~reintegration_effects.contract.FLOWS_OVERIG_COLUMNS`): ``cohort``,
    ``horizon_months`` (int), ``detail`` (:data:`~reintegration_effects.contract.OVERIG_DETAILS`:
    ``other_benefit``, a benefit spell 'other' covers the date, e.g. AOW, WIA/WAO, Wajong, ANW;
    ``no_work_or_benefit``, no registered work or benefit), ``persons`` (int64; zero counts
    included). The two details of a cohort and horizon add up to that row's overig count in
    :func:`flows`; the cohorts and horizons are those of :func:`flows`.

    The exact :func:`flows` table of the same cohorts is left in ``attrs["flows"]``: the
    disclosure plan of this table needs it, so that the breakdown never reveals a cell that
    flows.csv suppresses (see ``docs/disclosure.md``).
    """
    m = cs.members

    def detail_codes(h: int) -> np.ndarray:  # 0 another benefit, 1 no registered work or benefit, -1 not overig
        overig = (m[status_column(h)] == "overig").fillna(False).to_numpy(bool)
        return np.where(overig, np.where(m[other_benefit_column(h)].to_numpy(bool), 0, 1), -1)

    out = _cohort_cell_counts(cs, "detail", OVERIG_DETAILS, detail_codes, FLOWS_OVERIG_COLUMNS)
    out.attrs["flows"] = flows(cs)
    return out


def programmes_table(data: InputData) -> pd.DataFrame:
    """The programmes, their descriptions from study.toml and how many persons started each:
    the ``programmes.csv`` table.

    One row per programme label in the programmes table (sorted; labels described in study.toml
    but absent from the data are listed too, with 0 participants). Columns
    (:data:`~reintegration_effects.contract.PROGRAMMES_COLUMNS`): ``programme`` (label),
    ``name_nl``, ``name_en``, ``description_nl``, ``description_en`` (the ``[programmes.LABEL]``
    texts; NA where study.toml gives none), ``cost_per_participant`` (euros, float; NA where not
    given), ``participants`` (int64: distinct persons with a start of the programme inside the
    study window).
    """
    info = programme_info(data.study)
    pr = data.programmes
    labels = sorted(set(pr["programme"].dropna().astype(str)) | set(info))
    start = pd.to_datetime(pr["start"])
    inside = pr.loc[(start >= pd.Timestamp(data.window_start)) & (start <= pd.Timestamp(data.window_end))]
    participants = inside.groupby(inside["programme"].astype(str))["person_id"].nunique()
    rows = []
    for label in labels:
        d = info.get(label, {})
        name, desc = d.get("name") or {}, d.get("description") or {}
        rows.append({"programme": label, "name_nl": name.get("nl"), "name_en": name.get("en"),
                     "description_nl": desc.get("nl"), "description_en": desc.get("en"),
                     "cost_per_participant": d.get("cost_per_participant"),
                     "participants": int(participants.get(label, 0))})
    out = pd.DataFrame(rows, columns=list(PROGRAMMES_COLUMNS))
    for c in PROGRAMMES_COLUMNS[1:5]:
        out[c] = out[c].astype(object)
    out["cost_per_participant"] = pd.to_numeric(out["cost_per_participant"]).astype("float64")
    out["participants"] = out["participants"].astype(np.int64)
    return out


def flows_by_group(cs: CohortSet, groups: Iterable[str] | None = None) -> pd.DataFrame:
    """:func:`flows` broken down by group at time zero.

    Columns: ``cohort``, ``horizon_months``, ``dimension`` (sex / age / migration / household /
    education / duration), ``group`` (contract label, e.g. ``sex=F``, ``age=50+``,
    ``duration=<1y``; every value of the dimension), ``status`` (every status), ``persons``.
    Within a cohort, horizon and dimension the persons add up to the cohort size.
    """
    dims = resolve_groups(groups) if groups is not None else cs.groups
    return _flow_counts(cs, dims)


def _cohort_cell_counts(cs: CohortSet, cell: str, labels: Sequence[str], codes_at, columns) -> pd.DataFrame:
    """Persons per cohort, horizon and cell: ``codes_at(h)`` gives every member's cell code at
    horizon ``h`` (an index into ``labels``; -1: not counted). Every cell of a cohort and horizon
    that fits the window is listed (zeros too), in cohort order, then horizon, then ``labels``."""
    m = cs.members
    ch = _cohort_horizons(cs)
    cohort_cat = m["cohort"].cat.categories
    n_c, n_l = len(cohort_cat), len(labels)
    ccode = m["cohort"].cat.codes.to_numpy().astype(np.int64)
    pieces = []
    for h in cs.horizons:
        valid = ch.loc[ch["horizon_months"] == h, "cohort"].tolist()
        if not valid:
            continue
        code = np.asarray(codes_at(h), dtype=np.int64)
        keep = code >= 0
        counts = np.bincount(ccode[keep] * n_l + code[keep], minlength=n_c * n_l)
        t = pd.DataFrame({"cohort": np.repeat(cohort_cat.to_numpy(), n_l), "horizon_months": h,
                          cell: np.tile(np.array(labels, dtype=object), n_c), "persons": counts.astype(np.int64)})
        pieces.append(t[t["cohort"].isin(valid)])
    if not pieces:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("persons", "horizon_months") else object)
                             for c in columns})
    out = pd.concat(pieces, ignore_index=True)
    out["_c"] = pd.Categorical(out["cohort"], categories=cohort_cat).codes
    out = out.sort_values(["_c", "horizon_months"], kind="mergesort").drop(columns="_c")
    out["cohort"] = out["cohort"].astype(str)
    out["horizon_months"] = out["horizon_months"].astype(np.int64)
    return out[list(columns)].reset_index(drop=True)


def _flow_counts(cs: CohortSet, dims: Sequence[str] | None) -> pd.DataFrame:
    if dims is None:
        m = cs.members
        return _cohort_cell_counts(cs, "status", STATUS_ORDER,
                                   lambda h: m[status_column(h)].cat.codes.to_numpy(), FLOWS_COLUMNS)
    m = cs.members
    ch = _cohort_horizons(cs)
    cohort_cat = m["cohort"].cat.categories
    n_c, n_s = len(cohort_cat), len(STATUS_ORDER)
    ccode = m["cohort"].cat.codes.to_numpy().astype(np.int64)
    pieces = []
    for h in cs.horizons:
        valid = ch.loc[ch["horizon_months"] == h, "cohort"].tolist()
        if not valid:
            continue
        scode = m[status_column(h)].cat.codes.to_numpy().astype(np.int64)
        keep = scode >= 0
        for d in dims:
            col, values = GROUPS[d]
            gcode = group_codes(m[col], tuple(values))
            n_g = len(values)
            ok = keep & (gcode >= 0)
            counts = np.bincount((ccode[ok] * n_g + gcode[ok]) * n_s + scode[ok], minlength=n_c * n_g * n_s)
            t = pd.DataFrame({
                "cohort": np.repeat(cohort_cat.to_numpy(), n_g * n_s),
                "horizon_months": h,
                "dimension": d,
                "group": np.tile(np.repeat([group_label(d, v) for v in values], n_s), n_c),
                "status": np.tile(np.array(STATUS_ORDER, dtype=object), n_c * n_g),
                "persons": counts.astype(np.int64),
            })
            pieces.append(t[t["cohort"].isin(valid)])
    cols = ["cohort", "horizon_months", "dimension", "group", "status", "persons"]
    if not pieces:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("persons", "horizon_months") else object)
                             for c in cols})
    out = pd.concat(pieces, ignore_index=True)
    # order: cohort (as resolved), then horizon, dimension, group, status as in STATUS_ORDER
    out["_c"] = pd.Categorical(out["cohort"], categories=cohort_cat).codes
    out["_d"] = pd.Categorical(out["dimension"], categories=list(dims)).codes
    out = out.sort_values(["_c", "horizon_months", "_d"], kind="mergesort").drop(columns=["_c", "_d"])
    out["cohort"] = out["cohort"].astype(str)
    out["horizon_months"] = out["horizon_months"].astype(np.int64)
    return out[cols].reset_index(drop=True)


def transitions(cs: CohortSet, *, by_group: bool = False, groups: Iterable[str] | None = None) -> pd.DataFrame:
    """Who was where at each horizon: the paths for an alluvial (Sankey) chart.

    Columns: ``cohort``, (with ``by_group``: ``dimension``, ``group``), ``status_<h>m`` for every
    requested horizon in order (e.g. status_6m, status_12m, status_18m; NA where the horizon does
    not fit the cohort), ``persons``. Only paths that occur are listed (a full grid would have
    5^horizons rows); the persons of a cohort (and group) add up to its size. Cohorts with no
    horizon inside the window are left out.
    """
    m = cs.members
    m = m.loc[m["cohort"].isin([c.name for c in cs.cohorts if c.horizons])]
    scols = [status_column(h) for h in cs.horizons]
    dims = (resolve_groups(groups) if groups is not None else cs.groups) if by_group else (None,)
    pieces = []
    for d in dims:
        keys = ["cohort"] + scols
        frame = m[["cohort", *scols]].copy()
        if d is not None:
            col, values = GROUPS[d]
            frame["dimension"] = d
            frame["group"] = group_labels(m[col], d, values)
            keys = ["cohort", "dimension", "group"] + scols
        t = frame.groupby(keys, observed=True, dropna=False, sort=True).size().rename("persons").reset_index()
        pieces.append(t[t["persons"] > 0])
    out = pd.concat(pieces, ignore_index=True)
    out["cohort"] = out["cohort"].astype(str)
    if by_group:
        out["group"] = out["group"].astype(str)
    for c in scols:
        out[c] = pd.Categorical(out[c], categories=list(STATUS_ORDER))
    out["persons"] = out["persons"].astype(np.int64)
    return out.reset_index(drop=True)


def flow_tables(data: InputData, panel: Panel | None = None, *, cohorts: Iterable[str] | None = None,
                horizons: Sequence[int] | None = None, groups: Iterable[str] | None = None,
                ) -> dict[str, pd.DataFrame]:
    """All flow tables for the study's cohorts, horizons and groups (see :func:`build_cohorts`).

    Returns ``{"flows": flows(), "flows_by_group": flows_by_group(), "transitions":
    transitions(), "transitions_by_group": transitions(by_group=True)}``, unprotected.
    """
    cs = build_cohorts(data, panel, cohorts=cohorts, horizons=horizons, groups=groups)
    return {
        "flows": flows(cs),
        "flows_by_group": flows_by_group(cs),
        "transitions": transitions(cs),
        "transitions_by_group": transitions(cs, by_group=True),
    }
