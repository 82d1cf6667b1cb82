"""Validate and clean an input folder into :class:`InputData`, with a cleaning log.

Steps per table: read, normalise column names, reject rows that cannot be linked (RINPERSOONS
not 'R'), map CBS codes and variants to the contract's labels and convert to typed columns, merge
exact duplicate rows, find person ids missing from persons, check every column with a pandera
schema, then cross-row checks (reversed spells, overlapping spells, impossible ages), merging of
contiguous benefit spells and sorting.

Every problem is collected and raised together as one :class:`InputError`, each naming the file,
column and first rows. All work is vectorised (codes are mapped once per distinct value), so a
national register (millions of persons, tens of millions of job rows) takes minutes, not hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from .contract import (
    DEFAULT_HORIZONS,
    GROUP_DIMENSIONS,
    MIGRATION_PRE_2022_MAP,
    OPTIONAL_COLUMNS,
    TABLES,
    ColumnSpec,
    TableSpec,
)
from .dataset import InputData, StudySettings
from .errors import InputError, Problem
from .io import (
    STUDY_FILE,
    SUFFIXES,
    TEXT,
    find_table,
    municipality_code,
    programme_info,
    read_raw,
    read_study,
)

#: Row numbers listed in a Problem (its text shows the first five and a count).
ROWS_LISTED = 10
#: Distinct bad values shown in a message.
VALUES_SHOWN = 8
MAX_AGE = 110
OPEN_END = "9999-12-31"
LOG_COLUMNS = ("table", "file", "outcome", "reason", "rows")
SPELL_TABLES = tuple(name for name, spec in TABLES.items() if spec.spell)
#: Spell tables whose dates set the study window when study.toml gives none (not participation, issue 16b:
#: a supplementary registration is read inside the register's window, it does not widen it).
WINDOW_TABLES = tuple(name for name in SPELL_TABLES if TABLES[name].extra.get("sets_window", True))

# CBS codes and spelling variants, keyed by the normalised value (lower case, '_' for spaces and
# hyphens, leading zeros dropped from numbers). Contract labels themselves are always accepted.
ALIASES: dict[str, dict[str, str]] = {
    # GBAGESLACHT 1 man, 2 woman; V = vrouw.
    "sex": {"1": "M", "2": "F", "v": "F", "man": "M", "vrouw": "F", "male": "M", "female": "F"},
    # PLHH: 1 child at home, 2 single, 3/4 partner without children, 5/6 with, 7 single parent, 8-10 other.
    "position": {
        "1": "child_at_home",
        "2": "single",
        "3": "couple_no_children",
        "4": "couple_no_children",
        "5": "couple_with_children",
        "6": "couple_with_children",
        "7": "single_parent",
        "8": "other",
        "9": "other",
        "10": "other",
    },
    # SECM: 21 WW, 22 bijstand, 23 other social provision, 24 sickness/disability.
    "benefit": {"21": "ww", "22": "bijstand", "23": "other", "24": "other"},
    # SCONTRACTSOORT: O onbepaalde tijd (permanent), B bepaalde tijd (fixed term).
    "contract": {"o": "permanent", "b": "fixed_term"},
}
#: Words and codes of other classifications mapped to a contract label, keyed like ALIASES. Unlike
#: ALIASES (CBS numeric codes, see ``io.CODED_COLUMNS``) these are words, so SPSS value labels still
#: apply first. migration_background: the pre-2022 CBS classification (westers / niet-westers) is
#: mapped to the 2022 one as an approximation (contract.MIGRATION_PRE_2022_MAP), with a line in the
#: cleaning log; a file mixing both classifications is refused (:meth:`_Table.check_migration`).
VARIANTS: dict[str, dict[str, str]] = {
    "migration_background": {
        **MIGRATION_PRE_2022_MAP,
        "westers": "europe", "niet_westers": "outside_europe",
        "nederlands": "dutch", "nederland": "dutch", "europa": "europe", "buiten_europa": "outside_europe",
        "onbekend": "unknown",
    },
}
#: Normalised values of migration_background in the pre-2022 and in the 2022 classification.
PRE_2022_KEYS = frozenset({"western", "non_western", "westers", "niet_westers"})
CBS_2022_KEYS = frozenset({"europe", "outside_europe", "europa", "buiten_europa"})
CODE_NOTES = {
    "sex": "; CBS GBAGESLACHT 1 (man) / 2 (woman) and V (vrouw) are also accepted",
    "position": "; CBS PLHH codes 1-10 are also accepted",
    "benefit": "; CBS SECM codes 21 (WW), 22 (bijstand), 23/24 (other) are also accepted",
    "contract": "; CBS SCONTRACTSOORT O (permanent) / B (fixed term) are also accepted",
    "migration_background": " (CBS 2022 classification); the pre-2022 codes western / non_western are also "
                            "accepted (mapped to europe / outside_europe, an approximation)",
}
TRUE_WORDS = ("true", "1", "ja", "yes")
FALSE_WORDS = ("false", "0", "nee", "no")


# ------------------------------------------------------------------------------------------------
# Public entry points
# ------------------------------------------------------------------------------------------------


def load_input(folder: str | Path, *, study: StudySettings | None = None) -> InputData:
    """Read, validate and clean the input folder; raise one InputError listing every problem.

    ``study`` overrides ``folder/study.toml`` (which is read when ``study`` is None).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError([Problem(str(folder), "the input folder does not exist", "pass the folder with the tables")])
    study_given = study
    problems: list[Problem] = []
    sources: dict[str, Path] = {}
    if study is None:
        try:
            study = read_study(folder)
        except InputError as exc:
            problems += exc.problems
            study = StudySettings()
        if (folder / STUDY_FILE).is_file():
            sources["study"] = folder / STUDY_FILE

    tables: dict[str, _Table] = {}
    person_ids: pd.Index | None = None
    for name, spec in TABLES.items():  # persons first: the other tables are linked to it
        table = tables[name] = _Table(spec)
        try:
            path = find_table(folder, name)
            if path is None:
                if spec.required:
                    table.problems.append(_missing_file(folder, spec))
                    table.failed = True
                continue
            table.file = path.name
            sources[name] = path
            table.check(read_raw(path), person_ids, study)
        except InputError as exc:
            table.problems += exc.problems
            table.failed = True
        except Exception as exc:  # a bug or a data shape nobody foresaw: still a report, not a traceback
            table.problems.append(
                Problem(
                    table.file or name,
                    f"the table could not be checked ({type(exc).__name__}: {exc})",
                    "check the file against the data contract; if it matches, report this as a bug",
                )
            )
            table.failed = True
        if name == "persons" and table.usable:
            person_ids = table.typed["person_id"].cat.categories

    window_start, window_end, window_line = _resolve_window(study, tables, from_file="study" in sources)
    tables["persons"].check_birth_dates(window_end)
    for table in tables.values():
        problems += table.problems
    settings = STUDY_FILE if "study" in sources or study_given is None else "the study settings"
    study, study_problems, study_lines = check_study(
        study, window_start, window_end, where=settings,
        horizons_given=_horizons_given(folder) if study_given is None else study.horizons != DEFAULT_HORIZONS)
    problems += study_problems
    problems += _programme_info_problems(study, tables["programmes"], where=settings)
    muni_problems, muni_lines = _municipality_problems(study, tables["benefits"], where=settings)
    problems += muni_problems
    if problems:
        raise InputError(problems)

    # an optional table marked absent_as_none (participation) that has no file stays None, without log lines
    frames = {name: None if TABLES[name].extra.get("absent_as_none") and not t.file else t.finish()
              for name, t in tables.items()}
    no_bijstand = _no_bijstand_problem(frames["benefits"], tables["benefits"], window_start, window_end)
    if no_bijstand is not None:
        raise InputError([no_bijstand])
    log = pd.DataFrame([line for t in tables.values() for line in t.log] + [*study_lines, *muni_lines, window_line],
                       columns=LOG_COLUMNS)
    log["rows"] = log["rows"].astype("int64")
    return InputData(
        **frames,
        study=study,
        log=log,
        sources=sources,
        window_start=window_start,
        window_end=window_end,
    )


#: Group dimensions study.toml may name in ``groups``: the contract's, plus prior bijstand duration
#: (the flows' breakdowns, :data:`reintegration_effects.flows.GROUPS`).
GROUP_NAMES = (*GROUP_DIMENSIONS, "duration")


def window_months(window_start, window_end) -> int:
    """Whole calendar months in the window: the largest m with start + m months - 1 day <= end.

    2015-01-01 to 2015-01-31 is 1 month, 2015-01-15 to 2015-02-13 too, 2015-01-01 to 2024-12-31
    120 months; a window shorter than a month has 0.
    """
    ws, we = pd.Timestamp(window_start).date(), pd.Timestamp(window_end).date()
    m = max((we.year - ws.year) * 12 + we.month - ws.month + 1, 0)
    while m > 0 and _add_months(ws, m) - dt.timedelta(days=1) > we:  # python dates: no overflow near 2262
        m -= 1
    return m


def _add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus whole months, clipped to the month's last day (as pandas' DateOffset)."""
    import calendar

    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def check_study(study: StudySettings, window_start, window_end, *, where: str = STUDY_FILE,
                horizons_given: bool = True) -> tuple[StudySettings, list[Problem], list[tuple]]:
    """What the run needs of the settings, checked against the resolved window.

    Valid (the run handles every such setting; the rest is a :class:`Problem` naming the key and
    the fix):

    - the window is at least one whole month (:func:`window_months` >= 1);
    - ``horizons`` are whole months >= 1, in increasing order, each once, and none longer than the
      window (a horizon of h months needs h months of follow-up inside the window; a cohort whose
      follow-up would run past the window end is left out of that horizon, with a line in the run
      log). When ``horizons`` were not set (``horizons_given=False``), the defaults that fit the
      window are used and the others are left out with a line in the cleaning log; if none fits,
      that is a problem;
    - ``cohorts`` are names ``stock_YYYY-MM-DD`` (a date inside the window) or ``outflow_YYYY``
      (a year that overlaps the window);
    - ``groups`` are dimensions of the flows' breakdowns (:data:`GROUP_NAMES`, optionally as
      ``dimension=value``).

    Returns the settings to use (the defaults' horizons possibly shortened), the problems and
    cleaning-log lines (table, file, outcome, reason, rows).
    """
    problems: list[Problem] = []
    lines: list[tuple] = []
    file = STUDY_FILE if where == STUDY_FILE else ""

    def bad(key: str, what: str, fix: str) -> None:
        problems.append(Problem(where, f"key '{key}': {what}", fix))

    horizons = tuple(int(h) for h in study.horizons)
    if list(horizons) != sorted(set(horizons)):
        bad("horizons", f"{list(horizons)} is not in increasing order with each horizon once",
            f"write each horizon once, smallest first: horizons = {sorted(set(horizons))}")
    if window_start is None or window_end is None or pd.isna(window_start) or pd.isna(window_end):
        return study, problems, lines
    ws, we = pd.Timestamp(window_start), pd.Timestamp(window_end)
    months = window_months(ws, we)
    if months < 1:
        bad("window_end", f"the window {ws:%Y-%m-%d} to {we:%Y-%m-%d} is shorter than one month (the panel "
                          f"takes the status on each month's last day)",
            f"set window_end to at least {_add_months(ws.date(), 1) - dt.timedelta(days=1):%Y-%m-%d}, "
            f"or widen the window")
        return study, problems, lines
    too_long = [h for h in horizons if h > months]
    if too_long and horizons_given:
        fits = [h for h in horizons if h <= months] or [months]
        bad("horizons", f"{_months_text(too_long)} longer than the window {ws:%Y-%m-%d} to {we:%Y-%m-%d} "
                        f"({months} whole month{'s' if months != 1 else ''}): no follow-up that long fits in it",
            f"use horizons of at most {months} months (e.g. horizons = {fits}), or widen the window "
            f"(window_start, window_end)")
    elif too_long:
        fits = tuple(h for h in horizons if h <= months)
        if not fits:
            bad("horizons", f"not set, and the default horizons {list(horizons)} are all longer than the window "
                            f"{ws:%Y-%m-%d} to {we:%Y-%m-%d} ({months} whole month{'s' if months != 1 else ''})",
                f"set horizons of at most {months} month{'s' if months != 1 else ''} in {STUDY_FILE}, e.g. horizons = [{months}], or widen "
                f"the window")
        else:
            study = replace(study, horizons=fits)
            lines.append(("study", file, "kept", f"default horizons {list(horizons)} shortened to {list(fits)}: "
                          f"{_months_text(too_long)} longer than the {months}-month window", 0))
    for name in study.cohorts or ():
        what = _cohort_problem(str(name), ws, we)
        if what:
            bad("cohorts", what, "name a cohort 'stock_YYYY-MM-DD' with a date inside the window or "
                                 "'outflow_YYYY' with a year that overlaps it; or leave 'cohorts' out for the defaults")
    for g in study.groups or ():
        if str(g).split("=")[0].strip() not in GROUP_NAMES:
            bad("groups", f"'{g}' is not a group dimension", f"use some of {', '.join(GROUP_NAMES)}")
    return study, problems, lines


def _programme_info_problems(study: StudySettings, table: _Table, *, where: str = STUDY_FILE) -> list[Problem]:
    """A problem for each ``[programmes.LABEL]`` in study.toml whose LABEL is not a programme in
    programmes.csv (a typo would otherwise leave the programme undescribed without a word)."""
    described = programme_info(study)
    if not described or (table.file and not table.usable):  # a broken programmes file is reported already
        return []
    labels = sorted(set(table.ok_rows()["programme"].dropna().astype(str))) if table.usable else []
    unknown = [label for label in described if label not in labels]
    if not unknown:
        return []
    file = table.file or "programmes.csv"
    found = (f"the labels in {file}: {', '.join(labels)}" if labels else f"{file} has no programmes" if table.file
             else "the input folder has no programmes table")
    return [Problem(where, f"[programmes.{label}] describes a programme that is not in {file} ({found})",
                    f"use the label exactly as {file} writes it (case matters), or remove the table")
            for label in unknown]


def _municipality_problems(study: StudySettings, table: _Table, *, where: str = STUDY_FILE
                           ) -> tuple[list[Problem], list[tuple]]:
    """The benchmark settings against benefits.municipality (issue 16a): the own code and the codes in
    ``benchmark`` must occur in the file (after mergers); without the column the benchmark is absent,
    which the cleaning log says when study.toml asks for it."""
    own = study.own_municipality
    listed = study.benchmark if isinstance(study.benchmark, list) else []
    if not table.usable:
        return [], []
    if "municipality" not in table.typed.columns:
        if own or listed:
            return [], [("study", where if where == STUDY_FILE else "", "kept",
                         "study.toml names municipality codes, but benefits has no municipality column: "
                         "no municipality benchmark", 0)]
        return [], []
    mergers = study.municipality_mergers or {}
    present = set(table.ok_rows()["municipality"].dropna().astype(str))
    file = table.file or "benefits.csv"
    problems = []
    for key, codes in (("municipality_code", [own] if own else []), ("benchmark", listed)):
        absent = [c for c in codes if mergers.get(c, c) not in present]
        if absent:
            problems.append(Problem(where, f"key '{key}': {', '.join(absent)} not in the municipality column of "
                                           f"{file} (codes found: {_show(sorted(present))})",
                                    f"use codes that occur in {file} (after [municipality_mergers]), or correct "
                                    f"the column"))
    return problems, []


def _months_text(horizons: list[int]) -> str:
    """'the horizon of 18 months is' / 'the horizons of 18 and 24 months are'."""
    if len(horizons) == 1:
        return f"the horizon of {horizons[0]} months is"
    return f"the horizons of {', '.join(map(str, horizons[:-1]))} and {horizons[-1]} months are"


def _cohort_problem(name: str, ws: pd.Timestamp, we: pd.Timestamp) -> str | None:
    """Why a cohort name from study.toml cannot be used (None when it can)."""
    import re

    m = re.fullmatch(r"stock_(\d{4}-\d{2}-\d{2})", name.strip())
    if m:
        date = _parse_iso(pd.Series([m.group(1)], dtype=TEXT)).iloc[0]
        if pd.isna(date):
            return f"'{name}': {m.group(1)} is not a date"
        if not ws <= date <= we:
            return f"'{name}' lies outside the window {ws:%Y-%m-%d} to {we:%Y-%m-%d}"
        return None
    m = re.fullmatch(r"outflow_(\d{4})", name.strip())
    if m:
        if not ws.year <= int(m.group(1)) <= we.year:
            return f"'{name}' lies outside the window {ws:%Y-%m-%d} to {we:%Y-%m-%d}"
        return None
    return (f"'{name}' is not a cohort name: expected 'stock_YYYY-MM-DD' (everyone on bijstand on that date) or "
            f"'outflow_YYYY' (everyone who left bijstand in that year)")


def _horizons_given(folder: Path) -> bool:
    """True when the folder's study.toml sets ``horizons`` (read_study has checked the file)."""
    import tomllib

    path = folder / STUDY_FILE
    try:
        return "horizons" in tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):  # absent or unreadable: reported by read_study
        return False


def _no_bijstand_problem(benefits: pd.DataFrame, table: _Table, ws, we) -> Problem | None:
    """A Problem when no bijstand spell overlaps the window: there is nobody to analyse."""
    b = benefits[benefits["benefit"] == "bijstand"]
    if ws is not None and we is not None and len(b):
        b = b[(b["start"] <= we) & (b["end"].isna() | (b["end"] >= ws))]
    if len(b):
        return None
    unlinked = sum(rows for (_, _, outcome, reason, rows) in table.log
                   if outcome == "rejected" and reason.startswith("person_id not in persons"))
    file = table.file or "benefits.csv"
    window = f" between {ws:%Y-%m-%d} and {we:%Y-%m-%d}" if ws is not None and we is not None else ""
    if unlinked:
        return Problem(file, f"no bijstand spell is left to analyse{window}: {unlinked} row(s) were rejected because "
                             f"their person_id is not in persons (unlinked = \"reject\" in {STUDY_FILE})",
                       "check that persons and the spell tables come from the same extract (the same "
                       "person_id, e.g. RINPERSOON with leading zeros); unlinked = \"reject\" only drops the odd "
                       "unlinked row", column="person_id", n_rows=unlinked)
    return Problem(file, f"no bijstand spell{window}: there is nobody to analyse",
                   "add the bijstand spells (benefit 'bijstand' or CBS code 22), or choose a window "
                   "(window_start, window_end) in which they fall", column="benefit")


def write_cleaning_log(data: InputData, out_dir: str | Path) -> Path:
    """Write ``data.log`` to ``out_dir/cleaning_log.csv`` (creating out_dir); returns the path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "cleaning_log.csv"
    data.log.to_csv(path, index=False)
    return path


def empty_table(name: str) -> pd.DataFrame:
    """A clean, empty frame for table ``name``: the contract's columns and dtypes, plus ``row``."""
    spec = TABLES[name]
    empty = pd.Series([], dtype=TEXT)
    cols = {c.name: _convert(c, empty)[1] for c in spec.columns}
    cols |= {c.name: _as_python_text(cols[c.name]) for c in spec.columns if c.kind in ("id", "text")}
    cols["row"] = pd.Series([], dtype="int64")
    return pd.DataFrame(cols)


# ------------------------------------------------------------------------------------------------
# One table
# ------------------------------------------------------------------------------------------------


@dataclass
class _Table:
    """One table while it is checked: typed frame, rows that passed, log lines and problems.

    The frames keep the row positions of the file as their index, so ``index + 1`` is the row
    number a user sees (header not counted).
    """

    spec: TableSpec
    file: str = ""
    raw: pd.DataFrame | None = None  # the file's values, kept only to quote them in problems
    typed: pd.DataFrame | None = None
    ok: pd.Series | None = None  # rows that passed the column checks
    failed: bool = False
    problems: list[Problem] = field(default_factory=list)
    log: list[tuple] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.typed is not None and not self.failed

    def ok_rows(self) -> pd.DataFrame:
        """The typed rows that passed the column checks (no copy when all did)."""
        return self.typed if self.ok.all() else self.typed[self.ok]

    def add_log(self, outcome: str, reason: str, rows: int) -> None:
        self.log.append((self.spec.name, self.file, outcome, reason, int(rows)))

    def problem(self, column: str | None, what: str, fix: str, index=None) -> None:
        """Add a Problem; ``index`` holds the file positions (0-based) of the rows concerned."""
        rows: list[int] = []
        n_rows = None
        if index is not None:
            pos = np.unique(np.asarray(index, dtype=np.int64))
            rows = (pos[:ROWS_LISTED] + 1).tolist()
            n_rows = len(pos)
        self.problems.append(Problem(self.file, what, fix, column=column, rows=rows, n_rows=n_rows))

    # -- column level ------------------------------------------------------------------------

    def check(self, raw: pd.DataFrame, person_ids: pd.Index | None, study: StudySettings) -> None:
        """Everything for one table that needs no other table but persons."""
        spec = self.spec
        found = list(raw.columns)
        raw = self._link_keys(raw)
        optional = [c for c in OPTIONAL_COLUMNS.get(spec.name, ()) if c.name in raw.columns]
        if optional:  # e.g. benefits.municipality (issue 16a): checked and kept like the fixed columns
            self.spec = spec = replace(spec, columns=(*spec.columns, *optional))
        missing = [c for c in spec.required_columns if c not in raw.columns]
        if missing:
            self.problem(
                ", ".join(missing),
                f"required column(s) missing; columns found: {', '.join(found) or 'none'}",
                f"add the column(s) (the contract for {spec.name}: {', '.join(spec.column_names)})",
            )
            self.failed = True
            return
        extra = [c for c in raw.columns if c not in spec.column_names]
        if extra:
            self.add_log("kept", f"dropped unknown column(s): {', '.join(extra)}", 0)
        present = [c for c in spec.column_names if c in raw.columns]
        self.raw = raw
        converted = {c: _convert(spec.column(c), raw[c]) for c in present}
        norm = pd.DataFrame({c: v[0] for c, v in converted.items()}, index=raw.index)
        typed = pd.DataFrame({c: v[1] for c, v in converted.items()}, index=raw.index)
        del converted

        keep = pd.Series(~_duplicated(norm), index=norm.index)  # exact duplicates, after mapping codes
        if not keep.all():
            self.add_log("merged", "exact duplicate rows merged into one", (~keep).sum())
        if person_ids is not None and spec.name != "persons":
            unlinked = keep & norm["person_id"].notna() & ~_isin(norm["person_id"], person_ids)
            if unlinked.any():
                if study.unlinked == "reject":
                    self.add_log("rejected", "person_id not in persons (study.unlinked = 'reject')", unlinked.sum())
                    keep &= ~unlinked
                else:
                    self.problem(
                        "person_id",
                        f"{unlinked.sum()} row(s) have a person_id that is not in persons "
                        f"(e.g. {_show(norm.loc[unlinked, 'person_id'].unique())})",
                        "add these persons to the persons table or correct the ids; or set "
                        'unlinked = "reject" in study.toml to drop such rows',
                        norm.index[unlinked],
                    )
        if not keep.all():
            norm, typed = norm[keep], typed[keep]
        if "municipality" in typed.columns:
            typed = self._municipality_codes(raw, typed, study)
        self.typed = typed
        self.ok = self._schema_checks(norm, typed)
        if spec.name == "persons" and "migration_background" in raw.columns:
            self.check_migration(raw.loc[typed.index, "migration_background"])
        if spec.spell:
            self._spell_checks()
        if not self.problems:
            self.raw = None  # free memory: only needed to quote bad values

    def _municipality_codes(self, raw: pd.DataFrame, typed: pd.DataFrame, study: StudySettings) -> pd.DataFrame:
        """Log codes written as bare numbers, map merged municipalities (study.toml
        ``[municipality_mergers]``) and count bijstand spells without a code (issue 16a)."""
        col = typed["municipality"]
        written = _as_text(raw.loc[typed.index, "municipality"].astype(object))
        bare = (written.str.fullmatch(r"\d{1,4}").fillna(False) & col.notna()).to_numpy(bool)
        if bare.any():
            self.add_log("kept", "municipality codes written as a bare number read as CBS codes (e.g. "
                                 f"{written[bare].iloc[0]} -> {col[bare].iloc[0]})", int(bare.sum()))
        mergers = study.municipality_mergers or {}
        if mergers:
            old = col.isin(list(mergers)).to_numpy(bool)
            if old.any():
                pairs = ", ".join(f"{a} -> {mergers[a]}" for a in sorted(set(col[old].astype(str))))
                typed = typed.copy()
                typed["municipality"] = col.astype(object).map(lambda c: mergers.get(c, c)).astype("category")
                self.add_log("kept", f"municipality codes of merged municipalities mapped to their successor "
                                     f"(study.toml [municipality_mergers]: {pairs})", int(old.sum()))
        if "benefit" in typed.columns:
            missing = (typed["benefit"].astype(object) == "bijstand").to_numpy(bool) & typed["municipality"].isna().to_numpy()
            if missing.any():
                self.add_log("kept", "bijstand spells without a municipality code: kept, left out of the "
                                     "municipality benchmark", int(missing.sum()))
        return typed

    def check_migration(self, values: pd.Series) -> None:
        """The classification of migration_background: CBS 2022 (dutch / europe / outside_europe /
        unknown) or pre-2022 (dutch / western / non_western / unknown).

        Pre-2022 codes are mapped to the 2022 groups (western -> europe, non_western ->
        outside_europe) with a cleaning-log line saying it is an approximation: the two cannot be
        converted exactly: non_western lies wholly outside Europe (Turkey is outside Europe in CBS's
        2022 classification), but Indonesia, Japan, North America and Oceania were western and are
        outside Europe now. A file holding codes of both
        classifications is a problem: its groups would mix two definitions that cannot be told
        apart afterwards. ``dutch`` and ``unknown`` belong to both.
        """
        codes, uniques = _factorize(values)
        keys = _key(_as_text(uniques)).fillna("")
        old = np.append(keys.isin(PRE_2022_KEYS).to_numpy(bool), False)[codes]
        new = np.append(keys.isin(CBS_2022_KEYS).to_numpy(bool), False)[codes]
        n_old, n_new = int(old.sum()), int(new.sum())
        if n_old and n_new:
            fewer = old if n_old <= n_new else new
            self.problem(
                "migration_background",
                f"{n_old} row(s) use the pre-2022 CBS classification (western / non_western) and {n_new} the "
                f"2022 one (europe / outside_europe): the groups would mix two definitions (rows listed: the "
                f"{'pre-2022' if fewer is old else '2022'} ones)",
                "recode every row to one classification: the CBS 2022 one (dutch, europe, outside_europe, "
                "unknown; CBS 'herkomst'), or the pre-2022 one (dutch, western, non_western, unknown)",
                values.index[fewer],
            )
        elif n_old:
            self.add_log(
                "kept",
                "migration_background in the pre-2022 CBS classification, mapped to the 2022 one as an "
                "approximation: western -> europe, non_western -> outside_europe (Indonesia, Japan, North "
                "America and Oceania were western and are outside Europe in 2022)",
                0,  # an information line, as for dropped columns: the rows are counted as kept already
            )

    def _link_keys(self, raw: pd.DataFrame) -> pd.DataFrame:
        """CBS keys: rinpersoon becomes person_id; rows whose rinpersoons is not 'R' are rejected."""
        if "person_id" not in raw.columns and "rinpersoon" in raw.columns:
            raw = raw.rename(columns={"rinpersoon": "person_id"})
        if "rinpersoons" in raw.columns:
            codes, uniques = _factorize(raw["rinpersoons"])
            is_r = np.append((_as_text(uniques).str.upper() == "R").fillna(False).to_numpy(bool), False)
            linkable = is_r[codes]
            if not linkable.all():
                self.add_log(
                    "rejected",
                    "rinpersoons is not 'R': cannot be linked to the population register",
                    (~linkable).sum(),
                )
                raw = raw.loc[linkable]
            raw = raw.drop(columns="rinpersoons")
        return raw

    def _schema_checks(self, norm: pd.DataFrame, typed: pd.DataFrame) -> pd.Series:
        """Column checks with pandera (lazy: all failures at once), turned into Problems.

        pandera sees the normalised text (labels, ISO dates) and checks allowed values, missing
        values and unique person ids; dates and numbers are checked against their conversion.
        Returns a mask of the rows without failures, for the cross-row checks.
        """
        columns: dict[str, pa.Column] = {}
        kinds: dict[tuple[str, int], str] = {}
        for col in norm.columns:
            c = self.spec.column(col)
            checks: list[tuple[str, pa.Check]] = []
            if c.kind == "category":
                checks.append(("code", pa.Check.isin(list(c.values))))
            elif c.kind == "bool":
                checks.append(("code", pa.Check.isin(["true", "false"])))
            elif c.kind == "municipality":
                checks.append(("municipality", _mask_check(typed[col].notna() | norm[col].isna())))
            elif c.kind == "date":
                checks.append(("date", _mask_check(typed[col].notna() | norm[col].isna())))
            elif c.kind == "number":
                checks.append(("number", _mask_check(typed[col].notna() | norm[col].isna())))
                checks.append(("negative", _mask_check(~(typed[col] < 0))))
            for i, (kind, _) in enumerate(checks):
                kinds[(col, i)] = kind
            columns[col] = pa.Column(
                checks=[chk for _, chk in checks],
                nullable=c.nullable,
                unique=self.spec.name == "persons" and col == "person_id",
            )
        ok = pd.Series(True, index=norm.index)
        try:
            pa.DataFrameSchema(columns).validate(norm, lazy=True)
        except SchemaErrors as err:
            fc = err.failure_cases
            fc = fc[fc["index"].notna()].copy()
            fc["kind"] = _check_kinds(fc, kinds)
            for (col, kind), grp in fc.groupby(["column", "kind"], sort=False):
                index = np.unique(grp["index"].astype(np.int64).to_numpy())
                ok.loc[index] = False
                self._column_problem(self.spec.column(col), kind, index)
        return ok

    def _column_problem(self, c: ColumnSpec, kind: str, index: np.ndarray) -> None:
        """One Problem for one failed check of one column, quoting the values as they are in the file."""
        n = len(index)
        values = _show(self.raw.loc[index, c.name].dropna().unique())
        if kind == "not_nullable":
            fix = "fill in the date (YYYY-MM-DD or YYYYMMDD)" if c.kind == "date" else "fill in a value in every row"
            self.problem(c.name, f"{n} empty value(s)", fix, index)
        elif kind == "field_uniqueness":
            self.problem(
                c.name,
                f"{n} rows share a person_id with another row that differs in other columns (ids {values})",
                "keep one row per person (exact duplicate rows are merged automatically)",
                index,
            )
        elif kind == "code":
            allowed = ", ".join(c.values) if c.kind == "category" else "true/false, 1/0, ja/nee, yes/no"
            self.problem(
                c.name,
                f"unknown value(s) {values} in {n} row(s); allowed: {allowed}{CODE_NOTES.get(c.name, '')}",
                "replace them by allowed values (case and surrounding spaces do not matter)",
                index,
            )
        elif kind == "municipality":
            self.problem(
                c.name,
                f"{n} value(s) are not CBS municipality codes: {values}",
                "write the CBS code of the paying municipality, GM and four digits (e.g. GM1916; the bare "
                "number 1916 is accepted too), or leave the cell empty when no municipality pays (e.g. WW)",
                index,
            )
        elif kind == "date":
            extra = "; 99991231 or an empty cell means an open end" if c.nullable else ""
            self.problem(
                c.name,
                f"{n} value(s) are not real dates or not in a known format: {values}",
                f"write real calendar dates between 1678 and 2261 as YYYY-MM-DD or YYYYMMDD "
                f"(e.g. 2015-02-28 or 20150228){extra}",
                index,
            )
        elif kind == "number":
            self.problem(
                c.name,
                f"{n} value(s) are not numbers: {values}",
                "write plain numbers (decimal point or comma, no units); leave the cell empty if unknown",
                index,
            )
        elif kind == "negative":
            self.problem(
                c.name,
                f"{n} negative value(s): {values}",
                "hours and wages cannot be negative; correct them or leave the cell empty",
                index,
            )
        else:  # a pandera check this module does not name (should not happen)
            self.problem(c.name, f"{n} value(s) fail the check {kind}: {values}", "correct the values", index)

    # -- cross-row checks ----------------------------------------------------------------------

    def _spell_checks(self) -> None:
        """Reversed spells; overlapping spells of one benefit type, or of household positions."""
        t = self.ok_rows()
        reversed_ = t["end"].notna() & (t["end"] < t["start"])
        if reversed_.any():
            self.problem(
                "end",
                f"{reversed_.sum()} spell(s) end before they start",
                "swap or correct start and end (end is the last day, inclusive)",
                t.index[reversed_],
            )
            self.ok &= ~reversed_.reindex(self.ok.index, fill_value=False)
            t = t[~reversed_]
        if self.spec.name == "benefits":
            for benefit in t["benefit"].cat.categories:  # three types, not rows
                sub = t[t["benefit"] == benefit]
                involved = _overlapping(sub)
                if len(involved):
                    self.problem(
                        "start",
                        f"{benefit} spells of one person overlap "
                        f"(persons {_show(sub.loc[involved, 'person_id'].unique())})",
                        "correct the dates so spells of the same benefit do not overlap, or merge them",
                        involved,
                    )
        elif self.spec.name == "participation":  # same-activity overlaps are merged in finish(), others kept
            pass
        elif self.spec.name == "households":
            involved = _overlapping(t)
            if len(involved):
                self.problem(
                    "start",
                    f"household spells of one person overlap (persons {_show(t.loc[involved, 'person_id'].unique())})",
                    "correct the dates so a person has one household position at a time",
                    involved,
                )

    def check_birth_dates(self, window_end: pd.Timestamp | None) -> None:
        """Birth dates in the future, or more than MAX_AGE years before the window end."""
        if not self.usable:
            return
        t = self.ok_rows()
        today = pd.Timestamp.today().normalize()
        future = t["birth_date"] > today
        if future.any():
            self.problem(
                "birth_date",
                f"{future.sum()} birth date(s) in the future (after {today:%Y-%m-%d})",
                "correct the birth dates",
                t.index[future],
            )
        ref = window_end if window_end is not None else today
        try:
            cutoff = ref - pd.DateOffset(years=MAX_AGE)
        except (OverflowError, ValueError):  # OutOfBoundsDatetime: nobody can be born that early
            return
        old = t["birth_date"] < cutoff
        if old.any():
            self.problem(
                "birth_date",
                f"{old.sum()} person(s) would be over {MAX_AGE} at the window end {ref:%Y-%m-%d}",
                "correct the birth dates (an unknown birth date is sometimes coded as 1800 or 1900)",
                t.index[old],
            )

    # -- result --------------------------------------------------------------------------------

    def finish(self) -> pd.DataFrame:
        """The clean frame: contract columns + row, benefit spells merged, spells sorted."""
        name = self.spec.name
        if self.typed is None:
            self.add_log("kept", "no file: empty table", 0)
            return empty_table(name)
        absent = pd.Series(pd.NA, index=self.typed.index, dtype=TEXT)  # optional columns not in the file
        typed = pd.DataFrame(
            {
                c.name: self.typed[c.name] if c.name in self.typed.columns else _convert(c, absent)[1]
                for c in self.spec.columns
            },
            index=self.typed.index,
        )
        typed["row"] = typed.index.to_numpy(dtype=np.int64) + 1
        if name == "benefits":
            typed, merged = _merge_contiguous(typed)
            if merged:
                self.add_log(
                    "merged",
                    "contiguous spells of the same benefit merged (next start = previous end + 1 day)",
                    merged,
                )
        if name == "participation":
            typed, merged = merge_same_activity(typed)
            if merged:
                self.add_log(
                    "merged",
                    "overlapping or contiguous spells of the same activity of one person merged into one "
                    "(union of their dates; spells of different activities may overlap and are kept)",
                    merged,
                )
        if self.spec.spell:  # by person_id (as text), then start, then row (a stable sort)
            ids = typed["person_id"].cat
            rank = np.empty(len(ids.categories), dtype=np.int64)
            rank[np.argsort(np.asarray(ids.categories, dtype=object), kind="stable")] = np.arange(len(rank))
            key = rank[ids.codes.to_numpy()] * _GROUP + _days(typed["start"]) + _DAY_OFFSET
            typed = typed.iloc[np.argsort(key, kind="stable")]
        typed = typed.reset_index(drop=True)
        for c in self.spec.columns:
            if c.kind in ("id", "text", "municipality"):
                typed[c.name] = _as_python_text(typed[c.name])
        self.log.insert(0, (name, self.file, "kept", "valid rows kept", len(typed)))
        return typed


# ------------------------------------------------------------------------------------------------
# Converting values: once per distinct value, then spread over the rows
# ------------------------------------------------------------------------------------------------


def _factorize(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes (-1 = missing) and distinct values. Registers repeat codes and dates millions of
    times, so mapping the distinct values keeps the work proportional to their number."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(), pd.Series(s.cat.categories)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, pd.Series(uniques)


def _as_text(u: pd.Series) -> pd.Series:
    """Values of any dtype as stripped text; whole floats (SPSS numerics) without '.0'; '' -> missing."""
    kind = u.dtype.kind
    if kind == "f":
        whole = np.isfinite(u) & (u == np.round(u)) & (np.abs(u) < 2**53)
        text = u.astype(str).where(~whole, u.where(whole, 0).astype(np.int64).astype(str))
    elif kind == "b":
        text = u.map({True: "true", False: "false"})
    elif kind == "M":
        text = u.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_string_dtype(u.dtype) and u.dtype != object:
        text = u
    else:
        text = u.astype(str)
    text = text.astype(TEXT).str.strip()
    return text.mask(text == "")


def _key(text: pd.Series) -> pd.Series:
    """Lookup key for codes: lower case, '_' for spaces and hyphens, no leading zeros in numbers."""
    key = text.str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    return key.str.replace(r"^0+(\d)", r"\1", regex=True)


def _convert(c: ColumnSpec, s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(normalised, typed) versions of one column.

    normalised: a categorical of the text after mapping (contract labels, ISO dates, plain
    numbers); values that cannot be mapped stay as found, for pandera to report. Being
    categorical, it costs one small integer per row. typed: the clean dtype, missing where the
    value is invalid; ids and text stay categorical until :meth:`_Table.finish`.
    """
    if c.kind == "number" and pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        values = s.astype("float64")
        return values, values.where(np.isfinite(values))
    codes, uniques = _factorize(s)
    text = _as_text(uniques)
    values = None
    if c.kind == "category":
        lookup = {v.lower(): v for v in c.values} | VARIANTS.get(c.name, {}) | ALIASES.get(c.name, {})
        norm = _key(text).map(lookup).astype(TEXT).fillna(text)
    elif c.kind == "bool":
        words = dict.fromkeys(TRUE_WORDS, "true") | dict.fromkeys(FALSE_WORDS, "false")
        norm = text.str.lower().map(words).astype(TEXT).fillna(text)
        values = norm.map({"true": True, "false": False}).astype("boolean")
    elif c.kind == "date":
        norm = _date_text(text, open_end=c.nullable)
        values = _parse_iso(norm)
    elif c.kind == "municipality":
        norm = text
        values = text.map(municipality_code, na_action="ignore").astype(TEXT)
    elif c.kind == "number":
        norm = text
        if text.str.contains(",", regex=False).any():  # decimal comma (Dutch spreadsheets)
            norm = text.str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True)
        values = _to_float(norm)
    else:  # id, text
        norm = text
    # several raw values can map to one label (1, M, ' m '): one category per label
    label_codes, labels = pd.factorize(norm, use_na_sentinel=True)
    row_codes = np.append(label_codes, -1)[codes]
    categories = pd.Index(np.asarray(labels, dtype=object))
    normalised = pd.Series(pd.Categorical.from_codes(row_codes, categories=categories), index=s.index)
    if c.kind == "category":
        fill = c.values.index("unknown") if c.name == "education" else -1  # education missing = unknown
        cat_codes = np.append(pd.Index(c.values).get_indexer(categories), fill)[row_codes]
        typed = pd.Series(pd.Categorical.from_codes(cat_codes, categories=list(c.values)), index=s.index)
    elif values is None:  # id, text: the normalised text itself
        typed = normalised
    elif c.kind == "municipality":  # the code as the contract writes it (GM + 4 digits), categorical
        per_row = np.append(values.to_numpy(dtype=object, na_value=None), None)[codes]
        typed = pd.Series(pd.Categorical(per_row), index=s.index)
    else:
        typed = pd.Series(values.array.take(codes, allow_fill=True), index=s.index)
    return normalised, typed


def _duplicated(norm: pd.DataFrame) -> np.ndarray:
    """Rows equal to an earlier row in every column (keep the first).

    A 64-bit hash per row finds candidates in one pass; the exact comparison then runs on
    the candidates only, so the answer is exact and a 20-million-row table takes seconds.
    """
    arrays = [
        col.cat.codes.to_numpy() if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
        for _, col in norm.items()
    ]
    row_hash = np.zeros(len(norm), dtype=np.uint64)
    for arr in arrays:
        row_hash = row_hash * np.uint64(1_000_003) ^ pd.util.hash_array(arr, categorize=False)
    candidates = pd.Series(row_hash).duplicated(keep=False).to_numpy()
    dup = np.zeros(len(norm), dtype=bool)
    if candidates.any():
        subset = pd.DataFrame({i: arr[candidates] for i, arr in enumerate(arrays)})
        dup[candidates] = subset.duplicated(keep="first").to_numpy()
    return dup


def _date_text(text: pd.Series, *, open_end: bool) -> pd.Series:
    """ISO date text: YYYYMMDD and ISO (also with a midnight time) accepted; 9999-12-31 = open end."""
    compact = text.str.fullmatch(r"\d{8}").fillna(False).astype(bool)
    iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[ T]00:00(?::00(?:\.0+)?)?)?").fillna(False).astype(bool)
    text = text.where(~compact, text.str.slice(0, 4) + "-" + text.str.slice(4, 6) + "-" + text.str.slice(6, 8))
    text = text.where(~iso, text.str.slice(0, 10))
    return text.mask(text == OPEN_END) if open_end else text


def _parse_iso(text: pd.Series) -> pd.Series:
    """ISO date text -> datetime64[ns]; anything else (also 2015-02-31, 9999-12-31) -> NaT."""
    shaped = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool)
    return pd.to_datetime(text.where(shaped).astype(object), format="%Y-%m-%d", errors="coerce").astype(
        "datetime64[ns]"
    )


def _to_float(text: pd.Series) -> pd.Series:
    """Number text -> float64; text that is not a finite number -> NaN."""
    try:  # fast path (Arrow): every value is a number
        values = text.astype("float64")
    except Exception:  # pyarrow.ArrowInvalid or ValueError: some value is not a number
        values = pd.to_numeric(text.astype(object), errors="coerce").astype("float64")
    return values.where(np.isfinite(values))


def _as_python_text(s: pd.Series) -> pd.Series:
    """Categorical text -> object dtype holding Python str (None when missing), as InputData documents."""
    values = np.append(np.asarray(s.cat.categories, dtype=object), None)
    return pd.Series(values[s.cat.codes.to_numpy()], index=s.index, name=s.name, dtype=object)


def _mask_check(valid: pd.Series) -> pa.Check:
    """A pandera check whose verdict was computed while converting the column (so it runs once)."""
    return pa.Check(lambda s: valid.reindex(s.index, fill_value=True))


def _isin(values: pd.Series, allowed: pd.Index) -> pd.Series:
    """``values.isin(allowed)`` for a categorical column: looked up once per category."""
    found = np.append(values.cat.categories.isin(allowed), False)
    return pd.Series(found[values.cat.codes.to_numpy()], index=values.index)


# ------------------------------------------------------------------------------------------------
# Cross-row helpers
# ------------------------------------------------------------------------------------------------

_DAY_OFFSET = 200_000  # days; shifts 1677..2262 (the datetime64[ns] range) to positive numbers
_OPEN = 1_000_000  # an open end, after every real date
_GROUP = 2_000_000  # per group, so one running maximum can cover all groups at once


def _days(dates: pd.Series) -> np.ndarray:
    """Dates as whole days (int64), NaT as -1 (only used where dates are present)."""
    values = dates.to_numpy(dtype="datetime64[ns]")
    out = values.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(values), -1, out)


def _overlapping(t: pd.DataFrame) -> np.ndarray:
    """File positions of spells that overlap an earlier spell of the same person, and that spell.

    Sorts by person and start, then compares each start with the running maximum of earlier
    ends (open end = infinity); the group offset lets one cumulative maximum serve all persons.
    """
    if len(t) < 2:
        return np.array([], dtype=np.int64)
    pid, _ = pd.factorize(t["person_id"])
    start = _days(t["start"]) + _DAY_OFFSET
    end = np.where(t["end"].isna(), _OPEN, _days(t["end"]) + _DAY_OFFSET)
    order = np.lexsort((start, pid))
    group = pid[order].astype(np.int64) * _GROUP
    running = np.maximum.accumulate(group + end[order])
    prev = np.concatenate(([-1], running[:-1]))
    clash = group + start[order] <= prev
    involved = clash | np.concatenate((clash[1:], [False]))
    return t.index.to_numpy()[order][involved]


def _merge_contiguous(t: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Merge benefit spells of one person and type where start == previous end + 1 day.

    CBS splits a spell on administrative changes; the merged spell keeps the first row (and its
    row number) and takes the end of the last piece.
    """
    if len(t) < 2:
        return t, 0
    pid, _ = pd.factorize(t["person_id"])
    ben = t["benefit"].cat.codes.to_numpy()
    start, end = _days(t["start"]), _days(t["end"])
    order = np.lexsort((start, ben, pid))
    same = np.concatenate(([False], (pid[order][1:] == pid[order][:-1]) & (ben[order][1:] == ben[order][:-1])))
    prev_end = np.concatenate(([-1], end[order][:-1]))
    joins = same & (prev_end >= 0) & (start[order] == prev_end + 1)
    if not joins.any():
        return t, 0
    first = np.flatnonzero(~joins)
    last = np.concatenate((first[1:] - 1, [len(order) - 1]))
    merged = t.iloc[order[first]].copy()
    merged["end"] = t["end"].to_numpy()[order[last]]
    return merged, int(joins.sum())


def merge_same_activity(t: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Merge participation spells of one person and activity that overlap or touch (next start <=
    previous end + 1 day): the union of their dates, as one spell keeping the first row (and its row
    number); an open end stays open. Returns the frame and the number of rows merged away.

    Several registrations of the same activity (a renewed volunteering placement entered before the
    old one was closed) say the person did that activity on every day of the union; whether a date
    is covered, the only thing the package reads, is the same before and after the merge.
    """
    if len(t) < 2:
        return t, 0
    pid, _ = pd.factorize(t["person_id"])
    act = t["activity"].cat.codes.to_numpy()
    start = _days(t["start"]) + _DAY_OFFSET
    end = np.where(t["end"].isna(), _OPEN, _days(t["end"]) + _DAY_OFFSET)
    order = np.lexsort((start, act, pid))
    key = (pid[order].astype(np.int64) * (len(TABLES["participation"].column("activity").values) + 1)
           + act[order].astype(np.int64) + 1) * _GROUP
    running = np.maximum.accumulate(key + end[order])  # the latest end so far within (person, activity)
    prev = np.concatenate(([-1], running[:-1]))
    joins = (key + start[order] <= prev + 1) & np.concatenate(([False], key[1:] == key[:-1]))
    if not joins.any():
        return t, 0
    first = np.flatnonzero(~joins)
    group = np.cumsum(~joins) - 1
    last_end = np.maximum.reduceat(end[order], first)
    merged = t.iloc[order[first]].copy()
    ends = t["end"].to_numpy()[order]
    # the spell of the group whose end is the group's maximum (an open end is the maximum)
    pick = np.zeros(len(first), dtype=np.int64)
    is_max = end[order] == last_end[group]
    pick[group[is_max][::-1]] = np.flatnonzero(is_max)[::-1]
    merged["end"] = ends[pick]
    return merged, int(joins.sum())


# ------------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------------


def _missing_file(folder: Path, spec: TableSpec) -> Problem:
    names = ", ".join(f"{spec.name}{s}" for s in SUFFIXES)
    present = ", ".join(sorted(p.name for p in folder.iterdir() if p.is_file())) or "none"
    return Problem(
        f"{spec.name}.csv",
        f"the required table '{spec.name}' is missing from {folder} (files found: {present})",
        f"add one of {names} (one row per {spec.one_row_per})",
    )


def _show(values) -> str:
    """A few values for a message, quoted, with a count of the rest."""
    values = list(values)
    shown = ", ".join(repr(str(v)) for v in values[:VALUES_SHOWN])
    return shown + (f" and {len(values) - VALUES_SHOWN} more" if len(values) > VALUES_SHOWN else "")


def _check_kinds(fc: pd.DataFrame, kinds: dict[tuple[str, int], str]) -> pd.Series:
    """Our name for the check behind each pandera failure case (pandera's own for nullable/unique)."""
    number = pd.to_numeric(fc["check_number"], errors="coerce").astype("Int64").astype(str)
    key = fc["column"].astype(str) + "#" + number
    lookup = {f"{col}#{num}": kind for (col, num), kind in kinds.items()}
    return key.map(lookup).fillna(fc["check"].astype(str))


def _resolve_window(
    study: StudySettings, tables: dict[str, _Table], *, from_file: bool
) -> tuple[pd.Timestamp | None, pd.Timestamp | None, tuple]:
    """Study window from study.toml, else the first and last spell dates rounded to whole months."""
    lo = hi = None
    if study.window_start is None or study.window_end is None:
        lows, highs = [], []
        for name in WINDOW_TABLES:
            t = tables[name]
            if t.typed is not None and t.ok is not None:
                ok = t.ok_rows()
                lows += [ok["start"].min(), ok["end"].min()]  # NaT (open ends) are skipped
                highs += [ok["start"].max(), ok["end"].max()]
        lows, highs = [d for d in lows if pd.notna(d)], [d for d in highs if pd.notna(d)]
        if lows:
            lo, hi = min(lows), max(highs)
    start = study.window_start if study.window_start is not None else lo
    end = study.window_end if study.window_end is not None else hi
    try:
        if start is not None and pd.notna(start) and study.window_start is None:
            start = start.to_period("M").start_time
        if end is not None and pd.notna(end) and study.window_end is None:
            end = end.to_period("M").end_time.normalize()
    except (OverflowError, ValueError):  # OutOfBoundsDatetime near 2262: keep the date itself
        pass
    if start is None or end is None or pd.isna(start) or pd.isna(end):
        return None, None, ("study", "", "kept", "window unknown: no dates in study.toml or the spell tables", 0)
    settings = STUDY_FILE if from_file else "the study settings"
    given = (study.window_start is not None) + (study.window_end is not None)
    source = {
        2: f"from {settings}",
        1: f"partly from {settings}, partly from the spell dates",
        0: "from the spell dates, rounded to whole months",
    }[given]
    file = STUDY_FILE if from_file and given else ""
    return (
        pd.Timestamp(start),
        pd.Timestamp(end),
        ("study", file, "kept", f"window {start:%Y-%m-%d} to {end:%Y-%m-%d} ({source})", 0),
    )

