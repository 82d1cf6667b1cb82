"""The grouped-time Fisher-scoring pass through the compiled cell loop (:mod:`.grouped_kernels`).

:func:`compiled_pass` is what :func:`.grouped.grouped_pass` runs where the cells have bit patterns:
the same likelihood, scores and information blocks as the numpy chunks there (sums in another
order), the 0/1 terms read per pattern instead of unpacked per cell.
"""

from __future__ import annotations

import numpy as np

from . import grouped as _g
from .grouped import Cells, Gram, PassSums


def _pattern_layout(cells: Cells, names) -> tuple:
    """How the model terms ``names`` sit in the cells' bit patterns, built once per cells and
    terms: the model rows of the 0/1 terms and of the others, and the pattern table of the 0/1
    terms in model order (patterns x terms, uint8, contiguous)."""
    key = tuple(names)
    cache = cells.__dict__.setdefault("_layouts", {})
    if key not in cache:
        pat = cells.patterns
        bin_rows = np.array([r for r, c in enumerate(names) if c in pat.col], dtype=np.int64)
        flt_rows = np.array([r for r in range(len(names)) if r not in set(bin_rows.tolist())], dtype=np.int64)
        table = np.ascontiguousarray(pat.table[:, [pat.col[names[r]] for r in bin_rows]])
        cache[key] = (bin_rows, flt_rows, table)
    return cache[key]


def _table_product(table: np.ndarray, v: np.ndarray, transpose: bool = False) -> np.ndarray:
    """table @ v (or table.T @ v), the uint8 table converted to float64 a chunk of patterns at a time."""
    out = np.zeros(table.shape[0 if not transpose else 1])
    for lo in range(0, table.shape[0], _g._CHUNK_CELLS):
        t = table[lo:lo + _g._CHUNK_CELLS].astype(float)
        if transpose:
            out += t.T @ v[lo:lo + _g._CHUNK_CELLS]
        else:
            out[lo:lo + _g._CHUNK_CELLS] = t @ v
    return out


#: Parts of the cells in a compiled pass (:func:`compiled_pass`): each part sums into its own
#: arrays and the parts are added in order, so the sums do not depend on how many threads run them.
_PASS_PARTS = 8

#: Largest memory of all parts' per-pattern sums together (bytes): fewer parts when the patterns
#: are many (one part is used whatever its size).
_PASS_PART_BYTES = 1 << 28


def pass_threads() -> int:
    """Threads for the parts of a compiled pass: the CPUs this process may use, at most
    ``OMP_NUM_THREADS`` when that is set (loky workers of the package's parallel tasks have it set
    to their inner thread limit; tasks on the threading backend or in the plain loop do not, and
    may start a thread per CPU). The sums do not depend on it."""
    import os

    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not on Linux)
        n = os.cpu_count() or 1
    limit = os.environ.get("OMP_NUM_THREADS", "")
    if limit.strip().isdigit() and int(limit) >= 1:
        n = min(n, int(limit))
    return max(1, n)


def compiled_pass(cells: Cells, ev, names, active, alpha, beta, link, info, threads: int | None = None) -> PassSums:
    """:func:`grouped_pass` through the compiled cell loop (:mod:`.grouped_kernels`): the 0/1
    terms stay in their bit patterns; only the other terms are converted, a chunk at a time.
    The cells are cut into up to :data:`_PASS_PARTS` parts of whole chunks (a number that depends
    on the cells only), run on ``threads`` threads (None: :func:`pass_threads`)."""
    from concurrent.futures import ThreadPoolExecutor

    from .grouped_kernels import pass_chunk

    nb_all, p = len(cells.band_labels), len(names)
    pat = cells.patterns
    bin_rows, flt_rows, table = _pattern_layout(cells, names)
    beta = np.asarray(beta, float)
    a_full, kinds = _g.pass_setup(active, alpha, nb_all, link, info)
    act = np.asarray(active, dtype=np.bool_)
    pb = _table_product(table, beta[bin_rows])
    nf = len(flt_rows)
    flt_names = [names[r] for r in flt_rows]
    width = 3 + 2 * nf  # per pattern: the score, then (weight, weight x term) per kind
    expo_all = cells.n_at if cells.expo is None else cells.expo
    chunks = list(cells.chunks())
    n_parts = max(1, min(_PASS_PARTS, len(chunks), _PASS_PART_BYTES // max(1, pat.n * width * 8)))
    bounds = np.linspace(0, len(chunks), n_parts + 1).round().astype(int)

    def part(k):
        sums = dict(ll=np.zeros(1), ga=np.zeros(nb_all), gbf=np.zeros(nf), pp=np.zeros((pat.n, width)),
                    o=(np.zeros(nb_all), np.zeros((nb_all, p)), np.zeros((nf, nf))),
                    e=(np.zeros(nb_all), np.zeros((nb_all, p)), np.zeros((nf, nf))))
        buf = np.empty((nf, _g._CHUNK_CELLS))
        for lo, hi in chunks[bounds[k]:bounds[k + 1]]:
            xf = cells.block(lo, hi, flt_names, buf)
            pass_chunk(cells.bcodes[lo:hi], pat.pid[lo:hi], xf, ev[lo:hi], cells.n_at[lo:hi],
                       np.asarray(expo_all[lo:hi], float) if link != "cloglog" else np.zeros(0), a_full, act, pb,
                       beta[flt_rows], link == "cloglog", "o" in kinds, "e" in kinds, table, flt_rows, bin_rows,
                       sums["ll"], sums["ga"], sums["gbf"], sums["pp"], *sums["o"], *sums["e"])
        return sums

    n_threads = min(n_parts, pass_threads() if threads is None else max(1, int(threads)))
    if n_threads > 1:
        with ThreadPoolExecutor(n_threads) as pool:
            parts = list(pool.map(part, range(n_parts)))
    else:
        parts = [part(k) for k in range(n_parts)]
    tot = parts[0]
    for other in parts[1:]:  # in part order: the same sums whatever the threads
        for key in ("ll", "ga", "gbf", "pp"):
            tot[key] += other[key]
        for k in ("o", "e"):
            for a_, b_ in zip(tot[k], other[k], strict=True):
                a_ += b_
    per_pattern = tot["pp"]
    gb = np.zeros(p)
    gb[bin_rows] = _table_product(table, per_pattern[:, 0], transpose=True)
    gb[flt_rows] = tot["gbf"]
    out = {}
    for k, at in (("o", 1), ("e", 2 + nf)):
        if k not in kinds:
            continue
        D, C, aff = tot[k]
        gram = Gram(pat, names)
        gram.wp, gram.wf, gram.aff = per_pattern[:, at], per_pattern[:, at + 1:at + 1 + nf].T, aff
        out[k] = (D[active], C[active], gram.matrix())
    first = out[kinds[0]]
    return PassSums(float(tot["ll"][0]), tot["ga"][active], gb, *first, out.get("e"))
