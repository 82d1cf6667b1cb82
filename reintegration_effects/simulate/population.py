"""Persons, household paths and the labour-market history before the window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import contract as C
from .params import (
    AGE_LO,
    AOW_MONTHS,
    SIM_MIGRATION,
    WW,
    B,
    Calendar,
    O,
    SimulationParams,
    W,
    draw_choice,
    draw_geometric,
    year_value,
)

# ------------------------------------------------------------------------------------------------
# persons, households, pre-history
# ------------------------------------------------------------------------------------------------


@dataclass
class Persons:
    n: int
    is_stock: np.ndarray
    female: np.ndarray
    b_abs: np.ndarray  # birth month (absolute)
    bday: np.ndarray  # birth day of month
    mig: np.ndarray  # index into contract.MIGRATION
    sh: np.ndarray  # status holder
    edu: np.ndarray  # index into contract.EDUCATION
    z: np.ndarray  # frailty (standard normal)
    anchor: np.ndarray  # grid month: stock spell start (may be < 0) / entry month
    free_from: np.ndarray  # first grid month with free transitions
    hh_pos: np.ndarray  # (n, 4) positions
    hh_chg: np.ndarray  # (n, 3) change months (grid index, sorted; big = none)
    seg_state: np.ndarray  # (n, K) forced segments, 0 = anchor, backwards in time
    seg_start: np.ndarray  # (n, K)
    nseg: np.ndarray


def age_bands3(age_years: np.ndarray) -> np.ndarray:
    return np.where(age_years < 27, 0, np.where(age_years < 50, 1, 2))


def draw_persons(p: SimulationParams, cal: Calendar, rng: np.random.Generator) -> Persons:
    n = p.n_persons
    n_stock = int(round(n * p.stock_share))
    is_stock = np.zeros(n, dtype=bool)
    is_stock[:n_stock] = True
    u = rng.random((17, n))

    # entry month of entrants (first in-window month on bijstand)
    ent_m = np.arange(cal.ws_m, cal.T)
    w = np.array([year_value(p.entry_year_weights, cal.year[m], 1.0) for m in ent_m])
    w = w * np.exp(p.entry_trend * (ent_m - cal.ws_m) / 12.0)
    covid = (cal.year[ent_m] == 2020) & np.isin(cal.month[ent_m], (4, 5, 6))
    w = np.where(covid, w * p.entry_covid_bump, w)
    e = ent_m[np.searchsorted(np.cumsum(w) / w.sum(), u[0], side="right").clip(0, len(ent_m) - 1)]
    ref = np.where(is_stock, cal.ws_m - 1, e)  # reference month for characteristics
    ref_year = cal.year[ref]

    # status holder entrants by year; then migration
    sh_entry = np.array([year_value(p.status_holder_entry, y) for y in ref_year])
    mig_names = list(SIM_MIGRATION)
    mig = draw_choice(u[1], [p.migration_probs[k] for k in mig_names])
    nw = mig_names.index("non_western")
    sh = np.where(is_stock, (mig == nw) & (u[2] < p.status_holder_share_stock), u[2] < sh_entry)
    mig = np.where(sh, nw, mig).astype(np.int8)

    female = u[3] < np.where(is_stock, p.female_stock, p.female_entrants)
    female = np.where(sh & ~is_stock, u[3] < 0.35, female)  # status holder entrants: more often men
    # age at the reference month (end of it), in months
    probs = np.where(is_stock[:, None], np.array(p.age_probs_stock)[None, :],
                     np.array(p.age_probs_entrants)[None, :])
    band = (np.cumsum(probs, axis=1) < u[4][:, None]).sum(axis=1).clip(0, 4)
    aow = np.array([aow_months(y) for y in ref_year])
    lo = np.array(AGE_LO)[band] * 12
    hi = np.where(band < 4, np.append(np.array(AGE_LO[1:]) * 12, 0)[band], aow - 1)
    age_ref = lo + np.floor(u[5] * (hi - lo)).astype(np.int64)
    age_ref = np.where(sh, np.clip(age_ref, 19 * 12, 55 * 12), age_ref)
    b_abs = (cal.grid_abs + ref) - age_ref
    bday = 1 + np.floor(u[6] * 28).astype(np.int64)

    # education
    ages_y = age_ref // 12
    unk = np.where((mig == nw) & (ages_y >= 50), p.education_unknown_nw50, p.education_unknown)
    edu_known = draw_choice(u[7], [p.education_probs[k] for k in ("low", "medium", "high")])
    edu = np.where(u[8] < unk, 3, edu_known).astype(np.int8)
    edu = np.where(sh & (edu == 2) & (u[8] > 0.5), 0, edu).astype(np.int8)

    # household at the reference month
    hh_ref = np.zeros(n, dtype=np.int8)
    ab = age_bands3(ages_y)
    for s, sx in ((True, "F"), (False, "M")):
        for k, lab in enumerate(C.AGE_BANDS):
            sel = (female == s) & (ab == k)
            hh_ref[sel] = draw_choice(u[9][sel], p.household_probs[f"{sx}:{lab}"])
    hh_ref = np.where(sh & (hh_ref == 0) & (u[16] < 0.35), 3, hh_ref).astype(np.int8)  # families
    hh_pos, hh_chg = _household_paths(p, cal, is_stock, ref, hh_ref, b_abs, u[10:16])

    # frailty and stock durations
    z = rng.standard_normal(n)
    anchor = e.copy()
    free_from = e + 1
    if n_stock:
        d0, zs = _stock_durations(p, cal, female, mig, sh, edu, hh_ref, age_ref, is_stock, rng)
        anchor = np.where(is_stock, cal.ws_m - d0, anchor)
        z = np.where(is_stock, zs, z)
        free_from = np.where(is_stock, cal.ws_m, free_from)

    pers = Persons(n=n, is_stock=is_stock, female=female, b_abs=b_abs, bday=bday, mig=mig, sh=sh, edu=edu,
                    z=z, anchor=anchor.astype(np.int64), free_from=free_from.astype(np.int64), hh_pos=hh_pos,
                    hh_chg=hh_chg, seg_state=None, seg_start=None, nseg=None)
    _prehistory(p, cal, pers, rng)
    return pers


def aow_months(year: int) -> int:
    year = int(year)
    if year in AOW_MONTHS:
        return AOW_MONTHS[year]
    return 780 if year < 2010 else 804


def _household_paths(p, cal, is_stock, ref, hh_ref, b_abs, u):
    """Exogenous household positions: (n, 4) positions and (n, 3) sorted change months (big = none).

    The position at grid month m is child_at_home before the 18th birthday month, then an earlier
    position before the pre-change month (if any), the reference position, and a later position
    from the post-change month (if any). Only changes inside the grid that change the position
    are kept.
    """
    n = len(ref)
    big = 10**6
    codes = {k: i for i, k in enumerate(C.HOUSEHOLD_POSITIONS)}
    single, sp, cnc, cwc, cah = (codes[k] for k in ("single", "single_parent", "couple_no_children",
                                                    "couple_with_children", "child_at_home"))
    age_ref = (cal.grid_abs + ref) - b_abs
    # earlier position (before the reference month): e.g. a couple before a divorce
    change_pre = u[0] < np.where(is_stock, p.household_change_before_stock, p.household_change_before)
    prev = np.full(n, single, dtype=np.int64)
    prev = np.where(hh_ref == sp, cwc, prev)
    prev = np.where(hh_ref == single, np.where((u[1] < 0.5) | (age_ref >= 25 * 12), cnc, cah), prev)
    lag = np.floor(u[2] * np.where(is_stock, 120, 12)).astype(np.int64)
    c_pre = np.where(change_pre, ref - lag, -big)
    # later position
    change_post = u[3] < p.household_change_after
    nxt = np.where(hh_ref == single, np.where(u[4] < 0.7, cnc, sp), single)
    nxt = np.where(hh_ref == sp, np.where(u[4] < 0.6, single, cwc), nxt)
    nxt = np.where(hh_ref == cwc, np.where(u[4] < 0.5, sp, single), nxt)
    c_post = np.where(change_post, ref + 1 + np.floor(u[5] * np.maximum(cal.T - ref - 1, 1)).astype(np.int64), big)
    c18 = (b_abs + 18 * 12) - cal.grid_abs

    def pos_at(m):
        out = np.where(m < c_post, hh_ref, nxt)
        out = np.where(m < c_pre, prev, out)
        return np.where(m < c18, cah, out)

    cand = np.sort(np.stack([c18, c_pre, c_post], axis=1), axis=1)
    out_pos = np.empty((n, 4), dtype=np.int8)
    out_chg = np.full((n, 3), big, dtype=np.int64)
    cur = pos_at(np.zeros(n, dtype=np.int64))
    out_pos[:, 0] = cur
    cnt = np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    for k in range(3):
        m = cand[:, k]
        pm = pos_at(m)
        ch = (m > 0) & (m < cal.T) & (pm != cur)
        i = rows[ch]
        out_chg[i, cnt[i]] = m[i]
        cnt[i] += 1
        out_pos[i, cnt[i]] = pm[i]
        cur = np.where(ch, pm, cur)
    for k in range(1, 4):
        unused = k > cnt
        out_pos[unused, k] = out_pos[unused, k - 1]
    return out_pos, out_chg


def _stock_durations(p, cal, female, mig, sh, edu, hh, age_ref, is_stock, rng):
    """Joint (elapsed duration, frailty) for the stock from the model's steady state."""
    idx = np.flatnonzero(is_stock)
    x = static_work(p, female[idx], mig[idx], sh[idx], edu[idx])
    age_y = age_ref[idx] / 12.0
    lw_i = (p.work["base"] + x + np.interp(age_y, p.work["age_knots"], p.work["age_values"])
            + np.array([p.work["household"][k] for k in C.HOUSEHOLD_POSITIONS])[hh[idx]]
            + year_value(p.work["year"], cal.year[cal.ws_m - 1]))
    lo_i = (p.other["base"] + sh[idx] * p.other["status_holder"]
            + np.interp(age_y, p.other["age_knots"], p.other["age_values"])
            + np.array([p.other["household"][k] for k in C.HOUSEHOLD_POSITIONS])[hh[idx]])
    dmax_all = p.stock_max_elapsed_months
    d = np.arange(1, dmax_all + 1)
    gw = np.exp(np.interp(np.log(d), np.log(p.work["duration_knots"]), p.work["duration_values"]))
    go = np.exp(np.interp(np.log(d), np.log(p.other["duration_knots"]), p.other["duration_values"]))
    # cumulative hazard before month-end d (exits in months with elapsed 1..d-1)
    Gw = np.concatenate([[0.0], np.cumsum(gw)])  # Gw[d-1] = sum_{k<d}
    Go = np.concatenate([[0.0], np.cumsum(go)])
    dmax = np.clip(age_ref[idx] - 18 * 12, 1, dmax_all)
    m = len(idx)
    d0 = np.zeros(m, dtype=np.int64)
    z = np.zeros(m)
    todo = np.arange(m)
    sigma = p.frailty
    for _ in range(10_000):
        if len(todo) == 0:
            break
        zz = rng.standard_normal(len(todo))
        dd = 1 + np.floor(rng.random(len(todo)) * dmax[todo]).astype(np.int64)
        H = np.exp(lw_i[todo] + sigma * zz) * Gw[dd - 1] + np.exp(lo_i[todo]) * Go[dd - 1]
        acc = rng.random(len(todo)) < np.exp(-H)
        d0[todo[acc]] = dd[acc]
        z[todo[acc]] = zz[acc]
        todo = todo[~acc]
    out_d = np.zeros(len(is_stock), dtype=np.int64)
    out_z = np.zeros(len(is_stock))
    out_d[idx] = d0
    out_z[idx] = z
    return out_d, out_z


def _prehistory(p: SimulationParams, cal: Calendar, pers: Persons, rng) -> None:
    """Backward chain of forced segments before the anchor (see the module docstring)."""
    n = pers.n
    K = 12
    big = 10**6
    seg_state = np.full((n, K), O, dtype=np.int8)
    seg_start = np.full((n, K), -big, dtype=np.int64)
    seg_state[:, 0] = B
    seg_start[:, 0] = pers.anchor
    nseg = np.ones(n, dtype=np.int64)
    cur_state = np.full(n, B, dtype=np.int8)
    cur_start = pers.anchor.copy()
    age16 = pers.b_abs + 16 * 12 - cal.grid_abs
    age18 = pers.b_abs + 18 * 12 - cal.grid_abs
    # an earlier bijstand spell must end by grid month ws_m - 2 (month end ws_m - 1 off bijstand)
    last_b_end = cal.ws_m - 2
    young = (pers.anchor + cal.grid_abs - pers.b_abs) < 23 * 12

    def table(d):
        return np.array([d.get(k, 0.0) for k in ("ww", "work", "overig", "bijstand")])

    t_bb, t_bby, t_bw, t_bo = (table(p.before_bijstand), table(p.before_bijstand_young), table(p.before_work),
                               table(p.before_overig))
    t_bww = table({"work": 1.0})
    codes = np.array([WW, W, O, B], dtype=np.int8)
    for k in range(1, K):
        active = cur_start > 0
        if not active.any():
            break
        u = rng.random((3, n))
        probs = np.zeros((n, 4))
        probs[cur_state == B] = t_bb
        probs[(cur_state == B) & young] = t_bby
        probs[cur_state == W] = t_bw
        probs[cur_state == O] = t_bo
        probs[cur_state == WW] = t_bww
        end = cur_start - 1
        b_ok = (end <= last_b_end) & (end >= age18 + 1)
        probs[:, 3] = np.where(b_ok, probs[:, 3], 0.0)
        w_ok = end >= age16 + 1
        probs[:, 0] = np.where(w_ok, probs[:, 0], 0.0)
        probs[:, 1] = np.where(w_ok, probs[:, 1], 0.0)
        tot = probs.sum(axis=1)
        probs[tot == 0, 2] = 1.0
        cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
        pick = (cum < u[0][:, None]).sum(axis=1).clip(0, 3)
        st = codes[pick]
        L = np.ones(n, dtype=np.int64)
        L = np.where(st == W, draw_geometric(u[1], p.seg_mean_work), L)
        L = np.where(st == O, draw_geometric(u[1], p.seg_mean_overig), L)
        L = np.where(st == B, draw_geometric(u[1], p.seg_mean_bijstand), L)
        lo_ww, hi_ww = np.where(cur_state == B, p.seg_ww_before_bijstand[0], p.seg_ww_other[0]), np.where(
            cur_state == B, p.seg_ww_before_bijstand[1], p.seg_ww_other[1])
        L = np.where(st == WW, lo_ww + np.floor(u[2] * (hi_ww - lo_ww + 1)).astype(np.int64), L)
        start = end - L + 1
        # age limits: work/WW from 16, bijstand from 18; before that overig for good
        lim = np.where(st == B, age18, np.where(st == O, -big, age16))
        cut = start < lim
        start = np.where(cut, lim, start)
        st = np.where(cut & (start > end), O, st).astype(np.int8)
        start = np.where(cut & (st == O), -big, start)
        set_ = active
        seg_state[set_, k] = st[set_]
        seg_start[set_, k] = start[set_]
        nseg[set_] = k + 1
        # after a cut segment the rest is overig for good
        cur_state = np.where(set_, st, cur_state)
        cur_start = np.where(set_, start, cur_start)
        young_cut = set_ & cut & (st != O) & (start > 0)
        if young_cut.any() and k + 1 < K:
            seg_state[young_cut, k + 1] = O
            seg_start[young_cut, k + 1] = -big
            nseg[young_cut] = k + 2
            cur_start = np.where(young_cut, -big, cur_start)
    left = cur_start > 0  # ran out of segments: overig before
    if left.any():
        seg_state[left, K - 1] = O
        seg_start[left, K - 1] = -big
        nseg[left] = K
    pers.seg_state, pers.seg_start, pers.nseg = seg_state, seg_start, nseg


def static_work(p, female, mig, sh, edu):
    migv = np.array([p.work["migration"][k] for k in SIM_MIGRATION])
    eduv = np.array([p.work["education"][k] for k in C.EDUCATION])
    return p.work["female"] * female + migv[mig] + p.work["status_holder"] * sh + eduv[edu]
