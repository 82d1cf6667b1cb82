"""Compiled loops of the k-medoids search (:func:`.careers.pam`).

Written with numba because each PAM step in numpy builds several temporary arrays the size of the
distance matrix (the BUILD gains, and the swap's two loss terms), and the clustering runs the
search once for every number of clusters tried; here each step is one pass over the matrix without
temporaries. No maintained library gives the same search: the ``kmedoids`` package's ``pam`` was
compared on the built-in municipality's careers and was no faster, and it breaks ties between
identical sequences differently.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def build_gains(d: np.ndarray, near: np.ndarray) -> np.ndarray:
    """For every row i: sum over j of max(near_j - d_ij, 0), the drop in total distance if i
    became a medoid, given each point's distance ``near`` to its nearest medoid so far."""
    n = d.shape[0]
    gain = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for j in range(n):
            v = near[j] - d[i, j]
            if v > 0.0:
                acc += v
        gain[i] = acc
    return gain


@njit(cache=True, nogil=True)
def swap_deltas(d: np.ndarray, nearest: np.ndarray, d1: np.ndarray, d2: np.ndarray, k: int) -> np.ndarray:
    """The change in total distance of every swap (row i in for medoid m out), as an (n, k) array.

    Schubert and Rousseeuw's FastPAM1 decomposition: with d1_j, d2_j the distances of point j to
    its nearest and second-nearest medoid and nearest_j the nearest one's position,
    delta[i, m] = sum_j min(d_ij - d1_j, 0) + sum over j with nearest_j = m of
    (min(d_ij, d2_j) - d1_j - min(d_ij - d1_j, 0)).
    """
    n = d.shape[0]
    delta = np.zeros((n, k))
    for i in range(n):
        shared = 0.0
        for j in range(n):
            v = d[i, j]
            a = v - d1[j]
            if a > 0.0:
                a = 0.0
            shared += a
            b = v if v < d2[j] else d2[j]
            delta[i, nearest[j]] += b - d1[j] - a
        for m in range(k):
            delta[i, m] += shared
    return delta


@njit(cache=True, nogil=True)
def om_pairs(a: np.ndarray, b: np.ndarray, flat: np.ndarray, n_states: int, indel: float) -> np.ndarray:
    """Optimal-matching distance of each pair of rows (a[p], b[p]) of integer state codes.

    ``flat``: the substitution costs, row-major, each minus 2 x ``indel``. The dynamic programme
    is kept shifted, r[i][j] = D[i][j] - (i + j) x indel, so that r[i][0] = 0 and
    r[i][j] = min(r[i][j-1], r[i-1][j], r[i-1][j-1] + sub[a_i, b_j] - 2 indel); one row of it is
    kept per pair and updated in place, in the order (and so with the rounding) of the numpy
    formulation this replaced: the diagonal and vertical moves first, then the horizontal ones.
    """
    n_pairs, la = a.shape
    lb = b.shape[1]
    out = np.empty(n_pairs)
    r = np.empty(lb + 1)
    for p in range(n_pairs):
        r[:] = 0.0
        for i in range(la):
            row = a[p, i] * n_states
            old = r[0]  # r[i-1][j]; r[i][0] = 0 stays
            for j in range(lb):
                x = old + flat[row + b[p, j]]
                old = r[j + 1]
                if old < x:
                    x = old
                r[j + 1] = r[j] if r[j] < x else x
        out[p] = r[lb] + (la + lb) * indel
    return out
