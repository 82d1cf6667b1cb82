"""The package's public contract: input tables, labels and output tables.

Users' scripts, dashboards and acceptance checks rely on these names; add to them, rename nothing.
Every other module imports its names and codes from here so there is one place to read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --------------------------------------------------------------------------------------------
# Input tables
# --------------------------------------------------------------------------------------------

SEX = ("M", "F")
#: Migration background in CBS's 2022 classification ("herkomst"), the groups every table uses:
#: Dutch origin (born in the Netherlands, both parents born in the Netherlands), origin in Europe
#: excluding the Netherlands, origin outside Europe (Turkey included: CBS, 'herkomstland'), unknown. The slots keep the
#: positions of the pre-2022 codes they replace (western -> europe, non_western -> outside_europe).
MIGRATION = ("dutch", "europe", "outside_europe", "unknown")
#: The pre-2022 CBS classification (westers / niet-westers), still accepted in ``persons``. It cannot
#: be mapped exactly: non_western lies wholly outside Europe, but Indonesia, Japan, North America and
#: Oceania were western and are outside Europe now; ``validate`` maps it with
#: :data:`MIGRATION_PRE_2022_MAP` as a stated approximation and says so in the cleaning log.
MIGRATION_PRE_2022 = ("western", "non_western")
MIGRATION_PRE_2022_MAP = {"western": "europe", "non_western": "outside_europe"}
#: Every value accepted in ``persons.migration_background`` (codes of both classifications).
MIGRATION_ACCEPTED = (*MIGRATION, *MIGRATION_PRE_2022)
EDUCATION = ("low", "medium", "high", "unknown")
HOUSEHOLD_POSITIONS = (
    "single",
    "single_parent",
    "couple_no_children",
    "couple_with_children",
    "child_at_home",
    "other",
)
BENEFITS = ("bijstand", "ww", "other")
CONTRACTS = ("permanent", "fixed_term", "agency", "on_call")
SECTORS = tuple("ABCDEFGHIJKLMNOPQRSTU")  # SBI-2008 sections
#: Activities of the optional ``participation`` table (issue 16b): the municipality's own registration of
#: participation beyond paid work (e.g. its participation ladder). ``social_activation``: day activities,
#: language or activation courses arranged for social participation; ``other``: any other registered
#: activity. A person may do several activities at once (overlapping spells of different activities are
#: kept); overlapping or contiguous spells of the same activity are merged (``validate``).
PARTICIPATION_ACTIVITIES = ("volunteering", "education", "informal_care", "social_activation", "other")

#: SBI-2008 section names (Dutch, English), for job-quality tables.
SECTOR_NAMES: dict[str, tuple[str, str]] = {
    "A": ("Landbouw, bosbouw en visserij", "Agriculture, forestry and fishing"),
    "B": ("Delfstoffenwinning", "Mining and quarrying"),
    "C": ("Industrie", "Manufacturing"),
    "D": ("Energievoorziening", "Electricity and gas supply"),
    "E": ("Waterbedrijven en afvalbeheer", "Water supply and waste management"),
    "F": ("Bouwnijverheid", "Construction"),
    "G": ("Handel", "Wholesale and retail trade"),
    "H": ("Vervoer en opslag", "Transportation and storage"),
    "I": ("Horeca", "Accommodation and food service"),
    "J": ("Informatie en communicatie", "Information and communication"),
    "K": ("Financiële dienstverlening", "Financial services"),
    "L": ("Verhuur en handel van onroerend goed", "Real estate"),
    "M": ("Specialistische zakelijke diensten", "Professional, scientific and technical services"),
    "N": ("Verhuur en overige zakelijke diensten", "Administrative and support services (incl. agencies)"),
    "O": ("Openbaar bestuur en overheidsdiensten", "Public administration"),
    "P": ("Onderwijs", "Education"),
    "Q": ("Gezondheids- en welzijnszorg", "Human health and social work"),
    "R": ("Cultuur, sport en recreatie", "Arts, entertainment and recreation"),
    "S": ("Overige dienstverlening", "Other service activities"),
    "T": ("Huishoudens als werkgever", "Households as employers"),
    "U": ("Extraterritoriale organisaties", "Extraterritorial organisations"),
}


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an input table."""

    name: str
    kind: str  # "id", "date", "category", "number", "bool", "text"
    required: bool = True
    values: tuple[str, ...] = ()  # allowed labels for kind == "category"
    nullable: bool = False  # an empty value is allowed (e.g. an open spell end)
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One input table: what one row is, its columns, and whether rows are dated spells."""

    name: str
    one_row_per: str
    columns: tuple[ColumnSpec, ...]
    spell: bool = False
    required: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


_PID = ColumnSpec("person_id", "id", description="pseudonymised person key (CBS RINPERSOON), text")
#: CBS municipality code: 'GM' and four digits (GM1916 = Leidschendam-Voorburg). ``validate`` also
#: accepts lower case and the bare number (1916, 363 -> GM0363) and says so in the cleaning log.
MUNICIPALITY_CODE_PATTERN = r"GM\d{4}"
#: Optional column of ``benefits`` (issue 16a): the CBS code of the paying municipality. It is not in
#: ``TABLES["benefits"].columns`` (the contract's fixed column set, which files without it match);
#: ``validate`` adds it to the table when the file has it, and ``benchmark`` then compares
#: municipalities. Empty cells are allowed (e.g. WW, which UWV pays); bijstand spells without a code
#: are left out of the benchmark, with a line in the cleaning log.
MUNICIPALITY_COLUMN = ColumnSpec("municipality", "municipality", required=False, nullable=True,
                                 description="CBS code of the paying municipality, GM + 4 digits (optional)")
#: Optional columns a table may have beyond its fixed ones: table -> column specs.
OPTIONAL_COLUMNS: dict[str, tuple[ColumnSpec, ...]] = {"benefits": (MUNICIPALITY_COLUMN,)}
_START = ColumnSpec("start", "date", description="first day of the spell")
_END = ColumnSpec(
    "end", "date", nullable=True, description="last day of the spell (inclusive); empty = still running"
)

TABLES: dict[str, TableSpec] = {
    "persons": TableSpec(
        "persons",
        "person",
        (
            _PID,
            ColumnSpec("sex", "category", values=SEX, description="M/F (CBS GBAGESLACHT 1/2 accepted)"),
            ColumnSpec("birth_date", "date"),
            ColumnSpec("migration_background", "category", values=MIGRATION,
                       description="CBS 2022 classification dutch/europe/outside_europe/unknown; the pre-2022 "
                                   "western/non_western accepted and mapped (see MIGRATION_PRE_2022)"),
            ColumnSpec("education", "category", required=False, values=EDUCATION, nullable=True),
            ColumnSpec("status_holder", "bool", required=False, nullable=True),
        ),
    ),
    "households": TableSpec(
        "households",
        "spell of a household position",
        (_PID, _START, _END, ColumnSpec("position", "category", values=HOUSEHOLD_POSITIONS)),
        spell=True,
        required=False,
    ),
    "benefits": TableSpec(
        "benefits",
        "benefit spell",
        (_PID, ColumnSpec("benefit", "category", values=BENEFITS), _START, _END),
        spell=True,
    ),
    "jobs": TableSpec(
        "jobs",
        "job spell",
        (
            _PID,
            _START,
            _END,
            ColumnSpec("sector", "category", required=False, values=SECTORS, nullable=True),
            ColumnSpec("contract", "category", required=False, values=CONTRACTS, nullable=True),
            ColumnSpec("hours_per_week", "number", required=False, nullable=True),
            ColumnSpec("monthly_wage", "number", required=False, nullable=True, description="gross euros"),
        ),
        spell=True,
    ),
    "programmes": TableSpec(
        "programmes",
        "programme participation (the municipality's own file)",
        (_PID, ColumnSpec("programme", "text", description="programme label"), _START, _END),
        spell=True,
        required=False,
    ),
    # issue 16b: optional; absent -> InputData.participation is None and every participation output is
    # left out. Its dates do not set the study window (``sets_window``): the registration is read inside
    # the window the register tables define.
    "participation": TableSpec(
        "participation",
        "participation spell (the municipality's own registration, e.g. its participation ladder)",
        (_PID, _START, _END, ColumnSpec("activity", "category", values=PARTICIPATION_ACTIVITIES,
                                        description="volunteering/education/informal_care/social_activation/other")),
        spell=True,
        required=False,
        extra={"sets_window": False, "absent_as_none": True},
    ),
}

#: Keys allowed in study.toml; unknown keys are an error.
STUDY_KEYS = (
    "municipality",
    "window_start",
    "window_end",
    "horizons",
    "cohorts",
    "groups",
    # additions (the contract allows adding):
    "seed",
    "lang",
    "unlinked",  # "error" (default) or "reject": spells whose person_id is not in persons
    "programmes",  # [programmes.LABEL] tables: name, description, cost_per_participant
    # issue 16a, the municipality benchmark (all optional):
    "municipality_code",  # the own municipality's CBS code (GM + 4 digits); a code in 'municipality' also works
    "benchmark",  # "all" (default) or a list of codes: the municipalities compared with
    "municipality_mergers",  # [municipality_mergers] table: old code = "new code"
)
#: Keys of a ``[programmes.LABEL]`` table in study.toml. ``name`` and ``description``: a table
#: ``{ nl = "...", en = "..." }`` or one string for both languages; ``cost_per_participant``: euros
#: (a number >= 0), optional.
PROGRAMME_INFO_KEYS = ("name", "description", "cost_per_participant")
#: Languages of the programme names and descriptions.
PROGRAMME_INFO_LANGS = ("nl", "en")

# --------------------------------------------------------------------------------------------
# Status rule and labels
# --------------------------------------------------------------------------------------------

#: Status on a date, in the order of the contract's rule (first that applies wins).
STATUSES = ("bijstand_met_werk", "bijstand", "werk", "ww", "overig")
#: Display order for tables (as in the CBS reference layout).
STATUS_ORDER = ("bijstand", "werk", "bijstand_met_werk", "ww", "overig")

#: Destinations of a bijstand spell that ended (the status at the first month end after it).
EXIT_DESTINATIONS = ("werk", "ww", "overig")

AGE_BANDS = ("18-26", "27-49", "50+")
DEFAULT_HORIZONS = (6, 12, 18)

OUTCOMES = ("employed_12m", "off_bijstand_12m", "off_bijstand_6_18m")
#: Additional outcome (issue 5): months on bijstand in the 18 months after time zero.
EXTRA_OUTCOMES = ("months_bijstand_18m",)
#: Outcomes when the input has a ``participation`` table (issue 16b): in any participation activity, and
#: volunteering, at the end of month 18 after time zero (0/1).
PARTICIPATION_OUTCOMES = ("participating_18m", "volunteering_18m")
METHODS = ("naive", "matching", "dml")
HAZARD_MODELS = ("exit_to_work", "reentry")

#: Group dimensions: label prefix -> (column in analysis frames, allowed values).
GROUP_DIMENSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sex": ("sex", SEX),
    "age": ("age_band", AGE_BANDS),
    "migration": ("migration_background", MIGRATION),
    "household": ("household", HOUSEHOLD_POSITIONS),
    "education": ("education", EDUCATION),
}


def age_band(age_years):
    """Contract age band for an age in whole years (vectorised over arrays and Series)."""
    import numpy as np

    a = np.asarray(age_years)
    return np.where(a < 27, "18-26", np.where(a < 50, "27-49", "50+"))


def group_label(dimension: str, value: str) -> str:
    """`group_label('sex', 'F') == 'sex=F'`; the label used in every output table."""
    return f"{dimension}={value}"


def programme_term(label: str) -> str:
    """Hazard-model term for having started programme ``label``."""
    return f"programme={label}"


# --------------------------------------------------------------------------------------------
# Output tables
# --------------------------------------------------------------------------------------------

FLOWS_COLUMNS = ("cohort", "horizon_months", "status", "persons")
#: The status 'overig' broken down (``flows_overig.csv``): another benefit (benefit 'other': e.g.
#: AOW, WIA/WAO, Wajong, ANW) on the date, or no registered work or benefit at all.
OVERIG_DETAILS = ("other_benefit", "no_work_or_benefit")
FLOWS_OVERIG_COLUMNS = ("cohort", "horizon_months", "detail", "persons")
#: Participation of the stock cohorts (``participation.csv``, issue 16b): ``activity`` is ``any`` or one of
#: PARTICIPATION_ACTIVITIES, ``participating`` yes/no; ``dimension``/``group`` ``all``/``all`` for the cohort.
PARTICIPATION_COLUMNS = ("cohort", "horizon_months", "activity", "dimension", "group", "participating", "persons")
PARTICIPATION_ANY = "any"
#: The programmes and their descriptions (``programmes.csv``).
PROGRAMMES_COLUMNS = ("programme", "name_nl", "name_en", "description_nl", "description_en",
                      "cost_per_participant", "participants")
#: Outcome prefix of the restricted mean time on bijstand within L months (``rmst_bijstand_<L>m``, issue 14a).
RMST_PREFIX = "rmst_bijstand_"
EFFECTS_COLUMNS = (
    "programme",
    "group",
    "outcome",
    "method",
    "estimate",
    "std_error",
    "ci_lower",
    "ci_upper",
    "n_treated",
    "n_control",
)
HAZARDS_COLUMNS = ("model", "term", "hazard_ratio", "ci_lower", "ci_upper")
#: The municipality benchmark (issue 16a, ``benchmark.csv``): indicators per municipality.
BENCHMARK_INDICATORS = ("outflow_to_work", "sustainable_outflow", "reentry_12m", "median_duration")
BENCHMARK_COLUMNS = ("municipality", "indicator", "persons", "observed", "expected", "difference",
                     "ci_lower", "ci_upper")


def stock_cohort_name(date) -> str:
    """`stock_YYYY-MM-DD`: everyone on bijstand on that date."""
    import pandas as pd

    return f"stock_{pd.Timestamp(date):%Y-%m-%d}"


def outflow_cohort_name(year: int) -> str:
    """`outflow_YYYY`: everyone who left bijstand in that year."""
    return f"outflow_{int(year)}"
