"""The term columns of a design, compact (0/1 terms as bit planes), and checks on them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd


def check_columns(df: pd.DataFrame, cols, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: column(s) {missing} not found; the frame has {list(df.columns)[:20]}. "
                         "Fix: pass the names of existing columns.")


def binary_term_counts(X, event: np.ndarray, unit: np.ndarray | None = None) -> pd.DataFrame:
    """term_n (units with the term on at some point) and term_events for 0/1 columns (bincounts
    over integer unit codes, no sorting). ``X``: a DataFrame or a :class:`TermsView`."""
    rows = {}
    ev = np.asarray(event).astype(bool)
    ucodes, n_u = None, 0
    if unit is not None:
        u = np.asarray(unit)
        if u.dtype.kind in "iu" and len(u) and u.min() >= 0 and u.max() < 4 * len(u) + 1024:
            ucodes, n_u = u, int(u.max()) + 1
        else:
            ucodes = pd.factorize(u, use_na_sentinel=False)[0]
            n_u = int(ucodes.max()) + 1 if len(ucodes) else 0
    for c in X.columns:
        on, v = on_or_values(X, c)
        if on is None:
            if not is_zero_one(v):
                rows[c] = (np.nan, np.nan)
                continue
            on = v == 1
        n_on = (int(np.count_nonzero(np.bincount(ucodes[on], minlength=n_u))) if ucodes is not None
                else int(np.count_nonzero(on)))
        rows[c] = (n_on, int(np.count_nonzero(on & ev)))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["term_n", "term_events"])


class Terms:
    """The term columns of a design or of its cells, compact: 0/1 terms as bit planes (one bit per
    row, ``np.packbits``), other terms as their own arrays with an optional transform to the
    term's values (e.g. int8 months -> float32 years).

    Why: a national person-month design has about 40 million rows and 35 dummy terms; as int8
    columns they take 1.4 GB, as bit planes 0.18 GB, and unpacking a chunk of a plane costs about
    as much as converting an int8 column (measured). Columns are materialised only on request
    (:meth:`column`, :meth:`frame`) and converted to float64 one chunk at a time in the fits
    (:meth:`block`)."""

    def __init__(self, n: int):
        self.n = int(n)
        self.names: list[str] = []
        self._planes: dict[str, np.ndarray] = {}
        self._cols: dict[str, tuple[np.ndarray, Callable | None]] = {}

    @classmethod
    def from_frame(cls, df: pd.DataFrame, columns: Sequence[str]) -> Terms:
        out = cls(len(df))
        for c in columns:
            out.add(c, _compact_column(df[c]))
        return out

    def add(self, name: str, values) -> None:
        """A term: a bit plane when its values are 0/1, else the array as it is."""
        v = np.asarray(values)
        if v.dtype.kind in "biuf" and is_zero_one(v):
            self.add_binary(name, v)
        else:
            self.add_column(name, v)

    def add_binary(self, name: str, on) -> None:
        self._planes[name] = np.packbits(np.asarray(on).astype(bool, copy=False), bitorder="little")
        self.names.append(name)

    def add_column(self, name: str, values: np.ndarray, transform: Callable | None = None) -> None:
        self._cols[name] = (np.asarray(values), transform)
        self.names.append(name)

    def is_binary(self, name: str) -> bool:
        return name in self._planes

    def on(self, name: str) -> np.ndarray:
        """A 0/1 term as a bool array."""
        return np.unpackbits(self._planes[name], count=self.n, bitorder="little").view(bool)

    def column(self, name: str) -> np.ndarray:
        """A term's values (0/1 terms as int8)."""
        if name in self._planes:
            return np.unpackbits(self._planes[name], count=self.n, bitorder="little").view(np.int8)
        v, f = self._cols[name]
        return v if f is None else f(v)

    def frame(self, names: Sequence[str] | None = None, labels: Sequence[str] | None = None) -> pd.DataFrame:
        names = self.names if names is None else list(names)
        labels = names if labels is None else list(labels)
        return pd.DataFrame({lab: self.column(c) for lab, c in zip(labels, names, strict=True)}, copy=False)

    def raw(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The stored values at ``rows`` (0/1 terms as bool), for keys and gathers."""
        p = self._planes.get(name)
        if p is None:
            return self._cols[name][0][rows]
        return ((p[rows >> 3] >> (rows & 7).astype(np.uint8)) & 1).view(bool)

    def take(self, rows: np.ndarray) -> Terms:
        out = Terms(len(rows))
        for c in self.names:
            if c in self._planes:
                out.add_binary(c, self.raw(c, rows))
            else:
                v, f = self._cols[c]
                out.add_column(c, v[rows], f)
        return out

    def words(self, names: Sequence[str], lo: int, hi: int) -> list[np.ndarray]:
        """The 0/1 terms ``names`` of rows ``lo:hi`` (``lo`` a multiple of 8: whole bytes of the
        planes) packed into one uint64 per row and 64 terms: the bit pattern of each row, a ready
        collapse key for all dummies at once."""
        from .grouped_kernels import pack_words

        if lo % 8:
            raise ValueError(f"Terms.words: lo={lo} must be a multiple of 8 (rows are read in whole bytes)")
        return [pack_words(np.stack([self._planes[c][lo >> 3:(hi + 7) >> 3] for c in names[g:g + 64]]), hi - lo)
                for g in range(0, len(names), 64)]

    def block(self, lo: int, hi: int, names: Sequence[str], out: np.ndarray) -> np.ndarray:
        """Terms ``names`` of rows ``lo:hi`` (``lo`` a multiple of 8) as float64 (terms x rows) in
        ``out``'s memory."""
        m = hi - lo
        out = out[:, :m]
        for r, c in enumerate(names):
            p = self._planes.get(c)
            if p is not None:
                out[r] = np.unpackbits(p[lo >> 3:(hi + 7) >> 3], count=m, bitorder="little")
            else:
                v, f = self._cols[c]
                out[r] = v[lo:hi] if f is None else f(v[lo:hi])
        return out


class TermsView:
    """Model terms read from a :class:`Terms` (``columns``: the model's names, ``sources``: the
    stored names), for the checks on 0/1 terms without materialising the design."""

    def __init__(self, terms: Terms, columns: Sequence[str], sources: Sequence[str] | None = None):
        self.terms = terms
        self.columns = list(columns)
        self.sources = dict(zip(self.columns, self.columns if sources is None else list(sources), strict=True))

    def subset(self, columns: Sequence[str]) -> TermsView:
        return TermsView(self.terms, columns, [self.sources[c] for c in columns])

    def on(self, c: str) -> np.ndarray | None:
        s = self.sources[c]
        return self.terms.on(s) if self.terms.is_binary(s) else None

    def values(self, c: str) -> np.ndarray:
        return self.terms.column(self.sources[c])

    def frame(self) -> pd.DataFrame:
        return self.terms.frame([self.sources[c] for c in self.columns], self.columns)


def on_or_values(X, c) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(bool array, None) for a 0/1 term of a :class:`TermsView`, else (None, values)."""
    if isinstance(X, TermsView):
        on = X.on(c)
        return (on, None) if on is not None else (None, X.values(c))
    return None, X[c].to_numpy()


def _compact_column(s: pd.Series) -> np.ndarray:
    """A covariate column as a numpy array in its own numeric dtype (int8 stays int8); anything
    else (nullable, object) as float64."""
    v = s.to_numpy()
    return v if v.dtype.kind in "biuf" else s.to_numpy(dtype=float)


def is_zero_one(v: np.ndarray) -> bool:
    if v.dtype.kind in "biu":
        return len(v) == 0 or (v.min() >= 0 and v.max() <= 1)
    return bool(((v == 0) | (v == 1)).all())
