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
  are non-western; 22% of the non-western stock). Education: low 55%, medium 33%, high 12% of the
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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import contract as C

# state codes (month-end status); NEWJOB is a bit in the stored state matrix
B, BMW, W, WW, O = 0, 1, 2, 3, 4  # noqa: E741
NEWJOB = 8
STATE_LABELS = ("bijstand", "bijstand_met_werk", "werk", "ww", "overig")
PROGRAMMES = ("job_coaching", "training", "work_experience", "participation")
ALL_OUTCOMES = (*C.OUTCOMES, *C.EXTRA_OUTCOMES)
HISTORY_MONTHS = 60  # grid months before the window
FOLLOW_UP = 18

# purposes: rows of the monthly uniform matrix
(U_EXIT, U_CAUSE, U_DEST, U_SIDE, U_TAKEUP, U_WHICH, U_PDUR,
 U_CONTRACT, U_SECTOR, U_HOURS, U_WAGE) = range(11)
N_PURPOSES = 11

_AGE_LO = (18, 27, 35, 45, 55)  # lower bounds of the age bands used to draw ages (last: to AOW)

#: State-pension (AOW) age in months by calendar year (after 2024: 67).
AOW_MONTHS = {2010: 780, 2011: 780, 2012: 780, 2013: 781, 2014: 782, 2015: 783, 2016: 786, 2017: 789,
              2018: 792, 2019: 796, 2020: 796, 2021: 796, 2022: 799, 2023: 802, 2024: 804}
#: Statutory minimum wage per hour (approximate, 38-hour basis, euros) by year.
MIN_WAGE_HOURLY = {2008: 8.3, 2009: 8.5, 2010: 8.6, 2011: 8.7, 2012: 8.8, 2013: 8.95, 2014: 9.05,
                   2015: 9.13, 2016: 9.27, 2017: 9.43, 2018: 9.59, 2019: 9.82, 2020: 10.05, 2021: 10.24,
                   2022: 10.49, 2023: 11.76, 2024: 13.27}


def _d(**kw):
    return field(default_factory=lambda: kw)


@dataclass
class SimulationParams:
    """Every number the simulation uses (written to ``params.json``). Log-hazard coefficients."""

    n_persons: int = 6000
    seed: int = 20150101
    window_start: str = "2015-01-01"
    window_end: str = "2024-12-31"
    effects: str = "heterogeneous"
    frailty: float = 0.5
    municipality: str = "Simstad"

    # ---- population -------------------------------------------------------------------------
    stock_share: float = 0.33
    female_stock: float = 0.58
    female_entrants: float = 0.56
    age_probs_stock: tuple = (0.10, 0.13, 0.20, 0.26, 0.31)  # 18-26, 27-34, 35-44, 45-54, 55-AOW
    age_probs_entrants: tuple = (0.32, 0.20, 0.20, 0.16, 0.12)
    migration_probs: dict = _d(dutch=0.44, western=0.12, non_western=0.435, unknown=0.005)
    status_holder_share_stock: float = 0.22  # of the non-western stock
    #: share of entrants that are status holders, by entry year
    status_holder_entry: dict = _d(**{"2015": 0.08, "2016": 0.2, "2017": 0.2, "2018": 0.13,
                                      "2019": 0.08, "2020": 0.06, "2021": 0.06, "2022": 0.08,
                                      "2023": 0.09, "2024": 0.09})
    education_unknown: float = 0.07  # plus more for non-western 50+ (below)
    education_unknown_nw50: float = 0.25
    education_probs: dict = _d(low=0.55, medium=0.33, high=0.12)  # among known
    #: household position at the reference month given sex:age band (single, single_parent,
    #: couple_no_children, couple_with_children, child_at_home, other)
    household_probs: dict = _d(**{
        "F:18-26": (0.46, 0.40, 0.03, 0.04, 0.06, 0.01),
        "F:27-49": (0.27, 0.58, 0.04, 0.08, 0.01, 0.02),
        "F:50+": (0.70, 0.16, 0.09, 0.03, 0.00, 0.02),
        "M:18-26": (0.80, 0.02, 0.03, 0.03, 0.11, 0.01),
        "M:27-49": (0.78, 0.04, 0.05, 0.11, 0.01, 0.01),
        "M:50+": (0.82, 0.02, 0.10, 0.04, 0.00, 0.02),
    })
    household_change_before: float = 0.25  # entrants: a different position before entry
    household_change_before_stock: float = 0.10
    household_change_after: float = 0.12  # a change after the reference month
    #: entrants per year, relative (mild cycle, covid)
    entry_year_weights: dict = _d(**{"2015": 1.05, "2016": 1.1, "2017": 0.95, "2018": 0.85, "2019": 0.8,
                                     "2020": 0.95, "2021": 0.8, "2022": 0.75, "2023": 0.85, "2024": 0.9})
    entry_covid_bump: float = 1.3  # April-June 2020
    #: log-linear trend of first entries per year since the window start: later inflow is more
    #: often a re-entry of someone already in the population
    entry_trend: float = -0.06
    #: pre-entry history: P(state before | next state), backwards
    before_bijstand: dict = _d(ww=0.28, work=0.22, overig=0.50)
    before_bijstand_young: dict = _d(ww=0.04, work=0.22, overig=0.74)
    before_work: dict = _d(overig=0.55, ww=0.10, bijstand=0.35)
    before_overig: dict = _d(work=0.65, bijstand=0.20, ww=0.15)
    seg_mean_work: float = 30.0
    seg_mean_overig: float = 18.0
    seg_mean_bijstand: float = 24.0
    seg_ww_before_bijstand: tuple = (3, 18)
    seg_ww_other: tuple = (2, 12)
    keep_job_at_entry: float = 0.25  # entering bijstand from work: keep the job (bijstand met werk)
    stock_max_elapsed_months: int = 360

    # ---- exit from bijstand to work ---------------------------------------------------------
    work: dict = _d(
        base=float(np.log(0.046)),
        duration_knots=(1, 3, 6, 12, 24, 60, 120, 240), duration_values=(-0.2, -0.1, -0.1, -0.35, -0.9, -2.0, -2.7, -3.2),
        age_knots=(18, 30, 40, 50, 60, 68), age_values=(0.1, 0.05, 0.0, -0.35, -0.9, -1.3),
        female=-0.15, migration=dict(dutch=0.0, western=-0.1, non_western=-0.35, unknown=-0.2),
        status_holder=-0.25, education=dict(low=-0.35, medium=0.0, high=0.3, unknown=-0.25),
        household=dict(single=0.0, single_parent=-0.15, couple_no_children=0.05, couple_with_children=-0.1,
                       child_at_home=0.15, other=-0.1),
        employed_36m=0.035, side_job=0.6,
        year={"2010": -0.1, "2011": -0.1, "2012": -0.2, "2013": -0.25, "2014": -0.2, "2015": -0.15,
              "2016": -0.1, "2017": 0.0, "2018": 0.1, "2019": 0.15, "2020": -0.1, "2021": 0.0, "2022": 0.2,
              "2023": 0.15, "2024": 0.1},
        covid=-0.3,  # April-September 2020
    )
    # ---- exit from bijstand elsewhere ---------------------------------------------------------
    other: dict = _d(
        base=float(np.log(0.02)),
        duration_knots=(1, 6, 24, 60, 240), duration_values=(-0.1, -0.1, -0.4, -1.1, -1.6),
        age_knots=(18, 27, 40, 55, 68), age_values=(0.4, 0.15, 0.0, 0.0, 0.3),
        household=dict(single=0.0, single_parent=0.0, couple_no_children=0.5, couple_with_children=0.5,
                       child_at_home=0.3, other=0.2),
        status_holder=0.2, to_ww=0.04, to_ww_from_side_job=0.3,
    )
    # ---- side jobs while on bijstand ----------------------------------------------------------
    side_job: dict = _d(
        base=float(np.log(0.022)), duration_slope=0.25,
        age_knots=(18, 27, 45, 55, 68), age_values=(0.2, 0.1, 0.0, -0.4, -1.0),
        female=0.1, education=dict(low=-0.2, medium=0.0, high=0.2, unknown=-0.3),
        non_western=-0.1, employed_36m=0.02, end=0.11,
    )
    # ---- after exit ---------------------------------------------------------------------------
    job_end: dict = _d(permanent=0.01, fixed_term=0.03, agency=0.06, on_call=0.05)
    job_end_first_months: float = 1.5
    job_to_job: float = 0.30
    job_loss_dest_eligible: dict = _d(ww=0.50, bijstand=0.35, overig=0.15)
    job_loss_dest_not_eligible: dict = _d(ww=0.0, bijstand=0.70, overig=0.30)
    topup_hazard: float = 0.003  # from work back to bijstand keeping the job
    ww_to_work: float = 0.08
    ww_to_overig: float = 0.01
    ww_exhausted_to_bijstand: float = 0.5
    reentry_from_overig: tuple = ((3, 0.07), (6, 0.04), (12, 0.015), (24, 0.008), (100000, 0.0015))
    overig_to_work: float = 0.012

    # ---- jobs ---------------------------------------------------------------------------------
    contract_after_bijstand: dict = _d(permanent=0.18, fixed_term=0.37, agency=0.30, on_call=0.15)
    contract_general: dict = _d(permanent=0.45, fixed_term=0.30, agency=0.15, on_call=0.10)
    contract_side_job: dict = _d(permanent=0.05, fixed_term=0.25, agency=0.20, on_call=0.50)
    sector_after_bijstand: dict = _d(N=0.24, G=0.15, Q=0.13, I=0.09, C=0.07, H=0.07, M=0.04, S=0.04,
                                     F=0.04, P=0.03, O=0.03, J=0.02, R=0.02, A=0.02, K=0.01)
    sector_general: dict = _d(N=0.12, G=0.16, Q=0.15, I=0.07, C=0.10, H=0.07, M=0.07, S=0.03, F=0.06,
                              P=0.05, O=0.05, J=0.03, R=0.02, A=0.01, K=0.02)
    sector_side_job: dict = _d(I=0.20, G=0.20, Q=0.15, N=0.15, S=0.08, P=0.05, R=0.05, H=0.05,
                               T=0.02, M=0.05)
    hours_by_contract: dict = _d(permanent=32.0, fixed_term=28.0, agency=27.0, on_call=16.0)
    hours_female: float = -5.0
    hours_spread: float = 8.0
    side_job_hours: tuple = (4, 16)
    wage_premium_education: dict = _d(low=0.0, medium=0.07, high=0.25, unknown=0.02)
    wage_premium_permanent: float = 0.05
    wage_premium_sd: float = 0.12

    # ---- programmes ---------------------------------------------------------------------------
    programmes: dict = _d(
        job_coaching=dict(base=float(np.log(0.028)), peak=4.0, width=1.0, female=0.0, age_18_26=0.6,
                          age_50plus=-0.7, western=0.0, non_western=-0.1, status_holder=0.0, edu_low=-0.1,
                          edu_high=0.2, edu_unknown=-0.2, single_parent=-0.2, couple=0.0,
                          employed_36m=0.015, bijstand_36m=-0.01, ww_36m=0.01, employed_before=-0.3,
                          months=(3, 6)),
        training=dict(base=float(np.log(0.014)), peak=6.0, width=1.1, female=0.1, age_18_26=0.3,
                      age_50plus=-0.5, western=0.1, non_western=0.3, status_holder=0.6, edu_low=0.3,
                      edu_high=-0.2, edu_unknown=0.2, single_parent=-0.1, couple=0.0, employed_36m=0.0,
                      bijstand_36m=0.0, ww_36m=0.0, employed_before=-0.3, months=(3, 9)),
        work_experience=dict(base=float(np.log(0.011)), peak=12.0, width=1.2, female=-0.1, age_18_26=0.1,
                             age_50plus=-0.4, western=0.1, non_western=0.3, status_holder=0.2, edu_low=0.2,
                             edu_high=-0.3, edu_unknown=0.1, single_parent=-0.2, couple=0.0,
                             employed_36m=-0.02, bijstand_36m=0.01, ww_36m=0.0, employed_before=-0.4,
                             months=(3, 9)),
        participation=dict(base=float(np.log(0.009)), peak=36.0, width=1.3, female=0.1, age_18_26=-0.6,
                           age_50plus=0.4, western=0.0, non_western=0.1, status_holder=0.0, edu_low=0.2,
                           edu_high=-0.3, edu_unknown=0.1, single_parent=-0.2, couple=-0.1,
                           employed_36m=-0.03, bijstand_36m=0.015, ww_36m=0.0, employed_before=-0.5,
                           months=(6, 12)),
    )
    takeup_year: dict = _d(**{"2015": -0.1, "2016": 0.0, "2017": 0.1, "2018": 0.1, "2019": 0.05,
                              "2020": -0.1, "2021": 0.0, "2022": 0.05, "2023": 0.0, "2024": 0.0})
    takeup_covid: float = -0.8  # April-June 2020
    #: heterogeneous effects: dimension the ratios vary by, lock-in and post ratios per value
    effects_heterogeneous: dict = _d(
        job_coaching=dict(dimension="age", lock_in={"18-26": 1.1, "27-49": 1.0, "50+": 0.95},
                          post={"18-26": 2.0, "27-49": 1.5, "50+": 1.1}),
        training=dict(dimension="education", lock_in={"low": 0.6, "medium": 0.6, "high": 0.6, "unknown": 0.6},
                      post={"low": 1.8, "medium": 1.4, "high": 1.1, "unknown": 1.5}),
        work_experience=dict(dimension="migration",
                             lock_in={"dutch": 0.8, "western": 0.8, "non_western": 0.8, "unknown": 0.8},
                             post={"dutch": 1.3, "western": 1.3, "non_western": 1.8, "unknown": 1.3}),
        participation=dict(dimension=None, lock_in={"all": 1.0}, post={"all": 1.0}),
    )
    #: constant effects: one hazard ratio per programme (lock-in = post, every group)
    hazard_ratios: dict = _d(job_coaching=1.5, training=1.3, work_experience=1.4, participation=1.0)

    def to_dict(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self)))


@dataclass
class SimulatedMunicipality:
    """A simulated municipality: input tables, study settings and the truth.

    ``tables``: persons, households, benefits, jobs, programmes (contract columns).
    ``study``: municipality, window_start, window_end (ISO text). ``true_effects``: contract
    effects columns, method "truth". ``true_hazard_ratios``: programme, group, phase,
    hazard_ratio. ``individual_effects``: one row per programme start. ``params``: the
    :class:`SimulationParams` used. ``states``: month-end state codes (persons x grid months;
    0 bijstand, 1 bijstand_met_werk, 2 werk, 3 ww, 4 overig), ``months``: the grid's month ends.
    ``timings``: seconds per stage.
    """

    tables: dict[str, pd.DataFrame]
    study: dict
    true_effects: pd.DataFrame
    true_hazard_ratios: pd.DataFrame
    individual_effects: pd.DataFrame
    params: SimulationParams
    states: np.ndarray = field(repr=False, default=None)
    months: pd.DatetimeIndex = field(repr=False, default=None)
    timings: dict = field(default_factory=dict)

    def status_labels(self) -> np.ndarray:
        """Month-end status labels (persons x grid months) in contract words."""
        return np.asarray(STATE_LABELS, dtype=object)[self.states]


# ------------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------------


def _year_value(table: dict, year: int, default: float = 0.0) -> float:
    return float(table.get(str(int(year)), default))


def _choice(u: np.ndarray, probs) -> np.ndarray:
    """Index drawn from ``probs`` (normalised) with uniforms ``u`` (inverse CDF)."""
    p = np.asarray(probs, dtype=float)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0 + 1e-12
    return np.searchsorted(cum, u, side="right").astype(np.int8)


def _geometric(u: np.ndarray, mean: float) -> np.ndarray:
    """1 + geometric number of months with the given mean (>= 1)."""
    q = 1.0 - 1.0 / max(mean, 1.0 + 1e-9)
    return 1 + np.floor(np.log(np.clip(u, 1e-300, 1.0)) / np.log(q)).astype(np.int64)


_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _hash_uniform(seed: int, a, b, salt: int) -> np.ndarray:
    """Deterministic uniforms in [0, 1) from (seed, a, b, salt) (splitmix64), vectorised."""
    a = np.asarray(a, dtype=np.int64).view(np.uint64)
    b = np.asarray(b, dtype=np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        x = (np.uint64(seed & 0xFFFFFFFF) * np.uint64(0x9E3779B97F4A7C15)
             + a * np.uint64(0xBF58476D1CE4E5B9) + b * np.uint64(0x94D049BB133111EB)
             + np.uint64(salt) * np.uint64(0xD6E8FEB86659FD93))
        for _ in range(2):
            x = x ^ (x >> np.uint64(30))
            x = x * np.uint64(0xBF58476D1CE4E5B9)
            x = x ^ (x >> np.uint64(27))
            x = x * np.uint64(0x94D049BB133111EB)
            x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * (2.0**-53)


class _Calendar:
    """Grid months: index 0 = first grid month; absolute month numbers (year*12+month-1)."""

    def __init__(self, window_start, window_end):
        ws, we = pd.Timestamp(window_start), pd.Timestamp(window_end)
        if ws.day != 1:
            raise ValueError(f"window_start must be the first day of a month, found {ws:%Y-%m-%d}")
        if we != we + pd.offsets.MonthEnd(0):
            raise ValueError(f"window_end must be the last day of a month, found {we:%Y-%m-%d}")
        self.ws, self.we = ws, we
        self.win_abs = ws.year * 12 + ws.month - 1
        self.last_abs = we.year * 12 + we.month - 1
        if self.last_abs < self.win_abs + FOLLOW_UP:
            raise ValueError("the window must hold more than 18 months")
        self.grid_abs = self.win_abs - HISTORY_MONTHS
        self.T = self.last_abs - self.grid_abs + 1
        self.ws_m = HISTORY_MONTHS  # grid index of the first window month
        self.base = np.datetime64(f"{self.grid_abs // 12:04d}-{self.grid_abs % 12 + 1:02d}", "M")
        m = np.arange(self.T)
        self.year = (self.grid_abs + m) // 12
        self.month = (self.grid_abs + m) % 12 + 1

    def first_day(self, m) -> np.ndarray:
        return (self.base + np.asarray(m, dtype=np.int64)).astype("datetime64[D]")

    def days_in_month(self, m) -> np.ndarray:
        m = np.asarray(m, dtype=np.int64)
        return ((self.base + m + 1).astype("datetime64[D]") - (self.base + m).astype("datetime64[D]")).astype(
            np.int64)

    def month_ends(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex((self.base + np.arange(1, self.T + 1)).astype("datetime64[D]")
                                - np.timedelta64(1, "D"))


# ------------------------------------------------------------------------------------------------
# persons, households, pre-history
# ------------------------------------------------------------------------------------------------


@dataclass
class _Persons:
    n: int
    is_stock: np.ndarray
    female: np.ndarray
    b_abs: np.ndarray  # birth month (absolute)
    bday: np.ndarray  # birth day of month
    mig: np.ndarray  # index into contract.MIGRATION
    sh: np.ndarray  # status holder
    edu: np.ndarray  # index into contract.EDUCATION
    z: np.ndarray  # frailty (standard normal)
    anchor: np.ndarray  # grid month: stock spell start (may be < 0) / entry month
    free_from: np.ndarray  # first grid month with free transitions
    hh_pos: np.ndarray  # (n, 4) positions
    hh_chg: np.ndarray  # (n, 3) change months (grid index, sorted; big = none)
    seg_state: np.ndarray  # (n, K) forced segments, 0 = anchor, backwards in time
    seg_start: np.ndarray  # (n, K)
    nseg: np.ndarray


def _age_bands3(age_years: np.ndarray) -> np.ndarray:
    return np.where(age_years < 27, 0, np.where(age_years < 50, 1, 2))


def _draw_persons(p: SimulationParams, cal: _Calendar, rng: np.random.Generator) -> _Persons:
    n = p.n_persons
    n_stock = int(round(n * p.stock_share))
    is_stock = np.zeros(n, dtype=bool)
    is_stock[:n_stock] = True
    u = rng.random((17, n))

    # entry month of entrants (first in-window month on bijstand)
    ent_m = np.arange(cal.ws_m, cal.T)
    w = np.array([_year_value(p.entry_year_weights, cal.year[m], 1.0) for m in ent_m])
    w = w * np.exp(p.entry_trend * (ent_m - cal.ws_m) / 12.0)
    covid = (cal.year[ent_m] == 2020) & np.isin(cal.month[ent_m], (4, 5, 6))
    w = np.where(covid, w * p.entry_covid_bump, w)
    e = ent_m[np.searchsorted(np.cumsum(w) / w.sum(), u[0], side="right").clip(0, len(ent_m) - 1)]
    ref = np.where(is_stock, cal.ws_m - 1, e)  # reference month for characteristics
    ref_year = cal.year[ref]

    # status holder entrants by year; then migration
    sh_entry = np.array([_year_value(p.status_holder_entry, y) for y in ref_year])
    mig_names = list(C.MIGRATION)
    mig = _choice(u[1], [p.migration_probs[k] for k in mig_names])
    nw = mig_names.index("non_western")
    sh = np.where(is_stock, (mig == nw) & (u[2] < p.status_holder_share_stock), u[2] < sh_entry)
    mig = np.where(sh, nw, mig).astype(np.int8)

    female = u[3] < np.where(is_stock, p.female_stock, p.female_entrants)
    female = np.where(sh & ~is_stock, u[3] < 0.35, female)  # status holder entrants: more often men
    # age at the reference month (end of it), in months
    probs = np.where(is_stock[:, None], np.array(p.age_probs_stock)[None, :],
                     np.array(p.age_probs_entrants)[None, :])
    band = (np.cumsum(probs, axis=1) < u[4][:, None]).sum(axis=1).clip(0, 4)
    aow = np.array([_aow(y) for y in ref_year])
    lo = np.array(_AGE_LO)[band] * 12
    hi = np.where(band < 4, np.append(np.array(_AGE_LO[1:]) * 12, 0)[band], aow - 1)
    age_ref = lo + np.floor(u[5] * (hi - lo)).astype(np.int64)
    age_ref = np.where(sh, np.clip(age_ref, 19 * 12, 55 * 12), age_ref)
    b_abs = (cal.grid_abs + ref) - age_ref
    bday = 1 + np.floor(u[6] * 28).astype(np.int64)

    # education
    ages_y = age_ref // 12
    unk = np.where((mig == nw) & (ages_y >= 50), p.education_unknown_nw50, p.education_unknown)
    edu_known = _choice(u[7], [p.education_probs[k] for k in ("low", "medium", "high")])
    edu = np.where(u[8] < unk, 3, edu_known).astype(np.int8)
    edu = np.where(sh & (edu == 2) & (u[8] > 0.5), 0, edu).astype(np.int8)

    # household at the reference month
    hh_ref = np.zeros(n, dtype=np.int8)
    ab = _age_bands3(ages_y)
    for s, sx in ((True, "F"), (False, "M")):
        for k, lab in enumerate(C.AGE_BANDS):
            sel = (female == s) & (ab == k)
            hh_ref[sel] = _choice(u[9][sel], p.household_probs[f"{sx}:{lab}"])
    hh_ref = np.where(sh & (hh_ref == 0) & (u[16] < 0.35), 3, hh_ref).astype(np.int8)  # families
    hh_pos, hh_chg = _household_paths(p, cal, is_stock, ref, hh_ref, b_abs, u[10:16])

    # frailty and stock durations
    z = rng.standard_normal(n)
    anchor = e.copy()
    free_from = e + 1
    if n_stock:
        d0, zs = _stock_durations(p, cal, female, mig, sh, edu, hh_ref, age_ref, is_stock, rng)
        anchor = np.where(is_stock, cal.ws_m - d0, anchor)
        z = np.where(is_stock, zs, z)
        free_from = np.where(is_stock, cal.ws_m, free_from)

    pers = _Persons(n=n, is_stock=is_stock, female=female, b_abs=b_abs, bday=bday, mig=mig, sh=sh, edu=edu,
                    z=z, anchor=anchor.astype(np.int64), free_from=free_from.astype(np.int64), hh_pos=hh_pos,
                    hh_chg=hh_chg, seg_state=None, seg_start=None, nseg=None)
    _prehistory(p, cal, pers, rng)
    return pers


def _aow(year: int) -> int:
    year = int(year)
    if year in AOW_MONTHS:
        return AOW_MONTHS[year]
    return 780 if year < 2010 else 804


def _household_paths(p, cal, is_stock, ref, hh_ref, b_abs, u):
    """Exogenous household positions: (n, 4) positions and (n, 3) sorted change months (big = none).

    The position at grid month m is child_at_home before the 18th birthday month, then an earlier
    position before the pre-change month (if any), the reference position, and a later position
    from the post-change month (if any). Only changes inside the grid that change the position
    are kept.
    """
    n = len(ref)
    big = 10**6
    codes = {k: i for i, k in enumerate(C.HOUSEHOLD_POSITIONS)}
    single, sp, cnc, cwc, cah = (codes[k] for k in ("single", "single_parent", "couple_no_children",
                                                    "couple_with_children", "child_at_home"))
    age_ref = (cal.grid_abs + ref) - b_abs
    # earlier position (before the reference month): e.g. a couple before a divorce
    change_pre = u[0] < np.where(is_stock, p.household_change_before_stock, p.household_change_before)
    prev = np.full(n, single, dtype=np.int64)
    prev = np.where(hh_ref == sp, cwc, prev)
    prev = np.where(hh_ref == single, np.where((u[1] < 0.5) | (age_ref >= 25 * 12), cnc, cah), prev)
    lag = np.floor(u[2] * np.where(is_stock, 120, 12)).astype(np.int64)
    c_pre = np.where(change_pre, ref - lag, -big)
    # later position
    change_post = u[3] < p.household_change_after
    nxt = np.where(hh_ref == single, np.where(u[4] < 0.7, cnc, sp), single)
    nxt = np.where(hh_ref == sp, np.where(u[4] < 0.6, single, cwc), nxt)
    nxt = np.where(hh_ref == cwc, np.where(u[4] < 0.5, sp, single), nxt)
    c_post = np.where(change_post, ref + 1 + np.floor(u[5] * np.maximum(cal.T - ref - 1, 1)).astype(np.int64), big)
    c18 = (b_abs + 18 * 12) - cal.grid_abs

    def pos_at(m):
        out = np.where(m < c_post, hh_ref, nxt)
        out = np.where(m < c_pre, prev, out)
        return np.where(m < c18, cah, out)

    cand = np.sort(np.stack([c18, c_pre, c_post], axis=1), axis=1)
    out_pos = np.empty((n, 4), dtype=np.int8)
    out_chg = np.full((n, 3), big, dtype=np.int64)
    cur = pos_at(np.zeros(n, dtype=np.int64))
    out_pos[:, 0] = cur
    cnt = np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    for k in range(3):
        m = cand[:, k]
        pm = pos_at(m)
        ch = (m > 0) & (m < cal.T) & (pm != cur)
        i = rows[ch]
        out_chg[i, cnt[i]] = m[i]
        cnt[i] += 1
        out_pos[i, cnt[i]] = pm[i]
        cur = np.where(ch, pm, cur)
    for k in range(1, 4):
        unused = k > cnt
        out_pos[unused, k] = out_pos[unused, k - 1]
    return out_pos, out_chg


def _stock_durations(p, cal, female, mig, sh, edu, hh, age_ref, is_stock, rng):
    """Joint (elapsed duration, frailty) for the stock from the model's steady state."""
    idx = np.flatnonzero(is_stock)
    x = _static_work(p, female[idx], mig[idx], sh[idx], edu[idx])
    age_y = age_ref[idx] / 12.0
    lw_i = (p.work["base"] + x + np.interp(age_y, p.work["age_knots"], p.work["age_values"])
            + np.array([p.work["household"][k] for k in C.HOUSEHOLD_POSITIONS])[hh[idx]]
            + _year_value(p.work["year"], cal.year[cal.ws_m - 1]))
    lo_i = (p.other["base"] + sh[idx] * p.other["status_holder"]
            + np.interp(age_y, p.other["age_knots"], p.other["age_values"])
            + np.array([p.other["household"][k] for k in C.HOUSEHOLD_POSITIONS])[hh[idx]])
    dmax_all = p.stock_max_elapsed_months
    d = np.arange(1, dmax_all + 1)
    gw = np.exp(np.interp(np.log(d), np.log(p.work["duration_knots"]), p.work["duration_values"]))
    go = np.exp(np.interp(np.log(d), np.log(p.other["duration_knots"]), p.other["duration_values"]))
    # cumulative hazard before month-end d (exits in months with elapsed 1..d-1)
    Gw = np.concatenate([[0.0], np.cumsum(gw)])  # Gw[d-1] = sum_{k<d}
    Go = np.concatenate([[0.0], np.cumsum(go)])
    dmax = np.clip(age_ref[idx] - 18 * 12, 1, dmax_all)
    m = len(idx)
    d0 = np.zeros(m, dtype=np.int64)
    z = np.zeros(m)
    todo = np.arange(m)
    sigma = p.frailty
    for _ in range(10_000):
        if len(todo) == 0:
            break
        zz = rng.standard_normal(len(todo))
        dd = 1 + np.floor(rng.random(len(todo)) * dmax[todo]).astype(np.int64)
        H = np.exp(lw_i[todo] + sigma * zz) * Gw[dd - 1] + np.exp(lo_i[todo]) * Go[dd - 1]
        acc = rng.random(len(todo)) < np.exp(-H)
        d0[todo[acc]] = dd[acc]
        z[todo[acc]] = zz[acc]
        todo = todo[~acc]
    out_d = np.zeros(len(is_stock), dtype=np.int64)
    out_z = np.zeros(len(is_stock))
    out_d[idx] = d0
    out_z[idx] = z
    return out_d, out_z


def _prehistory(p: SimulationParams, cal: _Calendar, pers: _Persons, rng) -> None:
    """Backward chain of forced segments before the anchor (see the module docstring)."""
    n = pers.n
    K = 12
    big = 10**6
    seg_state = np.full((n, K), O, dtype=np.int8)
    seg_start = np.full((n, K), -big, dtype=np.int64)
    seg_state[:, 0] = B
    seg_start[:, 0] = pers.anchor
    nseg = np.ones(n, dtype=np.int64)
    cur_state = np.full(n, B, dtype=np.int8)
    cur_start = pers.anchor.copy()
    age16 = pers.b_abs + 16 * 12 - cal.grid_abs
    age18 = pers.b_abs + 18 * 12 - cal.grid_abs
    # an earlier bijstand spell must end by grid month ws_m - 2 (month end ws_m - 1 off bijstand)
    last_b_end = cal.ws_m - 2
    young = (pers.anchor + cal.grid_abs - pers.b_abs) < 23 * 12

    def table(d):
        return np.array([d.get(k, 0.0) for k in ("ww", "work", "overig", "bijstand")])

    t_bb, t_bby, t_bw, t_bo = (table(p.before_bijstand), table(p.before_bijstand_young), table(p.before_work),
                               table(p.before_overig))
    t_bww = table({"work": 1.0})
    codes = np.array([WW, W, O, B], dtype=np.int8)
    for k in range(1, K):
        active = cur_start > 0
        if not active.any():
            break
        u = rng.random((3, n))
        probs = np.zeros((n, 4))
        probs[cur_state == B] = t_bb
        probs[(cur_state == B) & young] = t_bby
        probs[cur_state == W] = t_bw
        probs[cur_state == O] = t_bo
        probs[cur_state == WW] = t_bww
        end = cur_start - 1
        b_ok = (end <= last_b_end) & (end >= age18 + 1)
        probs[:, 3] = np.where(b_ok, probs[:, 3], 0.0)
        w_ok = end >= age16 + 1
        probs[:, 0] = np.where(w_ok, probs[:, 0], 0.0)
        probs[:, 1] = np.where(w_ok, probs[:, 1], 0.0)
        tot = probs.sum(axis=1)
        probs[tot == 0, 2] = 1.0
        cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
        pick = (cum < u[0][:, None]).sum(axis=1).clip(0, 3)
        st = codes[pick]
        L = np.ones(n, dtype=np.int64)
        L = np.where(st == W, _geometric(u[1], p.seg_mean_work), L)
        L = np.where(st == O, _geometric(u[1], p.seg_mean_overig), L)
        L = np.where(st == B, _geometric(u[1], p.seg_mean_bijstand), L)
        lo_ww, hi_ww = np.where(cur_state == B, p.seg_ww_before_bijstand[0], p.seg_ww_other[0]), np.where(
            cur_state == B, p.seg_ww_before_bijstand[1], p.seg_ww_other[1])
        L = np.where(st == WW, lo_ww + np.floor(u[2] * (hi_ww - lo_ww + 1)).astype(np.int64), L)
        start = end - L + 1
        # age limits: work/WW from 16, bijstand from 18; before that overig for good
        lim = np.where(st == B, age18, np.where(st == O, -big, age16))
        cut = start < lim
        start = np.where(cut, lim, start)
        st = np.where(cut & (start > end), O, st).astype(np.int8)
        start = np.where(cut & (st == O), -big, start)
        set_ = active
        seg_state[set_, k] = st[set_]
        seg_start[set_, k] = start[set_]
        nseg[set_] = k + 1
        # after a cut segment the rest is overig for good
        cur_state = np.where(set_, st, cur_state)
        cur_start = np.where(set_, start, cur_start)
        young_cut = set_ & cut & (st != O) & (start > 0)
        if young_cut.any() and k + 1 < K:
            seg_state[young_cut, k + 1] = O
            seg_start[young_cut, k + 1] = -big
            nseg[young_cut] = k + 2
            cur_start = np.where(young_cut, -big, cur_start)
    left = cur_start > 0  # ran out of segments: overig before
    if left.any():
        seg_state[left, K - 1] = O
        seg_start[left, K - 1] = -big
        nseg[left] = K
    pers.seg_state, pers.seg_start, pers.nseg = seg_state, seg_start, nseg


def _static_work(p, female, mig, sh, edu):
    migv = np.array([p.work["migration"][k] for k in C.MIGRATION])
    eduv = np.array([p.work["education"][k] for k in C.EDUCATION])
    return p.work["female"] * female + migv[mig] + p.work["status_holder"] * sh + eduv[edu]


# ------------------------------------------------------------------------------------------------
# the month loop
# ------------------------------------------------------------------------------------------------


class _Pop:
    """Struct of arrays for the actual population or the clones."""

    def __init__(self, **arrays):
        self.__dict__.update(arrays)

    @property
    def n(self) -> int:
        return len(self.pid)

    def take(self, idx) -> _Pop:
        return _Pop(**{k: v[idx] for k, v in self.__dict__.items()})

    def concat(self, other: _Pop) -> _Pop:
        return _Pop(**{k: np.concatenate([v, other.__dict__[k]]) for k, v in self.__dict__.items()})


class _Model:
    """Hazards and the monthly step, shared by the actual population and the clones."""

    def __init__(self, p: SimulationParams, cal: _Calendar, pers: _Persons):
        self.p, self.cal, self.pers = p, cal, pers
        hh_names = C.HOUSEHOLD_POSITIONS
        self.w_static = _static_work(p, pers.female, pers.mig, pers.sh, pers.edu) + p.frailty * pers.z
        self.w_hh = np.array([p.work["household"][k] for k in hh_names])
        self.w_dk, self.w_dv = np.log(p.work["duration_knots"]), np.array(p.work["duration_values"])
        self.o_dk, self.o_dv = np.log(p.other["duration_knots"]), np.array(p.other["duration_values"])
        self.o_static = p.other["status_holder"] * pers.sh
        self.o_hh = np.array([p.other["household"][k] for k in hh_names])
        sj = p.side_job
        edu_s = np.array([sj["education"][k] for k in C.EDUCATION])
        self.s_static = sj["female"] * pers.female + edu_s[pers.edu] + sj["non_western"] * (
            pers.mig == C.MIGRATION.index("non_western"))
        # programme take-up static parts (n, P)
        P = len(PROGRAMMES)
        self.prog_static = np.zeros((pers.n, P))
        self.prog_hh = np.zeros((P, len(hh_names)))
        nw, we = C.MIGRATION.index("non_western"), C.MIGRATION.index("western")
        for j, name in enumerate(PROGRAMMES):
            c = p.programmes[name]
            self.prog_static[:, j] = (c["base"] + c["female"] * pers.female + c["western"] * (pers.mig == we)
                                      + c["non_western"] * (pers.mig == nw) + c["status_holder"] * pers.sh
                                      + c["edu_low"] * (pers.edu == 0) + c["edu_high"] * (pers.edu == 2)
                                      + c["edu_unknown"] * (pers.edu == 3))
            self.prog_hh[j, hh_names.index("single_parent")] = c["single_parent"]
            self.prog_hh[j, hh_names.index("couple_no_children")] = c["couple"]
            self.prog_hh[j, hh_names.index("couple_with_children")] = c["couple"]
        self.prog_hist = np.array([[p.programmes[k][c] for c in ("employed_36m", "bijstand_36m", "ww_36m",
                                                                    "employed_before", "age_18_26", "age_50plus")]
                                   for k in PROGRAMMES])
        self.prog_peak = np.log(np.array([p.programmes[k]["peak"] for k in PROGRAMMES]))
        self.prog_width = np.array([p.programmes[k]["width"] for k in PROGRAMMES])
        self.prog_months = np.array([p.programmes[k]["months"] for k in PROGRAMMES])
        # hazard ratios by programme and group value
        self._hr_tables()
        # job attributes
        self.contracts = list(C.CONTRACTS)
        self.c_after = [p.contract_after_bijstand[k] for k in self.contracts]
        self.c_general = [p.contract_general[k] for k in self.contracts]
        self.c_side = [p.contract_side_job[k] for k in self.contracts]
        self.job_end = np.array([p.job_end[k] for k in self.contracts])
        self.hours = np.array([p.hours_by_contract[k] for k in self.contracts])
        self.sectors = list(C.SECTORS)

        def sec(d):
            return np.array([d.get(s, 0.0) for s in self.sectors])
        self.s_after, self.s_general, self.s_side = (sec(p.sector_after_bijstand), sec(p.sector_general),
                                                     sec(p.sector_side_job))
        self.wage_edu = np.array([p.wage_premium_education[k] for k in C.EDUCATION])
        self.reentry = np.array(p.reentry_from_overig, dtype=float)
        self.aow = np.array([_aow(y) for y in cal.year])

    def _hr_tables(self):
        p = self.p
        # hr[prog, dimension value code]; value codes per dimension
        self.hr_dim = []
        self.hr_lock = []
        self.hr_post = []
        for name in PROGRAMMES:
            if p.effects == "constant":
                hr = float(p.hazard_ratios.get(name, 1.0))
                self.hr_dim.append(None)
                self.hr_lock.append(np.array([hr]))
                self.hr_post.append(np.array([hr]))
                continue
            spec = p.effects_heterogeneous[name]
            dim = spec["dimension"]
            values = ("all",) if dim is None else C.GROUP_DIMENSIONS[dim][1]
            self.hr_dim.append(dim)
            self.hr_lock.append(np.array([float(spec["lock_in"].get(v, 1.0)) for v in values]))
            self.hr_post.append(np.array([float(spec["post"].get(v, 1.0)) for v in values]))

    # --- helpers on populations ----------------------------------------------------------------
    def household(self, pid, m) -> np.ndarray:
        pers = self.pers
        k = (np.reshape(m, (-1, 1)) >= pers.hh_chg[pid]).sum(axis=1)
        return pers.hh_pos[pid, k]

    def age_months(self, pid, m) -> np.ndarray:
        """Completed months of age at the end of grid month m (whole years = // 12)."""
        return (self.cal.grid_abs + m) - self.pers.b_abs[pid]

    # --- the step ------------------------------------------------------------------------------
    def step(self, pop: _Pop, t: int, U: np.ndarray, S: np.ndarray | None, actual: bool):
        """Advance ``pop`` through month t. Returns (new job mask, job attributes, starts)."""
        p, cal, pers = self.p, self.cal, self.pers
        pid = pop.pid
        u = U if actual else U[:, pid]
        prev = pop.st.copy()
        on_prev = prev <= BMW
        emp_prev = (prev == W) | (prev == BMW)

        # history counts: month ends t-36..t-1
        if S is not None:
            if t == 36 and actual:
                hist = S[0:36] & 7
                pop.emp36 = ((hist == W) | (hist == BMW)).sum(axis=0).astype(np.int16)
                pop.bij36 = (hist <= BMW).sum(axis=0).astype(np.int16)
                pop.ww36 = (hist == WW).sum(axis=0).astype(np.int16)
            elif t > 36:
                old = S[t - 37] & 7 if actual else S[t - 37, pid] & 7
                pop.emp36 += (emp_prev.astype(np.int16) - ((old == W) | (old == BMW)))
                pop.bij36 += (on_prev.astype(np.int16) - (old <= BMW))
                pop.ww36 += ((prev == WW).astype(np.int16) - (old == WW))

        age_m = self.age_months(pid, t - 1)
        age_y = age_m / 12.0
        year = cal.year[t]
        pension = (age_m >= self.aow[t]) & ~pop.pens
        forced = t < pers.free_from[pid]
        new = prev.copy()
        switch = np.zeros(pop.n, dtype=bool)

        # ---- forced months (pre-history, stock before the window, entry month) ----------------
        if forced.any():
            fi = np.flatnonzero(forced)
            fp = pid[fi]
            ptr = pop.ptr[fi]
            nxt = np.maximum(ptr - 1, 0)
            adv = (ptr > 0) & (t >= pers.seg_start[fp, nxt])
            ptr = np.where(adv, nxt, ptr)
            pop.ptr[fi] = ptr
            target = pers.seg_state[fp, ptr]
            pv = prev[fi]
            nv = target.copy()
            tb = target == B
            side_on = self._side_on(pid[fi], pop.dur[fi], age_y[fi], pop.emp36[fi])
            keep = (pv == BMW) & ~(u[U_SIDE, fi] < p.side_job["end"])
            start_side = (pv == B) & (u[U_SIDE, fi] < side_on)
            keep_job = (pv == W) & (u[U_SIDE, fi] < p.keep_job_at_entry)
            nv = np.where(tb & (keep | start_side | keep_job), BMW, nv)
            # forced work: job changes inside the run
            tw = (target == W) & (pv == W)
            jend = 1.0 - np.exp(-self.job_end[np.maximum(pop.contract[fi], 0)])
            sw = tw & (u[U_EXIT, fi] < jend)
            new[fi] = nv
            switch[fi] = sw

        # ---- free months ------------------------------------------------------------------------
        free = ~forced
        # bijstand
        ib = np.flatnonzero(free & on_prev)
        if len(ib):
            bp = pid[ib]
            d = pop.dur[ib]
            hh = self.household(bp, t - 1)
            ld = np.log(np.maximum(d, 1))
            lw = (p.work["base"] + self.w_static[bp] + np.interp(ld, self.w_dk, self.w_dv)
                  + np.interp(age_y[ib], p.work["age_knots"], p.work["age_values"]) + self.w_hh[hh]
                  + p.work["employed_36m"] * pop.emp36[ib] + p.work["side_job"] * (prev[ib] == BMW)
                  + _year_value(p.work["year"], year) + (p.work["covid"] if self._covid(t, (4, 9)) else 0.0))
            # programme effect (started in an earlier month of this spell)
            hr = np.ones(len(ib))
            inp = pop.prog[ib] >= 0
            if inp.any():
                lock = t <= pop.pt0[ib] + pop.pdur[ib]
                hr = np.where(inp, np.where(lock, pop.hrl[ib], pop.hrp[ib]), 1.0)
            hw = np.exp(lw) * hr
            lo = (p.other["base"] + self.o_static[bp] + np.interp(ld, self.o_dk, self.o_dv)
                  + np.interp(age_y[ib], p.other["age_knots"], p.other["age_values"]) + self.o_hh[hh])
            ho = np.exp(lo)
            h = hw + ho
            ex = u[U_EXIT, ib] < -np.expm1(-h)
            to_work = u[U_CAUSE, ib] * h < hw
            p_ww = np.where(prev[ib] == BMW, p.other["to_ww_from_side_job"], p.other["to_ww"])
            dest = np.where(to_work, W, np.where(u[U_DEST, ib] < p_ww, WW, O))
            side_on = self._side_on(bp, d, age_y[ib], pop.emp36[ib])
            stay = np.where(prev[ib] == BMW, np.where(u[U_SIDE, ib] < p.side_job["end"], B, BMW),
                            np.where(u[U_SIDE, ib] < side_on, BMW, B))
            nv = np.where(ex, dest, stay)
            nv = np.where(pension[ib], O, nv)
            new[ib] = nv
            pop.wwleft[ib] = np.where(nv == WW, np.minimum(24, 3 + pop.emp36[ib] // 12) - 1, pop.wwleft[ib])
        # work
        iw = np.flatnonzero(free & (prev == W))
        if len(iw):
            c = np.maximum(pop.contract[iw], 0)
            hz = self.job_end[c] * np.where(pop.tenure[iw] <= 6, p.job_end_first_months, 1.0)
            end = u[U_EXIT, iw] < -np.expm1(-hz)
            j2j = end & (u[U_CAUSE, iw] < p.job_to_job)
            elig = pop.emp36[iw] >= 6
            de, dn = p.job_loss_dest_eligible, p.job_loss_dest_not_eligible
            pd_ = np.where(elig[:, None], np.array([de["ww"], de["bijstand"], de["overig"]])[None, :],
                           np.array([dn["ww"], dn["bijstand"], dn["overig"]])[None, :])
            cum = np.cumsum(pd_, axis=1)
            k = (cum < u[U_DEST, iw][:, None] * cum[:, -1:]).sum(axis=1)
            loss_dest = np.array([WW, B, O])[np.clip(k, 0, 2)]
            topup = ~end & (u[U_SIDE, iw] < p.topup_hazard)
            nv = np.where(end, np.where(j2j, W, loss_dest), np.where(topup, BMW, W))
            nv = np.where(pension[iw], O, nv)
            new[iw] = nv
            switch[iw] = end & j2j & ~pension[iw]
            pop.wwleft[iw] = np.where(nv == WW, np.minimum(24, 3 + np.maximum(pop.tenure[iw], pop.emp36[iw]) // 12)
                                      - 1, pop.wwleft[iw])
        # WW
        iww = np.flatnonzero(free & (prev == WW))
        if len(iww):
            exhausted = pop.wwleft[iww] <= 0
            h = p.ww_to_work + p.ww_to_overig
            ex = u[U_EXIT, iww] < -np.expm1(-h)
            to_w = u[U_CAUSE, iww] * h < p.ww_to_work
            nv = np.where(ex, np.where(to_w, W, O), WW)
            nv = np.where(exhausted & (nv == WW), np.where(u[U_DEST, iww] < p.ww_exhausted_to_bijstand, B, O), nv)
            nv = np.where(pension[iww], O, nv)
            new[iww] = nv
            pop.wwleft[iww] -= 1
        # overig
        io = np.flatnonzero(free & (prev == O) & ~pop.pens)
        if len(io):
            s = pop.since[io]
            hb = self.reentry[np.searchsorted(self.reentry[:, 0], s, side="left").clip(0, len(self.reentry) - 1), 1]
            hwk = p.overig_to_work
            h = hb + hwk
            ex = u[U_EXIT, io] < -np.expm1(-h)
            nv = np.where(ex, np.where(u[U_CAUSE, io] * h < hb, B, W), O)
            nv = np.where(pension[io], O, nv)
            new[io] = nv

        # pension for everyone who reaches the age (forced months never do: entrants are younger)
        pop.pens = pop.pens | pension
        # ---- bookkeeping ------------------------------------------------------------------------
        on_new = new <= BMW
        emp_new = (new == W) | (new == BMW)
        newjob = emp_new & (~emp_prev | switch | ((prev == BMW) & (new == W)))
        if t == 0:
            newjob = emp_new.copy()
        pop.dur = np.where(on_new, np.where(on_prev, pop.dur + 1, 1), 0)
        pop.since = np.where(on_new, 0, pop.since + 1)
        left = ~on_new & (pop.prog >= 0)
        if left.any():
            pop.prog = np.where(left, -1, pop.prog).astype(np.int8)
        pop.tenure = np.where(emp_new, np.where(newjob, 1, pop.tenure + 1), 0)
        attrs = None
        if newjob.any():
            ij = np.flatnonzero(newjob)
            side = new[ij] == BMW
            after = (pop.since[ij] <= 24) | on_prev[ij]
            uc = u[U_CONTRACT, ij]
            contract = np.where(side, _choice(uc, self.c_side),
                                np.where(after, _choice(uc, self.c_after), _choice(uc, self.c_general)))
            pop.contract[ij] = contract
            if actual:
                attrs = self._job_attributes(pid[ij], t, contract, side, after, u[:, ij])
                attrs["idx"] = ij
        pop.contract = np.where(emp_new, pop.contract, -1).astype(np.int8)
        pop.st = new.astype(np.int8)

        # ---- programme take-up (on bijstand at the end of t, none yet in this spell) -------------
        starts = None
        if t >= cal.ws_m:
            el = np.flatnonzero(on_new & (pop.prog < 0) & ~pop.pens)
            if len(el):
                ep = pid[el]
                lh = self.takeup_log_hazards(ep, t, pop.dur[el] - 1, pop.emp36[el], pop.bij36[el], pop.ww36[el],
                                             emp_prev[el])
                hz = np.exp(lh)
                H = hz.sum(axis=1)
                go = u[U_TAKEUP, el] < -np.expm1(-H)
                if go.any():
                    gi = np.flatnonzero(go)
                    cum = np.cumsum(hz[gi], axis=1)
                    which = (cum < (u[U_WHICH, el[gi]] * H[gi])[:, None]).sum(axis=1).clip(0, len(PROGRAMMES) - 1)
                    lo_m, hi_m = self.prog_months[which, 0], self.prog_months[which, 1]
                    months = lo_m + np.floor(u[U_PDUR, el[gi]] * (hi_m - lo_m + 1)).astype(np.int64)
                    si = el[gi]
                    hrl, hrp = self.hazard_ratios_at(pid[si], which, t)
                    pop.prog[si] = which
                    pop.pt0[si] = t
                    pop.pdur[si] = months
                    pop.hrl[si] = hrl
                    pop.hrp[si] = hrp
                    starts = si
        return newjob, attrs, starts

    def _covid(self, t, months) -> bool:
        return self.cal.year[t] == 2020 and months[0] <= self.cal.month[t] <= months[1]

    def _side_on(self, pid, d, age_y, emp36):
        sj = self.p.side_job
        lh = (sj["base"] + self.s_static[pid] - sj["duration_slope"] * np.log(np.maximum(d, 3) / 3.0)
             + np.interp(age_y, sj["age_knots"], sj["age_values"]) + sj["employed_36m"] * emp36)
        return -np.expm1(-np.exp(lh))

    def takeup_log_hazards(self, pid, t, spell_month, emp36, bij36, ww36, emp_prev):
        """Log take-up hazard per programme (m, P), from observables at month t only."""
        p = self.p
        age_y = self.age_months(pid, t) // 12
        hh = self.household(pid, t)
        lsm = np.log(np.maximum(spell_month, 0) + 1.0)
        prof = -((lsm[:, None] - self.prog_peak[None, :]) ** 2) / (2 * self.prog_width[None, :] ** 2)
        h = self.prog_hist
        lh = (self.prog_static[pid] + prof + self.prog_hh[:, hh].T
              + emp36[:, None] * h[None, :, 0] + bij36[:, None] * h[None, :, 1] + ww36[:, None] * h[None, :, 2]
              + emp_prev[:, None] * h[None, :, 3] + (age_y < 27)[:, None] * h[None, :, 4]
              + (age_y >= 50)[:, None] * h[None, :, 5])
        cal_eff = _year_value(p.takeup_year, self.cal.year[t]) + (p.takeup_covid if self._covid(t, (4, 6)) else 0.0)
        return lh + cal_eff

    def group_value_codes(self, pid, t) -> dict:
        """Group value codes at time zero (month end t): age band, education, migration."""
        age_y = self.age_months(pid, t) // 12
        return {"age": _age_bands3(age_y), "education": self.pers.edu[pid], "migration": self.pers.mig[pid],
                None: np.zeros(len(pid), dtype=np.int64)}

    def hazard_ratios_at(self, pid, which, t):
        codes = self.group_value_codes(pid, t)
        hrl = np.ones(len(pid))
        hrp = np.ones(len(pid))
        for j in range(len(PROGRAMMES)):
            sel = which == j
            if not sel.any():
                continue
            v = codes[self.hr_dim[j]][sel] if self.hr_dim[j] is not None else np.zeros(sel.sum(), dtype=np.int64)
            hrl[sel] = self.hr_lock[j][v]
            hrp[sel] = self.hr_post[j][v]
        return hrl, hrp

    def _job_attributes(self, pid, t, contract, side, after, u):
        p, pers = self.p, self.pers
        sector = np.where(side, _choice(u[U_SECTOR], self.s_side),
                          np.where(after, _choice(u[U_SECTOR], self.s_after), _choice(u[U_SECTOR], self.s_general)))
        base_h = self.hours[contract] + p.hours_female * pers.female[pid]
        hours = np.clip(np.round(base_h + (u[U_HOURS] - 0.5) * 2 * p.hours_spread), 4, 40)
        lo, hi = p.side_job_hours
        hours = np.where(side, np.round(lo + u[U_HOURS] * (hi - lo)), hours)
        year = self.cal.year[t]
        mw = MIN_WAGE_HOURLY.get(int(year), MIN_WAGE_HOURLY[min(MIN_WAGE_HOURLY, key=lambda y: abs(y - year))])
        age_y = self.age_months(pid, t) // 12
        youth = np.where(age_y < 19, 0.5, np.where(age_y < 21, 0.7, np.where(age_y < 22, 0.85, 1.0)))
        uu = np.clip(u[U_WAGE], 1e-9, 1 - 1e-9)
        prem = (self.wage_edu[pers.edu[pid]] + p.wage_premium_permanent * (contract == 0)
                + p.wage_premium_sd * np.log(uu / (1 - uu)) / 1.8138)
        hourly = mw * youth * np.exp(np.maximum(prem, 0.0))
        wage = np.round(hourly * hours * 52 / 12, 2)
        return {"t": np.full(len(pid), t, dtype=np.int32), "contract": contract.astype(np.int8),
                "sector": sector.astype(np.int8), "hours": hours, "wage": wage}


def _run(p: SimulationParams, cal: _Calendar, pers: _Persons, timings: dict):
    """The month loop: actual population plus clones. Returns states and records."""
    model = _Model(p, cal, pers)
    n, T = pers.n, cal.T
    init_state = pers.seg_state[np.arange(n), pers.nseg - 1]
    init_start = pers.seg_start[np.arange(n), pers.nseg - 1]
    pre = init_start < 0  # first segment began before the grid: that is the state before month 0
    st0 = np.where(pre, init_state, O).astype(np.int8)
    pop = _Pop(
        pid=np.arange(n, dtype=np.int64), st=st0,
        dur=np.where(pre & (st0 == B), -init_start, 0).astype(np.int64),
        since=np.where(st0 == B, 0, 999).astype(np.int64), prog=np.full(n, -1, np.int8),
        pt0=np.full(n, -1, np.int64), pdur=np.zeros(n, np.int64), hrl=np.ones(n), hrp=np.ones(n),
        contract=np.full(n, -1, np.int8), tenure=np.where(pre & (st0 == W), -init_start, 0).astype(np.int64),
        wwleft=np.zeros(n, np.int64), emp36=np.zeros(n, np.int16), bij36=np.zeros(n, np.int16),
        ww36=np.zeros(n, np.int16), pens=np.zeros(n, dtype=bool), ptr=(pers.nseg - 1).astype(np.int64),
    )
    S = np.empty((T, n), dtype=np.int8)
    jobs = []
    events = []  # (pid, t0, prog, months, covariates...)
    clones = None
    clone_ev = np.zeros(0, dtype=np.int64)
    clone_t0 = np.zeros(0, dtype=np.int64)
    cs = np.full((1024, FOLLOW_UP + 1), -1, dtype=np.int8)  # counterfactual states per event (grows)
    n_ev = 0
    pens_t = np.full(n, -1, dtype=np.int64)
    t_clone = 0.0
    for t in range(T):
        abs_m = cal.grid_abs + t
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([p.seed, abs_m])))
        U = rng.random((N_PURPOSES, n))
        pens_before = pop.pens.copy()
        # covariates of possible starters are read after the step; keep the pre-step ones needed
        prev_emp = (pop.st == W) | (pop.st == BMW)
        newjob, attrs, starts = model.step(pop, t, U, S, actual=True)
        S[t] = pop.st | np.where(newjob, NEWJOB, 0).astype(np.int8)
        pens_t[pop.pens & ~pens_before] = t
        if attrs is not None:
            jobs.append(attrs)
        t1 = time.perf_counter()
        # clones of earlier starts step through month t
        if clones is not None and clones.n:
            model.step(clones, t, U, S, actual=False)
            k = t - clone_t0
            cs[clone_ev, k] = clones.st
            done = k >= FOLLOW_UP
            if done.any():
                keep = ~done
                clones = clones.take(keep)
                clone_ev, clone_t0 = clone_ev[keep], clone_t0[keep]
        # new events: record and clone (the clone is the person after month t without the start)
        if starts is not None and len(starts):
            ne = len(starts)
            pid = pop.pid[starts]
            events.append({
                "pid": pid, "t0": np.full(ne, t), "prog": pop.prog[starts].copy(), "months": pop.pdur[starts].copy(),
                "spell_month": pop.dur[starts] - 1, "emp36": pop.emp36[starts].copy(),
                "bij36": pop.bij36[starts].copy(), "ww36": pop.ww36[starts].copy(),
                "emp_before": prev_emp[starts], "hrl": pop.hrl[starts].copy(), "hrp": pop.hrp[starts].copy(),
            })
            new_cl = pop.take(starts)
            new_cl.prog[:] = -1
            new_cl.pt0[:] = -1
            new_cl.hrl[:] = 1.0
            new_cl.hrp[:] = 1.0
            ev_ids = n_ev + np.arange(ne)
            n_ev += ne
            if n_ev > len(cs):
                grown = np.full((max(2 * len(cs), n_ev), FOLLOW_UP + 1), -1, dtype=np.int8)
                grown[:len(cs)] = cs
                cs = grown
            cs[ev_ids, 0] = new_cl.st
            clones = new_cl if clones is None else clones.concat(new_cl)
            clone_ev = np.concatenate([clone_ev, ev_ids])
            clone_t0 = np.concatenate([clone_t0, np.full(ne, t)])
        t_clone += time.perf_counter() - t1
    timings["clones"] = t_clone
    ev = {k: np.concatenate([e[k] for e in events]) if events else np.zeros(0) for k in
          ("pid", "t0", "prog", "months", "spell_month", "emp36", "bij36", "ww36", "emp_before", "hrl", "hrp")}
    job = {k: np.concatenate([a[k] for a in jobs]) if jobs else np.zeros(0) for k in
           ("idx", "t", "contract", "sector", "hours", "wage")}
    return model, S, job, ev, cs[:n_ev], pens_t, init_start


# ------------------------------------------------------------------------------------------------
# spells
# ------------------------------------------------------------------------------------------------


def _runs(mask_nt: np.ndarray, split_nt: np.ndarray | None = None):
    """Runs of True along time in a persons x months mask: (person, first, last), person-major.

    ``split_nt`` marks months where a new run begins even if the previous month was True.
    """
    n, T = mask_nt.shape
    m = mask_nt.astype(np.int8)
    prev = np.zeros_like(m)
    prev[:, 1:] = m[:, :-1]
    nxt = np.zeros_like(m)
    nxt[:, :-1] = m[:, 1:]
    begin = (m == 1) & (prev == 0)
    finish = (m == 1) & (nxt == 0)
    if split_nt is not None:
        begin |= (m == 1) & split_nt
        sp_next = np.zeros_like(split_nt)
        sp_next[:, :-1] = split_nt[:, 1:]
        finish |= (m == 1) & (nxt == 1) & sp_next
    pi, a = np.nonzero(begin)
    pj, b = np.nonzero(finish)
    if not np.array_equal(pi, pj):
        raise RuntimeError("internal error: run starts and ends do not pair up")
    return pi, a, b


def _ns(days) -> np.ndarray:
    """Day dates (datetime64[D], NaT allowed) as datetime64[ns], pandas' usual resolution."""
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[ns]")


class _Dates:
    def __init__(self, cal: _Calendar, seed: int):
        self.cal, self.seed = cal, seed

    def change_day(self, person, m) -> np.ndarray:
        """Day (2..last) of month m on which a person's change of state takes effect."""
        L = self.cal.days_in_month(m)
        u = _hash_uniform(self.seed, person, m, 1)
        return 2 + np.floor(u * (L - 1)).astype(np.int64)

    def start(self, person, m) -> np.ndarray:
        return self.cal.first_day(m) + (self.change_day(person, m) - 1).astype("timedelta64[D]")

    def end(self, person, b) -> np.ndarray:
        """End date of a run whose last month end is b (NaT when b is the last grid month)."""
        b = np.asarray(b, dtype=np.int64)
        last = b >= self.cal.T - 1
        bb = np.where(last, 0, b + 1)
        d = self.cal.first_day(bb) + (self.change_day(person, bb) - 2).astype("timedelta64[D]")
        return np.where(last, np.datetime64("NaT"), d).astype("datetime64[D]")


def _build_tables(p, cal, pers, model, S, job, ev, pens_t, init_start):
    n, T = pers.n, cal.T
    dates = _Dates(cal, p.seed)
    ids = np.array([f"P{i + 1:07d}" for i in range(n)], dtype=object)
    st_nt = np.ascontiguousarray((S & 7).T)
    nj_nt = np.ascontiguousarray((S & NEWJOB).T) > 0
    del S

    def run_frame(pi, a, b, pre_state_match, **extra):
        a_month = np.where((a == 0) & pre_state_match[pi] & (init_start[pi] < 0), init_start[pi], a)
        out = {"person_id": ids[pi]}
        out.update(extra)
        out["start"] = _ns(dates.start(pi, a_month))
        out["end"] = _ns(dates.end(pi, b))
        return pd.DataFrame(out)

    init_state = pers.seg_state[np.arange(n), pers.nseg - 1]
    # persons
    birth = (np.datetime64("1970-01", "M") + (pers.b_abs - 1970 * 12)).astype("datetime64[D]") + (pers.bday - 1).astype(
        "timedelta64[D]")
    persons = pd.DataFrame({
        "person_id": ids,
        "sex": np.where(pers.female, "F", "M").astype(object),
        "birth_date": _ns(birth),
        "migration_background": np.asarray(C.MIGRATION, dtype=object)[pers.mig],
        "education": np.asarray(C.EDUCATION, dtype=object)[pers.edu],
        "status_holder": pers.sh.astype(bool),
    })
    # benefits: bijstand, ww, other (state pension)
    pi, a, b = _runs(st_nt <= BMW)
    bij = run_frame(pi, a, b, init_state == B, benefit="bijstand")
    bij_runs = (pi, a, b)
    pi, a, b = _runs(st_nt == WW)
    ww = run_frame(pi, a, b, init_state == WW, benefit="ww")
    has_p = np.flatnonzero(pens_t >= 0)
    other = pd.DataFrame({"person_id": ids[has_p], "benefit": "other",
                          "start": _ns(dates.start(has_p, pens_t[has_p])),
                          "end": np.full(len(has_p), np.datetime64("NaT"), dtype="datetime64[ns]")})
    benefits = pd.DataFrame({c: np.concatenate([f[c].to_numpy() for f in (bij, ww, other)])
                             for c in ("person_id", "benefit", "start", "end")})
    benefits = benefits.sort_values(["person_id", "start"], kind="mergesort").reset_index(drop=True)
    # jobs
    emp = (st_nt == W) | (st_nt == BMW)
    pi, a, b = _runs(emp, nj_nt)
    jb = run_frame(pi, a, b, init_state == W)
    order = np.lexsort((job["t"], job["idx"]))
    jidx, jt = job["idx"][order], job["t"][order]
    if not (np.array_equal(jidx, pi) and np.array_equal(jt, a)):
        raise RuntimeError("internal error: job attributes do not line up with job runs")
    jb["sector"] = np.asarray(C.SECTORS, dtype=object)[job["sector"][order]]
    jb["contract"] = np.asarray(C.CONTRACTS, dtype=object)[job["contract"][order]]
    jb["hours_per_week"] = job["hours"][order].astype(float)
    jb["monthly_wage"] = job["wage"][order].astype(float)
    jobs = jb[["person_id", "start", "end", "sector", "contract", "hours_per_week", "monthly_wage"]]
    # households: segment k runs from change k-1 (grid start for k = 0) to the day before change k
    hh_rows = []
    big = 10**6
    for k in range(4):
        start_m = np.zeros(n, dtype=np.int64) if k == 0 else pers.hh_chg[:, k - 1]
        next_m = pers.hh_chg[:, k] if k < 3 else np.full(n, big)
        i = np.flatnonzero(start_m < big)
        sm, nm = start_m[i], next_m[i]
        s_date = cal.first_day(sm) if k == 0 else dates.start(i, sm)
        e_date = dates.end(i, np.minimum(nm - 1, T - 1))
        hh_rows.append(pd.DataFrame({"person_id": ids[i], "start": _ns(s_date),
                                     "end": _ns(e_date),
                                     "position": np.asarray(C.HOUSEHOLD_POSITIONS, dtype=object)[pers.hh_pos[i, k]],
                                     "_k": k}))
    households = pd.concat(hh_rows, ignore_index=True).sort_values(["person_id", "_k"], kind="mergesort")
    households = households.drop(columns="_k").reset_index(drop=True)
    # programmes
    programmes, prog_start = _programme_spells(cal, dates, ids, ev, bij_runs)
    tables = {"persons": persons, "households": households, "benefits": benefits, "jobs": jobs,
              "programmes": programmes}
    return tables, st_nt, prog_start


def _programme_spells(cal, dates, ids, ev, bij_runs):
    pid, t0, months = ev["pid"].astype(np.int64), ev["t0"].astype(np.int64), ev["months"].astype(np.int64)
    if len(pid) == 0:
        empty = np.zeros(0, dtype="datetime64[ns]")
        return pd.DataFrame({"person_id": np.zeros(0, dtype=object), "programme": np.zeros(0, dtype=object),
                             "start": empty, "end": empty}), empty
    # bijstand run containing t0
    rp, ra, rb = bij_runs
    key_r = rp * 10**6 + ra
    j = np.searchsorted(key_r, pid * 10**6 + t0, side="right") - 1
    b_last, b_first = rb[j], ra[j]
    L = cal.days_in_month(t0)
    first_day_ok = np.where(b_first == t0, dates.change_day(pid, t0), 1)
    u = _hash_uniform(dates.seed, pid, t0, 2)
    day = first_day_ok + np.floor(u * (L - first_day_ok + 1)).astype(np.int64)
    start = cal.first_day(t0) + (day - 1).astype("timedelta64[D]")
    pe = t0 + months  # the programme covers month ends t0..t0+months-1, ends in month t0+months
    planned = np.where(pe <= cal.T - 1,
                       cal.first_day(np.minimum(pe, cal.T - 1)) + (
                           dates.change_day(pid, np.minimum(pe, cal.T - 1)) - 2).astype("timedelta64[D]"),
                       np.datetime64("NaT"))
    b_end = dates.end(pid, b_last)
    end = np.where(b_last < pe, b_end, planned).astype("datetime64[D]")
    df = pd.DataFrame({"person_id": ids[pid], "programme": np.asarray(PROGRAMMES, dtype=object)[ev["prog"]],
                       "start": _ns(start), "end": _ns(end)})
    order = np.lexsort((t0, pid))
    return df.iloc[order].reset_index(drop=True), df["start"].to_numpy()


# ------------------------------------------------------------------------------------------------
# truth
# ------------------------------------------------------------------------------------------------


def _outcomes(states: np.ndarray) -> dict:
    """Outcomes from month-end states at t0..t0+18 (columns); -1 = outside the grid (NaN)."""
    valid = states >= 0
    on = states <= BMW
    emp = (states == W) | (states == BMW)
    out = {}
    ok12 = valid[:, 12]
    out["employed_12m"] = np.where(ok12, emp[:, 12], np.nan)
    out["off_bijstand_12m"] = np.where(ok12, ~on[:, 12], np.nan)
    ok18 = valid[:, FOLLOW_UP]
    out["off_bijstand_6_18m"] = np.where(ok18, ~on[:, 6:FOLLOW_UP + 1].any(axis=1), np.nan)
    out["months_bijstand_18m"] = np.where(ok18, on[:, 1:FOLLOW_UP + 1].sum(axis=1), np.nan)
    return out


def _truth(p, cal, pers, model, st_nt, ev, cs, tables, prog_start):
    n_ev = len(ev["pid"])
    pid = ev["pid"].astype(np.int64)
    t0 = ev["t0"].astype(np.int64)
    k = np.arange(FOLLOW_UP + 1)
    tt = t0[:, None] + k[None, :]
    inside = tt <= cal.T - 1
    act = np.where(inside, st_nt[pid[:, None], np.minimum(tt, cal.T - 1)], -1).astype(np.int8)
    cf = np.where(inside, cs[:n_ev], -1)
    ya, yc = _outcomes(act), _outcomes(cf)
    age_y = model.age_months(pid, t0) // 12
    hh = model.household(pid, t0)
    persons = tables["persons"]
    month_ends = cal.month_ends()
    df = pd.DataFrame({
        "person_id": persons["person_id"].to_numpy()[pid],
        "programme": np.asarray(PROGRAMMES, dtype=object)[ev["prog"].astype(np.int64)],
        "start": prog_start,
        "time_zero": month_ends[t0],
        "month_index": (t0 - cal.ws_m).astype(np.int64),
        "programme_months": ev["months"].astype(np.int64),
        "in_truth": t0 + FOLLOW_UP <= cal.T - 1,
    })
    for o in ALL_OUTCOMES:
        df[f"{o}_actual"] = ya[o]
        df[f"{o}_counterfactual"] = yc[o]
        df[f"{o}_effect"] = ya[o] - yc[o]
    df["sex"] = np.where(pers.female[pid], "F", "M")
    df["age"] = age_y
    df["age_band"] = C.age_band(age_y)
    df["migration_background"] = np.asarray(C.MIGRATION, dtype=object)[pers.mig[pid]]
    df["status_holder"] = pers.sh[pid]
    df["household"] = np.asarray(C.HOUSEHOLD_POSITIONS, dtype=object)[hh]
    df["education"] = np.asarray(C.EDUCATION, dtype=object)[pers.edu[pid]]
    df["spell_month"] = ev["spell_month"].astype(np.int64)
    df["hist_employed_36m"] = ev["emp36"].astype(np.int64)
    df["hist_bijstand_36m"] = ev["bij36"].astype(np.int64)
    df["hist_ww_36m"] = ev["ww36"].astype(np.int64)
    df["employed_before"] = ev["emp_before"].astype(bool)
    df["hr_lock_in"] = ev["hrl"]
    df["hr_post"] = ev["hrp"]
    df = df.sort_values(["person_id", "time_zero"], kind="mergesort").reset_index(drop=True)

    # ATT per programme x group x outcome
    rows = []
    used = df[df["in_truth"]]
    groups = [("all", None, None)] + [(C.group_label(dim, v), col, v) for dim, (col, vals) in
                                      C.GROUP_DIMENSIONS.items() for v in vals]
    for prog in PROGRAMMES:
        sub = used[used["programme"] == prog]
        for label, col, v in groups:
            g = sub if col is None else sub[sub[col].astype(str) == v]
            for o in ALL_OUTCOMES:
                est = float(g[f"{o}_effect"].mean()) if len(g) else np.nan
                rows.append(dict(programme=prog, group=label, outcome=o, method="truth", estimate=est,
                                 std_error=np.nan, ci_lower=np.nan, ci_upper=np.nan, n_treated=len(g),
                                 n_control=np.nan))
    effects = pd.DataFrame(rows, columns=list(C.EFFECTS_COLUMNS))

    # hazard ratios (the parameters)
    hr_rows = []
    for j, prog in enumerate(PROGRAMMES):
        if p.effects == "constant":
            labels = ["all"] + [lab for lab, _, _ in groups[1:]]
            for lab in labels:
                for phase in ("lock_in", "post"):
                    hr_rows.append((prog, lab, phase, float(model.hr_lock[j][0])))
        else:
            dim = model.hr_dim[j]
            values = ("all",) if dim is None else C.GROUP_DIMENSIONS[dim][1]
            for vi, v in enumerate(values):
                lab = "all" if dim is None else C.group_label(dim, v)
                hr_rows.append((prog, lab, "lock_in", float(model.hr_lock[j][vi])))
                hr_rows.append((prog, lab, "post", float(model.hr_post[j][vi])))
    hrs = pd.DataFrame(hr_rows, columns=["programme", "group", "phase", "hazard_ratio"])
    return effects, hrs, df


# ------------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------------


def simulate_municipality(
    n_persons: int = 6000,
    *,
    seed: int = 20150101,
    window_start="2015-01-01",
    window_end="2024-12-31",
    effects: str = "heterogeneous",
    frailty: float | None = None,
    hazard_ratios: dict | None = None,
    params: SimulationParams | None = None,
) -> SimulatedMunicipality:
    """Simulate the municipality and its true programme effects (see the module docstring).

    ``n_persons``: persons on bijstand at some point in the window (25% stock at the start).
    ``effects``: "heterogeneous" (default) or "constant". ``frailty``: standard deviation of
    the unobserved log-hazard term of exit to work (None: 0.5 heterogeneous, 0 constant).
    ``hazard_ratios``: constant mode only, ``{programme: ratio}`` (others keep the defaults).
    ``params``: a :class:`SimulationParams` to change any other number. Same seed, same tables.
    """
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
    p.frailty = float(frailty) if frailty is not None else (0.5 if effects == "heterogeneous" else 0.0)
    if hazard_ratios is not None:
        unknown = set(hazard_ratios) - set(PROGRAMMES)
        if unknown:
            raise ValueError(f"hazard_ratios: unknown programme(s) {sorted(unknown)}; use {list(PROGRAMMES)}")
        if effects != "constant":
            raise ValueError("hazard_ratios applies to effects='constant'; for heterogeneous effects pass params")
        p.hazard_ratios = {**p.hazard_ratios, **{k: float(v) for k, v in hazard_ratios.items()}}
    timings = {}
    t_start = time.perf_counter()
    cal = _Calendar(p.window_start, p.window_end)
    rng = np.random.default_rng(np.random.SeedSequence([p.seed, 2**31 + 1]))
    pers = _draw_persons(p, cal, rng)
    timings["persons"] = time.perf_counter() - t_start
    t1 = time.perf_counter()
    model, S, job, ev, cs, pens_t, init_start = _run(p, cal, pers, timings)
    timings["month_loop"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    tables, st_nt, prog_start = _build_tables(p, cal, pers, model, S, job, ev, pens_t, init_start)
    timings["tables"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    true_effects, true_hr, indiv = _truth(p, cal, pers, model, st_nt, ev, cs, tables, prog_start)
    timings["truth"] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t_start
    study = {"municipality": p.municipality, "window_start": p.window_start, "window_end": p.window_end}
    return SimulatedMunicipality(tables=tables, study=study, true_effects=true_effects,
                                 true_hazard_ratios=true_hr, individual_effects=indiv, params=p,
                                 states=st_nt, months=cal.month_ends(), timings=timings)


def write_simulation(sim: SimulatedMunicipality, folder, fmt: str = "csv") -> tuple[Path, Path]:
    """Write the input folder and, beside it, ``<folder name>_truth/``; returns both paths.

    Input: ``persons``, ``households``, ``benefits``, ``jobs``, ``programmes`` as ``.csv`` (ISO
    dates, empty = open end) or ``.parquet``, and ``study.toml`` (municipality, window_start,
    window_end). Truth: ``true_effects.csv``, ``true_hazard_ratios.csv``,
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
    s = sim.study
    (folder / "study.toml").write_text(
        f'municipality = "{s["municipality"]}"\nwindow_start = "{s["window_start"]}"\n'
        f'window_end = "{s["window_end"]}"\n', encoding="utf-8")
    sim.true_effects.to_csv(truth / "true_effects.csv", index=False)
    sim.true_hazard_ratios.to_csv(truth / "true_hazard_ratios.csv", index=False)
    sim.individual_effects.to_parquet(truth / "individual_effects.parquet", index=False)
    (truth / "params.json").write_text(json.dumps(sim.params.to_dict(), indent=2), encoding="utf-8")
    return folder, truth
