"""Benchmarks: wall time and peak memory of each step at several register sizes.

`make bench` (or `python -m benchmarks.run --persons 20000,200000`) runs every case in its own
process, so peak memory (ru_maxrss from os.wait4) belongs to that case alone, and appends the
results to `benchmarks/results/results.csv`. Simulated inputs are written once per size to
`benchmarks/data/` (git-ignored) and reused.

A case is a module `benchmarks/bench_<name>.py` with `run(persons: int) -> list[dict]`; each
dict is one measurement (at least `case` and `seconds`; the columns of `KEYS` are kept, a
`method` is kept as the `variant`). `process_peak_gib` is the case process's ru_maxrss, which
covers the processes it started and waited for, but as the largest single one, not their sum;
a case that knows better (the whole run with its notebook kernels, a baseline in its own
process) puts its own figure in `peak_gib`.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "results.csv"
DATA = HERE / "data"
CASES = ("panel", "survival", "exit_design", "flows", "effects", "duration", "run")
KEYS = ["when", "case", "variant", "persons", "rows", "seconds", "process_seconds", "process_peak_gib",
        "peak_gib", "error", "note"]


def simulated_input(persons: int, seed: int = 1) -> Path:
    """Input folder of a simulated register of this size (written once, then reused)."""
    folder = DATA / f"sim_{persons}_{seed}" / "input"
    if not (folder / "persons.parquet").exists():
        from reintegration_effects.simulate import simulate_municipality, write_simulation

        sim = simulate_municipality(n_persons=persons, seed=seed)
        write_simulation(sim, folder, fmt="parquet")
    return folder


class TreeMemory(threading.Thread):
    """Largest sum of RSS over a process and its descendants, sampled every ``interval`` seconds.

    :meth:`mark` names the part that is running from now on (a step of the run); ``by_part``
    keeps, per name, the largest sum over the tree and the largest single process seen while it ran.
    """

    def __init__(self, pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak, self.max_procs = pid, interval, 0, 0
        self.part: str | None = None
        self.by_part: dict[str, list[int]] = {}  # name -> [largest sum, largest single process]
        self._halt = threading.Event()

    def mark(self, part: str) -> None:
        self.part = part

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._halt.is_set():
            total, n, largest = 0, 0, 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                total, n, largest = total + rss, n + 1, max(largest, rss)
            self.peak, self.max_procs = max(self.peak, total), max(self.max_procs, n)
            if self.part is not None:
                seen = self.by_part.setdefault(self.part, [0, 0])
                seen[0], seen[1] = max(seen[0], total), max(seen[1], largest)
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


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
        if "method" in r:  # bench_survival names its variants "method"
            r.setdefault("variant", r["method"])
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
                print(json.dumps(row, default=str))
                append_result(row)
    return 0


def append_result(row: dict, path: Path = RESULTS) -> None:
    """Append one row; a file written with fewer columns is rewritten with the current ones first."""
    if path.exists():
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            old = list(reader)
            header = reader.fieldnames or []
        if header != KEYS:
            with path.open("w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=KEYS, extrasaction="ignore")
                w.writeheader()
                w.writerows(old)
    new = not path.exists()
    with path.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=KEYS, extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow(row)


def previous_results(case: str, below: int, variant: str | None = None) -> list[dict]:
    """Rows of ``results.csv`` for this case (and variant) at fewer than ``below`` persons, with seconds."""
    if not RESULTS.exists():
        return []
    with RESULTS.open(newline="") as f:
        return [r for r in csv.DictReader(f) if r.get("case") == case and variant in (None, r.get("variant"))
                and r.get("seconds") and r.get("persons") and int(r["persons"]) < below]


if __name__ == "__main__":
    raise SystemExit(main())
