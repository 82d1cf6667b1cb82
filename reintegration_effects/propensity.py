"""An exact (unpenalised) maximum-likelihood logit for propensity scores, and the input checks
the public estimators share.

:class:`PropensityModel` maximises the logistic log-likelihood by Newton-Raphson (iteratively
reweighted least squares) with step halving, on internally standardised covariates, and reports
the coefficients on the covariates' own scale. It stops when the largest gradient component
(standardised scale) divided by ``1 + |log-likelihood|`` is below ``tol`` (1e-8), or raises:
there is no silent early stop: the Newton step must have shrunk too (below 1e-6), since under
separation the gradient vanishes while the coefficients keep growing. Before fitting it names
missing values, non-numeric and constant columns, collinear columns and single columns that
separate; when Newton stalls it checks for (quasi-)complete separation, where the maximum does
not exist, with a linear programme (Konis 2007) and names the columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "PropensityModel",
    "PropensityModelError",
    "SeparationError",
    "CollinearityError",
    "ConstantColumnError",
    "LogitConvergenceError",
    "treatment_indicator",
    "check_numeric_columns",
]

#: Largest Newton step (standardised scale) at convergence; a vanishing gradient with larger
#: steps means coefficients running off to infinity, and triggers the separation check.
NEWTON_STEP_TOL = 1e-6


class PropensityModelError(ValueError):
    """The logit cannot be fitted as asked; ``columns`` names the covariates involved."""

    def __init__(self, message: str, columns: Sequence[str] = ()):
        super().__init__(message)
        self.columns = list(columns)


class ConstantColumnError(PropensityModelError):
    """A covariate takes one value only (the intercept already covers it)."""


class CollinearityError(PropensityModelError):
    """Covariates are exact linear combinations of others (and the intercept)."""


class SeparationError(PropensityModelError):
    """(Quasi-)complete separation: a combination of covariates predicts some rows' treatment
    perfectly, so the maximum-likelihood estimate does not exist (coefficients run to infinity)."""


class LogitConvergenceError(PropensityModelError):
    """Newton-Raphson did not reach the maximum within ``max_iter`` iterations."""


def _first_rows(index: pd.Index, mask: np.ndarray, k: int = 5) -> str:
    rows = index[np.asarray(mask)][:k].tolist()
    more = int(np.count_nonzero(mask)) - len(rows)
    return ", ".join(map(str, rows)) + (f" (and {more} more)" if more > 0 else "")


def treatment_indicator(values, column: str = "treatment") -> np.ndarray:
    """The treatment column as a boolean array, refusing anything but a binary indicator.

    Accepts bool, integers 0/1 or floats 0.0/1.0 (1 = treated); refuses other values, missing
    values, and a column without both groups, naming the column.

    Examples
    --------
    >>> treatment_indicator(pd.Series([0, 1, 1]), "treat")
    array([False,  True,  True])
    >>> treatment_indicator(pd.Series([1, 2, 2]), "treat")
    Traceback (most recent call last):
    ...
    ValueError: column 'treat' must be a binary treatment indicator (bool, 0/1 integers or 0.0/1.0); found values [1, 2]. Fix: recode it as 1 = treated, 0 = comparison.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    if s.isna().any():
        raise ValueError(f"column {column!r} has missing values in rows {_first_rows(s.index, s.isna().to_numpy())}. "
                         "Fix: drop those rows or code them 0/1.")
    kind = s.dtype.kind if not isinstance(s.dtype, pd.BooleanDtype) else "b"
    if kind == "b":
        out = s.to_numpy(dtype=bool)
    elif kind in "iuf":
        v = s.to_numpy(dtype=float)
        found = np.unique(v)
        if not np.isin(found, [0.0, 1.0]).all():
            shown = [int(u) if float(u).is_integer() else float(u) for u in found[:10]]
            raise ValueError(f"column {column!r} must be a binary treatment indicator (bool, 0/1 integers or "
                             f"0.0/1.0); found values {shown}. Fix: recode it as 1 = treated, 0 = comparison.")
        out = v == 1.0
    else:
        shown = pd.unique(s)[:10].tolist()
        raise ValueError(f"column {column!r} must be a binary treatment indicator (bool, 0/1 integers or "
                         f"0.0/1.0); found dtype {s.dtype} with values {shown}. "
                         "Fix: recode it as 1 = treated, 0 = comparison.")
    if out.all() or not out.any():
        raise ValueError(f"column {column!r} has only {'treated' if out.all() else 'comparison'} rows. "
                         "Fix: the data need both treated (1) and comparison (0) rows.")
    return out


def check_numeric_columns(df: pd.DataFrame, columns: Sequence[str], *, what: str = "covariate",
                          constant: bool = True) -> pd.DataFrame:
    """The columns as a float frame, after checking they exist, are numeric (or bool), finite,
    and (``constant=True``) not constant; errors name the column and the first bad rows.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1.0, 2.0, np.nan], "b": [1, 1, 1]})
    >>> check_numeric_columns(df, ["a"])
    Traceback (most recent call last):
    ...
    ValueError: covariate column 'a' has missing or infinite values in rows 2. Fix: drop or impute those rows first.
    """
    columns = list(columns)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} column(s) {missing} not found; the frame has {list(df.columns)[:20]}. "
                         "Fix: pass the names of existing columns.")
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise ValueError(f"{what} column(s) {dup} listed more than once. Fix: list each column once.")
    out = {}
    for c in columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype) or not (pd.api.types.is_numeric_dtype(s)
                                                              or pd.api.types.is_bool_dtype(s)):
            raise ValueError(f"{what} column {c!r} is not numeric (dtype {s.dtype}). "
                             "Fix: encode it, e.g. pd.get_dummies(df, columns=[...], drop_first=True, dtype=float).")
        v = s.to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(v)
        if bad.any():
            raise ValueError(f"{what} column {c!r} has missing or infinite values in rows "
                             f"{_first_rows(df.index, bad)}. Fix: drop or impute those rows first.")
        if constant and len(v) and np.all(v == v[0]):
            raise ConstantColumnError(f"{what} column {c!r} is constant (every value is {v[0]:g}); the "
                                      "intercept already covers it. Fix: leave it out.", [c])
        out[c] = v
    return pd.DataFrame(out, index=df.index, columns=columns)


def _loglik(eta: np.ndarray, d: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * (d * eta - np.logaddexp(0.0, eta))))


def _expit(eta: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -eta))


def _collinear(a: np.ndarray, names: Sequence[str], w: np.ndarray) -> None:
    """Raise CollinearityError if the (weighted) design [1, Z] is rank deficient."""
    from scipy.linalg import qr

    sw = np.sqrt(w / w.mean())
    # the weighted design in Fortran order, factorised in place: the R of the economic QR of
    # a * sw without the solver's copy and the full-size Q
    aw = np.empty(a.shape, order="F")
    np.multiply(a, sw[:, None], out=aw)
    # mode "raw": R from the top rows only (mode "r" takes the upper triangle of all n rows, a
    # full-size copy); the input was checked for finite values before
    _, r, piv = qr(aw, mode="raw", pivoting=True, overwrite_a=True, check_finite=False)
    diag = np.abs(np.diag(r))
    tol = max(aw.shape) * np.finfo(float).eps * diag[0] * 1e3
    rank = int(np.count_nonzero(diag > tol))
    if rank == a.shape[1]:
        return
    del _
    aw = a * sw[:, None]  # overwritten by the factorisation
    dep = [j for j in piv[rank:]]
    ind = list(piv[:rank])
    parts, cols = [], []
    labels = ["intercept", *names]
    for j in dep:
        coef = np.linalg.lstsq(aw[:, ind], aw[:, j], rcond=None)[0]
        on = [labels[ind[k]] for k in np.flatnonzero(np.abs(coef) > 1e-8)]
        parts.append(f"{labels[j]!r} = a linear combination of {on}")
        cols += [labels[j]] + [o for o in on if o != "intercept"]
    cols = list(dict.fromkeys(c for c in cols if c != "intercept"))
    raise CollinearityError(f"collinear covariates {cols}: " + "; ".join(parts) +
                            ". Fix: leave out one column of each set (for dummies: one category as the reference).",
                            [labels[j] for j in dep])


def _raise_separation(cols: list[str], rows: np.ndarray):
    raise SeparationError(
        f"perfect or quasi-complete separation by covariate(s) {cols}: a combination of them "
        f"predicts the treatment of {int(rows.sum())} row(s) exactly, so the maximum-likelihood "
        "estimate does not exist. Fix: leave out or coarsen those column(s), or drop the rows "
        "they predict perfectly (they have no comparable rows in the other group).", cols)


def _single_column_separation(a: np.ndarray, d: np.ndarray, names: Sequence[str]
                              ) -> tuple[list[str], np.ndarray] | None:
    """One column alone separates: every treated row on one side of every comparison row (for
    example a dummy that no treated row has). Cheap, checked before the fit."""
    for j in range(1, a.shape[1]):
        zt, zc = a[d, j], a[~d, j]
        if zt.max() <= zc.min():
            return [names[j - 1]], (d & (a[:, j] < zc.min())) | (~d & (a[:, j] > zt.max()))
        if zt.min() >= zc.max():
            return [names[j - 1]], (d & (a[:, j] > zc.max())) | (~d & (a[:, j] < zt.min()))
    return None


def _separation(a: np.ndarray, d: np.ndarray, names: Sequence[str]) -> tuple[list[str], np.ndarray] | None:
    """A direction b with (2d-1) a'b >= 0 on every row and > 0 on some (Konis 2007), found by a
    linear programme; returns (covariates in it, rows it predicts perfectly) or None."""
    from scipy.optimize import linprog

    s = np.where(d, 1.0, -1.0)
    m = a * s[:, None]
    k = a.shape[1]
    res = linprog(-m.sum(axis=0), A_ub=-m, b_ub=np.zeros(len(m)), bounds=[(-1, 1)] * k, method="highs")
    if res.status != 0 or res.x is None:
        return None
    b = res.x
    margin = m @ b
    if -res.fun <= 1e-6 or margin.max() <= 1e-6:
        return None
    big = np.abs(b[1:]) > 1e-6 * np.abs(b).max()
    cols = [names[j] for j in np.flatnonzero(big)]
    return cols, margin > 1e-6


class PropensityModel:
    """Unpenalised maximum-likelihood logit of a binary treatment on covariates.

    Newton-Raphson with step halving on standardised covariates (an intercept is added), until
    the relative gradient (largest score component on the standardised scale divided by
    ``1 + |log-likelihood|``) is below ``tol``. Coefficients are reported on the covariates'
    own scale, so they equal statsmodels ``Logit(d, add_constant(X)).fit(method="newton")``.
    Where the maximum does not exist or cannot be found it raises, naming the columns and the fix:
    :class:`ConstantColumnError`, :class:`CollinearityError`, :class:`SeparationError`,
    :class:`LogitConvergenceError` (all ``ValueError``), or ``ValueError`` for missing values.

    Parameters
    ----------
    max_iter : int, default 100
        Newton iterations before :class:`LogitConvergenceError`.
    tol : float, default 1e-8
        Relative-gradient threshold for convergence.
    alpha : float, default 0.05
        Level of the confidence intervals in :attr:`summary`.

    Attributes
    ----------
    params : pandas.Series
        Coefficients, ``Intercept`` first, then the covariates (log odds per unit).
    std_errors : pandas.Series
        Standard errors from the inverse observed information.
    log_likelihood : float
        Maximised (weighted) log-likelihood.
    log_likelihood_null : float
        Log-likelihood of the intercept-only model.
    converged : bool
        Always True after a successful fit (failures raise).
    n_iter : int
        Newton iterations used.
    relative_gradient : float
        The convergence criterion at the returned estimate.
    covariates : list of str
        Covariate names, in design order.
    n_obs : int
        Rows used.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=500), "z": rng.normal(size=500)})
    >>> df["d"] = (rng.random(500) < 1 / (1 + np.exp(-(0.5 * df.x - 1)))).astype(int)
    >>> m = PropensityModel().fit(df, treatment="d", covariates=["x", "z"])
    >>> m.converged, m.n_iter < 20
    (True, True)
    >>> m.params.round(3).tolist()
    [-1.009, 0.482, -0.171]
    >>> round(m.log_likelihood, 3)
    -283.44
    >>> m.predict(df.head(2)).round(3).tolist()
    [0.237, 0.241]
    """

    def __init__(self, *, max_iter: int = 100, tol: float = 1e-8, alpha: float = 0.05):
        self.max_iter = max_iter
        self.tol = tol
        self.alpha = alpha

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, *, treatment: str, covariates: Sequence[str],
            weights: str | None = None) -> PropensityModel:
        """Fit on ``df``: ``treatment`` a binary column, ``covariates`` numeric columns used as
        given (no encoding, no interactions added), ``weights`` an optional column of positive
        frequency or sampling weights. Returns ``self``."""
        if treatment not in df.columns:
            raise ValueError(f"treatment column {treatment!r} not found; the frame has {list(df.columns)[:20]}. "
                             "Fix: pass the name of an existing column.")
        if covariates is None or isinstance(covariates, str):
            raise ValueError("covariates must be a list of column names, e.g. covariates=['age', 'educ'].")
        d = treatment_indicator(df[treatment], treatment)
        x = check_numeric_columns(df, covariates)
        w = None
        if weights is not None:
            w = check_numeric_columns(df, [weights], what="weights", constant=False)[weights].to_numpy()
            if (w <= 0).any():
                raise ValueError(f"values in weights column {weights!r} must be positive; rows "
                                 f"{_first_rows(df.index, w <= 0)} are not. Fix: drop those rows.")
        return self._fit(x.to_numpy(), d, w, list(covariates))

    def fit_arrays(self, x, d, *, weights=None, names: Sequence[str] | None = None) -> PropensityModel:
        """Fit on arrays: ``x`` (n x k, no constant column), ``d`` binary (bool, 0/1),
        ``weights`` positive (n,), ``names`` the k covariate names (default x0, x1, ...)."""
        if isinstance(x, pd.DataFrame):
            names = list(x.columns) if names is None else names
            x = x.to_numpy(dtype=float)
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        names = [f"x{j}" for j in range(x.shape[1])] if names is None else list(names)
        # checked on the array itself (a frame of it cost two copies of the design); on a
        # failure check_numeric_columns names the column and rows as the frame-based fit does
        xv = np.asfortranarray(x)
        if (len(set(names)) != len(names) or len(names) != xv.shape[1] or not np.isfinite(xv).all()
                or (len(xv) and (xv == xv[:1]).all(axis=0).any())):
            check_numeric_columns(pd.DataFrame(x, columns=names), names)
        dv = treatment_indicator(pd.Series(np.asarray(d)), "d")
        if len(dv) != len(xv):
            raise ValueError(f"x has {len(xv)} rows but d has {len(dv)}. Fix: pass arrays of the same length.")
        w = None if weights is None else np.asarray(weights, dtype=float)
        if w is not None and (len(w) != len(xv) or not np.all(np.isfinite(w)) or (w <= 0).any()):
            raise ValueError("weights must be positive, finite and one per row of x.")
        return self._fit(xv, dv, w, names)

    def _fit(self, x: np.ndarray, d: np.ndarray, w: np.ndarray | None, names: list[str]) -> PropensityModel:
        n, k = x.shape
        w = np.ones(n) if w is None else w
        mean = (w @ x) / w.sum() if k else np.zeros(0)
        # the centred columns in one work array, squared and then rescaled in place: the numbers
        # of (x - mean) ** 2 and (x - mean) / sd without their full-size temporaries
        t = np.subtract(x, mean)
        np.square(t, out=t)
        sd = np.sqrt((w @ t) / w.sum()) if k else np.zeros(0)
        for j in np.flatnonzero(sd <= 1e-12 * np.maximum(1.0, np.abs(mean))):
            raise ConstantColumnError(f"covariate column {names[j]!r} is constant; the intercept already "
                                      "covers it. Fix: leave it out.", [names[j]])
        np.subtract(x, mean, out=t)
        np.divide(t, sd, out=t)
        # column_stack's layout (C unless the centred columns are Fortran-ordered only), so that
        # Newton's matrix products sum in the same order as before
        a = np.empty((n, k + 1), order="C" if t.flags.c_contiguous else "F")
        a[:, 0] = 1.0
        a[:, 1:] = t
        del t
        _collinear(a, names, w)
        dv = d.astype(float)
        pbar = float(w @ dv / w.sum())
        beta = np.zeros(k + 1)
        beta[0] = np.log(pbar / (1 - pbar))
        eta = a @ beta
        ll = _loglik(eta, dv, w)
        sep = _single_column_separation(a, d, names)
        if sep is not None:
            _raise_separation(*sep)
        rel, converged, stalled, it = np.inf, False, 0, 0
        while True:
            p = _expit(eta)
            g = a.T @ (w * (dv - p))
            rel = float(np.abs(g).max() / (1.0 + abs(ll)))
            h = (a * (w * p * (1 - p))[:, None]).T @ a
            try:
                step = np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(h, g, rcond=None)[0]
            if rel < self.tol:
                if np.abs(step).max() < NEWTON_STEP_TOL:
                    converged = True
                    break
                # the gradient vanishes while the Newton steps do not shrink: coefficients running
                # off to infinity (separation) rather than a maximum; a few steps tell them apart
                stalled += 1
                if stalled >= 3:
                    break
            if it == self.max_iter:
                break
            it += 1
            t = 1.0
            for _ in range(40):
                new = beta + t * step
                eta_new = a @ new
                ll_new = _loglik(eta_new, dv, w)
                if ll_new >= ll - 1e-12 * abs(ll):
                    break
                t /= 2
            beta, eta, ll = new, eta_new, ll_new
        if not converged:
            sep = _separation(a, d, names)
            if sep is not None:
                _raise_separation(*sep)
            converged = rel < self.tol  # weakly identified but at the gradient criterion
        if not converged:
            raise LogitConvergenceError(
                f"the logit did not converge in {self.max_iter} Newton iterations (relative gradient "
                f"{rel:.2e} > {self.tol:g}). Fix: raise max_iter, or rescale covariates with extreme values.")
        p = _expit(eta)
        h = (a * (w * p * (1 - p))[:, None]).T @ a
        cov_s = np.linalg.inv(h)
        t = np.eye(k + 1)
        t[0, 1:] = -mean / sd
        t[np.arange(1, k + 1), np.arange(1, k + 1)] = 1 / sd
        index = pd.Index(["Intercept", *names], name="term")
        self.params = pd.Series(t @ beta, index=index, name="estimate")
        self.cov_params = pd.DataFrame(t @ cov_s @ t.T, index=index, columns=index)
        self.std_errors = pd.Series(np.sqrt(np.diag(self.cov_params.to_numpy())), index=index, name="std_error")
        self.log_likelihood = ll
        self.log_likelihood_null = float(w.sum() * (pbar * np.log(pbar) + (1 - pbar) * np.log1p(-pbar)))
        self.converged = converged
        self.n_iter = it
        self.relative_gradient = rel
        self.covariates = list(names)
        self.n_obs = n
        # the internal standardised design and its coefficients (the matching bootstrap perturbs them)
        self.scaled_design = a
        self.scaled_params = beta
        return self

    # -- use ---------------------------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "params"):
            raise ValueError("PropensityModel is not fitted yet. Fix: call fit(df, treatment=..., covariates=...) first.")

    def linear_predictor(self, df: pd.DataFrame | None = None) -> np.ndarray:
        """Log odds of treatment for the rows of ``df`` (default: the fitted rows)."""
        self._check_fitted()
        if df is None:
            return self.scaled_design @ self.scaled_params
        x = check_numeric_columns(df, self.covariates, constant=False).to_numpy()
        return self.params.iloc[0] + x @ self.params.iloc[1:].to_numpy()

    def predict(self, df: pd.DataFrame | None = None) -> np.ndarray:
        """Propensity scores P(treated | covariates) for the rows of ``df`` (default: fitted rows)."""
        return _expit(self.linear_predictor(df))

    @property
    def aic(self) -> float:
        """Akaike information criterion, -2 log-likelihood + 2 (number of coefficients)."""
        self._check_fitted()
        return -2 * self.log_likelihood + 2 * len(self.params)

    @property
    def summary(self) -> pd.DataFrame:
        """Columns: term, estimate, std_error, z, p_value, ci_lower, ci_upper, n."""
        self._check_fitted()
        z = self.params / self.std_errors
        q = stats.norm.ppf(1 - self.alpha / 2)
        return pd.DataFrame({
            "term": self.params.index, "estimate": self.params.to_numpy(),
            "std_error": self.std_errors.to_numpy(), "z": z.to_numpy(),
            "p_value": 2 * stats.norm.sf(np.abs(z.to_numpy())),
            "ci_lower": (self.params - q * self.std_errors).to_numpy(),
            "ci_upper": (self.params + q * self.std_errors).to_numpy(), "n": self.n_obs,
        }, index=self.params.index)

    def __repr__(self) -> str:
        if not hasattr(self, "params"):
            return "PropensityModel()"
        return (f"<PropensityModel: {len(self.covariates)} covariates, n={self.n_obs}, "
                f"log-likelihood={self.log_likelihood:.4f}, {self.n_iter} Newton iterations>")
