"""Re-entry: the re-entry table, its Kaplan-Meier curves and the re-entry hazard model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..contract import CONTRACTS
from ..errors import InsufficientDataError
from ..panel import Panel, covered_months, month_number
from .cox import CoxModel
from .discrete import DiscreteTimeModel, expand_person_periods
from .exits import choose_engine, covariate_columns, drop_degenerate, level_dummies
from .grouped import Cells
from .nonparametric import kaplan_meier
from .results import HazardResults
from .settings import LIFELINES_MAX_ROWS, REFERENCE, SPELL_GROUPS
from .spells import age_band_or_unknown, age_years, bijstand_rows, group_specs, spell_attributes, spells_by_id
from .terms import Terms, binary_term_counts

REENTRY_GROUPS = {"destination": "destination", "contract": "contract", **SPELL_GROUPS}


def _hours_band(h) -> np.ndarray:
    h = pd.to_numeric(pd.Series(h), errors="coerce").to_numpy(float)
    return np.where(np.isnan(h), "unknown", np.where(h < 12, "<12", np.where(h < 24, "12-23", "24+")))


def reentry_table(panel: Panel, data=None) -> pd.DataFrame:
    """One row per exit from bijstand observed in the window: time from leaving to coming back.

    Clock: months from the spell's last month on bijstand; re-entry at month ``months_to_reentry``
    (the next bijstand spell's first month), censored at the window end (``duration`` = months to the
    window's last month end). Columns: spell_id, person_id, exit_month (first month end off
    bijstand), duration, event (re-entry observed in the window), destination (werk / ww / overig),
    contract, job_hours (band <12 / 12-23 / 24+ / unknown), hours_per_week, monthly_wage, sector
    (the first job after exit: the job covering the exit month end with the most hours; contract
    'none' for exits not to work, 'unknown' when the job has no contract type), spell_duration
    (months on bijstand before the exit), sex, age_band (at exit), migration_background,
    education, household (at the last month on bijstand).
    """
    sp = spells_by_id(panel)
    rows = bijstand_rows(panel)
    att = spell_attributes(panel, rows)
    grid = panel.grid
    ok = (sp["covers_month_end"].fillna(False).to_numpy(bool) & sp["in_window"].fillna(False).to_numpy(bool)
          & ~sp["right_censored"].to_numpy(bool) & sp["last_month"].notna().to_numpy()
          & sp["exit_destination"].notna().to_numpy())
    s = sp.loc[ok].copy()
    a = att.loc[ok]
    last_abs = month_number(s["last_month"])
    exit_abs = last_abs + 1
    gap = pd.to_numeric(s["months_to_reentry"], errors="coerce").to_numpy(float)
    horizon = grid.last_window_month - last_abs
    event = ~np.isnan(gap) & (gap <= horizon) & (gap >= 1)
    duration = np.where(event, gap, horizon).astype(np.int64)
    out = pd.DataFrame({
        "spell_id": s["spell_id"].to_numpy(), "person_id": s["person_id"].astype(str).to_numpy(),
        "exit_month": pd.DatetimeIndex(s["last_month"]) + pd.offsets.MonthEnd(1),
        "duration": duration, "event": event,
        "destination": s["exit_destination"].astype(str).to_numpy(),
        "spell_duration": s["duration_months"].to_numpy(np.int64),
    })
    out = out[out["duration"] >= 1].reset_index(drop=True)
    keep_idx = np.flatnonzero(np.isin(s["spell_id"].to_numpy(), out["spell_id"].to_numpy()))
    a = a.iloc[keep_idx]
    exit_abs = exit_abs[keep_idx]
    # first job after exit: covers the exit month end; most hours, then earliest start
    out["contract"] = np.where(out["destination"] == "werk", "unknown", "none")
    out["hours_per_week"] = np.nan
    out["monthly_wage"] = np.nan
    out["sector"] = None
    jobs = getattr(data, "jobs", None) if data is not None else None
    if jobs is not None and len(jobs) and len(out):
        # candidate jobs per exit: integer person codes and only the columns that rank them (a merge
        # of every job column on string ids took most of this table's memory)
        jf, jl = covered_months(jobs["start"], jobs["end"])
        who = pd.Index(pd.unique(out["person_id"].to_numpy()))
        jcode = who.get_indexer(jobs["person_id"].astype(str).to_numpy())
        jrow = np.flatnonzero(jcode >= 0)
        hours = (pd.to_numeric(jobs["hours_per_week"], errors="coerce").fillna(-1).to_numpy()
                 if "hours_per_week" in jobs else np.full(len(jobs), -1.0))
        q = pd.DataFrame({"i": np.arange(len(out)), "pc": who.get_indexer(out["person_id"].to_numpy()), "_m": exit_abs})
        jj = pd.DataFrame({"pc": jcode[jrow], "_f": jf[jrow], "_l": jl[jrow], "_h": hours[jrow],
                           "start": jobs["start"].to_numpy()[jrow], "jrow": jrow})
        m = q.merge(jj, on="pc", how="inner")
        m = m[(m["_f"] <= m["_m"]) & (m["_l"] >= m["_m"])]
        if len(m):
            m = m.sort_values(["i", "_h", "start"], ascending=[True, False, True], kind="mergesort")
            m = m.drop_duplicates("i")
            i = m["i"].to_numpy()
            werk = out["destination"].to_numpy()[i] == "werk"
            i = i[werk]
            r = m["jrow"].to_numpy()[werk]
            if "contract" in jobs:
                c = jobs["contract"].iloc[r]
                out.loc[i, "contract"] = c.astype(object).where(c.notna(), "unknown").astype(str).to_numpy()
            for c in ("hours_per_week", "monthly_wage"):
                if c in jobs:
                    out.loc[i, c] = pd.to_numeric(jobs[c].iloc[r], errors="coerce").to_numpy()
            if "sector" in jobs:
                out.loc[i, "sector"] = jobs["sector"].iloc[r].astype(object).to_numpy()
    out["job_hours"] = np.where(out["destination"] == "werk", _hours_band(out["hours_per_week"]), "none")
    persons = panel.persons.reset_index(drop=True)
    pc = a["person_code"].to_numpy()
    birth = persons["birth_date"].to_numpy()[np.clip(pc, 0, None)] if len(persons) else np.full(len(a), np.datetime64("NaT"))
    out["age_band"] = age_band_or_unknown(age_years(birth, out["exit_month"]))
    for c in ("sex", "migration_background", "education"):
        out[c] = a[c].to_numpy()
    # household at the spell's last observed month
    last_row = rows.first_row[out["spell_id"].to_numpy()] + rows.n_rows[out["spell_id"].to_numpy()] - 1
    hh = (panel.months["household"].iloc[rows.pos[np.clip(last_row, 0, None)]].astype(object).to_numpy()
          if len(rows.pos) else [])
    out["household"] = np.where((last_row >= 0) & ~pd.isna(hh), hh, "unknown").astype(str) if len(out) else []
    return out


def reentry_km(panel: Panel, data=None, *, by: str | Sequence[str] | None = None, alpha: float = 0.05,
               table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Kaplan-Meier time to re-entry by exit destination, first job's contract and group.

    ``by``: 'all', 'destination', 'contract' (exits to work only), sex, age, migration, household,
    education; default all of them. Columns: dimension, group (e.g. 'destination=werk',
    'contract=agency'), time (months since leaving), survival (not yet back), reentered (1 -
    survival), ci_lower, ci_upper (bands for ``reentered``), persons (at risk), events, censored.
    """
    r = reentry_table(panel, data) if table is None else table
    out = []
    for dim, label, m in group_specs(r, by, REENTRY_GROUPS):
        if dim == "contract":
            m = m & (r["destination"].to_numpy() == "werk")
        if not m.any():
            continue
        t = kaplan_meier(r["duration"].to_numpy()[m], r["event"].to_numpy()[m], alpha=alpha)
        t["reentered"] = 1 - t["survival"]
        t["ci_lower"], t["ci_upper"] = 1 - t["ci_upper"], 1 - t["ci_lower"]
        t.insert(0, "group", label)
        t.insert(0, "dimension", dim)
        out.append(t)
    cols = ["dimension", "group", "time", "survival", "reentered", "ci_lower", "ci_upper", "persons", "events", "censored"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


class ReentryModel:
    """Cox model of the hazard of returning to bijstand after an exit (model ``reentry``).

    ``ReentryModel(covariates=("sex", "age", "migration", "household", "education"),
    job_terms=True, engine="auto", baseline="interval", alpha=0.05,
    max_lifelines_rows=LIFELINES_MAX_ROWS)``; ``fit(panel, data)`` (``data`` supplies the jobs).

    Terms: exit=ww, exit=overig (reference: exit to work); for exits to work the first job's
    contract=fixed_term / agency / on_call / unknown (reference permanent) and job_hours=<12 /
    12-23 / unknown (reference 24+) (zero for exits not to work, so these compare jobs among work
    exits); spell_duration=12-35 / 36+ months on bijstand before the exit (reference <12); sex, age
    band at exit, migration background, household, education. Clock: months since leaving.
    Engines: lifelines ``CoxPHFitter`` (Efron) or the discrete cloglog model on person-months.
    """

    def __init__(self, *, covariates: Sequence[str] = ("sex", "age", "migration", "household", "education"),
                 job_terms: bool = True, engine: str = "auto", baseline: str | Sequence[float] = "interval",
                 alpha: float = 0.05, max_lifelines_rows: int = LIFELINES_MAX_ROWS):
        self.covariates = covariates
        self.job_terms = job_terms
        self.engine = engine
        self.baseline = baseline
        self.alpha = alpha
        self.max_lifelines_rows = max_lifelines_rows

    name = "reentry"

    def design(self, panel: Panel, data=None) -> pd.DataFrame:
        """reentry_table columns spell_id, duration, event plus the model's 0/1 terms."""
        r = reentry_table(panel, data)
        return self._design(r)

    def _design(self, r: pd.DataFrame) -> pd.DataFrame:
        cols = level_dummies(r["destination"].to_numpy(), "exit", ("werk", "ww", "overig"), REFERENCE["exit"])
        if self.job_terms:
            werk = r["destination"].to_numpy() == "werk"
            cols.update({k: v * werk for k, v in level_dummies(np.where(werk, r["contract"], REFERENCE["contract"]),
                                                           "contract", (*CONTRACTS, "unknown"),
                                                           REFERENCE["contract"]).items()})
            cols.update({k: v * werk for k, v in level_dummies(np.where(werk, r["job_hours"], REFERENCE["job_hours"]),
                                                           "job_hours", ("<12", "12-23", "24+", "unknown"),
                                                           REFERENCE["job_hours"]).items()})
        sd = np.where(r["spell_duration"] < 12, "<12", np.where(r["spell_duration"] < 36, "12-35", "36+"))
        cols.update(level_dummies(sd, "spell_duration", ("<12", "12-35", "36+"), REFERENCE["spell_duration"]))
        cols.update(covariate_columns(r, [c for c in self.covariates if c != "history"]))
        X = pd.DataFrame(cols, index=r.index)
        return pd.concat([r[["spell_id", "person_id", "duration", "event"]], X], axis=1)

    def fit(self, panel: Panel, data=None) -> HazardResults:
        return self._fit_table(reentry_table(panel, data))

    def _fit_table(self, r: pd.DataFrame) -> HazardResults:
        """Fit on :func:`reentry_table` output (built once in :func:`survival_tables`)."""
        if r["event"].sum() == 0:
            raise ValueError("reentry: no re-entries into bijstand observed in the window; nothing to fit.")
        d = self._design(r)
        terms = [c for c in d.columns if c not in ("spell_id", "person_id", "duration", "event")]
        keep, notes = drop_degenerate(d[terms], d["event"].to_numpy(), what="reentry: ")
        if not keep:  # as in ExitToWorkModel
            raise InsufficientDataError(f"reentry: the re-entries leave no term that can be estimated (all "
                                        f"{len(notes)} dropped); nothing to fit.")
        engine = choose_engine(self.engine, int(d["duration"].sum()), self.max_lifelines_rows)
        if engine == "lifelines":
            res = CoxModel(alpha=self.alpha, name=self.name).fit(
                d[["duration", "event"] + keep].assign(event=d["event"].astype(int)),
                duration_col="duration", event_col="event", covariates=keep)
        else:
            model = DiscreteTimeModel(link="cloglog", baseline=self.baseline, alpha=self.alpha, name=self.name)
            term_counts = binary_term_counts(d[keep], d["event"].to_numpy())
            cells = Cells.from_durations(Terms.from_frame(d, keep), d["duration"].to_numpy(), d["event"].to_numpy(),
                                          baseline=self.baseline)
            if cells is not None:  # the person-months' cells, without expanding to person-months
                res = model._fit_cells(cells, "event", keep, term_counts=term_counts, n_units=len(d))
            else:
                pp = expand_person_periods(d[["spell_id", "duration", "event"] + keep], duration_col="duration",
                                           event_col="event")
                res = model.fit(pp, time_col="time", event_col="event", covariates=keep, term_counts=term_counts,
                                n_units=len(d))
        res.notes = notes
        res.model = self
        return res
