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
def exit_probabilities(eta_w, eta_o, shift, w, months, horizons, band, post, lock, value, g_band, g_cov, g_post,
                       g_lock, g_point):
    """Mixture probability of having left bijstand within each horizon, averaged over starters, and
    its derivatives with respect to the exit hazards' coefficients and the points' shifts.

    Starter i's months m = 0..months-1 (rows i * months + m of ``eta_w``/``eta_o``, the linear
    predictors of exit to work and elsewhere without the point's shift) have the grouped form's
    no-exit term -H, so P(still on bijstand after month j | point k) = S_ik(j) = exp(-sum_{m <= j}
    (h_w + h_o)); with the starters' point probabilities ``w`` (starters, points), ``value[h]`` gets
    mean_i (1 - sum_k w_ik S_ik(h - 1)). Its derivative with respect to a coefficient whose term
    x(i, m) enters eta_c is mean_i sum_k w_ik S_ik(h - 1) sum_{m < h} h_c x(i, m) (0 where the
    predictor is clipped). Terms: the duration band of the month (``band``, into ``g_band[h, c,
    band]``), the starter's covariates (constant over months: ``g_cov[i, h, c]``, the coefficient
    of covariate j is then sum_i C_ij g_cov[i, h, c]), the programme term (months with ``post``,
    ``g_post[h, c]``), its lock-in term (months with ``lock``, ``g_lock[h, c]``) and each point's
    shift (``g_point[h, k, c]``). Hand-written: no library differentiates this mixture."""
    n, K = w.shape
    nb = g_band.shape[2]
    cb = np.zeros((2, nb))
    ct, cp, cl, hz = np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2)
    for i in range(n):
        for k in range(K):
            cum = 0.0
            cb[:, :] = 0.0
            ct[:] = 0.0
            cp[:] = 0.0
            cl[:] = 0.0
            hi = 0
            for j in range(months):
                r = i * months + j
                for c in range(2):
                    e = (eta_w[r] if c == 0 else eta_o[r]) + shift[k, c]
                    on = ETA_LOW < e < ETA_HIGH
                    e = min(max(e, ETA_LOW), ETA_HIGH)
                    hz[c] = math.exp(e)
                    cum -= hz[c]
                    if on:
                        cb[c, band[r]] += hz[c]
                        ct[c] += hz[c]
                        if post[r]:
                            cp[c] += hz[c]
                        if lock[r]:
                            cl[c] += hz[c]
                while hi < len(horizons) and horizons[hi] == j + 1:
                    ws = w[i, k] * math.exp(cum)
                    f = ws / n
                    value[hi] += (w[i, k] - ws) / n
                    for c in range(2):
                        for b in range(nb):
                            g_band[hi, c, b] += f * cb[c, b]
                        g_cov[i, hi, c] += f * ct[c]
                        g_post[hi, c] += f * cp[c]
                        g_lock[hi, c] += f * cl[c]
                        g_point[hi, k, c] += f * ct[c]
                    hi += 1
