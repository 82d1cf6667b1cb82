"""Flows, typology and careers: the library calls of the run's monitor step (pipeline.step_monitor).

The panel is built first and not counted. Each row times one call on the simulated register:
``build_cohorts`` (cohort members and their status at every horizon), ``flows``,
``flows_by_group``, ``transitions``, ``typology_tables`` (typology, re-entry, job quality,
wages), ``career_tables`` (24-month career sequences and their clusters), and ``total`` (their
sum: the step without writing the tables). Writing the tables through the disclosure gate is
timed in the ``run`` case (its per-step rows).

No baseline: there is no single "plain way" for the whole monitor step; the plain way of its
heaviest input, the monthly panel, is in ``bench_panel``.
"""

from __future__ import annotations

import time
import warnings

from benchmarks.run import simulated_input


def run(persons: int) -> list[dict]:
    from reintegration_effects.careers import career_tables
    from reintegration_effects.dataset import DEFAULT_SEED
    from reintegration_effects.flows import build_cohorts, flows, flows_by_group, transitions
    from reintegration_effects.panel import build_panel
    from reintegration_effects.typology import typology_tables
    from reintegration_effects.validate import load_input

    data = load_input(simulated_input(persons))
    panel = build_panel(data)
    study = data.study
    rows: list[dict] = []

    def timed(name, fn, *args, **kwargs):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        rows.append({"case": "flows", "variant": f"package: {name}", "seconds": round(time.perf_counter() - t, 2)})
        return out

    cs = timed("build_cohorts", build_cohorts, data, panel, cohorts=study.cohorts, horizons=study.horizons,
               groups=study.groups)
    timed("flows", flows, cs)
    timed("flows_by_group", flows_by_group, cs)
    timed("transitions", transitions, cs)
    timed("typology_tables", typology_tables, data, panel, cs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, result = timed("career_tables", career_tables, data, panel, random_state=DEFAULT_SEED)
    for r in rows:
        r["rows"] = len(panel.months)
    total = round(sum(r["seconds"] for r in rows), 2)
    clusters = "no career clusters" if result is None else "career clusters fitted"
    note = (f"panel of {len(panel.months):,} person-months built first (not counted); "
            f"{len(cs.members):,} cohort members; {clusters}")
    rows.append({"case": "flows", "variant": "package: total", "rows": len(panel.months), "seconds": total,
                 "note": note})
    return rows
