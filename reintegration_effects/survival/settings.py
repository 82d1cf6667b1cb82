"""Settings and labels of the survival models: engine thresholds, covariates, reference levels, groups."""

from __future__ import annotations

from scipy import stats

from ..contract import AGE_BANDS, EDUCATION, HOUSEHOLD_POSITIONS, MIGRATION, SEX

#: Person-months at risk above which ``engine="auto"`` switches from lifelines to the discrete path.
LIFELINES_MAX_ROWS = 1_000_000

#: Design size (cells x columns) up to which ``DiscreteTimeModel(solver="auto")`` uses statsmodels.
STATSMODELS_MAX_ENTRIES = 200_000

#: Covariates of the exit models. sex, age (band), migration (background), status_holder,
#: household (position), education, history (months employed / on earlier bijstand spells / on WW in
#: the 36 months before), side_job (on bijstand with work at the month end), year (calendar year
#: of the month the exit would happen in).
ALL_COVARIATES = ("sex", "age", "migration", "status_holder", "household", "education", "history",
                  "side_job", "year")
DEFAULT_COVARIATES = ALL_COVARIATES

#: Reference level of each categorical covariate: the first contract level.
REFERENCE = {
    "sex": SEX[0],
    "age": AGE_BANDS[0],
    "migration": MIGRATION[0],
    "household": HOUSEHOLD_POSITIONS[0],
    "education": EDUCATION[0],
    "history": "0",
    "exit": "werk",
    "contract": "permanent",
    "job_hours": "24+",
    "spell_duration": "<12",
}

#: Labour-market history bands (months in the last 36): lower bound, upper bound, label.
HISTORY_BANDS = ((0, 0, "0"), (1, 12, "1-12"), (13, 36, "13-36"))
HISTORY_COLUMNS = ("hist_employed_36m", "hist_bijstand_36m", "hist_ww_36m")

#: Causes of an ended spell in the competing-risks tables (0 = censored).
CAUSES = {1: "werk", 2: "elsewhere"}
MODEL_NAMES = {"werk": "exit_to_work", "elsewhere": "exit_elsewhere", "any": "exit_any"}

#: Group dimensions for tables: label prefix -> column of :func:`spell_table`.
SPELL_GROUPS = {
    "sex": "sex",
    "age": "age_band",
    "migration": "migration_background",
    "household": "household",
    "education": "education",
}

SUMMARY_COLUMNS = (
    "term", "estimate", "std_error", "z", "p_value", "hazard_ratio", "ci_lower", "ci_upper",
    "n", "n_events", "term_n", "term_events",
)


def lock_in_term(label: str) -> str:
    """Hazard-model term for the months while programme ``label`` runs (the lock-in phase)."""
    return f"lock_in={label}"


def z_quantile(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))
