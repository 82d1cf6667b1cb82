"""Shared helpers for tests: small hand-built inputs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reintegration_effects.contract import TABLES
from reintegration_effects.dataset import InputData


def make_input(persons=None, households=None, benefits=None, jobs=None, programmes=None,
               window=("2020-01-01", "2020-06-30")) -> InputData:
    """An InputData built directly (bypassing file validation) from lists of dicts."""

    def frame(name, rows):
        cols = list(TABLES[name].column_names)
        df = pd.DataFrame(rows or [], columns=cols)
        for c in ("start", "end", "birth_date"):
            if c in df:
                df[c] = pd.to_datetime(df[c])
        df["person_id"] = df["person_id"].astype(str)
        return df

    return InputData(
        persons=frame("persons", persons),
        households=frame("households", households),
        benefits=frame("benefits", benefits),
        jobs=frame("jobs", jobs),
        programmes=frame("programmes", programmes),
        window_start=pd.Timestamp(window[0]),
        window_end=pd.Timestamp(window[1]),
    )


@pytest.fixture
def person_rows():
    def rows(*ids):
        return [dict(person_id=i, sex="F", birth_date="1980-05-01", migration_background="dutch",
                     education="low", status_holder=False) for i in ids]
    return rows


def data_rows(path: Path) -> int:
    """Rows of a written CSV (0 when absent, or written without rows or even columns)."""
    if not path.is_file():
        return 0
    try:
        return len(pd.read_csv(path))
    except pd.errors.EmptyDataError:
        return 0
