"""Compiled cell loop of one grouped-time Fisher-scoring pass (:func:`.grouped.grouped_pass`).

Written with numba because a pass in numpy makes a temporary array per chunk of cells for every
intermediate (the linear predictor, the hazard, the likelihood terms, the information weights,
each bit plane unpacked to float64), and a fit makes several passes over millions of cells. Here a
cell's 0/1 terms are not unpacked: their part of the linear predictor is looked up per bit
pattern (the cells' :class:`~.grouped._Patterns`), the score and the information of the 0/1 terms
go into per-pattern totals, and the baseline-by-term block is summed per interval from the
pattern table (the cells are sorted by interval). The loop releases the GIL: the caller runs fixed
parts of the cells in threads, each into its own sums, and adds the parts in order, so the result
does not depend on the number of threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def pass_chunk(bc, pid, xf, e, n, expo, a_full, act, pb, beta_f, cloglog, want_o, want_e,
               table, flt_rows, bin_rows, out_ll, ga, gbf, per_pattern, d_o, c_o, aff_o, d_e, c_e, aff_e):
    """Add one chunk of cells to the pass's sums.

    Cells: interval code ``bc`` (non-decreasing), pattern id ``pid``, the non-0/1 terms ``xf``
    (terms x cells, float64), events ``e``, at risk ``n``, exposure ``expo`` (Poisson only).
    ``a_full``: the baseline of each interval (0 when inactive); ``act``: active intervals (the
    others' cells are skipped); ``pb``: the 0/1 terms' part of the linear predictor per pattern;
    ``beta_f``: the other terms' coefficients; ``table``: patterns x 0/1 model terms (uint8);
    ``bin_rows`` / ``flt_rows``: the model row of each 0/1 / other term.

    Sums: ``out_ll[0]`` log-likelihood; ``ga`` baseline score; ``gbf`` score of the non-0/1 terms;
    ``per_pattern`` (patterns x (1 + 2 (1 + nf))): the score, then for the observed and the
    expected information the weight and weight x each non-0/1 term; and per information kind
    (``_o``, ``_e``, each only when wanted): ``d`` the baseline diagonal, ``c`` baseline x terms,
    ``aff`` weight x products of the non-0/1 terms. The arithmetic per cell is that of the numpy
    pass (log(1 - exp(-mu)) taken only where a cell has events: it is multiplied by their number).
    """
    m = len(bc)
    if m == 0:
        return
    nf = xf.shape[0]
    nbin = table.shape[1]
    ll = 0.0
    x = np.zeros(nf)
    seg_o = np.zeros(nbin + nf)  # the current interval's part of c (0/1 terms, then the others)
    seg_e = np.zeros(nbin + nf)
    la_o = np.zeros(nf * nf)
    la_e = np.zeros(nf * nf)
    cur = bc[0]
    for i in range(m):
        b = bc[i]
        if b != cur:
            _flush(cur, seg_o, seg_e, c_o, c_e, bin_rows, flt_rows, want_o, want_e)
            cur = b
        if not act[b]:
            continue
        q = pid[i]
        eta = a_full[b] + pb[q]
        for f in range(nf):
            x[f] = xf[f, i]
            eta += beta_f[f] * x[f]
        eta = min(max(eta, -50.0), 30.0)
        mu = math.exp(eta)
        ei = float(e[i])
        ni = float(n[i])
        if cloglog:
            em1 = math.expm1(mu)
            # log(1 - exp(-mu)) only where there are events (most cells have none)
            lli = (ei * math.log(-math.expm1(-mu)) if ei != 0.0 else 0.0) - (ni - ei) * mu
            g = mu * (ei / em1 - (ni - ei))
            w_e = ni * mu ** 2 / em1
            w_o = (ni - ei) * mu + ei * (mu / em1) * (mu * (em1 + 1) / em1 - 1)
        else:
            mu = mu * expo[i]
            lli = ei * math.log(mu) - mu
            g = ei - mu
            w_e = mu
            w_o = mu
        ll += lli
        ga[b] += g
        pp = per_pattern[q]
        pp[0] += g
        for f in range(nf):
            gbf[f] += g * x[f]
        row = table[q]
        if want_o:
            d_o[b] += w_o
            pp[1] += w_o
            for j in range(nbin):
                seg_o[j] += w_o * row[j]
            for f in range(nf):
                xw = x[f] * w_o
                seg_o[nbin + f] += xw
                pp[2 + f] += xw
                for f2 in range(nf):
                    la_o[f * nf + f2] += xw * x[f2]
        if want_e:
            d_e[b] += w_e
            pp[2 + nf] += w_e
            for j in range(nbin):
                seg_e[j] += w_e * row[j]
            for f in range(nf):
                xw = x[f] * w_e
                seg_e[nbin + f] += xw
                pp[3 + nf + f] += xw
                for f2 in range(nf):
                    la_e[f * nf + f2] += xw * x[f2]
    _flush(cur, seg_o, seg_e, c_o, c_e, bin_rows, flt_rows, want_o, want_e)
    for f in range(nf):
        for f2 in range(nf):
            if want_o:
                aff_o[f, f2] += la_o[f * nf + f2]
            if want_e:
                aff_e[f, f2] += la_e[f * nf + f2]
    out_ll[0] += ll


@njit(cache=True, nogil=True)
def _flush(b, seg_o, seg_e, c_o, c_e, bin_rows, flt_rows, want_o, want_e):
    """Add an interval's sums to its row of c and clear them."""
    nbin = len(bin_rows)
    for j in range(len(seg_o)):
        r = bin_rows[j] if j < nbin else flt_rows[j - nbin]
        if want_o:
            c_o[b, r] += seg_o[j]
        if want_e:
            c_e[b, r] += seg_e[j]
        seg_o[j] = 0.0
        seg_e[j] = 0.0


@njit(cache=True, nogil=True)
def pack_words(planes, n_rows):
    """Bit planes (terms x bytes, little bit order, at most 64 terms) to one uint64 per row whose
    bit j is term j: the rows' bit patterns. Replaces unpacking every plane to a byte per row and
    packing them again (three full-size temporaries)."""
    out = np.zeros(planes.shape[1] * 8, dtype=np.uint64)
    one = np.uint64(1)
    for byte in range(planes.shape[1]):  # a row's word is built in one go (out is written once)
        base = byte * 8
        for k in range(8):
            w = np.uint64(0)
            for j in range(planes.shape[0]):
                w |= ((np.uint64(planes[j, byte]) >> np.uint64(k)) & one) << np.uint64(j)
            out[base + k] = w
    return out[:n_rows]
