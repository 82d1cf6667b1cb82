"""Benchmark: the run's own exit-to-work hazard model, lifelines vs the discrete-time path.

``run(persons)`` loads the simulated register of that size (``benchmarks.run.simulated_input``),
builds the panel (not timed), and times :class:`~reintegration_effects.survival.ExitToWorkModel`
(destination werk, the run's covariates and monthly labour-market history, programmes as
time-varying terms, ``fit_ever=False``) with ``engine="lifelines"`` (lifelines'
``CoxTimeVaryingFitter`` on the start/stop episodes) and ``engine="discrete"`` (the grouped-time
cloglog model on collapsed cells). Both times include building the person-month design from the
panel, as a user calling ``fit(panel, data)`` pays it. Each engine is timed ``repeats`` times
(lifelines once above 2,000,000 person-months) and the fastest is reported.

Rows: case ("exit_design"), method (``lifelines`` / ``discrete``), persons, rows (person-months
of the design), units (cells for the discrete path), seconds, design_seconds, max_hr_diff (largest
absolute difference of the hazard ratios from lifelines'; the two are different estimators of
the same proportional-hazards model: Cox's partial likelihood with Efron ties and the grouped-time
likelihood with one baseline per month), and a note with the ratio.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from reintegration_effects.panel import build_panel
from reintegration_effects.survival import ExitToWorkModel
from reintegration_effects.validate import load_input

LIFELINES_MAX_ROWS = 12_000_000  # person-months; above this lifelines is not tried (its time and memory: benchmarks/README.md)


def _time(engine: str, panel, data) -> tuple[float, float, object, int]:
    t0 = time.perf_counter()
    model = ExitToWorkModel(engine=engine, fit_ever=False)
    d = model._design(panel, data)
    t1 = time.perf_counter()
    res = model._fit_design(d)
    t2 = time.perf_counter()
    units = len(next(iter(d.cells.values()))) if d.cells else len(d.sid)
    return t2 - t0, t1 - t0, res, units


def run(persons: int, *, repeats: int = 3) -> list[dict]:
    from benchmarks.run import simulated_input

    data = load_input(simulated_input(persons))
    panel = build_panel(data)
    n_rows = len(ExitToWorkModel(fit_ever=False)._design(panel, data).sid)
    base = {"case": "exit_design", "persons": persons, "rows": n_rows}
    rows, ref = [], None
    for engine in ("lifelines", "discrete"):
        if engine == "lifelines" and n_rows > LIFELINES_MAX_ROWS:
            rows.append({**base, "method": engine, "seconds": np.nan, "note": "skipped: too many person-months"})
            continue
        reps = 1 if engine == "lifelines" and n_rows > 2_000_000 else repeats
        best = None
        for _ in range(reps):
            secs, design, res, units = _time(engine, panel, data)
            if best is None or secs < best[0]:
                best = (secs, design, res, units)
        secs, design, res, units = best
        hr = res.hazard_ratios_ if hasattr(res, "hazard_ratios_") else np.exp(res.params_)
        if engine == "lifelines":
            ref = hr
        diff = float((hr - ref).abs().max()) if ref is not None else np.nan
        rows.append({**base, "method": engine, "units": units, "seconds": round(secs, 3),
                     "design_seconds": round(design, 3), "max_hr_diff": diff})
    ll = rows[0]["seconds"]
    for r in rows[1:]:
        if np.isfinite(ll):
            r["note"] = (f"{ll / r['seconds']:.1f}x faster than lifelines ({ll:.1f} s), design included in both; "
                         f"largest hazard-ratio difference {r['max_hr_diff']:.4f}")
    return rows


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[20_000, 200_000])
    args = parser.parse_args()
    out = pd.DataFrame([r for p in args.persons for r in run(p)])
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 120):
        print(out.to_string(index=False))
