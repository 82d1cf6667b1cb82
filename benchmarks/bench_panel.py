"""Panel build: validation + vectorised panel vs the plain pandas row loop a user would write."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from benchmarks.run import simulated_input


def naive_panel(data, max_persons: int) -> pd.DataFrame:
    """The plain way: loop over persons and month ends, test each spell (the baseline)."""
    months = pd.date_range(data.window_start, data.window_end, freq="ME")
    rows = []
    ben = data.benefits.groupby("person_id")
    jobs = data.jobs.groupby("person_id")
    for pid in data.persons.person_id[:max_persons]:
        b = ben.get_group(pid) if pid in ben.groups else data.benefits.iloc[:0]
        j = jobs.get_group(pid) if pid in jobs.groups else data.jobs.iloc[:0]
        for m in months:
            def cov(f, m=m):
                return bool(((f.start <= m) & (f.end.isna() | (f.end >= m))).any())
            bij, job = cov(b[b.benefit == "bijstand"]), cov(j)
            ww = cov(b[b.benefit == "ww"])
            rows.append((pid, m, "bijstand_met_werk" if bij and job else "bijstand" if bij else
                         "werk" if job else "ww" if ww else "overig"))
    return pd.DataFrame(rows, columns=["person_id", "month", "status"])


def run(persons: int) -> list[dict]:
    from reintegration_effects.panel import build_panel
    from reintegration_effects.validate import load_input

    folder = simulated_input(persons)
    t = time.perf_counter()
    data = load_input(folder)
    t_val = time.perf_counter() - t
    t = time.perf_counter()
    panel = build_panel(data)
    t_panel = time.perf_counter() - t
    rows = [
        {"case": "validate", "variant": "package", "rows": int(len(data.jobs) + len(data.benefits)),
         "seconds": round(t_val, 2)},
        {"case": "panel", "variant": "package", "rows": int(len(panel.months)), "seconds": round(t_panel, 2)},
    ]
    # the row loop on a sample of persons, scaled up linearly (it is linear in persons)
    sample = min(200, persons)
    t = time.perf_counter()
    naive_panel(data, sample)
    t_naive = (time.perf_counter() - t) * persons / sample
    rows.append({"case": "panel", "variant": "pandas row loop (extrapolated)", "rows": int(len(panel.months)),
                 "seconds": round(t_naive, 1),
                 "note": f"timed on {sample} persons x {persons / sample:.0f}; ratio {t_naive / t_panel:.0f}x"})
    assert np.isfinite(t_panel)
    return rows
