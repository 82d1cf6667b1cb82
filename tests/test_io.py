"""Tests for io: finding and reading table files, study.toml, writers and round trips."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest

from reintegration_effects.contract import DEFAULT_HORIZONS, STUDY_KEYS
from reintegration_effects.dataset import StudySettings
from reintegration_effects.errors import InputError
from reintegration_effects.io import (
    file_sha256,
    find_table,
    read_raw,
    read_study,
    write_input_folder,
    write_study,
    write_table,
)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": ["001", "002", None],
            "start": pd.to_datetime(["2015-01-01", "2016-02-29", "2017-12-31"]),
            "end": pd.to_datetime(["2015-06-30", None, None]),
            "programme": ["coaching", "café", None],
            "hours": [32.0, np.nan, 8.5],
            "flag": pd.array([True, None, False], dtype="boolean"),
        }
    )


# ------------------------------------------------------------------------------------------------
# find_table
# ------------------------------------------------------------------------------------------------


def test_find_table(tmp_path):
    assert find_table(tmp_path, "persons") is None
    (tmp_path / "Persons.CSV").write_text("person_id\n1\n")
    (tmp_path / "persons_old.csv").write_text("person_id\n1\n")
    assert find_table(tmp_path, "persons") == tmp_path / "Persons.CSV"


def test_find_table_two_formats_is_an_error(tmp_path):
    (tmp_path / "jobs.csv").write_text("person_id\n1\n")
    (tmp_path / "jobs.sav").write_bytes(b"")
    with pytest.raises(InputError) as info:
        find_table(tmp_path, "jobs")
    text = str(info.value)
    assert "jobs.csv" in text and "jobs.sav" in text and "one file per table" in text


def test_find_table_missing_folder(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        find_table(tmp_path / "nope", "persons")


# ------------------------------------------------------------------------------------------------
# read_raw
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("person_id,Programme \n001,café\n002,\n", "utf-8"),
        (" Person_ID ;programme\n001;café\n002;\n", "utf-8-sig"),  # Dutch Excel: ';' and a BOM
        ("person_id;programme\n001;café\n002;\n", "latin-1"),
        ('"person_id","programme"\n"001","café"\n"002",""\n', "utf-8"),
    ],
)
def test_read_csv_variants(tmp_path, text, encoding):
    path = tmp_path / "programmes.csv"
    path.write_bytes(text.encode(encoding))
    df = read_raw(path)
    assert list(df.columns) == ["person_id", "programme"]
    assert df["person_id"].tolist() == ["001", "002"]  # text, leading zeros kept
    assert df["programme"].iloc[0] == "café"
    assert pd.isna(df["programme"].iloc[1])  # empty cell = missing


def test_read_csv_latin1_fallback(tmp_path):
    """Bytes that are neither UTF-8 nor Windows-1252 (0x81) still read, as latin-1."""
    path = tmp_path / "programmes.csv"
    path.write_bytes(b"person_id,programme\n001,caf\xe9 \x81\n")
    assert read_raw(path)["programme"].iloc[0] == "caf\xe9 \x81"


def test_read_csv_keeps_everything_as_text(tmp_path):
    path = tmp_path / "jobs.csv"
    path.write_text("start,hours\n20150101,32\n 2015-01-01 ,8.5\n")
    df = read_raw(path)
    assert df["start"].tolist() == ["20150101", " 2015-01-01 "]
    assert pd.api.types.is_string_dtype(df["hours"].dtype)


def test_read_csv_unnamed_columns(tmp_path):
    """Spreadsheets often end lines with a separator: empty header names get a placeholder."""
    path = tmp_path / "persons.csv"
    path.write_text("person_id;sex;;\n001;F;;\n")
    assert list(read_raw(path).columns) == ["person_id", "sex", "unnamed_3", "unnamed_4"]


def test_read_csv_header_only(tmp_path):
    path = tmp_path / "households.csv"
    path.write_text("person_id,start,end,position\n")
    df = read_raw(path)
    assert list(df.columns) == ["person_id", "start", "end", "position"] and len(df) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"a,b\n1,2,3\n", "cannot be read as CSV"),
        (b"a,A \n1,2\n", "more than once"),
    ],
)
def test_read_csv_broken_files(tmp_path, content, message):
    path = tmp_path / "persons.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_raw(path)
    assert info.value.problems[0].file == "persons.csv"


def test_read_broken_parquet_and_sav(tmp_path):
    for name in ("jobs.parquet", "jobs.sav"):
        (tmp_path / name).write_bytes(b"not really")
        with pytest.raises(InputError, match="cannot be read") as info:
            read_raw(tmp_path / name)
        assert info.value.problems[0].file == name


def test_parquet_and_sav_keep_their_types(tmp_path):
    df = frame()
    for suffix in (".parquet", ".sav"):
        back = read_raw(write_table(df.rename(columns={"hours": "Hours"}), tmp_path / f"t{suffix}"))
        assert "hours" in back.columns
        assert back["person_id"].iloc[0] == "001"
        assert pd.api.types.is_datetime64_any_dtype(back["start"])
        assert back["start"].tolist() == df["start"].tolist()
        assert pd.isna(back["end"].iloc[1])
        assert back["programme"].iloc[1] == "café"


# ------------------------------------------------------------------------------------------------
# Writers
# ------------------------------------------------------------------------------------------------


def test_write_csv_iso_dates_and_empty_missing(tmp_path):
    path = write_table(frame(), tmp_path / "t.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "person_id,start,end,programme,hours,flag"
    assert lines[1] == "001,2015-01-01,2015-06-30,coaching,32.0,True"
    assert lines[2] == "002,2016-02-29,,café,,"


def test_write_csv_dutch_excel_style(tmp_path):
    path = write_table(frame(), tmp_path / "t.csv", sep=";", encoding="utf-8-sig")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfperson_id;start;")
    assert read_raw(path)["programme"].iloc[1] == "café"


def test_write_table_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="unknown table format"):
        write_table(frame(), tmp_path / "t.xlsx")


@pytest.mark.parametrize("fmt", ["csv", "parquet", "sav"])
def test_write_input_folder(tmp_path, fmt):
    tables = {"persons": frame().assign(row=[1, 2, 3]), "jobs": frame()}
    folder = write_input_folder(tables, tmp_path / "in", fmt=fmt, study={"municipality": "Delft", "seed": 7})
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"persons.{fmt}", f"jobs.{fmt}", "study.toml"])
    assert "row" not in read_raw(folder / f"persons.{fmt}").columns  # load_input's row is not input
    assert read_study(folder) == StudySettings(municipality="Delft", seed=7)


def test_write_input_folder_with_study_settings(tmp_path):
    study = StudySettings(window_start=pd.Timestamp("2015-01-01"), horizons=(3, 6), unlinked="reject")
    write_input_folder({}, tmp_path, study=study)
    assert read_study(tmp_path) == study


def test_file_sha256(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"bijstand" * 1000)
    assert file_sha256(path) == hashlib.sha256(b"bijstand" * 1000).hexdigest()


# ------------------------------------------------------------------------------------------------
# study.toml
# ------------------------------------------------------------------------------------------------


def test_read_study_absent_gives_defaults(tmp_path):
    assert read_study(tmp_path) == StudySettings()
    assert read_study(tmp_path).horizons == DEFAULT_HORIZONS


def test_read_study_values(tmp_path):
    (tmp_path / "study.toml").write_text(
        'municipality = "Leidschendam-Voorburg"\nwindow_start = 2015-01-01\nwindow_end = "20181231"\n'
        'horizons = [6, 12]\ncohorts = ["outflow_2015"]\ngroups = ["sex"]\nseed = 1\nlang = "en"\n'
        'unlinked = "reject"\n'
    )
    s = read_study(tmp_path)
    assert s.window_start == pd.Timestamp("2015-01-01") and s.window_end == pd.Timestamp("2018-12-31")
    assert s.horizons == (6, 12) and s.cohorts == ["outflow_2015"] and s.groups == ["sex"]
    assert (s.municipality, s.seed, s.lang, s.unlinked) == ("Leidschendam-Voorburg", 1, "en", "reject")


def test_read_study_unknown_key_names_allowed_keys(tmp_path):
    (tmp_path / "study.toml").write_text("horizon = [6]\n")
    with pytest.raises(InputError) as info:
        read_study(tmp_path)
    [problem] = info.value.problems
    assert problem.file == "study.toml" and "'horizon'" in problem.what
    assert all(key in problem.fix for key in STUDY_KEYS)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("horizons = [6, -12]", "horizons"),
        ("horizons = [6.5]", "horizons"),
        ("horizons = 12", "horizons"),
        ('window_start = "2015-02-31"', "window_start"),
        ("window_end = true", "window_end"),
        ('unlinked = "drop"', "unlinked"),
        ("seed = -1", "seed"),
        ('lang = "de"', "lang"),
        ("cohorts = [2015]", "cohorts"),
        ("municipality = 3", "municipality"),
    ],
)
def test_read_study_bad_values(tmp_path, line, key):
    (tmp_path / "study.toml").write_text(line + "\n")
    with pytest.raises(InputError) as info:
        read_study(tmp_path)
    assert f"key '{key}'" in str(info.value)


def test_read_study_collects_all_problems(tmp_path):
    (tmp_path / "study.toml").write_text('window_start = 2016-01-01\nwindow_end = 2015-01-01\nfoo = 1\n')
    with pytest.raises(InputError) as info:
        read_study(tmp_path)
    assert len(info.value.problems) == 2  # unknown key and reversed window


def test_read_study_invalid_toml(tmp_path):
    (tmp_path / "study.toml").write_text("horizons = [6, \n")
    with pytest.raises(InputError, match="not valid TOML"):
        read_study(tmp_path)


def test_write_study_round_trip(tmp_path):
    study = {
        "municipality": 'Den "Haag"',
        "window_start": pd.Timestamp("2015-01-01"),
        "window_end": dt.date(2019, 12, 31),
        "horizons": (6, 12, 18),
        "cohorts": ["stock_2016-01-01", "outflow_2015"],
        "seed": np.int64(3),
        "lang": "nl",
        "groups": None,  # left out
    }
    write_study(study, tmp_path / "study.toml")
    s = read_study(tmp_path)
    assert s.municipality == 'Den "Haag"' and s.window_end == pd.Timestamp("2019-12-31")
    assert s.horizons == (6, 12, 18) and s.seed == 3 and s.groups is None


# ------------------------------------------------------------------------------------------------
# SPSS value labels
# ------------------------------------------------------------------------------------------------


def _labelled_sav(path, df, labels):
    import pyreadstat

    pyreadstat.write_sav(df, str(path), variable_value_labels=labels)
    return path


def test_sav_value_labels_become_the_values(tmp_path):
    df = pd.DataFrame({"person_id": ["1", "2", "3", "4"], "Programme": [1.0, 2.0, 3.0, np.nan],
                       "sex": [1.0, 2.0, 1.0, 2.0], "hours": [20.0, 32.0, 36.0, 40.0]})
    path = _labelled_sav(tmp_path / "programmes.sav", df, {
        "Programme": {1: "Werkfit", 2: "Participatie"},
        "sex": {1: "Man", 2: "Vrouw"},  # a CBS code column: validate maps the codes, they stay
    })
    back = read_raw(path)
    assert back["programme"].tolist()[:3] == ["Werkfit", "Participatie", "3"]  # unlabelled code as text
    assert pd.isna(back["programme"].iloc[3])
    assert back["sex"].tolist() == [1.0, 2.0, 1.0, 2.0]
    assert back["hours"].tolist() == [20.0, 32.0, 36.0, 40.0]


def test_coded_columns_are_the_columns_validate_maps():
    from reintegration_effects.io import CODED_COLUMNS
    from reintegration_effects.validate import ALIASES

    assert set(CODED_COLUMNS) == set(ALIASES)


def test_sav_programme_labels_reach_the_validated_data(tmp_path):
    from reintegration_effects.simulate import simulate_municipality, write_simulation
    from reintegration_effects.validate import load_input

    folder, _ = write_simulation(simulate_municipality(60, seed=3), tmp_path / "in")
    programmes = pd.read_csv(folder / "programmes.csv", dtype=str)
    names = sorted(programmes["programme"].unique())
    codes = {name: float(i + 1) for i, name in enumerate(names)}
    sav = programmes.assign(programme=programmes["programme"].map(codes),
                            start=pd.to_datetime(programmes["start"]), end=pd.to_datetime(programmes["end"]))
    (folder / "programmes.csv").unlink()
    _labelled_sav(folder / "programmes.sav", sav, {"programme": {int(c): n for n, c in codes.items()}})
    data = load_input(folder)
    assert sorted(data.programmes["programme"].astype(str).unique()) == names


def test_programme_descriptions_round_trip_through_study_toml(tmp_path):
    """``[programmes.LABEL]`` tables are written and read back; a label that is not a bare TOML key
    is quoted; settings without programmes stay a plain StudySettings."""
    import tomllib

    from reintegration_effects.io import StudyWithProgrammes, programme_info

    info = {"job_coaching": {"name": {"nl": "Jobcoaching", "en": "Job coaching"},
                             "description": {"nl": "Eén \"coach\".", "en": "One coach."},
                             "cost_per_participant": 2500.0},
            "Werkfit traject": {"name": {"nl": "Werkfit", "en": "Werkfit"}, "description": None,
                                "cost_per_participant": None}}
    study = StudyWithProgrammes(municipality="Delft", programmes=info)
    write_input_folder({}, tmp_path, study=study)
    text = (tmp_path / "study.toml").read_text(encoding="utf-8")
    assert '[programmes."Werkfit traject"]' in text and "[programmes.job_coaching]" in text
    assert tomllib.loads(text)["programmes"]["job_coaching"]["cost_per_participant"] == 2500.0
    back = read_study(tmp_path)
    assert isinstance(back, StudyWithProgrammes) and back == study
    assert programme_info(back) == info
    assert programme_info(StudySettings()) == {} and type(read_study(tmp_path / "none")) is StudySettings
