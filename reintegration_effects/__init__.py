"""reintegration_effects: flows, survival and programme effects for people on social assistance.

The estimators work on any DataFrame, not only inside ``reintegration-effects run``::

    >>> import reintegration_effects as re
    >>> {"PropensityMatching", "DoublyRobustATT", "CoxModel"} <= set(re.__all__)
    True

Names are imported on first use (PEP 562), so ``import reintegration_effects`` and the command
line start without loading lifelines, econml or scikit-learn.
"""

from __future__ import annotations

import importlib
from importlib import metadata

try:
    __version__ = metadata.version("reintegration_effects")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

#: public name -> module that defines it
_EXPORTS = {
    # generic estimators on any DataFrame
    "PropensityModel": "propensity",
    "PropensityMatching": "matching",
    "MatchingResults": "matching",
    "DoublyRobustATT": "doubly_robust",
    "DoublyRobustResults": "doubly_robust",
    "PropensityModelError": "propensity",
    "SeparationError": "propensity",
    "CollinearityError": "propensity",
    "ConstantColumnError": "propensity",
    "LogitConvergenceError": "propensity",
    # survival
    "CoxModel": "survival",
    "TimeVaryingCoxModel": "survival",
    "DiscreteTimeModel": "survival",
    "HazardResults": "survival",
    "LikelihoodRatioTest": "survival",
    "kaplan_meier": "survival",
    "aalen_johansen": "survival",
    "logrank_test": "survival",
    "schoenfeld_test": "survival",
    # the dynamic (start now versus not yet) design on the package's panel
    "build_risk_sets": "effects",
    "RiskSets": "effects",
    "DynamicMatching": "effects",
    "DynamicDML": "effects",
    "EffectResults": "effects",
    "estimate_effects": "effects",
    "HeterogeneityAnalysis": "heterogeneity",
    # effects on the whole duration with censoring, and selection on unobservables (issue 14)
    "DurationEffects": "duration_effects",
    "DurationEffectsResults": "duration_effects",
    "DurationRiskSets": "duration_effects",
    "build_duration_risk_sets": "duration_effects",
    "TimingOfEvents": "survival.timing_of_events",
    "TimingOfEventsResults": "survival.timing_of_events",
    # the municipality benchmark and participation (issue 16)
    "MunicipalityBenchmark": "benchmark",
    "BenchmarkResults": "benchmark",
    # data in, panel, monitoring
    "load_input": "validate",
    "build_panel": "panel",
    "build_cohorts": "flows",
    "CareerClustering": "careers",
    "simulate_municipality": "simulate",
    "load_simulated": "datasets",
    # disclosure control and the run
    "DisclosureRules": "disclosure",
    "protect_counts": "disclosure",
    "protect_shares": "disclosure",
    "run": "pipeline",
    # errors and warnings
    "InputError": "errors",
    "DisclosureError": "errors",
    "StatisticalWarning": "errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'reintegration_effects' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
