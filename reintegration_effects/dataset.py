"""Validated input data and study settings, as handed from `validate` to every analysis."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .contract import DEFAULT_HORIZONS

DEFAULT_SEED = 20150101


@dataclass
class StudySettings:
    """Settings from ``study.toml`` (all optional); ``None`` means 'derive from the data'."""

    municipality: str | None = None
    window_start: pd.Timestamp | None = None
    window_end: pd.Timestamp | None = None
    horizons: tuple[int, ...] = DEFAULT_HORIZONS
    cohorts: list[str] | None = None
    groups: list[str] | None = None
    seed: int = DEFAULT_SEED
    lang: str = "nl"
    unlinked: str = "error"
    #: ``[programmes.LABEL]`` tables: ``{label: {"name": {"nl", "en"} or None, "description": {"nl",
    #: "en"} or None, "cost_per_participant": float or None}}`` (checked by ``io.study_from_dict``).
    programmes: dict = field(default_factory=dict)
    #: Issue 16a. ``municipality`` stays the display name of the report title; the own municipality's
    #: CBS code is ``municipality_code``, or ``municipality`` itself when that is a code (GM + 4 digits).
    municipality_code: str | None = None
    #: Municipalities compared with: None or "all" = every municipality in benefits, else a list of codes.
    benchmark: str | list[str] | None = None
    #: ``{old code: new code}`` from ``[municipality_mergers]`` (chains resolved by ``io``).
    municipality_mergers: dict | None = None

    @property
    def own_municipality(self) -> str | None:
        """The own municipality's CBS code: ``municipality_code``, else ``municipality`` if it is a code."""
        import re

        from .contract import MUNICIPALITY_CODE_PATTERN

        if self.municipality_code:
            return self.municipality_code
        if self.municipality and re.fullmatch(MUNICIPALITY_CODE_PATTERN, self.municipality.strip().upper()):
            return self.municipality.strip().upper()
        return None


@dataclass
class InputData:
    """The contract tables after validation and cleaning (participation optional).

    Frames (one row per contract row that was kept; ``row`` is its 1-based row in the file):

    - ``persons``: person_id (str), sex (category M/F), birth_date (datetime64),
      migration_background, education (category, 'unknown' when absent), status_holder (bool/NA).
    - ``households``: person_id, start, end (NaT = open), position (category).
    - ``benefits``: person_id, benefit (category), start, end.
    - ``jobs``: person_id, start, end, sector, contract (category, NA allowed),
      hours_per_week, monthly_wage (float, NA allowed).
    - ``programmes``: person_id, programme (str), start, end.
    - ``participation`` (issue 16b): person_id, start, end, activity (category); ``None`` when the
      input folder has no participation table (then no participation output is made), an empty frame
      when the file is there but holds no rows. Same-activity spells are merged where they overlap or
      touch; spells of different activities may overlap.

    Spell frames are sorted by person_id and start. ``window_start``/``window_end`` are resolved
    (from study.toml, else the earliest and latest dates in the data). ``log`` is the cleaning log:
    table, file, outcome (kept/merged/rejected), reason, rows.
    """

    persons: pd.DataFrame
    households: pd.DataFrame
    benefits: pd.DataFrame
    jobs: pd.DataFrame
    programmes: pd.DataFrame
    participation: pd.DataFrame | None = None
    study: StudySettings = field(default_factory=StudySettings)
    log: pd.DataFrame = field(default_factory=pd.DataFrame)
    sources: dict[str, Path] = field(default_factory=dict)
    window_start: pd.Timestamp | None = None
    window_end: pd.Timestamp | None = None

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)
