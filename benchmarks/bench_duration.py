"""Duration effects (issue 14a): the effect curves and restricted means of the run's effects step.

On the simulated register (``simulated_input``; the panel is built first and not counted), with
the run's seed (``DEFAULT_SEED``) and row budget (``RunContext.max_risk_set_rows``, 2,000,000:
every start plus a weighted random part of the pool), each row times one call:

- ``package: build_duration_risk_sets``: every start and pool row with follow-up, the 36 monthly
  outcomes (``rows``: risk-set rows after the budget; the note gives the rows before it);
- ``package: DurationEffects.fit``: ``DurationEffects(random_state=seed).fit(risk)``, the library
  call as a user makes it: ``parallel=None``, so the folds run as ``REINTEGRATION_N_JOBS`` /
  ``REINTEGRATION_BACKEND`` say (unset: one at a time); every contract group;
- ``package: duration_tables``: the call of ``pipeline.step_effects`` (risk sets built again, then
  the fit, all groups) with the run's parallel setting, ``ParallelConfig.from_env(n_jobs=-1)``
  (unset variables: loky on every CPU).

``seconds`` is wall time; the note gives CPU seconds (this process and its workers, sampled) and
the parallel setting; ``peak_gib`` is the largest sum of resident memory over this process and its
workers during the call (sampled every 0.5 s), the panel and input held included.

No "plain way" beside it: no Python library fits this estimator (doubly robust ATT curves under
censoring by the window end, with a simultaneous band); the closest, econml's DRLearner per month
and lifelines' survival curves, answer other questions (no censoring weights, or no dynamic
assignment), so a comparison would time a different estimate.

Above ``LIMIT_SECONDS`` or ``LIMIT_GIB`` predicted for the fit (time and memory linear in
risk-set rows, capped by the budget, from a smaller size in ``results.csv``), a size is not run and the prediction is recorded, labelled
``(extrapolated)``.
"""

from __future__ import annotations

import os
import threading
import time

from benchmarks.run import previous_results, simulated_input

CASE = "duration"
LIMIT_SECONDS = 25 * 60
LIMIT_GIB = 16.0


class Usage(threading.Thread):
    """Largest RSS sum and CPU seconds over a process and its descendants, sampled every 0.5 s."""

    def __init__(self, pid: int | None = None, interval: float = 0.5):
        super().__init__(daemon=True)
        import psutil

        self.root = psutil.Process(pid or os.getpid())
        self.interval, self.peak = interval, 0
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._halt = threading.Event()
        self._sample(new_from_zero=False)  # processes alive now: counted from their CPU time now

    def _sample(self, new_from_zero: bool = True) -> None:
        import psutil

        total = 0
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for p in procs:
            try:
                total += p.memory_info().rss
                c = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            self._first.setdefault(p.pid, 0.0 if new_from_zero else c.user + c.system)
            self._last[p.pid] = c.user + c.system
        self.peak = max(self.peak, total)

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self._sample()

    def stop(self) -> tuple[float, float]:
        """(peak GiB, CPU seconds) since the start."""
        self._halt.set()
        self.join()
        self._sample()
        return self.peak / 2**30, sum(self._last[p] - self._first.get(p, 0.0) for p in self._last)


def measured(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with (result, wall seconds, peak GiB, CPU seconds)."""
    u = Usage()
    u.start()
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    wall = time.perf_counter() - t
    gib, cpu = u.stop()
    return out, wall, gib, cpu


def _load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def _setting(cfg) -> str:
    return f"backend {cfg.backend}, n_jobs {cfg.n_jobs}, inner_threads {cfg.inner_threads}"


def _too_large(persons: int) -> dict | None:
    """An ``(extrapolated)`` row when the fit at a smaller size, scaled in rows, predicts more than the limits."""
    fits = [r for r in previous_results(CASE, below=persons, variant="package: DurationEffects.fit")
            if r.get("rows") and r.get("peak_gib")]
    if not fits:
        return None
    src = max(fits, key=lambda r: (int(r["persons"]), r["when"]))
    rows = min(int(src["rows"]) * persons / int(src["persons"]), 2_000_000)  # the run's budget (starts aside)
    k = rows / int(src["rows"])
    secs, gib = float(src["seconds"]) * k, float(src["peak_gib"]) * k
    if secs <= LIMIT_SECONDS and gib <= LIMIT_GIB:
        return None
    return {"case": CASE, "variant": "package: DurationEffects.fit (extrapolated)", "rows": round(rows),
            "seconds": round(secs), "peak_gib": round(gib, 1),
            "note": f"not run (predicted above {LIMIT_SECONDS / 60:g} min or {LIMIT_GIB:g} GiB): time and memory "
                    f"linear in risk-set rows (at most the run's 2,000,000), from {int(src['persons']):,} persons "
                    f"({int(src['rows']):,} rows, {float(src['seconds']):.0f} s, {float(src['peak_gib']):.2f} GiB, "
                    f"{src['when']})"}


def run(persons: int) -> list[dict]:
    import numpy as np

    from reintegration_effects import duration_effects as de
    from reintegration_effects.dataset import DEFAULT_SEED
    from reintegration_effects.panel import build_panel
    from reintegration_effects.parallel import ParallelConfig
    from reintegration_effects.pipeline import RunContext
    from reintegration_effects.validate import load_input

    skip = _too_large(persons)
    if skip is not None:
        return [skip]
    budget = RunContext.__dataclass_fields__["max_risk_set_rows"].default
    t = time.perf_counter()
    data = load_input(simulated_input(persons))
    panel = build_panel(data)
    t_panel = time.perf_counter() - t
    load = _load()

    risk, secs, gib, cpu = measured(de.build_duration_risk_sets, panel, data, max_rows=budget, random_state=DEFAULT_SEED)
    f = risk.frame
    n, is_t = len(f), (f["treatment"] != "none").to_numpy()
    before = int(is_t.sum() + f.loc[~is_t, "weight"].sum().round())
    share = 1.0 / float(f.loc[~is_t, "weight"].iloc[0]) if (~is_t).any() else 1.0
    rows = [{"case": CASE, "variant": "package: build_duration_risk_sets", "rows": n, "seconds": round(secs, 2),
             "peak_gib": round(gib, 2),
             "note": f"{int(is_t.sum()):,} starts, {len(risk.programmes)} programmes, {risk.months} months; "
                     f"{before:,} rows before the {budget:,}-row budget (pool share {share:.3f}); "
                     f"panel of {len(panel.months):,} person-months built first in {t_panel:.1f} s (not counted); "
                     f"{load} at the start"}]

    env = ParallelConfig.from_env()
    res, secs, gib, cpu = measured(de.DurationEffects(random_state=DEFAULT_SEED).fit, risk)
    n_groups = res.curves["group"].nunique()
    rows.append({"case": CASE, "variant": "package: DurationEffects.fit", "rows": n, "seconds": round(secs, 2),
                 "peak_gib": round(gib, 2),
                 "note": f"parallel=None: {_setting(env)} (REINTEGRATION_N_JOBS={os.environ.get('REINTEGRATION_N_JOBS')}, "
                         f"REINTEGRATION_BACKEND={os.environ.get('REINTEGRATION_BACKEND')}); {cpu:.0f} CPU s; "
                         f"5 folds x 1 split; {len(res.curves):,} curve rows, {n_groups} groups"})
    first = res.curves
    del risk, res, f

    run_cfg = ParallelConfig.from_env(n_jobs=-1)
    (curves, rmst, _), secs, gib, cpu = measured(de.duration_tables, panel, data, random_state=DEFAULT_SEED,
                                              parallel=run_cfg, max_rows=budget)
    same = float(np.nanmax(np.abs(curves["estimate"].to_numpy() - first["estimate"].to_numpy()))) \
        if len(curves) == len(first) else float("nan")
    rows.append({"case": CASE, "variant": "package: duration_tables", "rows": n, "seconds": round(secs, 2),
                 "peak_gib": round(gib, 2),
                 "note": f"as pipeline.step_effects calls it (build + fit, all groups), parallel {_setting(run_cfg)} "
                         f"(the run's default); {cpu:.0f} CPU s; {len(curves):,} curve rows, {len(rmst)} restricted-"
                         f"mean rows; largest |estimate - the fit above's| {same:.1e}; "
                         f"{_load()} at the end"})
    return rows


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20000), indent=1, default=str))
