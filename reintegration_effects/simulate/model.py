"""The month loop: exits, side jobs and programme take-up, with and without each start."""

from __future__ import annotations

import time

import numpy as np

from .. import contract as C
from .params import (
    BMW,
    FOLLOW_UP,
    MIN_WAGE_HOURLY,
    N_PURPOSES,
    NEWJOB,
    PROGRAMMES,
    SIM_MIGRATION,
    U_CAUSE,
    U_CONTRACT,
    U_DEST,
    U_EXIT,
    U_HOURS,
    U_PDUR,
    U_SECTOR,
    U_SIDE,
    U_TAKEUP,
    U_WAGE,
    U_WHICH,
    WW,
    B,
    Calendar,
    O,
    SimulationParams,
    W,
    dimension_values,
    draw_choice,
    year_value,
)
from .population import Persons, age_bands3, aow_months, static_work

# ------------------------------------------------------------------------------------------------
# the month loop
# ------------------------------------------------------------------------------------------------


class _Pop:
    """Struct of arrays for the actual population or the clones."""

    def __init__(self, **arrays):
        self.__dict__.update(arrays)

    @property
    def n(self) -> int:
        return len(self.pid)

    def take(self, idx) -> _Pop:
        return _Pop(**{k: v[idx] for k, v in self.__dict__.items()})

    def concat(self, other: _Pop) -> _Pop:
        return _Pop(**{k: np.concatenate([v, other.__dict__[k]]) for k, v in self.__dict__.items()})


class _Model:
    """Hazards and the monthly step, shared by the actual population and the clones."""

    def __init__(self, p: SimulationParams, cal: Calendar, pers: Persons):
        self.p, self.cal, self.pers = p, cal, pers
        hh_names = C.HOUSEHOLD_POSITIONS
        self.w_static = static_work(p, pers.female, pers.mig, pers.sh, pers.edu) + p.frailty * pers.z
        # issue 14b: the frailty's loading on take-up (None when 0: the take-up draws stay byte-identical)
        self.takeup_z = p.takeup_frailty * pers.z if p.takeup_frailty else None
        self.w_hh = np.array([p.work["household"][k] for k in hh_names])
        self.w_dk, self.w_dv = np.log(p.work["duration_knots"]), np.array(p.work["duration_values"])
        self.o_dk, self.o_dv = np.log(p.other["duration_knots"]), np.array(p.other["duration_values"])
        self.o_static = p.other["status_holder"] * pers.sh
        self.o_hh = np.array([p.other["household"][k] for k in hh_names])
        sj = p.side_job
        edu_s = np.array([sj["education"][k] for k in C.EDUCATION])
        self.s_static = sj["female"] * pers.female + edu_s[pers.edu] + sj["non_western"] * (
            pers.mig == SIM_MIGRATION.index("non_western"))
        # programme take-up static parts (n, P)
        P = len(PROGRAMMES)
        self.prog_static = np.zeros((pers.n, P))
        self.prog_hh = np.zeros((P, len(hh_names)))
        nw, we = SIM_MIGRATION.index("non_western"), SIM_MIGRATION.index("western")
        for j, name in enumerate(PROGRAMMES):
            c = p.programmes[name]
            self.prog_static[:, j] = (c["base"] + c["female"] * pers.female + c["western"] * (pers.mig == we)
                                      + c["non_western"] * (pers.mig == nw) + c["status_holder"] * pers.sh
                                      + c["edu_low"] * (pers.edu == 0) + c["edu_high"] * (pers.edu == 2)
                                      + c["edu_unknown"] * (pers.edu == 3))
            self.prog_hh[j, hh_names.index("single_parent")] = c["single_parent"]
            self.prog_hh[j, hh_names.index("couple_no_children")] = c["couple"]
            self.prog_hh[j, hh_names.index("couple_with_children")] = c["couple"]
        self.prog_hist = np.array([[p.programmes[k][c] for c in ("employed_36m", "bijstand_36m", "ww_36m",
                                                                    "employed_before", "age_18_26", "age_50plus")]
                                   for k in PROGRAMMES])
        self.prog_peak = np.log(np.array([p.programmes[k]["peak"] for k in PROGRAMMES]))
        self.prog_width = np.array([p.programmes[k]["width"] for k in PROGRAMMES])
        self.prog_months = np.array([p.programmes[k]["months"] for k in PROGRAMMES])
        # hazard ratios by programme and group value
        self._hr_tables()
        # job attributes
        self.contracts = list(C.CONTRACTS)
        self.c_after = [p.contract_after_bijstand[k] for k in self.contracts]
        self.c_general = [p.contract_general[k] for k in self.contracts]
        self.c_side = [p.contract_side_job[k] for k in self.contracts]
        self.job_end = np.array([p.job_end[k] for k in self.contracts])
        self.hours = np.array([p.hours_by_contract[k] for k in self.contracts])
        self.sectors = list(C.SECTORS)

        def sec(d):
            return np.array([d.get(s, 0.0) for s in self.sectors])
        self.s_after, self.s_general, self.s_side = (sec(p.sector_after_bijstand), sec(p.sector_general),
                                                     sec(p.sector_side_job))
        self.wage_edu = np.array([p.wage_premium_education[k] for k in C.EDUCATION])
        self.reentry = np.array(p.reentry_from_overig, dtype=float)
        self.aow = np.array([aow_months(y) for y in cal.year])

    def _hr_tables(self):
        p = self.p
        # hr[prog, dimension value code]; value codes per dimension
        self.hr_dim = []
        self.hr_lock = []
        self.hr_post = []
        for name in PROGRAMMES:
            if p.effects == "constant":
                hr = float(p.hazard_ratios.get(name, 1.0))
                self.hr_dim.append(None)
                self.hr_lock.append(np.array([hr]))
                self.hr_post.append(np.array([hr]))
                continue
            spec = p.effects_heterogeneous[name]
            dim = spec["dimension"]
            values = ("all",) if dim is None else dimension_values(dim)
            self.hr_dim.append(dim)
            self.hr_lock.append(np.array([float(spec["lock_in"].get(v, 1.0)) for v in values]))
            self.hr_post.append(np.array([float(spec["post"].get(v, 1.0)) for v in values]))

    # --- helpers on populations ----------------------------------------------------------------
    def household(self, pid, m) -> np.ndarray:
        pers = self.pers
        k = (np.reshape(m, (-1, 1)) >= pers.hh_chg[pid]).sum(axis=1)
        return pers.hh_pos[pid, k]

    def age_months(self, pid, m) -> np.ndarray:
        """Completed months of age at the end of grid month m (whole years = // 12)."""
        return (self.cal.grid_abs + m) - self.pers.b_abs[pid]

    # --- the step ------------------------------------------------------------------------------
    def step(self, pop: _Pop, t: int, U: np.ndarray, S: np.ndarray | None, actual: bool):
        """Advance ``pop`` through month t. Returns (new job mask, job attributes, starts)."""
        p, cal, pers = self.p, self.cal, self.pers
        pid = pop.pid
        u = U if actual else U[:, pid]
        prev = pop.st.copy()
        on_prev = prev <= BMW
        emp_prev = (prev == W) | (prev == BMW)

        # history counts: month ends t-36..t-1
        if S is not None:
            if t == 36 and actual:
                hist = S[0:36] & 7
                pop.emp36 = ((hist == W) | (hist == BMW)).sum(axis=0).astype(np.int16)
                pop.bij36 = (hist <= BMW).sum(axis=0).astype(np.int16)
                pop.ww36 = (hist == WW).sum(axis=0).astype(np.int16)
            elif t > 36:
                old = S[t - 37] & 7 if actual else S[t - 37, pid] & 7
                pop.emp36 += (emp_prev.astype(np.int16) - ((old == W) | (old == BMW)))
                pop.bij36 += (on_prev.astype(np.int16) - (old <= BMW))
                pop.ww36 += ((prev == WW).astype(np.int16) - (old == WW))

        age_m = self.age_months(pid, t - 1)
        age_y = age_m / 12.0
        year = cal.year[t]
        pension = (age_m >= self.aow[t]) & ~pop.pens
        forced = t < pers.free_from[pid]
        new = prev.copy()
        switch = np.zeros(pop.n, dtype=bool)

        # ---- forced months (pre-history, stock before the window, entry month) ----------------
        if forced.any():
            fi = np.flatnonzero(forced)
            fp = pid[fi]
            ptr = pop.ptr[fi]
            nxt = np.maximum(ptr - 1, 0)
            adv = (ptr > 0) & (t >= pers.seg_start[fp, nxt])
            ptr = np.where(adv, nxt, ptr)
            pop.ptr[fi] = ptr
            target = pers.seg_state[fp, ptr]
            pv = prev[fi]
            nv = target.copy()
            tb = target == B
            side_on = self._side_on(pid[fi], pop.dur[fi], age_y[fi], pop.emp36[fi])
            keep = (pv == BMW) & ~(u[U_SIDE, fi] < p.side_job["end"])
            start_side = (pv == B) & (u[U_SIDE, fi] < side_on)
            keep_job = (pv == W) & (u[U_SIDE, fi] < p.keep_job_at_entry)
            nv = np.where(tb & (keep | start_side | keep_job), BMW, nv)
            # forced work: job changes inside the run
            tw = (target == W) & (pv == W)
            jend = 1.0 - np.exp(-self.job_end[np.maximum(pop.contract[fi], 0)])
            sw = tw & (u[U_EXIT, fi] < jend)
            new[fi] = nv
            switch[fi] = sw

        # ---- free months ------------------------------------------------------------------------
        free = ~forced
        # bijstand
        ib = np.flatnonzero(free & on_prev)
        if len(ib):
            bp = pid[ib]
            d = pop.dur[ib]
            hh = self.household(bp, t - 1)
            ld = np.log(np.maximum(d, 1))
            lw = (p.work["base"] + self.w_static[bp] + np.interp(ld, self.w_dk, self.w_dv)
                  + np.interp(age_y[ib], p.work["age_knots"], p.work["age_values"]) + self.w_hh[hh]
                  + p.work["employed_36m"] * pop.emp36[ib] + p.work["side_job"] * (prev[ib] == BMW)
                  + year_value(p.work["year"], year) + (p.work["covid"] if self._covid(t, (4, 9)) else 0.0))
            # programme effect (started in an earlier month of this spell)
            hr = np.ones(len(ib))
            inp = pop.prog[ib] >= 0
            if inp.any():
                lock = t <= pop.pt0[ib] + pop.pdur[ib]
                hr = np.where(inp, np.where(lock, pop.hrl[ib], pop.hrp[ib]), 1.0)
            hw = np.exp(lw) * hr
            lo = (p.other["base"] + self.o_static[bp] + np.interp(ld, self.o_dk, self.o_dv)
                  + np.interp(age_y[ib], p.other["age_knots"], p.other["age_values"]) + self.o_hh[hh])
            ho = np.exp(lo)
            h = hw + ho
            ex = u[U_EXIT, ib] < -np.expm1(-h)
            to_work = u[U_CAUSE, ib] * h < hw
            p_ww = np.where(prev[ib] == BMW, p.other["to_ww_from_side_job"], p.other["to_ww"])
            dest = np.where(to_work, W, np.where(u[U_DEST, ib] < p_ww, WW, O))
            side_on = self._side_on(bp, d, age_y[ib], pop.emp36[ib])
            stay = np.where(prev[ib] == BMW, np.where(u[U_SIDE, ib] < p.side_job["end"], B, BMW),
                            np.where(u[U_SIDE, ib] < side_on, BMW, B))
            nv = np.where(ex, dest, stay)
            nv = np.where(pension[ib], O, nv)
            new[ib] = nv
            pop.wwleft[ib] = np.where(nv == WW, np.minimum(24, 3 + pop.emp36[ib] // 12) - 1, pop.wwleft[ib])
        # work
        iw = np.flatnonzero(free & (prev == W))
        if len(iw):
            c = np.maximum(pop.contract[iw], 0)
            hz = self.job_end[c] * np.where(pop.tenure[iw] <= 6, p.job_end_first_months, 1.0)
            end = u[U_EXIT, iw] < -np.expm1(-hz)
            j2j = end & (u[U_CAUSE, iw] < p.job_to_job)
            elig = pop.emp36[iw] >= 6
            de, dn = p.job_loss_dest_eligible, p.job_loss_dest_not_eligible
            pd_ = np.where(elig[:, None], np.array([de["ww"], de["bijstand"], de["overig"]])[None, :],
                           np.array([dn["ww"], dn["bijstand"], dn["overig"]])[None, :])
            cum = np.cumsum(pd_, axis=1)
            k = (cum < u[U_DEST, iw][:, None] * cum[:, -1:]).sum(axis=1)
            loss_dest = np.array([WW, B, O])[np.clip(k, 0, 2)]
            topup = ~end & (u[U_SIDE, iw] < p.topup_hazard)
            nv = np.where(end, np.where(j2j, W, loss_dest), np.where(topup, BMW, W))
            nv = np.where(pension[iw], O, nv)
            new[iw] = nv
            switch[iw] = end & j2j & ~pension[iw]
            pop.wwleft[iw] = np.where(nv == WW, np.minimum(24, 3 + np.maximum(pop.tenure[iw], pop.emp36[iw]) // 12)
                                      - 1, pop.wwleft[iw])
        # WW
        iww = np.flatnonzero(free & (prev == WW))
        if len(iww):
            exhausted = pop.wwleft[iww] <= 0
            h = p.ww_to_work + p.ww_to_overig
            ex = u[U_EXIT, iww] < -np.expm1(-h)
            to_w = u[U_CAUSE, iww] * h < p.ww_to_work
            nv = np.where(ex, np.where(to_w, W, O), WW)
            nv = np.where(exhausted & (nv == WW), np.where(u[U_DEST, iww] < p.ww_exhausted_to_bijstand, B, O), nv)
            nv = np.where(pension[iww], O, nv)
            new[iww] = nv
            pop.wwleft[iww] -= 1
        # overig
        io = np.flatnonzero(free & (prev == O) & ~pop.pens)
        if len(io):
            s = pop.since[io]
            hb = self.reentry[np.searchsorted(self.reentry[:, 0], s, side="left").clip(0, len(self.reentry) - 1), 1]
            hwk = p.overig_to_work
            h = hb + hwk
            ex = u[U_EXIT, io] < -np.expm1(-h)
            nv = np.where(ex, np.where(u[U_CAUSE, io] * h < hb, B, W), O)
            nv = np.where(pension[io], O, nv)
            new[io] = nv

        # pension for everyone who reaches the age (forced months never do: entrants are younger)
        pop.pens = pop.pens | pension
        # ---- bookkeeping ------------------------------------------------------------------------
        on_new = new <= BMW
        emp_new = (new == W) | (new == BMW)
        newjob = emp_new & (~emp_prev | switch | ((prev == BMW) & (new == W)))
        if t == 0:
            newjob = emp_new.copy()
        pop.dur = np.where(on_new, np.where(on_prev, pop.dur + 1, 1), 0)
        pop.since = np.where(on_new, 0, pop.since + 1)
        left = ~on_new & (pop.prog >= 0)
        if left.any():
            pop.prog = np.where(left, -1, pop.prog).astype(np.int8)
        pop.tenure = np.where(emp_new, np.where(newjob, 1, pop.tenure + 1), 0)
        attrs = None
        if newjob.any():
            ij = np.flatnonzero(newjob)
            side = new[ij] == BMW
            after = (pop.since[ij] <= 24) | on_prev[ij]
            uc = u[U_CONTRACT, ij]
            contract = np.where(side, draw_choice(uc, self.c_side),
                                np.where(after, draw_choice(uc, self.c_after), draw_choice(uc, self.c_general)))
            pop.contract[ij] = contract
            if actual:
                attrs = self._job_attributes(pid[ij], t, contract, side, after, u[:, ij])
                attrs["idx"] = ij
        pop.contract = np.where(emp_new, pop.contract, -1).astype(np.int8)
        pop.st = new.astype(np.int8)

        # ---- programme take-up (on bijstand at the end of t, none yet in this spell) -------------
        starts = None
        if t >= cal.ws_m:
            el = np.flatnonzero(on_new & (pop.prog < 0) & ~pop.pens)
            if len(el):
                ep = pid[el]
                lh = self.takeup_log_hazards(ep, t, pop.dur[el] - 1, pop.emp36[el], pop.bij36[el], pop.ww36[el],
                                             emp_prev[el])
                hz = np.exp(lh)
                H = hz.sum(axis=1)
                go = u[U_TAKEUP, el] < -np.expm1(-H)
                if go.any():
                    gi = np.flatnonzero(go)
                    cum = np.cumsum(hz[gi], axis=1)
                    which = (cum < (u[U_WHICH, el[gi]] * H[gi])[:, None]).sum(axis=1).clip(0, len(PROGRAMMES) - 1)
                    lo_m, hi_m = self.prog_months[which, 0], self.prog_months[which, 1]
                    months = lo_m + np.floor(u[U_PDUR, el[gi]] * (hi_m - lo_m + 1)).astype(np.int64)
                    si = el[gi]
                    hrl, hrp = self.hazard_ratios_at(pid[si], which, t)
                    pop.prog[si] = which
                    pop.pt0[si] = t
                    pop.pdur[si] = months
                    pop.hrl[si] = hrl
                    pop.hrp[si] = hrp
                    starts = si
        return newjob, attrs, starts

    def _covid(self, t, months) -> bool:
        return self.cal.year[t] == 2020 and months[0] <= self.cal.month[t] <= months[1]

    def _side_on(self, pid, d, age_y, emp36):
        sj = self.p.side_job
        lh = (sj["base"] + self.s_static[pid] - sj["duration_slope"] * np.log(np.maximum(d, 3) / 3.0)
             + np.interp(age_y, sj["age_knots"], sj["age_values"]) + sj["employed_36m"] * emp36)
        return -np.expm1(-np.exp(lh))

    def takeup_log_hazards(self, pid, t, spell_month, emp36, bij36, ww36, emp_prev):
        """Log take-up hazard per programme (m, P), from observables at month t only (plus
        ``takeup_frailty`` x the frailty z when that is non-zero: selection on an unobservable)."""
        p = self.p
        age_y = self.age_months(pid, t) // 12
        hh = self.household(pid, t)
        lsm = np.log(np.maximum(spell_month, 0) + 1.0)
        prof = -((lsm[:, None] - self.prog_peak[None, :]) ** 2) / (2 * self.prog_width[None, :] ** 2)
        h = self.prog_hist
        lh = (self.prog_static[pid] + prof + self.prog_hh[:, hh].T
              + emp36[:, None] * h[None, :, 0] + bij36[:, None] * h[None, :, 1] + ww36[:, None] * h[None, :, 2]
              + emp_prev[:, None] * h[None, :, 3] + (age_y < 27)[:, None] * h[None, :, 4]
              + (age_y >= 50)[:, None] * h[None, :, 5])
        cal_eff = year_value(p.takeup_year, self.cal.year[t]) + (p.takeup_covid if self._covid(t, (4, 6)) else 0.0)
        if self.takeup_z is not None:  # selection on the unobservable (simulate --unobserved-heterogeneity)
            lh = lh + self.takeup_z[pid][:, None]
        return lh + cal_eff

    def group_value_codes(self, pid, t) -> dict:
        """Group value codes at time zero (month end t): age band, education, migration."""
        age_y = self.age_months(pid, t) // 12
        return {"age": age_bands3(age_y), "education": self.pers.edu[pid], "migration": self.pers.mig[pid],
                None: np.zeros(len(pid), dtype=np.int64)}

    def hazard_ratios_at(self, pid, which, t):
        codes = self.group_value_codes(pid, t)
        hrl = np.ones(len(pid))
        hrp = np.ones(len(pid))
        for j in range(len(PROGRAMMES)):
            sel = which == j
            if not sel.any():
                continue
            v = codes[self.hr_dim[j]][sel] if self.hr_dim[j] is not None else np.zeros(sel.sum(), dtype=np.int64)
            hrl[sel] = self.hr_lock[j][v]
            hrp[sel] = self.hr_post[j][v]
        return hrl, hrp

    def _job_attributes(self, pid, t, contract, side, after, u):
        p, pers = self.p, self.pers
        sector = np.where(side, draw_choice(u[U_SECTOR], self.s_side),
                          np.where(after, draw_choice(u[U_SECTOR], self.s_after), draw_choice(u[U_SECTOR], self.s_general)))
        base_h = self.hours[contract] + p.hours_female * pers.female[pid]
        hours = np.clip(np.round(base_h + (u[U_HOURS] - 0.5) * 2 * p.hours_spread), 4, 40)
        lo, hi = p.side_job_hours
        hours = np.where(side, np.round(lo + u[U_HOURS] * (hi - lo)), hours)
        year = self.cal.year[t]
        mw = MIN_WAGE_HOURLY.get(int(year), MIN_WAGE_HOURLY[min(MIN_WAGE_HOURLY, key=lambda y: abs(y - year))])
        age_y = self.age_months(pid, t) // 12
        youth = np.where(age_y < 19, 0.5, np.where(age_y < 21, 0.7, np.where(age_y < 22, 0.85, 1.0)))
        uu = np.clip(u[U_WAGE], 1e-9, 1 - 1e-9)
        prem = (self.wage_edu[pers.edu[pid]] + p.wage_premium_permanent * (contract == 0)
                + p.wage_premium_sd * np.log(uu / (1 - uu)) / 1.8138)
        hourly = mw * youth * np.exp(np.maximum(prem, 0.0))
        wage = np.round(hourly * hours * 52 / 12, 2)
        return {"t": np.full(len(pid), t, dtype=np.int32), "contract": contract.astype(np.int8),
                "sector": sector.astype(np.int8), "hours": hours, "wage": wage}


def run_months(p: SimulationParams, cal: Calendar, pers: Persons, timings: dict, follow_up: int = FOLLOW_UP):
    """The month loop: actual population plus clones. Returns states and records.

    ``follow_up``: months each clone (a start's "not now" path) runs after its start month; the
    counterfactual states are ``cs[:, 0..follow_up]``. The default (18) is the effects' follow-up;
    the duration truth (issue 14a) runs them longer, on a calendar extended past the window end.
    """
    model = _Model(p, cal, pers)
    # the clones' own programme starts (event, month, programme, months): the counterfactual programme
    # history the participation truth needs (issue 16b); recorded only, no draw changes
    model.clone_starts = []
    n, T = pers.n, cal.T
    init_state = pers.seg_state[np.arange(n), pers.nseg - 1]
    init_start = pers.seg_start[np.arange(n), pers.nseg - 1]
    pre = init_start < 0  # first segment began before the grid: that is the state before month 0
    st0 = np.where(pre, init_state, O).astype(np.int8)
    pop = _Pop(
        pid=np.arange(n, dtype=np.int64), st=st0,
        dur=np.where(pre & (st0 == B), -init_start, 0).astype(np.int64),
        since=np.where(st0 == B, 0, 999).astype(np.int64), prog=np.full(n, -1, np.int8),
        pt0=np.full(n, -1, np.int64), pdur=np.zeros(n, np.int64), hrl=np.ones(n), hrp=np.ones(n),
        contract=np.full(n, -1, np.int8), tenure=np.where(pre & (st0 == W), -init_start, 0).astype(np.int64),
        wwleft=np.zeros(n, np.int64), emp36=np.zeros(n, np.int16), bij36=np.zeros(n, np.int16),
        ww36=np.zeros(n, np.int16), pens=np.zeros(n, dtype=bool), ptr=(pers.nseg - 1).astype(np.int64),
    )
    S = np.empty((T, n), dtype=np.int8)
    jobs = []
    events = []  # (pid, t0, prog, months, covariates...)
    clones = None
    clone_ev = np.zeros(0, dtype=np.int64)
    clone_t0 = np.zeros(0, dtype=np.int64)
    cs = np.full((1024, follow_up + 1), -1, dtype=np.int8)  # counterfactual states per event (grows)
    n_ev = 0
    pens_t = np.full(n, -1, dtype=np.int64)
    t_clone = 0.0
    for t in range(T):
        abs_m = cal.grid_abs + t
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([p.seed, abs_m])))
        U = rng.random((N_PURPOSES, n))
        pens_before = pop.pens.copy()
        # covariates of possible starters are read after the step; keep the pre-step ones needed
        prev_emp = (pop.st == W) | (pop.st == BMW)
        newjob, attrs, starts = model.step(pop, t, U, S, actual=True)
        S[t] = pop.st | np.where(newjob, NEWJOB, 0).astype(np.int8)
        pens_t[pop.pens & ~pens_before] = t
        if attrs is not None:
            jobs.append(attrs)
        t1 = time.perf_counter()
        # clones of earlier starts step through month t
        if clones is not None and clones.n:
            _, _, c_starts = model.step(clones, t, U, S, actual=False)
            if c_starts is not None and len(c_starts):
                model.clone_starts.append((clone_ev[c_starts], np.full(len(c_starts), t, dtype=np.int64),
                                           clones.prog[c_starts].copy(), clones.pdur[c_starts].copy()))
            k = t - clone_t0
            cs[clone_ev, k] = clones.st
            done = k >= follow_up
            if done.any():
                keep = ~done
                clones = clones.take(keep)
                clone_ev, clone_t0 = clone_ev[keep], clone_t0[keep]
        # new events: record and clone (the clone is the person after month t without the start)
        if starts is not None and len(starts):
            ne = len(starts)
            pid = pop.pid[starts]
            events.append({
                "pid": pid, "t0": np.full(ne, t), "prog": pop.prog[starts].copy(), "months": pop.pdur[starts].copy(),
                "spell_month": pop.dur[starts] - 1, "emp36": pop.emp36[starts].copy(),
                "bij36": pop.bij36[starts].copy(), "ww36": pop.ww36[starts].copy(),
                "emp_before": prev_emp[starts], "hrl": pop.hrl[starts].copy(), "hrp": pop.hrp[starts].copy(),
            })
            new_cl = pop.take(starts)
            new_cl.prog[:] = -1
            new_cl.pt0[:] = -1
            new_cl.hrl[:] = 1.0
            new_cl.hrp[:] = 1.0
            ev_ids = n_ev + np.arange(ne)
            n_ev += ne
            if n_ev > len(cs):
                grown = np.full((max(2 * len(cs), n_ev), follow_up + 1), -1, dtype=np.int8)
                grown[:len(cs)] = cs
                cs = grown
            cs[ev_ids, 0] = new_cl.st
            clones = new_cl if clones is None else clones.concat(new_cl)
            clone_ev = np.concatenate([clone_ev, ev_ids])
            clone_t0 = np.concatenate([clone_t0, np.full(ne, t)])
        t_clone += time.perf_counter() - t1
    timings["clones"] = t_clone
    ev = {k: np.concatenate([e[k] for e in events]) if events else np.zeros(0) for k in
          ("pid", "t0", "prog", "months", "spell_month", "emp36", "bij36", "ww36", "emp_before", "hrl", "hrp")}
    job = {k: np.concatenate([a[k] for a in jobs]) if jobs else np.zeros(0) for k in
           ("idx", "t", "contract", "sector", "hours", "wage")}
    return model, S, job, ev, cs[:n_ev], pens_t, init_start
