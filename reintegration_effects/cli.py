"""Command line: `reintegration-effects run | validate | simulate`.

Bad input ends in a readable list of problems and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .dataset import DEFAULT_SEED
from .errors import DisclosureError, InputError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="reintegration-effects",
        description="Flows, survival and programme effects for people on bijstand.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="validate, build the panel, analyse and report")
    r.add_argument("--data", type=Path, help="input folder (default: the built-in simulated municipality)")
    r.add_argument("--out", type=Path, required=True, help="output folder")
    r.add_argument("--lang", choices=["nl", "en"], default="nl", help="report language (default nl)")
    r.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed for every stochastic step")
    r.add_argument("--persons", type=int, help="size of the simulated municipality when --data is absent")
    r.add_argument("--no-report", action="store_true", help="tables only: skip the HTML and PDF report")
    r.add_argument("--no-pdf", action="store_true", help="write report.html but not report.pdf")
    r.add_argument("--max-risk-set-rows", type=int, default=2_000_000,
                   help="row budget of the effects' risk sets: all starts plus a weighted random share of the "
                        "comparison pool (default 2,000,000; 0: no budget)")
    r.add_argument("--n-jobs", type=int, default=None,
                   help="concurrent independent fits (programmes, cross-fitting folds); -1 every CPU "
                        "(default: REINTEGRATION_N_JOBS, else 1); the numbers do not depend on it")
    r.add_argument("--backend", choices=["sequential", "loky", "threading", "ray", "dask"], default=None,
                   help="where they run (default: REINTEGRATION_BACKEND, else loky); see docs/scaling.md")

    v = sub.add_parser("validate", help="only read and check the input")
    v.add_argument("--data", type=Path, required=True, help="input folder")
    v.add_argument("--out", type=Path, help="write the cleaning log here")

    s = sub.add_parser("simulate", help="write a synthetic input folder and its true effects")
    s.add_argument("--out", type=Path, required=True, help="input folder to write (truth goes beside it)")
    s.add_argument("--persons", type=int, default=None, help="persons passing through bijstand")
    s.add_argument("--seed", type=int, default=DEFAULT_SEED)
    s.add_argument("--format", choices=["csv", "parquet"], default="csv")
    s.add_argument("--effects", choices=["heterogeneous", "constant"], default="heterogeneous")
    return p


def _cmd_validate(args) -> int:
    from .validate import load_input, write_cleaning_log

    data = load_input(args.data)
    print(f"{args.data}: usable. {len(data.persons):,} persons; window "
          f"{data.window_start:%Y-%m-%d} to {data.window_end:%Y-%m-%d}.")
    print(data.log.groupby(["table", "outcome"], observed=True)["rows"].sum().to_string())
    if args.out:
        print(f"cleaning log: {write_cleaning_log(data, args.out)}")
    return 0


def _cmd_simulate(args) -> int:
    from .simulate import simulate_municipality, write_simulation

    kwargs = {"seed": args.seed, "effects": args.effects}
    if args.persons:
        kwargs["n_persons"] = args.persons
    sim = simulate_municipality(**kwargs)
    data_dir, truth_dir = write_simulation(sim, args.out, fmt=args.format)
    print(f"input folder: {data_dir}\ntrue effects: {truth_dir}")
    return 0


def _cmd_run(args) -> int:
    import os

    from .parallel import ENV_N_JOBS, ParallelConfig
    from .pipeline import run

    out = args.out
    parallel = None
    if args.n_jobs is not None or args.backend is not None:  # the options win over the environment
        env = ParallelConfig.from_env()
        jobs = args.n_jobs if args.n_jobs is not None else (env.n_jobs if os.environ.get(ENV_N_JOBS) else None)
        parallel = ParallelConfig(n_jobs=jobs, backend=args.backend or env.backend)
    ctx = run(args.data, out, seed=args.seed, lang=args.lang, persons=args.persons,
              with_report=not args.no_report, with_pdf=not args.no_pdf,
              max_risk_set_rows=args.max_risk_set_rows or None, parallel=parallel)
    print("\nDone. Files written:")
    for p in ctx.outputs:
        print(f"  {p}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"run": _cmd_run, "validate": _cmd_validate, "simulate": _cmd_simulate}[args.command](args)
    except InputError as e:
        print(f"The input cannot be used.\n{e}", file=sys.stderr)
        return 2
    except DisclosureError as e:
        print(f"Output refused by disclosure control: {e}", file=sys.stderr)
        return 3
