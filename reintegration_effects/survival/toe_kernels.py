"""Compiled row loops of the timing-of-events likelihood (:mod:`.toe_likelihood`).

Written with numba because the likelihood is a mixture over mass points: every evaluation visits
every collapsed person-month once per point, and the same arithmetic in numpy makes a dozen
temporary arrays of that length per point (the fit was dominated by them). One loop per block
computes the row's log-likelihood and its derivatives and adds them into per-person sums in row
order, single-threaded, so the result does not depend on the machine's cores.

Row terms (hazards ``h_c = exp(eta_c)``, ``H = sum_c h_c``), as in the module docstring of
:mod:`.toe_likelihood`: ``form=0`` ("grouped"): no event ``-H``, cause c
``eta_c - log H + log(1 - exp(-H))``; ``form=1`` ("cloglog"): each cause its own binary
complementary log-log model.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

ETA_HIGH = 12.0  # a linear predictor is clipped here (and at ETA_LOW) during line searches
ETA_LOW = -ETA_HIGH - 20.0


@njit(cache=True)
def _row(eta0, shift, i, k, yi, form, h):
    """Fill ``h`` with the row's hazards at point k; return (log-likelihood, H, eta of the event)."""
    C = eta0.shape[1]
    H, ec, ll = 0.0, 0.0, 0.0
    for c in range(C):
        e = eta0[i, c] + shift[k, c]
        if e > ETA_HIGH:
            e = ETA_HIGH
        elif e < ETA_LOW:
            e = ETA_LOW
        h[c] = math.exp(e)
        H += h[c]
        if yi == c + 1:
            ec = e
        if form == 1:
            ll += math.log(-math.expm1(-h[c])) if yi == c + 1 else -h[c]
    if form == 0:
        ll = ec - math.log(H) + math.log(-math.expm1(-H)) if yi > 0 else -H
    return ll, H


@njit(cache=True)
def block_loglik(eta0, shift, y, n, pid, form, out):
    """Add each row's count x log-likelihood at every point into ``out[person, point]``.

    ``eta0`` (rows, causes): linear predictors without the point's shift; ``shift`` (points,
    causes); ``y`` 0 = no event, c = cause c; ``n`` counts; ``form`` 0 grouped, 1 cloglog;
    ``out`` (persons, points)."""
    rows, C = eta0.shape
    K = shift.shape[0]
    h = np.empty(C)
    for i in range(rows):
        p = pid[i]
        for k in range(K):
            ll, _ = _row(eta0, shift, i, k, y[i], form, h)
            out[p, k] += n[i] * ll


@njit(cache=True)
def block_scores(eta0, shift, y, n, pid, form, W, R, P):
    """Derivatives of the mixture log-likelihood with respect to each row's linear predictors.

    With ``W`` (persons, points) the posterior point probabilities: ``R[i, c]`` (rows, causes)
    gets the sum over points of W x count x d ll / d eta_c, and ``P[person, k, c]`` the same per
    person and point (the scores of the point's shifts)."""
    rows, C = eta0.shape
    K = shift.shape[0]
    h = np.empty(C)
    for i in range(rows):
        p, yi = pid[i], y[i]
        for k in range(K):
            _, H = _row(eta0, shift, i, k, yi, form, h)
            w = W[p, k] * n[i]
            f = 0.0
            if form == 0 and yi > 0:
                f = math.exp(-H) / -math.expm1(-H) - 1.0 / H
            for c in range(C):
                if form == 0:
                    d = h[c] * f + (1.0 if yi == c + 1 else 0.0) if yi > 0 else -h[c]
                else:
                    d = h[c] * math.exp(-h[c]) / -math.expm1(-h[c]) if yi == c + 1 else -h[c]
                R[i, c] += w * d
                P[p, k, c] += w * d


@njit(cache=True)
def person_design_sums(indptr, indices, data, pid, R, offsets, G):
    """Per-person scores of the linear-predictor coefficients: ``G[person, offsets[c] + j]`` gets
    the sum over the person's rows of ``R[i, c] * X[i, j]`` (X in CSR form: indptr, indices, data)."""
    rows, C = R.shape
    for i in range(rows):
        p = pid[i]
        for jj in range(indptr[i], indptr[i + 1]):
            j, x = indices[jj], data[jj]
            for c in range(C):
                G[p, offsets[c] + j] += R[i, c] * x


@njit(cache=True)
def stay_curves(eta_w, eta_o, shift, w, months, out):
    """Mixture probability of still being on bijstand after each month: ``out[i, j]`` (starters,
    months) gets sum_k w[i, k] exp(-sum_{m <= j} H_k(i, m)), with the grouped form's no-exit term
    ``-H`` and ``eta_w``/``eta_o`` the starters' monthly linear predictors laid out starter by starter."""
    n, K = w.shape
    for i in range(n):
        for k in range(K):
            cum = 0.0
            for j in range(months):
                r = i * months + j
                a = eta_w[r] + shift[k, 0]
                b = eta_o[r] + shift[k, 1]
                a = min(max(a, ETA_LOW), ETA_HIGH)
                b = min(max(b, ETA_LOW), ETA_HIGH)
                cum -= math.exp(a) + math.exp(b)
                out[i, j] += w[i, k] * math.exp(cum)
