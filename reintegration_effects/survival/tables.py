"""Output tables: everything the report's survival part needs, in one call."""

from __future__ import annotations

import pandas as pd

from ..contract import HAZARDS_COLUMNS
from ..panel import Panel
from .exits import ExitToWorkModel
from .reentry import ReentryModel, reentry_km, reentry_table
from .results import ExitToWorkResults, HazardResults
from .settings import MODEL_NAMES
from .spells import (
    cumulative_incidence_by_group,
    km_by_group,
    logrank_by_group,
    median_durations,
    spell_table,
)


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
            results[MODEL_NAMES[dest]] = model._fit_design(d)
        except ValueError as e:
            name = MODEL_NAMES[dest]
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
