"""The whole run end to end, as a user runs it: ``reintegration-effects run --data IN --out OUT --no-pdf``.

The command runs in its own process on the simulated register of the given size, into a fresh
temporary output folder (so the panel is built, not taken from the cache; the folder is removed
afterwards). Rows:

- ``package: run --no-pdf (end to end)``: wall time of the command, start-up included.
  ``peak_gib``: the largest sum of resident memory over the command and its descendants (the
  report executes its notebooks in two Jupyter kernels, alongside the run's own process),
  sampled every 0.5 s; shared pages count once per process, so it errs on the high side.
  The note gives the largest single process (ru_maxrss from ``os.wait4``, which covers the
  kernels it reaped, but as a maximum, not a sum) and the targets at 1,000,000 persons.
- ``step: <name>``: each step's time as the run logs it (``[i/n] name ...`` then ``(x s)``), and
  ``other``: start-up, imports and the manifest (the rest of the wall time). ``peak_gib``: the
  largest sum over the process tree while the step ran (from its ``[i/n]`` line to the next), the
  note the largest single process then, so the run's peak can be placed in a step.

The PDF is left out (``--no-pdf``): the 1,000,000-person target is "end to end without the PDF".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run import DATA, TreeMemory, simulated_input

#: Targets of the end-to-end run, by persons: (seconds, GiB of the tree's peak). Issue 17: 200,000
#: persons under 4 minutes and 4 GiB, 1,000,000 under 8 minutes and 6 GiB (the national register
#: of the earlier scaling issue: 30 minutes and 16 GiB).
TARGETS = {200_000: (4 * 60, 4.0), 1_000_000: (8 * 60, 6.0)}
STEP = re.compile(r"^\[(\d+)/(\d+)\] (.+?) \.\.\.$")
DONE = re.compile(r"^\s+(.*) \(([\d.]+) s\)$")
PANEL_ROWS = re.compile(r"^([\d,]+) person-months")


def _command() -> list[str]:
    script = Path(sys.executable).parent / "reintegration-effects"
    return [str(script)] if script.exists() else [sys.executable, "-m", "reintegration_effects"]


def _against_truth(effects_csv: Path, truth_csv: Path) -> list[dict]:
    """The run's overall effects (group 'all') beside the simulator's true effects: is the answer
    at this size still right, not only fast? One row per method: largest error, share of 95%
    intervals covering the truth."""
    import pandas as pd

    if not (effects_csv.exists() and truth_csv.exists()):
        return []
    est = pd.read_csv(effects_csv)
    truth = pd.read_csv(truth_csv)[["programme", "group", "outcome", "estimate"]]
    m = est[est["group"] == "all"].merge(truth, on=["programme", "group", "outcome"], suffixes=("", "_truth"))
    rows = []
    for method, g in m.groupby("method", sort=True):
        if method == "naive" or g.empty:
            continue
        share = g[g["outcome"] != "months_bijstand_18m"]
        err = (share["estimate"] - share["estimate_truth"]).abs()
        cover = ((g["ci_lower"] <= g["estimate_truth"]) & (g["estimate_truth"] <= g["ci_upper"])).mean()
        z = ((g["estimate"] - g["estimate_truth"]) / g["std_error"]).abs()
        rows.append({"case": "run", "variant": f"check: {method} vs simulated truth (group all)",
                     "note": f"{len(g)} programme x outcome effects; largest error on the share outcomes "
                             f"{err.max() * 100:.2f} points; 95% intervals covering the truth {cover:.0%}; "
                             f"largest |z| {z.max():.2f}"})
    return rows


def run(persons: int) -> list[dict]:
    folder = simulated_input(persons)
    DATA.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=f"run_{persons}_", dir=DATA))
    log: list[str] = []
    try:
        t0 = time.perf_counter()
        # a cache folder of its own (removed with out), so the panel is built, never reused
        proc = subprocess.Popen([*_command(), "run", "--data", str(folder), "--out", str(out / "run"), "--no-pdf",
                                 "--cache", str(out / "cache")],
                                stdout=subprocess.PIPE, text=True, bufsize=1)
        sampler = TreeMemory(proc.pid)
        sampler.start()
        sampler.mark("other (start-up, imports, manifest)")
        for line in proc.stdout:
            log.append(line.rstrip("\n"))
            if m := STEP.match(log[-1]):
                sampler.mark(m.group(3))
            elif log[-1].startswith("Done."):
                sampler.mark("other (start-up, imports, manifest)")
            print(line, end="", file=sys.stderr)  # progress on the terminal; stdout carries the results
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        wall = time.perf_counter() - t0
        tree_peak = sampler.stop() / 2**30
        truth_rows = _against_truth(out / "run" / "tables" / "effects.csv", folder.parent / "input_truth" / "true_effects.csv")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if status != 0:
        return [{"case": "run", "variant": "package: run --no-pdf (end to end)", "seconds": round(wall, 1),
                 "error": f"exit status {proc.returncode}", "note": " | ".join(log[-3:])}]

    steps: list[list] = []  # [name, seconds]
    person_months = None
    for line in log:
        if m := STEP.match(line):
            steps.append([m.group(3), None])
        elif (m := DONE.match(line)) and steps:
            steps[-1][1] = float(m.group(2))
            if steps[-1][0] == "monthly status panel" and (pm := PANEL_ROWS.match(m.group(1))):
                person_months = int(pm.group(1).replace(",", ""))
    def memory(name: str) -> dict:
        if name not in sampler.by_part:
            return {}
        total, largest = sampler.by_part[name]
        return {"peak_gib": round(total / 2**30, 2),
                "note": f"peak_gib: largest sum over the process tree during the step; largest single process "
                        f"{largest / 2**30:.2f} GiB"}

    rows = [{"case": "run", "variant": f"step: {name}", "rows": person_months, "seconds": secs, **memory(name)}
            for name, secs in steps]
    rows += [{**r, "rows": person_months} for r in truth_rows]
    rest = wall - sum(s or 0 for _, s in steps)
    other = "other (start-up, imports, manifest)"
    rows.append({"case": "run", "variant": f"step: {other}", "rows": person_months, "seconds": round(rest, 1),
                 **memory(other)})
    single = usage.ru_maxrss / 2**20
    verdict = ""
    if persons in TARGETS:
        secs, gib = TARGETS[persons]
        ok = wall <= secs and tree_peak < gib
        verdict = f"; target {secs / 60:.0f} min and {gib:g} GiB: {'met' if ok else 'NOT met'}"
    rows.append({"case": "run", "variant": "package: run --no-pdf (end to end)", "rows": person_months,
                 "seconds": round(wall, 1), "peak_gib": round(tree_peak, 2),
                 "note": f"peak_gib: sum over up to {sampler.max_procs} processes (run and notebook kernels), "
                         f"sampled; largest single process {single:.2f} GiB; parallel fits: "
                         f"REINTEGRATION_N_JOBS={os.environ.get('REINTEGRATION_N_JOBS') or '-1, every CPU (unset)'}, "
                         f"REINTEGRATION_BACKEND={os.environ.get('REINTEGRATION_BACKEND') or 'loky (unset)'}"
                         f"{verdict}"})
    return rows
