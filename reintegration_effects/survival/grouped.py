"""Collapsed cells and the grouped-time Fisher scoring machinery behind :class:`DiscreteTimeModel`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .results import ph_table
from .terms import Terms


def _concordance_parts(time, score, events, at_risk) -> tuple[float, float, float]:
    """Concordant, tied and all comparable (event, non-event) pairs within intervals, from
    person-period cells (see :func:`concordance_cells`)."""
    time = np.asarray(time)
    score = np.asarray(score, float)
    e = np.asarray(events, float)
    ne = np.asarray(at_risk, float) - e
    if len(time) == 0:
        return 0.0, 0.0, 0.0
    t_codes = pd.factorize(time, sort=True)[0]
    order = np.argsort(score, kind="stable")
    order = order[np.argsort(t_codes[order].astype(np.int32 if t_codes.max() >= 2 ** 15 else np.int16), kind="stable")]
    t, s = t_codes[order], score[order]
    new = np.r_[True, (t[1:] != t[:-1]) | (s[1:] != s[:-1])]
    starts = np.flatnonzero(new)
    E = np.add.reduceat(e[order], starts)
    NE = np.add.reduceat(ne[order], starts)
    del order, new, s
    T = t[starts]
    cs = np.cumsum(NE)
    first_of_t = np.flatnonzero(np.r_[True, T[1:] != T[:-1]])
    t_run = np.cumsum(np.r_[True, T[1:] != T[:-1]]) - 1  # run of equal intervals of each (t, s) group
    before_t = (cs - NE)[first_of_t]  # non-events in earlier intervals
    cum_ne = cs - NE - before_t[t_run]  # non-events with a lower score, same interval
    tot_ne = np.add.reduceat(NE, first_of_t)[t_run]
    return float((E * cum_ne).sum()), float((E * NE).sum()), float((E * tot_ne).sum())


def concordance_cells(time, score, events, at_risk) -> float:
    """Harrell's C on person-period cells: within each interval, events vs non-events at risk.

    Sorted arrays instead of a pandas groupby (one lexicographic sort by interval and score, then
    segment sums), so that it stays a few seconds on tens of millions of cells."""
    conc, tied, total = _concordance_parts(time, score, events, at_risk)
    return float((conc + 0.5 * tied) / total) if total else float("nan")


def concordance_sorted(bcodes, score, events, at_risk) -> float:
    """:func:`concordance_cells` for cells sorted by interval, a batch of whole intervals
    (:data:`_COLLAPSE_ROWS` cells) at a time: the pairs never cross intervals, so the sums add up,
    and the sort's temporaries stay bounded."""
    n = len(bcodes)
    ends = np.r_[np.flatnonzero(bcodes[1:] != bcodes[:-1]) + 1, n] if n else np.zeros(0, dtype=np.intp)
    conc = tied = total = 0.0
    for start, stop in _interval_batches(ends, _COLLAPSE_ROWS):
        c, t, tot = _concordance_parts(bcodes[start:stop], score[start:stop], events[start:stop], at_risk[start:stop])
        conc, tied, total = conc + c, tied + t, total + tot
    return float((conc + 0.5 * tied) / total) if total else float("nan")


def _interval_batches(ends: np.ndarray, size: int):
    """(start, stop) of consecutive batches of whole intervals, for rows or cells sorted by
    interval: ``ends`` = where each interval's rows end (increasing); up to ``size`` rows per
    batch, or a single interval when it alone is larger."""
    n = int(ends[-1]) if len(ends) else 0
    start = 0
    while start < n:
        j = int(np.searchsorted(ends, start + size, side="right")) - 1
        stop = int(ends[j]) if j >= 0 else 0
        if stop <= start:
            stop = int(ends[np.searchsorted(ends, start, side="right")])
        yield start, stop
        start = stop


#: Cells per chunk in the grouped-time fits: the float64 work array is one columns x chunk buffer
#: (40 MB at 40 columns), allocated once per pass and reused, whatever the number of cells (fresh
#: 100 MB+ arrays per chunk were 4x slower, page faults included). A multiple of 8 (bit planes are
#: unpacked a byte at a time).
_CHUNK_CELLS = 1 << 17

#: Person-period rows per batch when collapsing (rows of whole intervals are hashed together):
#: bounds the hash table and key arrays to some 100 MB whatever the register's size.
_COLLAPSE_ROWS = 1 << 22


def _compact_counts(v: np.ndarray) -> np.ndarray:
    """Counts as int32 when they are whole numbers in [0, 2^31) (half the memory), else float64."""
    v = np.asarray(v)
    if len(v) == 0 or v.dtype == np.int32:
        return v.astype(np.int32)
    if v.min() < 0 or v.max() >= 2 ** 31:
        return v.astype(float)
    if v.dtype.kind == "f":
        for lo in range(0, len(v), _COLLAPSE_ROWS):  # whole numbers? (chunked: no full-size temporaries)
            part = v[lo:lo + _COLLAPSE_ROWS]
            if not np.array_equal(part, np.floor(part)):
                return v
    return v.astype(np.int32)


def _concat(parts: list) -> np.ndarray:
    """Concatenate and empty the list (so the parts are freed as soon as the whole exists)."""
    out = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    parts.clear()
    return out


def _band_codes(time, baseline, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interval code of each row (int16/int32, in sorted interval order) and the sorted distinct
    intervals: the time values themselves (``baseline="interval"``) or the cut point each time
    falls after (``[c_i, c_{i+1})``). ``offset`` is added to the times (for whole-number times
    and ``"interval"`` only to the labels: the codes are the same, and no shifted copy is made)."""
    t = np.asarray(time)
    if offset and not (isinstance(baseline, str) and t.dtype.kind in "iu"):
        t, offset = t + offset, 0
    if isinstance(baseline, str):
        if baseline not in ("interval", "monthly"):
            raise ValueError(f"baseline={baseline!r}; expected 'interval' or a sequence of cut points.")
        if t.dtype.kind in "iu" and len(t) and int(t.max()) - int(t.min()) < 2 ** 20:
            lo = int(t.min())
            # in the column's own dtype when that cannot overflow (saves an int64 copy of the rows)
            idx = (t if lo == 0 else t - t.dtype.type(lo)) if lo >= 0 and t.dtype != np.uint64 else t.astype(np.int64) - lo
            values = np.arange(int(t.max()) - lo + 1, dtype=np.int64) + lo + offset
        else:
            t = t + offset if offset else t
            idx, values = pd.factorize(t, sort=True)
            values = np.asarray(values)
    else:
        cuts = np.sort(np.asarray(baseline, float))
        idx = np.searchsorted(cuts, np.asarray(t, float), side="right") - 1
        if (idx < 0).any():
            raise ValueError(f"baseline cut points start at {cuts[0]:g}, but the data have times down to "
                             f"{np.min(t):g}. Fix: start the cut points at or below the smallest time.")
        values = cuts
    present = np.flatnonzero(np.bincount(idx, minlength=len(values))) if len(idx) else np.zeros(0, dtype=np.intp)
    small = np.int16 if len(present) < 2 ** 15 else np.int32
    remap = np.zeros(len(values), dtype=small)
    remap[present] = np.arange(len(present), dtype=small)
    return remap[idx], values[present]


class Cells:
    """Person-period rows collapsed to (interval, covariates) cells, sorted by interval.

    ``terms``: the cells' covariates (:class:`Terms`, compact: bit planes and int8 / float32
    arrays; a float64 copy of a national design, tens of millions of cells x 30 terms, would not
    fit next to the panel, so the fits convert one chunk of cells at a time). ``band_labels``: the
    sorted distinct intervals; ``bcodes``: each cell's index into them (non-decreasing).
    ``n_at``: persons at risk; ``expo``: exposure (None: ``n_at``); ``events``: event counts per
    outcome (the exit models of one design differ only in which exits count, so they share the
    cells). Counts are int32 when whole."""

    def __init__(self, terms: Terms, band_labels, bcodes, n_at, expo, events):
        self.terms = terms
        self.band_labels = band_labels
        self.bcodes = bcodes
        self.n_at = n_at
        self.expo = expo
        self.events = events
        self._patterns: _Patterns | None | bool = False

    @property
    def patterns(self) -> _Patterns | None:
        """The bit patterns of the 0/1 terms (:class:`_Patterns`), found on first use."""
        if self._patterns is False:
            self._patterns = _Patterns.of(self.terms)
        return self._patterns

    @property
    def names(self) -> list[str]:
        return self.terms.names

    def __len__(self) -> int:
        return len(self.bcodes)

    @classmethod
    def from_rows(cls, terms: Terms, time, events: dict, *, n_at=None, expo=None, baseline="interval",
                  collapse: bool = True, time_offset: int = 0) -> Cells:
        """Cells from person-period rows: ``terms`` (row level), ``time`` (interval), ``events``
        (name -> 0/1 or count per row), ``n_at`` (None: one person per row), ``expo``;
        ``time_offset`` is added to ``time``.

        The rows are ordered by interval (a stable radix sort) and collapsed in batches of whole
        intervals (:data:`_COLLAPSE_ROWS` rows): rows of different intervals never share a cell,
        so the batches are independent, the hash tables stay small, and the cells come out
        sorted by interval, within an interval in order of first appearance. The key of a row
        combines the interval, the bit pattern of all 0/1 terms (one uint64 per 64 terms) and the
        other terms' values (:func:`collapse_index`)."""
        bc_rows, labels = _band_codes(time, baseline, time_offset)
        n = len(bc_rows)
        order = np.argsort(bc_rows, kind="stable")
        if n < 2 ** 31:
            order = order.astype(np.int32)
        if not collapse:
            first_rows = order
            ev_c = {k: np.asarray(v, float)[order] for k, v in events.items()}
            n_c = np.ones(n) if n_at is None else np.asarray(n_at, float)[order]
            expo_c = None if expo is None else np.asarray(expo, float)[order]
        else:
            binary = [c for c in terms.names if terms.is_binary(c)]
            other = [c for c in terms.names if not terms.is_binary(c)]
            words = [np.empty(n, dtype=np.uint64) for _ in range(0, len(binary), 64)]
            for lo in range(0, n, _COLLAPSE_ROWS):
                for w, part in zip(words, terms.words(binary, lo, min(lo + _COLLAPSE_ROWS, n)), strict=True):
                    w[lo:lo + len(part)] = part
                    del part
            row_pid = uniq = None
            if len(words) == 1:  # up to 64 0/1 terms: number the patterns once, for the key and the cells
                row_pid, uniq = pd.factorize(words[0])
                words = [row_pid]
            ends = np.cumsum(np.bincount(bc_rows, minlength=len(labels)))  # end of each interval's rows
            firsts, ev_parts, n_parts, x_parts = [], {k: [] for k in events}, [], []
            for start, stop in _interval_batches(ends, _COLLAPSE_ROWS):
                seg = order[start:stop]
                inv, first = collapse_index([bc_rows[seg], *(w[seg] for w in words),
                                              *(terms.raw(c, seg) for c in other)])
                k = len(first)
                firsts.append(seg[first])
                for key, v in events.items():
                    ev_parts[key].append(_compact_counts(np.bincount(inv, weights=np.asarray(v)[seg], minlength=k)))
                n_parts.append(_compact_counts(np.bincount(inv, minlength=k) if n_at is None
                                               else np.bincount(inv, weights=np.asarray(n_at)[seg], minlength=k)))
                if expo is not None:
                    x_parts.append(np.bincount(inv, weights=np.asarray(expo)[seg], minlength=k))
                del inv, first, seg
            del words, order
            first_rows = _concat(firsts)
            cell_pid = row_pid[first_rows] if row_pid is not None else None
            del row_pid
            ev_c = {key: _concat(parts) for key, parts in ev_parts.items()}
            n_c = _concat(n_parts)
            expo_c = None if expo is None else _concat(x_parts)
        out = cls(terms.take(first_rows), labels, bc_rows[first_rows], _compact_counts(n_c),
                  None if expo_c is None else np.asarray(expo_c, float),
                  {k: _compact_counts(v) for k, v in ev_c.items()})
        if collapse and cell_pid is not None:  # the cells' patterns from the rows' (every pattern has a cell)
            out._patterns = _Patterns.from_words(cell_pid, uniq, binary, len(out))
        return out

    @classmethod
    def from_durations(cls, terms: Terms, duration, event, *, baseline="interval",
                       max_entries: int = 20_000_000) -> Cells | None:
        """Cells of subjects with time-fixed terms, at risk in intervals 1, ..., ``duration`` (whole
        units) with the event, if any, in the last: the cells of :func:`expand_person_periods`
        collapsed, without building the person-periods. Subjects with equal terms form a group;
        at risk in interval t = members with duration >= t, events = members with the event at
        t. None when the groups x durations table would exceed ``max_entries`` (then expand)."""
        T = np.asarray(duration, float)
        if not np.array_equal(T, np.round(T)):
            return None
        T = T.astype(np.int64)
        ev = np.asarray(event).astype(bool)
        keep = np.flatnonzero(T >= 1)
        if len(keep) == 0:
            return None
        T, ev = T[keep], ev[keep]
        binary = [c for c in terms.names if terms.is_binary(c)]
        other = [c for c in terms.names if not terms.is_binary(c)]
        words = terms.words(binary, 0, terms.n) if binary else []
        if words or other:
            inv, first = collapse_index([*(w[keep] for w in words), *(terms.raw(c, keep) for c in other)])
        else:  # no terms: one group
            inv, first = np.zeros(len(keep), dtype=np.intp), np.zeros(1, dtype=np.intp)
        n_groups, width = len(first), int(T.max()) + 1
        if n_groups * width > max_entries:
            return None
        flat = inv.astype(np.int64) * width + T
        ends = np.bincount(flat, minlength=n_groups * width).reshape(n_groups, width)
        evs = np.bincount(flat, weights=ev, minlength=n_groups * width).reshape(n_groups, width)
        at_risk = np.cumsum(ends[:, ::-1], axis=1)[:, ::-1]  # members with duration >= t
        tt, gg = np.nonzero(at_risk[:, 1:].T > 0)  # interval-major: cells sorted by interval
        n_at, e_c = at_risk[gg, tt + 1], evs[gg, tt + 1]
        bc, labels = _band_codes(tt + 1, baseline)
        if not isinstance(baseline, str):  # duration bands: merge the intervals of a band
            merged, inv2 = np.unique(bc.astype(np.int64) * n_groups + gg, return_inverse=True)
            n_at = np.bincount(inv2, weights=n_at, minlength=len(merged))
            e_c = np.bincount(inv2, weights=e_c, minlength=len(merged))
            bc, gg = (merged // n_groups).astype(bc.dtype), merged % n_groups
        return cls(terms.take(keep[first[gg]]), labels, bc, _compact_counts(n_at), None,
                   {"event": _compact_counts(e_c)})

    def block(self, lo: int, hi: int, names: Sequence[str], out: np.ndarray) -> np.ndarray:
        return self.terms.block(lo, hi, names, out)

    def chunks(self):
        n = len(self)
        return ((lo, min(lo + _CHUNK_CELLS, n)) for lo in range(0, n, _CHUNK_CELLS))

    def linear_predictor(self, names: Sequence[str], beta: np.ndarray) -> np.ndarray:
        out = np.empty(len(self))
        buf = np.empty((len(names), min(_CHUNK_CELLS, len(self))))
        for lo, hi in self.chunks():
            out[lo:hi] = beta @ self.block(lo, hi, names, buf)
        return out

    def frame(self, names: Sequence[str], labels: Sequence[str], event_key: str, active: np.ndarray) -> pd.DataFrame:
        """The cells of the active intervals as a DataFrame: the terms ``names`` under ``labels``
        (compact dtypes), interval, events, at_risk; re-collapsed when ``names`` leaves out some
        of the stored terms."""
        on = np.flatnonzero(active[self.bcodes])
        cols = [self.terms.column(c)[on] for c in names]
        band = self.band_labels[self.bcodes[on]]
        ev, n_at = self.events[event_key][on].astype(float), self.n_at[on].astype(float)
        if len(names) < len(self.names) and len(band):
            inv, first = collapse_index([band, *cols])
            ev = np.bincount(inv, weights=ev, minlength=len(first))
            n_at = np.bincount(inv, weights=n_at, minlength=len(first))
            cols, band = [c[first] for c in cols], band[first]
        out = pd.DataFrame(dict(zip(labels, cols, strict=True)))
        return out.assign(interval=band, events=ev, at_risk=n_at)


@dataclass
class _GroupedFit:
    params: np.ndarray  # baseline coefficients (active intervals), then beta
    cov_beta: np.ndarray
    se_alpha: np.ndarray
    converged: bool
    fitter: object = None


def fit_grouped(cells: Cells, ev, idx, active, link, solver, start) -> _GroupedFit:
    """Maximum likelihood of the grouped-time model (baseline per active interval + X beta) on cells."""
    if solver == "newton":
        with single_thread_blas():
            return _grouped_newton(cells, ev, idx, active, link, start)
    import statsmodels.api as sm

    on = np.flatnonzero(active[cells.bcodes])
    kmap = np.cumsum(active) - 1
    b = kmap[cells.bcodes[on]]
    nb = int(active.sum())
    X = np.column_stack([cells.terms.column(c)[on].astype(float) for c in idx]) if len(idx) else np.zeros((len(on), 0))
    e, n_at = ev[on].astype(float), cells.n_at[on].astype(float)
    B = np.zeros((len(on), nb))
    B[np.arange(len(on)), b] = 1.0
    design = np.hstack([B, X])
    if link == "cloglog":
        glm = sm.GLM(np.column_stack([e, n_at - e]), design,
                     family=sm.families.Binomial(link=sm.families.links.CLogLog()), hasconst=True)
    else:
        expo = (cells.n_at if cells.expo is None else cells.expo)[on]
        glm = sm.GLM(e, design, family=sm.families.Poisson(), offset=np.log(expo), hasconst=True)
    with warnings.catch_warnings(), single_thread_blas():
        warnings.simplefilter("ignore")
        res = glm.fit(start_params=start, tol=1e-10, maxiter=100)
        cov = res.cov_params()
    return _GroupedFit(np.asarray(res.params), cov[nb:, nb:], np.sqrt(np.diag(cov)[:nb]), bool(res.converged), res)


def single_thread_blas():
    """One BLAS thread for the dense fits: OpenBLAS threads thrash on these tall, narrow designs
    (measured 6x to 50x slower on a busy 2-core machine). A no-op without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class _Patterns:
    """The distinct bit patterns of the cells' 0/1 terms: ``pid`` (int32 per cell) and ``table``
    (patterns x 0/1 terms, uint8), ``col``: term name -> column of the table.

    Why: the information block X'WX of the 0/1 terms equals T' diag(sum of w per pattern) T, with
    T the pattern table. A national design has tens of millions of cells but only some 10^4 to
    10^6 patterns, so one bincount per pass replaces the p^2 multiply-adds per cell of X'WX (the
    dearest step of a pass, measured 4.5 ms per 65,536 cells at 32 terms)."""

    def __init__(self, pid: np.ndarray, table: np.ndarray, names: Sequence[str]):
        self.pid = pid
        self.table = table
        self.col = {c: j for j, c in enumerate(names)}

    @property
    def n(self) -> int:
        return len(self.table)

    @classmethod
    def from_words(cls, pid: np.ndarray, words: np.ndarray, binary: Sequence[str], n: int) -> _Patterns | None:
        """Patterns from each cell's pattern number ``pid`` and the distinct words (bit j = term
        ``binary[j]``); None when there are more than half as many patterns as the ``n`` cells."""
        if len(words) > n // 2 or not len(binary) or n == 0:
            return None
        bits = np.unpackbits(np.asarray(words, dtype=np.uint64).view(np.uint8).reshape(-1, 8), axis=1,
                             bitorder="little")
        return cls(np.asarray(pid).astype(np.int32), np.ascontiguousarray(bits[:, :len(binary)]), binary)

    @classmethod
    def of(cls, terms: Terms) -> _Patterns | None:
        """Patterns of the 0/1 terms; None when there are none or nearly as many as cells."""
        binary = [c for c in terms.names if terms.is_binary(c)]
        if not binary or terms.n == 0:
            return None
        words = [np.empty(terms.n, dtype=np.uint64) for _ in range(0, len(binary), 64)]
        for lo in range(0, terms.n, _COLLAPSE_ROWS):
            for w, part in zip(words, terms.words(binary, lo, min(lo + _COLLAPSE_ROWS, terms.n)), strict=True):
                w[lo:lo + len(part)] = part
                del part
        if len(words) == 1:  # up to 64 terms: the word is the pattern
            inv, uniq = pd.factorize(words[0])
            del words
            return cls.from_words(inv, uniq, binary, terms.n)
        inv, first = collapse_index(words)
        del words
        if len(first) > terms.n // 2:
            return None
        table = np.stack([terms.raw(c, first) for c in binary], axis=1).view(np.uint8)
        return cls(inv.astype(np.int32), table, binary)


class Gram:
    """Accumulates X' diag(v) X over chunks of cells for the terms ``names``: the 0/1 terms through
    the cells' patterns (:class:`_Patterns`: sums of v and of v x other term per pattern), the
    other terms densely."""

    def __init__(self, patterns: _Patterns | None, names: Sequence[str]):
        self.names = list(names)
        self.pat = patterns
        self.bin = [r for r, c in enumerate(self.names) if patterns is not None and c in patterns.col]
        on = set(self.bin)
        self.flt = [r for r in range(len(self.names)) if r not in on]
        nP = patterns.n if self.bin else 0
        self.wp = np.zeros(nP)
        self.wf = np.zeros((len(self.flt), nP))
        self.aff = np.zeros((len(self.flt), len(self.flt)))

    def add(self, XT: np.ndarray, pid: np.ndarray | None, v: np.ndarray) -> None:
        F = XT[self.flt] if self.bin else XT
        if self.bin:
            self.wp += np.bincount(pid, weights=v, minlength=len(self.wp))
            for r in range(len(self.flt)):
                self.wf[r] += np.bincount(pid, weights=v * F[r], minlength=len(self.wp))
        if len(self.flt):
            self.aff += (F * v) @ F.T

    def matrix(self) -> np.ndarray:
        p = len(self.names)
        A = np.zeros((p, p))
        if self.bin:
            cols = [self.pat.col[self.names[r]] for r in self.bin]
            bb = np.zeros((len(cols), len(cols)))
            bf = np.zeros((len(cols), len(self.flt)))
            for lo in range(0, len(self.wp), _CHUNK_CELLS):  # pattern table as float64 a chunk at a time
                T = self.pat.table[lo:lo + _CHUNK_CELLS, cols].astype(float)
                bb += T.T @ (T * self.wp[lo:lo + _CHUNK_CELLS, None])
                bf += T.T @ self.wf[:, lo:lo + _CHUNK_CELLS].T
            A[np.ix_(self.bin, self.bin)] = bb
            A[np.ix_(self.bin, self.flt)] = bf
            A[np.ix_(self.flt, self.bin)] = bf.T
        A[np.ix_(self.flt, self.flt)] = self.aff
        return A


@dataclass
class PassSums:
    """Log-likelihood, score and information of the grouped-time model at one point.

    Blocks of the information: ``D`` (baseline, diagonal), ``C`` (baseline x beta), ``A`` (beta
    x beta), observed or expected as requested; ``expected``: the expected-information blocks
    (D, C, A) when they were computed as well (or instead); scores ``ga`` (baseline) and ``gb``
    (beta). With ``g_band`` also the blocks of the interactions z = x g(t) that the score test
    needs (expected information): ``uz`` (their score), ``azx`` (z x beta) and ``zz`` (z x z)."""

    ll: float
    ga: np.ndarray
    gb: np.ndarray
    D: np.ndarray
    C: np.ndarray
    A: np.ndarray
    expected: tuple | None = None
    uz: np.ndarray | None = None
    azx: np.ndarray | None = None
    zz: np.ndarray | None = None


def pass_setup(active, alpha, nb_all: int, link: str, info: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """What every pass needs first: the baseline of each interval (0 where inactive) and the
    information kinds to accumulate ('o' observed, 'e' expected; Poisson: canonical link, so
    observed = expected and only 'e')."""
    kmap = np.cumsum(active) - 1
    a_full = np.where(active, np.asarray(alpha, float)[np.clip(kmap, 0, None)], 0.0) if len(alpha) else np.zeros(nb_all)
    if link != "cloglog":
        info = "expected"
    return a_full, {"expected": ("e",), "observed": ("o",), "both": ("o", "e")}[info]


def grouped_pass(cells: Cells, ev, names, active, alpha, beta, link, info: str = "expected",
                  g_band=None, compiled: bool = True) -> PassSums:
    """One pass over the cells at (alpha, beta), accumulated chunk by chunk (:data:`_CHUNK_CELLS`).

    Hand-written because statsmodels' GLM needs the dense design with one dummy per interval (cells
    x (intervals + p) float64), which does not fit in memory for a national register. Here each
    chunk is converted to float64 on its own; the cells being sorted by interval, the baseline
    blocks are sums over each interval's segment of the chunk (D, score) and one matrix-vector
    product per segment (C); X'WX goes through the cells' bit patterns (:class:`Gram`).
    ``info``: 'expected' (Fisher), 'observed' (minus the Hessian) or 'both' information blocks.
    Intervals outside ``active`` get weight zero (they are not part of the model).
    ``compiled``: the compiled cell loop (:func:`.grouped_compiled.compiled_pass`) where the cells have bit
    patterns and no ``g_band`` is asked for; False: the numpy chunks below (the same sums, in
    another order; the tests compare the two)."""
    if compiled and g_band is None and cells.patterns is not None:
        from .grouped_compiled import compiled_pass

        return compiled_pass(cells, ev, names, active, alpha, beta, link, info)
    nb_all = len(cells.band_labels)
    p = len(names)
    a_full, kinds = pass_setup(active, alpha, nb_all, link, info)
    masked = not active.all()
    pat = cells.patterns
    blocks = {k: (np.zeros(nb_all), np.zeros((nb_all, p)), Gram(pat, names)) for k in kinds}
    ga, gb = np.zeros(nb_all), np.zeros(p)
    uz = gz1 = gz2 = None
    if g_band is not None:
        uz, gz1, gz2 = np.zeros(p), Gram(pat, names), Gram(pat, names)
    ll = 0.0
    expo_all = cells.n_at if cells.expo is None else cells.expo
    buf = np.empty((p, min(_CHUNK_CELLS, len(cells))))
    for lo, hi in cells.chunks():
        bc = cells.bcodes[lo:hi]
        pid = pat.pid[lo:hi] if pat is not None else None
        XT = cells.block(lo, hi, names, buf)
        eta = a_full[bc] + beta @ XT
        mu = np.exp(np.clip(eta, -50, 30))
        e, n = ev[lo:hi], cells.n_at[lo:hi]
        weights = {}
        if link == "cloglog":
            em1 = np.expm1(mu)
            lli = e * np.log(-np.expm1(-mu)) - (n - e) * mu
            g = mu * (e / em1 - (n - e))
            if "e" in kinds:
                weights["e"] = n * mu ** 2 / em1
            if "o" in kinds:  # -d2 ll / d eta2 >= 0 (the cloglog likelihood is concave in eta)
                weights["o"] = (n - e) * mu + e * (mu / em1) * (mu * (em1 + 1) / em1 - 1)
        else:
            mu = mu * expo_all[lo:hi]
            lli = e * np.log(mu) - mu
            g = e - mu
            weights["e"] = mu
        if masked:
            on = active[bc]
            lli, g = np.where(on, lli, 0.0), np.where(on, g, 0.0)
            weights = {k: np.where(on, w, 0.0) for k, w in weights.items()}
        ll += float(lli.sum())
        starts = np.flatnonzero(np.r_[True, bc[1:] != bc[:-1]])
        ends = np.r_[starts[1:], len(bc)]
        seg = bc[starts]
        ga[seg] += np.add.reduceat(g, starts)
        gb += XT @ g
        for k, w in weights.items():
            D, C, gram = blocks[k]
            D[seg] += np.add.reduceat(w, starts)
            for b, s0, s1 in zip(seg, starts, ends, strict=True):
                C[b] += XT[:, s0:s1] @ w[s0:s1]
            gram.add(XT, pid, w)
            if g_band is not None and k == "e":
                gc = g_band[bc]
                uz += XT @ (g * gc)
                wg = w * gc
                gz1.add(XT, pid, wg)
                gz2.add(XT, pid, wg * gc)
    out = {k: (D[active], C[active], gram.matrix()) for k, (D, C, gram) in blocks.items()}
    first = out[kinds[0]]
    return PassSums(ll, ga[active], gb, *first, out.get("e"), uz,
                 gz1.matrix() if gz1 is not None else None, gz2.matrix() if gz2 is not None else None)


def _grouped_newton(cells: Cells, ev, idx, active, link, start, tol=1e-10, maxiter=100) -> _GroupedFit:
    """Newton-Raphson with a diagonal baseline block: solve for beta through the Schur complement
    S = A - C' D^-1 C (p x p), then the baselines; standard errors from the expected information
    (as statsmodels' IRLS) at the estimate.

    Steps use the observed information: Fisher scoring (the expected one) converges only linearly
    in intervals with one or two events (8-9 passes over the cells instead of 5-6). Each pass
    returns the likelihood, score and information at once, so an accepted step costs one pass;
    the expected information is added to the passes once the steps are small (the last one is
    where the covariance comes from). Converged when a step is below ``tol``: the step is taken
    and the covariance is that of the point it started from (a relative difference of the order
    of the step, 1e-10)."""
    nb, p = int(active.sum()), len(idx)
    alpha, beta = start[:nb].astype(float).copy(), start[nb:].astype(float).copy()
    cur = grouped_pass(cells, ev, idx, active, alpha, beta, link, info="observed")
    converged = False
    n_pass = 1

    def direction(r):
        S = r.A - r.C.T @ (r.C / r.D[:, None])
        db = np.linalg.solve(S, r.gb - r.C.T @ (r.ga / r.D)) if p else np.zeros(0)
        return (r.ga - r.C @ db) / r.D, db

    for _ in range(maxiter):
        da, db = direction(cur)
        size = max(np.max(np.abs(da), initial=0), np.max(np.abs(db), initial=0))
        if size < tol:
            alpha, beta = alpha + da, beta + db
            converged = True
            break
        step = 1.0
        for _ in range(30):  # step halving keeps the likelihood increasing
            info = "both" if step * size < 1e-4 else "observed"
            new = grouped_pass(cells, ev, idx, active, alpha + step * da, beta + step * db, link, info=info)
            n_pass += 1
            if new.ll >= cur.ll - 1e-12 * abs(cur.ll):
                break
            step /= 2
        alpha, beta = alpha + step * da, beta + step * db
        cur = new
    if cur.expected is None:  # no small step yet (not converged, or converged at the start)
        cur = grouped_pass(cells, ev, idx, active, alpha, beta, link, info="expected")
        n_pass += 1
    D, C, A = cur.expected
    S = A - C.T @ (C / D[:, None])
    cov_beta = np.linalg.inv(S) if p else np.zeros((0, 0))
    DC = C / D[:, None]
    var_alpha = 1 / D + np.einsum("bi,ij,bj->b", DC, cov_beta, DC)
    return _GroupedFit(np.concatenate([alpha, beta]), cov_beta, np.sqrt(var_alpha), converged,
                       {"loglik": cur.ll, "solver": "newton", "passes": n_pass})


def start_values(cells: Cells, ev, active, p, link):
    """Start at the covariate-free MLE: each active interval's pooled hazard, beta = 0."""
    nb_all = len(cells.band_labels)
    e = np.bincount(cells.bcodes, weights=ev, minlength=nb_all)[active]
    n = np.bincount(cells.bcodes, weights=cells.n_at if (link == "cloglog" or cells.expo is None) else cells.expo,
                    minlength=nb_all)[active]
    if link == "cloglog":
        h = np.clip(e / n, 1e-10, 1 - 1e-10)
        a = np.log(-np.log1p(-h))
    else:
        a = np.log(np.maximum(e / n, 1e-10))
    return np.concatenate([a, np.zeros(p)])


def discrete_ph_test(cells: Cells, ev, idx, active, link, params, covariates) -> pd.DataFrame:
    """Score test of each term's interaction with log(interval), at the fitted model (one pass).

    The model with all interactions z_j = x_j g(t), g = log(interval) (centred), is not refitted:
    from the efficient score U of the interactions at the fit (theta = 0) and their efficient
    information V (the Schur complement of the expected information, baselines and beta projected
    out), one scoring step gives theta = V^-1 U with covariance V^-1, and each term's statistic
    is theta_j^2 / (V^-1)_jj, 1 df. This is how the Grambsch-Therneau test works (scaled Schoenfeld
    residuals are such a one-step estimate, from the null fit), here in the grouped-time model; it
    tests the same hypothesis as the Wald test of each interaction after refitting the model with
    2p columns, which costs a full Newton iteration (4x the work of a fit iteration) per step."""
    p = len(idx)
    nb = int(active.sum())
    band = np.asarray(cells.band_labels, float)
    g_band = np.log(np.maximum(band, 1e-9))
    e_band = np.bincount(cells.bcodes, weights=ev, minlength=len(band))
    g_band = g_band - np.average(g_band, weights=e_band)
    with single_thread_blas():
        r = grouped_pass(cells, ev, idx, active, params[:nb], params[nb:], link, info="expected", g_band=g_band)
    if p == 0:
        return ph_table(covariates, [], 1, [], "interaction with log(duration), score")
    CD = r.C / r.D[:, None]
    gz = g_band[active][:, None] * r.C  # baseline x z block: g is constant within an interval
    S = r.A - r.C.T @ CD
    Sinv = np.linalg.inv(S)
    R = r.azx - gz.T @ CD  # z x beta block with the baselines projected out
    V = r.zz - gz.T @ (gz / r.D[:, None]) - R @ Sinv @ R.T
    u = r.uz - gz.T @ (r.ga / r.D) - R @ (Sinv @ (r.gb - CD.T @ r.ga))  # = uz up to the fit's tolerance
    Vinv = np.linalg.pinv((V + V.T) / 2)
    theta = Vinv @ u
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(np.diag(Vinv) > 0, theta ** 2 / np.diag(Vinv), np.nan)
    return ph_table(covariates, stat, 1, stats.chi2.sf(stat, 1), "interaction with log(duration), score")


def collapse_index(cols: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Cell of each row (numbered in order of first appearance) and the first row of each cell.

    The columns' own values are combined into one int64 key in mixed radix (small integer columns
    directly, others through ``pd.factorize``), then the key is factorised once. When the radix
    product would overflow, the key so far is replaced by its dense codes first. No float64 or
    DataFrame copy of the columns is made."""
    n = len(cols[0]) if len(cols) else 0
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for v in cols:
        v = np.asarray(v)
        if n == 0:
            break
        if v.dtype.kind in "biu":
            lo, hi = int(v.min()), int(v.max())
            r, code, shift = hi - lo + 1, v, lo
            if r > 2 * n + 1024 or hi >= 2 ** 62 or lo <= -(2 ** 62):
                # sparse values (ids, bit patterns): dense codes instead of the raw range
                code, u = pd.factorize(v)
                r, shift = max(len(u), 1), 0
            elif v.dtype == np.uint64:
                code = v.astype(np.int64)
        else:
            code, u = pd.factorize(v, use_na_sentinel=False)
            r, shift = max(len(u), 1), 0
        if size * r >= 2 ** 62:  # the key would overflow: compress what we have to dense codes
            key = pd.factorize(key)[0].astype(np.int64)
            size = int(key.max()) + 1
        key *= r
        key += code
        if shift:
            key -= shift
        size *= r
    inv = pd.factorize(key)[0] if n else np.zeros(0, dtype=np.intp)
    del key
    # codes are numbered by first appearance: a row opens a new cell where its code exceeds all before it
    if n:
        first = np.flatnonzero(np.r_[True, inv[1:] > np.maximum.accumulate(inv)[:-1]])
    else:
        first = np.zeros(0, dtype=np.intp)
    return inv, first
