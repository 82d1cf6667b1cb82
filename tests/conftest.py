"""Shared helpers for tests: small hand-built inputs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

from reintegration_effects.contract import TABLES
from reintegration_effects.dataset import InputData

# CI must give the same verdict on the same commit: the property tests draw their examples from a
# fixed seed there ("ci", the default). `make explore` runs them with fresh random examples
# (HYPOTHESIS_PROFILE=explore), which is where new counter-examples are found; a found one is then
# fixed and pinned by a plain test.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Under pytest-xdist (``make test``: two workers, one per core) the cores are already busy with
# tests: a run's own workers (its default is every CPU, loky) only add processes that contend
# for them (a 300-person run measured 84 s with two loky workers, 53 s with none, on the busy
# machine). So runs inside the tests fit one task at a time unless a test says otherwise; the
# numbers do not depend on it (tests/test_parallel.py, test_effects.py, test_repeated_crossfit.py),
# and the session's default run keeps the user's default (``default_run``).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("REINTEGRATION_N_JOBS", "1")


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


@dataclass
class SpiedRun:
    """A finished run: its output folder, every table exactly as handed to ``outputs.write_table``
    (before rounding and suppression), and the run's context."""

    out: Path
    exact: dict
    ctx: object
    persons: int | None = None


def spied_run(out: Path, *, persons: int | None = None, user_parallel: bool = False, **kwargs) -> SpiedRun:
    """``pipeline.run`` on the built-in municipality (seed 20150101) recording the exact tables.

    ``user_parallel``: the run's workers as a user's run gets them (every CPU), not the test
    session's one at a time."""
    from reintegration_effects import outputs
    from reintegration_effects.parallel import ENV_N_JOBS
    from reintegration_effects.pipeline import run

    exact: dict[str, pd.DataFrame] = {}
    real = outputs.write_table

    def spy(out_dir, name, df, *args, **kw):
        exact[name] = df.copy()
        return real(out_dir, name, df, *args, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outputs, "write_table", spy)
        if user_parallel:
            mp.delenv(ENV_N_JOBS, raising=False)
        ctx = run(None, out, seed=20150101, persons=persons, echo=lambda s: None, **kwargs)
    return SpiedRun(out=Path(ctx.out), exact=exact, ctx=ctx, persons=persons)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> SpiedRun:
    """The built-in municipality run once for the whole session as ``make report`` runs it (seed
    20150101, the report in Dutch and English, HTML and PDF), shared by the tests that only read
    its output (the attacks, the report reading): one default run instead of one per module."""
    return spied_run(tmp_path_factory.mktemp("default-run") / "out", lang="nl,en", user_parallel=True)


#: Test modules that read the session's one default run (``default_run``): pytest-xdist keeps them
#: on one worker, so the run is made once per session and not once per worker.
DEFAULT_RUN_MODULES = ("test_attacks", "test_report_reading")


@pytest.hookimpl(optionalhook=True)  # xdist is a dev dependency; without it pytest would refuse the hook
def pytest_xdist_make_scheduler(config, log):
    """With pytest-xdist (``make test`` runs ``-n 2 --dist loadfile``): each test module goes whole to one worker,
    as ``--dist loadfile`` does (a module's fixtures are built once, not once per worker), except
    that the modules sharing the session's default run go together. Written as a scheduler because
    xdist's own grouping by ``xdist_group`` marker (``--dist loadgroup``) edits a node id that
    pytest 9.2 no longer reads: the marker is silently ignored and every module fixture was built
    on both workers."""
    if config.getvalue("dist") not in ("loadfile", "loadgroup"):
        return None  # another --dist asked for: xdist's own scheduler
    from xdist.scheduler import LoadFileScheduling

    class ModuleGroups(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "default_run" if Path(path).stem in DEFAULT_RUN_MODULES else path

    return ModuleGroups(config, log)
