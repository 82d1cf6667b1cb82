"""Command line: `reintegration-effects run | render | validate | simulate | verify`.

No traceback for a user error: every failure ends in one message with the fix. Exit status:
0 done; 1 an internal error (the traceback goes to a log file whose path is printed); 2 bad input,
a bad setting or a file-system problem (a folder that cannot be written, a full disk); 3 output
refused by disclosure control; 130 interrupted (Ctrl-C; temporary files removed, OUT unchanged).
``verify`` exits 1 when files differ from the manifest.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .dataset import DEFAULT_SEED
from .errors import DisclosureError, InputError
from .manifest import RunError

EXIT_OK, EXIT_INTERNAL, EXIT_USER, EXIT_DISCLOSURE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _int_at_least(minimum: int, *, allow: tuple[int, ...] = (), meaning: str = ""):
    """An argparse type: a whole number >= ``minimum`` (or one of ``allow``)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum and value not in allow:
            raise argparse.ArgumentTypeError(f"{value} is too small: {meaning or f'use {minimum} or more'}")
        return value
    return parse


def _n_jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0 runs nothing: use 1 for one fit at a time, 2 or more for that many, "
                                         "-1 for every CPU")
    return value


def _languages(text: str) -> list[str]:
    """An argparse type: ``nl``, ``en`` or several separated by commas (``nl,en``), each once."""
    from .pipeline import parse_languages

    try:
        return parse_languages(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _date(text: str):
    from datetime import date

    if text == "today":
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD, or today") from None


class _Parser(argparse.ArgumentParser):
    """argparse that says how to get help and exits with status 2 (its own default, kept)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER, f"{self.prog}: error: {message}\nFix: correct the option; "
                             f"`{self.prog} --help` lists them.\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="reintegration-effects",
        description="Flows, survival and programme effects for people on bijstand.",
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="validate, build the panel, analyse and report")
    r.add_argument("--data", type=Path, help="input folder (default: the built-in simulated municipality)")
    r.add_argument("--out", type=Path, required=True, help="output folder")
    r.add_argument("--lang", type=_languages, default=None, metavar="LANG[,LANG]",
                   help="report language(s): nl, en, or nl,en for both from one run (the first is report.html/"
                        ".pdf, each other report.LANG.html/.pdf); default: study.toml's lang, else nl")
    r.add_argument("--seed", type=_int_at_least(0), default=DEFAULT_SEED, help="random seed for every stochastic step")
    r.add_argument("--persons", type=_int_at_least(10, meaning="the simulator needs at least 10 persons"),
                   help="size of the simulated municipality when --data is absent (at least 10)")
    r.add_argument("--no-report", action="store_true", help="tables only: skip the HTML and PDF report")
    r.add_argument("--no-pdf", action="store_true", help="write report.html but not report.pdf")
    r.add_argument("--max-risk-set-rows", type=_int_at_least(0, meaning="use 0 for no budget, or a number of rows"),
                   default=2_000_000,
                   help="row budget of the effects' risk sets: all starts plus a weighted random share of the "
                        "comparison pool (default 2,000,000; 0: no budget)")
    r.add_argument("--dml-repetitions", type=_int_at_least(1), default=None,
                   help="independent cross-fitting splits of the double-ML estimate (median over splits; their "
                        "spread enters the standard error); default 3, measured best (docs/validation.md)")
    r.add_argument("--n-jobs", type=_n_jobs, default=None,
                   help="concurrent independent fits (programmes, cross-fitting folds); -1 every CPU "
                        "(default: REINTEGRATION_N_JOBS, else every CPU); the numbers do not depend on it")
    r.add_argument("--backend", choices=["sequential", "loky", "threading", "ray", "dask"], default=None,
                   help="where they run (default: REINTEGRATION_BACKEND, else loky); see docs/scaling.md")
    r.add_argument("--cache", type=Path, default=None,
                   help="folder of the monthly panel cache, person-level data kept outside --out "
                        "(default: .reintegration-cache beside the output folder)")

    g = sub.add_parser("render", help="make the report again from a finished run's tables (nothing recomputed)")
    g.add_argument("--out", type=Path, required=True, help="output folder of a finished run")
    g.add_argument("--lang", type=_languages, default=None, metavar="LANG[,LANG]",
                   help="language(s) to make, e.g. en or nl,en (default: the run's); the run's first language "
                        "is report.html/.pdf, any other report.LANG.html/.pdf")
    g.add_argument("--no-pdf", action="store_true", help="HTML only (a PDF of that language made before is removed)")
    g.add_argument("--date", type=_date, default=None, metavar="YYYY-MM-DD",
                   help="date on the report (default: the run's report date, so the same tables give the same "
                        "files; 'today' for today)")

    v = sub.add_parser("validate", help="only read and check the input")
    v.add_argument("--data", type=Path, required=True, help="input folder")
    v.add_argument("--out", type=Path, help="write the cleaning log here")

    s = sub.add_parser("simulate", help="write a synthetic input folder and its true effects")
    s.add_argument("--out", type=Path, required=True, help="input folder to write (truth goes beside it)")
    s.add_argument("--persons", type=_int_at_least(10, meaning="the simulator needs at least 10 persons"),
                   default=None, help="persons passing through bijstand (at least 10)")
    s.add_argument("--seed", type=_int_at_least(0), default=DEFAULT_SEED)
    s.add_argument("--format", choices=["csv", "parquet"], default="csv")
    s.add_argument("--effects", choices=["heterogeneous", "constant"], default=None,
                   help="programme effects (default heterogeneous; constant with --unobserved-heterogeneity)")
    s.add_argument("--unobserved-heterogeneity", action="store_true",
                   help="the frailty that raises the exit-to-work hazard also raises programme take-up "
                        "(selection on an unobservable; the timing-of-events validation, issue 14b)")
    s.add_argument("--participation", action="store_true",
                   help="also write participation.csv (volunteering, education, ...) with a true effect of the "
                        "participation programme on participating_18m and volunteering_18m (issue 16b)")
    s.add_argument("--truth-months", type=_int_at_least(1, meaning="a positive number of months"), default=None,
                   help="also write <out>_truth/true_curves.csv and true_rmst.csv: the true effect curves of every "
                        "start in the window over this many months (e.g. 36; issue 14a); the input is unchanged")
    s.add_argument("--municipalities", type=_int_at_least(1, meaning="at least one municipality"), default=1,
                   help="simulate K municipalities with known effects on exit to work and different populations "
                        "(benefits gets a municipality column; the truth in <out>_truth/municipalities.csv); "
                        "--persons is then the total (issue 16a; default 1: no municipality column)")

    f = sub.add_parser("verify", help="check an output folder against its manifest.json (exit 0: every hash matches)")
    f.add_argument("out", type=Path, help="output folder of a run")
    return p


def _cmd_verify(args) -> int:
    from .manifest import COMPLETE, verify

    result = verify(args.out)
    lines = []
    if result.status is None:
        lines.append("manifest.json has no status: written by an older version of the package, which cannot "
                     "vouch for the folder")
    elif result.status != COMPLETE:
        lines.append(f"manifest.json has status {result.status!r}, not {COMPLETE!r}: the run did not finish")
    for label, names in (("changed (hash differs)", result.changed), ("missing", result.missing),
                         ("extra (not in the manifest)", result.extra)):
        lines += [f"  {label}: {n}" for n in names]
    if result.ok:
        print(f"{args.out}: all {result.checked} files match manifest.json.")
        return EXIT_OK
    print(f"{args.out}: does NOT match manifest.json.", file=sys.stderr)
    print("\n".join(lines), file=sys.stderr)
    print("Fix: run again into a new folder, or restore the files from the original run.", file=sys.stderr)
    return EXIT_INTERNAL


def _cmd_validate(args) -> int:
    from .outputs import write_cleaning_log
    from .validate import load_input

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
    if getattr(args, "unobserved_heterogeneity", False):
        kwargs["unobserved_heterogeneity"] = True
    if getattr(args, "participation", False):
        kwargs["participation"] = True
    if getattr(args, "truth_months", None) is not None:
        kwargs["truth_months"] = args.truth_months
    if args.persons is not None:
        kwargs["n_persons"] = args.persons
    if getattr(args, "municipalities", 1) > 1:
        from .simulate.municipalities import simulate_municipalities, write_municipalities

        sim, truth = simulate_municipalities(args.municipalities, **kwargs)
        data_dir, truth_dir = write_municipalities(sim, truth, args.out, fmt=args.format)
        print(f"input folder: {data_dir}\ntrue effects: {truth_dir}")
        return 0
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
    try:
        env = ParallelConfig.from_env()  # checked before the run starts, not when the manifest is written
    except ValueError as e:
        raise RunError(str(e), "correct or unset the environment variable (or pass --n-jobs / --backend)") from None
    if args.n_jobs is not None or args.backend is not None:  # the options win over the environment
        jobs = args.n_jobs if args.n_jobs is not None else (env.n_jobs if os.environ.get(ENV_N_JOBS) else -1)
        parallel = ParallelConfig(n_jobs=jobs, backend=args.backend or env.backend)
    ctx = run(args.data, out, seed=args.seed, lang=args.lang, persons=args.persons,
              with_report=not args.no_report, with_pdf=not args.no_pdf,
              max_risk_set_rows=args.max_risk_set_rows or None, parallel=parallel, cache=args.cache,
              dml_repetitions=args.dml_repetitions, stop_requested=args.stop_requested)
    print("\nDone. Files written:")
    for p in ctx.outputs:
        print(f"  {p}")
    return 0


def _cmd_render(args) -> int:
    from .pipeline import render

    t0 = time.perf_counter()
    files = render(args.out, lang=args.lang, with_pdf=not args.no_pdf, report_date=args.date,
                   stop_requested=args.stop_requested)
    print(f"\nDone in {time.perf_counter() - t0:.1f} s. Report files written (manifest.json updated):")
    for p in files:
        print(f"  {p}")
    return 0


def _os_error_message(e: OSError) -> str:
    where = f" ({e.filename})" if e.filename else ""
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        fix = "free disk space (or choose an --out / --cache on another disk) and run again"
    elif isinstance(e, PermissionError) or e.errno == errno.EROFS:
        fix = ("choose folders you can write to (--out, --cache), or ask for write access; on Windows, also "
               "close programs that hold a file of the output folder open (Excel locks the CSVs it shows)")
    elif isinstance(e, NotADirectoryError | FileExistsError):
        fix = "a file stands where a folder is needed: choose another path, or move the file"
    elif isinstance(e, FileNotFoundError):
        fix = "check that the path exists (and was not removed while the run was going on)"
    else:
        fix = "check the path and the disk, then run again"
    return f"File system error: {e.strerror or e}{where}.\nFix: {fix}."


def _log_dir(args) -> Path:
    """Where an internal error's traceback goes: the panel cache's folder (outside OUT), else the temp folder."""
    if getattr(args, "command", None) in ("run", "render") and getattr(args, "out", None) is not None:
        from .pipeline import default_cache_dir

        cache = getattr(args, "cache", None)
        return (Path(cache) if cache is not None else default_cache_dir(args.out)) / "logs"
    return Path(tempfile.gettempdir()) / "reintegration-effects-logs"


def _write_log(args, argv) -> Path | None:
    text = (f"reintegration-effects {' '.join(map(str, argv if argv is not None else sys.argv[1:]))}\n"
            f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n\n{traceback.format_exc()}")
    name = f"error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in (_log_dir(args), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
            return folder / name
        except OSError:
            continue
    return None


class _Terminated(BaseException):
    """SIGTERM: unwinds like Ctrl-C so the temporary folder and the lock are removed."""


def _on_sigterm(signum, frame):
    raise _Terminated()


class _CtrlC:
    """Ctrl-C (SIGINT) raises KeyboardInterrupt as Python's own handler does, and is remembered: a
    library that swallowed the exception (a bare ``except:``) could not make the run go on to the
    end, since the run checks :meth:`requested` after every step and before the commit. A SIGINT
    that was ignored when the command started (a background job) stays ignored, as in Python."""

    def __init__(self):
        self.seen = False

    def __call__(self, signum, frame):
        self.seen = True
        raise KeyboardInterrupt

    def requested(self) -> bool:
        return self.seen


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"run": _cmd_run, "render": _cmd_render, "validate": _cmd_validate, "simulate": _cmd_simulate,
                "verify": _cmd_verify}
    previous = previous_int = None
    ctrl_c = _CtrlC()
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # started in the background: stays ignored
            previous_int = signal.signal(signal.SIGINT, ctrl_c)
    except ValueError:  # not the main thread
        pass
    args.stop_requested = ctrl_c.requested
    try:
        return commands[args.command](args)
    except InputError as e:
        print(f"The input cannot be used.\n{e}", file=sys.stderr)
        return EXIT_USER
    except RunError as e:
        print(f"Cannot {args.command}: {e}", file=sys.stderr)
        return EXIT_USER
    except DisclosureError as e:
        print(f"Output refused by disclosure control: {e}", file=sys.stderr)
        return EXIT_DISCLOSURE
    except OSError as e:
        print(_os_error_message(e), file=sys.stderr)
        return EXIT_USER
    except (KeyboardInterrupt, _Terminated) as e:
        what = "Interrupted" if isinstance(e, KeyboardInterrupt) else "Stopped (SIGTERM)"
        done = (f" Temporary files removed; the output folder is as it was before the {args.command}."
                if args.command in ("run", "render") else "")
        print(f"\n{what}.{done}", file=sys.stderr)
        return EXIT_INTERRUPTED if isinstance(e, KeyboardInterrupt) else 128 + signal.SIGTERM
    except Exception as e:  # noqa: BLE001 - a bug: the traceback goes to a log, the user gets one line
        log = _write_log(args, argv)
        where = f"The details are in {log}" if log else "The details could not be written to a log file"
        print(f"Internal error ({type(e).__name__}: {e}). This is a bug in reintegration-effects, not in "
              f"your input.\n{where}; please report it with that file and the command you ran (check the file for confidential values first).",
              file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)
