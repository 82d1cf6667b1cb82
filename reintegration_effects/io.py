"""Reading and writing input files: CSV, Parquet and SPSS ``.sav`` (as CBS delivers), and study.toml.

Readers return the values as they are in the file (CSV: all text, empty cell = missing) with
normalised column names; mapping CBS codes, checking and cleaning is the job of ``validate``.
Writers exist so the simulator and the tests can make input folders in every accepted format.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from .contract import PROGRAMME_INFO_KEYS, PROGRAMME_INFO_LANGS, STUDY_KEYS
from .dataset import StudySettings
from .errors import InputError, Problem

#: File formats an input table may come in, in the order they are looked for.
SUFFIXES = (".csv", ".parquet", ".sav")
STUDY_FILE = "study.toml"
#: Encodings tried for CSV, in order (UTF-8 with or without BOM; then Windows and latin-1).
CSV_ENCODINGS = ("utf-8", "cp1252", "latin-1")
#: pandas dtype for text read from CSV: Arrow-backed, fast for millions of rows.
TEXT = pd.StringDtype("pyarrow")
_TEXT_TYPES = {pa.string(): TEXT, pa.large_string(): TEXT}
LANGS = ("nl", "en")
UNLINKED = ("error", "reject")


# ------------------------------------------------------------------------------------------------
# Finding and reading tables
# ------------------------------------------------------------------------------------------------


def find_table(folder: str | Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``folder`` (``NAME.csv|.parquet|.sav``, any case), or None.

    Raises InputError when the folder does not exist or the table is there in two formats,
    because then it is unclear which one the user means.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            [Problem(str(folder), "the input folder does not exist", "pass the folder that holds persons.csv etc.")]
        )
    found = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.stem.lower() == name and p.suffix.lower() in SUFFIXES),
        key=lambda p: SUFFIXES.index(p.suffix.lower()),
    )
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise InputError(
            [
                Problem(
                    names,
                    f"table '{name}' is present in more than one format ({names})",
                    "keep exactly one file per table and move or delete the others",
                )
            ]
        )
    return found[0] if found else None


def normalise_column_name(name: object) -> str:
    """Column names as the contract spells them: stripped, lower case, inner spaces as '_'."""
    return "_".join(str(name).strip().lower().split())


def read_raw(path: str | Path) -> pd.DataFrame:
    """Read one table file as it is: CSV as text (empty = missing), Parquet and SPSS with their types.

    CSV: ',' or ';' (sniffed from the header), UTF-8 with or without BOM, else Windows-1252, else
    latin-1. Column names are normalised (stripped, lower case, inner spaces as '_'; an empty name
    becomes ``unnamed_N``). Raises InputError (naming the file) when the file cannot be read at
    all, or when two columns have the same name.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            df = _read_csv(path)
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            df = pq.read_table(path).to_pandas(types_mapper=_TEXT_TYPES.get)
        elif suffix == ".sav":
            import pyreadstat

            df, meta = pyreadstat.read_sav(str(path), dates_as_pandas_datetime=True)
            df = apply_value_labels(df, meta.variable_value_labels)
        else:
            raise InputError(
                [Problem(path.name, f"unknown file type '{suffix}'", "use .csv, .parquet or .sav")]
            )
    except InputError:
        raise
    except Exception as exc:  # any reader failure is the file's problem, reported as such
        raise InputError(
            [
                Problem(
                    path.name,
                    f"the file cannot be read as {suffix.lstrip('.').upper()} ({type(exc).__name__}: {exc})",
                    "check that the file is complete and in the format its name says",
                )
            ]
        ) from exc
    df.columns = [normalise_column_name(c) or f"unnamed_{i + 1}" for i, c in enumerate(df.columns)]
    dupes = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise InputError(
            [
                Problem(
                    path.name,
                    f"column name(s) {', '.join(dupes)} occur more than once (names are compared "
                    "without case and surrounding spaces)",
                    "rename or remove the duplicate columns",
                )
            ]
        )
    return df.reset_index(drop=True)


#: Columns whose CBS codes ``validate`` maps itself (GBAGESLACHT, PLHH, SECM, SCONTRACTSOORT):
#: their SPSS value labels are CBS's Dutch wording, which the codes translate more reliably, so
#: they keep their codes. Must match the keys of ``validate.ALIASES`` (a test checks).
CODED_COLUMNS = ("sex", "position", "benefit", "contract")


def apply_value_labels(df: pd.DataFrame, labels: Mapping[str, Mapping[Any, str]]) -> pd.DataFrame:
    """Replace SPSS codes by their value labels (``{column: {code: label}}``, as pyreadstat gives).

    Programme names and other categories stored as labelled numbers come through as their labels
    (1 -> "Werkfit"); a value without a label keeps its code as text ("3", not "3.0"); missing
    stays missing. Columns in :data:`CODED_COLUMNS` keep their codes (validate maps them).
    """
    if not labels:
        return df
    df = df.copy()
    for column, mapping in labels.items():
        if column not in df.columns or not mapping or normalise_column_name(column) in CODED_COLUMNS:
            continue
        col = df[column]
        lookup = {_code_text(k): str(v) for k, v in mapping.items()}
        text = col.map(_code_text, na_action="ignore")
        df[column] = text.map(lookup).fillna(text).astype(TEXT)
    return df


def _code_text(value: Any) -> str:
    """An SPSS code as text: whole floats without '.0' (1.0 -> '1'), text stripped."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _sniff(first_line: str) -> str:
    """The CSV separator: ';' (Dutch Excel, CBS exports) when the header has more ';' than ','."""
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV as text with pyarrow (multi-threaded): sniffed separator, encoding fallback."""
    with path.open("rb") as fh:
        head = fh.readline(1 << 20)
    if not head.strip():
        raise InputError([Problem(path.name, "the file is empty (no header line)", "write a header line")])
    last: Exception | None = None
    for encoding in CSV_ENCODINGS:
        try:
            header = head.decode("utf-8-sig" if encoding == "utf-8" else encoding)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        sep = _sniff(header)
        names = next(csv.reader([header.rstrip("\r\n")], delimiter=sep))
        slots = [f"c{i}" for i in range(len(names))]
        try:
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(column_names=slots, skip_rows=1, encoding=encoding),
                parse_options=pacsv.ParseOptions(delimiter=sep),
                convert_options=pacsv.ConvertOptions(
                    column_types={s: pa.string() for s in slots},
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc) or "decode" in str(exc).lower():
                last = exc
                continue
            raise
        df = table.to_pandas(types_mapper=_TEXT_TYPES.get)
        df.columns = names
        return df
    raise ValueError(f"no encoding of {CSV_ENCODINGS} fits the file ({last})")


# ------------------------------------------------------------------------------------------------
# study.toml
# ------------------------------------------------------------------------------------------------


#: Kept for code written against the first version: the ``programmes`` field is on StudySettings.
StudyWithProgrammes = StudySettings


def programme_info(study: StudySettings | None) -> dict:
    """The programme descriptions of the settings (``{}`` when study.toml gave none)."""
    return dict(getattr(study, "programmes", None) or {})


def read_study(folder: str | Path) -> StudySettings:
    """Settings from ``folder/study.toml`` (defaults when the file is absent).

    Collects every problem (unknown keys, wrong types, unparseable dates) into one InputError.
    """
    path = Path(folder) / STUDY_FILE
    if not path.is_file():
        return StudySettings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            [Problem(STUDY_FILE, f"the file is not valid TOML ({exc})", "fix the syntax (key = value per line)")]
        ) from exc
    return study_from_dict(raw)


def study_from_dict(raw: Mapping[str, Any]) -> StudySettings:
    """StudySettings from a parsed study.toml (or a dict of the same keys); one InputError on problems."""
    problems: list[Problem] = []

    def bad(key: str, what: str, fix: str) -> None:
        problems.append(Problem(STUDY_FILE, f"key '{key}': {what}", fix))

    settings: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in STUDY_KEYS:
            bad(key, "unknown key", f"use only the keys {', '.join(STUDY_KEYS)}")
        elif key in ("window_start", "window_end"):
            date = _study_date(value)
            if date is None:
                bad(key, f"{value!r} is not a date", 'write a date as 2015-01-01 or "20150101"')
            else:
                settings[key] = date
        elif key == "horizons":
            ok = (
                isinstance(value, list)
                and len(value) > 0
                and all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in value)
            )
            if ok:
                settings[key] = tuple(value)
            else:
                bad(key, f"{value!r} is not a list of positive whole numbers of months", "write e.g. [6, 12, 18]")
        elif key in ("cohorts", "groups"):
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                settings[key] = list(value)
            else:
                bad(key, f"{value!r} is not a list of text values", 'write e.g. ["outflow_2015"]')
        elif key == "seed":
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                settings[key] = value
            else:
                bad(key, f"{value!r} is not a non-negative whole number", "write e.g. seed = 20150101")
        elif key == "lang":
            if value in LANGS:
                settings[key] = value
            else:
                bad(key, f"{value!r} is not a supported language", f"use one of {', '.join(LANGS)}")
        elif key == "unlinked":
            if value in UNLINKED:
                settings[key] = value
            else:
                bad(key, f"{value!r} is not allowed", f"use one of {', '.join(repr(u) for u in UNLINKED)}")
        elif key == "municipality":
            if isinstance(value, str):
                settings[key] = value
            else:
                bad(key, f"{value!r} is not text", 'write e.g. municipality = "Leidschendam-Voorburg"')
        elif key in ("municipality_code", "benchmark", "municipality_mergers"):
            parsed, what = municipality_setting(key, value)
            problems += [Problem(STUDY_FILE, w, f) for w, f in what]
            if not what:
                settings[key] = parsed
        elif key == "programmes":
            info, what = _programme_tables(value)
            problems += [Problem(STUDY_FILE, w, f) for w, f in what]
            if info:
                settings[key] = info
    start, end = settings.get("window_start"), settings.get("window_end")
    if start is not None and end is not None and start > end:
        bad("window_end", f"{end:%Y-%m-%d} is before window_start {start:%Y-%m-%d}", "swap or correct the dates")
    if problems:
        raise InputError(problems)
    return StudySettings(**settings)


def municipality_code(value: Any) -> str | None:
    """A CBS municipality code as the contract writes it (``GM`` + 4 digits), or None when ``value``
    is not one. Accepted: any case and surrounding spaces (' gm1916 '), and the bare number of at
    most four digits (1916, '0363', 363 -> GM0363), as CBS files (GEMEENTE) write it."""
    import re

    from .contract import MUNICIPALITY_CODE_PATTERN

    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        if not float(value).is_integer() or value < 0:
            return None
        value = str(int(value))
    text = str(value).strip().upper()
    if re.fullmatch(r"\d{1,4}", text):
        text = "GM" + text.zfill(4)
    return text if re.fullmatch(MUNICIPALITY_CODE_PATTERN, text) else None


def municipality_setting(key: str, value: Any) -> tuple[Any, list[tuple[str, str]]]:
    """Check one benchmark key of study.toml (issue 16a); returns (value, [(what, fix), ...]).

    ``municipality_code``: one code. ``benchmark``: "all" or a non-empty list of codes.
    ``municipality_mergers``: a table ``old code = "new code"``; chains (A -> B, B -> C) are resolved
    to the last code, a cycle is a problem.
    """
    example = 'write a CBS code, GM and four digits, e.g. "GM1916"'
    if key == "municipality_code":
        code = municipality_code(value)
        return (code, []) if code else (None, [(f"key 'municipality_code': {value!r} is not a CBS municipality "
                                                 f"code", example)])
    if key == "benchmark":
        if isinstance(value, str) and value.strip().lower() == "all":
            return "all", []
        if isinstance(value, list) and value:
            codes = [municipality_code(v) for v in value]
            bad = [v for v, c in zip(value, codes, strict=True) if c is None]
            if not bad:
                return list(dict.fromkeys(codes)), []
            return None, [(f"key 'benchmark': {', '.join(map(repr, bad))} not CBS municipality code(s)",
                           'write benchmark = "all" or a list of codes, e.g. benchmark = ["GM0518", "GM0599"]')]
        return None, [(f"key 'benchmark': {value!r} is neither \"all\" nor a list of codes",
                       'write benchmark = "all" or a list of codes, e.g. benchmark = ["GM0518", "GM0599"]')]
    # municipality_mergers
    fix = '[municipality_mergers]\nGM1884 = "GM1945"   # old code = "code of the merged municipality"'
    if not isinstance(value, dict) or not value:
        return None, [(f"key 'municipality_mergers': {value!r} is not a table of codes", f"write e.g.\n{fix}")]
    out: dict[str, str] = {}
    what: list[tuple[str, str]] = []
    for old, new in value.items():
        a, b = municipality_code(old), municipality_code(new)
        if a is None or b is None or a == b:
            what.append((f"key 'municipality_mergers': {old!r} = {new!r} is not a pair of two different codes",
                         f"write e.g.\n{fix}"))
        else:
            out[a] = b
    resolved: dict[str, str] = {}
    for a in out:
        seen, b = {a}, out[a]
        while b in out:
            if b in seen:
                what.append((f"key 'municipality_mergers': the codes {', '.join(sorted(seen))} map to each other "
                             f"in a cycle", "map every old code to the code of the municipality it became part of"))
                break
            seen.add(b)
            b = out[b]
        resolved[a] = b
    return (None if what else resolved), what


_PROGRAMME_EXAMPLE = ('[programmes.job_coaching]\nname = { nl = "Jobcoaching", en = "Job coaching" }\n'
                      'description = { nl = "...", en = "..." }\ncost_per_participant = 2500')


def _programme_tables(value: Any) -> tuple[dict, list[tuple[str, str]]]:
    """Check the ``programmes`` key of study.toml; returns (descriptions, [(what, fix), ...]).

    Each ``[programmes.LABEL]`` table may hold ``name`` and ``description`` (a table with ``nl`` and
    ``en`` texts, or one text for both) and ``cost_per_participant`` (euros, a number >= 0); all
    optional, nothing else. Whether LABEL occurs in programmes.csv is checked by ``validate``.
    """
    fix_table = f"write one table per programme label, e.g.\n{_PROGRAMME_EXAMPLE}"
    if not isinstance(value, dict):
        return {}, [(f"key 'programmes': {value!r} is not a table of programme tables", fix_table)]
    out: dict[str, dict] = {}
    what: list[tuple[str, str]] = []
    for label, spec in value.items():
        where = f"key 'programmes.{label}'"
        if not isinstance(spec, dict):
            what.append((f"{where}: {spec!r} is not a table", fix_table))
            continue
        unknown = [k for k in spec if k not in PROGRAMME_INFO_KEYS]
        if unknown:
            what.append((f"{where}: unknown key(s) {', '.join(unknown)}",
                         f"use only {', '.join(PROGRAMME_INFO_KEYS)} (all optional)"))
        info: dict[str, Any] = {"name": None, "description": None, "cost_per_participant": None}
        for k in ("name", "description"):
            if k in spec:
                texts, problem = _two_languages(spec[k])
                if problem:
                    what.append((f"key 'programmes.{label}.{k}': {problem}",
                                 f'write {k} = {{ nl = "...", en = "..." }} or {k} = "..." (one text for both '
                                 f'languages)'))
                info[k] = texts
        if "cost_per_participant" in spec:
            cost = spec["cost_per_participant"]
            if isinstance(cost, bool) or not isinstance(cost, int | float) or not np.isfinite(cost) or cost < 0:
                what.append((f"key 'programmes.{label}.cost_per_participant': {cost!r} is not a number of euros >= 0",
                             "write a plain number, e.g. cost_per_participant = 2500 (no euro sign or text), "
                             "or leave the key out"))
            else:
                info["cost_per_participant"] = float(cost)
        out[str(label)] = info
    return out, what


def _two_languages(value: Any) -> tuple[dict | None, str | None]:
    """``{"nl": ..., "en": ...}`` from a table with both languages or one string; else a problem."""
    if isinstance(value, str):
        return ({lang: value.strip() for lang in PROGRAMME_INFO_LANGS}, None) if value.strip() else (
            None, "the text is empty")
    if isinstance(value, dict):
        missing = [lang for lang in PROGRAMME_INFO_LANGS if lang not in value]
        extra = [k for k in value if k not in PROGRAMME_INFO_LANGS]
        if missing or extra:
            found = ", ".join(map(str, value)) or "none"
            return None, f"needs the languages {' and '.join(PROGRAMME_INFO_LANGS)} (found: {found})"
        if not all(isinstance(value[lang], str) and value[lang].strip() for lang in PROGRAMME_INFO_LANGS):
            return None, "every language needs a non-empty text"
        return {lang: value[lang].strip() for lang in PROGRAMME_INFO_LANGS}, None
    return None, f"{value!r} is not text"


def _study_date(value: Any) -> pd.Timestamp | None:
    """A study.toml date: a TOML date, or text/number as YYYY-MM-DD or YYYYMMDD; None if not a date."""
    if isinstance(value, dt.date):  # also dt.datetime
        return pd.Timestamp(value).normalize()
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    fmt = "%Y%m%d" if len(text) == 8 and text.isdigit() else "%Y-%m-%d"
    try:
        return pd.to_datetime(text, format=fmt)
    except (ValueError, OverflowError):
        return None


def _toml_key(key: str) -> str:
    """A TOML key: bare when it is letters, digits, '_' and '-', else quoted."""
    import re

    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    """One value in TOML syntax (the few types study.toml uses)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating):
        return repr(value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, pd.Timestamp | dt.date):
        return f"{pd.Timestamp(value):%Y-%m-%d}"  # a TOML local date
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def write_study(study: Mapping[str, Any], path: str | Path) -> Path:
    """Write study settings (keys of contract.STUDY_KEYS; None values are left out) as TOML.

    ``programmes`` (``{label: {"name": {"nl": .., "en": ..}, "description": ..., "cost_per_participant": ..}}``)
    becomes one ``[programmes.LABEL]`` table per programme, after the other keys.
    """
    lines = [f"{key} = {_toml_value(value)}" for key, value in study.items()
             if value is not None and key not in ("programmes", "municipality_mergers")]
    if study.get("municipality_mergers"):
        lines += ["", "[municipality_mergers]"]
        lines += [f"{_toml_key(a)} = {_toml_value(b)}" for a, b in study["municipality_mergers"].items()]
    for label, info in (study.get("programmes") or {}).items():
        lines += ["", f"[programmes.{_toml_key(label)}]"]
        for k in PROGRAMME_INFO_KEYS:
            v = (info or {}).get(k)
            if isinstance(v, Mapping):
                inner = ", ".join(f"{_toml_key(lang)} = {_toml_value(t)}" for lang, t in v.items())
                lines.append(f"{k} = {{ {inner} }}")
            elif v is not None:
                lines.append(f"{k} = {_toml_value(v)}")
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------


def write_table(df: pd.DataFrame, path: str | Path, *, sep: str = ",", encoding: str = "utf-8") -> Path:
    """Write ``df`` as .csv, .parquet or .sav, chosen by the suffix of ``path``.

    CSV gets ISO dates and empty cells for missing values (``sep``/``encoding`` to imitate e.g.
    Dutch Excel: ``sep=";"``, ``encoding="utf-8-sig"``). SPSS gets plain text and numeric columns.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df.to_csv(path, index=False, sep=sep, encoding=encoding, date_format="%Y-%m-%d")
    elif suffix == ".parquet":
        df.to_parquet(path, index=False)
    elif suffix == ".sav":
        import pyreadstat

        pyreadstat.write_sav(_for_spss(df), str(path))
    else:
        raise ValueError(f"unknown table format '{suffix}': use one of {', '.join(SUFFIXES)}")
    return path


def _for_spss(df: pd.DataFrame) -> pd.DataFrame:
    """A copy pyreadstat can write: text as object str/None, booleans and nullable ints as float."""
    out = {}
    for name, col in df.items():
        dtype = col.dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
            out[name] = col
        elif isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
            out[name] = col.astype(object).where(col.notna(), None)
        elif pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            out[name] = col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        else:
            out[name] = col
    return pd.DataFrame(out, index=df.index)


def write_input_folder(
    tables: Mapping[str, pd.DataFrame],
    folder: str | Path,
    fmt: str = "csv",
    study: Mapping[str, Any] | StudySettings | None = None,
    *,
    sep: str = ",",
    encoding: str = "utf-8",
) -> Path:
    """Write each table as ``folder/NAME.fmt`` (and ``study.toml`` when given); returns the folder.

    ``study`` is a dict of study.toml keys or a StudySettings (None values are left out).
    A ``row`` column (added by ``load_input``) is left out, so loaded data can be written back.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fmt = fmt.lower().lstrip(".")
    for name, df in tables.items():
        if df is None:  # an optional table the input did not have (InputData.participation): no file
            continue
        data = df.drop(columns=["row"]) if "row" in df.columns else df
        write_table(data, folder / f"{name}.{fmt}", sep=sep, encoding=encoding)
    if study is not None:
        write_study(asdict(study) if isinstance(study, StudySettings) else study, folder / STUDY_FILE)
    return folder


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in chunks (input files can be gigabytes)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
