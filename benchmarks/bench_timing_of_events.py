"""Benchmark: the timing-of-events model (issue 14b) on the simulated municipality with selection on
the frailty (``simulate_municipality(persons, unobserved_heterogeneity=True)``, constant effects).

``run(persons)`` times, with the run's settings (``survival.toe_frame.RUN_SETTINGS``: every
covariate, 12 duration bands, lock-in terms, at most four mass points by BIC, OPG covariance) and
with the sandwich covariance: building the person-month frame from the panel (``frame_seconds``),
the fit with the search over mass points (``fit_seconds``) and the implied effects
(``implied_seconds``). Each row: case ("timing_of_events"), variant, persons, person_months (rows of
the frame), exit_rows / start_rows (after collapsing identical months), points, params, the
seconds, and the largest |log hazard ratio - truth| / SE over the programmes (``max_abs_t``).

``python -m benchmarks.bench_timing_of_events 20000 [200000]`` appends to
``benchmarks/results/timing_of_events.csv``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results" / "timing_of_events.csv"


def run(persons: int, *, seed: int = 1, variants=("run_settings_opg", "sandwich")) -> list[dict]:
    from reintegration_effects.panel import build_panel
    from reintegration_effects.simulate import simulate_municipality, write_simulation
    from reintegration_effects.survival.timing_of_events import TimingOfEvents
    from reintegration_effects.survival.toe_frame import RUN_SETTINGS, implied_effects, person_month_frame
    from reintegration_effects.validate import load_input

    t0 = time.perf_counter()
    sim = simulate_municipality(persons, seed=seed, unobserved_heterogeneity=True)
    with tempfile.TemporaryDirectory() as d:
        write_simulation(sim, Path(d) / "in", fmt="parquet")
        data = load_input(Path(d) / "in")
    panel = build_panel(data)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame, info = person_month_frame(panel, data)
    frame_s = time.perf_counter() - t0
    fixed = {"person_id", "spell_id", "month", "duration", "exit", "at_risk_start", "start", "programme", "lock_in"}
    ex, ar = frame["exit"].to_numpy() >= 0, frame["at_risk_start"].to_numpy(bool)
    cov = [c for c in frame.columns if c not in fixed and frame[c].to_numpy()[ex].any() and frame[c].to_numpy()[ar].any()]
    truth = sim.true_hazard_ratios.query("group == 'all' and phase == 'post'").set_index("programme")["hazard_ratio"]
    rows = []
    for variant in variants:
        settings = dict(RUN_SETTINGS)
        if variant == "sandwich":
            settings["se"] = "sandwich"
        t0 = time.perf_counter()
        res = TimingOfEvents(**settings).fit(frame, covariates=cov)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        implied_effects(res)
        imp_s = time.perf_counter() - t0
        eff = res.effects.set_index("term")
        t = [abs(eff.loc[f"programme={lab}", "estimate"] - np.log(hr)) / eff.loc[f"programme={lab}", "std_error"]
             for lab, hr in truth.items() if f"programme={lab}" in eff.index]
        rows.append({"when": pd.Timestamp.now().isoformat(timespec="seconds"), "case": "timing_of_events",
                     "variant": variant, "persons": persons, "person_months": len(frame),
                     "exit_rows": len(res.prep.lik.e), "start_rows": len(res.prep.lik.s),
                     "spells": info["spells"], "points": res.n_points, "params": len(res.params_),
                     "build_seconds": build, "frame_seconds": frame_s, "fit_seconds": fit_s,
                     "implied_seconds": imp_s, "converged": res.converged, "max_abs_t": max(t)})
    return rows


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [20000]
    for n in sizes:
        out = pd.DataFrame(run(n, variants=("run_settings_opg",) if n > 50000 else ("run_settings_opg", "sandwich")))
        print(out.to_string())
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        out.to_csv(RESULTS, mode="a", header=not RESULTS.exists(), index=False)
