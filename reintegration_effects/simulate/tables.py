"""From the simulated months to the contract tables (spells) and the true programme effects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import contract as C
from .params import (
    ALL_OUTCOMES,
    BMW,
    FOLLOW_UP,
    MIGRATION_LABELS,
    NEWJOB,
    PROGRAMMES,
    SIM_MIGRATION,
    WW,
    B,
    Calendar,
    W,
    dimension_values,
    hash_uniform,
    output_value,
)

#: Input-table label of each simulated migration category (``Persons.mig`` indexes it).
_MIGRATION_OUT = np.asarray([MIGRATION_LABELS[k] for k in SIM_MIGRATION], dtype=object)

# ------------------------------------------------------------------------------------------------
# spells
# ------------------------------------------------------------------------------------------------


def _runs(mask_nt: np.ndarray, split_nt: np.ndarray | None = None):
    """Runs of True along time in a persons x months mask: (person, first, last), person-major.

    ``split_nt`` marks months where a new run begins even if the previous month was True.
    """
    n, T = mask_nt.shape
    m = mask_nt.astype(np.int8)
    prev = np.zeros_like(m)
    prev[:, 1:] = m[:, :-1]
    nxt = np.zeros_like(m)
    nxt[:, :-1] = m[:, 1:]
    begin = (m == 1) & (prev == 0)
    finish = (m == 1) & (nxt == 0)
    if split_nt is not None:
        begin |= (m == 1) & split_nt
        sp_next = np.zeros_like(split_nt)
        sp_next[:, :-1] = split_nt[:, 1:]
        finish |= (m == 1) & (nxt == 1) & sp_next
    pi, a = np.nonzero(begin)
    pj, b = np.nonzero(finish)
    if not np.array_equal(pi, pj):
        raise RuntimeError("internal error: run starts and ends do not pair up")
    return pi, a, b


def _ns(days) -> np.ndarray:
    """Day dates (datetime64[D], NaT allowed) as datetime64[ns], pandas' usual resolution."""
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[ns]")


class _Dates:
    def __init__(self, cal: Calendar, seed: int):
        self.cal, self.seed = cal, seed

    def change_day(self, person, m) -> np.ndarray:
        """Day (2..last) of month m on which a person's change of state takes effect."""
        L = self.cal.days_in_month(m)
        u = hash_uniform(self.seed, person, m, 1)
        return 2 + np.floor(u * (L - 1)).astype(np.int64)

    def start(self, person, m) -> np.ndarray:
        return self.cal.first_day(m) + (self.change_day(person, m) - 1).astype("timedelta64[D]")

    def end(self, person, b) -> np.ndarray:
        """End date of a run whose last month end is b (NaT when b is the last grid month)."""
        b = np.asarray(b, dtype=np.int64)
        last = b >= self.cal.T - 1
        bb = np.where(last, 0, b + 1)
        d = self.cal.first_day(bb) + (self.change_day(person, bb) - 2).astype("timedelta64[D]")
        return np.where(last, np.datetime64("NaT"), d).astype("datetime64[D]")


def build_tables(p, cal, pers, model, S, job, ev, pens_t, init_start):
    n, T = pers.n, cal.T
    dates = _Dates(cal, p.seed)
    ids = np.array([f"P{i + 1:07d}" for i in range(n)], dtype=object)
    st_nt = np.ascontiguousarray((S & 7).T)
    nj_nt = np.ascontiguousarray((S & NEWJOB).T) > 0
    del S

    def run_frame(pi, a, b, pre_state_match, **extra):
        a_month = np.where((a == 0) & pre_state_match[pi] & (init_start[pi] < 0), init_start[pi], a)
        out = {"person_id": ids[pi]}
        out.update(extra)
        out["start"] = _ns(dates.start(pi, a_month))
        out["end"] = _ns(dates.end(pi, b))
        return pd.DataFrame(out)

    init_state = pers.seg_state[np.arange(n), pers.nseg - 1]
    # persons
    birth = (np.datetime64("1970-01", "M") + (pers.b_abs - 1970 * 12)).astype("datetime64[D]") + (pers.bday - 1).astype(
        "timedelta64[D]")
    persons = pd.DataFrame({
        "person_id": ids,
        "sex": np.where(pers.female, "F", "M").astype(object),
        "birth_date": _ns(birth),
        "migration_background": _MIGRATION_OUT[pers.mig],
        "education": np.asarray(C.EDUCATION, dtype=object)[pers.edu],
        "status_holder": pers.sh.astype(bool),
    })
    # benefits: bijstand, ww, other (state pension)
    pi, a, b = _runs(st_nt <= BMW)
    bij = run_frame(pi, a, b, init_state == B, benefit="bijstand")
    bij_runs = (pi, a, b)
    pi, a, b = _runs(st_nt == WW)
    ww = run_frame(pi, a, b, init_state == WW, benefit="ww")
    has_p = np.flatnonzero(pens_t >= 0)
    other = pd.DataFrame({"person_id": ids[has_p], "benefit": "other",
                          "start": _ns(dates.start(has_p, pens_t[has_p])),
                          "end": np.full(len(has_p), np.datetime64("NaT"), dtype="datetime64[ns]")})
    benefits = pd.DataFrame({c: np.concatenate([f[c].to_numpy() for f in (bij, ww, other)])
                             for c in ("person_id", "benefit", "start", "end")})
    benefits = benefits.sort_values(["person_id", "start"], kind="mergesort").reset_index(drop=True)
    # jobs
    emp = (st_nt == W) | (st_nt == BMW)
    pi, a, b = _runs(emp, nj_nt)
    jb = run_frame(pi, a, b, init_state == W)
    order = np.lexsort((job["t"], job["idx"]))
    jidx, jt = job["idx"][order], job["t"][order]
    if not (np.array_equal(jidx, pi) and np.array_equal(jt, a)):
        raise RuntimeError("internal error: job attributes do not line up with job runs")
    jb["sector"] = np.asarray(C.SECTORS, dtype=object)[job["sector"][order]]
    jb["contract"] = np.asarray(C.CONTRACTS, dtype=object)[job["contract"][order]]
    jb["hours_per_week"] = job["hours"][order].astype(float)
    jb["monthly_wage"] = job["wage"][order].astype(float)
    jobs = jb[["person_id", "start", "end", "sector", "contract", "hours_per_week", "monthly_wage"]]
    # households: segment k runs from change k-1 (grid start for k = 0) to the day before change k
    hh_rows = []
    big = 10**6
    for k in range(4):
        start_m = np.zeros(n, dtype=np.int64) if k == 0 else pers.hh_chg[:, k - 1]
        next_m = pers.hh_chg[:, k] if k < 3 else np.full(n, big)
        i = np.flatnonzero(start_m < big)
        sm, nm = start_m[i], next_m[i]
        s_date = cal.first_day(sm) if k == 0 else dates.start(i, sm)
        e_date = dates.end(i, np.minimum(nm - 1, T - 1))
        hh_rows.append(pd.DataFrame({"person_id": ids[i], "start": _ns(s_date),
                                     "end": _ns(e_date),
                                     "position": np.asarray(C.HOUSEHOLD_POSITIONS, dtype=object)[pers.hh_pos[i, k]],
                                     "_k": k}))
    households = pd.concat(hh_rows, ignore_index=True).sort_values(["person_id", "_k"], kind="mergesort")
    households = households.drop(columns="_k").reset_index(drop=True)
    # programmes
    programmes, prog_start = _programme_spells(cal, dates, ids, ev, bij_runs)
    tables = {"persons": persons, "households": households, "benefits": benefits, "jobs": jobs,
              "programmes": programmes}
    return tables, st_nt, prog_start


def _programme_spells(cal, dates, ids, ev, bij_runs):
    pid, t0, months = ev["pid"].astype(np.int64), ev["t0"].astype(np.int64), ev["months"].astype(np.int64)
    if len(pid) == 0:
        empty = np.zeros(0, dtype="datetime64[ns]")
        return pd.DataFrame({"person_id": np.zeros(0, dtype=object), "programme": np.zeros(0, dtype=object),
                             "start": empty, "end": empty}), empty
    # bijstand run containing t0
    rp, ra, rb = bij_runs
    key_r = rp * 10**6 + ra
    j = np.searchsorted(key_r, pid * 10**6 + t0, side="right") - 1
    b_last, b_first = rb[j], ra[j]
    L = cal.days_in_month(t0)
    first_day_ok = np.where(b_first == t0, dates.change_day(pid, t0), 1)
    u = hash_uniform(dates.seed, pid, t0, 2)
    day = first_day_ok + np.floor(u * (L - first_day_ok + 1)).astype(np.int64)
    start = cal.first_day(t0) + (day - 1).astype("timedelta64[D]")
    pe = t0 + months  # the programme covers month ends t0..t0+months-1, ends in month t0+months
    planned = np.where(pe <= cal.T - 1,
                       cal.first_day(np.minimum(pe, cal.T - 1)) + (
                           dates.change_day(pid, np.minimum(pe, cal.T - 1)) - 2).astype("timedelta64[D]"),
                       np.datetime64("NaT"))
    b_end = dates.end(pid, b_last)
    end = np.where(b_last < pe, b_end, planned).astype("datetime64[D]")
    df = pd.DataFrame({"person_id": ids[pid], "programme": np.asarray(PROGRAMMES, dtype=object)[ev["prog"]],
                       "start": _ns(start), "end": _ns(end)})
    order = np.lexsort((t0, pid))
    return df.iloc[order].reset_index(drop=True), df["start"].to_numpy()


# ------------------------------------------------------------------------------------------------
# truth
# ------------------------------------------------------------------------------------------------


def _outcomes(states: np.ndarray) -> dict:
    """Outcomes from month-end states at t0..t0+18 (columns); -1 = outside the grid (NaN)."""
    valid = states >= 0
    on = states <= BMW
    emp = (states == W) | (states == BMW)
    out = {}
    ok12 = valid[:, 12]
    out["employed_12m"] = np.where(ok12, emp[:, 12], np.nan)
    out["off_bijstand_12m"] = np.where(ok12, ~on[:, 12], np.nan)
    ok18 = valid[:, FOLLOW_UP]
    out["off_bijstand_6_18m"] = np.where(ok18, ~on[:, 6:FOLLOW_UP + 1].any(axis=1), np.nan)
    out["months_bijstand_18m"] = np.where(ok18, on[:, 1:FOLLOW_UP + 1].sum(axis=1), np.nan)
    return out


def compute_truth(p, cal, pers, model, st_nt, ev, cs, tables, prog_start):
    n_ev = len(ev["pid"])
    pid = ev["pid"].astype(np.int64)
    t0 = ev["t0"].astype(np.int64)
    k = np.arange(FOLLOW_UP + 1)
    tt = t0[:, None] + k[None, :]
    inside = tt <= cal.T - 1
    act = np.where(inside, st_nt[pid[:, None], np.minimum(tt, cal.T - 1)], -1).astype(np.int8)
    cf = np.where(inside, cs[:n_ev], -1)
    ya, yc = _outcomes(act), _outcomes(cf)
    age_y = model.age_months(pid, t0) // 12
    hh = model.household(pid, t0)
    persons = tables["persons"]
    month_ends = cal.month_ends()
    df = pd.DataFrame({
        "person_id": persons["person_id"].to_numpy()[pid],
        "programme": np.asarray(PROGRAMMES, dtype=object)[ev["prog"].astype(np.int64)],
        "start": prog_start,
        "time_zero": month_ends[t0],
        "month_index": (t0 - cal.ws_m).astype(np.int64),
        "programme_months": ev["months"].astype(np.int64),
        "in_truth": t0 + FOLLOW_UP <= cal.T - 1,
    })
    for o in ALL_OUTCOMES:
        df[f"{o}_actual"] = ya[o]
        df[f"{o}_counterfactual"] = yc[o]
        df[f"{o}_effect"] = ya[o] - yc[o]
    df["sex"] = np.where(pers.female[pid], "F", "M")
    df["age"] = age_y
    df["age_band"] = C.age_band(age_y)
    df["migration_background"] = _MIGRATION_OUT[pers.mig[pid]]
    df["status_holder"] = pers.sh[pid]
    df["household"] = np.asarray(C.HOUSEHOLD_POSITIONS, dtype=object)[hh]
    df["education"] = np.asarray(C.EDUCATION, dtype=object)[pers.edu[pid]]
    df["spell_month"] = ev["spell_month"].astype(np.int64)
    df["hist_employed_36m"] = ev["emp36"].astype(np.int64)
    df["hist_bijstand_36m"] = ev["bij36"].astype(np.int64)
    df["hist_ww_36m"] = ev["ww36"].astype(np.int64)
    df["employed_before"] = ev["emp_before"].astype(bool)
    df["hr_lock_in"] = ev["hrl"]
    df["hr_post"] = ev["hrp"]
    df = df.sort_values(["person_id", "time_zero"], kind="mergesort").reset_index(drop=True)

    # ATT per programme x group x outcome
    rows = []
    used = df[df["in_truth"]]
    groups = [("all", None, None)] + [(C.group_label(dim, v), col, v) for dim, (col, vals) in
                                      C.GROUP_DIMENSIONS.items() for v in vals]
    for prog in PROGRAMMES:
        sub = used[used["programme"] == prog]
        for label, col, v in groups:
            g = sub if col is None else sub[sub[col].astype(str) == v]
            for o in ALL_OUTCOMES:
                est = float(g[f"{o}_effect"].mean()) if len(g) else np.nan
                rows.append(dict(programme=prog, group=label, outcome=o, method="truth", estimate=est,
                                 std_error=np.nan, ci_lower=np.nan, ci_upper=np.nan, n_treated=len(g),
                                 n_control=np.nan))
    effects = pd.DataFrame(rows, columns=list(C.EFFECTS_COLUMNS))

    # hazard ratios (the parameters)
    hr_rows = []
    for j, prog in enumerate(PROGRAMMES):
        if p.effects == "constant":
            labels = ["all"] + [lab for lab, _, _ in groups[1:]]
            for lab in labels:
                for phase in ("lock_in", "post"):
                    hr_rows.append((prog, lab, phase, float(model.hr_lock[j][0])))
        else:
            dim = model.hr_dim[j]
            values = ("all",) if dim is None else dimension_values(dim)
            for vi, v in enumerate(values):
                lab = "all" if dim is None else C.group_label(dim, output_value(dim, v))
                hr_rows.append((prog, lab, "lock_in", float(model.hr_lock[j][vi])))
                hr_rows.append((prog, lab, "post", float(model.hr_post[j][vi])))
    hrs = pd.DataFrame(hr_rows, columns=["programme", "group", "phase", "hazard_ratio"])
    return effects, hrs, df


# ------------------------------------------------------------------------------------------------
# the duration truth (issue 14a): clones and population run past the window end
# ------------------------------------------------------------------------------------------------

#: Outcomes of the true curves: on bijstand (with or without work) and in work without bijstand.
CURVE_OUTCOMES = ("on_bijstand", "work_off_bijstand")
#: Horizons (months) of the true restricted-mean effects ``rmst_bijstand_<L>m``.
RMST_HORIZONS = (12, 18, 36)


def cut_to_window(cal, model, S, job, ev, cs, pens_t):
    """The month loop's output on a calendar extended past the window end, cut back to the window.

    Returns what :func:`build_tables` and :func:`compute_truth` get without the extension (states
    of the window's months, jobs begun and programme starts in them, pensions in them, the clones'
    states of the first 18 months), plus the full states (months x persons) and the full clone
    states of the starts in the window, for :func:`compute_true_curves`. The uniforms of a month
    do not depend on later months, so the cut output equals that of a run that stops at the window.
    """
    T = cal.T
    in_win = ev["t0"] < T
    ev_w = {k: v[in_win] for k, v in ev.items()}
    cs_w = cs[:len(in_win)][in_win]
    keep_job = job["t"] < T
    job_w = {k: v[keep_job] for k, v in job.items()}
    pens_w = np.where(pens_t < T, pens_t, -1)
    if model.clone_starts:  # as a run stopping at the window records them: inside it, within 18 months
        t0_all = ev["t0"]
        kept = []
        for c_ev, c_t, c_prog, c_len in model.clone_starts:
            sel = (c_t < T) & (c_t - t0_all[c_ev] <= FOLLOW_UP)
            if sel.any():
                kept.append((c_ev[sel], c_t[sel], c_prog[sel], c_len[sel]))
        model.clone_starts = kept
    model.cal = cal
    return S[:T], job_w, ev_w, np.ascontiguousarray(cs_w[:, :FOLLOW_UP + 1]), pens_w, S, cs_w


def compute_true_curves(cal, S_full, ev, cs_full, indiv, months: int):
    """True effect curves and restricted-mean effects over ALL starts in the window.

    ``S_full``: month-end states (extended grid months x persons), ``cs_full``: the clones'
    states at t0..t0+months. For every start: actual minus counterfactual at month ends t0+1 ..
    t0+months of being on bijstand (with or without work) and of work without bijstand; averaged
    per programme and group ("all" and the contract group labels, at time zero as in
    ``individual_effects``). Returns (curves, rmst): curves with programme, group, outcome, month,
    method "truth", estimate, n_treated, n_observed (starts whose month t0+month lies inside the
    window, which the data show); rmst in the contract's effects layout, outcome
    ``rmst_bijstand_<L>m`` = the sum of the on-bijstand curve over months 1..L.
    """
    pid, t0 = ev["pid"].astype(np.int64), ev["t0"].astype(np.int64)
    order = np.lexsort((t0, pid))  # the order of individual_effects (person, time zero)
    pid, t0 = pid[order], t0[order]
    if not np.array_equal(cal.month_ends()[t0], pd.DatetimeIndex(indiv["time_zero"])):
        raise RuntimeError("internal error: true curves do not line up with individual_effects")
    k = np.arange(1, months + 1)
    tt = t0[:, None] + k[None, :]
    if tt.max(initial=0) >= S_full.shape[0]:
        raise RuntimeError("internal error: the extended grid is shorter than the truth's follow-up")
    act = S_full[tt, pid[:, None]] & 7
    cf = cs_full[order][:, 1:months + 1]
    if (cf < 0).any():
        raise RuntimeError("internal error: a clone stopped before the truth's follow-up")
    eff = {"on_bijstand": (act <= BMW).astype(np.int8) - (cf <= BMW),
           "work_off_bijstand": (act == W).astype(np.int8) - (cf == W)}
    observed = tt <= cal.T - 1
    groups = [("all", None, None)] + [(C.group_label(dim, v), col, v) for dim, (col, vals) in
                                      C.GROUP_DIMENSIONS.items() for v in vals]
    curves, rmst = [], []
    for prog in PROGRAMMES:
        is_p = (indiv["programme"] == prog).to_numpy()
        for label, col, v in groups:
            sel = is_p if col is None else is_p & (indiv[col].astype(str) == v).to_numpy()
            n = int(sel.sum())
            for o in CURVE_OUTCOMES:
                est = eff[o][sel].mean(axis=0) if n else np.full(months, np.nan)
                curves.append(pd.DataFrame({"programme": prog, "group": label, "outcome": o, "month": k,
                                            "method": "truth", "estimate": est, "n_treated": n,
                                            "n_observed": observed[sel].sum(axis=0)}))
            for L in (h for h in RMST_HORIZONS if h <= months):
                est = float(eff["on_bijstand"][sel, :L].sum(axis=1).mean()) if n else np.nan
                rmst.append(dict(programme=prog, group=label, outcome=f"rmst_bijstand_{L}m", method="truth",
                                 estimate=est, std_error=np.nan, ci_lower=np.nan, ci_upper=np.nan, n_treated=n,
                                 n_control=np.nan))
    return (pd.concat(curves, ignore_index=True),
            pd.DataFrame(rmst, columns=list(C.EFFECTS_COLUMNS)))
