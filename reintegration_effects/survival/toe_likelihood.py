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
which with one mass point is exactly a set of statsmodels cloglog GLMs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import logsumexp

#: The processes that share a person's mass point (columns of the mass-point matrix).
PROCESSES = ("exit_to_work", "exit_elsewhere", "programme_start")
_ETA_MAX = 12.0  # a linear predictor is clipped here (and at -_ETA_MAX - 20) during line searches


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


def row_terms(eta: np.ndarray, y: np.ndarray, form: str) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood per row and its derivative with respect to each cause's linear predictor.

    ``eta``: (rows, causes); ``y``: 0 = no event, c = cause c (1-based)."""
    eta = np.clip(eta, -_ETA_MAX - 20.0, _ETA_MAX)
    h = np.exp(eta)
    ev = y > 0
    onehot = np.zeros_like(eta)
    if ev.any():
        onehot[np.flatnonzero(ev), y[ev].astype(np.int64) - 1] = 1.0
    if form == "grouped":
        H = h.sum(axis=1)
        ll = -H.copy()
        d = -h.copy()
        if ev.any():
            He = H[ev]
            ll[ev] = (eta[ev] * onehot[ev]).sum(axis=1) - np.log(He) + np.log(-np.expm1(-He))
            q = np.exp(-He) / -np.expm1(-He)  # exp(-H) / (1 - exp(-H)), no overflow
            d[ev] = onehot[ev] + h[ev] * (q - 1.0 / He)[:, None]
        return ll, d
    # cloglog: each cause a binary cloglog
    ll_c = np.where(onehot > 0, np.log(-np.expm1(-h)), -h)
    d = np.where(onehot > 0, h * np.exp(-h) / -np.expm1(-h), -h)
    return ll_c.sum(axis=1), d


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
        # person x row indicators (for the per-person scores), built once
        self._Pe = sparse.csr_matrix((np.ones(len(self.e)), (self.e.pid, np.arange(len(self.e)))),
                                     shape=(self.N, len(self.e)))
        self._Ps = sparse.csr_matrix((np.ones(len(self.s)), (self.s.pid, np.arange(len(self.s)))),
                                     shape=(self.N, len(self.s)))

    def layout(self, K: int) -> Layout:
        return Layout(self.e.X.shape[1], self.s.X.shape[1], self.L, K)

    def _point_parts(self, lay: Layout, theta: np.ndarray, derivatives: bool = True):
        """Per mass point: person log-likelihoods (N, K) and the row derivatives."""
        bw, bo, Bs, V, a = lay.unpack(theta)
        e, s = self.e, self.s
        ew, eo = e.X @ bw, e.X @ bo
        es = s.X @ Bs
        Lp = np.zeros((self.N, lay.K))
        de, ds = [], []
        for k in range(lay.K):
            ll_e, d_e = row_terms(np.column_stack([ew + V[k, 0], eo + V[k, 1]]), e.y, self.form)
            ll_s, d_s = row_terms(es + V[k, 2], s.y, self.form)
            Lp[:, k] = (np.bincount(e.pid, e.n * ll_e, minlength=self.N)
                        + np.bincount(s.pid, s.n * ll_s, minlength=self.N))
            if derivatives:
                de.append(d_e * e.n[:, None])
                ds.append(d_s * s.n[:, None])
        return Lp, de, ds, a

    def value_and_grad(self, theta: np.ndarray, K: int, scores: bool = False):
        """(log-likelihood, gradient) — or with ``scores`` the (N, params) per-person scores too."""
        lay = self.layout(K)
        Lp, de, ds, a = self._point_parts(lay, theta)
        logpi = a - logsumexp(a)
        M = Lp + logpi[None, :]
        lse = logsumexp(M, axis=1)
        W = np.exp(M - lse[:, None])  # posterior point probabilities per person
        e, s = self.e, self.s
        Re = sum(W[e.pid, k][:, None] * de[k] for k in range(K))  # (rows, 2)
        Rs = sum(W[s.pid, k][:, None] * ds[k] for k in range(K))  # (rows, labels)
        sl = lay.slices()
        g = np.zeros(lay.n_params)
        g[sl["work"]] = e.X.T @ Re[:, 0]
        g[sl["other"]] = e.X.T @ Re[:, 1]
        g[sl["start"]] = (s.X.T @ Rs).T.ravel()
        pv = np.zeros((K, 3))
        for k in range(1, K):
            wk_e, wk_s = W[e.pid, k], W[s.pid, k]
            pv[k, 0] = wk_e @ de[k][:, 0]
            pv[k, 1] = wk_e @ de[k][:, 1]
            pv[k, 2] = wk_s @ ds[k].sum(axis=1)
        pi = np.exp(logpi)
        g[sl["points"]] = pv[1:].ravel()
        g[sl["logits"]] = (W.sum(axis=0) - self.N * pi)[1:]
        if not scores:
            return float(lse.sum()), g
        G = np.zeros((self.N, lay.n_params))
        Pe, Ps = self._Pe, self._Ps
        G[:, sl["work"]] = Pe @ (Re[:, [0]] * e.X)
        G[:, sl["other"]] = Pe @ (Re[:, [1]] * e.X)
        blocks = [Ps @ (Rs[:, [j]] * s.X) for j in range(self.L)]
        G[:, sl["start"]] = np.hstack(blocks)
        cols = []
        for k in range(1, K):
            cols.append(np.column_stack([
                np.bincount(e.pid, W[e.pid, k] * de[k][:, 0], minlength=self.N),
                np.bincount(e.pid, W[e.pid, k] * de[k][:, 1], minlength=self.N),
                np.bincount(s.pid, W[s.pid, k] * ds[k].sum(axis=1), minlength=self.N)]))
        if cols:
            G[:, sl["points"]] = np.hstack(cols)
            G[:, sl["logits"]] = (W - pi[None, :])[:, 1:]
        return float(lse.sum()), g, G, W

    def value(self, theta: np.ndarray, K: int) -> float:
        """The log-likelihood only (line searches)."""
        lay = self.layout(K)
        Lp, _, _, a = self._point_parts(lay, theta, derivatives=False)
        return float(logsumexp(Lp + (a - logsumexp(a))[None, :], axis=1).sum())

    def person_loglik(self, theta: np.ndarray, K: int) -> np.ndarray:
        """(N, K) log-likelihood of each person at each mass point (no mixing)."""
        return self._point_parts(self.layout(K), theta)[0]

    def point_loglik(self, base: np.ndarray, K: int, v: np.ndarray) -> np.ndarray:
        """(N,) person log-likelihood at a candidate mass point ``v`` given the other parameters."""
        th = np.array(base, dtype=float)
        lay = self.layout(K)
        sl = lay.slices()
        pts = th[sl["points"]].reshape(K - 1, 3) if K > 1 else np.zeros((0, 3))
        th2 = np.r_[th[sl["work"]], th[sl["other"]], th[sl["start"]], np.vstack([pts, v]).ravel(),
                    np.r_[th[sl["logits"]], 0.0]]
        lay2 = self.layout(K + 1)
        bw, bo, Bs, V, _ = lay2.unpack(th2)
        e, s = self.e, self.s
        ll_e, _ = row_terms(np.column_stack([e.X @ bw + v[0], e.X @ bo + v[1]]), e.y, self.form)
        ll_s, _ = row_terms(s.X @ Bs + v[2], s.y, self.form)
        return (np.bincount(e.pid, e.n * ll_e, minlength=self.N)
                + np.bincount(s.pid, s.n * ll_s, minlength=self.N))


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
