"""Programme effects: the package's effects step vs econml with default settings on the full risk set.

Package rows (what pipeline.step_effects runs, on the same simulated register; the panel is built
first and not counted): ``build_risk_sets`` (every not-yet-treated person-month as a control:
the run uses ``control_fraction=1``), then ``estimate_effects`` one method at a time: ``naive``,
``matching`` (DynamicMatching), ``dml`` (DynamicDML: 5 person folds, gradient boosting, all
programmes and outcomes at once), ``heterogeneity`` (econml LinearDRLearner once for all
programmes, on every participant and 30% of the pool rows, then BLP, calibration, sensitivity
and a policy tree), and ``total``. The
``total`` row's ``peak_gib`` is the peak up to then of the case process, or of the sum over it
and its worker processes (sampled) if larger; the baseline runs later, in its own process.

Baseline, "the plain way": ``econml.dr.DRLearner()`` with its default settings (first stages
chosen by cross-validation between a linear model and a random forest of 100 fully grown trees;
2-fold cross-fitting) fitted on the full uncollapsed risk set of one programme (the one with the
most starts: its starters and every not-yet-treated person-month, no subsampling), one outcome
(``off_bijstand_6_18m``), ``X`` = the package's covariates at time zero. Its ATT is
``est.ate(X_treated)``. That is one programme and one outcome; the package's ``dml`` row covers
every programme and four outcomes. The baseline runs in its own process (its own peak memory in
``peak_gib``, including the panel and risk set it needs, as a user's would; its ``seconds`` are
the fit alone), stopped after ``BASELINE_TIMEOUT`` seconds or above ``BASELINE_MAX_GIB``.

When the full fit is not measured, the row says why and an ``(extrapolated)`` row scales a
measurement linearly in rows: a lower bound, as forests grow as n log n. In order:

- a full fit at a smaller size is in ``results.csv``: if scaling it predicts more than either
  limit, this size is not run and the prediction (time and memory) is recorded; otherwise it runs;
- no full fit at a smaller size and more than ``BASELINE_MAX_ROWS_UNMEASURED`` rows: not run;
  the time is scaled from the last person-sample fit in ``results.csv``, or one is made now;
- the full fit stopped at a limit: DRLearner() on a random sample of persons (all their rows,
  about ``SAMPLE_ROWS`` rows) is fitted and recorded, and its time scaled up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

from benchmarks.run import HERE, TreeMemory, previous_results, simulated_input

OUTCOME = "off_bijstand_6_18m"
BASELINE = "econml DRLearner() defaults, full risk set, 1 programme x 1 outcome"
BASELINE_TIMEOUT = 20 * 60
BASELINE_MAX_GIB = 16.0
#: Without a smaller measurement to extrapolate from, larger risk sets are not tried.
BASELINE_MAX_ROWS_UNMEASURED = 1_000_000
#: Rows of the person sample fitted when the full risk set is not (about 1/5 of the 20,000 size).
SAMPLE_ROWS = 80_000


def _inputs(persons: int):
    from reintegration_effects.dataset import DEFAULT_SEED
    from reintegration_effects.effects import build_risk_sets
    from reintegration_effects.panel import build_panel
    from reintegration_effects.validate import load_input

    data = load_input(simulated_input(persons))
    panel = build_panel(data)
    t = time.perf_counter()
    risk = build_risk_sets(panel, data, random_state=DEFAULT_SEED)
    return panel, risk, time.perf_counter() - t


def _programme(risk) -> str:
    """The programme with the most starts (ties: first by name)."""
    counts = risk.frame.loc[risk.frame["treatment"] != "none", "treatment"].value_counts()
    return sorted(risk.programmes, key=lambda p: (-counts.get(p, 0), p))[0]


def _peak_gib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def fit_baseline(persons: int, sample_rows: int | None = None) -> dict:
    """Run in its own process: DRLearner() on one programme's full risk set; returns one row.

    ``sample_rows``: fit on a random sample of persons (all their rows) of about that many rows
    instead: the measurement that a lower-bound extrapolation starts from.
    """
    import numpy as np
    from econml.dr import DRLearner

    from reintegration_effects.effects import covariate_matrix

    _, risk, _ = _inputs(persons)
    prog = _programme(risk)
    f = risk.frame[risk.frame["treatment"].isin([prog, "none"])]
    assert (f["weight"] == 1).all(), "the risk set must be the full one (no control subsampling)"
    variant = BASELINE
    if sample_rows and len(f) > sample_rows:
        share = sample_rows / len(f)
        codes = np.unique(f["pcode"].to_numpy())
        keep = codes[np.random.default_rng(0).random(len(codes)) < share]
        f = f[np.isin(f["pcode"].to_numpy(), keep)]
        variant = f"{BASELINE}, {share:.1%} person sample"
    x = covariate_matrix(f).to_numpy()
    t = (f["treatment"] == prog).to_numpy().astype(int)
    y = f[OUTCOME].to_numpy(dtype=float)
    del risk
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = DRLearner()
        est.fit(y, t, X=x)
        secs = time.perf_counter() - t0
        att = float(est.ate(X=x[t == 1]))
        lo, hi = (float(v) for v in est.ate_interval(X=x[t == 1]))
    return {"case": "effects", "variant": variant, "rows": len(f), "seconds": round(secs, 1),
            "peak_gib": round(_peak_gib(), 2), "programme": prog, "estimate": att, "ci": [lo, hi],
            "n_treated": int(t.sum())}


def _run_baseline(persons: int, sample_rows: int | None = None) -> dict:
    """fit_baseline in a child process, watched: stopped at the time or memory limit."""
    import psutil

    cmd = [sys.executable, "-m", "benchmarks.bench_effects", "--baseline", str(persons)]
    if sample_rows:
        cmd.append(str(sample_rows))
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, cwd=HERE.parent)
        stopped, peak = None, 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            try:
                peak = max(peak, psutil.Process(proc.pid).memory_info().rss / 2**30)
            except psutil.NoSuchProcess:
                pass
            if stopped is None and time.perf_counter() - t0 > BASELINE_TIMEOUT:
                stopped = f"stopped after {BASELINE_TIMEOUT / 60:g} min without finishing"
            elif stopped is None and peak > BASELINE_MAX_GIB:
                stopped = f"stopped at {peak:.1f} GiB (limit {BASELINE_MAX_GIB:g} GiB)"
            if stopped:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(1.0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        wall = time.perf_counter() - t0
        out.seek(0)
        lines = [ln for ln in out.read().splitlines() if ln.startswith("BASELINE ")]
    if stopped or status != 0 or not lines:
        why = stopped or f"exit status {proc.returncode}"
        return {"case": "effects", "variant": BASELINE + (", person sample" if sample_rows else ""),
                "seconds": None, "peak_gib": round(usage.ru_maxrss / 2**20, 2), "error": why,
                "note": f"did not finish: {why} ({wall:.0f} s in all)"}
    return json.loads(lines[-1][len("BASELINE "):])


def _previous(persons: int, sample: bool) -> dict | None:
    """The largest earlier measurement of the baseline, full risk set or person sample (None if none)."""
    def fits(r):
        v = r.get("variant") or ""
        return bool(r.get("rows")) and (v.startswith(BASELINE + ", ") and v.endswith("person sample") if sample
                                        else v == BASELINE and bool(r.get("peak_gib")))
    prev = [r for r in previous_results("effects", below=persons) if fits(r)]
    return max(prev, key=lambda r: (int(r["persons"]), r["when"])) if prev else None


def _describe(b: dict, mine, t_dml: float, total: float, ratios: bool = True, fits: int = 16) -> dict:
    """The baseline row's note: its estimate beside the package's, and the time ratios.

    ``fits``: programmes x outcomes, the number of such fits for the package's coverage.
    """
    b["note"] = (f"{b.pop('programme')}, {OUTCOME}: ATT {b.pop('estimate'):+.4f} "
                 f"(CI {b['ci'][0]:+.4f} to {b['ci'][1]:+.4f}, not clustered by person) vs package dml "
                 f"{mine.estimate:+.4f} (CI {mine.ci_lower:+.4f} to {mine.ci_upper:+.4f}, all persons); "
                 f"{b.pop('n_treated'):,} starts")
    if ratios:
        b["note"] += (f"; {b['seconds'] / t_dml:.1f}x the package's dml (all programmes and outcomes), "
                      f"{b['seconds'] / total:.1f}x its whole effects step; the package's coverage would take "
                      f"{fits} such fits, about {fits * b['seconds'] / 3600:.1f} h (extrapolated)")
    b.pop("ci")
    return b


def run(persons: int) -> list[dict]:
    from reintegration_effects.dataset import DEFAULT_SEED
    from reintegration_effects.effects import ALL_OUTCOMES, estimate_effects
    from reintegration_effects.heterogeneity import HeterogeneityAnalysis

    sampler = TreeMemory(os.getpid())  # worker processes of a parallel backend count too
    sampler.start()
    panel, risk, t_risk = _inputs(persons)
    n = len(risk.frame)
    rows = [{"case": "effects", "variant": "package: build_risk_sets", "rows": n, "seconds": round(t_risk, 2)}]

    def timed(name, fn, *args, **kwargs):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        rows.append({"case": "effects", "variant": f"package: {name}", "rows": n,
                     "seconds": round(time.perf_counter() - t, 2)})
        return out

    def heterogeneity(r):
        return HeterogeneityAnalysis(random_state=DEFAULT_SEED).fit(r).to_frames()

    # one method at a time, through the function the run calls (so its settings are the run's)
    for method in ("naive", "matching", "dml"):
        out = timed(method, estimate_effects, risk, methods=(method,), random_state=DEFAULT_SEED)
    dml = out["results"]["dml"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timed("heterogeneity", heterogeneity, risk)
    t_dml = next(r["seconds"] for r in rows if r["variant"] == "package: dml")
    total = round(sum(r["seconds"] for r in rows), 2)
    n_starts = int((risk.frame["treatment"] != "none").sum())
    rows.append({"case": "effects", "variant": "package: total", "rows": n, "seconds": total,
                 "peak_gib": round(max(_peak_gib(), sampler.stop() / 2**30), 2),
                 "note": f"{len(risk.programmes)} programmes, {n_starts:,} starts, 4 outcomes; "
                         f"panel of {len(panel.months):,} person-months built first (not counted)"})

    prog = _programme(risk)
    e = dml.effects
    mine = e[(e.programme == prog) & (e.group == "all") & (e.outcome == OUTCOME)].iloc[0]
    b_rows = int(risk.frame["treatment"].isin([prog, "none"]).sum())
    fits = len(risk.programmes) * len(ALL_OUTCOMES)
    del risk, dml, panel
    return rows + baseline_rows(persons, b_rows, mine, t_dml, total, fits)


def baseline_rows(persons: int, b_rows: int, mine, t_dml: float, total: float, fits: int) -> list[dict]:
    """The baseline's rows at this size: run, or not run and extrapolated (see the module docstring).

    ``b_rows``: rows of the programme's full risk set; ``mine``: the package's dml row for it;
    ``t_dml``, ``total``: the package's seconds (dml, whole effects step) for the ratios.
    """
    rows: list[dict] = []

    def extrapolated(secs, src, what, gib=None, skipped=""):
        measured = f"{int(src['rows']):,} rows, {float(src['seconds']):.0f} s"
        if gib is not None:
            measured += f", {float(src['peak_gib']):.2f} GiB"
        if src.get("when"):
            measured += f", {src['when']}"
        bound = "time a lower bound (forests grow as n log n); " + (
            "memory: the process peak scaled" if gib is not None else "memory not extrapolated")
        return {"case": "effects", "variant": BASELINE + " (extrapolated)", "rows": b_rows, "seconds": round(secs),
                "peak_gib": None if gib is None else round(gib, 1),
                "note": f"{skipped}linear in rows from {what} at {int(src['persons']):,} persons ({measured}); "
                        f"{bound}; {secs / t_dml:.0f}x the package's dml, "
                        f"{secs / total:.0f}x its whole effects step"}

    full, sample = _previous(persons, sample=False), _previous(persons, sample=True)
    if full is not None:  # a full fit at a smaller size: run this one only if it should fit the limits
        k = b_rows / int(full["rows"])
        secs, gib = float(full["seconds"]) * k, float(full["peak_gib"]) * k
        if secs > BASELINE_TIMEOUT or gib > BASELINE_MAX_GIB:
            rows.append(extrapolated(secs, full, "the full fit", gib, skipped=(
                f"not run (predicted above {BASELINE_TIMEOUT / 60:.0f} min or {BASELINE_MAX_GIB:g} GiB): ")))
            return rows
    elif b_rows > BASELINE_MAX_ROWS_UNMEASURED:  # too large to try blind
        if sample is not None:
            rows.append(extrapolated(float(sample["seconds"]) * b_rows / int(sample["rows"]), sample,
                                     "the person-sample fit", skipped="not run: "))
            return rows
        return [*rows, *_sample_rows(persons, b_rows, mine, t_dml, total, extrapolated)]
    b = _run_baseline(persons)
    if b.get("seconds"):
        rows.append(_describe(b, mine, t_dml, total, fits=fits))
        return rows
    rows.append({**b, "rows": b_rows})  # did not finish: measure a person sample and extrapolate
    return [*rows, *_sample_rows(persons, b_rows, mine, t_dml, total, extrapolated)]


def _sample_rows(persons, b_rows, mine, t_dml, total, extrapolated) -> list[dict]:
    s = _run_baseline(persons, SAMPLE_ROWS)
    if not s.get("seconds"):
        return [s]
    src = {"persons": persons, "rows": s["rows"], "seconds": s["seconds"]}
    return [_describe(s, mine, t_dml, total, ratios=False),
            extrapolated(s["seconds"] * b_rows / s["rows"], src, "the person-sample fit above")]


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--baseline":
        sample = int(sys.argv[3]) if len(sys.argv) == 4 else None
        print("BASELINE " + json.dumps(fit_baseline(int(sys.argv[2]), sample)), flush=True)
    else:
        print(json.dumps(run(int(sys.argv[1])), indent=1, default=str))
