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

# Re-exports: every top-level name of the former single module survival.py stays importable from here.
# ruff: noqa: F401
from .cox import CoxModel, TimeVaryingCoxModel, concordance, schoenfeld_test
from .discrete import DiscreteTimeModel, collapse_person_periods, expand_person_periods
from .exits import (
    ExitToWorkModel,
    cause_specific_models,
    exit_design,
    exit_episodes,
    exit_person_periods,
    programme_matches,
    spell_episodes,
)
from .grouped import collapse_index
from .nonparametric import aalen_johansen, kaplan_meier, logrank_test
from .reentry import REENTRY_GROUPS, ReentryModel, reentry_km, reentry_table
from .results import ExitToWorkResults, HazardResults, LikelihoodRatioTest
from .settings import (
    ALL_COVARIATES,
    CAUSES,
    DEFAULT_COVARIATES,
    HISTORY_BANDS,
    HISTORY_COLUMNS,
    LIFELINES_MAX_ROWS,
    REFERENCE,
    SPELL_GROUPS,
    STATSMODELS_MAX_ENTRIES,
    SUMMARY_COLUMNS,
    lock_in_term,
)
from .spells import (
    cumulative_incidence_by_group,
    km_by_group,
    logrank_by_group,
    median_durations,
    spell_table,
)
from .tables import hazards_table, survival_tables

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

# The old private names of helpers that tests and benchmarks use (now public in their modules).
_collapse_index = collapse_index
_episodes = spell_episodes
_exit_design = exit_design
_programme_matches = programme_matches
