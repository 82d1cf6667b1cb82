"""How does a municipality do compared with similar ones? The composition-adjusted benchmark (issue 16a).

Indirect standardisation (Normand & Shahian 2007, *Statistical Science* 22: 206-226; the
observed/expected ratios of hospital profiling): for each municipality the OBSERVED indicator is
set against the EXPECTED one, the value its own population would have had under the average
practice of all municipalities compared. "Expected" comes from one reference model fitted on all
municipalities together: a logit (statsmodels GLM, binomial) of the indicator on the composition
(age, sex, migration background, education, household position, duration on bijstand) with the
municipality as a FIXED effect, so that the composition coefficients are estimated within
municipalities and do not absorb their differences in practice. The expected value then replaces
each municipality's own effect by one common constant, chosen so that expected equals observed
over all municipalities together (the defining property of indirect standardisation against the
pooled rates): sum_i expit(x_i b + c) = sum_i y_i.

Indicators (one row per person on bijstand on a reference date: the month end of the first window
month and every 12 months after, as long as the follow-up fits in the window; a person counts
once per reference date, so the inference is clustered by person):

- ``outflow_to_work``: left bijstand to work within 12 months (the spell's exit destination);
- ``sustainable_outflow``: in work and off bijstand 12 months after the reference date (status
  ``werk``);
- ``reentry_12m``: of those who left bijstand within 12 months (any destination) and can be
  followed 12 months after leaving, back on bijstand within 12 months;
- ``median_duration``: months from the reference date until leaving bijstand (Kaplan-Meier
  median, censored at the window end); expected from a discrete-time hazard logit (the same
  composition and fixed effects, plus time bands), as the median of the average survival curve of
  the municipality's own population.

Intervals: a person-clustered bootstrap, stratified by municipality (``n_boot`` resamples of
persons with all their reference dates; the reference model is refitted on each). The expected
value depends on coefficients estimated from data that include the municipality itself, so the
observed and expected values are correlated; the bootstrap carries that correlation, the
reference model's uncertainty and the repeated reference dates of one person without a
formula per indicator (a delta method would need the covariance of every observed count with the
coefficients). Intervals are percentile intervals of the difference and the ratio. Ranks (1 =
best) get bootstrap intervals too: they are uncertain (Goldstein & Spiegelhalter 1996, JRSS A).

Funnel plots (Spiegelhalter 2005, *Statistics in Medicine* 24: 1185-1202): the difference
observed - expected against the number of persons, with control limits +-z sqrt(p0 (1 - p0) / n)
around 0 at 95% and 99.8%, p0 the pooled rate.

The estimator works on any DataFrame (:class:`MunicipalityBenchmark`); :func:`benchmark_frame`
builds the package's own frame from the panel, :func:`benchmark_table` the output table.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from .contract import BENCHMARK_COLUMNS, BENCHMARK_INDICATORS, MIGRATION
from .dataset import InputData
from .panel import Panel

#: Composition the expected values adjust for (columns of :func:`benchmark_frame`).
COMPOSITION = ("age_band", "sex", "migration_background", "education", "household", "duration_band")
FOLLOW_UP_MONTHS = 12
#: Indicators where a lower value is better (ranks run the other way).
LOWER_IS_BETTER = ("reentry_12m", "median_duration")
AGE_EDGES, AGE_LABELS = (27, 35, 45, 55, 65), ("18-26", "27-34", "35-44", "45-54", "55-64", "65+")
#: Months on bijstand in the current spell at the reference date.
DURATION_EDGES, DURATION_LABELS = (6, 12, 24, 60, 120), ("0-5", "6-11", "12-23", "24-59", "60-119", "120+")
#: First month of each band of the discrete-time hazard (months since the reference date).
TIME_BANDS = (1, 2, 3, 4, 7, 10, 13, 19, 25, 37, 49, 61, 85)
MAX_MONTHS = 120
Z_FUNNEL = (1.959963984540054, 3.090232306167813)  # 95% and 99.8%


# ------------------------------------------------------------------------------------------------
# The package's frame
# ------------------------------------------------------------------------------------------------


def spell_municipalities(data: InputData, panel: Panel) -> np.ndarray:
    """The municipality of each bijstand spell of ``panel.spells`` (by ``spell_id``): the code on its
    benefits row (contiguous pieces are merged by ``validate`` into the first one, so a spell counts
    for the municipality that paid its first month). None where the column is absent or empty."""
    b = data.benefits
    b = b.loc[b["benefit"].astype(str) == "bijstand"]
    b = b.sort_values(["person_id", "start"], kind="mergesort").reset_index(drop=True)  # as derive_bijstand_spells
    if len(b) != len(panel.spells) or not (b["person_id"].astype(str).to_numpy()
                                           == panel.spells["person_id"].astype(str).to_numpy()).all():
        raise ValueError("the panel's spells do not match the benefits table: build the panel from the same data")
    if "municipality" not in b.columns:
        return np.full(len(b), None, dtype=object)
    return b["municipality"].astype(object).where(b["municipality"].notna(), None).to_numpy(dtype=object)


def has_municipalities(data: InputData) -> bool:
    """True when benefits has a municipality column with at least one code."""
    return "municipality" in data.benefits.columns and bool(data.benefits["municipality"].notna().any())


def benchmark_frame(data: InputData, panel: Panel) -> pd.DataFrame:
    """One row per person on bijstand on a reference date, with composition and indicators.

    Columns: ``person_id``, ``reference_date``, ``municipality``, the :data:`COMPOSITION` columns,
    ``outflow_to_work``, ``sustainable_outflow`` (0/1), ``reentry_12m`` (0/1, NaN when the person
    did not leave within 12 months or cannot be followed 12 months after leaving), ``duration``
    (months until leaving, at most :data:`MAX_MONTHS`) and ``left`` (1 = left, 0 = censored).
    Reference dates: month ends 0, 12, 24, ... of the window with 12 months of follow-up inside it.
    """
    m = panel.months
    n_win = panel.grid.n_window
    refs = np.arange(0, n_win - FOLLOW_UP_MONTHS, 12)
    idx = np.flatnonzero(np.isin(m["month_index"].to_numpy(), refs) & m["bijstand"].to_numpy())
    rows = m.iloc[idx]
    sid = rows["spell_id"].to_numpy(np.int64)
    r = rows["month_index"].to_numpy(np.int64)
    spells = panel.spells
    muni = spell_municipalities(data, panel)[sid]
    # last covered month end of the spell as a window month index (NaN: runs past the window)
    first_abs = panel.grid.first_window_month
    last = pd.to_datetime(spells["last_month"]).to_numpy()[sid]
    last_idx = np.where(pd.isna(last), np.nan, (pd.DatetimeIndex(last).year * 12 + pd.DatetimeIndex(last).month - 1)
                        - first_abs)
    left = ~np.isnan(last_idx)
    left12 = left & (last_idx <= r + FOLLOW_UP_MONTHS - 1)
    dest = spells["exit_destination"].astype(object).to_numpy()[sid]
    status12 = m["status"].astype(str).to_numpy()[idx + FOLLOW_UP_MONTHS]
    gap = pd.to_numeric(spells["months_to_reentry"], errors="coerce").to_numpy(dtype=float)[sid]
    followed = left12 & (last_idx + FOLLOW_UP_MONTHS <= n_win - 1)
    reentry = np.where(followed, (gap <= FOLLOW_UP_MONTHS).astype(float), np.nan)
    duration = np.where(left, last_idx - r + 1, n_win - 1 - r)
    persons = panel.persons.set_index(panel.persons["person_id"].astype(str))
    pid = rows["person_id"].astype(str).to_numpy()
    pers = persons.loc[pid]
    ref_date = rows["month"].to_numpy()
    age = (pd.DatetimeIndex(ref_date) - pd.DatetimeIndex(pers["birth_date"])).days.to_numpy() / 365.25
    out = pd.DataFrame({
        "person_id": pid,
        "reference_date": ref_date,
        "municipality": muni,
        "age_band": np.asarray(AGE_LABELS, dtype=object)[np.searchsorted(AGE_EDGES, age, side="right")],
        "sex": pers["sex"].astype(str).to_numpy(),
        "migration_background": pers["migration_background"].astype(str).to_numpy(),
        "education": pers["education"].astype(object).fillna("unknown").astype(str).to_numpy()
        if "education" in pers else "unknown",
        "household": rows["household"].astype(object).fillna("unknown").astype(str).to_numpy(),
        "duration_band": np.asarray(DURATION_LABELS, dtype=object)[
            np.searchsorted(DURATION_EDGES, rows["spell_month"].to_numpy(np.int64), side="right")],
        "outflow_to_work": (left12 & (dest == "werk")).astype(float),
        "sustainable_outflow": (status12 == "werk").astype(float),
        "reentry_12m": reentry,
        "duration": np.clip(duration, 0, MAX_MONTHS).astype(np.int64),
        "left": (left & (duration <= MAX_MONTHS)).astype(np.int64),
    })
    out["migration_background"] = out["migration_background"].where(out["migration_background"].isin(MIGRATION),
                                                                     "unknown")
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# The estimator
# ------------------------------------------------------------------------------------------------


@dataclass
class _Cells:
    """Rows collapsed to cells (municipality x composition [x time band]) with their design."""

    row_cell: np.ndarray  # cell of each row (binary) / of each row's unit (hazard: see _fit_hazard)
    X: np.ndarray  # design of the cells: intercept, composition dummies, municipality dummies
    n_comp: int  # intercept + composition (+ time) columns come first
    cell_muni: np.ndarray  # municipality code (index into municipalities) of each cell


def _design(frame: pd.DataFrame, covariates: Sequence[str], munis: np.ndarray, extra: np.ndarray | None = None):
    parts = [np.ones((len(frame), 1))]
    for c in covariates:
        d = pd.get_dummies(frame[c].astype(str), drop_first=True, dtype=float)
        parts.append(d.to_numpy())
    if extra is not None:
        parts.append(extra)
    n_comp = sum(p.shape[1] for p in parts)
    mu = pd.get_dummies(pd.Categorical(munis), drop_first=True, dtype=float).to_numpy()
    return np.hstack(parts + [mu]), n_comp


def _newton(y: np.ndarray, n: np.ndarray, X: np.ndarray, start: np.ndarray, tol: float = 1e-9,
            maxiter: int = 50) -> np.ndarray:
    """The same maximum as :func:`_glm` by Newton-Raphson from ``start`` (the bootstrap refits: the
    normal equations are only as wide as the design, so each refit costs milliseconds; a test
    checks it against statsmodels)."""
    keep = n > 0
    X, y, n = X[keep], y[keep], n[keep]
    beta = np.array(start, dtype=float)
    ridge = 1e-9 * np.eye(X.shape[1])  # columns without rows in a resample stay at their start
    for _ in range(maxiter):
        p = expit(X @ beta)
        grad = X.T @ (y - n * p)
        hess = (X * (n * p * (1 - p))[:, None]).T @ X + ridge
        step = np.linalg.lstsq(hess, grad, rcond=None)[0] if not np.isfinite(hess).all() else np.linalg.solve(hess, grad)
        beta += np.clip(step, -5, 5)
        if np.max(np.abs(step)) < tol:
            break
    return beta


def _glm(y: np.ndarray, n: np.ndarray, X: np.ndarray, start=None) -> np.ndarray:
    """Coefficients of a binomial logit on grouped data (y successes of n): statsmodels GLM (IRLS)
    for the estimate, :func:`_newton` from it for the bootstrap refits (``start`` given)."""
    if start is not None:
        return _newton(y, n, X, start)
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    keep = n > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, PerfectSeparationWarning, RuntimeWarning))
        res = sm.GLM(np.column_stack([y[keep], n[keep] - y[keep]]), X[keep], family=sm.families.Binomial()
                     ).fit(start_params=start, maxiter=50)
    return np.asarray(res.params)


def _calibrate(eta0: np.ndarray, n: np.ndarray, total: float) -> float:
    """The constant c with sum n expit(eta0 + c) = total (expected equals observed overall)."""
    if total <= 0 or total >= n.sum():
        return -np.inf if total <= 0 else np.inf
    f = lambda c: float(np.sum(n * expit(eta0 + c)) - total)  # noqa: E731
    return brentq(f, -50.0, 50.0, xtol=1e-12)


class MunicipalityBenchmark:
    """Observed against expected given composition, per municipality (indirect standardisation).

    Parameters
    ----------
    n_boot : int
        Bootstrap resamples of persons (clustered, stratified by municipality) for the intervals.
    alpha : float
        1 - confidence level of the intervals.
    random_state : int, Generator or None
        Seed of the bootstrap (same seed, same intervals).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"municipality": rng.choice(["GM0001", "GM0002"], 400), "x": rng.choice(["a", "b"], 400)})
    >>> df["y"] = (rng.random(400) < np.where(df.x == "a", 0.2, 0.5)).astype(float)
    >>> df["person_id"] = np.arange(400)
    >>> res = MunicipalityBenchmark(n_boot=20, random_state=1).fit(df, outcome_col="y", covariates=["x"])
    >>> list(res.summary.columns[:6])
    ['persons', 'observations', 'events', 'observed', 'expected', 'difference']
    >>> bool(np.isclose((res.summary.expected * res.summary.observations).sum(), df.y.sum()))
    True
    """

    def __init__(self, *, n_boot: int = 200, alpha: float = 0.05, random_state=None):
        self.n_boot = n_boot
        self.alpha = alpha
        self.random_state = random_state

    def fit(self, df: pd.DataFrame, *, outcome_col: str | None = None, duration_col: str | None = None,
            event_col: str | None = None, municipality_col: str = "municipality",
            covariates: Sequence[str] = COMPOSITION, cluster_col: str | None = "person_id",
            higher_is_better: bool | None = None, own: str | None = None) -> BenchmarkResults:
        """Fit the reference model and the bootstrap; returns a :class:`BenchmarkResults`.

        Either ``outcome_col`` (a 0/1 indicator; rows where it is missing are left out) or
        ``duration_col`` and ``event_col`` (whole months >= 0 and 1 = left / 0 = censored: the
        indicator is the median). ``cluster_col``: the bootstrap resamples its values (None: rows).
        """
        binary = outcome_col is not None
        if binary == (duration_col is not None):
            raise ValueError("pass either outcome_col (a 0/1 indicator) or duration_col and event_col (a duration)")
        needed = [municipality_col, *covariates] + ([outcome_col] if binary else [duration_col, event_col])
        needed += [cluster_col] if cluster_col else []
        missing = [c for c in needed if c is None or c not in df.columns]
        if missing:
            raise ValueError(f"column(s) {missing} not in the frame (columns: {list(df.columns)}); pass the "
                             f"right names to fit()")
        d = df[df[municipality_col].notna()]
        if binary:
            d = d[d[outcome_col].notna()]
            bad = ~d[outcome_col].isin([0, 1])
            if bad.any():
                raise ValueError(f"{outcome_col}: values must be 0 or 1 (found {sorted(d.loc[bad, outcome_col].unique())[:5]}"
                                 f" in {int(bad.sum())} rows)")
        else:
            bad = (d[duration_col] < 0) | ~d[event_col].isin([0, 1])
            if bad.any():
                raise ValueError(f"{duration_col}/{event_col}: durations must be >= 0 and events 0 or 1 "
                                 f"({int(bad.sum())} rows are not)")
        d = d.reset_index(drop=True)
        munis, mcode = np.unique(d[municipality_col].astype(str).to_numpy(), return_inverse=True)
        if len(munis) < 2:
            raise ValueError(f"{municipality_col}: the benchmark needs at least two municipalities (found "
                             f"{list(munis)})")
        clusters = (pd.factorize(d[cluster_col])[0] if cluster_col else np.arange(len(d)))
        higher = (not binary or outcome_col not in LOWER_IS_BETTER) if higher_is_better is None else higher_is_better
        if not binary and higher_is_better is None:
            higher = False  # a shorter duration is better
        fitter = _Binary(d, outcome_col, covariates, mcode) if binary else \
            _Hazard(d, duration_col, event_col, covariates, mcode)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # small matrices: threads only contend
            return self._fit(d, fitter, clusters, mcode, munis, cluster_col, higher, binary, own)

    def _fit(self, d, fitter, clusters, mcode, munis, cluster_col, higher, binary, own) -> BenchmarkResults:
        est = fitter.estimate(np.ones(len(d)))
        rng = np.random.default_rng(self.random_state)
        # strata: a cluster's first municipality
        first_muni = np.zeros(clusters.max() + 1, dtype=np.int64)
        first_muni[clusters[::-1]] = mcode[::-1]
        draws = []
        for _ in range(int(self.n_boot)):
            w_cluster = np.zeros(len(first_muni))
            for k in range(len(munis)):
                members = np.flatnonzero(first_muni == k)
                if len(members):
                    w_cluster[members] = rng.multinomial(len(members), np.full(len(members), 1 / len(members)))
            draws.append(fitter.estimate(w_cluster[clusters]))
        persons = np.bincount(mcode, minlength=len(munis)) if cluster_col is None else np.array(
            [len(np.unique(clusters[mcode == k])) for k in range(len(munis))])
        return BenchmarkResults(self, munis, est, draws, persons=persons, higher_is_better=higher, binary=binary,
                                own=own, pooled=fitter.pooled)


class _Binary:
    """A 0/1 indicator: cells of municipality x composition, the logit, observed and expected counts."""

    def __init__(self, d, outcome_col, covariates, mcode):
        key = pd.MultiIndex.from_arrays([mcode, *[d[c].astype(str).to_numpy() for c in covariates]])
        self.cell, uniq = pd.factorize(key)
        cells = uniq.to_frame(index=False)
        cells.columns = ["_m", *covariates]
        self.cell_m = cells["_m"].to_numpy(np.int64)
        self.X, self.n_comp = _design(cells, covariates, self.cell_m)
        self.y = d[outcome_col].to_numpy(float)
        self.k = mcode.max() + 1
        self.start = None
        self.pooled = float(self.y.mean())

    def estimate(self, w: np.ndarray) -> dict:
        nc = np.bincount(self.cell, weights=w, minlength=len(self.X))
        yc = np.bincount(self.cell, weights=w * self.y, minlength=len(self.X))
        beta = _glm(yc, nc, self.X, self.start)
        if self.start is None:
            self.start = beta
        eta0 = self.X[:, :self.n_comp] @ beta[:self.n_comp] - beta[0]
        c = _calibrate(eta0, nc, yc.sum())
        e = nc * expit(eta0 + c)
        n_m = np.bincount(self.cell_m, weights=nc, minlength=self.k)
        o_m = np.bincount(self.cell_m, weights=yc, minlength=self.k)
        e_m = np.bincount(self.cell_m, weights=e, minlength=self.k)
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"n": n_m, "events": o_m, "observed": o_m / n_m, "expected": e_m / n_m}


class _Hazard:
    """A duration: discrete-time logit hazard on cells x time bands; KM median against the median of
    the average survival curve of the municipality's population under the reference hazard."""

    def __init__(self, d, duration_col, event_col, covariates, mcode):
        key = pd.MultiIndex.from_arrays([mcode, *[d[c].astype(str).to_numpy() for c in covariates]])
        self.cell, uniq = pd.factorize(key)
        cells = uniq.to_frame(index=False)
        cells.columns = ["_m", *covariates]
        self.cell_m = cells["_m"].to_numpy(np.int64)
        self.T = int(min(MAX_MONTHS, max(int(d[duration_col].max()), 1)))
        self.dur = np.clip(d[duration_col].to_numpy(np.int64), 0, self.T)
        self.ev = d[event_col].to_numpy(np.int64) * (d[duration_col].to_numpy() <= self.T) * (self.dur > 0)
        self.band = np.searchsorted(TIME_BANDS, np.arange(1, self.T + 1), side="right") - 1  # month t -> band
        self.nb = self.band.max() + 1
        nc = len(cells)
        # design rows: cell x band
        cb = pd.DataFrame({c: np.repeat(cells[c].to_numpy(), self.nb) for c in covariates})
        tb = np.tile(np.eye(self.nb)[:, 1:], (nc, 1))
        self.X, self.n_comp = _design(cb, covariates, np.repeat(self.cell_m, self.nb), extra=tb)
        self.n_time = self.nb - 1
        self.ncell = nc
        self.k = mcode.max() + 1
        self.mcode = mcode
        self.start = None
        self.pooled = np.nan

    def _counts(self, w):
        T, nc = self.T, self.ncell
        # at risk in month t (1..T): duration >= t; events in month t: duration == t and event
        ends = np.bincount(self.cell * (T + 1) + self.dur, weights=w, minlength=nc * (T + 1)).reshape(nc, T + 1)
        at_risk = np.cumsum(ends[:, ::-1], axis=1)[:, ::-1][:, 1:]  # rows with duration >= t, t = 1..T
        events = np.bincount(self.cell * (T + 1) + self.dur, weights=w * self.ev,
                             minlength=nc * (T + 1)).reshape(nc, T + 1)[:, 1:]
        return at_risk, events

    def _median(self, surv: np.ndarray) -> np.ndarray:
        """First month with survival <= 0.5, per row of ``surv`` (municipalities x months); NaN: not reached."""
        hit = surv <= 0.5
        return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1.0, np.nan)

    def estimate(self, w: np.ndarray) -> dict:
        at_risk, events = self._counts(w)
        band_n = np.zeros((self.ncell, self.nb))
        band_d = np.zeros((self.ncell, self.nb))
        for b in range(self.nb):
            band_n[:, b] = at_risk[:, self.band == b].sum(axis=1)
            band_d[:, b] = events[:, self.band == b].sum(axis=1)
        beta = _glm(band_d.ravel(), band_n.ravel(), self.X, self.start)
        if self.start is None:
            self.start = beta
        eta0 = self.X[:, :self.n_comp] @ beta[:self.n_comp] - beta[0]
        c = _calibrate(eta0, band_n.ravel(), band_d.sum())
        h = expit(eta0 + c).reshape(self.ncell, self.nb)[:, self.band]  # cells x months
        s_cell = np.cumprod(1 - h, axis=1)
        n0 = np.bincount(self.cell, weights=w, minlength=self.ncell)
        k = self.k
        exp_curve = np.vstack([(n0[self.cell_m == j, None] * s_cell[self.cell_m == j]).sum(axis=0) for j in range(k)])
        n_m = np.bincount(self.cell_m, weights=n0, minlength=k)
        ar_m = np.vstack([at_risk[self.cell_m == j].sum(axis=0) for j in range(k)])
        ev_m = np.vstack([events[self.cell_m == j].sum(axis=0) for j in range(k)])
        with np.errstate(divide="ignore", invalid="ignore"):
            km = np.cumprod(1 - np.where(ar_m > 0, ev_m / ar_m, 0.0), axis=1)
            expected = self._median(exp_curve / n_m[:, None])
        return {"n": n_m, "events": ev_m.sum(axis=1), "observed": self._median(km), "expected": expected}


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------


@dataclass
class BenchmarkResults:
    """What :meth:`MunicipalityBenchmark.fit` returns.

    ``summary`` (one row per municipality, index ``municipality``), columns: ``persons`` (distinct
    clusters), ``observations`` (rows), ``events``, ``observed``, ``expected`` (rates for a 0/1
    indicator, months for a duration), ``difference`` (observed - expected) with ``ci_lower`` /
    ``ci_upper``, ``ratio`` (observed / expected) with ``ratio_ci_lower`` / ``ratio_ci_upper``,
    ``rank`` (1 = best) with ``rank_ci_lower`` / ``rank_ci_upper``, ``own``.
    """

    model: MunicipalityBenchmark
    municipalities: np.ndarray
    estimate: dict
    draws: list = field(repr=False)
    persons: np.ndarray = field(repr=False, default=None)
    higher_is_better: bool = True
    binary: bool = True
    own: str | None = None
    pooled: float = np.nan

    @property
    def summary(self) -> pd.DataFrame:
        e = self.estimate
        a = self.model.alpha
        diff = e["observed"] - e["expected"]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = e["observed"] / e["expected"]
        out = pd.DataFrame({"persons": self.persons, "observations": e["n"], "events": e["events"],
                            "observed": e["observed"], "expected": e["expected"], "difference": diff},
                           index=pd.Index(self.municipalities, name="municipality"))
        sign = 1.0 if self.higher_is_better else -1.0
        out["rank"] = _ranks(sign * diff)
        if self.draws:
            bd = np.vstack([d["observed"] - d["expected"] for d in self.draws])
            with np.errstate(divide="ignore", invalid="ignore"):
                br = np.vstack([d["observed"] / d["expected"] for d in self.draws])
            out["ci_lower"], out["ci_upper"] = _percentiles(bd, a)
            out["ratio"] = ratio
            out["ratio_ci_lower"], out["ratio_ci_upper"] = _percentiles(br, a)
            ranks = np.vstack([_ranks(sign * row) for row in bd])
            lo, hi = _percentiles(ranks, a)
            out["rank_ci_lower"], out["rank_ci_upper"] = np.floor(lo), np.ceil(hi)  # whole places
        else:
            out["ci_lower"] = out["ci_upper"] = np.nan
            out["ratio"] = ratio
            out["ratio_ci_lower"] = out["ratio_ci_upper"] = out["rank_ci_lower"] = out["rank_ci_upper"] = np.nan
        out["own"] = out.index == (self.own or "")
        cols = ["persons", "observations", "events", "observed", "expected", "difference", "ci_lower", "ci_upper",
                "ratio", "ratio_ci_lower", "ratio_ci_upper", "rank", "rank_ci_lower", "rank_ci_upper", "own"]
        return out[cols]

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Bootstrap percentile intervals of the difference (columns lower, upper)."""
        bd = np.vstack([d["observed"] - d["expected"] for d in self.draws])
        lo, hi = _percentiles(bd, self.model.alpha if alpha is None else alpha)
        return pd.DataFrame({"lower": lo, "upper": hi}, index=pd.Index(self.municipalities, name="municipality"))

    def to_frame(self) -> pd.DataFrame:
        """The summary with ``municipality`` as a column."""
        return self.summary.reset_index()

    def funnel_limits(self, n: np.ndarray) -> dict[float, np.ndarray]:
        """Control limits of the difference (0/1 indicators) at ``n`` persons: {z: half-width}."""
        p0 = self.pooled
        return {z: z * np.sqrt(p0 * (1 - p0) / np.asarray(n, float)) for z in Z_FUNNEL}

    def plot(self, ax=None):
        """Funnel plot: observed - expected against observations, control limits at 95% and 99.8%."""
        import matplotlib.pyplot as plt

        s = self.summary
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        ax.scatter(s["observations"], s["difference"], color="#1f77b4")
        if self.binary:
            n = np.linspace(max(float(s["observations"].min()) * 0.8, 5), float(s["observations"].max()) * 1.1, 200)
            for z, half in self.funnel_limits(n).items():
                ls = "--" if z < 3 else ":"
                ax.plot(n, half, color="grey", ls=ls)
                ax.plot(n, -half, color="grey", ls=ls)
        ax.axhline(0, color="black", lw=0.8)
        return ax

    def _repr_html_(self) -> str:
        return self.summary._repr_html_()


def _ranks(v: np.ndarray) -> np.ndarray:
    """Rank 1 = the largest value; NaN stays NaN."""
    return pd.Series(v).rank(ascending=False, method="min").to_numpy()


def _percentiles(draws: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column; NaN where more than half the draws are NaN (e.g. median not reached)."""
    ok = np.isfinite(draws)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo = np.nanpercentile(np.where(ok, draws, np.nan), 100 * alpha / 2, axis=0)
        hi = np.nanpercentile(np.where(ok, draws, np.nan), 100 * (1 - alpha / 2), axis=0)
    few = ok.mean(axis=0) < 0.5
    return np.where(few, np.nan, lo), np.where(few, np.nan, hi)


# ------------------------------------------------------------------------------------------------
# The output table
# ------------------------------------------------------------------------------------------------


def benchmark_results(frame: pd.DataFrame, *, own: str | None = None, benchmark=None, n_boot: int = 200,
                      alpha: float = 0.05, random_state=None) -> dict[str, BenchmarkResults]:
    """One :class:`BenchmarkResults` per indicator of :data:`BENCHMARK_INDICATORS` from a
    :func:`benchmark_frame`; ``benchmark``: None / "all" or a list of codes (the own one is added)."""
    f = frame[frame["municipality"].notna()]
    if isinstance(benchmark, list | tuple):
        f = f[f["municipality"].isin([*benchmark, *([own] if own else [])])]
    ss = np.random.SeedSequence(random_state if random_state is not None else None)
    seeds = ss.spawn(len(BENCHMARK_INDICATORS))
    out = {}
    for ind, seed in zip(BENCHMARK_INDICATORS, seeds, strict=True):
        est = MunicipalityBenchmark(n_boot=n_boot, alpha=alpha, random_state=np.random.default_rng(seed))
        if ind == "median_duration":
            out[ind] = est.fit(f, duration_col="duration", event_col="left", own=own)
        else:
            out[ind] = est.fit(f, outcome_col=ind, own=own, higher_is_better=ind not in LOWER_IS_BETTER)
    return out


def benchmark_table(results: dict[str, BenchmarkResults]) -> pd.DataFrame:
    """The exact ``benchmark`` table (before disclosure control): :data:`BENCHMARK_COLUMNS` and
    ``observations``, ``events``, ``ratio``, ``ratio_ci_lower``, ``ratio_ci_upper``, ``rank``,
    ``rank_ci_lower``, ``rank_ci_upper``, ``own``, ``control_95``, ``control_998`` (half-widths of
    the funnel's control limits at the municipality's size; NaN for the median)."""
    parts = []
    for ind, res in results.items():
        s = res.to_frame()
        s.insert(1, "indicator", ind)
        lim = res.funnel_limits(s["observations"]) if res.binary else {z: np.full(len(s), np.nan) for z in Z_FUNNEL}
        s["control_95"], s["control_998"] = lim[Z_FUNNEL[0]], lim[Z_FUNNEL[1]]
        parts.append(s)
    out = pd.concat(parts, ignore_index=True)
    first = list(BENCHMARK_COLUMNS)
    return out[first + [c for c in out.columns if c not in first]]
