"""Design matrices of the exit models and the panel-based exit-to-work model."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..contract import AGE_BANDS, EDUCATION, HOUSEHOLD_POSITIONS, MIGRATION, SEX, programme_term
from ..errors import InsufficientDataError, StatisticalWarning
from ..panel import Panel, covered_months, link_programme_starts, month_number
from .cox import TimeVaryingCoxModel
from .discrete import DiscreteTimeModel
from .grouped import Cells, concordance_cells
from .results import ExitToWorkResults, HazardResults
from .settings import (
    ALL_COVARIATES,
    DEFAULT_COVARIATES,
    HISTORY_BANDS,
    HISTORY_COLUMNS,
    LIFELINES_MAX_ROWS,
    MODEL_NAMES,
    REFERENCE,
    lock_in_term,
)
from .spells import bijstand_rows, history_band, spells_by_id
from .terms import Terms, TermsView, binary_term_counts, is_zero_one, on_or_values


def _years(months: np.ndarray) -> np.ndarray:
    """Months in the last 36 (int8) -> years as float32, the history terms' unit."""
    return (np.asarray(months, np.float64) / 12.0).astype(np.float32)


def level_dummies(values: np.ndarray, dim: str, levels: Sequence[str], reference: str) -> dict[str, np.ndarray]:
    """0/1 columns ``dim=level`` for every non-reference level present (contract order, then others)."""
    v = np.asarray(values).astype(str)
    present = set(np.unique(v))
    order = [lv for lv in levels if lv in present] + sorted(present - set(levels))
    return {f"{dim}={lv}": (v == lv).astype(np.int8) for lv in order if lv != reference}


def covariate_columns(att: pd.DataFrame, covariates: Sequence[str]) -> dict[str, np.ndarray]:
    spec = {
        "sex": ("sex", SEX),
        "age": ("age_band", AGE_BANDS),
        "migration": ("migration_background", MIGRATION),
        "household": ("household", HOUSEHOLD_POSITIONS),
        "education": ("education", EDUCATION),
    }
    cols: dict[str, np.ndarray] = {}
    for cov in covariates:
        if cov == "history":
            for c in HISTORY_COLUMNS:
                cols.update(level_dummies(history_band(att[c].fillna(0).to_numpy()), c,
                                     [b[2] for b in HISTORY_BANDS], REFERENCE["history"]))
        elif cov in spec:
            col, levels = spec[cov]
            cols.update(level_dummies(att[col].to_numpy(), cov, levels, REFERENCE[cov]))
        else:
            raise ValueError(f"unknown covariate group {cov!r}; expected some of {list(ALL_COVARIATES)}.")
    return cols


def programme_matches(panel: Panel, data, programmes: Sequence[str] | None) -> pd.DataFrame:
    """Programme spells linked to a bijstand spell by the package's one rule
    (:func:`~reintegration_effects.panel.link_programme_starts`: the spell covering the end of
    the start month): spell_id, programme, start_abs, first_cov, last_cov (covered month ends)."""
    cols = ["spell_id", "programme", "start_abs", "first_cov", "last_cov"]
    if data is None or len(getattr(data, "programmes", [])) == 0:
        return pd.DataFrame(columns=cols)
    link = link_programme_starts(panel.spells, data.programmes)
    keep = link["spell_id"].to_numpy() >= 0
    if programmes is not None:
        keep &= link["programme"].isin([str(p) for p in programmes]).to_numpy()
    m = link.loc[keep]
    f, last = covered_months(m["start"], m["end"])
    return pd.DataFrame({"spell_id": m["spell_id"].to_numpy(np.int64), "programme": m["programme"].to_numpy(),
                         "start_abs": m["start_month"].to_numpy(np.int64), "first_cov": f, "last_cov": last})


def _category_codes(categories) -> tuple[np.ndarray, list[str]]:
    """Labels for category codes -1 (NA), 0, ..., K-1 as str, NA -> 'unknown', equal labels merged:
    returns the label index of code c at position c + 1, and the labels."""
    labels = [str(c) for c in categories] + ["unknown"]
    uniq, remap = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    dtype = np.int16 if len(uniq) < 2 ** 15 else np.int32
    return np.r_[remap[-1], remap[:-1]].astype(dtype), [str(u) for u in uniq]


def _label_codes(values) -> tuple[np.ndarray, list[str]]:
    """Small integer codes and their labels for a categorical column (see :func:`_category_codes`):
    dummies are then built by comparing integer codes, not strings, which matters at millions of
    person-months."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, cats = s.cat.codes.to_numpy(), s.cat.categories
    else:
        codes, cats = pd.factorize(s.to_numpy())
    remap, labels = _category_codes(cats)
    return remap[codes.astype(np.int64) + 1], labels


def _add_code_dummies(terms: Terms, codes: np.ndarray, labels: Sequence[str], dim: str, levels: Sequence[str],
                      reference: str) -> None:
    """:func:`level_dummies` of ``labels[codes]`` without building the strings: the same terms, in the
    same order (levels present in contract order, then others sorted), added as bit planes."""
    counts = np.bincount(codes, minlength=len(labels)) if len(codes) else np.zeros(len(labels), dtype=np.int64)
    present = {labels[i] for i in np.flatnonzero(counts)}
    order = [lv for lv in levels if lv in present] + sorted(present - set(levels))
    pos = {lab: i for i, lab in enumerate(labels)}
    for lv in order:
        if lv != reference:
            terms.add_binary(f"{dim}={lv}", codes == pos[lv])


def _history_codes(v) -> np.ndarray:
    """Index into :data:`HISTORY_BANDS` of each value (as :func:`history_band`, without strings)."""
    v = np.asarray(v)
    out = np.full(len(v), len(HISTORY_BANDS) - 1, dtype=np.int8)
    for i, (lo, hi, _lab) in enumerate(HISTORY_BANDS):
        out[(v >= lo) & (v <= hi)] = i
    return out


#: Prefix of the 'ever participated' terms in a design's :class:`Terms` (next to the time-varying
#: programme terms of the same name).
_EVER = "ever:"


@dataclass
class _Design:
    """Person-month rows at risk of exit with their design (one row per spell-month in the window).

    The terms are kept compact in ``terms`` (:class:`Terms`: dummies as bit planes, history as
    int8 months): the model's terms ``x_names`` and the 'ever participated' terms (stored as
    ``ever:programme=LABEL``). :attr:`X` and :attr:`ever` materialise them as DataFrames (int8,
    float32 for history in years) for the small-data paths and the public functions."""

    sid: np.ndarray  # spell id (int32)
    start: np.ndarray  # spell_month k (int32)
    event: np.ndarray  # exit to the modelled destination at the next month end
    terms: Terms
    x_names: list[str]
    tv_terms: list[str]  # time-varying terms (programme / lock-in)
    labels: list[str]  # programme labels
    ever_names: list[str]  # 'ever participated in this spell' terms (programme=LABEL names)
    notes: list[str]
    cause: np.ndarray  # per row: 1 = leaves for work, 2 = elsewhere at the next month end, 0 = stays / censored
    spell_person_id: np.ndarray  # person_id (str) per spell id
    destination: str = "werk"
    cells: dict = field(default_factory=dict)  # collapsed cells per baseline, shared by destinations and variants

    @property
    def stop(self) -> np.ndarray:
        return self.start + 1

    @property
    def X(self) -> pd.DataFrame:
        return self.terms.frame(self.x_names)

    @property
    def ever(self) -> pd.DataFrame:
        return self.terms.frame([_EVER + c for c in self.ever_names], self.ever_names)

    def view(self, variant: str = "time_varying") -> TermsView:
        """The model's terms: 'time_varying' (:attr:`X`) or 'ever' (the time-varying programme
        terms replaced by the 'ever participated' ones, appended at the end)."""
        if variant == "time_varying":
            return TermsView(self.terms, self.x_names)
        cols = [c for c in self.x_names if c not in self.tv_terms]
        return TermsView(self.terms, cols + self.ever_names, cols + [_EVER + c for c in self.ever_names])

    @property
    def person_id(self) -> np.ndarray:
        return self.spell_person_id[self.sid]

    @property
    def n_spells(self) -> int:
        return int(np.count_nonzero(np.bincount(self.sid))) if len(self.sid) else 0

    def for_destination(self, destination: str) -> _Design:
        """The same design (rows, terms, cached cells) with the events of ``destination``."""
        return replace(self, event=_destination_event(self.cause, destination), destination=destination)


def _destination_event(cause: np.ndarray, destination: str) -> np.ndarray:
    if destination == "werk":
        return cause == 1
    if destination == "elsewhere":
        return cause == 2
    return cause > 0


def panel_covariates(terms: Terms, panel: Panel, src: np.ndarray, abs_m: np.ndarray, k: np.ndarray,
                      person_code: np.ndarray, covariates: Sequence[str], history: str) -> None:
    """Add the covariate terms of person-months to ``terms``: ``src`` = rows of ``panel.months``
    the time-varying values come from (the month itself, or the spell's first observed month),
    ``abs_m`` / ``k`` = their absolute month and spell month, ``person_code`` = position in
    ``panel.persons``.

    Person attributes are coded once per person and indexed by integer codes; categorical month
    columns use their category codes: no per-month strings are built."""
    m = panel.months
    persons = panel.persons.reset_index(drop=True)
    pc = np.clip(person_code, 0, None)

    def person_codes(col):
        if col not in persons.columns:
            return np.zeros(len(pc), dtype=np.int16), ["unknown"]
        codes, labels = _label_codes(persons[col])
        return codes[pc], labels

    for cov in covariates:
        if cov == "sex":
            _add_code_dummies(terms, *person_codes("sex"), "sex", SEX, REFERENCE["sex"])
        elif cov == "age":
            birth = persons["birth_date"]
            bm = month_number(birth.fillna(pd.Timestamp("1900-01-01"))).astype(np.int32)[pc]
            years = (abs_m - bm) // 12
            del bm
            band = np.where(years < 27, 0, np.where(years < 50, 1, 2)).astype(np.int8)
            del years
            band[birth.isna().to_numpy()[pc]] = 3
            _add_code_dummies(terms, band, [*AGE_BANDS, "unknown"], "age", AGE_BANDS, REFERENCE["age"])
        elif cov == "migration":
            _add_code_dummies(terms, *person_codes("migration_background"), "migration", MIGRATION,
                              REFERENCE["migration"])
        elif cov == "education":
            _add_code_dummies(terms, *person_codes("education"), "education", EDUCATION, REFERENCE["education"])
        elif cov == "status_holder":
            if "status_holder" in persons.columns:
                terms.add_binary("status_holder",
                                 persons["status_holder"].astype("boolean").fillna(False).to_numpy(bool)[pc])
        elif cov == "household":
            hh = m["household"]
            if isinstance(hh.dtype, pd.CategoricalDtype):
                remap, labels = _category_codes(hh.cat.categories)
                hc = remap[hh.cat.codes.to_numpy()[src].astype(np.int32) + 1]
            else:
                hc, labels = _label_codes(hh.to_numpy()[src])
            _add_code_dummies(terms, hc, labels, "household", HOUSEHOLD_POSITIONS, REFERENCE["household"])
        elif cov == "history":
            for c in HISTORY_COLUMNS:
                v = m[c].to_numpy()[src]
                if c == "hist_bijstand_36m":  # earlier spells only (the current spell's months are the time scale)
                    v = np.clip(v.astype(np.int16) - np.minimum(k, 36).astype(np.int16), 0, None)
                if history == "linear":  # whole months in the last 36, as int8; the term is years (float32)
                    terms.add_column(c, v.astype(np.int8), _years)
                else:
                    _add_code_dummies(terms, _history_codes(v), [b[2] for b in HISTORY_BANDS], c,
                                      [b[2] for b in HISTORY_BANDS], REFERENCE["history"])
        elif cov == "side_job":
            terms.add_binary("side_job", m["employed"].to_numpy()[src])
        elif cov == "year":
            yr = (abs_m + 1) // 12
            y0 = int(yr.min()) if len(yr) else 0
            labels = [str(y) for y in range(y0, int(yr.max()) + 1)] if len(yr) else []
            codes = (yr - y0).astype(np.int16)
            present = np.flatnonzero(np.bincount(codes, minlength=len(labels))) if len(yr) else []
            levels = [labels[i] for i in present]
            _add_code_dummies(terms, codes, labels, "year", levels, levels[0] if levels else "")
        else:
            raise ValueError(f"unknown covariate {cov!r}; expected some of {list(ALL_COVARIATES)}.")


def exit_design(panel: Panel, data, *, destination: str, covariates: Sequence[str], programmes, lock_in: bool,
                 time_varying: bool = True, history: str = "linear") -> _Design:
    if destination not in MODEL_NAMES:
        raise ValueError(f"destination={destination!r}; expected one of {list(MODEL_NAMES)}.")
    if history not in ("linear", "bands"):
        raise ValueError(f"history={history!r}; expected 'linear' or 'bands'.")
    for cov in covariates:
        if cov not in ALL_COVARIATES:
            raise ValueError(f"unknown covariate {cov!r}; expected some of {list(ALL_COVARIATES)}.")
    rows = bijstand_rows(panel)
    sp = spells_by_id(panel)
    keep_sp = (sp["covers_month_end"].fillna(False).to_numpy(bool) & sp["in_window"].fillna(False).to_numpy(bool))
    sel = keep_sp[rows.sid] if len(rows.sid) else np.zeros(0, dtype=bool)
    # the row of the window's last month: whether the person leaves by the next month end is unobserved
    sel &= rows.abs_m < panel.grid.last_window_month
    row_index = np.flatnonzero(sel)  # index into rows.* arrays
    del sel
    if len(rows.sid) < 2 ** 31:
        row_index = row_index.astype(np.int32)
    sid, k, abs_m = rows.sid[row_index], rows.k[row_index], rows.abs_m[row_index]
    last_abs = np.where(sp["last_month"].notna(), month_number(sp["last_month"].fillna(pd.Timestamp("2262-01-01"))),
                        np.iinfo(np.int32).max).astype(np.int32)
    censored = sp["right_censored"].to_numpy(bool)
    dest = sp["exit_destination"].astype(object).to_numpy()
    cause_sp = np.where(censored | pd.isna(dest), 0, np.where(dest == "werk", 1, 2)).astype(np.int8)
    cause = np.where(abs_m == last_abs[sid], cause_sp[sid], np.int8(0))
    persons = panel.persons.reset_index(drop=True)
    pcode = np.asarray(pd.Categorical(sp["person_id"].astype(str),
                                      categories=persons["person_id"].astype(str)).codes, dtype=np.int32)
    terms = Terms(len(sid))
    if time_varying:
        panel_covariates(terms, panel, rows.pos[row_index], abs_m, k, pcode[sid], covariates, history)
    else:  # the spell's first observed month
        src_idx = rows.first_row[sid]
        panel_covariates(terms, panel, rows.pos[src_idx], rows.abs_m[src_idx], rows.k[src_idx], pcode[sid],
                          covariates, history)
        del src_idx
    # programme terms: on from the start month for the rest of the spell; lock-in while it covers a month end
    pm = programme_matches(panel, data, programmes)
    labels = sorted(pm["programme"].unique()) if programmes is None else [str(p) for p in programmes]
    n_sp = len(sp)
    tv_terms, ever_names = [], []
    wl = panel.grid.last_window_month
    for lab in labels:
        p = pm[pm["programme"] == lab]
        first_start = np.full(n_sp, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first_start, p["spell_id"].to_numpy(np.int64), p["start_abs"].to_numpy(np.int64))
        terms.add_binary(programme_term(lab), abs_m >= first_start[sid])
        tv_terms.append(programme_term(lab))
        if lock_in:
            diff = np.zeros(len(rows.sid) + 1, dtype=np.int64)
            s_ids = p["spell_id"].to_numpy(np.int64)
            a = np.maximum(p["first_cov"].to_numpy(np.int64), rows.first_abs[s_ids])
            b = np.minimum(p["last_cov"].to_numpy(np.int64), rows.first_abs[s_ids] + rows.n_rows[s_ids] - 1)
            ok = (a <= b) & (rows.first_row[s_ids] >= 0)
            base = rows.first_row[s_ids][ok] - rows.first_abs[s_ids][ok]
            np.add.at(diff, base + a[ok], 1)
            np.add.at(diff, base + b[ok] + 1, -1)
            terms.add_binary(lock_in_term(lab), np.cumsum(diff)[:-1][row_index] > 0)
            del diff
            tv_terms.append(lock_in_term(lab))
    x_names = list(terms.names)
    for lab in labels:  # 'ever participated in this spell' (the immortal-time-biased comparison)
        p = pm[pm["programme"] == lab]
        ever_sp = np.zeros(n_sp, dtype=bool)
        ever_sp[p["spell_id"].to_numpy(np.int64)[p["start_abs"].to_numpy(np.int64) <= wl]] = True
        terms.add_binary(_EVER + programme_term(lab), ever_sp[sid])
        ever_names.append(programme_term(lab))
    small = np.int32 if (len(sid) == 0 or int(sid.max()) < 2 ** 31) else np.int64
    return _Design(sid=sid.astype(small, copy=False), start=k.astype(np.int32, copy=False),
                   event=_destination_event(cause, destination), terms=terms, x_names=x_names, tv_terms=tv_terms,
                   labels=labels, ever_names=ever_names, notes=[], cause=cause,
                   spell_person_id=sp["person_id"].astype(str).to_numpy(), destination=destination)


def drop_degenerate(X, event: np.ndarray, unit: np.ndarray | None = None,
                     what: str = "") -> tuple[list[str], list[str]]:
    """Terms to keep, and notes on the ones dropped (constant; for 0/1 terms also no events with,
    or no events without, the term: the estimate would be 0 or infinite). ``X``: a DataFrame or a
    :class:`TermsView`."""
    keep, notes = [], []
    ev = np.flatnonzero(np.asarray(event))
    n_ev = len(ev)
    for c in X.columns:
        on, v = on_or_values(X, c)
        if on is not None:
            n_on = int(np.count_nonzero(on))
            constant, binary = n_on in (0, len(on)), True
        else:
            constant, binary = v.min() == v.max(), is_zero_one(v)
        if constant:
            notes.append(f"{what}{c}: dropped, the same for every row at risk")
            continue
        if binary:
            on_ev = int(np.count_nonzero((on if on is not None else v)[ev]))
            if on_ev == 0:
                notes.append(f"{what}{c}: dropped, no events while the term is on (hazard ratio would be 0)")
                continue
            if on_ev == n_ev:
                notes.append(f"{what}{c}: dropped, every event happened while the term is on")
                continue
        keep.append(c)
    for note in notes:
        warnings.warn(note, StatisticalWarning, stacklevel=3)
    return keep, notes


def exit_person_periods(panel: Panel, data=None, *, destination: str = "werk",
                        covariates: Sequence[str] = DEFAULT_COVARIATES, programmes: Sequence[str] | None = None,
                        lock_in: bool = False, time_varying: bool = True, history: str = "linear") -> pd.DataFrame:
    """One row per bijstand spell-month in the window at risk of exit (the uncollapsed design).

    The window's last month has no rows: its outcome (the status at the next month end) is not
    observed; a spell still running there is censored after its previous month.

    Columns: spell_id, person_id, start (= spell_month k), stop (k + 1), time (= stop, the interval
    for the discrete-time model), event (0/1: off bijstand to ``destination`` at the next month
    end), then the terms: sex=F, age=27-49, age=50+, migration=..., status_holder, household=...,
    education=..., hist_employed_36m / hist_bijstand_36m / hist_ww_36m (in years with
    ``history="linear"``, or 0/1 bands ``hist_employed_36m=1-12`` ... with ``history="bands"``),
    side_job, year=YYYY, programme=LABEL (on from the start month for the rest of the spell) and,
    with ``lock_in``, lock_in=LABEL (while the programme covers the month end). With
    ``time_varying=True`` household, age band, history, side job and year are the values of each
    month; with False those of the spell's first observed month.
    """
    d = exit_design(panel, data, destination=destination, covariates=covariates, programmes=programmes,
                     lock_in=lock_in, time_varying=time_varying, history=history)
    sid, start, stop = d.sid.astype(np.int64), d.start.astype(np.int64), d.stop.astype(np.int64)
    out = pd.DataFrame({"spell_id": sid, "person_id": d.person_id, "start": start, "stop": stop,
                        "time": stop, "event": d.event.astype(np.int8)})
    return pd.concat([out, d.X.reset_index(drop=True)], axis=1)


def spell_episodes(sid, start, stop, event, X: pd.DataFrame, tv_terms: Sequence[str] | None = None) -> pd.DataFrame:
    """Merge consecutive person-months of a spell with equal terms into (start, stop] episodes (the
    Cox likelihood is unchanged: risk-set membership at each time is the same). ``tv_terms``: the
    columns that can change within a spell (default: all)."""
    n = len(sid)
    if n == 0:
        return pd.DataFrame(columns=["spell_id", "start", "stop", "event", *X.columns])
    new = np.r_[True, sid[1:] != sid[:-1]]
    new[1:] |= start[1:] != stop[:-1]
    cols = list(X.columns) if tv_terms is None else list(tv_terms)
    for c in cols:
        v = X[c].to_numpy()
        new[1:] |= v[1:] != v[:-1]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, n - 1]
    ev_cum = np.add.reduceat(np.asarray(event, np.int64), first)
    out = pd.DataFrame({"spell_id": sid[first], "start": start[first], "stop": stop[last],
                        "event": (ev_cum > 0).astype(np.int8)})
    return pd.concat([out, X.iloc[first].reset_index(drop=True)], axis=1)


def exit_episodes(panel: Panel, data=None, *, destination: str = "werk",
                  covariates: Sequence[str] = DEFAULT_COVARIATES, programmes: Sequence[str] | None = None,
                  lock_in: bool = False, time_varying: bool = True, history: str = "linear") -> pd.DataFrame:
    """Start/stop episodes for ``CoxTimeVaryingFitter``: :func:`exit_person_periods` with consecutive
    months of a spell merged while no term changes. Columns: spell_id, start, stop, event, terms."""
    d = exit_design(panel, data, destination=destination, covariates=covariates, programmes=programmes,
                     lock_in=lock_in, time_varying=time_varying, history=history)
    return spell_episodes(d.sid.astype(np.int64), d.start.astype(np.int64), d.stop.astype(np.int64), d.event, d.X)


def choose_engine(engine: str, n_rows: int, max_rows: int) -> str:
    if engine not in ("auto", "lifelines", "discrete"):
        raise ValueError(f"engine={engine!r}; expected 'auto', 'lifelines' or 'discrete'.")
    if engine == "auto":
        return "lifelines" if n_rows <= max_rows else "discrete"
    return engine


def _fit_periods(*, name: str, engine: str, d: _Design, variant: str, terms: Sequence[str], alpha, baseline,
                 start: HazardResults | None = None) -> HazardResults:
    """Fit the person-period design ``d`` with the chosen engine: the terms ``terms`` of
    ``d.view(variant)`` ('time_varying' or 'ever').

    The discrete engine collapses the rows once per baseline on all of the design's terms (the
    time-varying and the 'ever' ones) and caches the cells in ``d.cells``: the exit-to-work,
    exit-elsewhere and 'ever' models all fit on them (cells that differ only in terms a model
    leaves out give the same likelihood as the merged cells, the counts being sufficient)."""
    terms = list(terms)
    view = d.view(variant).subset(terms)
    term_counts = binary_term_counts(view, d.event, d.sid)
    if engine == "lifelines":
        Xk = view.frame()
        ep = spell_episodes(d.sid, d.start, d.stop, d.event, Xk)
        res = TimeVaryingCoxModel(alpha=alpha, name=name).fit(ep, id_col="spell_id", covariates=terms)
        res.term_counts = term_counts
        res.n = d.n_spells
        stop, event = d.stop, d.event

        def conc_fn(r):
            return concordance_cells(stop, Xk.to_numpy(float) @ r.params_.to_numpy(), event, np.ones(len(stop)))

        res._concordance_fn = conc_fn
        return res
    key = baseline if isinstance(baseline, str) else tuple(np.asarray(baseline, float))
    cells = d.cells.get(key)
    if cells is None:
        cells = Cells.from_rows(d.terms, d.start, {"werk": d.cause == 1, "elsewhere": d.cause == 2},
                                 baseline=baseline, time_offset=1)  # interval = stop = start + 1
        d.cells[key] = cells
    if d.destination not in cells.events:
        cells.events[d.destination] = cells.events["werk"] + cells.events["elsewhere"]
    return DiscreteTimeModel(link="cloglog", baseline=baseline, alpha=alpha, name=name)._fit_cells(
        cells, d.destination, terms, sources=[view.sources[c] for c in terms], term_counts=term_counts,
        n_units=d.n_spells, start=start)


class ExitToWorkModel:
    """Cause-specific hazard of leaving bijstand for ``destination``, with programmes over time.

    ``ExitToWorkModel(destination="werk", covariates=DEFAULT_COVARIATES, programmes=None,
    lock_in=False, time_varying=True, history="linear", engine="auto", baseline="interval",
    alpha=0.05, fit_ever=True, max_lifelines_rows=LIFELINES_MAX_ROWS)``; ``fit(panel, data)``
    returns :class:`ExitToWorkResults` (model ``exit_to_work``; ``exit_elsewhere`` / ``exit_any``
    for the other destinations). ``data`` (the
    :class:`~reintegration_effects.dataset.InputData`) supplies the programme spells; without it
    the model has no programme terms.

    Design (one row per bijstand spell-month in the window; time = months since the spell began;
    left truncation through the spell's first observed month): ``programme=LABEL`` switches on in
    the programme's start month and stays on for the rest of that spell (only programmes that
    started during the spell count); ``lock_in=LABEL`` (with ``lock_in=True``) is on while the
    programme covers the month end, so that ``programme=LABEL`` then measures the effect after
    the programme. Covariates (``covariates``, see :data:`ALL_COVARIATES`): sex, age band,
    migration background, status holder, household position, education, labour-market history
    (months employed, on earlier bijstand spells and on WW in the 36 months before; per 12 months
    with ``history="linear"``, bands 0 / 1-12 / 13-36 with ``"bands"``), side job, calendar year.
    With ``time_varying=True`` (default) the time-varying ones take each month's value, so the
    risk set at every duration compares people with what was known that month (programme take-up
    typically depends on exactly these); ``time_varying=False`` freezes them at the spell's first
    observed month (pre-programme for spells that began in the window; use it when the programme
    may change them, e.g. side jobs as a step towards work). References: the first contract levels
    (M, 18-26, dutch, single, low) and the first year. Exits to other destinations are censored at
    their exit (cause-specific hazard).

    ``engine="auto"`` uses lifelines' ``CoxTimeVaryingFitter`` up to ``max_lifelines_rows``
    person-months and the discrete-time cloglog model on collapsed cells above it (for a national
    register also pass ``history="bands"`` and duration bands as ``baseline`` to keep the cells
    few). ``fit_ever`` also fits the 'ever participated in this spell' dummy version
    (``results.ever``, the immortal-time-biased comparison for the report).
    """

    def __init__(self, *, destination: str = "werk", covariates: Sequence[str] = DEFAULT_COVARIATES,
                 programmes: Sequence[str] | None = None, lock_in: bool = False, time_varying: bool = True,
                 history: str = "linear", engine: str = "auto", baseline: str | Sequence[float] = "interval",
                 alpha: float = 0.05, fit_ever: bool = True, max_lifelines_rows: int = LIFELINES_MAX_ROWS):
        self.destination = destination
        self.covariates = covariates
        self.programmes = programmes
        self.lock_in = lock_in
        self.time_varying = time_varying
        self.history = history
        self.engine = engine
        self.baseline = baseline
        self.alpha = alpha
        self.fit_ever = fit_ever
        self.max_lifelines_rows = max_lifelines_rows

    @property
    def name(self) -> str:
        return MODEL_NAMES[self.destination]

    def _design(self, panel: Panel, data) -> _Design:
        return exit_design(panel, data, destination=self.destination, covariates=self.covariates,
                            programmes=self.programmes, lock_in=self.lock_in, time_varying=self.time_varying,
                            history=self.history)

    def design(self, panel: Panel, data=None) -> pd.DataFrame:
        """The person-month design this model fits (see :func:`exit_person_periods`)."""
        return exit_person_periods(panel, data, destination=self.destination, covariates=self.covariates,
                                   programmes=self.programmes, lock_in=self.lock_in,
                                   time_varying=self.time_varying, history=self.history)

    def fit(self, panel: Panel, data=None) -> ExitToWorkResults:
        return self._fit_design(self._design(panel, data))

    def _fit_design(self, d: _Design) -> ExitToWorkResults:
        """Fit on a design from :meth:`_design`, or from another destination's model with
        ``d.for_destination(self.destination)`` (the rows and terms are the same, only the events
        differ; cells collapsed for one destination are reused by the other)."""
        if not d.event.any():
            raise ValueError(f"{self.name}: no exits to {self.destination} in the window; nothing to fit.")
        engine = choose_engine(self.engine, len(d.sid), self.max_lifelines_rows)
        keep, notes = drop_degenerate(d.view(), d.event, what=f"{self.name}: ")
        if not keep:  # a handful of spells: every term constant, or without events on one side
            raise InsufficientDataError(f"{self.name}: the exits to {self.destination} leave no term that can be "
                                        f"estimated (all {len(notes)} dropped); nothing to fit.")
        res = _fit_periods(name=self.name, engine=engine, d=d, variant="time_varying", terms=keep,
                           alpha=self.alpha, baseline=self.baseline)
        out = _as_exit_results(res)
        out.notes = notes
        out.model = self
        out.programmes = tuple(lab for lab in d.labels if programme_term(lab) in keep)
        if self.fit_ever and len(d.ever_names):
            keep_e, notes_e = drop_degenerate(d.view("ever"), d.event, what=f"{self.name}_ever: ")
            if not keep_e:  # no programme term left: no 'ever' comparison (the immortal-time table stays empty)
                out.notes = [*notes, *notes_e, f"{self.name}_ever: no term left; immortal-time comparison left out"]
                return out
            # starting values: the time-varying fit (same baselines, nearly the same terms)
            ever = _fit_periods(name=f"{self.name}_ever", engine=engine, d=d, variant="ever", terms=keep_e,
                                alpha=self.alpha, baseline=self.baseline, start=res if engine != "lifelines" else None)
            ever.notes = notes_e
            out.ever = ever
        return out


def _as_exit_results(res: HazardResults) -> ExitToWorkResults:
    out = ExitToWorkResults.__new__(ExitToWorkResults)
    out.__dict__.update(res.__dict__)
    out.ever = None
    out.programmes = ()
    return out


def cause_specific_models(panel: Panel, data=None, **kwargs) -> dict[str, ExitToWorkResults]:
    """Cause-specific hazard models for exit to work and exit elsewhere (WW, overig), same design.

    Keyword arguments go to :class:`ExitToWorkModel` (except ``destination``). Returns
    ``{"werk": results, "elsewhere": results}`` (models ``exit_to_work`` and ``exit_elsewhere``).
    """
    kwargs.pop("destination", None)
    out, d = {}, None
    for dest in ("werk", "elsewhere"):  # one design: only the events differ
        model = ExitToWorkModel(destination=dest, **kwargs)
        d = model._design(panel, data) if d is None else d.for_destination(dest)
        out[dest] = model._fit_design(d)
    return out
