"""The simulated municipality "Simstad": the package's default data set and its ground truth.

``simulate_municipality()`` returns the five contract tables (persons, households, benefits, jobs,
programmes) of everyone on bijstand at some point in the window, and the true programme effects
every estimator is tested against. ``write_simulation()`` writes an input folder and the truth
in a sibling folder ``<folder>_truth/`` (never inside the input folder).

Size. ``n_persons`` (default 6,000, Leidschendam-Voorburg-like) persons pass through bijstand in
the window: 33% are the stock at the window start, 67% enter during it (about 400 a year at the
default, falling over the window, see below). With public durations and re-entry rates a stock
of 1,500 and 450 new persons a year cannot both hold for 6,000 persons: inflow is then larger
than outflow and the stock grows. The stock share is therefore set so that the stock is about
stable (about 2,000 at the default, +7% to 2017, then -8% to 2024, like the national series);
``n_persons=4600`` gives a stock of about 1,500.

Time and states
---------------
Discrete months on a grid from ``window_start - 60 months`` to ``window_end``. A person's state in
month t is the status at the END of month t: ``B`` bijstand, ``BMW`` bijstand with a side job
(bijstand_met_werk), ``W`` werk, ``WW``, ``O`` overig. Vectorised over persons; the only loop is
over calendar months. Within month t, in this order:

1. transitions from the state at the end of t-1 (the hazards below; programme effects act here);
2. programme take-up among those on bijstand at the END of t with no programme in the current
   spell yet (only from ``window_start``: the municipality's programme file starts there).

A programme started in month t0 thus belongs to the bijstand spell covering the end of t0 and
acts on the exit hazards of months t0+1, t0+2, ... . This is the design of
``reintegration_effects.effects``: time zero is the month end of t0 and the risk set is everyone
on bijstand then without a programme in the spell so far.

Population
----------
- Stock: on bijstand at the end of the month before ``window_start`` (so on ``window_start``
  itself). Characteristics are drawn to the public stock figures (58% women; ages 18-26 10%,
  27-34 13%, 35-44 20%, 45-54 26%, 55 to state-pension age 31%; household by sex and age band).
  The elapsed duration d0 and the frailty z are drawn jointly from the model's own steady state,
  P(d0, z | x) ∝ φ(z) S(d0 | x, z), S being the survivor function of the two exit hazards at
  the person's characteristics (rejection sampling, d0 up to 30 years and age 18): long spells
  carry low frailty, and 47% of the stock has been on bijstand 5+ years. Spells may start long
  before the grid.
- Entrants: the month of their first in-window entry is drawn over the window with yearly
  weights (``entry_year_weights``: a mild cycle, a covid bump in April-June 2020) times a trend
  exp(-0.06 x years since the window start): later inflow is more often the re-entry of someone
  already in the population, so first entries fall while total inflow stays about flat. Status
  holders (statushouders) are 20% of entrants in 2016-2017, 6-9% in other years. Entrants are
  younger than the stock (32% under 27) and 56% women (35% for status holders).
- Migration background: dutch 44%, western 12%, non-western 43.5%, unknown 0.5% (status holders
  are non-western; 22% of the non-western stock). The simulator draws and uses the pre-2022 CBS
  categories it was calibrated on (``params.SIM_MIGRATION``; every parameter keeps these names) and
  writes them in CBS's 2022 classification by relabelling: western -> ``europe``, non_western ->
  ``outside_europe`` (``params.MIGRATION_LABELS``). That is an approximation: non-western lies wholly
  outside Europe (Turkey is outside Europe in CBS's 2022 classification), but Indonesia, Japan,
  North America and Oceania moved from western to outside Europe, so the true 2022 groups would
  be: Europe somewhat smaller, outside Europe larger. The relabelling changes no random draw: the tables, the
  truth and every estimate are those of the old categories under the new names. Education: low 55%, medium 33%, high 12% of the
  known; unknown 7%, 25% for non-western 50+ (about 10% overall).
- Pre-entry history (for the stock: before its spell) is built backwards from the entry month as
  a chain of segments: before bijstand WW 28%, work 22%, overig 50% (under 23: 4/22/74); before WW
  work; before work overig 55%, WW 10%, an earlier bijstand spell 35%; before overig work 65%,
  bijstand 20%, WW 15%. Lengths: work 1+geometric(mean 30), WW 3-18 months before bijstand
  (2-12 otherwise), overig 1+geometric(mean 18), earlier bijstand 1+geometric(mean 24). An
  earlier bijstand spell ends at least two month ends before the window (else the person would
  be in the stock); work needs age 16, bijstand 18. These months are imposed in the month loop;
  side jobs and job changes inside them are still simulated.
- Household positions are exogenous: a position at the reference month (window start for the
  stock, entry for entrants) drawn given sex and age band (``household_probs``); an earlier
  position for 25% of entrants (10% of the stock), e.g. a couple with children before becoming a
  single parent; a later change for 12%; child_at_home before age 18. Spells cover the grid.

Hazards (monthly; grouped proportional hazards, p = 1 - exp(-h))
----------------------------------------------------------------
From bijstand (B or BMW at the end of t-1) two causes, work and elsewhere, with combined exit
probability ``1 - exp(-(h_work + h_other))``; the cause is work with probability
``h_work / (h_work + h_other)``. Elsewhere is WW with probability 4% (30% from a side job), else
overig. Reaching the state-pension (AOW) age ends bijstand and any job for good (overig, with a
benefit spell "other" from then on; AOW age by year in ``AOW_MONTHS``).

``log h_work = log 0.046 + dur(d) + age + sex + migration + status_holder + education
+ household + 0.035 x months employed in the 36 before + 0.6 x side job + year + covid
+ frailty + log HR(programme)``, with d the month ends on bijstand so far in the spell and
``dur`` piecewise linear in log d through (1, 3, 6, 12, 24, 60, 120, 240 months) -> (-0.2, -0.1,
-0.1, -0.35, -0.9, -2.0, -2.7, -3.2): strong negative duration dependence after the first half
year. Age: +0.1 at 18 to -0.35 at 50, -0.9 at 60, -1.3 at 68; women -0.15; western -0.1,
non-western -0.35, status holder -0.25; education low -0.35, high +0.3, unknown -0.25; single
parent -0.15; year -0.2 (2014) ... +0.2 (2022); covid April-September 2020 -0.3. Frailty
``sigma x z``, z standard normal, ``frailty`` = sigma (default 0.5; 0 = none; the constant mode
defaults to 0). ``log h_other = log 0.02 + dur_o(d) + age_o + household_o + 0.2 x status
holder`` with weak duration dependence (0 to -1.6 at 20 years), +0.4 at 18 falling to 0 at 40,
+0.3 near 68, couples +0.5; no frailty, no programme effect. All numbers are fields of
:class:`SimulationParams` and are written to ``params.json``.

Side jobs: a side job starts with hazard 0.022 x exp(duration, age, education, sex, history
terms) and ends with probability 0.11 a month (about 8% of recipients work beside the benefit).

After exit: a job ends with a monthly hazard by contract (permanent 0.01, fixed_term 0.03,
agency 0.06, on_call 0.05; x1.5 in the first 6 months). 30% of ended jobs are followed directly
by another job; otherwise WW 50% / bijstand 35% / overig 15% if 6+ of the last 36 month ends
were employed, else bijstand 70% / overig 30%. A worker re-enters bijstand keeping the job with
hazard 0.003. WW lasts 3 + years employed months (at most 24), exits to work at 8% a month, and
ends in bijstand for half of those who exhaust it. From overig the re-entry hazard falls with the
months since the bijstand exit (0.07, 0.04, 0.015, 0.008, 0.0015 for up to 3, 6, 12, 24 and more
months), and 1.2% a month find work.

Jobs: a run of employment holds one job spell per job (a job change starts a new spell) with a
contract (after bijstand: permanent 18%, fixed_term 37%, agency 30%, on_call 15%; side jobs
mostly on-call), an SBI section (after bijstand N 24%, G 15%, Q 13%, I 9%, C 7%, H 7%, ...),
hours per week (by contract, 5 fewer for women; side jobs 4-16) and a gross monthly wage =
hourly wage x hours x 52/12, the hourly wage being the statutory minimum of the start year
(``MIN_WAGE_HOURLY``; youth rates under 22) times a premium by education and contract.

Programmes
----------
``job_coaching``, ``training``, ``work_experience``, ``participation``. Take-up hazards compete
like the exits, for persons on bijstand at the end of month t with no programme in the spell so
far (at most one programme per bijstand spell, which keeps the estimand clean). They depend only
on what the analysis sees at that month: sex, age (whole years at the end of t), migration
background, status holder, education, household position at the end of t, the months since the
spell's start month, the calendar (year, covid April-June 2020), the history counts over month
ends t-36..t-1 (employed = werk or bijstand_met_werk; bijstand with or without work; WW), and
whether the person was employed at the end of t-1. Never on the frailty or on future draws:
selection on observables holds, and naive comparisons are biased (coaching and training go to
short spells and the young, participation to long spells and the old). Duration profiles are
log-normal bumps peaking at 4, 6, 12 and 36 months; lengths 3-6, 3-9, 3-9 and 6-12 months.

Effects act on h_work as hazard ratios: lock-in while the programme runs (months t0+1 ..
t0+length) and post from then on for the rest of that bijstand spell, by target group at time
zero. Default ``effects="heterogeneous"``: coaching lock-in 1.1/1.0/0.95 and post 2.0/1.5/1.1
for ages 18-26/27-49/50+; training lock-in 0.6 and post 1.8/1.4/1.1/1.5 for education
low/medium/high/unknown; work experience lock-in 0.8 and post 1.8 for non-western, 1.3 for
others; participation 1 (no effect on work). ``effects="constant"``: one ratio per programme
(``hazard_ratios``; defaults 1.5, 1.3, 1.4, 1.0) from month t0+1 for the rest of the spell, for
every group, without frailty unless asked: what a Cox model with a time-varying programme term
(on from the start month's end) estimates exactly.

The truth
---------
Random numbers in the month loop are coupled: month t has one Generator seeded with
``SeedSequence([seed, calendar month number])`` drawing a fixed (11 purposes x n_persons) matrix
of uniforms, whatever anybody's state. For every programme start (person i, month t0,
programme P) a clone of the person as after month t0 but without that start runs through months
t0+1 .. t0+18 alongside the population, on person i's uniforms; it may start any programme later
through the same take-up process (Sianesi 2004: starting now versus not now). With every hazard
ratio 1 each clone repeats its person exactly. Outcomes from time zero = month end t0, actual and
counterfactual: ``employed_12m`` (werk or bijstand_met_werk at month end t0+12),
``off_bijstand_12m``, ``off_bijstand_6_18m`` (off bijstand at every month end t0+6..t0+18),
``months_bijstand_18m`` (month ends t0+1..t0+18 on bijstand). Only starts whose 18-month follow-up
ends inside the window count for the truth (``in_truth``; later starts have NaN where the
follow-up is cut off).

- ``individual_effects``: one row per programme start: person_id, programme, start (date),
  time_zero (month end of t0), month_index (0 = first window month), programme_months, in_truth,
  ``<outcome>_actual``, ``<outcome>_counterfactual``, ``<outcome>_effect``, and the covariates at
  time zero in the panel's definitions (sex, age and age_band at the end of t0,
  migration_background, status_holder, household at the end of t0, education, spell_month =
  t0 minus the spell's start month, hist_employed_36m / hist_bijstand_36m / hist_ww_36m over
  month ends t0-36..t0-1, employed_before = employed at the end of t0-1), and hr_lock_in / hr_post.
- ``true_effects``: the contract's effects layout with method "truth": the ATT (mean of actual
  minus counterfactual over the starts counted) for "all" and every contract group label;
  n_treated is the number of starts, other statistics NaN (NaN estimate where a group has none).
- ``true_hazard_ratios``: programme, group, phase (lock_in/post), hazard_ratio: the parameters.
  Constant mode: "all" and every group label (one ratio). Heterogeneous mode: the labels of the
  dimension the ratio varies by ("all" for participation); other groups hold a mix.

Spells and dates
----------------
A run of months a..b in one state is a spell from a day of month a to the day before the change
day of month b+1; change days are 2..last day of the month, one per (person, month) and shared by
all tables, so a spell covers the first day of b+1 but not its month end and consecutive spells
meet without overlap. Runs still going at the window end have an open end; runs begun before the
grid keep their true start. Two bijstand spells are always at least one month end apart.
Programme spells lie inside their bijstand spell (they end with it). Days and the other draws
outside the loop come from their own seeded streams: the same seed gives identical tables.

Calibration (20,000 persons; public figure in brackets)
------------------------------------------------------
Stock 2015 / 2023: women 57% / 57% (57%), under 27 10% / 9% (10%), 45+ 57% / 56% (57%), 5+ years
on bijstand 47% / 44% (about half), single 61% / 58%, single parent 22% / 28%, couples 15% / 15%
(60/25/15), non-western 43% / 50%. Exits to work 52% (about half), to WW 3%. Re-entry within 6,
12, 18 months 15.5%, 24%, 29% (15%, 22%, about 30%); within 6 months after exit to work 9-10%
(about 10%). In a job without bijstand 6 / 18 months after exit to work 83% / 69% (82% / 72%).
Bijstand met werk 7.8% of recipient-months (8%). Outflow cohort 2015 after 6 / 12 / 18 months:
bijstand (with or without work) 15% / 20% / 18%, werk 41% / 39% / 39%, WW 2%, overig 42% / 40% /
41% (Leidschendam-Voorburg: 20 / 24 / 28%, 41 / 36 / 35%, 3-5%, 35%). Ended spells are shorter
than the national 2023 distribution (under 6 months 31% vs 22%, 5+ years 15% vs 22%): the default
municipality has a higher turnover (about 35% of the stock a year) than the country.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import write_study
from .model import run_months
from .params import (
    AGE_LO,
    ALL_OUTCOMES,
    AOW_MONTHS,
    BMW,
    FOLLOW_UP,
    HISTORY_MONTHS,
    MIN_WAGE_HOURLY,
    N_PURPOSES,
    NEWJOB,
    PROGRAMME_INFO,
    PROGRAMMES,
    STATE_LABELS,
    U_CAUSE,
    U_CONTRACT,
    U_DEST,
    U_EXIT,
    U_HOURS,
    U_PDUR,
    U_SECTOR,
    U_SIDE,
    U_TAKEUP,
    U_WAGE,
    U_WHICH,
    WW,
    B,
    Calendar,
    O,
    SimulatedMunicipality,
    SimulationParams,
    W,
)

#: The public names (those of the former single module simulate.py, which this package replaced).
__all__ = [
    "AGE_LO",
    "ALL_OUTCOMES",
    "AOW_MONTHS",
    "B",
    "BMW",
    "Calendar",
    "FOLLOW_UP",
    "HISTORY_MONTHS",
    "MIN_WAGE_HOURLY",
    "NEWJOB",
    "N_PURPOSES",
    "O",
    "PROGRAMMES",
    "STATE_LABELS",
    "SimulatedMunicipality",
    "SimulationParams",
    "U_CAUSE",
    "U_CONTRACT",
    "U_DEST",
    "U_EXIT",
    "U_HOURS",
    "U_PDUR",
    "U_SECTOR",
    "U_SIDE",
    "U_TAKEUP",
    "U_WAGE",
    "U_WHICH",
    "W",
    "WW",
    "simulate_municipality",
    "write_simulation",
]
from .population import draw_persons
from .tables import build_tables, compute_true_curves, compute_truth, cut_to_window

#: ``unobserved_heterogeneity=True`` (``simulate --unobserved-heterogeneity``, issue 14b): the frailty's
#: standard deviation in the exit-to-work hazard and its loading on every programme's take-up hazard.
UH_FRAILTY = 1.0
UH_TAKEUP_FRAILTY = 1.0

# ------------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------------


def simulate_municipality(
    n_persons: int = 6000,
    *,
    seed: int = 20150101,
    window_start="2015-01-01",
    window_end="2024-12-31",
    effects: str | None = None,
    frailty: float | None = None,
    hazard_ratios: dict | None = None,
    params: SimulationParams | None = None,
    participation: bool = False,
    unobserved_heterogeneity: bool = False,
    truth_months: int | None = None,
) -> SimulatedMunicipality:
    """Simulate the municipality and its true programme effects (see the module docstring).

    ``n_persons``: persons on bijstand at some point in the window (25% stock at the start).
    ``effects``: "heterogeneous" (default) or "constant" (the default with
    ``unobserved_heterogeneity``). ``frailty``: standard deviation of the unobserved log-hazard term
    of exit to work (None: 0.5 heterogeneous, 0 constant, 1.0 with ``unobserved_heterogeneity``).
    ``hazard_ratios``: constant mode only, ``{programme: ratio}`` (others keep the defaults).
    ``params``: a :class:`SimulationParams` to change any other number. Same seed, same tables.
    ``participation`` (issue 16b): also a ``participation`` table and the true effects on
    ``participating_18m`` / ``volunteering_18m`` (:mod:`.participation`); the other tables and truths
    are the same with or without it.
    ``unobserved_heterogeneity`` (issue 14b, the timing-of-events validation): the same frailty z
    also raises every programme's log take-up hazard by ``UH_TAKEUP_FRAILTY`` x z (params
    ``takeup_frailty``, written to ``params.json``), so people who leave for work faster also start
    programmes more: selection on an unobservable, which estimators on observables overstate.
    Unless ``params`` sets ``takeup_frailty`` itself; False (default) changes nothing.
    ``truth_months`` (issue 14a; e.g. 36): also the true effect curves of every start in the window
    over that many months (``sim.true_curves``, ``sim.true_rmst``, :func:`.tables.compute_true_curves`):
    the clones run that long and the population that many months past the window end; the input
    tables and the other truths are the same as without it (cut at the window end). None: not computed.
    """
    if effects is None:
        effects = "constant" if unobserved_heterogeneity else "heterogeneous"
    if effects not in ("heterogeneous", "constant"):
        raise ValueError(f"effects must be 'heterogeneous' or 'constant', found {effects!r}")
    if int(n_persons) < 10:
        raise ValueError(f"n_persons must be at least 10, found {n_persons}")
    p = dataclasses.replace(params) if params is not None else SimulationParams()
    p.n_persons = int(n_persons)
    p.seed = int(seed)
    p.window_start = f"{pd.Timestamp(window_start):%Y-%m-%d}"
    p.window_end = f"{pd.Timestamp(window_end):%Y-%m-%d}"
    p.effects = effects
    default_frailty = UH_FRAILTY if unobserved_heterogeneity else (0.5 if effects == "heterogeneous" else 0.0)
    p.frailty = float(frailty) if frailty is not None else default_frailty
    if unobserved_heterogeneity and not p.takeup_frailty:
        p.takeup_frailty = UH_TAKEUP_FRAILTY
    if hazard_ratios is not None:
        unknown = set(hazard_ratios) - set(PROGRAMMES)
        if unknown:
            raise ValueError(f"hazard_ratios: unknown programme(s) {sorted(unknown)}; use {list(PROGRAMMES)}")
        if effects != "constant":
            raise ValueError("hazard_ratios applies to effects='constant'; for heterogeneous effects pass params")
        p.hazard_ratios = {**p.hazard_ratios, **{k: float(v) for k, v in hazard_ratios.items()}}
    timings = {}
    t_start = time.perf_counter()
    cal = Calendar(p.window_start, p.window_end)
    rng = np.random.default_rng(np.random.SeedSequence([p.seed, 2**31 + 1]))
    pers = draw_persons(p, cal, rng)
    timings["persons"] = time.perf_counter() - t_start
    t1 = time.perf_counter()
    if truth_months is not None:  # issue 14a: the duration truth runs past the window end
        truth_months = int(truth_months)
        if truth_months < 1:
            raise ValueError(f"truth_months must be a positive number of months, found {truth_months}")
        end = pd.Timestamp(p.window_end) + pd.offsets.MonthEnd(truth_months)
        model, S, job, ev, cs, pens_t, init_start = run_months(p, Calendar(p.window_start, f"{end:%Y-%m-%d}"), pers,
                                                               timings, follow_up=max(FOLLOW_UP, truth_months))
        S, job, ev, cs, pens_t, S_full, cs_full = cut_to_window(cal, model, S, job, ev, cs, pens_t)
    else:
        model, S, job, ev, cs, pens_t, init_start = run_months(p, cal, pers, timings)
    timings["month_loop"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    tables, st_nt, prog_start = build_tables(p, cal, pers, model, S, job, ev, pens_t, init_start)
    timings["tables"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    true_effects, true_hr, indiv = compute_truth(p, cal, pers, model, st_nt, ev, cs, tables, prog_start)
    timings["truth"] = time.perf_counter() - t1
    curves = rmst = None
    if truth_months is not None:
        curves, rmst = compute_true_curves(cal, S_full, ev, cs_full, indiv, truth_months)
        del S_full, cs_full
    part_params = None
    if participation:
        from .participation import ParticipationParams, add_participation

        t1 = time.perf_counter()
        pp = ParticipationParams()
        tables["participation"], indiv, true_effects = add_participation(p, cal, pers, model, st_nt, ev, cs, tables,
                                                                         indiv, true_effects, pp)
        part_params = pp.to_dict()
        timings["participation"] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t_start
    used = set(tables["programmes"]["programme"])  # study.toml may describe only programmes in the data
    study = {"municipality": p.municipality, "window_start": p.window_start, "window_end": p.window_end,
             "programmes": {k: v for k, v in PROGRAMME_INFO.items() if k in used}}
    sim = SimulatedMunicipality(tables=tables, study=study, true_effects=true_effects,
                                 true_hazard_ratios=true_hr, individual_effects=indiv, params=p,
                                 states=st_nt, months=cal.month_ends(), timings=timings,
                                 participation_params=part_params)
    if curves is not None:  # issue 14a (attributes, so the dataclass's fields stay as they are)
        sim.true_curves, sim.true_rmst = curves, rmst
    return sim


def write_simulation(sim: SimulatedMunicipality, folder, fmt: str = "csv") -> tuple[Path, Path]:
    """Write the input folder and, beside it, ``<folder name>_truth/``; returns both paths.

    Input: ``persons``, ``households``, ``benefits``, ``jobs``, ``programmes`` as ``.csv`` (ISO
    dates, empty = open end) or ``.parquet``, and ``study.toml`` (municipality, window_start,
    window_end, and a ``[programmes.LABEL]`` table per programme: names, descriptions and an
    illustrative cost per participant, :data:`~.params.PROGRAMME_INFO`). Truth: ``true_effects.csv``, ``true_hazard_ratios.csv``,
    ``individual_effects.parquet``, ``params.json``.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', found {fmt!r}")
    folder = Path(folder)
    truth = folder.parent / f"{folder.name}_truth"
    folder.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    for name, df in sim.tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False, date_format="%Y-%m-%d")
        else:
            df.to_parquet(path, index=False)
    write_study(sim.study, folder / "study.toml")
    sim.true_effects.to_csv(truth / "true_effects.csv", index=False)
    sim.true_hazard_ratios.to_csv(truth / "true_hazard_ratios.csv", index=False)
    sim.individual_effects.to_parquet(truth / "individual_effects.parquet", index=False)
    (truth / "params.json").write_text(json.dumps(sim.params.to_dict(), indent=2), encoding="utf-8")
    if getattr(sim, "true_curves", None) is not None:  # issue 14a: simulate(..., truth_months=N)
        sim.true_curves.to_csv(truth / "true_curves.csv", index=False)
        sim.true_rmst.to_csv(truth / "true_rmst.csv", index=False)
    if sim.participation_params is not None:  # issue 16b: the participation model's numbers
        (truth / "participation_params.json").write_text(json.dumps(sim.participation_params, indent=2),
                                                          encoding="utf-8")
    return folder, truth
