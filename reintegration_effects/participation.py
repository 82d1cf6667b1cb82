"""Participation beyond paid work (issue 16b): the monitor table and the effect outcomes.

Read only when the input has a ``participation`` table (:attr:`InputData.participation` is not
None); without it nothing here runs and no output changes.

Definitions (the package's date rules, so participation sits next to the flows it is shown with):

- **Participating on a date**: a participation spell (any activity, or the named one) covers the
  date (start <= date <= end, an empty end = still running). Several activities at once count
  once for ``any``; same-activity spells were merged by ``validate``.
- **Monitor** (:func:`participation_table`, ``participation.csv``): for every *stock* cohort of the
  flows (``stock_YYYY-MM-DD``: everyone on bijstand on that date; the cohorts, horizons and groups
  of :func:`reintegration_effects.flows.build_cohorts`, reused as they are) and every horizon that
  fits it, the persons participating on the exact date ``time zero + h months`` (the date the flows
  read the status on), for any activity and per activity, by group at time zero (the flows'
  dimensions) and by the status on that same date (``dimension = status``: participation of those
  still on bijstand, in work, ...). The denominator is the whole stock cohort (or group), whatever
  happened to them: the share of the stock participating. Outflow cohorts are left out: they left
  the bijstand the municipality registers participation for.
- **Outcomes** (:func:`participation_outcomes`): ``participating_18m`` / ``volunteering_18m`` = a
  spell (any activity / volunteering) covers the month end 18 months after time zero (the
  panel's month-end rule, as the other outcomes of ``effects.build_risk_sets``).

The panel is not changed: participation is read from the validated table on every run, so a
cached panel (whose key does not include participation) can never hold stale participation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .contract import (
    PARTICIPATION_ACTIVITIES,
    PARTICIPATION_ANY,
    PARTICIPATION_COLUMNS,
    PARTICIPATION_OUTCOMES,
    STATUS_ORDER,
    group_label,
)
from .dataset import InputData
from .flows import GROUPS, CohortSet, flows, group_codes, status_column
from .panel import Panel, covered_months, person_codes, spells_cover

__all__ = [
    "ACTIVITY_ROWS",
    "STATUS_DIMENSION",
    "has_participation",
    "participation_months",
    "participation_on",
    "participation_outcomes",
    "participation_table",
]

#: The ``activity`` values of the monitor table, in table order.
ACTIVITY_ROWS = (PARTICIPATION_ANY, *PARTICIPATION_ACTIVITIES)
#: The breakdown by the status on the same date (after the flows' group dimensions).
STATUS_DIMENSION = "status"
PARTICIPATING = ("yes", "no")


def has_participation(data: InputData) -> bool:
    """True when the input folder had a participation table (possibly without rows)."""
    return getattr(data, "participation", None) is not None


def _spells(participation: pd.DataFrame, activity: str | None) -> pd.DataFrame:
    if activity is None or activity == PARTICIPATION_ANY:
        return participation
    if activity not in PARTICIPATION_ACTIVITIES:
        raise ValueError(f"unknown participation activity {activity!r}; expected one of {ACTIVITY_ROWS}")
    return participation[participation["activity"].astype(str) == activity]


def participation_on(participation: pd.DataFrame, person_ids, dates, activity: str | None = None) -> np.ndarray:
    """Bool array: a spell of ``activity`` (None or 'any': any activity) covers the person on the exact date."""
    return spells_cover(_spells(participation, activity), person_ids, dates)


def participation_months(panel: Panel, participation: pd.DataFrame, activity: str | None = None) -> np.ndarray:
    """(persons x window months) bool array: a spell of ``activity`` covers the month end.

    Rows in ``panel.persons`` order, columns the panel's window months (the month-end rule of
    :func:`reintegration_effects.panel.covered_months`); vectorised with a difference array.
    """
    n, t = len(panel.persons), panel.grid.n_window
    spells = _spells(participation, activity)
    if len(spells) == 0 or n == 0:
        return np.zeros((n, t), dtype=bool)
    p = person_codes(spells["person_id"], panel.persons)
    first, last = covered_months(spells["start"], spells["end"])
    f = np.clip(first - panel.grid.first_window_month, 0, None)
    last_rel = np.minimum(last - panel.grid.first_window_month, t - 1)
    keep = (last_rel >= f) & (f <= t - 1)
    p, f, last_rel = p[keep], f[keep], last_rel[keep]
    width = t + 1
    diff = np.bincount(p * width + f, minlength=n * width) - np.bincount(p * width + last_rel + 1, minlength=n * width)
    return np.cumsum(diff.reshape(n, width)[:, :t], axis=1) > 0


def participation_outcomes(panel: Panel, participation: pd.DataFrame, p_idx: np.ndarray,
                           month_idx: np.ndarray) -> dict[str, np.ndarray]:
    """The outcomes :data:`~reintegration_effects.contract.PARTICIPATION_OUTCOMES` (int8 0/1) of rows
    (person index ``p_idx`` in ``panel.persons``, window month index ``month_idx`` of the month end
    to read: time zero + 18 for the 18-month outcomes)."""
    any_m = participation_months(panel, participation)
    vol_m = participation_months(panel, participation, "volunteering")
    out = {"participating_18m": any_m[p_idx, month_idx].astype(np.int8),
           "volunteering_18m": vol_m[p_idx, month_idx].astype(np.int8)}
    assert tuple(out) == PARTICIPATION_OUTCOMES
    return out


def participation_table(cs: CohortSet, data: InputData) -> pd.DataFrame:
    """Participation of the stock cohorts at each horizon: the ``participation.csv`` table (exact counts).

    Columns (:data:`~reintegration_effects.contract.PARTICIPATION_COLUMNS`): ``cohort`` (stock cohorts
    of ``cs``), ``horizon_months`` (the horizons that fit the cohort), ``activity`` (``any`` and every
    activity), ``dimension`` (``all``, the dimensions of ``cs.groups``, then ``status``), ``group``
    (``all``; contract labels such as ``sex=F``, every value of the dimension; ``status=werk`` etc.:
    the status on the same date), ``participating`` (``yes``/``no``), ``persons`` (int64, zeros
    included). Within a cohort, horizon, activity and dimension the persons add up to the cohort
    size; yes + no of a group is the group's size. Empty (with these columns) when there is no stock
    cohort or no participation table.
    """
    empty = pd.DataFrame({c: pd.Series(dtype="int64" if c in ("persons", "horizon_months") else object)
                          for c in PARTICIPATION_COLUMNS})
    if not has_participation(data):
        return empty
    m = cs.members
    stock = [c for c in cs.cohorts if c.kind == "stock" and c.horizons]
    pieces = []
    dims = ("all", *cs.groups, STATUS_DIMENSION)
    for c in stock:
        mc = m[m["cohort"].astype(str) == c.name].reset_index(drop=True)
        for h in c.horizons:
            dates = mc["time_zero"] + pd.DateOffset(months=int(h))
            status = mc[status_column(h)]
            for act in ACTIVITY_ROWS:
                yes = participation_on(data.participation, mc["person_id"].to_numpy(), dates, act)
                for d in dims:
                    if d == "all":
                        values, codes = ("all",), np.zeros(len(mc), dtype=np.int64)
                        labels = ["all"]
                    elif d == STATUS_DIMENSION:
                        values = STATUS_ORDER
                        codes = group_codes(status, tuple(values))
                        labels = [group_label(d, v) for v in values]
                    else:
                        col, values = GROUPS[d]
                        codes = group_codes(mc[col], tuple(values))
                        labels = [group_label(d, v) for v in values]
                    ok = codes >= 0
                    k = len(values)
                    counts = np.bincount(codes[ok] * 2 + (~yes[ok]).astype(np.int64), minlength=2 * k)
                    pieces.append(pd.DataFrame({
                        "cohort": c.name, "horizon_months": int(h), "activity": act, "dimension": d,
                        "group": np.repeat(labels, 2), "participating": np.tile(PARTICIPATING, k),
                        "persons": counts.astype(np.int64)}))
    if not pieces:
        return empty
    out = pd.concat(pieces, ignore_index=True)
    out["horizon_months"] = out["horizon_months"].astype(np.int64)
    out = out[list(PARTICIPATION_COLUMNS)]
    out.attrs["flows"] = flows(cs)  # the disclosure plan hides the status rows flows.csv hides
    return out
