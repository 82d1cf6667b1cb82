"""Results of the hazard models: :class:`HazardResults`, :class:`ExitToWorkResults`, the likelihood-ratio test."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..contract import HAZARDS_COLUMNS, programme_term
from .settings import SUMMARY_COLUMNS, z_quantile


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """Likelihood-ratio test of a fitted model against its null model (no covariates, the same
    baseline): ``statistic`` = 2 (log L - log L_null), chi-squared with ``degrees_freedom`` (the
    number of covariate terms), ``p_value``. Like lifelines' ``log_likelihood_ratio_test()``."""

    statistic: float
    degrees_freedom: int
    p_value: float
    log_likelihood: float
    log_likelihood_null: float
    test_name: str = "log-likelihood ratio test"


class HazardResults:
    """A fitted proportional-hazards model: coefficients, hazard ratios, diagnostics.

    Attributes: ``model_name``, ``engine`` ("lifelines.CoxPHFitter",
    "lifelines.CoxTimeVaryingFitter", "statsmodels.GLM(cloglog)", "statsmodels.GLM(poisson)" or, for
    the structured solver of large registers, "grouped Fisher scoring(cloglog)" / "(poisson)":
    standard errors from the expected (Fisher) information),
    ``params_`` (log hazard ratios), ``variance_matrix_``, ``standard_errors_``,
    ``hazard_ratios_``, ``confidence_intervals_`` (log-hazard-ratio scale, lifelines' column
    names), ``alpha``, ``n`` (spells or persons), ``n_events``, ``model`` (the estimator),
    ``fitter`` (the lifelines fitter or statsmodels results), ``notes`` (what was dropped and why).

    Columns of :attr:`summary` (index ``term``): term, estimate (log hazard ratio), std_error, z,
    p_value, hazard_ratio, ci_lower, ci_upper (hazard-ratio scale), n, n_events (model-wide),
    term_n (spells with the term switched on at some point), term_events (events while it was on;
    both NaN for non-binary terms). :meth:`to_frame` gives the contract's ``hazards.csv`` rows.

    Fit: :attr:`log_likelihood` (the partial log-likelihood for the Cox engines, as lifelines'
    ``log_likelihood_``; the grouped-time log-likelihood for the discrete engines),
    :meth:`log_likelihood_ratio_test` against the model without covariates, and :attr:`aic`
    (for Cox the partial AIC, lifelines' ``AIC_partial_``; for the discrete engines the baseline
    intervals count as parameters).

    Examples
    --------
    >>> from lifelines.datasets import load_rossi
    >>> from reintegration_effects.survival import CoxModel
    >>> res = CoxModel().fit(load_rossi(), duration_col="week", event_col="arrest",
    ...                      covariates=["fin", "age", "race", "wexp", "mar", "paro", "prio"])
    >>> round(res.log_likelihood, 2), round(res.aic, 2)
    (-658.75, 1331.5)
    >>> lr = res.log_likelihood_ratio_test()
    >>> round(lr.statistic, 2), lr.degrees_freedom, f"{lr.p_value:.3g}"
    (33.27, 7, '2.36e-05')
    """

    def __init__(self, *, model_name: str, params: pd.Series, variance: pd.DataFrame, alpha: float,
                 n: int, n_events: int, engine: str, model=None, fitter=None,
                 term_counts: pd.DataFrame | None = None, ph_test_fn: Callable | None = None,
                 concordance_fn: Callable | None = None, notes: Sequence[str] = (),
                 loglik_fn: Callable | None = None):
        self.model_name = model_name
        self.params_ = params.astype(float)
        self.params_.index.name = "term"
        self.variance_matrix_ = variance
        self.alpha = alpha
        self.n = int(n)
        self.n_events = int(n_events)
        self.engine = engine
        self.model = model
        self.fitter = fitter
        self.term_counts = term_counts
        self.notes = list(notes)
        self._ph_test_fn = ph_test_fn
        self._concordance_fn = concordance_fn
        self._ph_cache: pd.DataFrame | None = None
        self._concordance: float | None = None
        self._cells: pd.DataFrame | None = None
        self._cells_fn: Callable | None = None
        self._loglik_fn = loglik_fn  # () -> (log L, log L of the null model), for engines without lifelines
        self._loglik: dict[str, float] = {}

    # -- fit -----------------------------------------------------------------------------------
    def _log_likelihoods(self, null: bool) -> tuple[float, float]:
        if "ll" not in self._loglik or (null and "null" not in self._loglik):
            if self._loglik_fn is not None:
                self._loglik["ll"], self._loglik["null"] = map(float, self._loglik_fn())
            elif hasattr(self.fitter, "log_likelihood_"):  # lifelines: its own null model on demand
                self._loglik["ll"] = float(self.fitter.log_likelihood_)
                if null:
                    stat = float(self.fitter.log_likelihood_ratio_test().test_statistic)
                    self._loglik["null"] = self._loglik["ll"] - stat / 2
            else:
                raise ValueError(f"model {self.model_name!r} ({self.engine}) has no log-likelihood "
                                 "(fitted without data)")
        return self._loglik["ll"], self._loglik.get("null", float("nan"))

    @property
    def log_likelihood(self) -> float:
        """Maximised log-likelihood (partial for Cox: lifelines' ``log_likelihood_``)."""
        return self._log_likelihoods(null=False)[0]

    def log_likelihood_ratio_test(self) -> LikelihoodRatioTest:
        """Likelihood-ratio test against the model without covariates (same baseline, strata);
        returns a :class:`LikelihoodRatioTest` (statistic, degrees_freedom, p_value)."""
        ll, ll0 = self._log_likelihoods(null=True)
        stat = 2.0 * (ll - ll0)
        df = len(self.params_)
        return LikelihoodRatioTest(statistic=stat, degrees_freedom=df, p_value=float(stats.chi2.sf(stat, df)),
                                   log_likelihood=ll, log_likelihood_null=ll0)

    @property
    def aic(self) -> float:
        """-2 log-likelihood + 2 k; k the covariate terms (Cox: lifelines' ``AIC_partial_``), plus
        the baseline intervals for the discrete-time engines."""
        base = getattr(self, "baseline_", None)
        k = len(self.params_) + (len(base) if base is not None else 0)
        return -2.0 * self.log_likelihood + 2.0 * k

    @property
    def cells_(self) -> pd.DataFrame | None:
        """Discrete-time engine: the cells fitted (covariates, interval, events, at_risk), built on
        first access (tens of millions of rows in a national register); None for lifelines."""
        if self._cells is None and self._cells_fn is not None:
            self._cells = self._cells_fn()
        return self._cells

    @cells_.setter
    def cells_(self, value: pd.DataFrame | None) -> None:
        self._cells = value

    # -- estimates -----------------------------------------------------------------------------
    @property
    def standard_errors_(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.variance_matrix_.to_numpy())), index=self.params_.index,
                         name="std_error")

    @property
    def hazard_ratios_(self) -> pd.Series:
        return np.exp(self.params_).rename("hazard_ratio")

    @property
    def confidence_intervals_(self) -> pd.DataFrame:
        z = z_quantile(self.alpha)
        se = self.standard_errors_
        lvl = f"{100 * (1 - self.alpha):g}%"
        return pd.DataFrame({f"{lvl} lower-bound": self.params_ - z * se,
                             f"{lvl} upper-bound": self.params_ + z * se})

    @property
    def summary(self) -> pd.DataFrame:
        se = self.standard_errors_
        z = self.params_ / se
        zc = z_quantile(self.alpha)
        out = pd.DataFrame({
            "term": self.params_.index,
            "estimate": self.params_.to_numpy(),
            "std_error": se.to_numpy(),
            "z": z.to_numpy(),
            "p_value": 2 * stats.norm.sf(np.abs(z.to_numpy())),
            "hazard_ratio": np.exp(self.params_.to_numpy()),
            "ci_lower": np.exp((self.params_ - zc * se).to_numpy()),
            "ci_upper": np.exp((self.params_ + zc * se).to_numpy()),
            "n": self.n,
            "n_events": self.n_events,
        }, index=self.params_.index)
        tc = self.term_counts if self.term_counts is not None else pd.DataFrame(index=self.params_.index)
        out["term_n"] = tc.get("term_n", pd.Series(dtype=float)).reindex(self.params_.index).to_numpy()
        out["term_events"] = tc.get("term_events", pd.Series(dtype=float)).reindex(self.params_.index).to_numpy()
        return out[list(SUMMARY_COLUMNS)]

    def to_frame(self) -> pd.DataFrame:
        """Rows for ``hazards.csv``: the contract columns (model, term, hazard_ratio, ci_lower,
        ci_upper), then estimate, std_error, z, p_value, n, n_events, term_n, term_events, engine."""
        s = self.summary.reset_index(drop=True)
        s.insert(0, "model", self.model_name)
        s["engine"] = self.engine
        first = list(HAZARDS_COLUMNS)
        rest = [c for c in s.columns if c not in first]
        return s[first + rest]

    # -- diagnostics ---------------------------------------------------------------------------
    def ph_test(self, alpha: float | None = None) -> pd.DataFrame:
        """Proportional-hazards test per term, with what to do where it fails.

        Columns: model, term, test (which test), test_statistic, df, p_value, fails (p < alpha),
        recommendation (empty where the term passes). The lifelines engines use the
        Grambsch-Therneau test on scaled Schoenfeld residuals against the rank of event times;
        the discrete-time engine uses the score test of the term's interaction with log duration
        at the fitted model (a one-step estimate of all interactions, each term tested on its
        own, as Grambsch-Therneau), the same hypothesis (beta(t) = beta + theta g(t)) in the
        grouped-time model, in one pass over the cells (on the 20,000-person simulation its
        statistics are within a few per cent of the Wald test after refitting). In large
        registers every term may fail on tiny departures: read the plots and the size of the
        change, not only the p-value.
        """
        alpha = self.alpha if alpha is None else alpha
        if self._ph_cache is None and self._ph_test_fn is None:
            raise ValueError(f"model {self.model_name!r} has no proportional-hazards test (fitted without data)")
        if self._ph_cache is None:
            self._ph_cache = self._ph_test_fn(self)
        out = self._ph_cache.copy()
        out["fails"] = out["p_value"] < alpha
        out["recommendation"] = [(_ph_recommendation(t) if f else "") for t, f in zip(out["term"], out["fails"], strict=True)]
        out.insert(0, "model", self.model_name)
        return out.reset_index(drop=True)

    @property
    def concordance_(self) -> float:
        """Harrell's concordance over risk sets (ties in the risk score count one half)."""
        if self._concordance is None:
            if self._concordance_fn is None:
                return float("nan")
            self._concordance = float(self._concordance_fn(self))
        return self._concordance

    def diagnostics(self, alpha: float | None = None) -> pd.DataFrame:
        """:meth:`ph_test` with the model's concordance in a column ``concordance``."""
        out = self.ph_test(alpha)
        out["concordance"] = self.concordance_
        return out

    # -- display -------------------------------------------------------------------------------
    def plot(self, ax=None, *, terms: Sequence[str] | None = None, **kwargs):
        """Forest plot of hazard ratios with confidence intervals (log scale); returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.35 * len(self.params_) + 1))
        s = self.summary if terms is None else self.summary.loc[list(terms)]
        y = np.arange(len(s))[::-1]
        ax.errorbar(s["hazard_ratio"], y, xerr=[s["hazard_ratio"] - s["ci_lower"], s["ci_upper"] - s["hazard_ratio"]],
                    fmt="o", capsize=3, **kwargs)
        ax.axvline(1.0, color="grey", lw=1, ls="--")
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels(s["term"])
        ax.set_xlabel(f"hazard ratio ({100 * (1 - self.alpha):g}% CI)")
        ax.set_title(self.model_name)
        return ax

    def __str__(self) -> str:
        head = (f"{self.model_name} ({self.engine}): n={self.n:,}, events={self.n_events:,}, "
                f"concordance={self.concordance_:.3f}")
        return head + "\n" + self.summary.drop(columns="term").to_string(float_format=lambda v: f"{v:.4f}")

    def __repr__(self) -> str:
        return f"<HazardResults {self.model_name} ({self.engine}): {len(self.params_)} terms, n={self.n}>"

    def _repr_html_(self) -> str:
        return f"<p><b>{self.model_name}</b> ({self.engine}), n={self.n:,}, events={self.n_events:,}</p>" + \
            self.summary.drop(columns="term").to_html(float_format=lambda v: f"{v:.4f}")


class ExitToWorkResults(HazardResults):
    """:class:`HazardResults` of the exit model with programme terms, plus the 'ever' version.

    ``ever``: the same model with a time-fixed 'ever participated in this spell' dummy per programme
    instead of the time-varying term (biased by immortal time; shown as a teaching point), or None.
    ``programmes``: the programme labels modelled. :meth:`immortal_time_bias` compares both.
    """

    ever: HazardResults | None = None
    programmes: tuple[str, ...] = ()

    def immortal_time_bias(self) -> pd.DataFrame:
        """One row per programme: the time-varying and the 'ever' hazard ratio with their CIs.

        Columns: programme, term, hazard_ratio, ci_lower, ci_upper (time-varying, the estimate to
        report), hazard_ratio_ever, ci_lower_ever, ci_upper_ever (the biased dummy), ratio
        (hazard_ratio_ever / hazard_ratio).
        """
        rows = []
        s = self.summary
        e = self.ever.summary if self.ever is not None else pd.DataFrame(columns=s.columns)
        for label in self.programmes:
            t = programme_term(label)
            tv = s.loc[t] if t in s.index else None
            ev = e.loc[t] if t in e.index else None
            rows.append({
                "programme": label, "term": t,
                "hazard_ratio": tv["hazard_ratio"] if tv is not None else np.nan,
                "ci_lower": tv["ci_lower"] if tv is not None else np.nan,
                "ci_upper": tv["ci_upper"] if tv is not None else np.nan,
                "hazard_ratio_ever": ev["hazard_ratio"] if ev is not None else np.nan,
                "ci_lower_ever": ev["ci_lower"] if ev is not None else np.nan,
                "ci_upper_ever": ev["ci_upper"] if ev is not None else np.nan,
            })
        out = pd.DataFrame(rows, columns=["programme", "term", "hazard_ratio", "ci_lower", "ci_upper",
                                          "hazard_ratio_ever", "ci_lower_ever", "ci_upper_ever"])
        out["ratio"] = out["hazard_ratio_ever"] / out["hazard_ratio"]
        return out


def _ph_recommendation(term: str) -> str:
    dim = term.split("=")[0]
    if dim in ("programme", "lock_in"):
        return ("time-varying coefficient: let the programme effect depend on time since its start "
                "(separate lock-in and post-programme terms, or split the term at e.g. 6 and 12 months "
                "after the start)")
    if dim in ("sex", "age", "migration", "household", "education", "exit", "contract", "job_hours",
               "spell_duration"):
        return (f"stratify on {dim} (a separate baseline hazard per {dim}) when it is a control; when its "
                f"effect is of interest, fit a piecewise model with the {term} effect by duration band "
                "(e.g. <12, 12-35, 36+ months)")
    return ("piecewise model: estimate the coefficient separately by duration band (e.g. <12, 12-35, "
            "36+ months), or add its interaction with log duration (a time-varying coefficient)")


def ph_table(terms, stat, dof, p, test) -> pd.DataFrame:
    return pd.DataFrame({"term": list(terms), "test": test, "test_statistic": np.asarray(stat, float),
                         "df": dof, "p_value": np.asarray(p, float)})
