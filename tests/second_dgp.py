"""A second, independent register simulator for the tests (issue 18, item 4).

Deliberately unlike the package's own simulator (``reintegration_effects.simulate``), so that the
estimators are not validated on one world only:

- **Take-up by thresholds**, not smooth scores: ``mentoring`` is four times as likely for
  someone with at least 6 employed month ends in the last 36 and 0.3 times for someone on
  bijstand 18 months or more; ``vocational_course`` 3.5 times from 18 months on bijstand, more for
  men and the low-educated; ``social_activation`` six times for the long-term (18+ months)
  without any recent work. Take-up depends only on what the package sees at time zero (the
  risk-set covariates), so selection on observables holds exactly.
- **Threshold effects that differ by sex**: the programmes multiply the monthly odds of leaving
  bijstand for work by a step function of the months since the start: mentoring 0.6 in months
  1-3 (lock-in), then 2.2 for women and 1.2 for men in months 4-12, nothing after; the vocational
  course 0.4 in months 1-6, then 2.0 in months 7-18 for men without high education and nothing
  for anyone else; social activation has **no effect** at all.
- Monthly states at month ends (bijstand, bijstand with work, work, WW, other) with an
  unobserved frailty (the same for a person's whole life) that drives exits but not take-up,
  exits falling with log elapsed duration, re-entry after job loss, a 60-month window after a
  36-month history.

**The estimand** is that of ``estimate_effects`` (``methods.estimand``, Sianesi 2004): for each
usable start (programme P started by person i in month t0 of a bijstand spell without an earlier
start in it, with 18 months of follow-up in the window), the outcome of starting P in t0 against
*not starting in t0 and possibly starting later*. The simulator draws, for every such starter,
a second path from the state at the end of t0 (the same person, frailty and history) in which
nobody starts in t0 but the take-up rule runs as usual from t0 + 1 on (any programme, the same
spell or a later one); an earlier programme whose effect is still running keeps running. The
truth of a programme x group x outcome is the mean over its starters of actual minus
counterfactual outcome (the sample ATT, as ``simulate.tables.compute_truth`` computes the
package's own truth). Groups are those of the risk sets at time zero: sex, age band (age in
whole years on the month end from the birth date), migration background, household position,
education.

Deterministic given ``seed``; about 2 s for 6,000 persons. :func:`load_second_dgp` writes the
five contract tables and ``study.toml`` into a folder and reads them back through the package's
own ``load_input`` (validation included), like user data.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from reintegration_effects import contract as C

PROGRAMMES = ("mentoring", "vocational_course", "social_activation")
OUTCOMES = ("employed_12m", "off_bijstand_12m", "off_bijstand_6_18m", "months_bijstand_18m")
ZERO_EFFECT = "social_activation"
HISTORY = 36  # months before the window (the package's panel history)
WINDOW = 60  # window months: 2016-01 to 2020-12
FOLLOW_UP = 18
GRID_START = np.datetime64("2013-01", "M")  # month 0 of the simulation = first history month
WINDOW_START, WINDOW_END = "2016-01-01", "2020-12-31"
T = HISTORY + WINDOW
B, BW, W, WW, OTH = 0, 1, 2, 3, 4  # month-end states; B and BW are on bijstand, BW and W employed
EDU = np.asarray(C.EDUCATION, dtype=object)  # low, medium, high, unknown
MIG = np.asarray(C.MIGRATION, dtype=object)
HH = np.asarray(C.HOUSEHOLD_POSITIONS, dtype=object)


# ------------------------------------------------------------------------------------------------
# the rules
# ------------------------------------------------------------------------------------------------

def take_up_hazards(spell_month, hist_employed, female, edu) -> np.ndarray:
    """Monthly probability of starting each programme (columns in PROGRAMMES order).

    Thresholds on the package's own covariates: ``spell_month`` (months since the spell began),
    ``hist_employed`` (employed month ends among the 36 before), sex and education.
    """
    long_term = spell_month >= 18
    recent_work = hist_employed >= 6
    ment = 0.012 * np.where(recent_work, 4.0, 1.0) * np.where(long_term, 0.3, 1.0)
    voc = 0.008 * np.where(long_term, 3.5, 1.0) * np.where(edu == 0, 1.6, 1.0) * np.where(female, 1.0, 1.4)
    soc = 0.005 * np.where(long_term & (hist_employed == 0), 6.0, 1.0)
    return np.column_stack([ment, voc, soc])


def effect_log_odds(prog, k, female, edu) -> np.ndarray:
    """Log odds multiplier of leaving bijstand for work, k months after starting programme ``prog``
    (-1: none). Step functions of k, differing by sex (mentoring) or sex and education (course)."""
    out = np.zeros(len(k))
    m = prog == 0
    out[m & (k >= 1) & (k <= 3)] = np.log(0.6)
    post = m & (k >= 4) & (k <= 12)
    out[post] = np.where(female[post], np.log(2.2), np.log(1.2))
    v = prog == 1
    out[v & (k >= 1) & (k <= 6)] = np.log(0.4)
    post = v & (k >= 7) & (k <= 18) & ~female & (edu != 2)
    out[post] = np.log(2.0)
    return out  # social_activation (prog == 2): no effect


class _Units:
    """Persons (or copies of starters for their counterfactual path) and their monthly states."""

    def __init__(self, state, female, edu, age0, z, spell_start, started, prog, prog_t0):
        self.state, self.female, self.edu, self.age0, self.z = state, female, edu, age0, z
        self.spell_start, self.started, self.prog, self.prog_t0 = spell_start, started, prog, prog_t0

    def hist_employed(self, idx, t):
        s = self.state[idx, max(t - HISTORY, 0):t]
        return ((s == BW) | (s == W)).sum(axis=1)

    def take_up(self, idx, t, u):
        """Programme starts in month t (window months only) among units idx; returns (units, programme)."""
        s = self.state[idx, t]
        elig = ((s == B) | (s == BW)) & ~self.started[idx]
        i = idx[elig]
        h = take_up_hazards(t - self.spell_start[i], self.hist_employed(i, t), self.female[i], self.edu[i])
        cum = np.cumsum(h, axis=1)
        uu = u[elig]
        j = (uu[:, None] >= cum).sum(axis=1)
        go = j < len(PROGRAMMES)
        return i[go], j[go]

    def advance(self, idx, t, u):
        """Month-end states at t + 1 of units idx from those at t (u: uniforms, len(idx) x 2)."""
        s = self.state[idx, t]
        nxt = s.copy()
        on = (s == B) | (s == BW)
        i = idx[on]
        sm = t - self.spell_start[i]
        age = (t - self.age0[i]) / 12.0
        edu = self.edu[i]
        lp = (-3.3 + 0.35 * (edu == 2) + 0.15 * (edu == 1) + 0.04 * self.hist_employed(i, t)
              - 0.45 * np.log1p(sm) + 0.25 * ~self.female[i] - 0.02 * (age - 40) + 0.5 * (s[on] == BW)
              + 0.7 * self.z[i] + effect_log_odds(self.prog[i], t + 1 - self.prog_t0[i], self.female[i], edu))
        p_work = 1.0 / (1.0 + np.exp(-lp))
        u0, u1 = u[on, 0], u[on, 1]
        new = np.where(s[on] == B, np.where(u1 < 0.04, BW, B), np.where(u1 < 0.12, B, BW))
        new = np.where(u0 < p_work + 0.006, OTH, new)
        new = np.where(u0 < p_work, W, new)
        nxt[on] = new
        for src, moves in ((W, ((0.015, B), (0.022, WW), (0.025, OTH))),
                           (WW, ((0.07, W), (0.10, B), (0.11, OTH))),
                           (OTH, ((0.02, B), (0.032, W)))):
            m = s == src
            u0 = u[m, 0]
            res = s[m].copy()
            for cut, dest in reversed(moves):
                res = np.where(u0 < cut, dest, res)
            nxt[m] = res
        self.state[idx, t + 1] = nxt
        # a new bijstand spell: elapsed duration from 0, no programme started in it yet
        entered = ((nxt == B) | (nxt == BW)) & ~((s == B) | (s == BW))
        self.spell_start[idx[entered]] = t + 1
        self.started[idx[entered]] = False


# ------------------------------------------------------------------------------------------------
# simulation and truth
# ------------------------------------------------------------------------------------------------

def simulate(n_persons: int = 6000, seed: int = 1):
    """Simulate; returns (tables: dict of contract DataFrames, truth: DataFrame, individual: DataFrame).

    ``truth``: programme, group, outcome, truth (sample ATT of the starters), n_treated.
    ``individual``: one row per usable start with actual and counterfactual outcomes.
    """
    rng_pop, rng_main, rng_cf, rng_dates = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    n = n_persons
    female = rng_pop.random(n) < 0.5
    edu = rng_pop.choice(4, n, p=[0.45, 0.33, 0.17, 0.05])
    mig = rng_pop.choice(4, n, p=[0.45, 0.15, 0.35, 0.05])
    hh = rng_pop.choice(len(HH), n, p=[0.45, 0.2, 0.1, 0.15, 0.05, 0.05])
    holder = rng_pop.random(n) < 0.06
    age_at_window = rng_pop.uniform(19, 62, n)
    age0 = np.round(HISTORY - age_at_window * 12).astype(np.int64)  # birth month (simulation months)
    z = rng_pop.standard_normal(n)
    init = rng_pop.choice(5, n, p=[0.6, 0.05, 0.22, 0.03, 0.1])
    since = np.minimum(rng_pop.geometric(1 / 30, n) - 1, 200)  # months the initial state has lasted
    state = np.full((n, T), -1, dtype=np.int8)
    state[:, 0] = init
    on0 = init <= BW
    u = _Units(state, female, edu, age0, z, spell_start=np.where(on0, -since, 0), started=np.zeros(n, bool),
               prog=np.full(n, -1), prog_t0=np.full(n, -10_000))
    everyone = np.arange(n)
    events = []  # (person, t0, programme, previous programme, its start)
    for t in range(T - 1):
        draws = rng_main.random((n, 3))
        if t >= HISTORY:
            i, j = u.take_up(everyone, t, draws[:, 2])
            events.append(np.column_stack([i, np.full(len(i), t), j, u.prog[i], u.prog_t0[i], u.spell_start[i]]))
            u.started[i], u.prog[i], u.prog_t0[i] = True, j, t
        u.advance(everyone, t, draws[:, :2])
    ev = np.concatenate(events) if events else np.zeros((0, 6), dtype=np.int64)
    usable = ev[:, 1] + FOLLOW_UP <= T - 1
    pid, t0, prog, prev_prog, prev_t0, spell_start = ev[usable].T

    # counterfactual paths: the same person from the end of t0, not starting in t0
    cf = _Units(state[pid].copy(), female[pid], edu[pid], age0[pid], z[pid], spell_start=spell_start.copy(),
                started=np.zeros(len(pid), bool), prog=prev_prog.copy(), prog_t0=prev_t0.copy())
    for t in range(int(t0.min(initial=T)), T - 1):
        act = np.flatnonzero((t0 <= t) & (t < t0 + FOLLOW_UP))
        if len(act) == 0:
            continue
        draws = rng_cf.random((len(act), 3))
        later = act[t0[act] < t]
        if len(later):
            i, j = cf.take_up(later, t, draws[t0[act] < t, 2])
            cf.started[i], cf.prog[i], cf.prog_t0[i] = True, j, t
        cf.advance(act, t, draws[:, :2])

    tables = _tables(state, female, edu, mig, hh, holder, age0, ev[:, 0], ev[:, 1], ev[:, 2], since, init, rng_dates)
    k = np.arange(FOLLOW_UP + 1)
    rows = np.arange(len(pid))[:, None]
    ya = _outcomes(state[pid[:, None], t0[:, None] + k])
    yc = _outcomes(cf.state[rows, t0[:, None] + k])
    birth = pd.to_datetime(tables["persons"]["birth_date"]).to_numpy()[pid]
    month_end = ((GRID_START + t0 + 1).astype("datetime64[D]") - np.timedelta64(1, "D")).astype("datetime64[ns]")
    age = np.floor((month_end - birth) / np.timedelta64(1, "D") / 365.25)
    ind = pd.DataFrame({"person_id": tables["persons"]["person_id"].to_numpy()[pid],
                        "programme": np.asarray(PROGRAMMES, dtype=object)[prog], "month": month_end,
                        "sex": np.where(female[pid], "F", "M"), "age_band": C.age_band(age),
                        "migration_background": MIG[mig[pid]], "household": HH[hh[pid]], "education": EDU[edu[pid]]})
    for o in OUTCOMES:
        ind[f"{o}_actual"], ind[f"{o}_counterfactual"] = ya[o], yc[o]
        ind[f"{o}_effect"] = ya[o] - yc[o]
    return tables, _truth(ind), ind


def _outcomes(s: np.ndarray) -> dict:
    on = (s == B) | (s == BW)
    emp = (s == BW) | (s == W)
    return {"employed_12m": emp[:, 12].astype(float), "off_bijstand_12m": (~on[:, 12]).astype(float),
            "off_bijstand_6_18m": (~on[:, 6:FOLLOW_UP + 1].any(axis=1)).astype(float),
            "months_bijstand_18m": on[:, 1:FOLLOW_UP + 1].sum(axis=1).astype(float)}


def _truth(ind: pd.DataFrame) -> pd.DataFrame:
    groups = [("all", None, None)] + [(C.group_label(dim, v), col, v) for dim, (col, vals) in
                                      C.GROUP_DIMENSIONS.items() for v in vals]
    rows = []
    for prog in PROGRAMMES:
        sub = ind[ind["programme"] == prog]
        for label, col, v in groups:
            g = sub if col is None else sub[sub[col].astype(str) == v]
            if len(g) == 0:
                continue
            for o in OUTCOMES:
                rows.append(dict(programme=prog, group=label, outcome=o, truth=float(g[f"{o}_effect"].mean()),
                                 n_treated=len(g)))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# contract tables
# ------------------------------------------------------------------------------------------------

def _first_day(m) -> np.ndarray:
    return (GRID_START + np.asarray(m, dtype=np.int64)).astype("datetime64[D]")


def _runs(mask: np.ndarray):
    """Runs of True along months: (row, first month, last month)."""
    m = mask.astype(np.int8)
    d = np.diff(np.pad(m, ((0, 0), (1, 1))), axis=1)
    r1, a = np.nonzero(d == 1)
    r2, b = np.nonzero(d == -1)
    assert np.array_equal(r1, r2)
    return r1, a, b - 1


def _spells(mask, ids, rng, before=None, **extra) -> pd.DataFrame:
    """Spell rows covering exactly the month ends of each run: start on day 15-28 of the first
    month, end on day 1-14 of the month after the last (open when that is past the grid);
    ``before`` gives runs at month 0 an earlier first month (their history)."""
    r, a, b = _runs(mask)
    if before is not None:
        a = np.where(a == 0, -before[r], a)
    start = _first_day(a) + rng.integers(14, 28, len(r)).astype("timedelta64[D]")
    end = np.where(b >= T - 1, np.datetime64("NaT"),
                   _first_day(np.minimum(b + 1, T - 1)) + rng.integers(0, 14, len(r)).astype("timedelta64[D]"))
    df = pd.DataFrame({"person_id": ids[r], **extra, "start": start.astype("datetime64[ns]"),
                       "end": end.astype("datetime64[D]").astype("datetime64[ns]")})
    return df


def _tables(state, female, edu, mig, hh, holder, age0, pid, t0, prog, since, init, rng) -> dict:
    n = len(female)
    ids = np.array([f"Q{i + 1:06d}" for i in range(n)], dtype=object)
    birth = _first_day(age0) + rng.integers(0, 28, n).astype("timedelta64[D]")
    persons = pd.DataFrame({"person_id": ids, "sex": np.where(female, "F", "M"),
                            "birth_date": birth.astype("datetime64[ns]"), "migration_background": MIG[mig],
                            "education": EDU[edu], "status_holder": holder})
    households = pd.DataFrame({"person_id": ids, "start": pd.Timestamp("2010-01-01"), "end": pd.NaT,
                               "position": HH[hh]})
    on = (state == B) | (state == BW)
    emp = (state == BW) | (state == W)
    bij = _spells(on, ids, rng, before=np.where(init <= BW, since, 0), benefit="bijstand")
    ww = _spells(state == WW, ids, rng, before=np.where(init == WW, since, 0), benefit="ww")
    benefits = pd.concat([bij, ww], ignore_index=True).sort_values(["person_id", "start"], kind="mergesort")
    jobs = _spells(emp, ids, rng, before=np.where((init == W) | (init == BW), since, 0))
    jobs["sector"] = "N"
    jobs["contract"] = "fixed_term"
    jobs["hours_per_week"] = 24.0
    jobs["monthly_wage"] = 1600.0
    all_ev = np.argsort(pid, kind="mergesort")
    start = _first_day(t0) + np.timedelta64(27, "D")  # day 28: after the spell's start in that month
    programmes = pd.DataFrame({"person_id": ids[pid], "programme": np.asarray(PROGRAMMES, dtype=object)[prog],
                               "start": start.astype("datetime64[ns]"),
                               "end": (_first_day(t0 + 6) + np.timedelta64(20, "D")).astype("datetime64[ns]")})
    return {"persons": persons, "households": households, "benefits": benefits.reset_index(drop=True),
            "jobs": jobs, "programmes": programmes.iloc[all_ev].reset_index(drop=True)}


def load_second_dgp(n_persons: int = 6000, seed: int = 1, folder: str | Path | None = None):
    """Simulate, write an input folder (Parquet + study.toml), read it with the package's
    ``load_input``. Returns (InputData, truth, individual)."""
    from reintegration_effects.validate import load_input

    tables, truth, ind = simulate(n_persons, seed)
    tmp = tempfile.TemporaryDirectory(prefix="second_dgp_") if folder is None else None
    path = Path(tmp.name if tmp is not None else folder)
    path.mkdir(parents=True, exist_ok=True)
    try:
        for name, df in tables.items():
            df.to_parquet(path / f"{name}.parquet", index=False)
        (path / "study.toml").write_text(f'municipality = "Tweedestad"\nwindow_start = "{WINDOW_START}"\n'
                                         f'window_end = "{WINDOW_END}"\n')
        data = load_input(path)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return data, truth, ind
