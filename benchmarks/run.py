"""Benchmarks: wall time and peak memory of each step at several register sizes.

`make bench` (or `python -m benchmarks.run --persons 20000,200000`) runs every case in its own
process, so peak memory (ru_maxrss from os.wait4) belongs to that case alone, and appends the
results to `benchmarks/results/results.csv`. Simulated inputs are written once per size to
`benchmarks/data/` (git-ignored) and reused.

A case is a module `benchmarks/bench_<name>.py` with `run(persons: int) -> list[dict]`; each
dict is one measurement (at least `case` and `seconds`; anything else is kept as a column).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "results.csv"
DATA = HERE / "data"
CASES = ("panel", "survival")


def simulated_input(persons: int, seed: int = 1) -> Path:
    """Input folder of a simulated register of this size (written once, then reused)."""
    folder = DATA / f"sim_{persons}_{seed}" / "input"
    if not (folder / "persons.parquet").exists():
        from reintegration_effects.simulate import simulate_municipality, write_simulation

        sim = simulate_municipality(n_persons=persons, seed=seed)
        write_simulation(sim, folder, fmt="parquet")
    return folder


def _child(case: str, persons: int) -> None:
    mod = importlib.import_module(f"benchmarks.bench_{case}")
    rows = mod.run(persons)
    print("RESULTS " + json.dumps(rows))


def run_case(case: str, persons: int) -> list[dict]:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.run", "--child", case, "--persons", str(persons)],
                            stdout=subprocess.PIPE, text=True, cwd=HERE.parent)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    rows = []
    for line in out.splitlines():
        if line.startswith("RESULTS "):
            rows = json.loads(line[len("RESULTS "):])
    if status != 0 or not rows:
        rows = [{"case": case, "error": f"exit status {status}"}]
    for r in rows:
        r.setdefault("persons", persons)
        r["process_seconds"] = round(wall, 1)
        r["process_peak_gib"] = round(usage.ru_maxrss / 2**20, 2)  # ru_maxrss is in KiB on Linux
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--persons", default="20000,200000,1000000")
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--child")
    args = p.parse_args(argv)
    sizes = [int(s) for s in str(args.persons).split(",")]
    if args.child:
        _child(args.child, sizes[0])
        return 0
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    for n in sizes:
        simulated_input(n)
        for case in args.cases.split(","):
            for row in run_case(case, n):
                row["when"] = stamp
                print(json.dumps(row))
                new = not RESULTS.exists()
                with RESULTS.open("a", newline="") as f:
                    keys = ["when", "case", "variant", "persons", "rows", "seconds", "process_seconds",
                            "process_peak_gib", "error", "note"]
                    w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
                    if new:
                        w.writeheader()
                    w.writerow(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
