"""The report's tables: what each chapter reads, fixed orders and colours, and reading ``OUT/tables``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

# --------------------------------------------------------------------------------------------
# What the report reads, and in which order it shows it
# --------------------------------------------------------------------------------------------

#: Chapters in report order: (key, notebook file stem in analyses/).
CHAPTERS: tuple[tuple[str, str], ...] = (
    ("dashboard", "00_dashboard"),
    ("flows", "01_flows"),
    ("typology", "02_typology"),
    ("careers", "03_careers"),
    ("survival", "04_survival"),
    ("effects", "05_effects"),
    ("benchmark", "06_benchmark"),
    ("conclusions", "07_conclusions"),
    ("limitations", "08_limitations"),
    ("methods", "09_methods"),
    ("diagnostics", "10_diagnostics"),
    ("data", "11_data"),
)
#: Chapters printed as appendices (A, B, ...), in this order, after the body.
APPENDICES = ("methods", "diagnostics", "data")
NOTEBOOKS = tuple(stem for _, stem in CHAPTERS)

#: Protected tables the report can show: name -> file names tried in OUT/tables (first found wins).
TABLES: dict[str, tuple[str, ...]] = {
    "flows": ("flows",),
    "flows_by_group": ("flows_by_group",),
    "transitions": ("transitions",),
    "typology": ("typology",),
    "typology_profile": ("typology_profile",),
    "reentry": ("reentry",),
    "job_quality": ("job_quality",),
    "job_retention": ("job_retention",),
    "wages": ("wages",),
    "sustainable_vs_short_by_programme": ("sustainable_vs_short_by_programme",),
    "career_clusters": ("career_clusters",),
    "career_state_shares": ("career_state_shares",),
    "career_profile": ("career_profile",),
    "km": ("km", "km_outflow"),
    "medians": ("medians",),
    "cumulative_incidence": ("cumulative_incidence",),
    "reentry_km": ("reentry_km", "km_reentry"),
    "hazards": ("hazards",),
    "ph_tests": ("ph_tests",),
    "immortal_time": ("immortal_time",),
    "effects": ("effects",),
    "benchmark": ("benchmark",),
    "effects_balance": ("effects_balance",),
    "effects_overlap": ("effects_overlap",),
    "effects_propensity": ("effects_propensity",),
    "risk_set_log": ("risk_set_log",),
    "effects_blp": ("effects_blp",),
    "effects_calibration": ("effects_calibration",),
    "effects_sensitivity": ("effects_sensitivity",),
    "policy": ("policy",),
    "effects_heterogeneity": ("effects_heterogeneity",),
    "effects_truth": ("effects_truth",),
    "programmes": ("programmes",),
    "flows_overig": ("flows_overig",),
    "participation": ("participation",),  # issue 16b: only when the input has a participation table
    "effects_curves": ("effects_curves",),  # issue 14a: effect curves with censoring
    "timing_of_events": ("timing_of_events",),  # issue 14b: the timing-of-events model's heterogeneity
}

#: The tables each chapter draws on (for the 'not available in this run' note).
CHAPTER_TABLES: dict[str, tuple[str, ...]] = {
    "dashboard": ("flows", "transitions", "km", "reentry_km", "effects"),
    "data": (),
    "flows": ("flows", "flows_by_group", "transitions"),
    "conclusions": ("effects",),
    "limitations": ("effects", "effects_sensitivity"),
    "typology": ("typology", "typology_profile", "reentry", "job_quality", "job_retention", "wages",
                 "sustainable_vs_short_by_programme"),
    "careers": ("career_clusters", "career_state_shares", "career_profile"),
    "survival": ("km", "medians", "cumulative_incidence", "reentry_km", "hazards", "immortal_time"),
    "effects": ("effects", "effects_blp", "effects_sensitivity", "policy"),
    "diagnostics": ("effects_calibration", "ph_tests", "effects_balance", "effects_overlap", "effects_propensity",
                    "risk_set_log"),
    "methods": (),
}

#: Tables written by the run but not drawn on by a chapter's parts: the chapter whose note explains
#: them when the run skipped them.
EXTRA_CHAPTER_TABLES: dict[str, str] = {
    "cause_specific": "survival", "logrank": "survival", "career_quality": "careers", "career_typical": "careers",
    "effects_plain_language": "effects",
}

STATUS_ORDER = ("bijstand", "werk", "bijstand_met_werk", "ww", "overig")
STATUS_COLORS = {"bijstand": "#762a83", "bijstand_met_werk": "#c2a5cf", "werk": "#1b7837",
                 "ww": "#e08214", "overig": "#a6a6a6"}
TYPE_ORDER = ("continuous", "recidivist", "short_outflow", "outflow_elsewhere", "sustainable_work")
TYPE_COLORS = {"continuous": "#762a83", "recidivist": "#9970ab", "short_outflow": "#e08214",
               "outflow_elsewhere": "#a6a6a6", "sustainable_work": "#1b7837"}
STATE_ORDER = ("stable_work", "flexible_work", "work_unknown_contract", "bijstand_met_werk", "bijstand", "ww", "overig")
STATE_COLORS = {"stable_work": "#1b7837", "flexible_work": "#7fbf7b", "work_unknown_contract": "#d9f0d3",
                "bijstand_met_werk": "#c2a5cf", "bijstand": "#762a83", "ww": "#e08214", "overig": "#a6a6a6"}
DESTINATION_COLORS = {"all": "#222222", "werk": "#1b7837", "ww": "#e08214", "overig": "#a6a6a6",
                      "elsewhere": "#e08214"}
#: Okabe-Ito: distinguishable with colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
GROUP_DIMENSIONS = ("sex", "age", "migration", "household", "education", "duration")
METHOD_ORDER = ("naive", "matching", "dml")
OUTCOME_ORDER = ("off_bijstand_6_18m", "off_bijstand_12m", "employed_12m", "months_bijstand_18m",
                 "participating_18m", "volunteering_18m")  # the last two only with a participation table
MAIN_OUTCOME = "off_bijstand_6_18m"
#: The participation outcome page 1 shows beside sustainable outflow when the participation table is present.
PARTICIPATION_OUTCOME = "participating_18m"
MAIN_METHOD = "dml"



# --------------------------------------------------------------------------------------------
# Reading the protected tables
# --------------------------------------------------------------------------------------------


def _read_csv(path: Path) -> pd.DataFrame:
    """A protected CSV: only empty fields are missing (a label 'NA' or 'none' stays a label)."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[""], low_memory=False)
    for c in df.columns:
        if df[c].dtype == object and c in ("cohort", "status", "group", "dimension", "value", "type", "programme",
                                           "term", "model", "state", "destination", "outcome", "method", "label"):
            df[c] = df[c].astype("string").astype(object)
    return df


def read_tables(out: str | Path) -> dict[str, pd.DataFrame]:
    """The protected tables found in ``OUT/tables`` (see :data:`TABLES`), plus ``cleaning_log``.

    Absent tables are absent from the dict; a table with no rows is kept (and shown as empty).
    """
    out = Path(out)
    found: dict[str, pd.DataFrame] = {}
    for name, files in TABLES.items():
        for stem in files:
            path = out / "tables" / f"{stem}.csv"
            if path.is_file():
                try:
                    found[name] = _read_csv(path)
                except pd.errors.EmptyDataError:
                    found[name] = pd.DataFrame()
                break
    log = out / "cleaning_log.csv"
    if log.is_file():
        found["cleaning_log"] = _read_csv(log)
    return found
