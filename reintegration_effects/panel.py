"""The monthly status panel and the bijstand spell table every analysis reads.

Built once from validated input (:class:`~reintegration_effects.dataset.InputData`), cached as
Parquet and reused. Everything is vectorised over persons: spells become coverage flags on a
person x month grid through difference arrays (a +1 in the first covered month, a -1 after the
last, then a cumulative sum), processed in chunks of persons to bound memory.

Conventions (see the contract): the status of a month is the status on its last day. A spell
[start, end] (end inclusive, NaT = still running) covers the month end of month m when
start <= month_end(m) <= end. The grid starts ``history_months`` before the window so that the
labour-market history of the first window months is known; the panel itself holds window months.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import EXIT_DESTINATIONS, HOUSEHOLD_POSITIONS, STATUS_ORDER
from .dataset import InputData

#: Bump when the panel's definition changes, so old caches are not reused.
PANEL_VERSION = "1"
HISTORY_MONTHS = 36
_CHUNK_CELLS = 10_000_000  # person-grid-months per chunk (bounds the temporary arrays; docs: benchmarks/README.md)

# status codes in the panel, indices into STATUS_ORDER
_S = {s: i for i, s in enumerate(STATUS_ORDER)}


def month_number(dates) -> np.ndarray:
    """Absolute month number (year * 12 + month - 1) of each date; NaT -> a very large number."""
    s = dates if isinstance(dates, pd.Series) else pd.Series(dates)
    if s.dtype.kind == "M" and getattr(s.dtype, "tz", None) is None:
        # numpy datetime64 columns: months since 1970 directly (pandas' to_datetime would iterate
        # the values as Timestamps to decide on caching)
        v = s.to_numpy()
        m = v.astype("datetime64[M]").astype(np.int64) + 1970 * 12
        return np.where(np.isnat(v), np.iinfo(np.int32).max, m)
    d = pd.DatetimeIndex(pd.to_datetime(s, errors="raise"))
    out = (d.year.to_numpy(dtype="float64") * 12 + d.month.to_numpy(dtype="float64") - 1)
    return np.where(np.isnan(out), np.iinfo(np.int32).max, out).astype(np.int64)


def month_end_from_number(m) -> pd.DatetimeIndex:
    """Last day of absolute month number ``m`` (inverse of :func:`month_number`)."""
    m = np.asarray(m, dtype=np.int64)
    first = pd.to_datetime({"year": m // 12, "month": m % 12 + 1, "day": np.ones_like(m)})
    return pd.DatetimeIndex(first + pd.offsets.MonthEnd(0))


def covered_months(start, end) -> tuple[np.ndarray, np.ndarray]:
    """First and last absolute month whose month end a spell covers (last < first: none).

    An open end (NaT) covers every later month (returned as a very large number).
    """
    s, e = (pd.Series(v) for v in (start, end))
    s, e = ((v if v.dtype.kind == "M" else pd.to_datetime(v)).reset_index(drop=True) for v in (s, e))
    first = month_number(s)
    last = month_number(e)
    is_month_end = (e + pd.offsets.Day(1)).dt.day.eq(1).to_numpy()
    last = np.where(e.isna().to_numpy(), np.iinfo(np.int32).max, last - (~is_month_end))
    return first, last


@dataclass
class MonthGrid:
    """Absolute month numbers of the grid: history months, then the window months."""

    first_window_month: int
    last_window_month: int
    history_months: int = HISTORY_MONTHS

    @classmethod
    def from_window(cls, window_start, window_end, history_months: int = HISTORY_MONTHS) -> MonthGrid:
        ws, we = pd.Timestamp(window_start), pd.Timestamp(window_end)
        first = int(month_number([ws])[0])
        last = int(month_number([we])[0])
        if we != we + pd.offsets.MonthEnd(0):  # window ends mid-month: that month end is outside
            last -= 1
        if last < first:
            raise ValueError(f"the window {ws:%Y-%m-%d} to {we:%Y-%m-%d} holds no month end")
        return cls(first, last, history_months)

    @property
    def grid_start(self) -> int:
        return self.first_window_month - self.history_months

    @property
    def n_grid(self) -> int:
        return self.last_window_month - self.grid_start + 1

    @property
    def n_window(self) -> int:
        return self.last_window_month - self.first_window_month + 1

    @property
    def window_month_ends(self) -> pd.DatetimeIndex:
        return month_end_from_number(np.arange(self.first_window_month, self.last_window_month + 1))


@dataclass
class Panel:
    """The person-month panel, the bijstand spells and the persons they refer to.

    ``months`` (one row per person per window month; persons in ``persons`` order, months
    ascending):

    - ``person_id`` (category), ``month`` (datetime64, the month's last day),
      ``month_index`` (int16, 0 = first window month)
    - ``status`` (category, contract labels: bijstand, werk, bijstand_met_werk, ww, overig)
    - ``bijstand``, ``employed``, ``ww``, ``in_programme`` (bool: covered on the month end)
    - ``spell_id`` (int32, the bijstand spell covering the month end; -1 = none)
    - ``spell_month`` (int16, months since the bijstand spell began, 0 in its first month; -1 = none)
    - ``household`` (category, position on the month end; NA = no household spell)
    - ``hist_employed_36m``, ``hist_bijstand_36m``, ``hist_ww_36m`` (int8): month ends in the 36
      months before this one that were employed (werk or bijstand_met_werk), on bijstand (with or
      without work), on WW. Spells before the window count: that is the labour-market history.

    ``spells`` (one row per bijstand spell in the input, nothing dropped): see
    :func:`derive_bijstand_spells`. ``persons``: the validated persons table.
    """

    months: pd.DataFrame
    spells: pd.DataFrame
    persons: pd.DataFrame
    window_start: pd.Timestamp
    window_end: pd.Timestamp

    @property
    def grid(self) -> MonthGrid:
        return MonthGrid.from_window(self.window_start, self.window_end)

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.months.to_parquet(folder / "months.parquet", index=False)
        self.spells.to_parquet(folder / "spells.parquet", index=False)
        self.persons.to_parquet(folder / "persons.parquet", index=False)
        meta = {"window_start": str(self.window_start.date()), "window_end": str(self.window_end.date()),
                "version": PANEL_VERSION}
        (folder / "panel.json").write_text(json.dumps(meta, indent=2))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Panel:
        folder = Path(folder)
        meta = json.loads((folder / "panel.json").read_text())
        return cls(
            months=pd.read_parquet(folder / "months.parquet"),
            spells=pd.read_parquet(folder / "spells.parquet"),
            persons=pd.read_parquet(folder / "persons.parquet"),
            window_start=pd.Timestamp(meta["window_start"]),
            window_end=pd.Timestamp(meta["window_end"]),
        )


def person_codes(person_ids: pd.Series, persons: pd.DataFrame) -> np.ndarray:
    codes = pd.Categorical(person_ids.astype(str), categories=persons["person_id"].astype(str)).codes
    if (codes < 0).any():  # validation guarantees linkage; this guards direct callers
        bad = person_ids[codes < 0].astype(str).unique()[:5]
        raise ValueError(f"spells refer to person_id not in persons: {list(bad)}")
    return codes.astype(np.int64)


def _coverage(p, first, last, grid: MonthGrid, p0: int, p1: int, values=None) -> np.ndarray:
    """Sum over spells of ``values`` on the month ends each spell covers, for persons p0..p1-1.

    Returns an (p1 - p0, n_grid) int32 array. With values = 1 it counts covering spells; with
    non-overlapping spells and values = id + 1 it gives the covering spell's id + 1 (0 = none).
    """
    n, t = p1 - p0, grid.n_grid
    sel = (p >= p0) & (p < p1)
    f = np.clip(first[sel] - grid.grid_start, 0, None)
    last_rel = np.minimum(last[sel] - grid.grid_start, t - 1)
    keep = (last_rel >= f) & (f <= t - 1)
    pp, f, last_rel = p[sel][keep] - p0, f[keep], last_rel[keep]
    v = np.ones(len(pp)) if values is None else np.asarray(values)[sel][keep].astype(float)
    width = t + 1
    diff = np.bincount(pp * width + f, weights=v, minlength=n * width)
    diff -= np.bincount(pp * width + last_rel + 1, weights=v, minlength=n * width)
    return np.cumsum(diff.reshape(n, width)[:, :t], axis=1).round().astype(np.int32)


def _history(flags: np.ndarray, months: int) -> np.ndarray:
    """Number of flagged month ends in the ``months`` months before each month (exclusive)."""
    cs = np.zeros((flags.shape[0], flags.shape[1] + 1), dtype=np.int32)
    np.cumsum(flags, axis=1, out=cs[:, 1:])
    t = np.arange(flags.shape[1])
    lo = np.clip(t - months, 0, None)
    return (cs[:, t] - cs[:, lo]).astype(np.int8)


#: Columns of :func:`link_programme_starts`.
START_COLUMNS = ("row", "person_id", "programme", "start", "end", "start_month", "spell_id", "spell_month")


def link_programme_starts(spells: pd.DataFrame, programmes: pd.DataFrame) -> pd.DataFrame:
    """Every programme row with the bijstand spell it started in: the package's one linking rule.

    A programme that starts in month m belongs to the bijstand spell that covers the END of month
    m, the panel's month-end rule (a start in a month whose bijstand ended before the month end
    belongs to no spell: in the monthly data the person had already left). Effects (time zero
    and the risk sets), survival (the time-varying programme term) and flows (participation
    during a spell) all link starts with this function, so a start counts the same everywhere.

    ``spells``: :attr:`Panel.spells` (``spell_id``, ``person_id``, ``start``, ``end``);
    ``programmes``: the validated programmes table. Returns one row per programme row, in input
    order (nothing dropped): ``row`` (position in ``programmes``), ``person_id`` (str),
    ``programme`` (str), ``start``, ``end``, ``start_month`` (absolute month number of the
    start, see :func:`month_number`), ``spell_id`` (-1: no bijstand spell covers that month end)
    and ``spell_month`` (months since the spell began, 0 in its first month, as the panel's
    ``spell_month``; -1 without a spell).
    """
    n = len(programmes)
    out = pd.DataFrame({
        "row": np.arange(n, dtype=np.int64),
        "person_id": programmes["person_id"].astype(str).to_numpy(),
        "programme": programmes["programme"].astype(str).to_numpy(),
        "start": pd.to_datetime(programmes["start"]).to_numpy(),
        "end": pd.to_datetime(programmes["end"]).to_numpy(),
    })
    out["start_month"] = month_number(out["start"]) if n else np.zeros(0, dtype=np.int64)
    out["spell_id"] = np.int64(-1)
    out["spell_month"] = np.int64(-1)
    if n == 0 or len(spells) == 0:
        return out[list(START_COLUMNS)]
    first, last = covered_months(spells["start"], spells["end"])
    sp = pd.DataFrame({"person_id": spells["person_id"].astype(str).to_numpy(),
                       "spell_id": spells["spell_id"].to_numpy(np.int64), "first": first.astype(np.int64),
                       "last": last.astype(np.int64), "began": month_number(spells["start"]).astype(np.int64)})
    sp = sp[sp["last"] >= sp["first"]].sort_values("first", kind="mergesort")  # spells covering a month end
    q = out[["row", "person_id", "start_month"]].sort_values("start_month", kind="mergesort")
    # a person's bijstand spells do not overlap (validated), so the one that began last at or
    # before the start month is the only candidate
    m = pd.merge_asof(q, sp, left_on="start_month", right_on="first", by="person_id", direction="backward")
    hit = m["spell_id"].notna().to_numpy() & (m["start_month"].to_numpy() <= m["last"].fillna(-1).to_numpy())
    rows = m.loc[hit, "row"].to_numpy(np.int64)
    out.loc[rows, "spell_id"] = m.loc[hit, "spell_id"].to_numpy(np.int64)
    out.loc[rows, "spell_month"] = (m.loc[hit, "start_month"] - m.loc[hit, "began"]).to_numpy(np.int64)
    return out[list(START_COLUMNS)]


def derive_bijstand_spells(data: InputData, grid: MonthGrid) -> pd.DataFrame:
    """Bijstand spells with coverage in months, window flags and the exit destination.

    Columns: ``spell_id`` (int), ``person_id``, ``start``, ``end`` (NaT = running at the data's
    end), ``spell_number`` (1 = the person's first spell in the data), ``first_month`` and
    ``last_month`` (the first and last month end covered, NaT where the spell covers none or runs
    past the window), ``duration_months`` (month ends covered up to the window end),
    ``covers_month_end`` (False for a spell that starts and ends within one month: invisible in
    a month-end panel, kept here so nothing is dropped), ``left_truncated`` (began before the
    window), ``months_before_window`` (month ends covered before the window: the entry time for
    survival analysis), ``right_censored`` (no month end after it inside the window: destination
    unknown), ``in_window`` (covers a window month end, or ends inside the window),
    ``exit_destination`` (werk / ww / overig: the status at the first month end after the spell,
    ignoring any new bijstand; NA when censored or outside the grid), ``next_start`` and
    ``months_to_reentry`` (months from the last covered month end to the next spell's first).
    """
    b = data.benefits
    b = b.loc[b["benefit"].astype(str) == "bijstand", ["person_id", "start", "end"]]
    b = b.sort_values(["person_id", "start"], kind="mergesort").reset_index(drop=True)
    first, last = covered_months(b["start"], b["end"])
    big = np.iinfo(np.int32).max
    out = pd.DataFrame({"spell_id": np.arange(len(b), dtype=np.int32)})
    out["person_id"] = b["person_id"].astype(str).to_numpy()
    out["start"] = b["start"].to_numpy()
    out["end"] = b["end"].to_numpy()
    out["spell_number"] = out.groupby("person_id", sort=False).cumcount().add(1).astype(np.int16)
    covers = last >= first
    last_in_window = np.minimum(last, grid.last_window_month)
    out["covers_month_end"] = covers
    out["duration_months"] = np.clip(last_in_window - first + 1, 0, None).astype(np.int32)
    out["first_month"] = pd.NaT
    out.loc[covers, "first_month"] = month_end_from_number(first[covers])
    has_last = covers & (last <= grid.last_window_month)
    out["last_month"] = pd.NaT
    out.loc[has_last, "last_month"] = month_end_from_number(last[has_last])
    out["first_month"] = pd.to_datetime(out["first_month"])
    out["last_month"] = pd.to_datetime(out["last_month"])
    out["left_truncated"] = first < grid.first_window_month
    out["months_before_window"] = np.clip(
        np.minimum(grid.first_window_month, last + 1) - first, 0, None
    ).astype(np.int32)
    out["right_censored"] = last >= grid.last_window_month
    out["in_window"] = (np.minimum(last, big) >= grid.first_window_month - 1) & (
        first <= grid.last_window_month
    )
    # next spell of the same person
    same_next = out["person_id"].shift(-1).eq(out["person_id"]).to_numpy()
    nxt_first = np.roll(first, -1)
    out["next_start"] = pd.Series(b["start"].shift(-1)).where(same_next).to_numpy()
    gap = np.where(same_next & (last < big), nxt_first - last, -1)
    out["months_to_reentry"] = pd.array(np.where(gap >= 0, gap, 0), dtype="Int32")
    out.loc[gap < 0, "months_to_reentry"] = pd.NA
    out["exit_destination"] = pd.Categorical([None] * len(out), categories=list(EXIT_DESTINATIONS))
    out["_last_abs"] = np.where(last < big, last, -1)
    return out


def build_panel(data: InputData, *, history_months: int = HISTORY_MONTHS) -> Panel:
    """Build the monthly panel and the bijstand spell table from validated input.

    Vectorised: no loop over persons, only over chunks of persons to bound memory.
    """
    persons = data.persons.reset_index(drop=True)
    grid = MonthGrid.from_window(data.window_start, data.window_end, history_months)
    n, t_win, h = len(persons), grid.n_window, grid.history_months
    spells = derive_bijstand_spells(data, grid)

    def spell_arrays(frame: pd.DataFrame):
        if len(frame) == 0:
            e = np.zeros(0, dtype=np.int64)
            return e, e, e
        p = person_codes(frame["person_id"], persons)
        f, last = covered_months(frame["start"], frame["end"])
        return p, f, last

    ben = data.benefits
    bij_p, bij_f, bij_l = spell_arrays(spells)
    ww = ben.loc[ben["benefit"].astype(str) == "ww"]
    ww_p, ww_f, ww_l = spell_arrays(ww)
    job_p, job_f, job_l = spell_arrays(data.jobs)
    prg_p, prg_f, prg_l = spell_arrays(data.programmes)
    hh = data.households
    hh_p, hh_f, hh_l = spell_arrays(hh)
    hh_code = (
        pd.Categorical(hh["position"].astype(str), categories=HOUSEHOLD_POSITIONS).codes.astype(np.int64) + 1
        if len(hh)
        else np.zeros(0)
    )
    # padded with one entry so that indexing with -1 (no spell) is safe when there are no spells
    spell_start_month = np.append(month_number(spells["start"]) if len(spells) else [], 0).astype(np.int64)

    # output columns, filled chunk by chunk (row = person * t_win + month)
    rows = n * t_win
    status = np.empty(rows, dtype=np.int8)
    f_bij = np.empty(rows, dtype=bool)
    f_emp = np.empty(rows, dtype=bool)
    f_ww = np.empty(rows, dtype=bool)
    f_prg = np.empty(rows, dtype=bool)
    spell_id = np.empty(rows, dtype=np.int32)
    spell_month = np.empty(rows, dtype=np.int16)
    household = np.empty(rows, dtype=np.int8)
    hist = {k: np.empty(rows, dtype=np.int8) for k in ("employed", "bijstand", "ww")}

    chunk = max(1, _CHUNK_CELLS // max(grid.n_grid, 1))
    for p0 in range(0, n, chunk):
        p1 = min(n, p0 + chunk)
        bij_cov = _coverage(bij_p, bij_f, bij_l, grid, p0, p1) > 0
        emp_cov = _coverage(job_p, job_f, job_l, grid, p0, p1) > 0
        ww_cov = _coverage(ww_p, ww_f, ww_l, grid, p0, p1) > 0
        sid = _coverage(bij_p, bij_f, bij_l, grid, p0, p1, values=np.arange(len(bij_p)) + 1) - 1
        hh_cov = _coverage(hh_p, hh_f, hh_l, grid, p0, p1, values=hh_code) - 1
        prg_cov = _coverage(prg_p, prg_f, prg_l, grid, p0, p1) > 0
        st = np.select(
            [bij_cov & emp_cov, bij_cov, emp_cov, ww_cov],
            [_S["bijstand_met_werk"], _S["bijstand"], _S["werk"], _S["ww"]],
            default=_S["overig"],
        ).astype(np.int8)
        r0, r1 = p0 * t_win, p1 * t_win
        win = slice(h, h + t_win)
        status[r0:r1] = st[:, win].ravel()
        f_bij[r0:r1] = bij_cov[:, win].ravel()
        f_emp[r0:r1] = emp_cov[:, win].ravel()
        f_ww[r0:r1] = ww_cov[:, win].ravel()
        f_prg[r0:r1] = prg_cov[:, win].ravel()
        s_win = sid[:, win]
        spell_id[r0:r1] = s_win.ravel()
        abs_month = grid.first_window_month + np.arange(t_win)
        elapsed = np.where(s_win >= 0, abs_month[None, :] - spell_start_month[np.clip(s_win, 0, None)], -1)
        spell_month[r0:r1] = elapsed.ravel()
        household[r0:r1] = hh_cov[:, win].ravel()
        hist["employed"][r0:r1] = _history(emp_cov, h)[:, win].ravel()
        hist["bijstand"][r0:r1] = _history(bij_cov, h)[:, win].ravel()
        hist["ww"][r0:r1] = _history(ww_cov, h)[:, win].ravel()
        _destinations(spells, bij_p, p0, p1, grid, emp_cov, ww_cov)

    month_ends = grid.window_month_ends
    months = pd.DataFrame(
        {
            "person_id": pd.Categorical.from_codes(
                np.repeat(np.arange(n, dtype=np.int32), t_win),
                categories=pd.Index(persons["person_id"].astype(str).to_numpy())
            ),
            "month": np.tile(month_ends.to_numpy(), n),
            "month_index": np.tile(np.arange(t_win, dtype=np.int16), n),
            "status": pd.Categorical.from_codes(status, categories=list(STATUS_ORDER)),
            "bijstand": f_bij,
            "employed": f_emp,
            "ww": f_ww,
            "in_programme": f_prg,
            "spell_id": spell_id,
            "spell_month": spell_month,
            "household": pd.Categorical.from_codes(household, categories=list(HOUSEHOLD_POSITIONS)),
            "hist_employed_36m": hist["employed"],
            "hist_bijstand_36m": hist["bijstand"],
            "hist_ww_36m": hist["ww"],
        },
        copy=False,  # the columns are fresh arrays: no consolidating copy (it doubled the build's peak)
    )
    spells = spells.drop(columns="_last_abs")
    return Panel(months, spells, persons, pd.Timestamp(data.window_start), pd.Timestamp(data.window_end))


def _destinations(spells, bij_p, p0, p1, grid: MonthGrid, emp_cov, ww_cov) -> None:
    """Fill exit_destination for the spells of persons p0..p1-1 from the month after each spell."""
    sel = np.flatnonzero((bij_p >= p0) & (bij_p < p1))
    if len(sel) == 0:
        return
    nxt = spells["_last_abs"].to_numpy()[sel] + 1 - grid.grid_start
    ok = (spells["_last_abs"].to_numpy()[sel] >= 0) & (nxt >= 0) & (nxt < grid.n_grid)
    ok &= ~spells["right_censored"].to_numpy()[sel]
    sel, nxt = sel[ok], nxt[ok]
    rowp = bij_p[sel] - p0
    dest = np.where(emp_cov[rowp, nxt], "werk", np.where(ww_cov[rowp, nxt], "ww", "overig"))
    spells.loc[sel, "exit_destination"] = dest


def input_fingerprint(data: InputData, history_months: int = HISTORY_MONTHS) -> str:
    """A hash of the validated tables and window: the panel cache key."""
    h = hashlib.sha256()
    for name in ("persons", "households", "benefits", "jobs", "programmes"):
        frame = data.table(name)
        h.update(name.encode())
        h.update(str(len(frame)).encode())
        if len(frame):
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    h.update(f"{data.window_start}|{data.window_end}|{history_months}|{PANEL_VERSION}".encode())
    return h.hexdigest()[:16]


#: Written last into a cache folder: the SHA-256 of each of its files, checked before reuse.
CACHE_HASHES = "sha256.json"
_CACHE_FILES = ("months.parquet", "spells.parquet", "persons.parquet", "panel.json")


def cache_problem(folder: str | Path) -> str | None:
    """Why the panel cache in ``folder`` cannot be reused (None: every file matches its stored hash)."""
    from .io import file_sha256

    folder = Path(folder)
    try:
        stored = json.loads((folder / CACHE_HASHES).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"it has no {CACHE_HASHES} (an unfinished write, or an older version of the package)"
    except (OSError, ValueError) as e:
        return f"{CACHE_HASHES} cannot be read ({type(e).__name__})"
    if not isinstance(stored, dict) or sorted(stored) != sorted(_CACHE_FILES):
        return f"{CACHE_HASHES} does not list the panel's files"
    for name in _CACHE_FILES:
        try:
            if file_sha256(folder / name) != stored[name]:
                return f"{name} differs from the hash stored when it was written (changed or truncated)"
        except FileNotFoundError:
            return f"{name} is missing"
    return None


def _save_cache(panel: Panel, folder: Path) -> None:
    """Write the panel into ``folder`` atomically: a temporary folder beside it, hashes last, a rename."""
    import os
    import secrets
    import shutil

    from .io import file_sha256

    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        panel.save(tmp)
        hashes = {name: file_sha256(tmp / name) for name in _CACHE_FILES}
        (tmp / CACHE_HASHES).write_text(json.dumps(hashes, indent=2) + "\n", encoding="utf-8")
        if folder.exists():
            if cache_problem(folder) is None:  # another run wrote this panel meanwhile: keep theirs
                return
            shutil.rmtree(folder)  # the cache found unusable: replaced
        try:
            os.rename(tmp, folder)
        except OSError:  # another run wrote the same panel a moment ago: keep theirs
            if cache_problem(folder) is not None:
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def load_or_build_panel(data: InputData, cache_dir: str | Path, *, history_months: int = HISTORY_MONTHS,
                        echo=None):
    """Return ``(panel, cache_folder, reused)``: the cached panel for this input, built if absent.

    A cache is reused only when every file matches the SHA-256 stored when it was written (and
    it then loads); otherwise it is rebuilt, and ``echo`` (a print-like function) gets a line
    saying why. A cache that cannot be written (a read-only folder, a full disk) is skipped with
    a line: the run goes on without it.
    """
    key = input_fingerprint(data, history_months)
    folder = Path(cache_dir) / f"panel-{key}"
    say = echo or (lambda _msg: None)
    if folder.exists():
        problem = cache_problem(folder)
        if problem is None:
            try:
                panel = Panel.load(folder)
            except Exception as e:  # noqa: BLE001 - any unreadable cache is rebuilt
                problem = f"it cannot be read ({type(e).__name__}: {e})"
            else:
                if panel.window_start == data.window_start and panel.window_end == data.window_end:
                    return panel, folder, True
                problem = "its window differs from the input's"
        say(f"      panel cache {folder} is not usable: {problem}; rebuilding it")
    panel = build_panel(data, history_months=history_months)
    try:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        _save_cache(panel, folder)
    except OSError as e:
        say(f"      panel cache not written ({e.strerror or e}: {e.filename or cache_dir}); the run goes on without it")
    return panel, folder, False


def status_on(data: InputData, person_ids, dates) -> pd.Categorical:
    """The contract's status of each person on an exact date, from the raw spells.

    For dates that are not month ends (a stock on 1 January, 6 months after an exit on the
    14th); month-end statuses are read from the panel instead. Vectorised through a merge of the
    queries with each person's spells.
    """
    q = _queries(person_ids, dates)
    ben = data.benefits
    kind = ben["benefit"].astype(str)
    bij, ww = _covered(q, ben[kind == "bijstand"]), _covered(q, ben[kind == "ww"])
    job = _covered(q, data.jobs)
    code = np.select([bij & job, bij, job, ww],
                     [_S["bijstand_met_werk"], _S["bijstand"], _S["werk"], _S["ww"]], default=_S["overig"])
    return pd.Categorical.from_codes(code.astype(np.int8), categories=list(STATUS_ORDER))


def benefit_on(data: InputData, person_ids, dates, benefit: str = "other") -> np.ndarray:
    """True where a spell of ``benefit`` (a contract benefit: bijstand, ww, other) covers the person
    on the exact date, from the raw spells (the rule of :func:`status_on`). For the breakdown of
    'overig': a person whose status is overig on a date and who has an 'other' benefit then (AOW,
    WIA/WAO, Wajong, ANW, ...) lives on another benefit; without one, on no registered work or benefit.
    Returns a bool array aligned with the queries.
    """
    ben = data.benefits
    return _covered(_queries(person_ids, dates), ben[ben["benefit"].astype(str) == benefit])


def spells_cover(spells: pd.DataFrame, person_ids, dates) -> np.ndarray:
    """True where one of ``spells`` (person_id, start, end; NaT end = open) covers the person on the
    exact date: the rule of :func:`status_on`, for any spell table (e.g. participation, issue 16b)."""
    return _covered(_queries(person_ids, dates), spells)


def _queries(person_ids, dates) -> pd.DataFrame:
    q = pd.DataFrame({"person_id": pd.Series(person_ids).astype(str).to_numpy(),
                      "date": pd.to_datetime(pd.Series(dates)).to_numpy()})
    q["qi"] = np.arange(len(q))
    return q


def _covered(q: pd.DataFrame, spells: pd.DataFrame) -> np.ndarray:
    """For each query (person_id, date), whether one of ``spells`` covers the date (vectorised merge)."""
    hit = np.zeros(len(q), dtype=bool)
    if len(spells) == 0 or len(q) == 0:
        return hit
    m = q.merge(spells[["person_id", "start", "end"]].assign(person_id=lambda f: f.person_id.astype(str)),
                on="person_id", how="inner")
    ok = (m["start"] <= m["date"]) & (m["end"].isna() | (m["end"] >= m["date"]))
    hit[m.loc[ok, "qi"].to_numpy()] = True
    return hit
