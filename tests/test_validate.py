"""Tests for validate: CBS variants, one test per kind of bad input, cleaning, the log, round trips."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reintegration_effects.contract import TABLES
from reintegration_effects.dataset import StudySettings
from reintegration_effects.errors import InputError, Problem
from reintegration_effects.io import write_input_folder, write_study, write_table
from reintegration_effects.validate import empty_table, load_input, write_cleaning_log

# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------

PERSONS = """person_id,sex,birth_date,migration_background,education,status_holder
001,F,1980-01-01,dutch,low,false
002,M,1990-06-15,non_western,,true
003,F,1975-03-03,western,high,
"""
BENEFITS = """person_id,benefit,start,end
001,bijstand,2015-01-01,2015-12-31
001,ww,2015-06-01,2015-09-30
002,bijstand,2016-02-01,
"""
JOBS = """person_id,start,end,sector,contract,hours_per_week,monthly_wage
001,2016-01-01,,G,permanent,32,2400.5
001,2016-03-01,2016-06-30,N,agency,8,500
"""
HOUSEHOLDS = """person_id,start,end,position
001,2010-01-01,2015-12-31,single
001,2016-01-01,,single_parent
"""
PROGRAMMES = """person_id,programme,start,end
001,coaching,2015-03-01,2015-06-30
001,training,2015-04-01,2015-05-31
"""
BASE = {"persons": PERSONS, "benefits": BENEFITS, "jobs": JOBS, "households": HOUSEHOLDS, "programmes": PROGRAMMES}


def make_folder(folder: Path, **texts: str | None) -> Path:
    """A valid CSV input folder; keyword arguments replace (text) or remove (None) a table."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (BASE | texts).items():
        if text is not None:
            (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def problems(folder: Path, **kwargs) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_input(folder, **kwargs)
    return info.value.problems


def the_problem(probs: list[Problem], file: str, column: str | None) -> Problem:
    """The one problem for file/column; its text must name both."""
    found = [p for p in probs if p.file == file and p.column == column]
    assert len(found) == 1, "\n".join(str(p) for p in probs)
    text = str(found[0])
    assert text.startswith(file) and (column is None or f"column '{column}'" in text)
    return found[0]


def rows_in_text(problem: Problem) -> list[int]:
    match = re.search(r"rows ([\d, ]+)", str(problem))
    return [int(r) for r in match.group(1).split(",")] if match else []


def clean_tables() -> dict[str, pd.DataFrame]:
    """Tables exactly as load_input returns them (sorted spells, contract dtypes, row numbers)."""

    def frame(name: str, rows: list[tuple]) -> pd.DataFrame:
        spec = TABLES[name]
        df = pd.DataFrame(rows, columns=list(spec.column_names))
        for c in spec.columns:
            if c.kind == "date":
                df[c.name] = pd.to_datetime(df[c.name]).astype("datetime64[ns]")
            elif c.kind == "category":
                df[c.name] = pd.Categorical(df[c.name], categories=list(c.values))
            elif c.kind == "number":
                df[c.name] = df[c.name].astype("float64")
            elif c.kind == "bool":
                df[c.name] = df[c.name].astype("boolean")
            else:
                df[c.name] = df[c.name].astype(object)
        df["row"] = np.arange(1, len(df) + 1, dtype="int64")
        return df

    na = None
    return {
        "persons": frame(
            "persons",
            [
                ("000123", "F", "1980-01-31", "dutch", "low", False),
                ("000124", "M", "1990-06-15", "outside_europe", "unknown", True),
                ("000125", "F", "1975-03-03", "europe", "high", na),
            ],
        ),
        "households": frame(
            "households",
            [
                ("000123", "2010-01-01", "2015-12-31", "single"),
                ("000123", "2016-01-01", na, "single_parent"),
                ("000124", "2012-05-01", na, "couple_with_children"),
            ],
        ),
        "benefits": frame(
            "benefits",
            [
                ("000123", "bijstand", "2015-01-01", "2015-12-31"),
                ("000123", "ww", "2015-06-01", "2015-09-30"),
                ("000124", "bijstand", "2016-02-01", na),
            ],
        ),
        "jobs": frame(
            "jobs",
            [
                ("000123", "2016-01-01", na, "G", "permanent", 32.0, 2400.5),
                ("000123", "2016-03-01", "2016-06-30", "N", "agency", 8.0, na),
                ("000125", "2017-01-01", "2017-03-31", na, na, na, 1800.0),
            ],
        ),
        "programmes": frame(
            "programmes",
            [
                ("000123", "coaching", "2015-03-01", "2015-06-30"),
                ("000123", "Sollicitatietraining café", "2015-04-01", na),
            ],
        ),
    }


def assert_same_tables(data, expected: dict[str, pd.DataFrame]) -> None:
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(data.table(name), frame, check_categorical=True, obj=name)


def rows_read(folder: Path, name: str) -> int:
    return len(pd.read_csv(folder / f"{name}.csv", dtype=str, sep=None, engine="python"))


def assert_log_adds_up(data, counts: dict[str, int]) -> None:
    """For every table the rows over its outcomes add up to the rows read."""
    log = data.log
    assert set(log["outcome"]) <= {"kept", "merged", "rejected"}
    for name, n in counts.items():
        assert log.loc[log["table"] == name, "rows"].sum() == n, log


# ------------------------------------------------------------------------------------------------
# Valid input, CBS variants, round trips
# ------------------------------------------------------------------------------------------------


def test_valid_folder_gives_clean_frames(tmp_path):
    data = load_input(make_folder(tmp_path))
    assert list(data.persons.columns) == [*TABLES["persons"].column_names, "row"]
    assert data.persons["person_id"].tolist() == ["001", "002", "003"]  # text: leading zeros kept
    assert data.persons["education"].tolist() == ["low", "unknown", "high"]  # missing -> unknown
    assert data.persons["status_holder"].tolist() == [False, True, pd.NA]
    assert data.benefits["end"].isna().tolist() == [False, False, True]  # empty end = open
    assert str(data.jobs["start"].dtype) == "datetime64[ns]"
    assert data.jobs["sector"].dtype == pd.CategoricalDtype(list(TABLES["jobs"].column("sector").values))
    assert data.window_start == pd.Timestamp("2010-01-01")
    assert data.window_end == pd.Timestamp("2016-06-30")
    assert set(data.sources) == {"persons", "benefits", "jobs", "households", "programmes"}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "sav"])
def test_round_trip_all_formats(tmp_path, fmt):
    expected = clean_tables()
    write_input_folder(expected, tmp_path, fmt=fmt)
    data = load_input(tmp_path)
    assert_same_tables(data, expected)
    # and once more: what load_input returns can be written back and read again unchanged
    write_input_folder({n: data.table(n) for n in TABLES}, tmp_path / "again", fmt=fmt)
    assert_same_tables(load_input(tmp_path / "again"), expected)


def test_cbs_style_csv_semicolon_bom_codes(tmp_path):
    """A CBS-style export: ';' and a BOM, RINPERSOONS/RINPERSOON, YYYYMMDD, 99991231, codes."""
    expected = clean_tables()
    files = {
        "persons": """RINPERSOONS; RINPERSOON ; Sex ;Birth_Date;Migration Background;education;status_holder
R;000123;2;19800131; Dutch ;LOW;nee
R;000124;1;19900615;non-western;;ja
R;000125;v;19750303;WESTERN;high;
""",
        "households": """rinpersoons;rinpersoon;start;end;position
R;000123;20100101;20151231;2
R;000123;20160101;99991231;7
R;000124;20120501;;05
""",
        "benefits": """person_id;benefit;start;end
000123;22;20150101;20151231
000123; 21 ;20150601;20150930
000124;Bijstand;20160201;99991231
""",
        "jobs": """person_id;start;end;sector;contract;hours_per_week;monthly_wage
000123;20160101;99991231;g;O;32;2400,5
000123;2016-03-01;20160630;N;Agency;8;
000125;20170101;20170331;;;;1800
""",
    }
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_bytes(text.encode("utf-8-sig"))
    write_table(expected["programmes"].drop(columns="row"), tmp_path / "programmes.csv", encoding="latin-1")
    data = load_input(tmp_path)
    assert_same_tables(data, expected)
    assert data.programmes["programme"].iloc[1] == "Sollicitatietraining café"
    assert not data.log["reason"].str.contains("unknown column").any()  # rinpersoon(s) are known


def test_cbs_style_csv_semicolon_bom_codes_needs_contract_names(tmp_path):
    """CBS variable names other than RINPERSOON(S) are not guessed: 'sex' is reported missing."""
    make_folder(
        tmp_path,
        persons="RINPERSOONS;RINPERSOON;GBAGESLACHT;birth_date;migration_background\nR;001;2;19800101;dutch\n",
    )
    p = the_problem(problems(tmp_path), "persons.csv", "sex")
    assert "gbageslacht" in p.what  # the columns found are listed


def test_cbs_style_sav_and_parquet_values(tmp_path):
    """SPSS with numeric codes and YYYYMMDD text; Parquet with YYYYMMDD integers."""
    expected = clean_tables()
    sav = tmp_path / "sav"
    write_input_folder(expected, sav, fmt="sav")
    persons = expected["persons"].drop(columns="row")
    persons["sex"] = [2.0, 1.0, 2.0]
    persons["birth_date"] = ["19800131", "19900615", "19750303"]
    persons["status_holder"] = [0.0, 1.0, np.nan]
    persons["education"] = persons["education"].astype(object).replace("unknown", "")
    write_table(persons, sav / "persons.sav")
    assert_same_tables(load_input(sav), expected)

    pq = tmp_path / "pq"
    write_input_folder(expected, pq, fmt="parquet")
    benefits = expected["benefits"].drop(columns="row")
    benefits["start"] = [20150101, 20150601, 20160201]
    benefits["end"] = [20151231, 20150930, 99991231]
    benefits["benefit"] = [22, 21, 22]
    write_table(benefits, pq / "benefits.parquet")
    assert_same_tables(load_input(pq), expected)


def test_parquet_real_dates_and_open_end_date(tmp_path):
    """Parquet dates (date32) and timestamps (microseconds) with 9999-12-31 as the open end."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    make_folder(tmp_path, benefits=None)
    benefits = pa.table(
        {
            "person_id": ["001", "002"],
            "benefit": pa.array(["bijstand", "ww"]).dictionary_encode(),
            "start": pa.array([dt.date(2015, 1, 1), dt.date(2016, 1, 1)], pa.date32()),
            "end": pa.array([dt.datetime(9999, 12, 31), dt.datetime(2016, 5, 31)], pa.timestamp("us")),
        }
    )
    pq.write_table(benefits, tmp_path / "benefits.parquet")
    data = load_input(tmp_path)
    assert data.benefits["end"].isna().tolist() == [True, False]
    assert data.benefits["start"].tolist() == [pd.Timestamp("2015-01-01"), pd.Timestamp("2016-01-01")]


def test_missing_folder(tmp_path):
    with pytest.raises(InputError) as info:
        load_input(tmp_path / "nope")
    assert len(info.value.problems) == 1 and "does not exist" in str(info.value)


def test_absent_optional_tables_are_empty(tmp_path):
    data = load_input(make_folder(tmp_path, households=None, programmes=None))
    for name in ("households", "programmes"):
        pd.testing.assert_frame_equal(data.table(name), empty_table(name))
        assert list(data.table(name).columns) == [*TABLES[name].column_names, "row"]
    assert (data.log.query("table == 'households'")["reason"] == "no file: empty table").all()


def test_study_settings_override_and_window(tmp_path):
    make_folder(tmp_path)
    write_study({"window_start": "2014-01-01", "window_end": "20181231", "unlinked": "reject"}, tmp_path / "study.toml")
    data = load_input(tmp_path)
    assert (data.window_start, data.window_end) == (pd.Timestamp("2014-01-01"), pd.Timestamp("2018-12-31"))
    assert data.study.unlinked == "reject"
    line = data.log[data.log["table"] == "study"]
    assert "2014-01-01 to 2018-12-31" in line["reason"].iloc[0] and line["outcome"].iloc[0] == "kept"
    given_study = StudySettings(window_start=pd.Timestamp("2015-01-01"))
    data = load_input(tmp_path, study=given_study)
    assert data.window_start == pd.Timestamp("2015-01-01") and data.window_end == pd.Timestamp("2016-06-30")


def test_window_derived_and_rounded_to_months(tmp_path):
    make_folder(
        tmp_path,
        benefits="person_id,benefit,start,end\n001,bijstand,2015-03-17,2016-02-10\n",
        jobs="person_id,start,end\n001,2016-03-05,\n",
        households=None,
        programmes=None,
    )
    data = load_input(tmp_path)
    assert data.window_start == pd.Timestamp("2015-03-01")
    assert data.window_end == pd.Timestamp("2016-03-31")  # latest date is a start: 2016-03-05
    assert "rounded to whole months" in data.log["reason"].iloc[-1]


def test_extreme_dates_do_not_crash(tmp_path):
    """Dates at the edges of datetime64[ns] (1677-2262): a window or an InputError, no traceback."""
    make_folder(tmp_path, jobs=JOBS + "002,22620405,,,,,\n", programmes=PROGRAMMES + "002,x,16780101,\n")
    p = the_problem(problems(tmp_path), "persons.csv", "birth_date")  # everyone is old by 2262
    assert "over 110 at the window end 2262-04-05" in p.what  # end of month would overflow: not rounded
    (tmp_path / "study.toml").write_text("window_end = 2020-12-31\n")
    assert load_input(tmp_path).window_start == pd.Timestamp("1678-01-01")


# ------------------------------------------------------------------------------------------------
# Bad input: one test per kind
# ------------------------------------------------------------------------------------------------


def test_missing_required_file(tmp_path):
    make_folder(tmp_path, jobs=None)
    p = the_problem(problems(tmp_path), "jobs.csv", None)
    assert "missing" in p.what and "jobs.parquet" in p.fix


def test_two_formats_of_one_table(tmp_path):
    make_folder(tmp_path)
    write_table(pd.DataFrame({"person_id": ["001"]}), tmp_path / "jobs.parquet")
    probs = problems(tmp_path)
    assert any("jobs.csv" in p.file and "jobs.parquet" in p.file for p in probs)


def test_missing_required_column_lists_found(tmp_path):
    make_folder(tmp_path, benefits="person_id,benefit,begin,end\n001,bijstand,2015-01-01,\n")
    p = the_problem(problems(tmp_path), "benefits.csv", "start")
    assert "person_id, benefit, begin, end" in p.what


def test_unknown_code_shows_bad_and_allowed_values(tmp_path):
    make_folder(
        tmp_path,
        benefits=BENEFITS + "002,25,2017-01-01,\n003,WAO,2017-01-01,\n003,WAO,2018-01-01,\n",
    )
    p = the_problem(problems(tmp_path), "benefits.csv", "benefit")
    assert rows_in_text(p) == [4, 5, 6]
    assert "'25'" in p.what and "'WAO'" in p.what and "bijstand, ww, other" in p.what
    assert "SECM" in p.what


def test_unknown_sex_code(tmp_path):
    make_folder(tmp_path, persons=PERSONS.replace("002,M,", "002,3,"))
    p = the_problem(problems(tmp_path), "persons.csv", "sex")
    assert rows_in_text(p) == [2] and "'3'" in p.what and "M, F" in p.what


def test_impossible_and_unparseable_dates(tmp_path):
    make_folder(
        tmp_path,
        jobs=JOBS + "002,20150231,,,,,\n002,31-12-2015,,,,,\n002,2016-01-01,20161301,,,,\n",
    )
    probs = problems(tmp_path)
    start = the_problem(probs, "jobs.csv", "start")
    assert rows_in_text(start) == [3, 4] and "'20150231'" in start.what and "'31-12-2015'" in start.what
    end = the_problem(probs, "jobs.csv", "end")
    assert rows_in_text(end) == [5] and "YYYYMMDD" in end.fix


def test_open_end_code_not_allowed_as_start(tmp_path):
    make_folder(tmp_path, programmes=PROGRAMMES + "002,coaching,99991231,\n")
    p = the_problem(problems(tmp_path), "programmes.csv", "start")
    assert rows_in_text(p) == [3]


def test_empty_required_value(tmp_path):
    make_folder(tmp_path, programmes=PROGRAMMES + "002,,2016-01-01,\n,coaching,2016-01-01,\n")
    probs = problems(tmp_path)
    assert rows_in_text(the_problem(probs, "programmes.csv", "programme")) == [3]
    assert rows_in_text(the_problem(probs, "programmes.csv", "person_id")) == [4]


def test_end_before_start(tmp_path):
    make_folder(tmp_path, programmes=PROGRAMMES + "002,coaching,2016-05-01,2016-04-30\n")
    p = the_problem(problems(tmp_path), "programmes.csv", "end")
    assert rows_in_text(p) == [3] and "end before they start" in p.what


def test_birth_date_in_future(tmp_path):
    make_folder(tmp_path, persons=PERSONS.replace("1975-03-03", "2099-01-01"))
    p = the_problem(problems(tmp_path), "persons.csv", "birth_date")
    assert rows_in_text(p) == [3] and "future" in p.what


def test_age_over_110_at_window_end(tmp_path):
    make_folder(tmp_path, persons=PERSONS.replace("1975-03-03", "1900-01-01"))
    p = the_problem(problems(tmp_path), "persons.csv", "birth_date")
    assert rows_in_text(p) == [3] and "over 110" in p.what and "2016-06-30" in p.what


def test_duplicate_person_with_different_rows(tmp_path):
    make_folder(tmp_path, persons=PERSONS + "002,F,1990-06-15,non_western,,true\n")
    p = the_problem(problems(tmp_path), "persons.csv", "person_id")
    assert rows_in_text(p) == [2, 4] and "'002'" in p.what


def test_unlinked_spells_are_an_error_by_default(tmp_path):
    make_folder(tmp_path, jobs=JOBS + "999,2016-01-01,,,,,\n")
    p = the_problem(problems(tmp_path), "jobs.csv", "person_id")
    assert rows_in_text(p) == [3] and "'999'" in p.what and 'unlinked = "reject"' in p.fix


def test_unlinked_spells_rejected_when_asked(tmp_path):
    make_folder(tmp_path, jobs=JOBS + "999,2016-01-01,,,,,\n998,2016-01-01,,,,,\n")
    (tmp_path / "study.toml").write_text('unlinked = "reject"\n')
    data = load_input(tmp_path)
    assert data.jobs["person_id"].tolist() == ["001", "001"]
    line = data.log[(data.log["table"] == "jobs") & (data.log["outcome"] == "rejected")]
    assert line["rows"].tolist() == [2] and "not in persons" in line["reason"].iloc[0]
    assert_log_adds_up(data, {"jobs": 4})


def test_overlapping_benefit_spells_of_one_type(tmp_path):
    make_folder(tmp_path, benefits=BENEFITS + "002,bijstand,2015-01-01,2016-03-31\n002,ww,2015-01-01,\n")
    p = the_problem(problems(tmp_path), "benefits.csv", "start")
    assert rows_in_text(p) == [3, 4] and "bijstand" in p.what and "'002'" in p.what


def test_overlap_with_open_end(tmp_path):
    make_folder(tmp_path, benefits=BENEFITS + "002,bijstand,2015-01-01,\n")
    p = the_problem(problems(tmp_path), "benefits.csv", "start")
    assert rows_in_text(p) == [3, 4]


def test_allowed_overlaps(tmp_path):
    """Jobs may overlap, programmes may overlap, bijstand may overlap WW (all in BASE)."""
    data = load_input(make_folder(tmp_path))
    assert len(data.jobs) == 2 and len(data.programmes) == 2 and len(data.benefits) == 3


def test_overlapping_household_spells(tmp_path):
    make_folder(tmp_path, households=HOUSEHOLDS + "001,2015-06-01,2015-07-31,other\n")
    p = the_problem(problems(tmp_path), "households.csv", "start")
    assert rows_in_text(p) == [1, 3] and "household" in p.what


def test_negative_hours_and_wages(tmp_path):
    make_folder(tmp_path, jobs=JOBS + "002,2016-01-01,,,,-4,100\n002,2016-02-01,,,,4,\"-1,5\"\n")
    probs = problems(tmp_path)
    hours = the_problem(probs, "jobs.csv", "hours_per_week")
    assert rows_in_text(hours) == [3] and "'-4'" in hours.what and "negative" in hours.what
    wage = the_problem(probs, "jobs.csv", "monthly_wage")
    assert rows_in_text(wage) == [4] and "'-1,5'" in wage.what


def test_text_in_number_column(tmp_path):
    make_folder(tmp_path, jobs=JOBS + "002,2016-01-01,,,,32 uur,\n")
    p = the_problem(problems(tmp_path), "jobs.csv", "hours_per_week")
    assert rows_in_text(p) == [3] and "'32 uur'" in p.what


def test_unknown_status_holder_value(tmp_path):
    make_folder(tmp_path, persons=PERSONS.replace("high,", "high,misschien"))
    p = the_problem(problems(tmp_path), "persons.csv", "status_holder")
    assert rows_in_text(p) == [3] and "'misschien'" in p.what


def test_unreadable_file_is_a_problem_not_a_traceback(tmp_path):
    make_folder(tmp_path, jobs="person_id,start,end\n001,2016-01-01,,extra,fields\n")
    p = the_problem(problems(tmp_path), "jobs.csv", None)
    assert "cannot be read" in p.what


def test_bad_study_file_reported_with_table_problems(tmp_path):
    make_folder(tmp_path, jobs=None)
    (tmp_path / "study.toml").write_text("window_start = 2015-01-01\ncohort = 3\n")
    probs = problems(tmp_path)
    assert any(p.file == "study.toml" and "cohort" in p.what and "cohorts" in p.fix for p in probs)
    assert any(p.file == "jobs.csv" for p in probs)


def test_all_problems_collected_in_one_error(tmp_path):
    make_folder(
        tmp_path,
        persons=PERSONS.replace("dutch", "Mars"),
        benefits=BENEFITS + "002,bijstand,2017-01-01,2016-01-01\n",
        jobs=JOBS + "001,2016-01-01,,,,-1,\n",
    )
    probs = problems(tmp_path)
    assert {p.file for p in probs} == {"persons.csv", "benefits.csv", "jobs.csv"}
    assert len(probs) == 3


def test_many_bad_rows_are_summarised(tmp_path):
    rows = "".join(f"001,coaching,2016-0{m}-01,2016-0{m - 1}-15\n" for m in range(2, 10))
    make_folder(tmp_path, programmes="person_id,programme,start,end\n" + rows)
    p = the_problem(problems(tmp_path), "programmes.csv", "end")
    assert p.n_rows == 8 and "rows 1, 2, 3, 4, 5 (and 3 more)" in str(p)


# ------------------------------------------------------------------------------------------------
# Cleaning and the log
# ------------------------------------------------------------------------------------------------


def test_exact_duplicates_merged(tmp_path):
    make_folder(
        tmp_path,
        persons=PERSONS + "002,M,1990-06-15,non_western,,true\n002, m ,19900615,Non_Western,,yes\n",
        jobs=JOBS + JOBS.splitlines()[1] + "\n",
    )
    data = load_input(tmp_path)
    assert len(data.persons) == 3 and len(data.jobs) == 2
    merged = data.log[data.log["outcome"] == "merged"].set_index("table")["rows"]
    assert merged["persons"] == 2 and merged["jobs"] == 1
    assert_log_adds_up(data, {"persons": 5, "jobs": 3})


def test_contiguous_benefit_spells_merged(tmp_path):
    make_folder(
        tmp_path,
        benefits="""person_id,benefit,start,end
002,bijstand,2016-04-01,
001,bijstand,2015-01-01,2015-01-31
002,bijstand,2016-01-01,2016-03-31
001,bijstand,2015-02-01,2015-05-31
001,ww,2015-06-01,2015-06-30
001,bijstand,2015-06-01,2015-06-30
001,bijstand,2015-08-01,2015-08-31
""",
    )
    data = load_input(tmp_path)
    b = data.benefits
    assert b[["person_id", "benefit", "start", "end", "row"]].astype(str).values.tolist() == [
        ["001", "bijstand", "2015-01-01", "2015-06-30", "2"],
        ["001", "ww", "2015-06-01", "2015-06-30", "5"],
        ["001", "bijstand", "2015-08-01", "2015-08-31", "7"],
        ["002", "bijstand", "2016-01-01", "NaT", "3"],
    ]
    line = data.log[(data.log["table"] == "benefits") & (data.log["outcome"] == "merged")]
    assert line["rows"].tolist() == [3]
    assert_log_adds_up(data, {"benefits": 7})


def test_rinpersoons_not_r_rejected_and_unknown_columns_dropped(tmp_path):
    make_folder(
        tmp_path,
        jobs="rinpersoons,rinpersoon,start,end,employer\nR,001,2016-01-01,,x\nS,001,2016-01-01,,y\n,002,2017-01-01,,z\n",
    )
    data = load_input(tmp_path)
    assert data.jobs["person_id"].tolist() == ["001"] and data.jobs["row"].tolist() == [1]
    assert "employer" not in data.jobs.columns
    jobs_log = data.log[data.log["table"] == "jobs"]
    assert jobs_log.loc[jobs_log["outcome"] == "rejected", "rows"].tolist() == [2]
    assert jobs_log["reason"].str.contains("dropped unknown column\\(s\\): employer").any()
    assert_log_adds_up(data, {"jobs": 3})


def test_spells_sorted_by_person_and_start(tmp_path):
    make_folder(
        tmp_path,
        jobs="person_id,start,end\n002,2016-05-01,\n001,2017-01-01,\n010,2015-01-01,\n001,2016-01-01,\n",
        persons=PERSONS + "010,F,1980-01-01,dutch,,\n",
    )
    data = load_input(tmp_path)
    assert data.jobs[["person_id", "row"]].values.tolist() == [["001", 4], ["001", 2], ["002", 1], ["010", 3]]


def test_write_cleaning_log(tmp_path):
    data = load_input(make_folder(tmp_path / "in"))
    path = write_cleaning_log(data, tmp_path / "out" / "nested")
    assert path.name == "cleaning_log.csv"
    back = pd.read_csv(path)
    assert list(back.columns) == ["table", "file", "outcome", "reason", "rows"]
    assert len(back) == len(data.log)
    assert_log_adds_up(data, {n: rows_read(tmp_path / "in", n) for n in BASE})


ids = st.sampled_from(["001", "002", "003", "999"])
day = st.integers(min_value=0, max_value=60)


@st.composite
def benefit_rows(draw):
    """Benefit rows with duplicates, contiguous pieces, non-R keys and unknown persons."""
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        start = pd.Timestamp("2015-01-01") + pd.Timedelta(days=draw(day) * 30)
        pieces = draw(st.integers(min_value=1, max_value=3))
        kind = draw(st.sampled_from(["22", "21", "other"]))
        key = draw(st.sampled_from(["R", "R", "R", "S"]))
        pid = draw(ids)
        for _ in range(pieces):  # contiguous pieces of 10 days
            end = start + pd.Timedelta(days=9)
            rows.append(f"{key},{pid},{kind},{start:%Y%m%d},{end:%Y%m%d}")
            if draw(st.booleans()):
                rows.append(rows[-1])  # exact duplicate
            start = end + pd.Timedelta(days=1)
    return rows


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=benefit_rows())
def test_log_rows_add_up_to_rows_read(rows):
    """Whatever is merged or rejected, kept + merged + rejected = rows read, per table."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_folder(
            Path(tmp),
            benefits="rinpersoons,rinpersoon,benefit,start,end\n" + "".join(r + "\n" for r in rows),
            households=None,
            programmes=None,
        )
        (folder / "study.toml").write_text('unlinked = "reject"\n')
        try:
            data = load_input(folder)
        except InputError as err:  # random spells may overlap, or leave no bijstand spell: only those problems
            assert all(p.file == "benefits.csv" and ("overlap" in p.what or "no bijstand spell" in p.what)
                       for p in err.problems), err
            return
        assert_log_adds_up(data, {"benefits": len(rows), "persons": 3, "jobs": 2})
        assert data.benefits["row"].is_unique


cell = st.text(alphabet="0123456789-;,/ aAbBrRM\"é", max_size=10)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.tuples(cell, cell, cell, cell), max_size=6))
def test_garbage_gives_input_error_only(cells):
    """Random text in every column: either valid data or an InputError, never another exception."""
    with tempfile.TemporaryDirectory() as tmp:
        text = "person_id,benefit,start,end\n" + "".join(
            ",".join('"' + c.replace('"', '""') + '"' for c in row) + "\n" for row in cells
        )
        folder = make_folder(Path(tmp), benefits=text, households=None, programmes=None)
        try:
            load_input(folder)
        except InputError as err:
            assert all(isinstance(p, Problem) and p.file for p in err.problems)


# ------------------------------------------------------------------------------------------------
# Settings the run needs (issue 15, part 2): validate refuses what the run cannot do
# ------------------------------------------------------------------------------------------------


def study_problems(folder: Path, text: str) -> list[Problem]:
    (folder / "study.toml").write_text(text, encoding="utf-8")
    return [p for p in problems(folder) if p.file == "study.toml"]


@pytest.mark.parametrize(("start", "end", "months"), [
    ("2015-01-01", "2015-01-31", 1), ("2015-01-01", "2015-01-30", 0), ("2015-01-15", "2015-02-14", 1),
    ("2015-01-15", "2015-02-13", 0), ("2015-01-01", "2024-12-31", 120), ("2020-01-01", "2020-01-01", 0),
    ("2015-01-01", "2016-01-31", 13), ("1678-01-01", "2262-04-05", 7011),
])
def test_window_months(start, end, months):
    from reintegration_effects.validate import window_months

    assert window_months(start, end) == months


def test_one_day_window_is_refused(tmp_path):
    make_folder(tmp_path)
    [p] = study_problems(tmp_path, 'window_start = "2015-06-01"\nwindow_end = "2015-06-01"\nhorizons = [1]\n')
    assert "key 'window_end'" in p.what and "shorter than one month" in p.what
    assert "2015-06-30" in p.fix  # the earliest end that makes a month


def test_one_month_window_runs_with_a_one_month_horizon(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "study.toml").write_text('window_start = "2015-06-01"\nwindow_end = "2015-06-30"\nhorizons = [1]\n')
    data = load_input(tmp_path)
    assert data.study.horizons == (1,) and (data.window_end - data.window_start).days == 29


@pytest.mark.parametrize("horizons", ["[1000]", "[6, 12, 121]"])
def test_horizons_longer_than_the_window_are_refused(tmp_path, horizons):
    make_folder(tmp_path)
    [p] = study_problems(tmp_path, f'window_start = "2015-01-01"\nwindow_end = "2024-12-31"\nhorizons = {horizons}\n')
    assert p.what.startswith("key 'horizons'") and "longer than the window" in p.what and "120 whole months" in p.what
    assert "at most 119 months" not in p.fix and "at most 120 months" in p.fix and "widen the window" in p.fix


@pytest.mark.parametrize("horizons", ["[12, 6]", "[6, 6, 12]"])
def test_horizons_out_of_order_or_repeated_are_refused(tmp_path, horizons):
    make_folder(tmp_path)
    [p] = study_problems(tmp_path, f"horizons = {horizons}\n")
    assert "increasing order" in p.what and "horizons = [6, 12]" in p.fix


@pytest.mark.parametrize("horizons", [(6, 12), (12, 24, 36), (6, 12, 18, 24), (1,), (120,)])
def test_any_increasing_horizons_within_the_window_are_valid(tmp_path, horizons):
    make_folder(tmp_path)
    write_study({"window_start": "2015-01-01", "window_end": "2024-12-31", "horizons": list(horizons)},
                tmp_path / "study.toml")
    assert load_input(tmp_path).study.horizons == horizons


def test_default_horizons_shortened_to_a_short_window_or_refused(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "study.toml").write_text('window_start = "2015-01-01"\nwindow_end = "2016-01-31"\n')
    data = load_input(tmp_path)  # 13 months: the defaults 6 and 12 fit, 18 does not
    assert data.study.horizons == (6, 12)
    assert data.log["reason"].str.contains("default horizons [6, 12, 18] shortened to [6, 12]", regex=False).any()
    [p] = study_problems(tmp_path, 'window_start = "2015-01-01"\nwindow_end = "2015-03-31"\n')
    assert "not set" in p.what and "set horizons of at most 3 months" in p.fix
    # the same defaults given explicitly are the user's choice: refused, not shortened
    [p] = study_problems(tmp_path, 'window_start = "2015-01-01"\nwindow_end = "2016-01-31"\nhorizons = [6, 12, 18]\n')
    assert "the horizon of 18 months is longer than the window" in p.what


def test_cohorts_and_groups_checked_against_the_window_and_the_breakdowns(tmp_path):
    make_folder(tmp_path)
    probs = study_problems(tmp_path, 'window_start = "2015-01-01"\nwindow_end = "2016-12-31"\nhorizons = [6]\n'
                                     'cohorts = ["stock_2030-01-01", "outflow_20x", "stock_2015-02-30", '
                                     '"outflow_2016", "stock_2016-01-01"]\ngroups = ["sex", "colour", "age=50+"]\n')
    whats = sorted(p.what for p in probs)
    assert len(probs) == 4, whats
    assert any("'stock_2030-01-01' lies outside the window" in w for w in whats)
    assert any("'outflow_20x' is not a cohort name" in w for w in whats)
    assert any("2015-02-30 is not a date" in w for w in whats)
    assert any("'colour' is not a group dimension" in w for w in whats)


def test_group_names_are_the_flows_breakdowns():
    from reintegration_effects.flows import GROUPS
    from reintegration_effects.validate import GROUP_NAMES

    assert set(GROUP_NAMES) == set(GROUPS)


def test_every_row_unlinked_with_reject_is_refused(tmp_path):
    """The issue's case: persons from another extract and unlinked = "reject" left nothing to analyse."""
    other_ids = PERSONS.replace("\n001,", "\nX001,").replace("\n002,", "\nX002,").replace("\n003,", "\nX003,")
    make_folder(tmp_path, persons=other_ids)
    (tmp_path / "study.toml").write_text('unlinked = "reject"\n')
    [p] = problems(tmp_path)
    assert p.file == "benefits.csv" and "no bijstand spell is left" in p.what and "3 row(s) were rejected" in p.what
    assert 'unlinked = "reject"' in p.what and "same extract" in p.fix


def test_every_row_unlinked_with_reject_exits_2_from_the_cli(tmp_path, capsys):
    from reintegration_effects.cli import main

    other_ids = PERSONS.replace("\n001,", "\nX001,").replace("\n002,", "\nX002,").replace("\n003,", "\nX003,")
    make_folder(tmp_path / "in", persons=other_ids)
    (tmp_path / "in" / "study.toml").write_text('unlinked = "reject"\n')
    assert main(["run", "--data", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-report"]) == 2
    assert "no bijstand spell is left" in capsys.readouterr().err
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_no_bijstand_spell_in_the_window_is_refused(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "study.toml").write_text('window_start = "2010-01-01"\nwindow_end = "2014-12-31"\nhorizons = [6]\n')
    [p] = problems(tmp_path)
    assert p.file == "benefits.csv" and "no bijstand spell between 2010-01-01 and 2014-12-31" in p.what


# ------------------------------------------------------------------------------------------------
# Migration background: CBS 2022 classification, the pre-2022 codes mapped
# ------------------------------------------------------------------------------------------------

PERSONS_2022 = """person_id,sex,birth_date,migration_background
001,F,1980-01-01,dutch
002,M,1990-06-15,outside_europe
003,F,1975-03-03,Europe
"""


def test_migration_2022_codes_are_kept_without_a_log_line(tmp_path):
    make_folder(tmp_path, persons=PERSONS_2022)
    data = load_input(tmp_path)
    assert list(data.persons["migration_background"].astype(str)) == ["dutch", "outside_europe", "europe"]
    assert list(data.persons["migration_background"].cat.categories) == ["dutch", "europe", "outside_europe",
                                                                          "unknown"]
    assert not data.log["reason"].str.contains("pre-2022").any()


def test_migration_pre_2022_codes_are_mapped_and_logged(tmp_path):
    """western -> europe, non_western -> outside_europe (also Dutch words and spelling variants),
    with one cleaning-log line that calls it an approximation; dutch stays dutch."""
    make_folder(tmp_path, persons="""person_id,sex,birth_date,migration_background
001,F,1980-01-01,dutch
002,M,1990-06-15,Non-Western
003,F,1975-03-03,westers
004,M,1975-03-03,niet-westers
005,F,1975-03-03,unknown
""")
    data = load_input(tmp_path)
    assert list(data.persons["migration_background"].astype(str)) == ["dutch", "outside_europe", "europe",
                                                                       "outside_europe", "unknown"]
    line = data.log[data.log["reason"].str.contains("pre-2022")]
    assert len(line) == 1 and line["table"].iloc[0] == "persons" and line["outcome"].iloc[0] == "kept"
    assert "approximation" in line["reason"].iloc[0] and "western -> europe" in line["reason"].iloc[0]
    assert line["rows"].iloc[0] == 0  # information only: the rows are counted once, as kept


def test_migration_mixing_both_classifications_is_refused(tmp_path):
    make_folder(tmp_path, persons=PERSONS + "004,M,1990-06-15,outside_europe,,\n005,M,1990-06-15,europe,,\n")
    p = the_problem(problems(tmp_path), "persons.csv", "migration_background")
    assert "2 row(s) use the pre-2022" in p.what and "2 the 2022 one" in p.what
    assert "recode every row to one classification" in p.fix
    assert rows_in_text(p) == [2, 3]  # both groups have 2 rows: the pre-2022 ones are listed


def test_migration_unknown_value_names_both_classifications(tmp_path):
    make_folder(tmp_path, persons=PERSONS_2022.replace("Europe", "asia"))
    p = the_problem(problems(tmp_path), "persons.csv", "migration_background")
    assert "'asia'" in p.what and "dutch, europe, outside_europe, unknown" in p.what
    assert "western / non_western are also accepted" in p.what
    assert rows_in_text(p) == [3]


# ------------------------------------------------------------------------------------------------
# study.toml: [programmes.LABEL]
# ------------------------------------------------------------------------------------------------

STUDY_PROGRAMMES = """
[programmes.coaching]
name = { nl = "Jobcoaching", en = "Job coaching" }
description = { nl = "Begeleiding naar werk.", en = "Support into work." }
cost_per_participant = 2500

[programmes.training]
name = "Sollicitatietraining"
"""


def test_programme_descriptions_are_read(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "study.toml").write_text(STUDY_PROGRAMMES, encoding="utf-8")
    data = load_input(tmp_path)
    from reintegration_effects.io import programme_info

    info = programme_info(data.study)
    assert info["coaching"] == {"name": {"nl": "Jobcoaching", "en": "Job coaching"},
                                "description": {"nl": "Begeleiding naar werk.", "en": "Support into work."},
                                "cost_per_participant": 2500.0}
    assert info["training"] == {"name": {"nl": "Sollicitatietraining", "en": "Sollicitatietraining"},
                                "description": None, "cost_per_participant": None}


def test_programme_description_of_an_unknown_label_names_the_labels(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "study.toml").write_text(STUDY_PROGRAMMES.replace("programmes.coaching", "programmes.Coaching"),
                                         encoding="utf-8")
    p = the_problem(problems(tmp_path), "study.toml", None)
    assert "[programmes.Coaching]" in p.what and "the labels in programmes.csv: coaching, training" in p.what
    assert "case matters" in p.fix


def test_programme_descriptions_without_a_programmes_file(tmp_path):
    make_folder(tmp_path, programmes=None)
    (tmp_path / "study.toml").write_text(STUDY_PROGRAMMES, encoding="utf-8")
    probs = problems(tmp_path)
    assert len(probs) == 2 and all("the input folder has no programmes table" in p.what for p in probs)


@pytest.mark.parametrize("toml, what, fix", [
    ('[programmes.coaching]\nname = { nl = "Jobcoaching" }\n', "key 'programmes.coaching.name': needs the languages "
     "nl and en (found: nl)", 'name = { nl = "...", en = "..." }'),
    ('[programmes.coaching]\ndescription = { nl = "x", en = "" }\n', "every language needs a non-empty text",
     "one text for both"),
    ('[programmes.coaching]\ncost_per_participant = -5\n', "-5 is not a number of euros >= 0", "plain number"),
    ('[programmes.coaching]\ncost_per_participant = "2500 euro"\n', "'2500 euro' is not a number", "plain number"),
    ('[programmes.coaching]\ncost = 10\n', "unknown key(s) cost", "name, description, cost_per_participant"),
    ('programmes = 3\n', "key 'programmes': 3 is not a table", "[programmes.job_coaching]"),
])
def test_programme_description_errors_name_key_and_fix(tmp_path, toml, what, fix):
    make_folder(tmp_path)
    (tmp_path / "study.toml").write_text(toml, encoding="utf-8")
    p = the_problem(problems(tmp_path), "study.toml", None)
    assert what in p.what and fix in p.fix, str(p)
