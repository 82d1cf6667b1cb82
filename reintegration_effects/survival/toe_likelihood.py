"""The timing-of-events likelihood: discrete-time mixed proportional hazards with mass points.

Written by hand because no Python library fits it: lifelines, statsmodels and scikit-survival
have no mixed proportional hazards model with a discrete (NPMLE-style) heterogeneity
distribution shared by several hazards. The reference implementation is R's ``durmod`` (Gaure
2019, used for the timing-of-events model of Abbring and van den Berg 2003); this module follows
its set-up: piecewise-constant hazards, competing causes in the same interval, one mass point
per person shared by all processes and all spells, mass points added one at a time.

Data (already collapsed, see :func:`collapse`): ``exit`` rows (person-months at risk of leaving
bijstand: causes 1 = work, 2 = elsewhere; 0 = stays) and ``start`` rows (person-months at risk of
the spell's first programme start: cause j = programme j, 0 = none), each with a count ``n`` of
identical months (same person, design row and outcome).

Row log-likelihood with hazards ``h_c = exp(eta_c)``, ``H = sum_c h_c`` ("grouped", the default,
the durmod form and the built-in simulator's data-generating process: constant hazards within the
month): no event ``-H``; cause c ``eta_c - log H + log(1 - exp(-H))``. ``"cloglog"``: every cause
its own binary complementary log-log model (cause c ``log(1 - exp(-h_c))``, otherwise ``-h_c``),
which with one mass point is exactly a set of statsmodels cloglog GLMs. The loops over rows are
compiled (:mod:`.toe_kernels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import logsumexp

from .toe_kernels import block_loglik, block_scores, person_design_sums

#: The processes that share a person's mass point (columns of the mass-point matrix).
PROCESSES = ("exit_to_work", "exit_elsewhere", "programme_start")


@dataclass
class Block:
    """Collapsed rows of one process group: person index, design, outcome (0 = none), count."""

    pid: np.ndarray
    X: np.ndarray
    y: np.ndarray
    n: np.ndarray

    def __len__(self) -> int:
        return len(self.pid)


def collapse(pid: np.ndarray, X: np.ndarray, y: np.ndarray) -> Block:
    """Identical (person, design row, outcome) months merged into one row with a count: the
    likelihood is a sum over months, so nothing changes but the size (a spell becomes about one
    row per duration band x covariate change)."""
    if len(pid) == 0:
        return Block(pid.astype(np.int64), X.astype(np.float64), y.astype(np.int8), np.zeros(0))
    frame = pd.DataFrame(X)
    frame["_pid"] = pid
    frame["_y"] = y
    h = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    _, first, counts = np.unique(h, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    first, counts = first[order], counts[order]
    return Block(pid[first].astype(np.int64), np.ascontiguousarray(X[first], dtype=np.float64),
                 y[first].astype(np.int8), counts.astype(np.float64))


@dataclass
class Layout:
    """Where each parameter block sits in the parameter vector."""

    p_exit: int
    p_start: int
    n_labels: int  # take-up causes (1 = 'any programme')
    K: int

    @property
    def sizes(self) -> dict[str, int]:
        return {"work": self.p_exit, "other": self.p_exit, "start": self.p_start * self.n_labels,
                "points": 3 * (self.K - 1), "logits": self.K - 1}

    @property
    def n_params(self) -> int:
        return sum(self.sizes.values())

    def slices(self) -> dict[str, slice]:
        out, i = {}, 0
        for k, s in self.sizes.items():
            out[k] = slice(i, i + s)
            i += s
        return out

    def unpack(self, theta: np.ndarray):
        s = self.slices()
        bw, bo = theta[s["work"]], theta[s["other"]]
        Bs = theta[s["start"]].reshape(self.n_labels, self.p_start).T  # (p_start, labels)
        V = np.vstack([np.zeros(3), theta[s["points"]].reshape(self.K - 1, 3)])
        a = np.r_[0.0, theta[s["logits"]]]
        return bw, bo, Bs, V, a


class Likelihood:
    """The mixture log-likelihood of the collapsed data, its gradient and per-person scores."""

    def __init__(self, exit_block: Block, start_block: Block, n_persons: int, n_labels: int, form: str):
        if form not in ("grouped", "cloglog"):
            raise ValueError(f"form={form!r}; expected 'grouped' or 'cloglog'")
        self.e, self.s, self.N, self.L, self.form = exit_block, start_block, int(n_persons), int(n_labels), form
        # the designs are mostly dummies (a duration band, covariate levels, programme terms): in
        # sparse form every product reads a few entries per row instead of every column
        self._Xe, self._Xs = sparse.csr_matrix(self.e.X), sparse.csr_matrix(self.s.X)
        self._XeT, self._XsT = self._Xe.T.tocsr(), self._Xs.T.tocsr()
        self._form = 0 if form == "grouped" else 1

    def layout(self, K: int) -> Layout:
        return Layout(self.e.X.shape[1], self.s.X.shape[1], self.L, K)

    def _linear(self, lay: Layout, theta: np.ndarray):
        """Linear predictors without the points' shifts: exit (rows, 2) and start (rows, labels),
        and the shifts per point for each block."""
        bw, bo, Bs, V, a = lay.unpack(theta)
        eta_e = self._Xe @ np.column_stack([bw, bo])
        eta_s = self._Xs @ np.ascontiguousarray(Bs)
        shift_s = np.repeat(V[:, [2]], self.L, axis=1)
        return eta_e, eta_s, np.ascontiguousarray(V[:, :2]), shift_s, a

    def person_loglik(self, theta: np.ndarray, K: int) -> np.ndarray:
        """(N, K) log-likelihood of each person at each mass point (no mixing)."""
        eta_e, eta_s, shift_e, shift_s, _ = self._linear(self.layout(K), theta)
        return self._loglik(eta_e, eta_s, shift_e, shift_s)

    def _loglik(self, eta_e, eta_s, shift_e, shift_s) -> np.ndarray:
        e, s = self.e, self.s
        Le = np.zeros((self.N, len(shift_e)))
        Ls = np.zeros((self.N, len(shift_s)))
        block_loglik(eta_e, shift_e, e.y, e.n, e.pid, self._form, Le)
        block_loglik(eta_s, shift_s, s.y, s.n, s.pid, self._form, Ls)
        return Le + Ls

    def value_and_grad(self, theta: np.ndarray, K: int, scores: bool = False):
        """(log-likelihood, gradient) — or with ``scores`` the (N, params) per-person scores too."""
        lay = self.layout(K)
        eta_e, eta_s, shift_e, shift_s, a = self._linear(lay, theta)
        Lp = self._loglik(eta_e, eta_s, shift_e, shift_s)
        logpi = a - logsumexp(a)
        M = Lp + logpi[None, :]
        lse = logsumexp(M, axis=1)
        W = np.exp(M - lse[:, None])  # posterior point probabilities per person
        e, s = self.e, self.s
        Re, Rs = np.zeros((len(e), 2)), np.zeros((len(s), self.L))
        Pe, Ps = np.zeros((self.N, K, 2)), np.zeros((self.N, K, self.L))
        block_scores(eta_e, shift_e, e.y, e.n, e.pid, self._form, W, Re, Pe)
        block_scores(eta_s, shift_s, s.y, s.n, s.pid, self._form, W, Rs, Ps)
        Ps = Ps.sum(axis=2)  # the start shift is shared by every take-up cause
        sl = lay.slices()
        g = np.zeros(lay.n_params)
        ge, gs = self._XeT @ Re, self._XsT @ Rs  # (p_exit, 2), (p_start, labels)
        g[sl["work"]] = ge[:, 0]
        g[sl["other"]] = ge[:, 1]
        g[sl["start"]] = gs.T.ravel()
        pv = np.column_stack([Pe.sum(axis=0), Ps.sum(axis=0)])  # (K, 3)
        pi = np.exp(logpi)
        g[sl["points"]] = pv[1:].ravel()
        g[sl["logits"]] = (W.sum(axis=0) - self.N * pi)[1:]
        if not scores:
            return float(lse.sum()), g
        G = np.zeros((self.N, lay.n_params))
        Xe, Xs = self._Xe, self._Xs
        person_design_sums(Xe.indptr, Xe.indices, Xe.data, e.pid, Re,
                           np.array([sl["work"].start, sl["other"].start]), G)
        person_design_sums(Xs.indptr, Xs.indices, Xs.data, s.pid, Rs,
                           sl["start"].start + lay.p_start * np.arange(self.L), G)
        if K > 1:
            G[:, sl["points"]] = np.concatenate([Pe[:, 1:, :], Ps[:, 1:, None]], axis=2).reshape(self.N, -1)
            G[:, sl["logits"]] = (W - pi[None, :])[:, 1:]
        return float(lse.sum()), g, G, W

    def value(self, theta: np.ndarray, K: int) -> float:
        """The log-likelihood only (line searches)."""
        lay = self.layout(K)
        a = lay.unpack(theta)[4]
        return float(logsumexp(self.person_loglik(theta, K) + (a - logsumexp(a))[None, :], axis=1).sum())

    def point_loglik(self, base: np.ndarray, K: int, v: np.ndarray) -> np.ndarray:
        """(N,) person log-likelihood at a candidate mass point ``v`` given the other parameters."""
        parts = self.point_parts(base, K)
        return parts.exit(v[0], v[1]) + parts.start(v[2])

    def point_parts(self, base: np.ndarray, K: int) -> _PointParts:
        """The exit and start parts of :meth:`point_loglik`, for a search over many candidate points:
        the exit part depends on the point's first two shifts only and the start part on the third."""
        eta_e, eta_s, _, _, _ = self._linear(self.layout(K), np.asarray(base, dtype=float))
        return _PointParts(self, eta_e, eta_s)


@dataclass
class _PointParts:
    lik: Likelihood
    eta_e: np.ndarray
    eta_s: np.ndarray

    def exit(self, vw: float, vo: float) -> np.ndarray:
        lik = self.lik
        out = np.zeros((lik.N, 1))
        block_loglik(self.eta_e, np.array([[vw, vo]]), lik.e.y, lik.e.n, lik.e.pid, lik._form, out)
        return out[:, 0]

    def start(self, vs: float) -> np.ndarray:
        lik = self.lik
        out = np.zeros((lik.N, 1))
        block_loglik(self.eta_s, np.full((1, lik.L), vs), lik.s.y, lik.s.n, lik.s.pid, lik._form, out)
        return out[:, 0]


def numerical_hessian(f_grad, theta: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Central differences of an analytic gradient, symmetrised."""
    p = len(theta)
    H = np.zeros((p, p))
    for j in range(p):
        h = step * max(1.0, abs(theta[j]))
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        H[:, j] = (f_grad(tp) - f_grad(tm)) / (2 * h)
    return 0.5 * (H + H.T)
