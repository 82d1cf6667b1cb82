"""Every valid setting runs (issue 15, part 2): property tests over study.toml settings and sizes.

A small simulated municipality (40 persons, 2015-2018) is cut down to the first few persons and
given a random window (at least one month) and horizons (increasing, within the window). Then:

- ``validate`` either accepts the settings, and the run completes (tables only) with every core
  table either written with rows or named in a ``skipped [...]: reason`` line of the run log; or
  it refuses them with an InputError naming study.toml, and then the settings were invalid by the
  documented rule (:func:`reintegration_effects.validate.check_study`).
- The rule itself: a window shorter than one month, horizons out of order or longer than the
  window are refused; everything else is accepted.

Bounded for CI: few examples, a handful of persons, no report (the report's handling of missing
tables is tested in tests/test_small.py).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reintegration_effects.errors import InputError, InsufficientDataError
from reintegration_effects.io import write_input_folder, write_study
from reintegration_effects.validate import load_input, window_months
from tests.conftest import data_rows

SIM_START, SIM_END = pd.Timestamp("2015-01-01"), pd.Timestamp("2018-12-31")

#: Tables every run either writes with rows or explains in the run log.
CORE_TABLES = ("flows", "flows_by_group", "transitions", "typology", "reentry", "career_clusters", "km",
               "medians", "cumulative_incidence", "reentry_km", "hazards", "effects")


@pytest.fixture(scope="module")
def municipality() -> dict[str, pd.DataFrame]:
    from reintegration_effects.simulate import simulate_municipality

    return simulate_municipality(40, seed=7, window_start=SIM_START, window_end=SIM_END).tables


def first_persons(tables: dict[str, pd.DataFrame], n: int) -> dict[str, pd.DataFrame]:
    keep = set(tables["persons"]["person_id"].iloc[:n])
    return {name: df[df["person_id"].isin(keep)].reset_index(drop=True) for name, df in tables.items()}


@st.composite
def valid_settings(draw):
    """A window of at least one month inside the simulated years and horizons within it."""
    start = SIM_START + pd.DateOffset(months=draw(st.integers(0, 40))) + pd.Timedelta(days=draw(st.integers(0, 27)))
    room = window_months(start, SIM_END)
    length = draw(st.integers(1, room))
    end = start + pd.DateOffset(months=length) - pd.Timedelta(days=1)
    horizons = sorted(draw(st.sets(st.integers(1, length), min_size=1, max_size=4)))
    return {"window_start": f"{start:%Y-%m-%d}", "window_end": f"{end:%Y-%m-%d}", "horizons": horizons}


#: Whole runs per session: each is a minute of fixed cost (every estimator on a handful of persons),
#: so CI tries two fixed examples (hypothesis profile "ci") and `make explore` ten fresh ones.
RUNS = 2 if settings.default.derandomize else 10


@settings(max_examples=RUNS, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(study=valid_settings(), n=st.integers(1, 40))
# every session also runs: the whole simulated window with the usual horizons, and the counter-example
# CI found (a 12-person run whose restricted-mean outcome had no residual variation: the sensitivity
# bounds divided by zero)
@example(study={"window_start": "2015-01-01", "window_end": "2018-12-31", "horizons": [6, 12, 18]}, n=40)
@example(study={"window_start": "2015-06-01", "window_end": "2017-01-31", "horizons": [1]}, n=12)
def test_every_valid_setting_runs(municipality, study, n):
    from reintegration_effects.pipeline import run

    with tempfile.TemporaryDirectory() as tmp:
        folder = write_input_folder(first_persons(municipality, n), Path(tmp) / "input", study=study)
        try:
            data = load_input(folder)
        except InputError as err:  # only the one refusal valid settings can meet: nobody on bijstand
            assert all("no bijstand spell" in p.what for p in err.problems), err
            return
        assert list(data.study.horizons) == study["horizons"]
        out = Path(tmp) / "out"
        ctx = run(folder, out, seed=3, with_report=False, echo=lambda s: None, cache=Path(tmp) / "cache")
        manifest = json.loads((out / "manifest.json").read_text())
        skipped = {t.split(" ")[0] for note in manifest["notes"]
                   for t in (InsufficientDataError.parse_note(note) or ((), ""))[0]}
        for name in CORE_TABLES:
            assert data_rows(out / "tables" / f"{name}.csv") > 0 or name in skipped, (
                f"{name}: neither written with rows nor explained\n{ctx.notes}")
        if data_rows(out / "tables" / "flows.csv"):
            flows = pd.read_csv(out / "tables" / "flows.csv")
            assert set(flows["horizon_months"]) <= set(study["horizons"])


@st.composite
def any_settings(draw):
    """Windows from a day to years and horizons of any kind: valid or not."""
    start = SIM_START + pd.Timedelta(days=draw(st.integers(0, 1400)))
    end = start + pd.Timedelta(days=draw(st.integers(0, 800)))
    horizons = draw(st.lists(st.integers(1, 40), min_size=1, max_size=4))
    return {"window_start": f"{start:%Y-%m-%d}", "window_end": f"{end:%Y-%m-%d}", "horizons": horizons}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(study=any_settings())
def test_validate_refuses_exactly_the_invalid_settings(municipality, study):
    """Accepted iff the window is a month or more and the horizons increase, each once, within it."""
    months = window_months(study["window_start"], study["window_end"])
    h = study["horizons"]
    valid = months >= 1 and h == sorted(set(h)) and max(h) <= months
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_input_folder(municipality, Path(tmp) / "input")
        write_study(study, folder / "study.toml")
        try:
            data = load_input(folder)
        except InputError as err:
            settings_problems = [p for p in err.problems if p.file == "study.toml"]
            if valid:  # a valid setting may only meet the data's own limit: no bijstand in the window
                assert not settings_problems and all("no bijstand spell" in p.what for p in err.problems), err
            else:
                assert settings_problems, err
                for p in settings_problems:
                    assert p.what.startswith(("key 'horizons'", "key 'window_end'")) and p.fix, p
            return
        assert valid, f"accepted invalid settings {study}"
        assert tuple(data.study.horizons) == tuple(h)
