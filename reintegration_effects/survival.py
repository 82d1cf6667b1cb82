"""Survival analysis of bijstand spells: time to outflow, competing destinations, re-entry, programmes.

Time scale and risk sets
------------------------
Time is **months since the bijstand spell began**, counted in month ends (the panel's convention:
the status of a month is the status on its last day). A spell that covers ``d`` month ends has
duration ``d``; its exit is observed at month end ``d`` (``spell_month == d`` would have been the
first month end off bijstand). A spell that began before the window is **left-truncated**: it is
only seen because it survived to the window, so it enters the risk set at ``entry =
months_before_window`` and is at risk of leaving at months ``entry < t <= duration`` (the
counting-process convention of R's ``survival`` and of lifelines' estimators). Spells still running
at the window's last month end are **right-censored** there.

In the person-month panel, the row of month ``m`` with ``spell_month == k`` is the interval
``(k, k + 1]``: the person is on bijstand at the month end of ``m`` and the row's event is
"off bijstand at the next month end". Covariates of that row are known at the month end of ``m``.
``programme=LABEL`` is therefore on from the row of the programme's start month onwards, for the
rest of that bijstand spell: an exit in the calendar month in which the programme started (before
its first month end) counts towards the hazard *before* the programme. That is the conservative
choice: no programme gets credit for a job found in the days around its start.

Two engines fit the same hazard models on the same design:

- **lifelines** (small data): ``CoxTimeVaryingFitter`` on start/stop episodes (Efron ties) and
  ``CoxPHFitter`` for time-fixed data.
- **discrete time** (large data): the grouped-time proportional-hazards model, a binomial GLM with
  complementary log-log link and one baseline dummy per month (or per duration band), fitted on
  data collapsed to unique covariate-by-interval cells with counts of persons at risk and events
  (statsmodels for small designs; for registers a structured Newton solver that never builds the
  dense design: see :class:`DiscreteTimeModel`; the national person-month design, ~40 million
  rows, is kept as bit planes and collapsed in batches of intervals, so that the survival step
  needs a few GB next to the panel). When the hazard is constant within a month this is the
  exact likelihood of monthly data (Prentice and Gloeckler 1978), and collapsing loses nothing:
  the cell counts are sufficient statistics, so collapsed and uncollapsed fits give identical
  coefficients. Its coefficients estimate the same log hazard ratios as the Cox model; with
  monthly hazards of a few per cent the two differ by far less than 0.005 in the hazard ratio
  (Efron's tie correction approximates the continuous-time partial likelihood, the cloglog model
  is the grouped-time likelihood; the gap grows with the hazard per interval). The Poisson
  variant (``link="log"``, piecewise exponential with an exposure offset and one interval per
  event time) reproduces the Cox partial likelihood with Breslow ties exactly, and so lifelines
  exactly on untied data.

Public API (see each docstring for the columns):

- tables: :func:`spell_table`, :func:`km_by_group`, :func:`median_durations`,
  :func:`logrank_by_group`, :func:`cumulative_incidence_by_group`, :func:`reentry_table`,
  :func:`reentry_km`, :func:`hazards_table`, :func:`survival_tables`
- estimators: :class:`CoxModel`, :class:`TimeVaryingCoxModel`, :class:`DiscreteTimeModel`
  (generic), :class:`ExitToWorkModel`, :class:`ReentryModel` (panel-based), and
  :func:`cause_specific_models`; all return :class:`HazardResults`.
- building blocks: :func:`exit_person_periods`, :func:`exit_episodes`,
  :func:`expand_person_periods`, :func:`collapse_person_periods`, :func:`kaplan_meier`,
  :func:`aalen_johansen`, :func:`logrank_test`, :func:`concordance`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from .contract import (
    AGE_BANDS,
    CONTRACTS,
    EDUCATION,
    HAZARDS_COLUMNS,
    HOUSEHOLD_POSITIONS,
    MIGRATION,
    SEX,
    age_band,
    group_label,
    programme_term,
)
from .errors import InsufficientDataError, StatisticalWarning
from .panel import Panel, covered_months, link_programme_starts, month_number

__all__ = [
    "CoxModel",
    "DiscreteTimeModel",
    "ExitToWorkModel",
    "HazardResults",
    "ReentryModel",
    "TimeVaryingCoxModel",
    "aalen_johansen",
    "cause_specific_models",
    "collapse_person_periods",
    "concordance",
    "cumulative_incidence_by_group",
    "exit_episodes",
    "exit_person_periods",
    "expand_person_periods",
    "hazards_table",
    "kaplan_meier",
    "km_by_group",
    "lock_in_term",
    "logrank_by_group",
    "logrank_test",
    "median_durations",
    "reentry_km",
    "reentry_table",
    "spell_table",
    "survival_tables",
]

# --------------------------------------------------------------------------------------------
# Settings and labels
# --------------------------------------------------------------------------------------------

#: Person-months at risk above which ``engine="auto"`` switches from lifelines to the discrete path.
LIFELINES_MAX_ROWS = 1_000_000

#: Design size (cells x columns) up to which ``DiscreteTimeModel(solver="auto")`` uses statsmodels.
STATSMODELS_MAX_ENTRIES = 200_000

#: Covariates of the exit models. sex, age (band), migration (background), status_holder,
#: household (position), education, history (months employed / on earlier bijstand spells / on WW in
#: the 36 months before), side_job (on bijstand with work at the month end), year (calendar year
#: of the month the exit would happen in).
ALL_COVARIATES = ("sex", "age", "migration", "status_holder", "household", "education", "history",
                  "side_job", "year")
DEFAULT_COVARIATES = ALL_COVARIATES

#: Reference level of each categorical covariate: the first contract level.
REFERENCE = {
    "sex": SEX[0],
    "age": AGE_BANDS[0],
    "migration": MIGRATION[0],
    "household": HOUSEHOLD_POSITIONS[0],
    "education": EDUCATION[0],
    "history": "0",
    "exit": "werk",
    "contract": "permanent",
    "job_hours": "24+",
    "spell_duration": "<12",
}

#: Labour-market history bands (months in the last 36): lower bound, upper bound, label.
HISTORY_BANDS = ((0, 0, "0"), (1, 12, "1-12"), (13, 36, "13-36"))
HISTORY_COLUMNS = ("hist_employed_36m", "hist_bijstand_36m", "hist_ww_36m")

#: Causes of an ended spell in the competing-risks tables (0 = censored).
CAUSES = {1: "werk", 2: "elsewhere"}
_MODEL_NAMES = {"werk": "exit_to_work", "elsewhere": "exit_elsewhere", "any": "exit_any"}

#: Group dimensions for tables: label prefix -> column of :func:`spell_table`.
SPELL_GROUPS = {
    "sex": "sex",
    "age": "age_band",
    "migration": "migration_background",
    "household": "household",
    "education": "education",
}

SUMMARY_COLUMNS = (
    "term", "estimate", "std_error", "z", "p_value", "hazard_ratio", "ci_lower", "ci_upper",
    "n", "n_events", "term_n", "term_events",
)


def lock_in_term(label: str) -> str:
    """Hazard-model term for the months while programme ``label`` runs (the lock-in phase)."""
    return f"lock_in={label}"


def _z(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


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
        z = _z(self.alpha)
        se = self.standard_errors_
        lvl = f"{100 * (1 - self.alpha):g}%"
        return pd.DataFrame({f"{lvl} lower-bound": self.params_ - z * se,
                             f"{lvl} upper-bound": self.params_ + z * se})

    @property
    def summary(self) -> pd.DataFrame:
        se = self.standard_errors_
        z = self.params_ / se
        zc = _z(self.alpha)
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


def _ph_table(terms, stat, dof, p, test) -> pd.DataFrame:
    return pd.DataFrame({"term": list(terms), "test": test, "test_statistic": np.asarray(stat, float),
                         "df": dof, "p_value": np.asarray(p, float)})


# --------------------------------------------------------------------------------------------
# Generic estimators
# --------------------------------------------------------------------------------------------


def _check_columns(df: pd.DataFrame, cols, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: column(s) {missing} not found; the frame has {list(df.columns)[:20]}. "
                         "Fix: pass the names of existing columns.")


def _binary_term_counts(X, event: np.ndarray, unit: np.ndarray | None = None) -> pd.DataFrame:
    """term_n (units with the term on at some point) and term_events for 0/1 columns (bincounts
    over integer unit codes, no sorting). ``X``: a DataFrame or a :class:`_TermsView`."""
    rows = {}
    ev = np.asarray(event).astype(bool)
    ucodes, n_u = None, 0
    if unit is not None:
        u = np.asarray(unit)
        if u.dtype.kind in "iu" and len(u) and u.min() >= 0 and u.max() < 4 * len(u) + 1024:
            ucodes, n_u = u, int(u.max()) + 1
        else:
            ucodes = pd.factorize(u, use_na_sentinel=False)[0]
            n_u = int(ucodes.max()) + 1 if len(ucodes) else 0
    for c in X.columns:
        on, v = _on_or_values(X, c)
        if on is None:
            if not _is_binary(v):
                rows[c] = (np.nan, np.nan)
                continue
            on = v == 1
        n_on = (int(np.count_nonzero(np.bincount(ucodes[on], minlength=n_u))) if ucodes is not None
                else int(np.count_nonzero(on)))
        rows[c] = (n_on, int(np.count_nonzero(on & ev)))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["term_n", "term_events"])


class CoxModel:
    """Cox proportional-hazards model for time-fixed covariates (lifelines ``CoxPHFitter``, Efron ties).

    ``CoxModel(alpha=0.05, penalizer=0.0, name="cox").fit(df, duration_col=..., event_col=...,
    entry_col=None, covariates=[...], strata=None, weights_col=None)`` returns
    :class:`HazardResults`. ``entry_col`` gives left truncation (at risk for entry < t <= duration).
    ``covariates`` is required: without it the error lists the numeric columns it would have used
    (an event flag's complement or a log duration among them would silently enter the model).
    """

    def __init__(self, *, alpha: float = 0.05, penalizer: float = 0.0, name: str = "cox"):
        self.alpha = alpha
        self.penalizer = penalizer
        self.name = name

    def fit(self, df: pd.DataFrame, *, duration_col: str, event_col: str, entry_col: str | None = None,
            covariates: Sequence[str] | None = None, strata: str | Sequence[str] | None = None,
            weights_col: str | None = None) -> HazardResults:
        from lifelines import CoxPHFitter

        special = [c for c in (duration_col, event_col, entry_col, weights_col) if c]
        strata_l = [strata] if isinstance(strata, str) else list(strata or [])
        _check_columns(df, special + strata_l, f"{type(self).__name__}.fit")
        if covariates is None:
            would = [c for c in df.columns if c not in special + strata_l and pd.api.types.is_numeric_dtype(df[c])]
            raise ValueError(f"{type(self).__name__}.fit: covariates is required; without it every other numeric "
                             f"column would be used: {would}. Fix: pass covariates=[...] with the columns "
                             "that belong in the model.")
        if isinstance(covariates, str):
            covariates = [covariates]
        covariates = list(covariates)
        _check_columns(df, covariates, f"{type(self).__name__}.fit")
        d = df[special + strata_l + covariates].reset_index(drop=True)
        if d.isna().any().any():
            bad = d.columns[d.isna().any()].tolist()
            raise ValueError(f"{type(self).__name__}.fit: missing values in column(s) {bad}. "
                             "Fix: drop or impute those rows first.")
        cph = CoxPHFitter(alpha=self.alpha, penalizer=self.penalizer)
        with warnings.catch_warnings(), _single_thread_blas():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            cph.fit(d, duration_col=duration_col, event_col=event_col, entry_col=entry_col,
                    strata=strata_l or None, weights_col=weights_col)
        params, var = _params_and_variance(cph, covariates)
        ev = d[event_col].to_numpy().astype(bool)

        def ph_fn(res, cph=cph, d=d):
            from lifelines.statistics import proportional_hazard_test

            r = proportional_hazard_test(cph, d, time_transform=_rank_among_events)
            s = r.summary
            s.index = [n[0] if isinstance(n, tuple) else n for n in s.index]
            s = s.loc[covariates]
            return _ph_table(covariates, s["test_statistic"], 1, s["p"], "scaled Schoenfeld (rank of time)")

        def conc_fn(res, d=d):
            score = d[covariates].to_numpy(float) @ res.params_.to_numpy()
            entry = d[entry_col].to_numpy(float) if entry_col else np.full(len(d), -np.inf)
            return concordance(entry, d[duration_col].to_numpy(float), ev, score)

        return HazardResults(model_name=self.name, params=params, variance=var, alpha=self.alpha, n=len(d),
                             n_events=int(ev.sum()), engine="lifelines.CoxPHFitter", model=self, fitter=cph,
                             term_counts=_binary_term_counts(d[covariates], ev), ph_test_fn=ph_fn,
                             concordance_fn=conc_fn)


def _params_and_variance(fitter, covariates) -> tuple[pd.Series, pd.DataFrame]:
    """Coefficients and their covariance from a lifelines fitter, labelled by term."""
    names = list(fitter.params_.index)
    V = pd.DataFrame(np.asarray(fitter.variance_matrix_, float), index=names, columns=names)
    return fitter.params_.reindex(covariates), V.loc[covariates, covariates]


def _rank_among_events(durations, events, weights):
    """lifelines time transform: rank of each event time among event times (ties averaged)."""
    t = pd.Series(np.asarray(durations, float), index=getattr(durations, "index", None))
    e = np.asarray(events).astype(bool)
    return t.where(e).rank(method="average")


class TimeVaryingCoxModel:
    """Cox model on start/stop episodes (lifelines ``CoxTimeVaryingFitter``, Efron ties).

    ``fit(df, id_col=..., start_col="start", stop_col="stop", event_col="event", covariates=None,
    strata=None, unit_col=None)``: one row per episode (start, stop]; the event flag is set on the
    episode in which the event happens. ``unit_col`` names the column that counts as one subject
    for ``n`` and ``term_n`` (default ``id_col``).
    """

    def __init__(self, *, alpha: float = 0.05, penalizer: float = 0.0, name: str = "cox_tv"):
        self.alpha = alpha
        self.penalizer = penalizer
        self.name = name

    def fit(self, df: pd.DataFrame, *, id_col: str, start_col: str = "start", stop_col: str = "stop",
            event_col: str = "event", covariates: Sequence[str] | None = None,
            strata: str | Sequence[str] | None = None, unit_col: str | None = None) -> HazardResults:
        from lifelines import CoxTimeVaryingFitter

        special = [id_col, start_col, stop_col, event_col]
        strata_l = [strata] if isinstance(strata, str) else list(strata or [])
        _check_columns(df, special + strata_l, f"{type(self).__name__}.fit")
        if covariates is None:
            covariates = [c for c in df.columns if c not in special + strata_l
                          and pd.api.types.is_numeric_dtype(df[c])]
        covariates = list(covariates)
        d = df[special + strata_l + covariates].reset_index(drop=True)
        bad = d[stop_col] <= d[start_col]
        if bad.any():
            raise ValueError(f"{type(self).__name__}.fit: {int(bad.sum())} episodes with {stop_col} <= "
                             f"{start_col} (first rows {list(np.flatnonzero(bad)[:5])}). Fix: drop empty episodes.")
        ctv = CoxTimeVaryingFitter(alpha=self.alpha, penalizer=self.penalizer)
        with warnings.catch_warnings(), _single_thread_blas():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            ctv.fit(d, id_col=id_col, event_col=event_col, start_col=start_col, stop_col=stop_col,
                    strata=strata_l or None)
        params, var = _params_and_variance(ctv, covariates)
        start = d[start_col].to_numpy(float)
        stop = d[stop_col].to_numpy(float)
        ev = d[event_col].to_numpy().astype(bool)
        X = d[covariates].to_numpy(float)
        unit = (df[unit_col] if unit_col else d[id_col]).to_numpy()
        stratum = (d[strata_l].astype(str).agg("|".join, axis=1).to_numpy() if strata_l else None)

        def ph_fn(res):
            stat, p = schoenfeld_test(start, stop, ev, X, res.params_.to_numpy(), res.variance_matrix_.to_numpy(),
                                      strata=stratum)
            return _ph_table(covariates, stat, 1, p, "scaled Schoenfeld (rank of time)")

        def conc_fn(res):
            return concordance(start, stop, ev, X @ res.params_.to_numpy())

        return HazardResults(model_name=self.name, params=params, variance=var, alpha=self.alpha,
                             n=len(np.unique(unit)), n_events=int(ev.sum()),
                             engine="lifelines.CoxTimeVaryingFitter", model=self, fitter=ctv,
                             term_counts=_binary_term_counts(d[covariates], ev, unit), ph_test_fn=ph_fn,
                             concordance_fn=conc_fn)


def schoenfeld_test(start, stop, event, X, beta, variance, *, strata=None):
    """Grambsch-Therneau test on scaled Schoenfeld residuals for start/stop data (Efron weights).

    The residual of an event at time t is x_i minus the Efron-weighted mean of x over the risk set
    {start < t <= stop} (tied events share the tie-corrected means, as in lifelines); scaled
    residuals are ``n_events * r @ variance``; g(t) is the rank of the event time among event times
    (ties averaged). Returns (test statistics, p-values), one per column of X (1 df each).
    Vectorised over rows; loops over the distinct event times only.
    """
    start, stop = np.asarray(start, float), np.asarray(stop, float)
    event = np.asarray(event).astype(bool)
    X = np.asarray(X, float)
    beta = np.asarray(beta, float)
    eta = X @ beta
    w = np.exp(eta - eta.max())
    strata = np.zeros(len(stop), dtype=int) if strata is None else pd.factorize(np.asarray(strata))[0]
    resid_rows, times = [], []
    for s in np.unique(strata):
        in_s = strata == s
        ev_idx = np.flatnonzero(event & in_s)
        for t in np.unique(stop[ev_idx]):
            risk = in_s & (start < t) & (stop >= t)
            tied = ev_idx[stop[ev_idx] == t]
            wr = w[risk]
            s0, s1 = wr.sum(), wr @ X[risk]
            t0, t1 = w[tied].sum(), w[tied] @ X[tied]
            dcount = len(tied)
            frac = np.arange(dcount)[:, None] / dcount
            means = ((s1[None, :] - frac * t1[None, :]) / (s0 - frac * t0)).mean(axis=0)
            resid_rows.append(X[tied] - means)
            times.append(np.full(dcount, t))
    r = np.vstack(resid_rows)
    t = np.concatenate(times)
    g = pd.Series(t).rank(method="average").to_numpy()
    g = g - g.mean()
    n_ev = len(t)
    scaled = n_ev * r @ np.asarray(variance, float)
    var_diag = np.diag(np.asarray(variance, float))
    stat = (g @ scaled) ** 2 / (n_ev * var_diag * (g ** 2).sum())
    return stat, stats.chi2.sf(stat, 1)


def concordance(start, stop, event, score) -> float:
    """Harrell's C over risk sets: for each event at t, compare its risk score with every subject
    at risk at t ({start < t <= stop}) that does not have an event at t (censored at t counts as
    surviving longer). Higher score = higher hazard. Ties in the score count one half. For plain
    right-censored data pass ``start = -inf``. Vectorised over rows; loops over event times."""
    start, stop = np.asarray(start, float), np.asarray(stop, float)
    event = np.asarray(event).astype(bool)
    score = np.asarray(score, float)
    conc = ties = total = 0.0
    ev_idx = np.flatnonzero(event)
    for t in np.unique(stop[ev_idx]):
        at_t = ev_idx[stop[ev_idx] == t]
        others = np.sort(score[(start < t) & (stop >= t) & ~(event & (stop == t))])
        if len(others) == 0:
            continue
        lo = np.searchsorted(others, score[at_t], side="left")
        hi = np.searchsorted(others, score[at_t], side="right")
        conc += lo.sum()
        ties += (hi - lo).sum()
        total += len(others) * len(at_t)
    return (conc + 0.5 * ties) / total if total else float("nan")


def _concordance_parts(time, score, events, at_risk) -> tuple[float, float, float]:
    """Concordant, tied and all comparable (event, non-event) pairs within intervals, from
    person-period cells (see :func:`_concordance_cells`)."""
    time = np.asarray(time)
    score = np.asarray(score, float)
    e = np.asarray(events, float)
    ne = np.asarray(at_risk, float) - e
    if len(time) == 0:
        return 0.0, 0.0, 0.0
    t_codes = pd.factorize(time, sort=True)[0]
    order = np.argsort(score, kind="stable")
    order = order[np.argsort(t_codes[order].astype(np.int32 if t_codes.max() >= 2 ** 15 else np.int16), kind="stable")]
    t, s = t_codes[order], score[order]
    new = np.r_[True, (t[1:] != t[:-1]) | (s[1:] != s[:-1])]
    starts = np.flatnonzero(new)
    E = np.add.reduceat(e[order], starts)
    NE = np.add.reduceat(ne[order], starts)
    del order, new, s
    T = t[starts]
    cs = np.cumsum(NE)
    first_of_t = np.flatnonzero(np.r_[True, T[1:] != T[:-1]])
    t_run = np.cumsum(np.r_[True, T[1:] != T[:-1]]) - 1  # run of equal intervals of each (t, s) group
    before_t = (cs - NE)[first_of_t]  # non-events in earlier intervals
    cum_ne = cs - NE - before_t[t_run]  # non-events with a lower score, same interval
    tot_ne = np.add.reduceat(NE, first_of_t)[t_run]
    return float((E * cum_ne).sum()), float((E * NE).sum()), float((E * tot_ne).sum())


def _concordance_cells(time, score, events, at_risk) -> float:
    """Harrell's C on person-period cells: within each interval, events vs non-events at risk.

    Sorted arrays instead of a pandas groupby (one lexicographic sort by interval and score, then
    segment sums), so that it stays a few seconds on tens of millions of cells."""
    conc, tied, total = _concordance_parts(time, score, events, at_risk)
    return float((conc + 0.5 * tied) / total) if total else float("nan")


def _concordance_sorted(bcodes, score, events, at_risk) -> float:
    """:func:`_concordance_cells` for cells sorted by interval, a batch of whole intervals
    (:data:`_COLLAPSE_ROWS` cells) at a time: the pairs never cross intervals, so the sums add up,
    and the sort's temporaries stay bounded."""
    n = len(bcodes)
    ends = np.r_[np.flatnonzero(bcodes[1:] != bcodes[:-1]) + 1, n] if n else np.zeros(0, dtype=np.intp)
    conc = tied = total = 0.0
    for start, stop in _interval_batches(ends, _COLLAPSE_ROWS):
        c, t, tot = _concordance_parts(bcodes[start:stop], score[start:stop], events[start:stop], at_risk[start:stop])
        conc, tied, total = conc + c, tied + t, total + tot
    return float((conc + 0.5 * tied) / total) if total else float("nan")


def _interval_batches(ends: np.ndarray, size: int):
    """(start, stop) of consecutive batches of whole intervals, for rows or cells sorted by
    interval: ``ends`` = where each interval's rows end (increasing); up to ``size`` rows per
    batch, or a single interval when it alone is larger."""
    n = int(ends[-1]) if len(ends) else 0
    start = 0
    while start < n:
        j = int(np.searchsorted(ends, start + size, side="right")) - 1
        stop = int(ends[j]) if j >= 0 else 0
        if stop <= start:
            stop = int(ends[np.searchsorted(ends, start, side="right")])
        yield start, stop
        start = stop


#: Cells per chunk in the grouped-time fits: the float64 work array is one columns x chunk buffer
#: (40 MB at 40 columns), allocated once per pass and reused, whatever the number of cells (fresh
#: 100 MB+ arrays per chunk were 4x slower, page faults included). A multiple of 8 (bit planes are
#: unpacked a byte at a time).
_CHUNK_CELLS = 1 << 17

#: Person-period rows per batch when collapsing (rows of whole intervals are hashed together):
#: bounds the hash table and key arrays to some 100 MB whatever the register's size.
_COLLAPSE_ROWS = 1 << 22


def _years(months: np.ndarray) -> np.ndarray:
    """Months in the last 36 (int8) -> years as float32, the history terms' unit."""
    return (np.asarray(months, np.float64) / 12.0).astype(np.float32)


class _Terms:
    """The term columns of a design or of its cells, compact: 0/1 terms as bit planes (one bit per
    row, ``np.packbits``), other terms as their own arrays with an optional transform to the
    term's values (e.g. int8 months -> float32 years).

    Why: a national person-month design has about 40 million rows and 35 dummy terms; as int8
    columns they take 1.4 GB, as bit planes 0.18 GB, and unpacking a chunk of a plane costs about
    as much as converting an int8 column (measured). Columns are materialised only on request
    (:meth:`column`, :meth:`frame`) and converted to float64 one chunk at a time in the fits
    (:meth:`block`)."""

    def __init__(self, n: int):
        self.n = int(n)
        self.names: list[str] = []
        self._planes: dict[str, np.ndarray] = {}
        self._cols: dict[str, tuple[np.ndarray, Callable | None]] = {}

    @classmethod
    def from_frame(cls, df: pd.DataFrame, columns: Sequence[str]) -> _Terms:
        out = cls(len(df))
        for c in columns:
            out.add(c, _compact_column(df[c]))
        return out

    def add(self, name: str, values) -> None:
        """A term: a bit plane when its values are 0/1, else the array as it is."""
        v = np.asarray(values)
        if v.dtype.kind in "biuf" and _is_binary(v):
            self.add_binary(name, v)
        else:
            self.add_column(name, v)

    def add_binary(self, name: str, on) -> None:
        self._planes[name] = np.packbits(np.asarray(on).astype(bool, copy=False), bitorder="little")
        self.names.append(name)

    def add_column(self, name: str, values: np.ndarray, transform: Callable | None = None) -> None:
        self._cols[name] = (np.asarray(values), transform)
        self.names.append(name)

    def is_binary(self, name: str) -> bool:
        return name in self._planes

    def on(self, name: str) -> np.ndarray:
        """A 0/1 term as a bool array."""
        return np.unpackbits(self._planes[name], count=self.n, bitorder="little").view(bool)

    def column(self, name: str) -> np.ndarray:
        """A term's values (0/1 terms as int8)."""
        if name in self._planes:
            return np.unpackbits(self._planes[name], count=self.n, bitorder="little").view(np.int8)
        v, f = self._cols[name]
        return v if f is None else f(v)

    def frame(self, names: Sequence[str] | None = None, labels: Sequence[str] | None = None) -> pd.DataFrame:
        names = self.names if names is None else list(names)
        labels = names if labels is None else list(labels)
        return pd.DataFrame({lab: self.column(c) for lab, c in zip(labels, names, strict=True)}, copy=False)

    def raw(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The stored values at ``rows`` (0/1 terms as bool), for keys and gathers."""
        p = self._planes.get(name)
        if p is None:
            return self._cols[name][0][rows]
        return ((p[rows >> 3] >> (rows & 7).astype(np.uint8)) & 1).view(bool)

    def take(self, rows: np.ndarray) -> _Terms:
        out = _Terms(len(rows))
        for c in self.names:
            if c in self._planes:
                out.add_binary(c, self.raw(c, rows))
            else:
                v, f = self._cols[c]
                out.add_column(c, v[rows], f)
        return out

    def words(self, names: Sequence[str], lo: int, hi: int) -> list[np.ndarray]:
        """The 0/1 terms ``names`` of rows ``lo:hi`` packed into one uint64 per row and 64 terms:
        the bit pattern of each row, a ready collapse key for all dummies at once."""
        out = []
        for g in range(0, len(names), 64):
            group = names[g:g + 64]
            bits = np.unpackbits(np.stack([self._planes[c][lo >> 3:(hi + 7) >> 3] for c in group]), axis=1,
                                 count=hi - lo, bitorder="little")
            packed = np.packbits(bits, axis=0, bitorder="little")  # (bytes, rows)
            w = np.zeros((hi - lo, 8), dtype=np.uint8)
            w[:, :len(packed)] = packed.T
            out.append(w.view(np.uint64).ravel())
        return out

    def block(self, lo: int, hi: int, names: Sequence[str], out: np.ndarray) -> np.ndarray:
        """Terms ``names`` of rows ``lo:hi`` (``lo`` a multiple of 8) as float64 (terms x rows) in
        ``out``'s memory."""
        m = hi - lo
        out = out[:, :m]
        for r, c in enumerate(names):
            p = self._planes.get(c)
            if p is not None:
                out[r] = np.unpackbits(p[lo >> 3:(hi + 7) >> 3], count=m, bitorder="little")
            else:
                v, f = self._cols[c]
                out[r] = v[lo:hi] if f is None else f(v[lo:hi])
        return out


class _TermsView:
    """Model terms read from a :class:`_Terms` (``columns``: the model's names, ``sources``: the
    stored names), for the checks on 0/1 terms without materialising the design."""

    def __init__(self, terms: _Terms, columns: Sequence[str], sources: Sequence[str] | None = None):
        self.terms = terms
        self.columns = list(columns)
        self.sources = dict(zip(self.columns, self.columns if sources is None else list(sources), strict=True))

    def subset(self, columns: Sequence[str]) -> _TermsView:
        return _TermsView(self.terms, columns, [self.sources[c] for c in columns])

    def on(self, c: str) -> np.ndarray | None:
        s = self.sources[c]
        return self.terms.on(s) if self.terms.is_binary(s) else None

    def values(self, c: str) -> np.ndarray:
        return self.terms.column(self.sources[c])

    def frame(self) -> pd.DataFrame:
        return self.terms.frame([self.sources[c] for c in self.columns], self.columns)


def _on_or_values(X, c) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(bool array, None) for a 0/1 term of a :class:`_TermsView`, else (None, values)."""
    if isinstance(X, _TermsView):
        on = X.on(c)
        return (on, None) if on is not None else (None, X.values(c))
    return None, X[c].to_numpy()


def _compact_counts(v: np.ndarray) -> np.ndarray:
    """Counts as int32 when they are whole numbers in [0, 2^31) (half the memory), else float64."""
    v = np.asarray(v)
    if len(v) == 0 or v.dtype == np.int32:
        return v.astype(np.int32)
    if v.min() < 0 or v.max() >= 2 ** 31:
        return v.astype(float)
    if v.dtype.kind == "f":
        for lo in range(0, len(v), _COLLAPSE_ROWS):  # whole numbers? (chunked: no full-size temporaries)
            part = v[lo:lo + _COLLAPSE_ROWS]
            if not np.array_equal(part, np.floor(part)):
                return v
    return v.astype(np.int32)


def _concat(parts: list) -> np.ndarray:
    """Concatenate and empty the list (so the parts are freed as soon as the whole exists)."""
    out = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    parts.clear()
    return out


def _band_codes(time, baseline, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interval code of each row (int16/int32, in sorted interval order) and the sorted distinct
    intervals: the time values themselves (``baseline="interval"``) or the cut point each time
    falls after (``[c_i, c_{i+1})``). ``offset`` is added to the times (for whole-number times
    and ``"interval"`` only to the labels: the codes are the same, and no shifted copy is made)."""
    t = np.asarray(time)
    if offset and not (isinstance(baseline, str) and t.dtype.kind in "iu"):
        t, offset = t + offset, 0
    if isinstance(baseline, str):
        if baseline not in ("interval", "monthly"):
            raise ValueError(f"baseline={baseline!r}; expected 'interval' or a sequence of cut points.")
        if t.dtype.kind in "iu" and len(t) and int(t.max()) - int(t.min()) < 2 ** 20:
            lo = int(t.min())
            # in the column's own dtype when that cannot overflow (saves an int64 copy of the rows)
            idx = (t if lo == 0 else t - t.dtype.type(lo)) if lo >= 0 and t.dtype != np.uint64 else t.astype(np.int64) - lo
            values = np.arange(int(t.max()) - lo + 1, dtype=np.int64) + lo + offset
        else:
            t = t + offset if offset else t
            idx, values = pd.factorize(t, sort=True)
            values = np.asarray(values)
    else:
        cuts = np.sort(np.asarray(baseline, float))
        idx = np.searchsorted(cuts, np.asarray(t, float), side="right") - 1
        if (idx < 0).any():
            raise ValueError(f"baseline cut points start at {cuts[0]:g}, but the data have times down to "
                             f"{np.min(t):g}. Fix: start the cut points at or below the smallest time.")
        values = cuts
    present = np.flatnonzero(np.bincount(idx, minlength=len(values))) if len(idx) else np.zeros(0, dtype=np.intp)
    small = np.int16 if len(present) < 2 ** 15 else np.int32
    remap = np.zeros(len(values), dtype=small)
    remap[present] = np.arange(len(present), dtype=small)
    return remap[idx], values[present]


class _Cells:
    """Person-period rows collapsed to (interval, covariates) cells, sorted by interval.

    ``terms``: the cells' covariates (:class:`_Terms`, compact: bit planes and int8 / float32
    arrays; a float64 copy of a national design, tens of millions of cells x 30 terms, would not
    fit next to the panel, so the fits convert one chunk of cells at a time). ``band_labels``: the
    sorted distinct intervals; ``bcodes``: each cell's index into them (non-decreasing).
    ``n_at``: persons at risk; ``expo``: exposure (None: ``n_at``); ``events``: event counts per
    outcome (the exit models of one design differ only in which exits count, so they share the
    cells). Counts are int32 when whole."""

    def __init__(self, terms: _Terms, band_labels, bcodes, n_at, expo, events):
        self.terms = terms
        self.band_labels = band_labels
        self.bcodes = bcodes
        self.n_at = n_at
        self.expo = expo
        self.events = events
        self._patterns: _Patterns | None | bool = False

    @property
    def patterns(self) -> _Patterns | None:
        """The bit patterns of the 0/1 terms (:class:`_Patterns`), found on first use."""
        if self._patterns is False:
            self._patterns = _Patterns.of(self.terms)
        return self._patterns

    @property
    def names(self) -> list[str]:
        return self.terms.names

    def __len__(self) -> int:
        return len(self.bcodes)

    @classmethod
    def from_rows(cls, terms: _Terms, time, events: dict, *, n_at=None, expo=None, baseline="interval",
                  collapse: bool = True, time_offset: int = 0) -> _Cells:
        """Cells from person-period rows: ``terms`` (row level), ``time`` (interval), ``events``
        (name -> 0/1 or count per row), ``n_at`` (None: one person per row), ``expo``;
        ``time_offset`` is added to ``time``.

        The rows are ordered by interval (a stable radix sort) and collapsed in batches of whole
        intervals (:data:`_COLLAPSE_ROWS` rows): rows of different intervals never share a cell,
        so the batches are independent, the hash tables stay small, and the cells come out
        sorted by interval, within an interval in order of first appearance. The key of a row
        combines the interval, the bit pattern of all 0/1 terms (one uint64 per 64 terms) and the
        other terms' values (:func:`_collapse_index`)."""
        bc_rows, labels = _band_codes(time, baseline, time_offset)
        n = len(bc_rows)
        order = np.argsort(bc_rows, kind="stable")
        if n < 2 ** 31:
            order = order.astype(np.int32)
        if not collapse:
            first_rows = order
            ev_c = {k: np.asarray(v, float)[order] for k, v in events.items()}
            n_c = np.ones(n) if n_at is None else np.asarray(n_at, float)[order]
            expo_c = None if expo is None else np.asarray(expo, float)[order]
        else:
            binary = [c for c in terms.names if terms.is_binary(c)]
            other = [c for c in terms.names if not terms.is_binary(c)]
            words = [np.empty(n, dtype=np.uint64) for _ in range(0, len(binary), 64)]
            for lo in range(0, n, _COLLAPSE_ROWS):
                for w, part in zip(words, terms.words(binary, lo, min(lo + _COLLAPSE_ROWS, n)), strict=True):
                    w[lo:lo + len(part)] = part
                    del part
            ends = np.cumsum(np.bincount(bc_rows, minlength=len(labels)))  # end of each interval's rows
            firsts, ev_parts, n_parts, x_parts = [], {k: [] for k in events}, [], []
            for start, stop in _interval_batches(ends, _COLLAPSE_ROWS):
                seg = order[start:stop]
                inv, first = _collapse_index([bc_rows[seg], *(w[seg] for w in words),
                                              *(terms.raw(c, seg) for c in other)])
                k = len(first)
                firsts.append(seg[first])
                for key, v in events.items():
                    ev_parts[key].append(_compact_counts(np.bincount(inv, weights=np.asarray(v)[seg], minlength=k)))
                n_parts.append(_compact_counts(np.bincount(inv, minlength=k) if n_at is None
                                               else np.bincount(inv, weights=np.asarray(n_at)[seg], minlength=k)))
                if expo is not None:
                    x_parts.append(np.bincount(inv, weights=np.asarray(expo)[seg], minlength=k))
                del inv, first, seg
            del words, order
            first_rows = _concat(firsts)
            ev_c = {key: _concat(parts) for key, parts in ev_parts.items()}
            n_c = _concat(n_parts)
            expo_c = None if expo is None else _concat(x_parts)
        return cls(terms.take(first_rows), labels, bc_rows[first_rows], _compact_counts(n_c),
                   None if expo_c is None else np.asarray(expo_c, float),
                   {k: _compact_counts(v) for k, v in ev_c.items()})

    @classmethod
    def from_durations(cls, terms: _Terms, duration, event, *, baseline="interval",
                       max_entries: int = 20_000_000) -> _Cells | None:
        """Cells of subjects with time-fixed terms, at risk in intervals 1, ..., ``duration`` (whole
        units) with the event, if any, in the last: the cells of :func:`expand_person_periods`
        collapsed, without building the person-periods. Subjects with equal terms form a group;
        at risk in interval t = members with duration >= t, events = members with the event at
        t. None when the groups x durations table would exceed ``max_entries`` (then expand)."""
        T = np.asarray(duration, float)
        if not np.array_equal(T, np.round(T)):
            return None
        T = T.astype(np.int64)
        ev = np.asarray(event).astype(bool)
        keep = np.flatnonzero(T >= 1)
        if len(keep) == 0:
            return None
        T, ev = T[keep], ev[keep]
        binary = [c for c in terms.names if terms.is_binary(c)]
        other = [c for c in terms.names if not terms.is_binary(c)]
        words = terms.words(binary, 0, terms.n) if binary else []
        if words or other:
            inv, first = _collapse_index([*(w[keep] for w in words), *(terms.raw(c, keep) for c in other)])
        else:  # no terms: one group
            inv, first = np.zeros(len(keep), dtype=np.intp), np.zeros(1, dtype=np.intp)
        n_groups, width = len(first), int(T.max()) + 1
        if n_groups * width > max_entries:
            return None
        flat = inv.astype(np.int64) * width + T
        ends = np.bincount(flat, minlength=n_groups * width).reshape(n_groups, width)
        evs = np.bincount(flat, weights=ev, minlength=n_groups * width).reshape(n_groups, width)
        at_risk = np.cumsum(ends[:, ::-1], axis=1)[:, ::-1]  # members with duration >= t
        tt, gg = np.nonzero(at_risk[:, 1:].T > 0)  # interval-major: cells sorted by interval
        n_at, e_c = at_risk[gg, tt + 1], evs[gg, tt + 1]
        bc, labels = _band_codes(tt + 1, baseline)
        if not isinstance(baseline, str):  # duration bands: merge the intervals of a band
            merged, inv2 = np.unique(bc.astype(np.int64) * n_groups + gg, return_inverse=True)
            n_at = np.bincount(inv2, weights=n_at, minlength=len(merged))
            e_c = np.bincount(inv2, weights=e_c, minlength=len(merged))
            bc, gg = (merged // n_groups).astype(bc.dtype), merged % n_groups
        return cls(terms.take(keep[first[gg]]), labels, bc, _compact_counts(n_at), None,
                   {"event": _compact_counts(e_c)})

    def block(self, lo: int, hi: int, names: Sequence[str], out: np.ndarray) -> np.ndarray:
        return self.terms.block(lo, hi, names, out)

    def chunks(self):
        n = len(self)
        return ((lo, min(lo + _CHUNK_CELLS, n)) for lo in range(0, n, _CHUNK_CELLS))

    def linear_predictor(self, names: Sequence[str], beta: np.ndarray) -> np.ndarray:
        out = np.empty(len(self))
        buf = np.empty((len(names), min(_CHUNK_CELLS, len(self))))
        for lo, hi in self.chunks():
            out[lo:hi] = beta @ self.block(lo, hi, names, buf)
        return out

    def frame(self, names: Sequence[str], labels: Sequence[str], event_key: str, active: np.ndarray) -> pd.DataFrame:
        """The cells of the active intervals as a DataFrame: the terms ``names`` under ``labels``
        (compact dtypes), interval, events, at_risk; re-collapsed when ``names`` leaves out some
        of the stored terms."""
        on = np.flatnonzero(active[self.bcodes])
        cols = [self.terms.column(c)[on] for c in names]
        band = self.band_labels[self.bcodes[on]]
        ev, n_at = self.events[event_key][on].astype(float), self.n_at[on].astype(float)
        if len(names) < len(self.names) and len(band):
            inv, first = _collapse_index([band, *cols])
            ev = np.bincount(inv, weights=ev, minlength=len(first))
            n_at = np.bincount(inv, weights=n_at, minlength=len(first))
            cols, band = [c[first] for c in cols], band[first]
        out = pd.DataFrame(dict(zip(labels, cols, strict=True)))
        return out.assign(interval=band, events=ev, at_risk=n_at)


def _compact_column(s: pd.Series) -> np.ndarray:
    """A covariate column as a numpy array in its own numeric dtype (int8 stays int8); anything
    else (nullable, object) as float64."""
    v = s.to_numpy()
    return v if v.dtype.kind in "biuf" else s.to_numpy(dtype=float)


class DiscreteTimeModel:
    """Grouped-time proportional hazards on person-period data: the fast path for large registers.

    ``DiscreteTimeModel(link="cloglog", baseline="interval", solver="auto", alpha=0.05,
    name="discrete_time")``. ``fit(df, time_col=..., event_col=..., covariates=...,
    at_risk_col=None, exposure_col=None, unit_col=None, collapse=True)``:

    - ``df``: one row per subject per interval at risk (``time_col`` = the interval, e.g. month
      1, 2, ... of the spell; ``event_col`` = 0/1), or already collapsed cells with
      ``at_risk_col`` (persons at risk) and ``event_col`` (events) as counts.
    - ``link="cloglog"``: binomial GLM with complementary log-log link: P(event in interval t |
      at risk) = 1 - exp(-exp(alpha_t + x beta)). Exact for grouped data from a
      proportional-hazards model with a hazard constant within intervals, so exp(beta) are hazard
      ratios. ``link="log"``: Poisson (piecewise exponential) with offset log(exposure)
      (``exposure_col``, default 1 per row); with rows = subjects at risk at each distinct event
      time and exposure 1 this is exactly the Cox partial likelihood with Breslow ties (Whitehead
      1980), i.e. lifelines' fit when there are no ties.
    - ``baseline="interval"``: one dummy per distinct ``time_col`` value; a sequence of cut
      points (e.g. ``[1, 2, 3, 6, 12, 24, 60]``) gives piecewise-constant bands
      ``[c_i, c_{i+1})``. Intervals without any event are dropped with their rows: their baseline
      estimate is minus infinity and they carry no information on beta (exactly as in Cox).
    - ``collapse=True`` sums rows into unique (interval, covariates) cells with counts of events and
      persons at risk (binomial GLM with a two-column endog (events, non-events), i.e. frequency
      weights; exact, the counts are sufficient statistics); ``collapse=False`` fits the rows as
      they are (for checking that both agree). Covariates keep their own dtypes in the cells
      (int8 dummies stay int8): no float64 copy of the design is made.
    - ``solver="statsmodels"``: statsmodels ``GLM`` (IRLS) on the dense design with baseline
      dummies; ``"newton"``: Newton-Raphson on the same likelihood exploiting that the baseline
      block of the information matrix is diagonal (Schur complement for beta), no dense dummy
      matrix, accumulated over chunks of cells so that memory does not grow with the register,
      and with X'WX of the 0/1 terms summed per distinct bit pattern instead of per cell;
      ``"auto"``: statsmodels up to :data:`STATSMODELS_MAX_ENTRIES` design entries (cells x
      columns), newton above. Both give the same estimates and (expected-information) standard
      errors (tested to 1e-7); the structured solver is one to two orders of magnitude faster.

    The fitted baseline is in ``results.baseline_`` (interval, coef, std_error, hazard at x = 0)
    and the cells in ``results.cells_`` (covariates, interval, events, at_risk; built on first
    access). The proportional-hazards test (:meth:`HazardResults.ph_test`) is the score test of
    each term's interaction with log duration at the fitted model.
    """

    def __init__(self, *, link: str = "cloglog", baseline: str | Sequence[float] = "interval",
                 solver: str = "auto", alpha: float = 0.05, name: str = "discrete_time"):
        self.link = link
        self.baseline = baseline
        self.solver = solver
        self.alpha = alpha
        self.name = name

    def _check(self) -> None:
        if self.link not in ("cloglog", "log"):
            raise ValueError(f"DiscreteTimeModel: link={self.link!r}; expected 'cloglog' or 'log'.")
        if self.solver not in ("auto", "statsmodels", "newton"):
            raise ValueError(f"DiscreteTimeModel: solver={self.solver!r}; expected 'auto', 'statsmodels' or 'newton'.")

    def fit(self, df: pd.DataFrame, *, time_col: str, event_col: str, covariates: Sequence[str],
            at_risk_col: str | None = None, exposure_col: str | None = None, unit_col: str | None = None,
            collapse: bool = True, term_counts: pd.DataFrame | None = None,
            n_units: int | None = None) -> HazardResults:
        self._check()
        covariates = list(covariates)
        _check_columns(df, [time_col, event_col] + covariates + [c for c in (at_risk_col, exposure_col) if c],
                       "DiscreteTimeModel.fit")
        ev = df[event_col].to_numpy(float)
        n_at = df[at_risk_col].to_numpy(float) if at_risk_col else None
        expo = df[exposure_col].to_numpy(float) if exposure_col else None
        if term_counts is None and at_risk_col is None:
            unit = df[unit_col].to_numpy() if unit_col else None
            term_counts = _binary_term_counts(df[covariates], ev > 0, unit)
        if n_units is None:
            n_units = df[unit_col].nunique() if unit_col else (len(df) if n_at is None else int(n_at.sum()))
        cells = _Cells.from_rows(_Terms.from_frame(df, covariates), df[time_col].to_numpy(), {"event": ev},
                                 n_at=n_at, expo=expo, baseline=self.baseline, collapse=collapse)
        return self._fit_cells(cells, "event", covariates, term_counts=term_counts, n_units=n_units)

    def _fit_cells(self, cells: _Cells, event_key: str, covariates: Sequence[str], *,
                   term_counts: pd.DataFrame | None, n_units: int, sources: Sequence[str] | None = None,
                   start: HazardResults | None = None) -> HazardResults:
        """Fit on prepared cells: outcome ``cells.events[event_key]``, terms ``covariates``, read
        from the cells' terms ``sources`` (default: the same names; a subset of ``cells.names``);
        ``start``: a fitted model whose estimates (matched by term and interval) are the starting
        values, to save iterations."""
        self._check()
        covariates = list(covariates)
        idx = list(covariates) if sources is None else list(sources)
        ev = cells.events[event_key]
        # intervals without events: baseline -> -inf, no information on beta; left out of the fit
        active = np.bincount(cells.bcodes, weights=ev, minlength=len(cells.band_labels)) > 0
        blabels = cells.band_labels[active]
        nb, p = len(blabels), len(covariates)
        solver = self.solver
        if solver == "auto":
            n_act = int(np.count_nonzero(active[cells.bcodes]))
            solver = "statsmodels" if n_act * (nb + p) <= STATSMODELS_MAX_ENTRIES else "newton"
        link = self.link
        x0 = _start_values(cells, ev, active, p, link)
        if start is not None:
            base = getattr(start, "baseline_", None)
            if base is not None:
                prev = pd.Series(base["coef"].to_numpy(), index=base["interval"].to_numpy())
                x0[:nb] = prev.reindex(blabels).fillna(pd.Series(x0[:nb], index=blabels)).to_numpy()
            x0[nb:] = start.params_.reindex(covariates).fillna(0.0).to_numpy()
        fit = _fit_grouped(cells, ev, idx, active, link, solver, x0)
        if not fit.converged:
            warnings.warn(f"{self.name}: the discrete-time model did not converge; check for terms with no "
                          "events", StatisticalWarning, stacklevel=2)
        params = pd.Series(fit.params[nb:], index=covariates)
        var = pd.DataFrame(fit.cov_beta, index=covariates, columns=covariates)
        base = pd.DataFrame({"interval": blabels, "coef": fit.params[:nb], "std_error": fit.se_alpha})
        base["hazard"] = (-np.expm1(-np.exp(base["coef"]))) if link == "cloglog" else np.exp(base["coef"])
        engine = f"{'statsmodels.GLM' if solver == 'statsmodels' else 'grouped Fisher scoring'}" \
                 f"({'cloglog' if link == 'cloglog' else 'poisson'})"

        def ph_fn(r):
            return _discrete_ph_test(cells, ev, idx, active, link, fit.params, covariates)

        def conc_fn(r):
            return _concordance_sorted(cells.bcodes, cells.linear_predictor(idx, r.params_.to_numpy()), ev, cells.n_at)

        def loglik_fn():  # the same likelihood at the estimate and at the covariate-free MLE
            null = _start_values(cells, ev, active, p, link)
            return tuple(_grouped_pass(cells, ev, idx, active, v[:nb], v[nb:], link).ll for v in (fit.params, null))

        out = HazardResults(model_name=self.name, params=params, variance=var, alpha=self.alpha, n=n_units,
                            n_events=int(round(ev.sum())), engine=engine, model=self, fitter=fit.fitter,
                            term_counts=term_counts, ph_test_fn=ph_fn, concordance_fn=conc_fn,
                            loglik_fn=loglik_fn)
        out.baseline_ = base
        out._cells_fn = lambda: cells.frame(idx, covariates, event_key, active)
        return out


@dataclass
class _GroupedFit:
    params: np.ndarray  # baseline coefficients (active intervals), then beta
    cov_beta: np.ndarray
    se_alpha: np.ndarray
    converged: bool
    fitter: object = None


def _fit_grouped(cells: _Cells, ev, idx, active, link, solver, start) -> _GroupedFit:
    """Maximum likelihood of the grouped-time model (baseline per active interval + X beta) on cells."""
    if solver == "newton":
        with _single_thread_blas():
            return _grouped_newton(cells, ev, idx, active, link, start)
    import statsmodels.api as sm

    on = np.flatnonzero(active[cells.bcodes])
    kmap = np.cumsum(active) - 1
    b = kmap[cells.bcodes[on]]
    nb = int(active.sum())
    X = np.column_stack([cells.terms.column(c)[on].astype(float) for c in idx]) if len(idx) else np.zeros((len(on), 0))
    e, n_at = ev[on].astype(float), cells.n_at[on].astype(float)
    B = np.zeros((len(on), nb))
    B[np.arange(len(on)), b] = 1.0
    design = np.hstack([B, X])
    if link == "cloglog":
        glm = sm.GLM(np.column_stack([e, n_at - e]), design,
                     family=sm.families.Binomial(link=sm.families.links.CLogLog()), hasconst=True)
    else:
        expo = (cells.n_at if cells.expo is None else cells.expo)[on]
        glm = sm.GLM(e, design, family=sm.families.Poisson(), offset=np.log(expo), hasconst=True)
    with warnings.catch_warnings(), _single_thread_blas():
        warnings.simplefilter("ignore")
        res = glm.fit(start_params=start, tol=1e-10, maxiter=100)
        cov = res.cov_params()
    return _GroupedFit(np.asarray(res.params), cov[nb:, nb:], np.sqrt(np.diag(cov)[:nb]), bool(res.converged), res)


def _single_thread_blas():
    """One BLAS thread for the dense fits: OpenBLAS threads thrash on these tall, narrow designs
    (measured 6x to 50x slower on a busy 2-core machine). A no-op without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class _Patterns:
    """The distinct bit patterns of the cells' 0/1 terms: ``pid`` (int32 per cell) and ``table``
    (patterns x 0/1 terms, uint8), ``col``: term name -> column of the table.

    Why: the information block X'WX of the 0/1 terms equals T' diag(sum of w per pattern) T, with
    T the pattern table. A national design has tens of millions of cells but only some 10^4 to
    10^6 patterns, so one bincount per pass replaces the p^2 multiply-adds per cell of X'WX (the
    dearest step of a pass, measured 4.5 ms per 65,536 cells at 32 terms)."""

    def __init__(self, pid: np.ndarray, table: np.ndarray, names: Sequence[str]):
        self.pid = pid
        self.table = table
        self.col = {c: j for j, c in enumerate(names)}

    @property
    def n(self) -> int:
        return len(self.table)

    @classmethod
    def of(cls, terms: _Terms) -> _Patterns | None:
        """Patterns of the 0/1 terms; None when there are none or nearly as many as cells."""
        binary = [c for c in terms.names if terms.is_binary(c)]
        if not binary or terms.n == 0:
            return None
        words = [np.empty(terms.n, dtype=np.uint64) for _ in range(0, len(binary), 64)]
        for lo in range(0, terms.n, _COLLAPSE_ROWS):
            for w, part in zip(words, terms.words(binary, lo, min(lo + _COLLAPSE_ROWS, terms.n)), strict=True):
                w[lo:lo + len(part)] = part
                del part
        if len(words) == 1:  # up to 64 terms: the word is the pattern
            inv, uniq = pd.factorize(words[0])
            del words
            if len(uniq) > terms.n // 2:
                return None
            bits = np.unpackbits(np.asarray(uniq, dtype=np.uint64).view(np.uint8).reshape(-1, 8), axis=1,
                                 bitorder="little")
            return cls(inv.astype(np.int32), np.ascontiguousarray(bits[:, :len(binary)]), binary)
        inv, first = _collapse_index(words)
        del words
        if len(first) > terms.n // 2:
            return None
        table = np.stack([terms.raw(c, first) for c in binary], axis=1).view(np.uint8)
        return cls(inv.astype(np.int32), table, binary)


class _Gram:
    """Accumulates X' diag(v) X over chunks of cells for the terms ``names``: the 0/1 terms through
    the cells' patterns (:class:`_Patterns`: sums of v and of v x other term per pattern), the
    other terms densely."""

    def __init__(self, patterns: _Patterns | None, names: Sequence[str]):
        self.names = list(names)
        self.pat = patterns
        self.bin = [r for r, c in enumerate(self.names) if patterns is not None and c in patterns.col]
        on = set(self.bin)
        self.flt = [r for r in range(len(self.names)) if r not in on]
        nP = patterns.n if self.bin else 0
        self.wp = np.zeros(nP)
        self.wf = np.zeros((len(self.flt), nP))
        self.aff = np.zeros((len(self.flt), len(self.flt)))

    def add(self, XT: np.ndarray, pid: np.ndarray | None, v: np.ndarray) -> None:
        F = XT[self.flt] if self.bin else XT
        if self.bin:
            self.wp += np.bincount(pid, weights=v, minlength=len(self.wp))
            for r in range(len(self.flt)):
                self.wf[r] += np.bincount(pid, weights=v * F[r], minlength=len(self.wp))
        if len(self.flt):
            self.aff += (F * v) @ F.T

    def matrix(self) -> np.ndarray:
        p = len(self.names)
        A = np.zeros((p, p))
        if self.bin:
            cols = [self.pat.col[self.names[r]] for r in self.bin]
            bb = np.zeros((len(cols), len(cols)))
            bf = np.zeros((len(cols), len(self.flt)))
            for lo in range(0, len(self.wp), _CHUNK_CELLS):  # pattern table as float64 a chunk at a time
                T = self.pat.table[lo:lo + _CHUNK_CELLS, cols].astype(float)
                bb += T.T @ (T * self.wp[lo:lo + _CHUNK_CELLS, None])
                bf += T.T @ self.wf[:, lo:lo + _CHUNK_CELLS].T
            A[np.ix_(self.bin, self.bin)] = bb
            A[np.ix_(self.bin, self.flt)] = bf
            A[np.ix_(self.flt, self.bin)] = bf.T
        A[np.ix_(self.flt, self.flt)] = self.aff
        return A


@dataclass
class _Pass:
    """Log-likelihood, score and information of the grouped-time model at one point.

    Blocks of the information: ``D`` (baseline, diagonal), ``C`` (baseline x beta), ``A`` (beta
    x beta), observed or expected as requested; ``expected``: the expected-information blocks
    (D, C, A) when they were computed as well (or instead); scores ``ga`` (baseline) and ``gb``
    (beta). With ``g_band`` also the blocks of the interactions z = x g(t) that the score test
    needs (expected information): ``uz`` (their score), ``azx`` (z x beta) and ``zz`` (z x z)."""

    ll: float
    ga: np.ndarray
    gb: np.ndarray
    D: np.ndarray
    C: np.ndarray
    A: np.ndarray
    expected: tuple | None = None
    uz: np.ndarray | None = None
    azx: np.ndarray | None = None
    zz: np.ndarray | None = None


def _grouped_pass(cells: _Cells, ev, names, active, alpha, beta, link, info: str = "expected",
                  g_band=None) -> _Pass:
    """One pass over the cells at (alpha, beta), accumulated chunk by chunk (:data:`_CHUNK_CELLS`).

    Hand-written because statsmodels' GLM needs the dense design with one dummy per interval (cells
    x (intervals + p) float64), which does not fit in memory for a national register. Here each
    chunk is converted to float64 on its own; the cells being sorted by interval, the baseline
    blocks are sums over each interval's segment of the chunk (D, score) and one matrix-vector
    product per segment (C); X'WX goes through the cells' bit patterns (:class:`_Gram`).
    ``info``: 'expected' (Fisher), 'observed' (minus the Hessian) or 'both' information blocks.
    Intervals outside ``active`` get weight zero (they are not part of the model)."""
    nb_all = len(cells.band_labels)
    p = len(names)
    kmap = np.cumsum(active) - 1
    a_full = np.where(active, np.asarray(alpha, float)[np.clip(kmap, 0, None)], 0.0) if len(alpha) else np.zeros(nb_all)
    masked = not active.all()
    if link != "cloglog":  # Poisson: canonical link, observed = expected information
        info = "expected"
    kinds = {"expected": ("e",), "observed": ("o",), "both": ("o", "e")}[info]
    pat = cells.patterns
    blocks = {k: (np.zeros(nb_all), np.zeros((nb_all, p)), _Gram(pat, names)) for k in kinds}
    ga, gb = np.zeros(nb_all), np.zeros(p)
    uz = gz1 = gz2 = None
    if g_band is not None:
        uz, gz1, gz2 = np.zeros(p), _Gram(pat, names), _Gram(pat, names)
    ll = 0.0
    expo_all = cells.n_at if cells.expo is None else cells.expo
    buf = np.empty((p, min(_CHUNK_CELLS, len(cells))))
    for lo, hi in cells.chunks():
        bc = cells.bcodes[lo:hi]
        pid = pat.pid[lo:hi] if pat is not None else None
        XT = cells.block(lo, hi, names, buf)
        eta = a_full[bc] + beta @ XT
        mu = np.exp(np.clip(eta, -50, 30))
        e, n = ev[lo:hi], cells.n_at[lo:hi]
        weights = {}
        if link == "cloglog":
            em1 = np.expm1(mu)
            lli = e * np.log(-np.expm1(-mu)) - (n - e) * mu
            g = mu * (e / em1 - (n - e))
            if "e" in kinds:
                weights["e"] = n * mu ** 2 / em1
            if "o" in kinds:  # -d2 ll / d eta2 >= 0 (the cloglog likelihood is concave in eta)
                weights["o"] = (n - e) * mu + e * (mu / em1) * (mu * (em1 + 1) / em1 - 1)
        else:
            mu = mu * expo_all[lo:hi]
            lli = e * np.log(mu) - mu
            g = e - mu
            weights["e"] = mu
        if masked:
            on = active[bc]
            lli, g = np.where(on, lli, 0.0), np.where(on, g, 0.0)
            weights = {k: np.where(on, w, 0.0) for k, w in weights.items()}
        ll += float(lli.sum())
        starts = np.flatnonzero(np.r_[True, bc[1:] != bc[:-1]])
        ends = np.r_[starts[1:], len(bc)]
        seg = bc[starts]
        ga[seg] += np.add.reduceat(g, starts)
        gb += XT @ g
        for k, w in weights.items():
            D, C, gram = blocks[k]
            D[seg] += np.add.reduceat(w, starts)
            for b, s0, s1 in zip(seg, starts, ends, strict=True):
                C[b] += XT[:, s0:s1] @ w[s0:s1]
            gram.add(XT, pid, w)
            if g_band is not None and k == "e":
                gc = g_band[bc]
                uz += XT @ (g * gc)
                wg = w * gc
                gz1.add(XT, pid, wg)
                gz2.add(XT, pid, wg * gc)
    out = {k: (D[active], C[active], gram.matrix()) for k, (D, C, gram) in blocks.items()}
    first = out[kinds[0]]
    return _Pass(ll, ga[active], gb, *first, out.get("e"), uz,
                 gz1.matrix() if gz1 is not None else None, gz2.matrix() if gz2 is not None else None)


def _grouped_newton(cells: _Cells, ev, idx, active, link, start, tol=1e-10, maxiter=100) -> _GroupedFit:
    """Newton-Raphson with a diagonal baseline block: solve for beta through the Schur complement
    S = A - C' D^-1 C (p x p), then the baselines; standard errors from the expected information
    (as statsmodels' IRLS) at the estimate.

    Steps use the observed information: Fisher scoring (the expected one) converges only linearly
    in intervals with one or two events (8-9 passes over the cells instead of 5-6). Each pass
    returns the likelihood, score and information at once, so an accepted step costs one pass;
    the expected information is added to the passes once the steps are small (the last one is
    where the covariance comes from). Converged when a step is below ``tol``: the step is taken
    and the covariance is that of the point it started from (a relative difference of the order
    of the step, 1e-10)."""
    nb, p = int(active.sum()), len(idx)
    alpha, beta = start[:nb].astype(float).copy(), start[nb:].astype(float).copy()
    cur = _grouped_pass(cells, ev, idx, active, alpha, beta, link, info="observed")
    converged = False
    n_pass = 1

    def direction(r):
        S = r.A - r.C.T @ (r.C / r.D[:, None])
        db = np.linalg.solve(S, r.gb - r.C.T @ (r.ga / r.D)) if p else np.zeros(0)
        return (r.ga - r.C @ db) / r.D, db

    for _ in range(maxiter):
        da, db = direction(cur)
        size = max(np.max(np.abs(da), initial=0), np.max(np.abs(db), initial=0))
        if size < tol:
            alpha, beta = alpha + da, beta + db
            converged = True
            break
        step = 1.0
        for _ in range(30):  # step halving keeps the likelihood increasing
            info = "both" if step * size < 1e-4 else "observed"
            new = _grouped_pass(cells, ev, idx, active, alpha + step * da, beta + step * db, link, info=info)
            n_pass += 1
            if new.ll >= cur.ll - 1e-12 * abs(cur.ll):
                break
            step /= 2
        alpha, beta = alpha + step * da, beta + step * db
        cur = new
    if cur.expected is None:  # no small step yet (not converged, or converged at the start)
        cur = _grouped_pass(cells, ev, idx, active, alpha, beta, link, info="expected")
        n_pass += 1
    D, C, A = cur.expected
    S = A - C.T @ (C / D[:, None])
    cov_beta = np.linalg.inv(S) if p else np.zeros((0, 0))
    DC = C / D[:, None]
    var_alpha = 1 / D + np.einsum("bi,ij,bj->b", DC, cov_beta, DC)
    return _GroupedFit(np.concatenate([alpha, beta]), cov_beta, np.sqrt(var_alpha), converged,
                       {"loglik": cur.ll, "solver": "newton", "passes": n_pass})


def _start_values(cells: _Cells, ev, active, p, link):
    """Start at the covariate-free MLE: each active interval's pooled hazard, beta = 0."""
    nb_all = len(cells.band_labels)
    e = np.bincount(cells.bcodes, weights=ev, minlength=nb_all)[active]
    n = np.bincount(cells.bcodes, weights=cells.n_at if (link == "cloglog" or cells.expo is None) else cells.expo,
                    minlength=nb_all)[active]
    if link == "cloglog":
        h = np.clip(e / n, 1e-10, 1 - 1e-10)
        a = np.log(-np.log1p(-h))
    else:
        a = np.log(np.maximum(e / n, 1e-10))
    return np.concatenate([a, np.zeros(p)])


def _discrete_ph_test(cells: _Cells, ev, idx, active, link, params, covariates) -> pd.DataFrame:
    """Score test of each term's interaction with log(interval), at the fitted model (one pass).

    The model with all interactions z_j = x_j g(t), g = log(interval) (centred), is not refitted:
    from the efficient score U of the interactions at the fit (theta = 0) and their efficient
    information V (the Schur complement of the expected information, baselines and beta projected
    out), one scoring step gives theta = V^-1 U with covariance V^-1, and each term's statistic
    is theta_j^2 / (V^-1)_jj, 1 df. This is how the Grambsch-Therneau test works (scaled Schoenfeld
    residuals are such a one-step estimate, from the null fit), here in the grouped-time model; it
    tests the same hypothesis as the Wald test of each interaction after refitting the model with
    2p columns, which costs a full Newton iteration (4x the work of a fit iteration) per step."""
    p = len(idx)
    nb = int(active.sum())
    band = np.asarray(cells.band_labels, float)
    g_band = np.log(np.maximum(band, 1e-9))
    e_band = np.bincount(cells.bcodes, weights=ev, minlength=len(band))
    g_band = g_band - np.average(g_band, weights=e_band)
    with _single_thread_blas():
        r = _grouped_pass(cells, ev, idx, active, params[:nb], params[nb:], link, info="expected", g_band=g_band)
    if p == 0:
        return _ph_table(covariates, [], 1, [], "interaction with log(duration), score")
    CD = r.C / r.D[:, None]
    gz = g_band[active][:, None] * r.C  # baseline x z block: g is constant within an interval
    S = r.A - r.C.T @ CD
    Sinv = np.linalg.inv(S)
    R = r.azx - gz.T @ CD  # z x beta block with the baselines projected out
    V = r.zz - gz.T @ (gz / r.D[:, None]) - R @ Sinv @ R.T
    u = r.uz - gz.T @ (r.ga / r.D) - R @ (Sinv @ (r.gb - CD.T @ r.ga))  # = uz up to the fit's tolerance
    Vinv = np.linalg.pinv((V + V.T) / 2)
    theta = Vinv @ u
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(np.diag(Vinv) > 0, theta ** 2 / np.diag(Vinv), np.nan)
    return _ph_table(covariates, stat, 1, stats.chi2.sf(stat, 1), "interaction with log(duration), score")


def _collapse_index(cols: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Cell of each row (numbered in order of first appearance) and the first row of each cell.

    The columns' own values are combined into one int64 key in mixed radix (small integer columns
    directly, others through ``pd.factorize``), then the key is factorised once. When the radix
    product would overflow, the key so far is replaced by its dense codes first. No float64 or
    DataFrame copy of the columns is made."""
    n = len(cols[0]) if len(cols) else 0
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for v in cols:
        v = np.asarray(v)
        if n == 0:
            break
        if v.dtype.kind in "biu":
            lo, hi = int(v.min()), int(v.max())
            r, code, shift = hi - lo + 1, v, lo
            if r > 2 * n + 1024 or hi >= 2 ** 62 or lo <= -(2 ** 62):
                # sparse values (ids, bit patterns): dense codes instead of the raw range
                code, u = pd.factorize(v)
                r, shift = max(len(u), 1), 0
            elif v.dtype == np.uint64:
                code = v.astype(np.int64)
        else:
            code, u = pd.factorize(v, use_na_sentinel=False)
            r, shift = max(len(u), 1), 0
        if size * r >= 2 ** 62:  # the key would overflow: compress what we have to dense codes
            key = pd.factorize(key)[0].astype(np.int64)
            size = int(key.max()) + 1
        key *= r
        key += code
        if shift:
            key -= shift
        size *= r
    inv = pd.factorize(key)[0] if n else np.zeros(0, dtype=np.intp)
    del key
    # codes are numbered by first appearance: a row opens a new cell where its code exceeds all before it
    if n:
        first = np.flatnonzero(np.r_[True, inv[1:] > np.maximum.accumulate(inv)[:-1]])
    else:
        first = np.zeros(0, dtype=np.intp)
    return inv, first


def collapse_person_periods(df: pd.DataFrame, *, time_col: str, event_col: str, covariates: Sequence[str],
                            sum_cols: Sequence[str] = ()) -> pd.DataFrame:
    """Collapse person-period rows to unique (time, covariates) cells.

    Returns one row per cell (in order of first appearance): ``time_col``, the covariates (their
    first row's values and dtypes), ``event_col`` (summed), ``at_risk`` (number of rows, or the
    sum of ``_at_risk`` when present in ``sum_cols``) and any other ``sum_cols`` summed.
    Vectorised: the columns are combined into one integer key (mixed radix; see
    :func:`_collapse_index`) and counts are summed with ``np.bincount``.
    """
    cols = [time_col] + list(covariates)
    inv, first = _collapse_index([df[c].to_numpy() for c in cols])
    n_cells = len(first)
    out = pd.DataFrame({c: df[c].iloc[first].reset_index(drop=True) for c in cols})
    out[event_col] = np.bincount(inv, weights=df[event_col].to_numpy(float), minlength=n_cells)
    sums = list(sum_cols)
    if "_at_risk" not in sums:
        out["at_risk"] = np.bincount(inv, minlength=n_cells).astype(float)
    for c in sums:
        out[c] = np.bincount(inv, weights=df[c].to_numpy(float), minlength=n_cells)
    return out


def expand_person_periods(df: pd.DataFrame, *, duration_col: str, event_col: str,
                          entry_col: str | None = None) -> pd.DataFrame:
    """One row per subject per unit interval at risk, for integer durations (vectorised).

    A subject with entry e and duration T gets rows ``time = e+1, ..., T`` (the interval
    ``(time-1, time]``); ``event`` is 1 on the last row if the subject had the event. Other
    columns are repeated; ``row`` is the subject's position in ``df``.
    """
    _check_columns(df, [duration_col, event_col] + ([entry_col] if entry_col else []), "expand_person_periods")
    T = df[duration_col].to_numpy(float)
    e = df[entry_col].to_numpy(float) if entry_col else np.zeros(len(df))
    if not (np.allclose(T, np.round(T)) and np.allclose(e, np.round(e))):
        raise ValueError(f"expand_person_periods: column '{duration_col}' (and the entry) must hold whole "
                         "time units. Fix: round durations up to the interval they fall in.")
    T, e = T.round().astype(np.int64), e.round().astype(np.int64)
    n = np.clip(T - e, 0, None)
    row = np.repeat(np.arange(len(df)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    out = df.iloc[row].reset_index(drop=True)
    out["row"] = row
    out["time"] = e[row] + offset + 1
    last = out["time"].to_numpy() == T[row]
    out["event"] = (last & df[event_col].to_numpy().astype(bool)[row]).astype(np.int8)
    return out


# --------------------------------------------------------------------------------------------
# Non-parametric estimators (vectorised; left truncation via entry < t <= duration)
# --------------------------------------------------------------------------------------------


def _at_risk(entry, duration, times) -> np.ndarray:
    """Number with entry < t <= duration at each t (assumes entry < duration)."""
    e = np.sort(np.asarray(entry, float))
    d = np.sort(np.asarray(duration, float))
    return np.searchsorted(e, times, side="left") - np.searchsorted(d, times, side="left")


def kaplan_meier(duration, event, entry=None, *, alpha: float = 0.05, times=None) -> pd.DataFrame:
    """Kaplan-Meier survival with left truncation (lifelines ``KaplanMeierFitter`` with ``entry``).

    Returns columns time, survival, ci_lower, ci_upper (exponential Greenwood, lifelines' log(-log)
    bands), persons (at risk of the event at t: entry < t <= duration; at t = 0 the subjects
    observed from time 0), events, censored. ``times`` defaults to every whole time unit from 0 to
    the largest duration.
    """
    from lifelines import KaplanMeierFitter

    duration = np.asarray(duration, float)
    event = np.asarray(event).astype(bool)
    entry = np.zeros(len(duration)) if entry is None else np.asarray(entry, float)
    if np.any(entry >= duration):
        raise ValueError("kaplan_meier: every entry time must be below its duration (a subject must be at "
                         "risk for some time). Fix: drop subjects with entry >= duration.")
    if times is None:
        times = np.arange(0, int(np.ceil(duration.max())) + 1 if len(duration) else 1)
    times = np.asarray(times, float)
    if len(duration) == 0:
        return pd.DataFrame({"time": times, "survival": np.nan, "ci_lower": np.nan, "ci_upper": np.nan,
                             "persons": 0, "events": 0, "censored": 0})
    kmf = KaplanMeierFitter(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _fit_km(kmf, duration, event, entry)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    grid = np.union1d(sf.index.to_numpy(float), times)
    surv = sf.reindex(grid).ffill().fillna(1.0).reindex(times).to_numpy()
    lo = ci.iloc[:, 0].reindex(grid).ffill().fillna(1.0).reindex(times).to_numpy()
    hi = ci.iloc[:, 1].reindex(grid).ffill().fillna(1.0).reindex(times).to_numpy()
    persons = _at_risk(entry, duration, times)
    persons = np.where(times == 0, (entry <= 0).sum(), persons) if (times == 0).any() else persons
    ev_t = pd.Series(event.astype(int)).groupby(duration).sum().reindex(times, fill_value=0).to_numpy()
    ce_t = pd.Series((~event).astype(int)).groupby(duration).sum().reindex(times, fill_value=0).to_numpy()
    return pd.DataFrame({"time": times, "survival": surv, "ci_lower": lo, "ci_upper": hi,
                         "persons": persons.astype(int), "events": ev_t.astype(int), "censored": ce_t.astype(int)})


def _fit_km(kmf, duration, event, entry) -> None:
    """``kmf.fit`` with left truncation; a risk set that runs empty early is too little data.

    lifelines refuses (``StatError``) when, in the first half of the time line, nobody is at risk
    (every spell seen so far has ended and the next enters later): the curve cannot be carried
    across that gap. That happens only with a handful of spells.
    """
    from lifelines.exceptions import StatError

    try:
        kmf.fit(duration, event_observed=event, entry=entry)
    except StatError as e:
        raise InsufficientDataError(
            "Kaplan-Meier: months with nobody at risk before the last exit (too few spells observed from "
            "their start); no curve") from e


def _warn_left_out(table: str, labels: Sequence[str]) -> None:
    """One StatisticalWarning naming the groups whose Kaplan-Meier estimate :func:`_fit_km` refused."""
    if labels:
        shown = ", ".join(labels[:8]) + (f" and {len(labels) - 8} more" if len(labels) > 8 else "")
        warnings.warn(f"{table}: {len(labels)} group(s) left out ({shown}): months with nobody at risk before "
                      f"the last exit (too few spells observed from their start, e.g. in a short window)",
                      StatisticalWarning, stacklevel=3)


def _km_median(duration, event, entry, alpha) -> tuple[float, float, float]:
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    kmf = KaplanMeierFitter(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _fit_km(kmf, duration, event, entry)
        ci = median_survival_times(kmf.confidence_interval_)
    return float(kmf.median_survival_time_), float(ci.iloc[0, 0]), float(ci.iloc[0, 1])


def aalen_johansen(duration, cause, entry=None, *, causes: Sequence[int] | None = None,
                   alpha: float = 0.05) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence per cause, with left truncation and tied times.

    ``cause``: 0 = censored, k > 0 = ended by cause k. At each distinct event time t with n(t)
    at risk (entry < t <= duration), d(t) events of any cause and d_k(t) of cause k:
    S(t) = prod (1 - d/n), F_k(t) = sum S(t-) d_k/n. Ties between causes need no jitter in this
    form (lifelines' ``AalenJohansenFitter`` jitters tied times at random and counts subjects that
    enter at t as at risk at t). Variance: the delta-method (Greenwood-type) formula lifelines uses
    (Collett 2015, p. 411), bands on the log(-log) scale.

    Returns long format: time, cause, cumulative_incidence, ci_lower, ci_upper, variance,
    survival (overall, any cause), one_minus_km (1 - KM with other causes censored: the wrong
    curve, for comparison), persons (at risk), events (of this cause).
    """
    duration = np.asarray(duration, float)
    cause = np.asarray(cause).astype(int)
    entry = np.zeros(len(duration)) if entry is None else np.asarray(entry, float)
    if causes is None:
        causes = sorted(int(c) for c in np.unique(cause[cause > 0]))
    ev_any = cause > 0
    times = np.unique(duration[ev_any])
    n = _at_risk(entry, duration, times).astype(float)
    pos = np.searchsorted(times, duration)
    d = np.bincount(pos[ev_any], minlength=len(times)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        S = np.cumprod(1 - d / n)
        S_lag = np.concatenate([[1.0], S[:-1]])
        a = np.where(n > d, d / (n * (n - d)), 0.0)
    z = _z(alpha)
    out = []
    for k in causes:
        dk = np.bincount(pos[cause == k], minlength=len(times)).astype(float)
        F = np.cumsum(S_lag * dk / n)
        with np.errstate(divide="ignore", invalid="ignore"):
            b = S_lag * dk / n ** 2
            first = F ** 2 * np.cumsum(a) - 2 * F * np.cumsum(a * F) + np.cumsum(a * F ** 2)
            second = np.cumsum(S_lag ** 2 * dk * (n - dk) / n ** 3)
            third = F * np.cumsum(b) - np.cumsum(b * F)
            var = np.maximum(first + second - 2 * third, 0.0)
            se_t = np.sqrt(var) / (F * np.abs(np.log(F)))
            ft = np.log(-np.log(F))
            lower = np.exp(-np.exp(ft + z * se_t))
            upper = np.exp(-np.exp(ft - z * se_t))
            km_k = np.cumprod(1 - dk / n)
        lower = np.where(F > 0, lower, 0.0)
        upper = np.where(F > 0, upper, 0.0)
        out.append(pd.DataFrame({"time": times, "cause": k, "cumulative_incidence": F, "ci_lower": lower,
                                 "ci_upper": upper, "variance": var, "survival": S,
                                 "one_minus_km": 1 - km_k, "persons": n.astype(int), "events": dk.astype(int)}))
    cols = ["time", "cause", "cumulative_incidence", "ci_lower", "ci_upper", "variance", "survival",
            "one_minus_km", "persons", "events"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def logrank_test(duration, event, group, entry=None) -> dict:
    """Log-rank test of equal hazards across groups, with left truncation (entry < t <= duration).

    Returns dict(test_statistic, df, p_value, groups, observed, expected). Same statistic as
    lifelines' ``multivariate_logrank_test`` when there is no truncation (which lifelines' tests do
    not support).
    """
    duration = np.asarray(duration, float)
    event = np.asarray(event).astype(bool)
    entry = np.zeros(len(duration)) if entry is None else np.asarray(entry, float)
    codes, labels = pd.factorize(pd.Series(group).astype(str), sort=True)
    G = len(labels)
    times = np.unique(duration[event])
    n_g = np.empty((G, len(times)))
    d_g = np.empty((G, len(times)))
    for g in range(G):
        m = codes == g
        n_g[g] = _at_risk(entry[m], duration[m], times)
        d_g[g] = np.bincount(np.searchsorted(times, duration[m & event]), minlength=len(times))
    n, d = n_g.sum(0), d_g.sum(0)
    ok = n > 0
    n_g, d_g, n, d = n_g[:, ok], d_g[:, ok], n[ok], d[ok]
    expected = (n_g * d / n).sum(1)
    observed = d_g.sum(1)
    f = np.where(n > 1, d * (n - d) / np.maximum(n - 1, 1), 0.0) / n
    p_ = n_g / n
    V = np.einsum("t,gt,ht->gh", f * n, p_, -p_)
    V[np.diag_indices(G)] += (f * n * p_).sum(1)
    diff = (observed - expected)[:-1]
    stat = float(diff @ np.linalg.pinv(V[:-1, :-1]) @ diff) if G > 1 else float("nan")
    return {"test_statistic": stat, "df": G - 1, "p_value": float(stats.chi2.sf(stat, G - 1)) if G > 1 else np.nan,
            "groups": list(labels), "observed": observed, "expected": expected}


# --------------------------------------------------------------------------------------------
# Spells from the panel
# --------------------------------------------------------------------------------------------


@dataclass
class _Rows:
    """Person-months on bijstand, grouped by spell (rows of a spell contiguous, months ascending)."""

    pos: np.ndarray  # row positions in panel.months
    sid: np.ndarray  # spell id per row
    k: np.ndarray  # spell_month per row
    abs_m: np.ndarray  # absolute month number per row
    first_row: np.ndarray  # per spell id: index into rows of its first observed month (-1 = none)
    n_rows: np.ndarray  # per spell id: rows observed
    first_abs: np.ndarray  # per spell id: first observed absolute month


def _spells_by_id(panel: Panel) -> pd.DataFrame:
    sp = panel.spells
    ids = sp["spell_id"].to_numpy()
    if len(ids) and not np.array_equal(ids, np.arange(len(sp))):
        sp = sp.set_index("spell_id").reindex(np.arange(int(ids.max()) + 1)).reset_index()
    return sp.reset_index(drop=True)


def _bijstand_rows(panel: Panel) -> _Rows:
    m = panel.months
    sid_all = m["spell_id"].to_numpy()
    pos = np.flatnonzero(sid_all >= 0)
    if len(m) < 2 ** 31:  # int32 row arrays: half the memory of int64 at tens of millions of rows
        pos = pos.astype(np.int32)
    sid = sid_all[pos].astype(np.int32)
    abs_m = m["month_index"].to_numpy()[pos].astype(np.int32) + np.int32(panel.grid.first_window_month)
    if len(sid) > 1:
        same = sid[1:] == sid[:-1]
        if not (np.all(np.diff(abs_m)[same] == 1) and len(np.unique(sid[np.r_[True, ~same]])) == np.sum(np.r_[True, ~same])):
            order = np.lexsort((abs_m, sid))
            pos, sid, abs_m = pos[order], sid[order], abs_m[order]
    k = m["spell_month"].to_numpy()[pos].astype(np.int32)
    n_sp = len(panel.spells) and int(panel.spells["spell_id"].max()) + 1
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]]) if len(sid) else np.zeros(0, dtype=np.int64)
    first_row = np.full(n_sp, -1, dtype=np.int64)
    first_row[sid[starts]] = starts
    n_rows = np.bincount(sid, minlength=n_sp)
    first_abs = np.full(n_sp, np.iinfo(np.int32).max, dtype=np.int64)
    first_abs[sid[starts]] = abs_m[starts]
    return _Rows(pos, sid, k, abs_m, first_row, n_rows, first_abs)


def _age_years(birth, at) -> np.ndarray:
    b = pd.DatetimeIndex(pd.to_datetime(pd.Series(birth)))
    a = pd.DatetimeIndex(pd.to_datetime(pd.Series(at)))
    y = a.year.to_numpy(float) - b.year.to_numpy(float)
    before = (a.month.to_numpy() < b.month.to_numpy()) | (
        (a.month.to_numpy() == b.month.to_numpy()) & (a.day.to_numpy() < b.day.to_numpy()))
    return y - before


def _age_band_or_unknown(years) -> np.ndarray:
    years = np.asarray(years, float)
    return np.where(np.isnan(years), "unknown", age_band(np.nan_to_num(years)))


def _history_band(v) -> np.ndarray:
    v = np.asarray(v, float)
    out = np.full(len(v), HISTORY_BANDS[-1][2], dtype=object)
    for lo, hi, lab in HISTORY_BANDS:
        out[(v >= lo) & (v <= hi)] = lab
    return out


def _spell_attributes(panel: Panel, rows: _Rows | None = None) -> pd.DataFrame:
    """Per spell id (all spells): person code, group columns and history at the first observed month."""
    rows = _bijstand_rows(panel) if rows is None else rows
    sp = _spells_by_id(panel)
    persons = panel.persons.reset_index(drop=True)
    pcode = pd.Categorical(sp["person_id"].astype(str), categories=persons["person_id"].astype(str)).codes
    pcode = np.asarray(pcode, dtype=np.int64)
    ok = pcode >= 0
    pc = np.where(ok, pcode, 0)

    def person_col(col, default="unknown"):
        if col not in persons.columns or len(persons) == 0:
            return np.full(len(sp), default, dtype=object)
        v = persons[col].astype(object).to_numpy()[pc]
        v = np.where(ok, v, default)
        return np.where(pd.isna(v), default, v).astype(str)

    out = pd.DataFrame({"spell_id": np.arange(len(sp)), "person_code": pcode})
    out["sex"] = person_col("sex")
    out["migration_background"] = person_col("migration_background")
    out["education"] = person_col("education")
    birth = persons["birth_date"].to_numpy()[pc] if "birth_date" in persons else np.full(len(sp), np.datetime64("NaT"))
    out["age_band"] = _age_band_or_unknown(_age_years(birth, sp["start"]))
    fr = rows.first_row
    has = fr >= 0
    mpos = rows.pos[np.where(has, fr, 0)]
    m = panel.months
    hh = m["household"].iloc[mpos].astype(object).to_numpy() if len(m) else np.full(len(sp), None)
    out["household"] = np.where(has & ~pd.isna(hh), hh, "unknown").astype(str)
    k0 = rows.k[np.where(has, fr, 0)] if len(rows.k) else np.zeros(len(sp), dtype=np.int64)
    for c in HISTORY_COLUMNS:
        v = m[c].to_numpy()[mpos].astype(float) if len(m) else np.zeros(len(sp))
        if c == "hist_bijstand_36m":  # months of earlier spells only: drop the current spell's own months
            v = np.clip(v - np.minimum(k0, 36), 0, None)
        out[c] = np.where(has, v, np.nan)
    out["observed"] = has
    return out


def spell_table(panel: Panel) -> pd.DataFrame:
    """One row per bijstand spell at risk of outflow in the window (vectorised).

    Kept: spells covering a month end in the window with duration > entry. Columns: spell_id,
    person_id, start, entry (= months_before_window; > 0 for left-truncated spells), duration
    (the exit month for ended spells: the number of month ends on bijstand; for spells still on
    bijstand at the window's last month end one less, since whether they leave by the next month
    end is not observed), event (outflow observed: not right-censored),
    destination (werk / ww / overig; NA when censored), cause (0 censored, 1 werk, 2 elsewhere),
    sex, age_band (at the spell's start), migration_background, education, household (at the first
    observed month; 'unknown' without a household spell), hist_employed_36m, hist_bijstand_36m (months
    of earlier spells only), hist_ww_36m (at the first observed month).
    """
    rows = _bijstand_rows(panel)
    sp = _spells_by_id(panel)
    att = _spell_attributes(panel, rows)
    censored = sp["right_censored"].to_numpy(bool)
    # a censored spell is on bijstand at the window's last month end: known to survive d - 1 intervals
    duration = sp["duration_months"].to_numpy(np.int64) - censored
    keep = (sp["covers_month_end"].fillna(False).to_numpy(bool) & sp["in_window"].fillna(False).to_numpy(bool)
            & (duration > sp["months_before_window"].to_numpy()) & att["observed"].to_numpy())
    s = sp.loc[keep]
    a = att.loc[keep]
    event = ~s["right_censored"].to_numpy(bool)
    dest = s["exit_destination"].astype(object).where(event, None)
    cause = np.where(~event, 0, np.where(dest.to_numpy() == "werk", 1, 2))
    out = pd.DataFrame({
        "spell_id": s["spell_id"].to_numpy() if "spell_id" in s else s.index.to_numpy(),
        "person_id": s["person_id"].astype(str).to_numpy(),
        "start": s["start"].to_numpy(),
        "entry": s["months_before_window"].to_numpy(np.int64),
        "duration": duration[keep],
        "event": event,
        "destination": pd.Categorical(dest, categories=["werk", "ww", "overig"]),
        "cause": cause.astype(np.int8),
    })
    for c in ("sex", "age_band", "migration_background", "education", "household", *HISTORY_COLUMNS):
        out[c] = a[c].to_numpy()
    return out.reset_index(drop=True)


def _group_specs(frame: pd.DataFrame, by, dims: dict[str, str]) -> list[tuple[str, str, np.ndarray]]:
    """(dimension, group label, mask) for 'all' and each level of each requested dimension."""
    if by is None:
        by = ["all", *dims]
    elif isinstance(by, str):
        by = [by]
    out = []
    for dim in by:
        if dim == "all":
            out.append(("all", "all", np.ones(len(frame), dtype=bool)))
            continue
        if dim not in dims:
            raise ValueError(f"unknown group dimension {dim!r}; expected 'all' or one of {list(dims)}.")
        col = frame[dims[dim]].astype(str)
        for v in sorted(col.unique()):
            out.append((dim, group_label(dim, v), (col == v).to_numpy()))
    return out


def km_by_group(panel: Panel, data=None, *, by: str | Sequence[str] | None = None, alpha: float = 0.05,
                spells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Kaplan-Meier time to outflow (any destination) by target group, with confidence bands.

    ``by``: 'all' and/or group dimensions (sex, age, migration, household, education); default all.
    Time is months since the spell began, left-truncated spells enter at months_before_window.
    Columns: dimension, group ('all' or e.g. 'sex=F'), time, survival, ci_lower, ci_upper,
    persons (spells at risk of leaving in month t; a count to protect), events, censored.
    ``data`` is accepted for a uniform signature and not needed.
    """
    s = spell_table(panel) if spells is None else spells
    out, left_out = [], []
    for dim, label, m in _group_specs(s, by, SPELL_GROUPS):
        if not m.any():
            continue
        try:
            t = kaplan_meier(s["duration"].to_numpy()[m], s["event"].to_numpy()[m], s["entry"].to_numpy()[m],
                             alpha=alpha)
        except InsufficientDataError:  # too few spells observed from their start: no curve for this group
            left_out.append(label)
            continue
        t.insert(0, "group", label)
        t.insert(0, "dimension", dim)
        out.append(t)
    _warn_left_out("km", left_out)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["dimension", "group", "time", "survival", "ci_lower", "ci_upper", "persons", "events", "censored"])


def median_durations(panel: Panel, data=None, *, by: str | Sequence[str] | None = None, alpha: float = 0.05,
                     spells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median time to outflow (Kaplan-Meier, left-truncated) by group.

    Columns: dimension, group, median_months (inf when survival never drops to one half),
    ci_lower, ci_upper, persons (spells), events.
    """
    s = spell_table(panel) if spells is None else spells
    rows, left_out = [], []
    for dim, label, m in _group_specs(s, by, SPELL_GROUPS):
        if not m.any():
            continue
        try:
            med, lo, hi = _km_median(s["duration"].to_numpy()[m], s["event"].to_numpy()[m],
                                     s["entry"].to_numpy()[m], alpha)
        except InsufficientDataError:  # as in km_by_group
            left_out.append(label)
            continue
        rows.append({"dimension": dim, "group": label, "median_months": med, "ci_lower": lo, "ci_upper": hi,
                     "persons": int(m.sum()), "events": int(s["event"].to_numpy()[m].sum())})
    _warn_left_out("medians", left_out)
    return pd.DataFrame(rows, columns=["dimension", "group", "median_months", "ci_lower", "ci_upper", "persons", "events"])


def logrank_by_group(panel: Panel, data=None, *, by: str | Sequence[str] | None = None,
                     spells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Log-rank tests of equal outflow hazards across the levels of each dimension (left truncation).

    Columns: dimension, groups (the labels compared), test_statistic, df, p_value.
    """
    s = spell_table(panel) if spells is None else spells
    dims = [d for d in (by if by is not None else SPELL_GROUPS) if d != "all"] if not isinstance(by, str) else [by]
    rows = []
    for dim in dims:
        g = s[SPELL_GROUPS[dim]].astype(str)
        if g.nunique() < 2:
            continue
        r = logrank_test(s["duration"], s["event"], g, s["entry"])
        rows.append({"dimension": dim, "groups": ", ".join(group_label(dim, v) for v in r["groups"]),
                     "test_statistic": r["test_statistic"], "df": r["df"], "p_value": r["p_value"]})
    return pd.DataFrame(rows, columns=["dimension", "groups", "test_statistic", "df", "p_value"])


def cumulative_incidence_by_group(panel: Panel, data=None, *, by: str | Sequence[str] | None = None,
                                  alpha: float = 0.05, spells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cumulative incidence of exit to work and exit elsewhere (Aalen-Johansen) by group.

    Columns: dimension, group, time, destination ('werk' or 'elsewhere'), cumulative_incidence,
    ci_lower, ci_upper, one_minus_km (the wrong curve, for the report's comparison: see
    :data:`reintegration_effects.plain_language.COMPETING_RISKS_TEXT`), survival (still on bijstand), persons (spells at risk),
    events (of this destination).
    """
    s = spell_table(panel) if spells is None else spells
    out = []
    for dim, label, m in _group_specs(s, by, SPELL_GROUPS):
        if not m.any():
            continue
        aj = aalen_johansen(s["duration"].to_numpy()[m], s["cause"].to_numpy()[m], s["entry"].to_numpy()[m],
                            causes=(1, 2), alpha=alpha)
        aj["destination"] = aj["cause"].map(CAUSES)
        aj.insert(0, "group", label)
        aj.insert(0, "dimension", dim)
        out.append(aj)
    cols = ["dimension", "group", "time", "destination", "cumulative_incidence", "ci_lower", "ci_upper",
            "one_minus_km", "survival", "persons", "events"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


# --------------------------------------------------------------------------------------------
# Design matrices
# --------------------------------------------------------------------------------------------


def _dummies(values: np.ndarray, dim: str, levels: Sequence[str], reference: str) -> dict[str, np.ndarray]:
    """0/1 columns ``dim=level`` for every non-reference level present (contract order, then others)."""
    v = np.asarray(values).astype(str)
    present = set(np.unique(v))
    order = [lv for lv in levels if lv in present] + sorted(present - set(levels))
    return {f"{dim}={lv}": (v == lv).astype(np.int8) for lv in order if lv != reference}


def _covariate_columns(att: pd.DataFrame, covariates: Sequence[str]) -> dict[str, np.ndarray]:
    spec = {
        "sex": ("sex", SEX),
        "age": ("age_band", AGE_BANDS),
        "migration": ("migration_background", MIGRATION),
        "household": ("household", HOUSEHOLD_POSITIONS),
        "education": ("education", EDUCATION),
    }
    cols: dict[str, np.ndarray] = {}
    for cov in covariates:
        if cov == "history":
            for c in HISTORY_COLUMNS:
                cols.update(_dummies(_history_band(att[c].fillna(0).to_numpy()), c,
                                     [b[2] for b in HISTORY_BANDS], REFERENCE["history"]))
        elif cov in spec:
            col, levels = spec[cov]
            cols.update(_dummies(att[col].to_numpy(), cov, levels, REFERENCE[cov]))
        else:
            raise ValueError(f"unknown covariate group {cov!r}; expected some of {list(ALL_COVARIATES)}.")
    return cols


def _programme_matches(panel: Panel, data, programmes: Sequence[str] | None) -> pd.DataFrame:
    """Programme spells linked to a bijstand spell by the package's one rule
    (:func:`~reintegration_effects.panel.link_programme_starts`: the spell covering the end of
    the start month): spell_id, programme, start_abs, first_cov, last_cov (covered month ends)."""
    cols = ["spell_id", "programme", "start_abs", "first_cov", "last_cov"]
    if data is None or len(getattr(data, "programmes", [])) == 0:
        return pd.DataFrame(columns=cols)
    link = link_programme_starts(panel.spells, data.programmes)
    keep = link["spell_id"].to_numpy() >= 0
    if programmes is not None:
        keep &= link["programme"].isin([str(p) for p in programmes]).to_numpy()
    m = link.loc[keep]
    f, last = covered_months(m["start"], m["end"])
    return pd.DataFrame({"spell_id": m["spell_id"].to_numpy(np.int64), "programme": m["programme"].to_numpy(),
                         "start_abs": m["start_month"].to_numpy(np.int64), "first_cov": f, "last_cov": last})


def _category_codes(categories) -> tuple[np.ndarray, list[str]]:
    """Labels for category codes -1 (NA), 0, ..., K-1 as str, NA -> 'unknown', equal labels merged:
    returns the label index of code c at position c + 1, and the labels."""
    labels = [str(c) for c in categories] + ["unknown"]
    uniq, remap = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    dtype = np.int16 if len(uniq) < 2 ** 15 else np.int32
    return np.r_[remap[-1], remap[:-1]].astype(dtype), [str(u) for u in uniq]


def _label_codes(values) -> tuple[np.ndarray, list[str]]:
    """Small integer codes and their labels for a categorical column (see :func:`_category_codes`):
    dummies are then built by comparing integer codes, not strings, which matters at millions of
    person-months."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, cats = s.cat.codes.to_numpy(), s.cat.categories
    else:
        codes, cats = pd.factorize(s.to_numpy())
    remap, labels = _category_codes(cats)
    return remap[codes.astype(np.int64) + 1], labels


def _add_code_dummies(terms: _Terms, codes: np.ndarray, labels: Sequence[str], dim: str, levels: Sequence[str],
                      reference: str) -> None:
    """:func:`_dummies` of ``labels[codes]`` without building the strings: the same terms, in the
    same order (levels present in contract order, then others sorted), added as bit planes."""
    counts = np.bincount(codes, minlength=len(labels)) if len(codes) else np.zeros(len(labels), dtype=np.int64)
    present = {labels[i] for i in np.flatnonzero(counts)}
    order = [lv for lv in levels if lv in present] + sorted(present - set(levels))
    pos = {lab: i for i, lab in enumerate(labels)}
    for lv in order:
        if lv != reference:
            terms.add_binary(f"{dim}={lv}", codes == pos[lv])


def _history_codes(v) -> np.ndarray:
    """Index into :data:`HISTORY_BANDS` of each value (as :func:`_history_band`, without strings)."""
    v = np.asarray(v)
    out = np.full(len(v), len(HISTORY_BANDS) - 1, dtype=np.int8)
    for i, (lo, hi, _lab) in enumerate(HISTORY_BANDS):
        out[(v >= lo) & (v <= hi)] = i
    return out


#: Prefix of the 'ever participated' terms in a design's :class:`_Terms` (next to the time-varying
#: programme terms of the same name).
_EVER = "ever:"


@dataclass
class _Design:
    """Person-month rows at risk of exit with their design (one row per spell-month in the window).

    The terms are kept compact in ``terms`` (:class:`_Terms`: dummies as bit planes, history as
    int8 months): the model's terms ``x_names`` and the 'ever participated' terms (stored as
    ``ever:programme=LABEL``). :attr:`X` and :attr:`ever` materialise them as DataFrames (int8,
    float32 for history in years) for the small-data paths and the public functions."""

    sid: np.ndarray  # spell id (int32)
    start: np.ndarray  # spell_month k (int32)
    event: np.ndarray  # exit to the modelled destination at the next month end
    terms: _Terms
    x_names: list[str]
    tv_terms: list[str]  # time-varying terms (programme / lock-in)
    labels: list[str]  # programme labels
    ever_names: list[str]  # 'ever participated in this spell' terms (programme=LABEL names)
    notes: list[str]
    cause: np.ndarray  # per row: 1 = leaves for work, 2 = elsewhere at the next month end, 0 = stays / censored
    spell_person_id: np.ndarray  # person_id (str) per spell id
    destination: str = "werk"
    cells: dict = field(default_factory=dict)  # collapsed cells per baseline, shared by destinations and variants

    @property
    def stop(self) -> np.ndarray:
        return self.start + 1

    @property
    def X(self) -> pd.DataFrame:
        return self.terms.frame(self.x_names)

    @property
    def ever(self) -> pd.DataFrame:
        return self.terms.frame([_EVER + c for c in self.ever_names], self.ever_names)

    def view(self, variant: str = "time_varying") -> _TermsView:
        """The model's terms: 'time_varying' (:attr:`X`) or 'ever' (the time-varying programme
        terms replaced by the 'ever participated' ones, appended at the end)."""
        if variant == "time_varying":
            return _TermsView(self.terms, self.x_names)
        cols = [c for c in self.x_names if c not in self.tv_terms]
        return _TermsView(self.terms, cols + self.ever_names, cols + [_EVER + c for c in self.ever_names])

    @property
    def person_id(self) -> np.ndarray:
        return self.spell_person_id[self.sid]

    @property
    def n_spells(self) -> int:
        return int(np.count_nonzero(np.bincount(self.sid))) if len(self.sid) else 0

    def for_destination(self, destination: str) -> _Design:
        """The same design (rows, terms, cached cells) with the events of ``destination``."""
        return replace(self, event=_destination_event(self.cause, destination), destination=destination)


def _destination_event(cause: np.ndarray, destination: str) -> np.ndarray:
    if destination == "werk":
        return cause == 1
    if destination == "elsewhere":
        return cause == 2
    return cause > 0


def _panel_covariates(terms: _Terms, panel: Panel, src: np.ndarray, abs_m: np.ndarray, k: np.ndarray,
                      person_code: np.ndarray, covariates: Sequence[str], history: str) -> None:
    """Add the covariate terms of person-months to ``terms``: ``src`` = rows of ``panel.months``
    the time-varying values come from (the month itself, or the spell's first observed month),
    ``abs_m`` / ``k`` = their absolute month and spell month, ``person_code`` = position in
    ``panel.persons``.

    Person attributes are coded once per person and indexed by integer codes; categorical month
    columns use their category codes: no per-month strings are built."""
    m = panel.months
    persons = panel.persons.reset_index(drop=True)
    pc = np.clip(person_code, 0, None)

    def person_codes(col):
        if col not in persons.columns:
            return np.zeros(len(pc), dtype=np.int16), ["unknown"]
        codes, labels = _label_codes(persons[col])
        return codes[pc], labels

    for cov in covariates:
        if cov == "sex":
            _add_code_dummies(terms, *person_codes("sex"), "sex", SEX, REFERENCE["sex"])
        elif cov == "age":
            birth = persons["birth_date"]
            bm = month_number(birth.fillna(pd.Timestamp("1900-01-01"))).astype(np.int32)[pc]
            years = (abs_m - bm) // 12
            del bm
            band = np.where(years < 27, 0, np.where(years < 50, 1, 2)).astype(np.int8)
            del years
            band[birth.isna().to_numpy()[pc]] = 3
            _add_code_dummies(terms, band, [*AGE_BANDS, "unknown"], "age", AGE_BANDS, REFERENCE["age"])
        elif cov == "migration":
            _add_code_dummies(terms, *person_codes("migration_background"), "migration", MIGRATION,
                              REFERENCE["migration"])
        elif cov == "education":
            _add_code_dummies(terms, *person_codes("education"), "education", EDUCATION, REFERENCE["education"])
        elif cov == "status_holder":
            if "status_holder" in persons.columns:
                terms.add_binary("status_holder",
                                 persons["status_holder"].astype("boolean").fillna(False).to_numpy(bool)[pc])
        elif cov == "household":
            hh = m["household"]
            if isinstance(hh.dtype, pd.CategoricalDtype):
                remap, labels = _category_codes(hh.cat.categories)
                hc = remap[hh.cat.codes.to_numpy()[src].astype(np.int32) + 1]
            else:
                hc, labels = _label_codes(hh.to_numpy()[src])
            _add_code_dummies(terms, hc, labels, "household", HOUSEHOLD_POSITIONS, REFERENCE["household"])
        elif cov == "history":
            for c in HISTORY_COLUMNS:
                v = m[c].to_numpy()[src]
                if c == "hist_bijstand_36m":  # earlier spells only (the current spell's months are the time scale)
                    v = np.clip(v.astype(np.int16) - np.minimum(k, 36).astype(np.int16), 0, None)
                if history == "linear":  # whole months in the last 36, as int8; the term is years (float32)
                    terms.add_column(c, v.astype(np.int8), _years)
                else:
                    _add_code_dummies(terms, _history_codes(v), [b[2] for b in HISTORY_BANDS], c,
                                      [b[2] for b in HISTORY_BANDS], REFERENCE["history"])
        elif cov == "side_job":
            terms.add_binary("side_job", m["employed"].to_numpy()[src])
        elif cov == "year":
            yr = (abs_m + 1) // 12
            y0 = int(yr.min()) if len(yr) else 0
            labels = [str(y) for y in range(y0, int(yr.max()) + 1)] if len(yr) else []
            codes = (yr - y0).astype(np.int16)
            present = np.flatnonzero(np.bincount(codes, minlength=len(labels))) if len(yr) else []
            levels = [labels[i] for i in present]
            _add_code_dummies(terms, codes, labels, "year", levels, levels[0] if levels else "")
        else:
            raise ValueError(f"unknown covariate {cov!r}; expected some of {list(ALL_COVARIATES)}.")


def _exit_design(panel: Panel, data, *, destination: str, covariates: Sequence[str], programmes, lock_in: bool,
                 time_varying: bool = True, history: str = "linear") -> _Design:
    if destination not in _MODEL_NAMES:
        raise ValueError(f"destination={destination!r}; expected one of {list(_MODEL_NAMES)}.")
    if history not in ("linear", "bands"):
        raise ValueError(f"history={history!r}; expected 'linear' or 'bands'.")
    for cov in covariates:
        if cov not in ALL_COVARIATES:
            raise ValueError(f"unknown covariate {cov!r}; expected some of {list(ALL_COVARIATES)}.")
    rows = _bijstand_rows(panel)
    sp = _spells_by_id(panel)
    keep_sp = (sp["covers_month_end"].fillna(False).to_numpy(bool) & sp["in_window"].fillna(False).to_numpy(bool))
    sel = keep_sp[rows.sid] if len(rows.sid) else np.zeros(0, dtype=bool)
    # the row of the window's last month: whether the person leaves by the next month end is unobserved
    sel &= rows.abs_m < panel.grid.last_window_month
    row_index = np.flatnonzero(sel)  # index into rows.* arrays
    del sel
    if len(rows.sid) < 2 ** 31:
        row_index = row_index.astype(np.int32)
    sid, k, abs_m = rows.sid[row_index], rows.k[row_index], rows.abs_m[row_index]
    last_abs = np.where(sp["last_month"].notna(), month_number(sp["last_month"].fillna(pd.Timestamp("2262-01-01"))),
                        np.iinfo(np.int32).max).astype(np.int32)
    censored = sp["right_censored"].to_numpy(bool)
    dest = sp["exit_destination"].astype(object).to_numpy()
    cause_sp = np.where(censored | pd.isna(dest), 0, np.where(dest == "werk", 1, 2)).astype(np.int8)
    cause = np.where(abs_m == last_abs[sid], cause_sp[sid], np.int8(0))
    persons = panel.persons.reset_index(drop=True)
    pcode = np.asarray(pd.Categorical(sp["person_id"].astype(str),
                                      categories=persons["person_id"].astype(str)).codes, dtype=np.int32)
    terms = _Terms(len(sid))
    if time_varying:
        _panel_covariates(terms, panel, rows.pos[row_index], abs_m, k, pcode[sid], covariates, history)
    else:  # the spell's first observed month
        src_idx = rows.first_row[sid]
        _panel_covariates(terms, panel, rows.pos[src_idx], rows.abs_m[src_idx], rows.k[src_idx], pcode[sid],
                          covariates, history)
        del src_idx
    # programme terms: on from the start month for the rest of the spell; lock-in while it covers a month end
    pm = _programme_matches(panel, data, programmes)
    labels = sorted(pm["programme"].unique()) if programmes is None else [str(p) for p in programmes]
    n_sp = len(sp)
    tv_terms, ever_names = [], []
    wl = panel.grid.last_window_month
    for lab in labels:
        p = pm[pm["programme"] == lab]
        first_start = np.full(n_sp, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first_start, p["spell_id"].to_numpy(np.int64), p["start_abs"].to_numpy(np.int64))
        terms.add_binary(programme_term(lab), abs_m >= first_start[sid])
        tv_terms.append(programme_term(lab))
        if lock_in:
            diff = np.zeros(len(rows.sid) + 1, dtype=np.int64)
            s_ids = p["spell_id"].to_numpy(np.int64)
            a = np.maximum(p["first_cov"].to_numpy(np.int64), rows.first_abs[s_ids])
            b = np.minimum(p["last_cov"].to_numpy(np.int64), rows.first_abs[s_ids] + rows.n_rows[s_ids] - 1)
            ok = (a <= b) & (rows.first_row[s_ids] >= 0)
            base = rows.first_row[s_ids][ok] - rows.first_abs[s_ids][ok]
            np.add.at(diff, base + a[ok], 1)
            np.add.at(diff, base + b[ok] + 1, -1)
            terms.add_binary(lock_in_term(lab), np.cumsum(diff)[:-1][row_index] > 0)
            del diff
            tv_terms.append(lock_in_term(lab))
    x_names = list(terms.names)
    for lab in labels:  # 'ever participated in this spell' (the immortal-time-biased comparison)
        p = pm[pm["programme"] == lab]
        ever_sp = np.zeros(n_sp, dtype=bool)
        ever_sp[p["spell_id"].to_numpy(np.int64)[p["start_abs"].to_numpy(np.int64) <= wl]] = True
        terms.add_binary(_EVER + programme_term(lab), ever_sp[sid])
        ever_names.append(programme_term(lab))
    small = np.int32 if (len(sid) == 0 or int(sid.max()) < 2 ** 31) else np.int64
    return _Design(sid=sid.astype(small, copy=False), start=k.astype(np.int32, copy=False),
                   event=_destination_event(cause, destination), terms=terms, x_names=x_names, tv_terms=tv_terms,
                   labels=labels, ever_names=ever_names, notes=[], cause=cause,
                   spell_person_id=sp["person_id"].astype(str).to_numpy(), destination=destination)


def _is_binary(v: np.ndarray) -> bool:
    if v.dtype.kind in "biu":
        return len(v) == 0 or (v.min() >= 0 and v.max() <= 1)
    return bool(((v == 0) | (v == 1)).all())


def _drop_degenerate(X, event: np.ndarray, unit: np.ndarray | None = None,
                     what: str = "") -> tuple[list[str], list[str]]:
    """Terms to keep, and notes on the ones dropped (constant; for 0/1 terms also no events with,
    or no events without, the term: the estimate would be 0 or infinite). ``X``: a DataFrame or a
    :class:`_TermsView`."""
    keep, notes = [], []
    ev = np.flatnonzero(np.asarray(event))
    n_ev = len(ev)
    for c in X.columns:
        on, v = _on_or_values(X, c)
        if on is not None:
            n_on = int(np.count_nonzero(on))
            constant, binary = n_on in (0, len(on)), True
        else:
            constant, binary = v.min() == v.max(), _is_binary(v)
        if constant:
            notes.append(f"{what}{c}: dropped, the same for every row at risk")
            continue
        if binary:
            on_ev = int(np.count_nonzero((on if on is not None else v)[ev]))
            if on_ev == 0:
                notes.append(f"{what}{c}: dropped, no events while the term is on (hazard ratio would be 0)")
                continue
            if on_ev == n_ev:
                notes.append(f"{what}{c}: dropped, every event happened while the term is on")
                continue
        keep.append(c)
    for note in notes:
        warnings.warn(note, StatisticalWarning, stacklevel=3)
    return keep, notes


def exit_person_periods(panel: Panel, data=None, *, destination: str = "werk",
                        covariates: Sequence[str] = DEFAULT_COVARIATES, programmes: Sequence[str] | None = None,
                        lock_in: bool = False, time_varying: bool = True, history: str = "linear") -> pd.DataFrame:
    """One row per bijstand spell-month in the window at risk of exit (the uncollapsed design).

    The window's last month has no rows: its outcome (the status at the next month end) is not
    observed; a spell still running there is censored after its previous month.

    Columns: spell_id, person_id, start (= spell_month k), stop (k + 1), time (= stop, the interval
    for the discrete-time model), event (0/1: off bijstand to ``destination`` at the next month
    end), then the terms: sex=F, age=27-49, age=50+, migration=..., status_holder, household=...,
    education=..., hist_employed_36m / hist_bijstand_36m / hist_ww_36m (in years with
    ``history="linear"``, or 0/1 bands ``hist_employed_36m=1-12`` ... with ``history="bands"``),
    side_job, year=YYYY, programme=LABEL (on from the start month for the rest of the spell) and,
    with ``lock_in``, lock_in=LABEL (while the programme covers the month end). With
    ``time_varying=True`` household, age band, history, side job and year are the values of each
    month; with False those of the spell's first observed month.
    """
    d = _exit_design(panel, data, destination=destination, covariates=covariates, programmes=programmes,
                     lock_in=lock_in, time_varying=time_varying, history=history)
    sid, start, stop = d.sid.astype(np.int64), d.start.astype(np.int64), d.stop.astype(np.int64)
    out = pd.DataFrame({"spell_id": sid, "person_id": d.person_id, "start": start, "stop": stop,
                        "time": stop, "event": d.event.astype(np.int8)})
    return pd.concat([out, d.X.reset_index(drop=True)], axis=1)


def _episodes(sid, start, stop, event, X: pd.DataFrame, tv_terms: Sequence[str] | None = None) -> pd.DataFrame:
    """Merge consecutive person-months of a spell with equal terms into (start, stop] episodes (the
    Cox likelihood is unchanged: risk-set membership at each time is the same). ``tv_terms``: the
    columns that can change within a spell (default: all)."""
    n = len(sid)
    if n == 0:
        return pd.DataFrame(columns=["spell_id", "start", "stop", "event", *X.columns])
    new = np.r_[True, sid[1:] != sid[:-1]]
    new[1:] |= start[1:] != stop[:-1]
    cols = list(X.columns) if tv_terms is None else list(tv_terms)
    for c in cols:
        v = X[c].to_numpy()
        new[1:] |= v[1:] != v[:-1]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, n - 1]
    ev_cum = np.add.reduceat(np.asarray(event, np.int64), first)
    out = pd.DataFrame({"spell_id": sid[first], "start": start[first], "stop": stop[last],
                        "event": (ev_cum > 0).astype(np.int8)})
    return pd.concat([out, X.iloc[first].reset_index(drop=True)], axis=1)


def exit_episodes(panel: Panel, data=None, *, destination: str = "werk",
                  covariates: Sequence[str] = DEFAULT_COVARIATES, programmes: Sequence[str] | None = None,
                  lock_in: bool = False, time_varying: bool = True, history: str = "linear") -> pd.DataFrame:
    """Start/stop episodes for ``CoxTimeVaryingFitter``: :func:`exit_person_periods` with consecutive
    months of a spell merged while no term changes. Columns: spell_id, start, stop, event, terms."""
    d = _exit_design(panel, data, destination=destination, covariates=covariates, programmes=programmes,
                     lock_in=lock_in, time_varying=time_varying, history=history)
    return _episodes(d.sid.astype(np.int64), d.start.astype(np.int64), d.stop.astype(np.int64), d.event, d.X)


def _choose_engine(engine: str, n_rows: int, max_rows: int) -> str:
    if engine not in ("auto", "lifelines", "discrete"):
        raise ValueError(f"engine={engine!r}; expected 'auto', 'lifelines' or 'discrete'.")
    if engine == "auto":
        return "lifelines" if n_rows <= max_rows else "discrete"
    return engine


def _fit_periods(*, name: str, engine: str, d: _Design, variant: str, terms: Sequence[str], alpha, baseline,
                 start: HazardResults | None = None) -> HazardResults:
    """Fit the person-period design ``d`` with the chosen engine: the terms ``terms`` of
    ``d.view(variant)`` ('time_varying' or 'ever').

    The discrete engine collapses the rows once per baseline on all of the design's terms (the
    time-varying and the 'ever' ones) and caches the cells in ``d.cells``: the exit-to-work,
    exit-elsewhere and 'ever' models all fit on them (cells that differ only in terms a model
    leaves out give the same likelihood as the merged cells, the counts being sufficient)."""
    terms = list(terms)
    view = d.view(variant).subset(terms)
    term_counts = _binary_term_counts(view, d.event, d.sid)
    if engine == "lifelines":
        Xk = view.frame()
        ep = _episodes(d.sid, d.start, d.stop, d.event, Xk)
        res = TimeVaryingCoxModel(alpha=alpha, name=name).fit(ep, id_col="spell_id", covariates=terms)
        res.term_counts = term_counts
        res.n = d.n_spells
        stop, event = d.stop, d.event

        def conc_fn(r):
            return _concordance_cells(stop, Xk.to_numpy(float) @ r.params_.to_numpy(), event, np.ones(len(stop)))

        res._concordance_fn = conc_fn
        return res
    key = baseline if isinstance(baseline, str) else tuple(np.asarray(baseline, float))
    cells = d.cells.get(key)
    if cells is None:
        cells = _Cells.from_rows(d.terms, d.start, {"werk": d.cause == 1, "elsewhere": d.cause == 2},
                                 baseline=baseline, time_offset=1)  # interval = stop = start + 1
        d.cells[key] = cells
    if d.destination not in cells.events:
        cells.events[d.destination] = cells.events["werk"] + cells.events["elsewhere"]
    return DiscreteTimeModel(link="cloglog", baseline=baseline, alpha=alpha, name=name)._fit_cells(
        cells, d.destination, terms, sources=[view.sources[c] for c in terms], term_counts=term_counts,
        n_units=d.n_spells, start=start)


class ExitToWorkModel:
    """Cause-specific hazard of leaving bijstand for ``destination``, with programmes over time.

    ``ExitToWorkModel(destination="werk", covariates=DEFAULT_COVARIATES, programmes=None,
    lock_in=False, time_varying=True, history="linear", engine="auto", baseline="interval",
    alpha=0.05, fit_ever=True, max_lifelines_rows=LIFELINES_MAX_ROWS)``; ``fit(panel, data)``
    returns :class:`ExitToWorkResults` (model ``exit_to_work``; ``exit_elsewhere`` / ``exit_any``
    for the other destinations). ``data`` (the
    :class:`~reintegration_effects.dataset.InputData`) supplies the programme spells; without it
    the model has no programme terms.

    Design (one row per bijstand spell-month in the window; time = months since the spell began;
    left truncation through the spell's first observed month): ``programme=LABEL`` switches on in
    the programme's start month and stays on for the rest of that spell (only programmes that
    started during the spell count); ``lock_in=LABEL`` (with ``lock_in=True``) is on while the
    programme covers the month end, so that ``programme=LABEL`` then measures the effect after
    the programme. Covariates (``covariates``, see :data:`ALL_COVARIATES`): sex, age band,
    migration background, status holder, household position, education, labour-market history
    (months employed, on earlier bijstand spells and on WW in the 36 months before; per 12 months
    with ``history="linear"``, bands 0 / 1-12 / 13-36 with ``"bands"``), side job, calendar year.
    With ``time_varying=True`` (default) the time-varying ones take each month's value, so the
    risk set at every duration compares people with what was known that month (programme take-up
    typically depends on exactly these); ``time_varying=False`` freezes them at the spell's first
    observed month (pre-programme for spells that began in the window; use it when the programme
    may change them, e.g. side jobs as a step towards work). References: the first contract levels
    (M, 18-26, dutch, single, low) and the first year. Exits to other destinations are censored at
    their exit (cause-specific hazard).

    ``engine="auto"`` uses lifelines' ``CoxTimeVaryingFitter`` up to ``max_lifelines_rows``
    person-months and the discrete-time cloglog model on collapsed cells above it (for a national
    register also pass ``history="bands"`` and duration bands as ``baseline`` to keep the cells
    few). ``fit_ever`` also fits the 'ever participated in this spell' dummy version
    (``results.ever``, the immortal-time-biased comparison for the report).
    """

    def __init__(self, *, destination: str = "werk", covariates: Sequence[str] = DEFAULT_COVARIATES,
                 programmes: Sequence[str] | None = None, lock_in: bool = False, time_varying: bool = True,
                 history: str = "linear", engine: str = "auto", baseline: str | Sequence[float] = "interval",
                 alpha: float = 0.05, fit_ever: bool = True, max_lifelines_rows: int = LIFELINES_MAX_ROWS):
        self.destination = destination
        self.covariates = covariates
        self.programmes = programmes
        self.lock_in = lock_in
        self.time_varying = time_varying
        self.history = history
        self.engine = engine
        self.baseline = baseline
        self.alpha = alpha
        self.fit_ever = fit_ever
        self.max_lifelines_rows = max_lifelines_rows

    @property
    def name(self) -> str:
        return _MODEL_NAMES[self.destination]

    def _design(self, panel: Panel, data) -> _Design:
        return _exit_design(panel, data, destination=self.destination, covariates=self.covariates,
                            programmes=self.programmes, lock_in=self.lock_in, time_varying=self.time_varying,
                            history=self.history)

    def design(self, panel: Panel, data=None) -> pd.DataFrame:
        """The person-month design this model fits (see :func:`exit_person_periods`)."""
        return exit_person_periods(panel, data, destination=self.destination, covariates=self.covariates,
                                   programmes=self.programmes, lock_in=self.lock_in,
                                   time_varying=self.time_varying, history=self.history)

    def fit(self, panel: Panel, data=None) -> ExitToWorkResults:
        return self._fit_design(self._design(panel, data))

    def _fit_design(self, d: _Design) -> ExitToWorkResults:
        """Fit on a design from :meth:`_design`, or from another destination's model with
        ``d.for_destination(self.destination)`` (the rows and terms are the same, only the events
        differ; cells collapsed for one destination are reused by the other)."""
        if not d.event.any():
            raise ValueError(f"{self.name}: no exits to {self.destination} in the window; nothing to fit.")
        engine = _choose_engine(self.engine, len(d.sid), self.max_lifelines_rows)
        keep, notes = _drop_degenerate(d.view(), d.event, what=f"{self.name}: ")
        if not keep:  # a handful of spells: every term constant, or without events on one side
            raise InsufficientDataError(f"{self.name}: the exits to {self.destination} leave no term that can be "
                                        f"estimated (all {len(notes)} dropped); nothing to fit.")
        res = _fit_periods(name=self.name, engine=engine, d=d, variant="time_varying", terms=keep,
                           alpha=self.alpha, baseline=self.baseline)
        out = _as_exit_results(res)
        out.notes = notes
        out.model = self
        out.programmes = tuple(lab for lab in d.labels if programme_term(lab) in keep)
        if self.fit_ever and len(d.ever_names):
            keep_e, notes_e = _drop_degenerate(d.view("ever"), d.event, what=f"{self.name}_ever: ")
            if not keep_e:  # no programme term left: no 'ever' comparison (the immortal-time table stays empty)
                out.notes = [*notes, *notes_e, f"{self.name}_ever: no term left; immortal-time comparison left out"]
                return out
            # starting values: the time-varying fit (same baselines, nearly the same terms)
            ever = _fit_periods(name=f"{self.name}_ever", engine=engine, d=d, variant="ever", terms=keep_e,
                                alpha=self.alpha, baseline=self.baseline, start=res if engine != "lifelines" else None)
            ever.notes = notes_e
            out.ever = ever
        return out


def _as_exit_results(res: HazardResults) -> ExitToWorkResults:
    out = ExitToWorkResults.__new__(ExitToWorkResults)
    out.__dict__.update(res.__dict__)
    out.ever = None
    out.programmes = ()
    return out


def cause_specific_models(panel: Panel, data=None, **kwargs) -> dict[str, ExitToWorkResults]:
    """Cause-specific hazard models for exit to work and exit elsewhere (WW, overig), same design.

    Keyword arguments go to :class:`ExitToWorkModel` (except ``destination``). Returns
    ``{"werk": results, "elsewhere": results}`` (models ``exit_to_work`` and ``exit_elsewhere``).
    """
    kwargs.pop("destination", None)
    out, d = {}, None
    for dest in ("werk", "elsewhere"):  # one design: only the events differ
        model = ExitToWorkModel(destination=dest, **kwargs)
        d = model._design(panel, data) if d is None else d.for_destination(dest)
        out[dest] = model._fit_design(d)
    return out


# --------------------------------------------------------------------------------------------
# Re-entry
# --------------------------------------------------------------------------------------------

REENTRY_GROUPS = {"destination": "destination", "contract": "contract", **SPELL_GROUPS}


def _hours_band(h) -> np.ndarray:
    h = pd.to_numeric(pd.Series(h), errors="coerce").to_numpy(float)
    return np.where(np.isnan(h), "unknown", np.where(h < 12, "<12", np.where(h < 24, "12-23", "24+")))


def reentry_table(panel: Panel, data=None) -> pd.DataFrame:
    """One row per exit from bijstand observed in the window: time from leaving to coming back.

    Clock: months from the spell's last month on bijstand; re-entry at month ``months_to_reentry``
    (the next bijstand spell's first month), censored at the window end (``duration`` = months to the
    window's last month end). Columns: spell_id, person_id, exit_month (first month end off
    bijstand), duration, event (re-entry observed in the window), destination (werk / ww / overig),
    contract, job_hours (band <12 / 12-23 / 24+ / unknown), hours_per_week, monthly_wage, sector
    (the first job after exit: the job covering the exit month end with the most hours; contract
    'none' for exits not to work, 'unknown' when the job has no contract type), spell_duration
    (months on bijstand before the exit), sex, age_band (at exit), migration_background,
    education, household (at the last month on bijstand).
    """
    sp = _spells_by_id(panel)
    rows = _bijstand_rows(panel)
    att = _spell_attributes(panel, rows)
    grid = panel.grid
    ok = (sp["covers_month_end"].fillna(False).to_numpy(bool) & sp["in_window"].fillna(False).to_numpy(bool)
          & ~sp["right_censored"].to_numpy(bool) & sp["last_month"].notna().to_numpy()
          & sp["exit_destination"].notna().to_numpy())
    s = sp.loc[ok].copy()
    a = att.loc[ok]
    last_abs = month_number(s["last_month"])
    exit_abs = last_abs + 1
    gap = pd.to_numeric(s["months_to_reentry"], errors="coerce").to_numpy(float)
    horizon = grid.last_window_month - last_abs
    event = ~np.isnan(gap) & (gap <= horizon) & (gap >= 1)
    duration = np.where(event, gap, horizon).astype(np.int64)
    out = pd.DataFrame({
        "spell_id": s["spell_id"].to_numpy(), "person_id": s["person_id"].astype(str).to_numpy(),
        "exit_month": pd.DatetimeIndex(s["last_month"]) + pd.offsets.MonthEnd(1),
        "duration": duration, "event": event,
        "destination": s["exit_destination"].astype(str).to_numpy(),
        "spell_duration": s["duration_months"].to_numpy(np.int64),
    })
    out = out[out["duration"] >= 1].reset_index(drop=True)
    keep_idx = np.flatnonzero(np.isin(s["spell_id"].to_numpy(), out["spell_id"].to_numpy()))
    a = a.iloc[keep_idx]
    exit_abs = exit_abs[keep_idx]
    # first job after exit: covers the exit month end; most hours, then earliest start
    out["contract"] = np.where(out["destination"] == "werk", "unknown", "none")
    out["hours_per_week"] = np.nan
    out["monthly_wage"] = np.nan
    out["sector"] = None
    jobs = getattr(data, "jobs", None) if data is not None else None
    if jobs is not None and len(jobs) and len(out):
        # candidate jobs per exit: integer person codes and only the columns that rank them (a merge
        # of every job column on string ids took most of this table's memory)
        jf, jl = covered_months(jobs["start"], jobs["end"])
        who = pd.Index(pd.unique(out["person_id"].to_numpy()))
        jcode = who.get_indexer(jobs["person_id"].astype(str).to_numpy())
        jrow = np.flatnonzero(jcode >= 0)
        hours = (pd.to_numeric(jobs["hours_per_week"], errors="coerce").fillna(-1).to_numpy()
                 if "hours_per_week" in jobs else np.full(len(jobs), -1.0))
        q = pd.DataFrame({"i": np.arange(len(out)), "pc": who.get_indexer(out["person_id"].to_numpy()), "_m": exit_abs})
        jj = pd.DataFrame({"pc": jcode[jrow], "_f": jf[jrow], "_l": jl[jrow], "_h": hours[jrow],
                           "start": jobs["start"].to_numpy()[jrow], "jrow": jrow})
        m = q.merge(jj, on="pc", how="inner")
        m = m[(m["_f"] <= m["_m"]) & (m["_l"] >= m["_m"])]
        if len(m):
            m = m.sort_values(["i", "_h", "start"], ascending=[True, False, True], kind="mergesort")
            m = m.drop_duplicates("i")
            i = m["i"].to_numpy()
            werk = out["destination"].to_numpy()[i] == "werk"
            i = i[werk]
            r = m["jrow"].to_numpy()[werk]
            if "contract" in jobs:
                c = jobs["contract"].iloc[r]
                out.loc[i, "contract"] = c.astype(object).where(c.notna(), "unknown").astype(str).to_numpy()
            for c in ("hours_per_week", "monthly_wage"):
                if c in jobs:
                    out.loc[i, c] = pd.to_numeric(jobs[c].iloc[r], errors="coerce").to_numpy()
            if "sector" in jobs:
                out.loc[i, "sector"] = jobs["sector"].iloc[r].astype(object).to_numpy()
    out["job_hours"] = np.where(out["destination"] == "werk", _hours_band(out["hours_per_week"]), "none")
    persons = panel.persons.reset_index(drop=True)
    pc = a["person_code"].to_numpy()
    birth = persons["birth_date"].to_numpy()[np.clip(pc, 0, None)] if len(persons) else np.full(len(a), np.datetime64("NaT"))
    out["age_band"] = _age_band_or_unknown(_age_years(birth, out["exit_month"]))
    for c in ("sex", "migration_background", "education"):
        out[c] = a[c].to_numpy()
    # household at the spell's last observed month
    last_row = rows.first_row[out["spell_id"].to_numpy()] + rows.n_rows[out["spell_id"].to_numpy()] - 1
    hh = (panel.months["household"].iloc[rows.pos[np.clip(last_row, 0, None)]].astype(object).to_numpy()
          if len(rows.pos) else [])
    out["household"] = np.where((last_row >= 0) & ~pd.isna(hh), hh, "unknown").astype(str) if len(out) else []
    return out


def reentry_km(panel: Panel, data=None, *, by: str | Sequence[str] | None = None, alpha: float = 0.05,
               table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Kaplan-Meier time to re-entry by exit destination, first job's contract and group.

    ``by``: 'all', 'destination', 'contract' (exits to work only), sex, age, migration, household,
    education; default all of them. Columns: dimension, group (e.g. 'destination=werk',
    'contract=agency'), time (months since leaving), survival (not yet back), reentered (1 -
    survival), ci_lower, ci_upper (bands for ``reentered``), persons (at risk), events, censored.
    """
    r = reentry_table(panel, data) if table is None else table
    out = []
    for dim, label, m in _group_specs(r, by, REENTRY_GROUPS):
        if dim == "contract":
            m = m & (r["destination"].to_numpy() == "werk")
        if not m.any():
            continue
        t = kaplan_meier(r["duration"].to_numpy()[m], r["event"].to_numpy()[m], alpha=alpha)
        t["reentered"] = 1 - t["survival"]
        t["ci_lower"], t["ci_upper"] = 1 - t["ci_upper"], 1 - t["ci_lower"]
        t.insert(0, "group", label)
        t.insert(0, "dimension", dim)
        out.append(t)
    cols = ["dimension", "group", "time", "survival", "reentered", "ci_lower", "ci_upper", "persons", "events", "censored"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


class ReentryModel:
    """Cox model of the hazard of returning to bijstand after an exit (model ``reentry``).

    ``ReentryModel(covariates=("sex", "age", "migration", "household", "education"),
    job_terms=True, engine="auto", baseline="interval", alpha=0.05,
    max_lifelines_rows=LIFELINES_MAX_ROWS)``; ``fit(panel, data)`` (``data`` supplies the jobs).

    Terms: exit=ww, exit=overig (reference: exit to work); for exits to work the first job's
    contract=fixed_term / agency / on_call / unknown (reference permanent) and job_hours=<12 /
    12-23 / unknown (reference 24+) (zero for exits not to work, so these compare jobs among work
    exits); spell_duration=12-35 / 36+ months on bijstand before the exit (reference <12); sex, age
    band at exit, migration background, household, education. Clock: months since leaving.
    Engines: lifelines ``CoxPHFitter`` (Efron) or the discrete cloglog model on person-months.
    """

    def __init__(self, *, covariates: Sequence[str] = ("sex", "age", "migration", "household", "education"),
                 job_terms: bool = True, engine: str = "auto", baseline: str | Sequence[float] = "interval",
                 alpha: float = 0.05, max_lifelines_rows: int = LIFELINES_MAX_ROWS):
        self.covariates = covariates
        self.job_terms = job_terms
        self.engine = engine
        self.baseline = baseline
        self.alpha = alpha
        self.max_lifelines_rows = max_lifelines_rows

    name = "reentry"

    def design(self, panel: Panel, data=None) -> pd.DataFrame:
        """reentry_table columns spell_id, duration, event plus the model's 0/1 terms."""
        r = reentry_table(panel, data)
        return self._design(r)

    def _design(self, r: pd.DataFrame) -> pd.DataFrame:
        cols = _dummies(r["destination"].to_numpy(), "exit", ("werk", "ww", "overig"), REFERENCE["exit"])
        if self.job_terms:
            werk = r["destination"].to_numpy() == "werk"
            cols.update({k: v * werk for k, v in _dummies(np.where(werk, r["contract"], REFERENCE["contract"]),
                                                           "contract", (*CONTRACTS, "unknown"),
                                                           REFERENCE["contract"]).items()})
            cols.update({k: v * werk for k, v in _dummies(np.where(werk, r["job_hours"], REFERENCE["job_hours"]),
                                                           "job_hours", ("<12", "12-23", "24+", "unknown"),
                                                           REFERENCE["job_hours"]).items()})
        sd = np.where(r["spell_duration"] < 12, "<12", np.where(r["spell_duration"] < 36, "12-35", "36+"))
        cols.update(_dummies(sd, "spell_duration", ("<12", "12-35", "36+"), REFERENCE["spell_duration"]))
        cols.update(_covariate_columns(r, [c for c in self.covariates if c != "history"]))
        X = pd.DataFrame(cols, index=r.index)
        return pd.concat([r[["spell_id", "person_id", "duration", "event"]], X], axis=1)

    def fit(self, panel: Panel, data=None) -> HazardResults:
        return self._fit_table(reentry_table(panel, data))

    def _fit_table(self, r: pd.DataFrame) -> HazardResults:
        """Fit on :func:`reentry_table` output (built once in :func:`survival_tables`)."""
        if r["event"].sum() == 0:
            raise ValueError("reentry: no re-entries into bijstand observed in the window; nothing to fit.")
        d = self._design(r)
        terms = [c for c in d.columns if c not in ("spell_id", "person_id", "duration", "event")]
        keep, notes = _drop_degenerate(d[terms], d["event"].to_numpy(), what="reentry: ")
        if not keep:  # as in ExitToWorkModel
            raise InsufficientDataError(f"reentry: the re-entries leave no term that can be estimated (all "
                                        f"{len(notes)} dropped); nothing to fit.")
        engine = _choose_engine(self.engine, int(d["duration"].sum()), self.max_lifelines_rows)
        if engine == "lifelines":
            res = CoxModel(alpha=self.alpha, name=self.name).fit(
                d[["duration", "event"] + keep].assign(event=d["event"].astype(int)),
                duration_col="duration", event_col="event", covariates=keep)
        else:
            model = DiscreteTimeModel(link="cloglog", baseline=self.baseline, alpha=self.alpha, name=self.name)
            term_counts = _binary_term_counts(d[keep], d["event"].to_numpy())
            cells = _Cells.from_durations(_Terms.from_frame(d, keep), d["duration"].to_numpy(), d["event"].to_numpy(),
                                          baseline=self.baseline)
            if cells is not None:  # the person-months' cells, without expanding to person-months
                res = model._fit_cells(cells, "event", keep, term_counts=term_counts, n_units=len(d))
            else:
                pp = expand_person_periods(d[["spell_id", "duration", "event"] + keep], duration_col="duration",
                                           event_col="event")
                res = model.fit(pp, time_col="time", event_col="event", covariates=keep, term_counts=term_counts,
                                n_units=len(d))
        res.notes = notes
        res.model = self
        return res


# --------------------------------------------------------------------------------------------
# Output tables
# --------------------------------------------------------------------------------------------


def hazards_table(*results: HazardResults) -> pd.DataFrame:
    """Rows for ``OUT/tables/hazards.csv`` from fitted results (contract columns first)."""
    frames = [r.to_frame() for r in results if r is not None]
    if not frames:
        return pd.DataFrame(columns=list(HAZARDS_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def survival_tables(panel: Panel, data=None, *, alpha: float = 0.05, lock_in: bool = False,
                    engine: str = "auto") -> dict[str, object]:
    """Everything the report's survival part needs, in one call.

    Returns a dict of DataFrames: ``hazards`` (exit_to_work and reentry rows for hazards.csv),
    ``km``, ``medians``, ``logrank``, ``cumulative_incidence``, ``reentry_km``, ``ph_tests``
    (both models, with recommendations and concordance), ``immortal_time`` (time-varying vs
    'ever' programme hazard ratios), ``cause_specific`` (exit_to_work and exit_elsewhere rows);
    plus ``results`` (the fitted results objects by model name) and ``notes`` (warnings raised).
    Models that cannot be fitted (no events) are left out and explained in ``notes``.
    """
    spells = spell_table(panel)
    out: dict[str, object] = {
        "km": km_by_group(panel, data, alpha=alpha, spells=spells),
        "medians": median_durations(panel, data, alpha=alpha, spells=spells),
        "logrank": logrank_by_group(panel, data, spells=spells),
        "cumulative_incidence": cumulative_incidence_by_group(panel, data, alpha=alpha, spells=spells),
    }
    del spells  # each stage's tables are dropped before the next is built: the peak is one stage's
    reentry = reentry_table(panel, data)
    out["reentry_km"] = reentry_km(panel, data, alpha=alpha, table=reentry)
    reentry_res, reentry_note = None, None
    try:
        reentry_res = ReentryModel(engine=engine, alpha=alpha)._fit_table(reentry)
    except ValueError as e:
        reentry_note = str(e) if str(e).startswith("reentry") else f"reentry: not fitted: {e}"
    del reentry
    results: dict[str, HazardResults] = {}
    notes: list[str] = []
    d = None
    for dest in ("werk", "elsewhere"):  # one design for both destinations: only the events differ
        model = ExitToWorkModel(destination=dest, lock_in=lock_in, engine=engine, alpha=alpha,
                                fit_ever=(dest == "werk"))
        try:
            d = model._design(panel, data) if d is None else d.for_destination(dest)
            results[_MODEL_NAMES[dest]] = model._fit_design(d)
        except ValueError as e:
            name = _MODEL_NAMES[dest]
            notes.append(str(e) if str(e).startswith(name) else f"{name}: not fitted: {e}")
    del d  # the person-month design; the fitted models keep only their cells
    if reentry_res is not None:
        results["reentry"] = reentry_res
    if reentry_note is not None:
        notes.append(reentry_note)
    main = [results[m] for m in ("exit_to_work", "reentry") if m in results]
    out["hazards"] = hazards_table(*main)
    out["cause_specific"] = hazards_table(*[results[m] for m in ("exit_to_work", "exit_elsewhere") if m in results])
    out["ph_tests"] = pd.concat([r.diagnostics(alpha) for r in main], ignore_index=True) if main else pd.DataFrame()
    etw = results.get("exit_to_work")
    out["immortal_time"] = etw.immortal_time_bias() if isinstance(etw, ExitToWorkResults) else pd.DataFrame()
    for r in results.values():
        notes.extend(r.notes)
    out["results"] = results
    out["notes"] = notes
    return out
