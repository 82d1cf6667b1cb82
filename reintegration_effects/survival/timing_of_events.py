"""The timing-of-events model (Abbring and van den Berg 2003): programme effects on the exit hazard
when selection into programmes may be on unobservables.

A discrete-time (monthly) mixed proportional hazards model for three processes of a bijstand
spell, which share a person's unobserved heterogeneity:

- leaving bijstand for work and leaving it elsewhere (competing causes within the month),
- the spell's first programme start (``takeup="any"``: one hazard of starting any programme;
  ``"per_programme"``: one competing hazard per programme, all with the same heterogeneity term).

Each hazard has piecewise-constant duration dependence (bands of months since the spell began),
the observed covariates of the month and, for the exits, the programme terms: ``programme=LABEL``
from the month after the start on and, for programmes given in ``lock_in``, a separate
``programme=LABEL:lock_in`` while the programme runs (its effect after the lock-in is then
``programme=LABEL``). The heterogeneity is a discrete distribution: K mass points, each a vector of
three log-hazard shifts (the first point is the reference, (0, 0, 0): the duration bands carry the
level), with probabilities; one point per person, shared by all that person's spells. Points are
added one at a time (the best of a grid of candidate points, then all parameters re-estimated) while
the information criterion improves, as R's ``durmod`` does; ``criterion="bic"`` by default. The
likelihood is written by hand (:mod:`.toe_likelihood`): no Python library fits this model.

Standard errors: person-clustered sandwich (numerical Hessian of the analytic gradient, per-person
scores). An optimisation that stops short warns (:class:`~reintegration_effects.errors.StatisticalWarning`)
and the results say ``converged = False``: never a quiet number.

Identification rests on (i) no anticipation: the hazard of leaving does not change before the
start itself; (ii) mixed proportional hazards: the heterogeneity multiplies the hazards and does
not depend on the covariates; (iii) the discrete distribution approximates the true one (a normal
frailty is approximated by a few points); (iv) an inflow sample: :func:`person_month_frame` keeps
only spells that begin inside the data window, because spells already running at its start are
selected on the unobservable (the initial-conditions problem); they are left out and counted.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import StatisticalWarning
from .toe_likelihood import PROCESSES, Likelihood, collapse, numerical_hessian

#: Default bands of months since the spell began (lower bounds; the last band is open).
DURATION_BANDS = (0, 3, 6, 12, 24, 36)
#: Candidate shifts of a new mass point (per process), as in durmod's search over a grid.
_GRID = (-2.0, -1.0, 0.0, 1.0, 2.0)
HORIZONS = (6, 12, 18)


class TimingOfEventsError(ValueError):
    """The person-month frame cannot be used; the message names the column, rows and fix."""


def band_labels(bands: Sequence[int]) -> list[str]:
    b = list(bands)
    return [f"duration={lo}-{hi - 1}" if hi - 1 > lo else f"duration={lo}"
            for lo, hi in zip(b[:-1], b[1:], strict=True)] + [f"duration={b[-1]}+"]


def band_dummies(d: np.ndarray, bands: Sequence[int], dtype=np.float64) -> np.ndarray:
    idx = np.searchsorted(np.asarray(bands), d, side="right") - 1
    out = np.zeros((len(d), len(bands)), dtype=dtype)
    out[np.arange(len(d)), idx] = 1
    return out


def _compact_covariates(df: pd.DataFrame, covariates: Sequence[str]) -> np.ndarray:
    """The covariate columns as one matrix in int8 when every value is a small whole number (the
    dummies the run's frame has), else float64: the designs are built and collapsed in that type
    (a byte per value instead of eight) and converted to float64 after collapsing; the values are
    the same."""
    if not covariates:
        return np.zeros((len(df), 0), dtype=np.int8)
    cols = [df[c].to_numpy() for c in covariates]
    small = all(v.dtype.kind in "biu" and (len(v) == 0 or (v.min() >= -128 and v.max() <= 127)) for v in cols)
    if not small:
        return df[list(covariates)].to_numpy(dtype=np.float64)
    out = np.empty((len(df), len(cols)), dtype=np.int8)
    for j, v in enumerate(cols):
        out[:, j] = v
    return out


@dataclass
class _Prepared:
    lik: Likelihood
    exit_names: list[str]
    start_names: list[str]
    labels: list[str]  # programme labels with effect terms
    lock_labels: list[str]
    takeup_labels: list[str]
    persons: np.ndarray  # person ids in index order
    n_spells: int
    starters: pd.DataFrame  # one row per first start: pid, label, duration, lock months, covariate row
    start_cov: np.ndarray
    bands: tuple
    n_cov: int
    notes: list[str] = field(default_factory=list)


class TimingOfEvents:
    """Timing-of-events model on a person-month frame (see the module docstring).

    Parameters: ``max_points`` (most mass points tried, default 5), ``points`` (a fixed number
    instead of the search), ``criterion`` ("bic" or "aic"), ``duration_bands`` (lower bounds in
    months, first 0), ``takeup`` ("any" or "per_programme"), ``lock_in`` (True: a lock-in term for
    every programme with lock-in months; False: none; or a list of labels), ``form`` ("grouped" or
    "cloglog", see :mod:`.toe_likelihood`), ``se`` ("sandwich": person-clustered sandwich with the
    numerical Hessian; "opg": the inverse outer product of the per-person scores, the BHHH
    covariance, consistent when the model is right and much faster), ``alpha``, ``maxiter``.

    Examples
    --------
    >>> import reintegration_effects as re
    >>> from reintegration_effects.survival.toe_frame import person_month_frame
    >>> data, truth = re.load_simulated(1500, seed=3, unobserved_heterogeneity=True)
    >>> frame, info = person_month_frame(re.build_panel(data), data, covariates=["sex", "age"])
    >>> res = TimingOfEvents(max_points=3, lock_in=False, se="opg").fit(
    ...     frame, covariates=["sex=F", "age=27-49", "age=50+"])
    >>> res.effects[["term", "hazard_ratio", "ci_lower", "ci_upper"]]  # doctest: +SKIP
    >>> res.converged, res.n_points >= 1
    (True, True)
    """

    def __init__(self, *, max_points: int = 5, points: int | None = None, criterion: str = "bic",
                 duration_bands: Sequence[int] = DURATION_BANDS, takeup: str = "any", lock_in=True,
                 form: str = "grouped", se: str = "sandwich", alpha: float = 0.05, maxiter: int = 3000):
        self.max_points, self.points, self.criterion = max_points, points, criterion
        self.duration_bands, self.takeup, self.lock_in = tuple(duration_bands), takeup, lock_in
        self.form, self.se, self.alpha, self.maxiter = form, se, alpha, maxiter

    # ---- input ---------------------------------------------------------------------------------
    def _prepare(self, df: pd.DataFrame, covariates: Sequence[str], cols: dict) -> _Prepared:
        if self.criterion not in ("bic", "aic"):
            raise ValueError(f"criterion={self.criterion!r}; expected 'bic' or 'aic'")
        if self.se not in ("sandwich", "opg"):
            raise ValueError(f"se={self.se!r}; expected 'sandwich' or 'opg'")
        if self.takeup not in ("any", "per_programme"):
            raise ValueError(f"takeup={self.takeup!r}; expected 'any' or 'per_programme'")
        if self.points is not None and int(self.points) < 1:
            raise ValueError(f"points={self.points!r}; expected a whole number >= 1")
        bands = self.duration_bands
        if not bands or bands[0] != 0 or any(b <= a for a, b in zip(bands[:-1], bands[1:], strict=True)):
            raise ValueError(f"duration_bands={bands!r}: increasing lower bounds starting at 0")
        covariates = list(covariates)
        need = list(cols.values()) + covariates
        missing = [c for c in need if c not in df.columns]
        if missing:
            raise TimingOfEventsError(f"the person-month frame has no column(s) {missing}; it has {list(df.columns)}. "
                                      "Fix: build it with person_month_frame() or rename the columns.")
        if len(df) == 0:
            raise TimingOfEventsError("the person-month frame has no rows")
        for c in covariates:
            v = pd.to_numeric(df[c], errors="coerce")
            bad = np.flatnonzero(v.isna().to_numpy())
            if len(bad):
                raise TimingOfEventsError(f"covariate {c!r} is missing or not numeric in {len(bad)} rows (first rows "
                                          f"{bad[:5].tolist()}). Fix: code it as numbers (dummies) without gaps.")
        d = pd.to_numeric(df[cols["duration"]], errors="coerce").to_numpy()
        bad = np.flatnonzero(~np.isfinite(d) | (d < 0))
        if len(bad):
            raise TimingOfEventsError(f"column {cols['duration']!r} must be months >= 0; rows {bad[:5].tolist()} "
                                      "are not")
        ex = pd.to_numeric(df[cols["exit"]], errors="coerce").to_numpy()
        bad = np.flatnonzero(~np.isin(ex, (-1, 0, 1, 2)))
        if len(bad):
            raise TimingOfEventsError(f"column {cols['exit']!r} must be -1 (not observed), 0 (stays), 1 (work) or 2 "
                                      f"(elsewhere); rows {bad[:5].tolist()} are {ex[bad[:5]].tolist()}")
        at_risk = df[cols["at_risk"]].astype(bool).to_numpy()
        start = df[cols["start"]].fillna("").astype(str).to_numpy()
        bad = np.flatnonzero((start != "") & ~at_risk)
        if len(bad):
            raise TimingOfEventsError(f"rows {bad[:5].tolist()} have a programme start in {cols['start']!r} but are not "
                                      f"at risk of a first start ({cols['at_risk']!r} False). Fix: only a spell's first "
                                      "start is the treatment; mark the months up to it as at risk.")
        prog = df[cols["programme"]].fillna("").astype(str).to_numpy()
        lock = df[cols["lock_in"]].astype(bool).to_numpy()
        pid_codes, persons = pd.factorize(df[cols["person"]], sort=False)
        if (pid_codes < 0).any():
            raise TimingOfEventsError(f"column {cols['person']!r} has missing person ids")
        bad = np.flatnonzero(df[cols["spell"]].isna().to_numpy())
        if len(bad):
            raise TimingOfEventsError(f"column {cols['spell']!r} has missing spell ids in rows {bad[:5].tolist()}. Fix: "
                                      "number each person's spells.")
        spell = pd.MultiIndex.from_arrays([pid_codes, df[cols["spell"]].to_numpy()]).factorize()[0]
        notes: list[str] = []
        labels = sorted(set(prog[prog != ""]))
        lock_labels = ([lab for lab in labels if (lock & (prog == lab)).any()] if self.lock_in is True
                       else [] if self.lock_in is False else [str(x) for x in self.lock_in if str(x) in labels])
        start_labels = sorted(set(start[start != ""]))
        if not start_labels:
            raise TimingOfEventsError("no programme starts in the frame: the timing-of-events model needs treated spells")
        takeup_labels = ["any"] if self.takeup == "any" else start_labels
        C = _compact_covariates(df, covariates)  # int8 when small whole numbers: the designs in it until collapsed
        # exit rows
        er = np.flatnonzero(ex >= 0)
        if not len(er) or not at_risk.any():
            raise TimingOfEventsError("no person-months at risk of exit (exit >= 0) or of a first programme start")
        top = min(d[er].max(), d[at_risk].max())
        if bands[-1] > top:  # bands beyond the longest observed duration: merged into the last one observed
            notes.append(f"duration bands from {[b for b in bands if b > top]} months have no months at risk: merged")
            bands = tuple(b for b in bands if b <= top)
        dt = C.dtype
        Bd = band_dummies(d, bands, dtype=dt)
        terms = [Bd, C]
        exit_names = band_labels(bands) + covariates
        for lab in labels:
            on = prog == lab
            terms.append((on & ~lock if lab in lock_labels else on)[:, None].astype(dt))
            exit_names.append(f"programme={lab}")
        for lab in lock_labels:
            terms.append(((prog == lab) & lock)[:, None].astype(dt))
            exit_names.append(f"programme={lab}:lock_in")
        Xe = np.hstack([t[er] for t in terms])  # the exit rows only (no full-size stack first)
        del terms
        sr = np.flatnonzero(at_risk)
        Xs = np.hstack([Bd[sr], C[sr]])
        del Bd
        ys = np.zeros(len(df), dtype=np.int8)
        if self.takeup == "any":
            ys[start != ""] = 1
        else:
            ys = np.searchsorted(np.asarray(start_labels), start).astype(np.int8) + 1
            ys[start == ""] = 0
        start_names = band_labels(bands) + covariates
        self._check_design(Xe, exit_names, "exit")
        self._check_design(Xs, start_names, "programme start")
        eb = collapse(pid_codes[er], Xe, ex[er].astype(np.int8))
        del Xe
        sb = collapse(pid_codes[sr], Xs, ys[sr])
        del Xs
        lik = Likelihood(eb, sb, len(persons), len(takeup_labels), self.form)
        # the starters, for the implied effects
        si = np.flatnonzero(start != "")
        lock_len = np.zeros(len(si), dtype=np.int64)
        if len(si):
            key = pd.Series(spell)
            lk = pd.Series(lock & (prog != "")).groupby(key).sum()
            lock_len = lk.reindex(spell[si]).fillna(0).to_numpy(np.int64)
        starters = pd.DataFrame({"pid": pid_codes[si], "label": start[si], "duration": d[si].astype(np.int64),
                                 "lock_months": lock_len})
        return _Prepared(lik=lik, exit_names=exit_names, start_names=start_names, labels=labels,
                         lock_labels=lock_labels, takeup_labels=takeup_labels, persons=np.asarray(persons),
                         n_spells=int(spell.max()) + 1, starters=starters, start_cov=C[si].astype(np.float64), bands=bands,
                         n_cov=len(covariates), notes=notes)

    @staticmethod
    def _check_design(X: np.ndarray, names: list[str], what: str) -> None:
        if len(X) == 0:
            raise TimingOfEventsError(f"no person-months at risk of {what}")
        empty = [n for n, c in zip(names, X.T, strict=True) if not np.any(c)]
        if empty:
            raise TimingOfEventsError(f"{what} hazard: term(s) {empty} are zero in every month at risk. Fix: drop them, "
                                      "or use fewer duration_bands.")
        sv = np.linalg.svd(X[np.random.default_rng(0).permutation(len(X))[:200_000]].astype(np.float64), compute_uv=False)
        if sv[-1] < 1e-8 * sv[0]:
            raise TimingOfEventsError(f"{what} hazard: the terms {names} are collinear (e.g. a full set of dummies "
                                      "beside the duration bands). Fix: leave out one level of each categorical.")

    # ---- estimation ----------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, *, covariates: Sequence[str] = (), person_col: str = "person_id",
            spell_col: str = "spell_id", duration_col: str = "duration", exit_col: str = "exit",
            start_col: str = "start", at_risk_col: str = "at_risk_start", programme_col: str = "programme",
            lock_in_col: str = "lock_in") -> TimingOfEventsResults:
        """Fit on a person-month frame (one row per person-month on bijstand; see
        :func:`~reintegration_effects.survival.toe_frame.person_month_frame` for its columns)."""
        cols = {"person": person_col, "spell": spell_col, "duration": duration_col, "exit": exit_col,
                "start": start_col, "at_risk": at_risk_col, "programme": programme_col, "lock_in": lock_in_col}
        from .grouped import single_thread_blas

        with single_thread_blas():  # BLAS threads thrash on these tall, narrow designs (measured 2x slower)
            return self._fit(df, covariates, cols)

    def _fit(self, df, covariates, cols) -> TimingOfEventsResults:
        prep = self._prepare(df, covariates, cols)
        lik = prep.lik
        theta = self._start_values(prep)
        path, fits = [], {}
        K = 1
        target = int(self.points) if self.points is not None else int(self.max_points)
        while True:
            theta, ll, conv, gmax = self._optimise(lik, theta, K)
            p = len(theta)
            crit = {"aic": -2 * ll + 2 * p, "bic": -2 * ll + p * np.log(lik.N)}
            path.append({"points": K, "log_likelihood": ll, "n_params": p, "aic": crit["aic"], "bic": crit["bic"],
                         "converged": conv, "newton_decrement": gmax})
            fits[K] = theta
            if K >= target:
                break
            if self.points is None and K > 1 and crit[self.criterion] >= path[-2][self.criterion]:
                break
            theta = self._add_point(lik, theta, K)
            K += 1
        path = pd.DataFrame(path)
        if self.points is None:
            K = int(path.loc[path[self.criterion].idxmin(), "points"])
        row = path[path["points"] == K].iloc[0]
        if not row["converged"]:
            warnings.warn(StatisticalWarning(
                f"timing_of_events: the optimiser stopped short with {K} mass point(s) (Newton decrement "
                f"{row['newton_decrement']:.2g}, the squared distance to the maximum in standard errors); the "
                "estimates are not at the maximum"), stacklevel=2)
        return TimingOfEventsResults(self, prep, fits[K], K, path)

    def _start_values(self, prep: _Prepared) -> np.ndarray:
        lik = prep.lik
        lay = lik.layout(1)
        th = np.zeros(lay.n_params)
        sl = lay.slices()
        nb = len(prep.bands)
        e, s = lik.e, lik.s
        for j, name in ((1, "work"), (2, "other")):
            for b in range(nb):
                on = e.X[:, b] > 0
                rate = (e.n[on] * (e.y[on] == j)).sum() / max(e.n[on].sum(), 1.0)
                th[sl[name].start + b] = np.log(max(rate, 1e-4))
        for c in range(lik.L):
            for b in range(nb):
                on = s.X[:, b] > 0
                rate = (s.n[on] * (s.y[on] == c + 1)).sum() / max(s.n[on].sum(), 1.0)
                th[sl["start"].start + c * lay.p_start + b] = np.log(max(rate, 1e-4))
        return th

    def _optimise(self, lik: Likelihood, theta: np.ndarray, K: int):
        """BHHH (Berndt-Hall-Hall-Hausman: Newton steps with the outer product of the per-person
        scores as the information, step halving) for up to 15 steps, then BFGS started from the
        BHHH information (superlinear near the maximum), until the Newton decrement g' A^-1 g (the
        squared distance to the maximum in standard-error units) is below 1e-5. Returns theta,
        loglik, converged (decrement < 1e-3: within 0.03 standard errors of the maximum), decrement."""
        N = lik.N
        th = np.array(theta, dtype=float)
        ll, g, G, _ = lik.value_and_grad(th, K, scores=True)

        def info(G):
            A = G.T @ G
            A[np.diag_indices_from(A)] += 1e-9 * (np.diag(A).max() + 1.0)
            return A

        def decrement(g, A):
            try:
                step = np.linalg.solve(A, g)
            except np.linalg.LinAlgError:
                return np.zeros_like(g), np.inf
            return step, float(g @ step)

        A = info(G)
        t = 1.0
        for _ in range(min(15, self.maxiter)):
            step, dec = decrement(g, A)
            if dec < 1e-5:
                return th, ll, True, dec
            t, moved = min(1.0, 2 * t), False
            for _ in range(20):
                cand = th + t * step
                ll_c = lik.value(cand, K)
                if np.isfinite(ll_c) and ll_c >= ll - 1e-12 * abs(ll):
                    moved = True
                    break
                t /= 2
            if not moved:
                break
            th = cand
            ll, g, G, _ = lik.value_and_grad(th, K, scores=True)
            A = info(G)

        def f(x):
            v, gr = lik.value_and_grad(x, K)
            return -v / N, -gr / N

        try:
            h0 = np.linalg.inv(A) * N
            h0 = 0.5 * (h0 + h0.T)
        except np.linalg.LinAlgError:
            h0 = None
        res = optimize.minimize(f, th, jac=True, method="BFGS",
                                options={"gtol": 1e-9, "maxiter": self.maxiter, "hess_inv0": h0})
        th = res.x
        ll, g, G, _ = lik.value_and_grad(th, K, scores=True)
        dec = decrement(g, info(G))[1]
        return th, ll, bool(dec < 1e-3), dec

    def _add_point(self, lik: Likelihood, theta: np.ndarray, K: int) -> np.ndarray:
        """The best new point on a grid around the current ones (probability 0.05), as durmod."""
        lay = lik.layout(K)
        _, _, _, V, a = lay.unpack(theta)
        Lp = lik.person_loglik(theta, K)
        logpi = a - np.logaddexp.reduce(a)
        old = np.logaddexp.reduce(Lp + logpi[None, :], axis=1)
        eps = 0.05
        best, best_ll = None, -np.inf
        centre = V.T @ np.exp(logpi)
        # the exit part of a candidate's likelihood depends on its first two shifts only and the start
        # part on the third: 25 + 5 passes over the rows instead of 125
        parts = lik.point_parts(theta, K)
        starts = [parts.start(centre[2] + vs) for vs in _GRID]
        for vw in _GRID:
            for vo in _GRID:
                exit_part = parts.exit(centre[0] + vw, centre[1] + vo)
                for j, vs in enumerate(_GRID):
                    v = centre + np.array([vw, vo, vs])
                    ll = float(np.logaddexp(old + np.log1p(-eps), exit_part + starts[j] + np.log(eps)).sum())
                    if ll > best_ll:
                        best, best_ll = v, ll
        sl = lay.slices()
        a_new = np.log(eps / ((1 - eps) * np.exp(logpi[0])))
        return np.r_[theta[sl["work"]], theta[sl["other"]], theta[sl["start"]], theta[sl["points"]], best,
                     theta[sl["logits"]], a_new]


class TimingOfEventsResults:
    """A fitted timing-of-events model.

    ``summary``: one row per term and process: process (exit_to_work, exit_elsewhere,
    programme_start or programme_start:LABEL), term, estimate (log hazard ratio), std_error
    (person-clustered), z, p_value, hazard_ratio, ci_lower, ci_upper (of the hazard ratio), n
    (persons), n_events (events of the process), term_n (persons with the term on), term_events.
    ``mass_points``: point, probability, and the shift of each process's log hazard.
    ``selection_correlation``: correlations of the shifts under the mass-point distribution.
    ``path``: the fits with 1, 2, ... points (log-likelihood, parameters, AIC, BIC, converged).
    """

    def __init__(self, model: TimingOfEvents, prep: _Prepared, theta: np.ndarray, K: int, path: pd.DataFrame):
        self.model, self.prep, self.params_, self.n_points, self.path = model, prep, theta, K, path
        self.alpha = model.alpha
        lik = prep.lik
        self.log_likelihood, g, G, self.posterior = lik.value_and_grad(theta, K, scores=True)
        row = path[path["points"] == K].iloc[0]
        self.aic, self.bic, self.converged = float(row["aic"]), float(row["bic"]), bool(row["converged"])
        self.n_persons, self.n_spells = lik.N, prep.n_spells
        meat = G.T @ G * lik.N / max(lik.N - 1, 1)
        try:
            if model.se == "opg":
                self.cov_ = np.linalg.inv(meat)
            else:
                Hinv = np.linalg.inv(-numerical_hessian(lambda th: lik.value_and_grad(th, K)[1], theta))
                self.cov_ = Hinv @ meat @ Hinv
            if not np.all(np.isfinite(self.cov_)) or np.any(np.diag(self.cov_) < 0):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            warnings.warn(StatisticalWarning(f"timing_of_events: the information matrix with {K} mass points is "
                                             "singular; standard errors are not available"), stacklevel=3)
            self.cov_ = np.full((len(theta), len(theta)), np.nan)
        self.standard_errors_ = np.sqrt(np.clip(np.diag(self.cov_), 0, None))
        self.summary = self._summary()

    # ---- tables ---------------------------------------------------------------------------------
    def _summary(self) -> pd.DataFrame:
        prep, lik = self.prep, self.prep.lik
        lay = lik.layout(self.n_points)
        sl = lay.slices()
        zc = stats.norm.ppf(1 - self.alpha / 2)
        rows = []

        def add(process, names, idx, block, cause):
            for j, (name, i) in enumerate(zip(names, idx, strict=True)):
                on = block.X[:, j] != 0
                ev = block.y == cause
                rows.append({"process": process, "term": name, "estimate": self.params_[i],
                             "std_error": self.standard_errors_[i], "n": lik.N,
                             "n_events": int((block.n * ev).sum()),
                             "term_n": int(len(np.unique(block.pid[on]))), "term_events": int((block.n * (on & ev)).sum())})

        add("exit_to_work", prep.exit_names, range(sl["work"].start, sl["work"].stop), lik.e, 1)
        add("exit_elsewhere", prep.exit_names, range(sl["other"].start, sl["other"].stop), lik.e, 2)
        for c, lab in enumerate(prep.takeup_labels):
            proc = "programme_start" if lab == "any" else f"programme_start:{lab}"
            i0 = sl["start"].start + c * lay.p_start
            add(proc, prep.start_names, range(i0, i0 + lay.p_start), lik.s, c + 1)
        s = pd.DataFrame(rows)
        s["z"] = s["estimate"] / s["std_error"]
        s["p_value"] = 2 * stats.norm.sf(np.abs(s["z"]))
        s["hazard_ratio"] = np.exp(s["estimate"])
        s["ci_lower"] = np.exp(s["estimate"] - zc * s["std_error"])
        s["ci_upper"] = np.exp(s["estimate"] + zc * s["std_error"])
        return s[["process", "term", "estimate", "std_error", "z", "p_value", "hazard_ratio", "ci_lower", "ci_upper",
                  "n", "n_events", "term_n", "term_events"]]

    @property
    def effects(self) -> pd.DataFrame:
        """The programme terms of the exit-to-work hazard (``programme=LABEL`` and ``...:lock_in``)."""
        s = self.summary
        return s[(s["process"] == "exit_to_work") & s["term"].str.startswith("programme=")].reset_index(drop=True)

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Confidence intervals of the coefficients (log hazard ratios): process, term, lower, upper."""
        a = self.alpha if alpha is None else alpha
        zc = stats.norm.ppf(1 - a / 2)
        s = self.summary
        return pd.DataFrame({"process": s["process"], "term": s["term"], "lower": s["estimate"] - zc * s["std_error"],
                             "upper": s["estimate"] + zc * s["std_error"]})

    @property
    def mass_points(self) -> pd.DataFrame:
        lay = self.prep.lik.layout(self.n_points)
        _, _, _, V, a = lay.unpack(self.params_)
        pi = np.exp(a - np.logaddexp.reduce(a))
        out = pd.DataFrame(V, columns=list(PROCESSES))
        out.insert(0, "probability", pi)
        out.insert(0, "point", np.arange(1, self.n_points + 1))
        return out

    @property
    def selection_correlation(self) -> dict[str, float]:
        """Correlations of the log-hazard shifts under the fitted distribution (NaN with one point)."""
        mp = self.mass_points
        pi = mp["probability"].to_numpy()
        V = mp[list(PROCESSES)].to_numpy()
        m = pi @ V
        cov = (V - m).T @ ((V - m) * pi[:, None])
        sd = np.sqrt(np.diag(cov))

        def corr(i, j):
            return float(cov[i, j] / (sd[i] * sd[j])) if sd[i] > 1e-12 and sd[j] > 1e-12 else float("nan")
        return {"exit_to_work~programme_start": corr(0, 2), "exit_elsewhere~programme_start": corr(1, 2),
                "exit_to_work~exit_elsewhere": corr(0, 1)}

    def plot(self, ax=None):
        """Forest plot of the programme hazard ratios on the exit-to-work hazard; returns the Axes."""
        import matplotlib.pyplot as plt

        s = self.effects
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.4 * len(s) + 1))
        y = np.arange(len(s))[::-1]
        ax.errorbar(s["hazard_ratio"], y, xerr=[s["hazard_ratio"] - s["ci_lower"], s["ci_upper"] - s["hazard_ratio"]],
                    fmt="o", capsize=3)
        ax.axvline(1.0, color="grey", lw=0.8)
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels(s["term"])
        ax.set_xlabel("hazard ratio (exit to work)")
        return ax

    def _repr_html_(self) -> str:
        return (f"<p><b>timing_of_events</b>: {self.n_persons:,} persons, {self.n_points} mass point(s), "
                f"BIC {self.bic:.1f}</p>" + self.summary.to_html(float_format=lambda v: f"{v:.4f}"))
