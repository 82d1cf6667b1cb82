"""Constants, parameters and small helpers of the simulated municipality (see the package docstring)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import contract as C

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

#: The simulator's own migration categories (the pre-2022 CBS classification its parameters were
#: calibrated on): ``Persons.mig`` indexes this tuple and every parameter keyed by migration
#: (``migration_probs``, ``work["migration"]``, the take-up terms ``western`` / ``non_western``,
#: ``effects_heterogeneous["work_experience"]``) uses these names.
SIM_MIGRATION = ("dutch", "western", "non_western", "unknown")
#: The label each simulated category gets in the input tables: CBS's 2022 classification, as a
#: relabelling (an approximation, see the package docstring): western -> europe, non_western ->
#: outside_europe. Same positions as contract.MIGRATION, so every draw stays the same.
MIGRATION_LABELS = {"dutch": "dutch", "western": "europe", "non_western": "outside_europe", "unknown": "unknown"}
assert tuple(MIGRATION_LABELS[k] for k in SIM_MIGRATION) == C.MIGRATION


def dimension_values(dim: str) -> tuple[str, ...]:
    """The simulator's values of a group dimension (its own migration names, see SIM_MIGRATION)."""
    return SIM_MIGRATION if dim == "migration" else C.GROUP_DIMENSIONS[dim][1]


def output_value(dim: str | None, value: str) -> str:
    """The label a simulated group value gets in the tables (migration relabelled to CBS 2022)."""
    return MIGRATION_LABELS[value] if dim == "migration" else value


#: Descriptions of the simulated municipality's programmes for its study.toml (``[programmes.LABEL]``):
#: names and two-sentence descriptions in Dutch and English, and an illustrative cost per participant
#: in euros (of the order Dutch municipalities report for such services; not from any one source).
PROGRAMME_INFO = {
    "job_coaching": {
        "name": {"nl": "Jobcoaching", "en": "Job coaching"},
        "description": {
            "nl": "Een jobcoach begeleidt de deelnemer drie tot zes maanden individueel bij het zoeken naar werk en "
                  "in de eerste maanden van een nieuwe baan. De coach helpt met sollicitaties, contacten met "
                  "werkgevers en problemen op de werkvloer.",
            "en": "A job coach supports the participant individually for three to six months in finding work and "
                  "in the first months of a new job. The coach helps with applications, contacts with employers "
                  "and problems at work.",
        },
        "cost_per_participant": 2500,
    },
    "training": {
        "name": {"nl": "Scholing", "en": "Training"},
        "description": {
            "nl": "Een beroepsgerichte cursus van drie tot negen maanden, bijvoorbeeld in logistiek, zorg of "
                  "techniek, afgesloten met een certificaat. Tijdens de cursus solliciteert de deelnemer minder, "
                  "daarna met een erkende kwalificatie.",
            "en": "A vocational course of three to nine months, for example in logistics, care or engineering, "
                  "ending with a certificate. During the course the participant applies for jobs less, "
                  "afterwards with a recognised qualification.",
        },
        "cost_per_participant": 4000,
    },
    "work_experience": {
        "name": {"nl": "Werkervaringsplaats", "en": "Work experience placement"},
        "description": {
            "nl": "De deelnemer werkt zes tot negen maanden met behoud van uitkering bij een werkgever, met "
                  "begeleiding. Doel is werkritme, referenties en een netwerk op te bouwen.",
            "en": "The participant works for six to nine months at an employer while keeping the benefit, with "
                  "supervision. The aim is to build a work routine, references and a network.",
        },
        "cost_per_participant": 3500,
    },
    "participation": {
        "name": {"nl": "Participatietraject", "en": "Participation programme"},
        "description": {
            "nl": "Een traject van zes tot twaalf maanden voor mensen met een grote afstand tot werk, met "
                  "vrijwilligerswerk, dagbesteding of taallessen. Het doel is meedoen in de samenleving; werk "
                  "is geen directe doelstelling.",
            "en": "A programme of six to twelve months for people far from the labour market, with volunteer "
                  "work, day activities or language lessons. Its aim is taking part in society; work is not a "
                  "direct goal.",
        },
        "cost_per_participant": 1500,
    },
}

AGE_LO = (18, 27, 35, 45, 55)  # lower bounds of the age bands used to draw ages (last: to AOW)

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
    #: loading of the same frailty z on every programme's log take-up hazard (issue 14b, ``simulate
    #: --unobserved-heterogeneity``): > 0 means people who leave for work faster also start programmes
    #: more (selection on an unobservable). 0 (default) = take-up on observables only, as before.
    takeup_frailty: float = 0.0
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
    ``study``: municipality, window_start, window_end (ISO text), programmes (the
    ``[programmes.LABEL]`` descriptions of the programmes in the data). ``true_effects``: contract
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
    #: the participation model's numbers when simulated with ``participation=True`` (issue 16b), else None
    participation_params: dict | None = None

    def status_labels(self) -> np.ndarray:
        """Month-end status labels (persons x grid months) in contract words."""
        return np.asarray(STATE_LABELS, dtype=object)[self.states]


# ------------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------------


def year_value(table: dict, year: int, default: float = 0.0) -> float:
    return float(table.get(str(int(year)), default))


def draw_choice(u: np.ndarray, probs) -> np.ndarray:
    """Index drawn from ``probs`` (normalised) with uniforms ``u`` (inverse CDF)."""
    p = np.asarray(probs, dtype=float)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0 + 1e-12
    return np.searchsorted(cum, u, side="right").astype(np.int8)


def draw_geometric(u: np.ndarray, mean: float) -> np.ndarray:
    """1 + geometric number of months with the given mean (>= 1)."""
    q = 1.0 - 1.0 / max(mean, 1.0 + 1e-9)
    return 1 + np.floor(np.log(np.clip(u, 1e-300, 1.0)) / np.log(q)).astype(np.int64)


_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def hash_uniform(seed: int, a, b, salt: int) -> np.ndarray:
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


class Calendar:
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
