"""`reintegration-effects run`: the steps from input folder to output folder, in order.

Each step takes the run context and adds to it; later issues add flows, survival, effects and
the report as further steps of the same list.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .dataset import InputData, StudySettings
from .manifest import RunError, RunFolder, write_manifest
from .panel import Panel, load_or_build_panel

#: Name of the default panel cache folder, made beside OUT (see :func:`default_cache_dir`).
CACHE_FOLDER = ".reintegration-cache"


def default_cache_dir(out: str | Path) -> Path:
    """``<OUT>/../.reintegration-cache``: beside the output folder, never inside it.

    The panel cache is person-level data: it must not end up in OUT, the folder a researcher
    submits for the output check. Beside OUT it stays in the project folder (the same file
    system, the same access rules as the work that reads the microdata, not a home directory),
    is shared by every OUT in that folder (keyed by the input's fingerprint) and is easy to see
    and delete.
    """
    return Path(out).resolve().parent / CACHE_FOLDER


@dataclass
class RunContext:
    """What the steps share: settings, the validated data, the panel and the files written."""

    data_dir: Path
    out: Path
    seed: int
    lang: str  # the first report language: the language of the sentences in the tables
    study_overrides: StudySettings | None = None
    simulated: bool = False
    truth_dir: Path | None = None
    data: InputData | None = None
    panel: Panel | None = None
    panel_reused: bool = False
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    echo: Callable[[str], None] = print
    max_risk_set_rows: int | None = 2_000_000
    dml_repetitions: int | None = None  # fold splits of the double-ML fit (None: the estimator's default)
    parallel: object = None  # a parallel.ParallelConfig; None: the environment decides
    cache_dir: Path | None = None  # the panel cache (None: default_cache_dir(out))

    @property
    def tables_dir(self) -> Path:
        d = self.out / "tables"
        d.mkdir(parents=True, exist_ok=True)
        return d


def step_validate(ctx: RunContext) -> str:
    from .outputs import write_cleaning_log
    from .validate import load_input

    ctx.data = load_input(ctx.data_dir, study=ctx.study_overrides)
    ctx.outputs.append(write_cleaning_log(ctx.data, ctx.out))
    d = ctx.data
    return (f"{len(d.persons):,} persons, {len(d.benefits):,} benefit, {len(d.jobs):,} job and "
            f"{len(d.programmes):,} programme spells; window {d.window_start:%Y-%m-%d} to "
            f"{d.window_end:%Y-%m-%d}"
            + (f"; {len(d.participation):,} participation spells" if d.participation is not None else ""))


def step_panel(ctx: RunContext) -> str:
    cache = ctx.cache_dir if ctx.cache_dir is not None else default_cache_dir(ctx.out)
    ctx.panel, folder, ctx.panel_reused = load_or_build_panel(ctx.data, cache, echo=ctx.echo)
    how = "reused cache" if ctx.panel_reused else ("built and cached" if folder.exists() else "built, not cached")
    return f"{len(ctx.panel.months):,} person-months, {len(ctx.panel.spells):,} bijstand spells ({how}: {folder})"


def _write(ctx: RunContext, tables: dict) -> list[Path]:
    """Write every DataFrame in ``tables`` through the disclosure gate (outputs.write_table)."""
    from .outputs import write_table

    written = []
    for name, df in tables.items():
        if isinstance(df, pd.DataFrame):
            written.append(write_table(ctx.out, name, df))
    ctx.outputs.extend(written)
    return written


def step_monitor(ctx: RunContext) -> str:
    """Flows at the horizons, typology, re-entry, job quality and career clusters.

    Tables that the data cannot fill (no cohort whose follow-up fits the window, too few exits to
    work for career clusters) are written empty, or left out, with a line in the run log saying why.
    """
    import warnings

    from .careers import career_tables
    from .errors import InsufficientDataError, StatisticalWarning
    from .flows import build_cohorts, flows, flows_by_group, flows_overig, programmes_table, transitions
    from .typology import typology_tables

    study = ctx.data.study
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatisticalWarning)
        cs = build_cohorts(ctx.data, ctx.panel, cohorts=study.cohorts, horizons=study.horizons, groups=study.groups)
        tables = {"flows": flows(cs), "flows_overig": flows_overig(cs), "flows_by_group": flows_by_group(cs),
                  "transitions": transitions(cs)}
        tables.update(typology_tables(ctx.data, ctx.panel, cs))
    cohort_notes = [str(w.message) for w in caught if issubclass(w.category, StatisticalWarning)]
    empty = [name for name, df in tables.items() if isinstance(df, pd.DataFrame) and df.empty]
    if empty and cohort_notes and not len(cs.members):  # the warnings say why there is nobody
        ctx.notes.append(InsufficientDataError("; ".join(cohort_notes)).note(empty))
    else:
        ctx.notes.extend(cohort_notes)
        if empty:
            ctx.notes.append(InsufficientDataError(
                f"no cohort member fills these tables ({len(cs.cohorts)} cohort(s))").note(empty))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatisticalWarning)
        careers, _ = career_tables(ctx.data, ctx.panel, random_state=ctx.seed)
    career_notes = [str(w.message) for w in caught if issubclass(w.category, StatisticalWarning)]
    if not careers:
        ctx.notes.append(InsufficientDataError("; ".join(career_notes) or "no career sequences").note(
            ("career_clusters", "career_quality", "career_state_shares", "career_typical", "career_profile")))
    else:
        ctx.notes.extend(career_notes)
    careers.pop("career_medoids", None)  # a medoid is one real person's sequence: not published
    tables.update(careers)
    tables["programmes"] = programmes_table(ctx.data)  # names, descriptions, costs (study.toml), participants
    if ctx.data.participation is not None:  # issue 16b: only with a participation table (else no file, no note)
        from .participation import participation_table

        tables["participation"] = participation_table(cs, ctx.data)
    if tables["programmes"].empty:
        ctx.notes.append(InsufficientDataError("the input has no programmes").note(("programmes",)))
    written = _write(ctx, tables)
    _note_empty_outputs(ctx, written)
    n_cohorts = tables["flows"]["cohort"].nunique()
    return f"{n_cohorts} cohorts; {len(written)} tables written"


def step_effects(ctx: RunContext) -> str:
    """Programme effects: naive, matching and double ML on the dynamic risk sets.

    Parts that too few participants cannot support (a method, the heterogeneity analysis, or
    everything when no programme start has a full follow-up) are left out with a line in the
    run log (``ctx.notes``) that the report quotes.
    """
    from dataclasses import replace

    from .duration_effects import duration_tables
    from .effects import build_risk_sets, estimate_effects
    from .errors import InsufficientDataError
    from .heterogeneity import HeterogeneityAnalysis
    from .outputs import protect_table
    from .plain_language import add_sensitivity_sentences, plain_language

    het_tables = ("effects_blp", "effects_calibration", "effects_heterogeneity", "policy")
    risk = build_risk_sets(ctx.panel, ctx.data, max_rows=ctx.max_risk_set_rows, random_state=ctx.seed)
    used = set(risk.frame.loc[risk.frame["treatment"] != "none", "treatment"])
    unused = [p for p in risk.programmes if p not in used]
    if unused and used:
        ctx.notes.append(InsufficientDataError(
            f"programme(s) {', '.join(unused)}: no start with the 18-month follow-up inside the window; left out"
        ).note(("effects",)))
    risk = replace(risk, programmes=[p for p in risk.programmes if p in used])
    if not risk.programmes or not (risk.frame["treatment"] == "none").any():
        reason = ("no programme start has the 18-month follow-up the outcomes need inside the window "
                  f"{ctx.data.window_start:%Y-%m-%d} to {ctx.data.window_end:%Y-%m-%d}" if not risk.programmes
                  else "no person-month on bijstand without a programme start: no comparison pool")
        ctx.notes.append(InsufficientDataError(reason).note(
            ("effects", "effects_balance", "effects_overlap", "effects_propensity", "effects_sensitivity",
             *het_tables, "effects_plain_language")))
        if isinstance(risk.log, pd.DataFrame) and len(risk.log):
            _write(ctx, {"risk_set_log": risk.log})
        return f"{reason}: no effects estimated"
    het_model = HeterogeneityAnalysis(random_state=ctx.seed)
    # the sensitivity bounds on the headline dml fit itself (same nuisances, rows and estimate as effects.csv)
    extra = {} if ctx.dml_repetitions is None else {"n_rep": ctx.dml_repetitions}
    tables = estimate_effects(risk, random_state=ctx.seed, parallel=ctx.parallel,
                              sensitivity_outcomes=(het_model.outcome,), **extra)
    tables.pop("results")
    ctx.notes.extend(tables.pop("notes", []))
    if isinstance(tables.get("effects_sensitivity"), pd.DataFrame) and len(tables["effects_sensitivity"]):
        tables["effects_sensitivity"] = add_sensitivity_sentences(tables["effects_sensitivity"], lang=ctx.lang,
                                                                  alpha=het_model.alpha)
    else:  # the bounds belong to the double-ML estimates of group "all": none, no bounds
        tables.pop("effects_sensitivity", None)
        ctx.notes.append(InsufficientDataError(
            "no double-ML estimate of a programme's overall effect (the sensitivity bounds are computed on it)"
        ).note(("effects_sensitivity",)))
    try:
        het = het_model.fit(risk)
    except InsufficientDataError as e:  # too few participants per programme for the effect modifiers
        ctx.notes.append(e.note(het_tables))
    else:
        frames = het.to_frames()
        frames.pop("effects_sensitivity")  # its own first stage's bounds: the run publishes the headline's
        tables.update(frames)
    try:  # issue 14a: effect curves (effects_curves) and the restricted mean time on bijstand (effects)
        curves, rmst, rmst_sens = duration_tables(ctx.panel, ctx.data, random_state=ctx.seed, parallel=ctx.parallel,
                                                  max_rows=ctx.max_risk_set_rows)
    except InsufficientDataError as e:
        ctx.notes.append(e.note(("effects_curves",)))
    else:
        tables["effects_curves"] = curves
        tables["effects"] = pd.concat([tables["effects"], rmst], ignore_index=True)
        if len(rmst_sens):  # issue 14c: the omitted-variable bounds of the restricted means, beside the headline's
            rmst_sens = add_sensitivity_sentences(rmst_sens, lang=ctx.lang, alpha=het_model.alpha)
            tables["effects_sensitivity"] = pd.concat(
                [x for x in (tables.get("effects_sensitivity"), rmst_sens) if isinstance(x, pd.DataFrame) and len(x)],
                ignore_index=True)
    if ctx.simulated and ctx.truth_dir is not None:  # the built-in municipality: its true effects, for the report
        truth = pd.read_csv(Path(ctx.truth_dir) / "true_effects.csv")
        rmst = Path(ctx.truth_dir) / "true_rmst.csv"  # issue 14a: the restricted means over all starts
        if rmst.is_file():
            truth = pd.concat([truth, pd.read_csv(rmst)], ignore_index=True)
        tables["effects_truth"] = truth[["programme", "group", "outcome", "method", "estimate", "n_treated"]].rename(
            columns={"estimate": "truth"})
    written = _write(ctx, tables)
    protected, _ = protect_table("effects", tables["effects"])  # sentences only from published cells
    written += _write(ctx, {"effects_plain_language": plain_language(protected, lang=ctx.lang)})
    _note_empty_outputs(ctx, written)
    n_t = int((risk.frame["treatment"] != "none").sum())
    w = risk.frame.loc[risk.frame["treatment"] == "none", "weight"]
    thinned = f" (comparison pool thinned to 1 in {w.iloc[0]:.1f}, weighted)" if len(w) and w.iloc[0] > 1 else ""
    return f"{len(risk.programmes)} programmes, {n_t:,} starts, {len(risk.frame):,} risk-set rows{thinned}"


def step_survival(ctx: RunContext) -> str:
    """Kaplan-Meier, cumulative incidence, cause-specific and time-varying Cox models."""
    import warnings

    from .disclosure import check_model_output
    from .errors import DisclosureError, InsufficientDataError, StatisticalWarning
    from .survival import survival_tables

    with warnings.catch_warnings(record=True) as caught:  # curves of groups too small to estimate
        warnings.simplefilter("always", StatisticalWarning)
        out = survival_tables(ctx.panel, ctx.data)
    curve_notes = [str(w.message) for w in caught if issubclass(w.category, StatisticalWarning)]
    for n in curve_notes:  # groups left out of a curve table that has others: a partial skip
        table, _, why = n.partition(": ")
        if table in out and len(out[table]):
            ctx.notes.append(InsufficientDataError(why).note([f"{table} (some groups)"]))
        elif table not in out:
            ctx.notes.append(n)
    results = out.pop("results")
    model_notes = out.pop("notes")
    ctx.notes.extend(model_notes)
    for name, r in list(results.items()):
        n_obs = int(r.summary["n"].max()) if "n" in r.summary and len(r.summary) else 0
        try:
            check_model_output(n_obs, len(r.summary), name=name)
        except DisclosureError:  # too few observations for its terms: left out, not published
            results.pop(name)
            ctx.notes.append(InsufficientDataError(  # in words: the counts themselves may be small
                f"model '{name}': too few observations for its {len(r.summary)} terms (the disclosure rules ask "
                f"for at least 10 residual degrees of freedom)").note(_drop_model(out, name)))
    empty: dict[str, list[str]] = {}  # reason -> tables left empty for it
    for table in ("km", "medians", "cumulative_incidence", "reentry_km", "hazards"):
        if not len(out.get(table, ())):
            if table == "hazards":
                why = [n for n in model_notes if "dropped" not in n] or ["no model could be fitted"]
                tables = ["hazards", "cause_specific", "ph_tests", "immortal_time"]
            else:
                why = [n.partition(": ")[2] for n in curve_notes if n.startswith(f"{table}:")] or [
                    "no bijstand spell has a month of follow-up inside the window" if table != "reentry_km"
                    else "no exit from bijstand with a month of follow-up"]
                tables = [table]
            empty.setdefault("; ".join(n.rstrip(". ") for n in why), []).extend(tables)
    ctx.notes.extend(InsufficientDataError(reason).note(tables) for reason, tables in empty.items())
    toe = _timing_of_events(ctx, out)
    _note_empty_outputs(ctx, _write(ctx, out))
    hz = out["hazards"]
    bench = _benchmark(ctx)
    return (f"{len(results)} hazard models, {len(hz)} terms; curves for {out['km']['group'].nunique()} groups"
            + toe + bench)


def _timing_of_events(ctx: RunContext, out: dict) -> str:
    """Issue 14b: the timing-of-events model on the inflow sample: its exit-to-work terms join
    ``hazards`` (model ``timing_of_events``) and its heterogeneity and implied effects go to
    ``timing_of_events``; a run-log line says how many spells were left out (initial conditions).
    A model that cannot be fitted is skipped with a run-log line. Returns a piece of the summary."""
    import math
    import warnings

    from .disclosure import check_model_output
    from .errors import DisclosureError, InsufficientDataError, StatisticalWarning
    from .survival.toe_frame import RUN_SETTINGS, fit_panel, hazard_rows, implied_effects, toe_table

    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", StatisticalWarning)
            res, info = fit_panel(ctx.panel, ctx.data, **RUN_SETTINGS)
            check_model_output(res.n_persons, len(res.params_), name="timing_of_events")
            if not all(map(math.isfinite, res.standard_errors_)):
                raise ValueError(f"{res.n_persons:,} persons in the inflow sample are too few for its "
                                 f"{len(res.params_)} parameters (the information matrix is singular)")
            implied = implied_effects(res)
    except ValueError as e:  # too few starts or spells, a singular model, or refused by the model rule
        why = str(e) if not isinstance(e, DisclosureError) else f"too few persons for its parameters ({e})"
        ctx.notes.append(InsufficientDataError(f"timing-of-events model not fitted: {why}").note(
            ["timing_of_events", "hazards (timing_of_events rows)"]))
        return "; timing-of-events model skipped"
    ctx.notes.extend(f"timing_of_events: {str(w.message).removeprefix('timing_of_events: ')}" for w in caught
                     if issubclass(w.category, StatisticalWarning))
    ctx.notes.append(f"timing_of_events: inflow sample of {info['spells']:,} spells; {info['spells_left_out']:,} spells "
                     "already running at the window start left out (initial-conditions problem)")
    out["hazards"] = pd.concat([out["hazards"], hazard_rows(res)], ignore_index=True)
    out["timing_of_events"] = toe_table(res, implied)
    secs = time.perf_counter() - t0
    ctx.echo(f"    timing-of-events model: {res.n_points} mass point(s), {res.n_persons:,} persons, "
             f"{'converged' if res.converged else 'NOT converged'}, {secs:.1f} s")
    return f"; timing-of-events model with {res.n_points} mass point(s)"


def _benchmark(ctx: RunContext) -> str:
    """Issue 16a: the municipality benchmark (``benchmark.csv``) when benefits has a municipality
    column; otherwise a run-log note that it is absent. Returns a piece of the step's summary."""
    from .benchmark import benchmark_frame, benchmark_results, benchmark_table, has_municipalities

    if not has_municipalities(ctx.data):
        ctx.notes.append("benchmark: the benefits table has no municipality column, so there is no municipality "
                         "benchmark (benchmark.csv is not written)")
        return ""
    study = ctx.data.study
    frame = benchmark_frame(ctx.data, ctx.panel)
    n_munis = frame["municipality"].dropna().nunique()
    if n_munis < 2:
        ctx.notes.append(f"benchmark: {n_munis} municipality in the benefits table; a benchmark needs at least two "
                         f"(benchmark.csv is not written)")
        return ""
    results = benchmark_results(frame, own=study.own_municipality,
                                benchmark=study.benchmark if isinstance(study.benchmark, list) else None,
                                random_state=ctx.seed)
    _write(ctx, {"benchmark": benchmark_table(results)})
    return f"; benchmark of {n_munis} municipalities"


def _note_empty_outputs(ctx: RunContext, written: list[Path]) -> None:
    """A run-log line for each table written without rows that no earlier line explains: every row
    was too small to publish (or, for a curve, none of its time points is a published one)."""
    from .errors import InsufficientDataError

    explained = {t.split(" ")[0] for n in ctx.notes for t in (InsufficientDataError.parse_note(n) or ((), ""))[0]}
    empty = []
    for path in written:
        if path.suffix == ".csv" and path.stem not in explained:
            with open(path, encoding="utf-8") as f:
                if sum(1 for _ in zip(range(2), f, strict=False)) < 2:  # a header line only (or nothing)
                    empty.append(path.stem)
    if empty:
        ctx.notes.append(InsufficientDataError(
            "no row left to publish: every estimate rests on too few persons, or falls between the published "
            "time points").note(empty))


def _drop_model(out: dict, name: str) -> list[str]:
    """Remove model ``name``'s rows from the survival tables (in place); the tables it touched."""
    touched = []
    for table in ("hazards", "cause_specific", "ph_tests"):
        df = out.get(table)
        if isinstance(df, pd.DataFrame) and "model" in df and (df["model"] == name).any():
            out[table] = df[df["model"] != name].reset_index(drop=True)
            touched.append(table)
    if name == "exit_to_work" and len(out.get("immortal_time", ())):
        out["immortal_time"] = out["immortal_time"].iloc[0:0]
        touched.append("immortal_time")
    return touched


#: The run's steps, in order: (name, function). Later modules append to this list.
STEPS: list[tuple[str, Callable[[RunContext], str]]] = [
    ("validate input", step_validate),
    ("monthly status panel", step_panel),
    ("flows, typology and careers", step_monitor),
    ("survival and hazards", step_survival),
    ("programme effects", step_effects),
]


def _parallel_settings(parallel) -> dict:
    """How the independent fits were spread (for the manifest; the numbers do not depend on it)."""
    from .parallel import ParallelConfig

    cfg = parallel if parallel is not None else ParallelConfig.from_env()
    return {"backend": cfg.backend, "n_jobs": cfg.n_jobs, "inner_threads": cfg.inner_threads}


#: The simulator's smallest municipality (simulate_municipality refuses fewer persons).
MIN_SIMULATED_PERSONS = 10


def simulate_default(out: Path, seed: int, n_persons: int | None = None) -> tuple[Path, Path]:
    """Write the built-in simulated municipality to OUT/input (truth beside it, never inside)."""
    from .duration_effects import CURVE_MONTHS
    from .simulate import simulate_municipality, write_simulation

    # truth_months: the effect curves' truth over every start, recent ones included (issue 14a; the
    # input tables are the same with or without it)
    kwargs = {"seed": seed, "truth_months": CURVE_MONTHS}
    if n_persons is not None:
        if n_persons < MIN_SIMULATED_PERSONS:
            raise RunError(f"--persons {n_persons}: the simulator needs at least {MIN_SIMULATED_PERSONS} persons",
                           f"pass --persons {MIN_SIMULATED_PERSONS} or more")
        kwargs["n_persons"] = n_persons
    sim = simulate_municipality(**kwargs)
    return write_simulation(sim, out / "input")


def check_settings(*, seed: int, persons: int | None = None, max_risk_set_rows: int | None = None) -> None:
    """Refuse settings no run can use (RunError, exit status 2) before anything is written."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise RunError(f"seed {seed!r} is not a non-negative whole number", "pass e.g. --seed 20150101")
    if persons is not None and (isinstance(persons, bool) or not isinstance(persons, int) or persons < 1):
        raise RunError(f"persons {persons!r} is not a positive whole number", "pass e.g. --persons 3000")
    if max_risk_set_rows is not None and (not isinstance(max_risk_set_rows, int) or max_risk_set_rows < 0):
        raise RunError(f"max_risk_set_rows {max_risk_set_rows!r} is negative",
                       "pass a number of rows, or 0 for no budget")


def _inside(path: Path, folder: Path) -> bool:
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or path.is_relative_to(folder)


def parse_languages(value: str | list | tuple) -> list[str]:
    """``"nl,en"`` (or a list) as a list of report languages; ValueError naming the problem.

    >>> parse_languages("nl, en"), parse_languages(["en"])
    (['nl', 'en'], ['en'])
    """
    from .i18n import LANGUAGES

    items = [x.strip() for x in value.split(",")] if isinstance(value, str) else [str(x).strip() for x in value]
    if not items or any(not x for x in items):
        raise ValueError(f"{value!r} is not a list of languages: write them separated by commas, e.g. nl,en")
    unknown = [x for x in items if x not in LANGUAGES]
    if unknown:
        raise ValueError(f"unknown language {', '.join(map(repr, unknown))}: use {' or '.join(LANGUAGES)} "
                         "(several separated by commas, e.g. nl,en)")
    twice = sorted({x for x in items if items.count(x) > 1})
    if twice:
        raise ValueError(f"{', '.join(map(repr, twice))} given more than once: list each language once")
    return items


def _languages(value, source: str) -> list[str]:
    try:
        return parse_languages(value)
    except ValueError as e:
        raise RunError(f"{source}: {e}", "pass e.g. --lang nl, --lang en or --lang nl,en") from None


def run(data_dir: Path | None, out: Path, *, seed: int, lang: str | list[str] | None = None,
        persons: int | None = None, with_report: bool = True, with_pdf: bool = True,
        echo: Callable[[str], None] = print, max_risk_set_rows: int | None = 2_000_000, parallel=None,
        cache: Path | None = None, dml_repetitions: int | None = None,
        stop_requested: Callable[[], bool] | None = None) -> RunContext:
    """Run every step; returns the context (data, panel, files written).

    ``lang``: the report language, or several (``"nl,en"`` or ``["nl", "en"]``): the first one is
    ``report.html``/``report.pdf``, each other one ``report.<lang>.html``/``.pdf``, all from one
    execution of the report. None: ``lang`` of the input's study.toml, else ``nl``.
    ``with_report=False``: tables only. ``with_pdf=False``: the report as HTML only (no report.pdf).
    ``max_risk_set_rows``: row budget of the effects' risk sets (every start plus a weighted random
    share of the comparison pool; None or 0: no budget). A municipality stays far below the default;
    a national register (tens of millions of pool person-months) is thinned to it.
    ``parallel``: a :class:`~reintegration_effects.parallel.ParallelConfig` for the independent
    fits (programmes, cross-fitting folds); None reads ``REINTEGRATION_N_JOBS`` and
    ``REINTEGRATION_BACKEND``, and uses every CPU of this machine when they are unset (the
    estimators on their own default to one worker, as in scikit-learn; a run uses the machine).
    The numbers do not depend on it.
    ``cache``: folder of the panel cache (default :func:`default_cache_dir`, beside OUT; never inside).
    ``dml_repetitions``: independent fold splits of the double-ML estimate (median aggregation, the
    spread over splits in the standard error); None: the estimator's default (``doubly_robust.N_REP``).

    The run writes into a temporary folder beside OUT and replaces OUT by it at the end
    (:class:`~reintegration_effects.manifest.RunFolder`, locked against a second run into the same
    OUT), with ``manifest.json`` written last: OUT always holds one whole run. Settings or folders
    that cannot work raise :class:`~reintegration_effects.manifest.RunError` before anything is written.
    ``stop_requested``: checked after every step and before the commit (KeyboardInterrupt when it
    says stop; the command line passes its Ctrl-C flag).
    """
    from datetime import date

    from .parallel import ParallelConfig, connect_backend

    started = pd.Timestamp.now()
    check_settings(seed=seed, persons=persons, max_risk_set_rows=max_risk_set_rows)
    if parallel is None:
        parallel = ParallelConfig.from_env(n_jobs=-1)  # raises naming a variable that is not usable
    try:  # a cluster backend that cannot run stops the run here, not at the effects step
        connect_backend(parallel)
    except (ImportError, RuntimeError, OSError) as e:
        fix = ("check that the scheduler at DASK_SCHEDULER_ADDRESS runs and that this machine reaches it"
               if isinstance(e, OSError) else "install or connect it as the message says")
        raise RunError(str(e).rstrip("."), f"{fix} (docs/scaling.md), or choose a local backend "
                       "(--backend loky)") from None
    languages = _languages(lang, "--lang") if lang is not None else None
    out = Path(out).resolve()
    cache_dir = Path(cache).resolve() if cache is not None else default_cache_dir(out)
    if _inside(cache_dir, out):
        raise RunError(f"the panel cache {cache_dir} is inside the output folder {out}: person-level data "
                       "would be in the folder that goes to the output check, and the run replaces OUT",
                       "pass a --cache folder outside --out (or leave --cache out: the default is beside OUT)")
    if cache_dir.exists() and not cache_dir.is_dir():
        raise RunError(f"--cache {cache_dir} is a file, not a folder", "pass a folder for the panel cache")
    if data_dir is not None and _inside(data_dir, out):
        raise RunError(f"the input folder {Path(data_dir).resolve()} is inside the output folder {out}, "
                       "which the run replaces as a whole",
                       "move the input folder out of --out (or choose another --out)")
    simulated = data_dir is None
    truth_dir = None
    with RunFolder(out, stop_requested=stop_requested) as folder:
        work = folder.work
        if simulated:
            echo(f"No --data given: simulating the built-in municipality (seed {seed}) ...")
            data_dir, truth_dir = simulate_default(work, seed, persons)
        ctx = RunContext(data_dir=Path(data_dir), out=work, seed=seed, lang=(languages or ["nl"])[0],
                         simulated=simulated, truth_dir=truth_dir, echo=echo,
                         max_risk_set_rows=max_risk_set_rows or None, parallel=parallel, cache_dir=cache_dir,
                         dml_repetitions=dml_repetitions)
        total = len(STEPS) + int(with_report)
        for i, (name, fn) in enumerate(STEPS, 1):
            echo(f"[{i}/{total}] {name} ...")
            t0 = time.perf_counter()
            summary = fn(ctx)
            folder.raise_if_stop_requested()
            echo(f"      {summary} ({time.perf_counter() - t0:.1f} s)")
            if languages is None and ctx.data is not None:  # no --lang: the study.toml's, else nl
                languages = _languages(ctx.data.study.lang or "nl", "study.toml key 'lang'")
                ctx.lang = languages[0]
        d = ctx.data
        report_date = date.today()
        extra = {"simulated": simulated, "truth": str(out / truth_dir.relative_to(work)) if truth_dir else None,
                 "lang": languages[0], "languages": languages, "max_risk_set_rows": max_risk_set_rows,
                 "dml_repetitions": dml_repetitions,
                 "parallel": _parallel_settings(parallel), "notes": ctx.notes,
                 "report_date": report_date.isoformat()}

        def manifest(reports=None, status="complete"):
            return write_manifest(
                work, inputs=d.sources, study=d.study, seed=seed, window=(d.window_start, d.window_end),
                started=started, finished=pd.Timestamp.now(), command=sys.argv, status=status, shown_as=out,
                extra={**extra, **report_entries(reports or {}, date=report_date, made_by="run")},
            )

        # a first manifest for the report to show, then the report, then the manifest again with the
        # hashes of every file (the report's too: they carry the date, so they differ between runs)
        reports: dict[str, list[Path]] = {}
        if with_report:
            import json

            from .report.build import report_context, write_reports

            echo(f"[{total}/{total}] report ({'HTML and PDF' if with_pdf else 'HTML'}, {', '.join(languages)}) ...")
            t0 = time.perf_counter()
            path = manifest(status="report pending")
            shown = json.loads(path.read_text())
            path.unlink()
            reports = write_reports(work, languages, report_date=report_date, echo=echo, pdf=with_pdf,
                                    **report_context(shown))
            files = [f for fs in reports.values() for f in fs]
            echo(f"      {', '.join(str(f.name) for f in files)} ({time.perf_counter() - t0:.1f} s)")
            ctx.outputs.extend(files)
        from .outputs import write_disclosure_report

        ctx.outputs.append(write_disclosure_report(work))  # the export checklist: every table, its rule
        path = manifest({lang: [f.relative_to(work).as_posix() for f in fs] for lang, fs in reports.items()})
        ctx.outputs.append(path)
        folder.commit()
    # the work folder is OUT now: the context names the files where they are
    ctx.outputs = [out / Path(p).relative_to(work) if Path(p).is_relative_to(work) else Path(p)
                   for p in ctx.outputs]
    ctx.out = out
    if simulated:
        ctx.data_dir, ctx.truth_dir = out / ctx.data_dir.relative_to(work), out / truth_dir.relative_to(work)
    return ctx


def report_entries(reports: dict[str, list[str]], *, date, made_by: str) -> dict:
    """The manifest's record of the report files: ``report`` (every file, as before) and ``reports``
    (per language: ``files``, the ``date`` on the report, ``made_by`` run or render)."""
    return {"report": [f for files in reports.values() for f in files],
            "reports": {lang: {"files": list(files), "date": str(date), "made_by": made_by}
                        for lang, files in reports.items()}}


# ------------------------------------------------------------------------------------------------
# render: the report again, from the protected tables of a finished run
# ------------------------------------------------------------------------------------------------


def _recorded_reports(manifest: dict) -> dict[str, dict]:
    """{lang: {files, date, made_by}} of a manifest; older manifests only list ``report`` (one language)."""
    if isinstance(manifest.get("reports"), dict):
        return {k: dict(v) for k, v in manifest["reports"].items()}
    files = list(manifest.get("report") or [])
    return {manifest.get("lang") or "nl": {"files": files, "made_by": "run"}} if files else {}


def _report_date(manifest: dict):
    """The date the run's report carries: recorded by the run (older manifests: the run's end)."""
    from datetime import date

    text = manifest.get("report_date") or (manifest.get("run") or {}).get("finished") or ""
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return date.today()


def render(out: str | Path, *, lang: str | list[str] | None = None, with_pdf: bool = True,
           report_date=None, echo: Callable[[str], None] = print,
           stop_requested: Callable[[], bool] | None = None) -> list[Path]:
    """Make the report of a finished run again from its protected tables; returns the report files.

    Nothing is recomputed: the report reads ``OUT/tables``, ``OUT/cleaning_log.csv`` and the
    context in ``OUT/manifest.json`` (municipality, window, seed, settings, the run log, versions).
    ``lang``: the languages to make (default: the run's); the run's first language is
    ``report.html``/``.pdf``, any other ``report.<lang>.*``; report files of other languages stay.
    ``report_date``: the date on the report (default: the run's, so that a render of the same
    tables by the same software gives the same bytes). ``with_pdf=False``: HTML only; a PDF of
    that language from before is removed (it would no longer belong to the HTML).
    ``stop_requested``: as for :func:`run`, checked before the commit.

    Atomic like the run (:class:`~reintegration_effects.manifest.RunFolder`: the lock, a work
    folder beside OUT holding hard links to the unchanged files, one rename); the manifest gets the
    new hashes, ``reports`` and a ``renders`` entry, so ``verify`` holds. Refuses (RunError) a
    folder that is not a finished run, or whose files no longer match its manifest (the tables a
    render would vouch for must be the run's).
    """
    from datetime import date

    from .manifest import read_manifest, rewrite_manifest, software, verify
    from .report.build import report_context, report_file_names, write_reports

    out = Path(out).resolve()
    read_manifest(out)  # a clear refusal before the lock: not a finished run
    t0 = time.perf_counter()
    with RunFolder(out, stop_requested=stop_requested) as folder:
        manifest = read_manifest(out)  # again, under the lock
        languages = _languages(lang, "--lang") if lang is not None else _languages(
            manifest.get("languages") or manifest.get("lang") or "nl", "manifest.json 'languages'")
        primary = (manifest.get("languages") or [manifest.get("lang") or languages[0]])[0]
        when = report_date or _report_date(manifest)
        if isinstance(when, str):
            when = date.fromisoformat(when)
        replaced = {name for x in languages for name in report_file_names(x, primary)}
        check = verify(out)
        wrong = [f"{how}: {n}" for how, names in (("changed", check.changed), ("missing", check.missing),
                                                   ("not in the manifest", check.extra))
                 for n in names if n not in replaced]
        if wrong:
            shown = "; ".join(wrong[:5]) + (f" (and {len(wrong) - 5} more)" if len(wrong) > 5 else "")
            raise RunError(f"{out} no longer matches its manifest.json ({shown}): a render would vouch for "
                           "files the run did not write",
                           f"restore those files from the run (`reintegration-effects verify {out}` lists them), "
                           f"or run again into {out}")
        folder.start_from(out, leave_out=replaced)
        echo(f"Rendering the report ({'HTML and PDF' if with_pdf else 'HTML'}, {', '.join(languages)}; "
             f"date {when:%Y-%m-%d}) from {out / 'tables'} ...")
        made = write_reports(folder.work, languages, primary=primary, report_date=when, echo=echo, pdf=with_pdf,
                             **report_context(manifest))
        gone = sorted(n for n in replaced if (out / n).is_file() and not (folder.work / n).is_file())
        if gone:
            echo(f"      removed {', '.join(gone)}: made before, it would not match the new report")
        reports = _recorded_reports(manifest)
        for x, files in made.items():
            reports[x] = {"files": [f.name for f in files], "date": when.isoformat(), "made_by": "render"}
        order = [x for x in dict.fromkeys([primary, *(manifest.get("languages") or []), *reports]) if x in reports]
        entries = report_entries({x: reports[x]["files"] for x in order}, date=when, made_by="render")
        for x in order:  # the date and maker of the languages not made now stay as they were
            entries["reports"][x] = reports[x]
        finished = pd.Timestamp.now()
        renders = [*list(manifest.get("renders") or []), {
            "finished": finished.isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - t0, 1), "languages": languages, "pdf": with_pdf,
            "date": when.isoformat(), "command": sys.argv, "software": software()}]
        rewrite_manifest(folder.work, {**manifest, **entries, "renders": renders})
        folder.commit()
    return [out / f.name for files in made.values() for f in files]
