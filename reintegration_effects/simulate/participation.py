"""Participation spells of the simulated municipality and their true effects (issue 16b, ``--participation``).

Drawn after the month loop from their own hashed uniforms, so the other tables and truths are the
same with or without them.

Model. Each person is in a participation activity or not at every month end (a two-state chain
over the grid months): from not participating the person enters with monthly probability
``1 - exp(-h_in)``, from participating leaves with ``1 - exp(-h_out)``, both on the uniform
``u(person, month)``. ``h_in`` depends on what the analysis sees: the state at the month end
(bijstand highest; bijstand met werk, werk, WW and overig lower), sex, age band and education at
that month, status holder; ``h_out`` on the state (work ends participation faster). On entry the
activity (volunteering, education, informal_care, social_activation, other) is drawn on a second
uniform ``v(person, month)``, with probabilities that depend on age, status holder and on whether
the participation programme acts. The activity is kept until the person leaves.

Effect. The simulator's ``participation`` programme (started in month t0, running ``L`` months)
multiplies ``h_in`` by ``hr_in_running`` and ``h_out`` by ``hr_out_running`` in months t0+1 ..
t0+L, by ``hr_in_post`` / ``hr_out_post`` afterwards, and shifts the activity drawn on entry
towards volunteering. The other programmes act on participation only through the work they cause.

Truth. For every programme start (person i, month t0) the chain is run again over t0+1 .. t0+18
from the person's own state at month end t0 on the same uniforms, with the clone's labour-market
states (``cs``) and the clone's own programme starts (the simulator's "not now" counterfactual),
exactly as the other outcomes. ``participating_18m`` / ``volunteering_18m``: participating / in
volunteering at month end t0+18, actual minus counterfactual; ``true_effects`` rows as for the
other outcomes (the ATT over the starts whose follow-up ends inside the window).

Spells: a run of participating month ends a..b with one activity is a spell from a day of month a
to a day of month b+1 before its last day (so it covers month ends a..b and no other); a run still
going at the window end has an open end.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import contract as C
from .params import BMW, FOLLOW_UP, PROGRAMMES, WW, B, O, W, hash_uniform

SALT_CHAIN, SALT_ACTIVITY, SALT_START, SALT_END = 101, 102, 103, 104
ACTIVITIES = C.PARTICIPATION_ACTIVITIES
PARTICIPATION_PROGRAMME = PROGRAMMES.index("participation")
NO_START = -10**6  # an empty slot of the programme-start matrices


def _d(**kw):
    return field(default_factory=lambda: kw)


@dataclass
class ParticipationParams:
    """The numbers of the participation model (written to the truth folder as participation_params.json)."""

    #: monthly entry hazard by state at the month end
    h_in: dict = _d(bijstand=0.035, bijstand_met_werk=0.015, werk=0.004, ww=0.008, overig=0.006)
    #: log-hazard terms of entry
    female: float = 0.25
    age_18_26: float = -0.3
    age_50_plus: float = 0.2
    education_low: float = 0.2
    status_holder: float = 0.4
    #: monthly exit hazard by state at the month end
    h_out: dict = _d(bijstand=0.05, bijstand_met_werk=0.10, werk=0.15, ww=0.10, overig=0.06)
    #: the participation programme's hazard ratios (running: months t0+1..t0+L; post: afterwards)
    hr_in_running: float = 6.0
    hr_out_running: float = 0.4
    hr_in_post: float = 2.0
    hr_out_post: float = 0.7
    #: activity probabilities on entry (order of contract.PARTICIPATION_ACTIVITIES)
    activity_base: tuple = (0.22, 0.15, 0.18, 0.30, 0.15)
    activity_programme: tuple = (0.50, 0.10, 0.05, 0.30, 0.05)
    #: status holders and the young: more education (added to the base, then renormalised)
    education_extra: float = 0.25

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_STATE_KEYS = {B: "bijstand", BMW: "bijstand_met_werk", W: "werk", WW: "ww", O: "overig"}


def _state_table(values: dict) -> np.ndarray:
    out = np.zeros(8)
    for code, key in _STATE_KEYS.items():
        out[code] = values[key]
    return out


class _Chain:
    """The monthly chain: hazards from person traits, state and programme phase; one step at a time."""

    def __init__(self, pp: ParticipationParams, pers, model, seed: int):
        self.pp, self.pers, self.model, self.seed = pp, pers, model, seed
        self.h_in, self.h_out = _state_table(pp.h_in), _state_table(pp.h_out)
        base = np.asarray(pp.activity_base, float)
        extra = np.zeros(len(ACTIVITIES))
        extra[ACTIVITIES.index("education")] = pp.education_extra
        self.p_base = base / base.sum()
        self.p_edu = (base + extra) / (base + extra).sum()
        self.p_prog = np.asarray(pp.activity_programme, float) / np.sum(pp.activity_programme)

    def step(self, pid, t, z, act, state, phase):
        """Participation (bool) and activity (int, -1 none) at month end t from those at t-1.

        ``phase``: 0 no participation programme acting, 1 running, 2 after it.
        """
        pp = self.pp
        age = self.model.age_months(pid, t) // 12
        lh = (np.log(self.h_in[state]) + pp.female * self.pers.female[pid] + pp.age_18_26 * (age < 27)
              + pp.age_50_plus * (age >= 50) + pp.education_low * (self.pers.edu[pid] == 0)
              + pp.status_holder * self.pers.sh[pid].astype(bool))
        lh = lh + np.where(phase == 1, np.log(pp.hr_in_running), np.where(phase == 2, np.log(pp.hr_in_post), 0.0))
        lo = np.log(self.h_out[state]) + np.where(phase == 1, np.log(pp.hr_out_running),
                                                  np.where(phase == 2, np.log(pp.hr_out_post), 0.0))
        u = hash_uniform(self.seed, pid, t, SALT_CHAIN)
        enter = ~z & (u < -np.expm1(-np.exp(lh)))
        leave = z & (u < -np.expm1(-np.exp(lo)))
        z_new = (z & ~leave) | enter
        v = hash_uniform(self.seed, pid, t, SALT_ACTIVITY)
        probs = np.where((phase > 0)[:, None], self.p_prog[None, :],
                         np.where(((age < 27) | self.pers.sh[pid].astype(bool))[:, None], self.p_edu[None, :],
                                  self.p_base[None, :]))
        drawn = (np.cumsum(probs, axis=1) < v[:, None]).sum(axis=1).clip(0, len(ACTIVITIES) - 1)
        act_new = np.where(enter, drawn, np.where(z_new, act, -1))
        return z_new, act_new


def _phase(t, starts_t0, starts_len) -> np.ndarray:
    """0/1/2 per row: the latest participation-programme start before t is running (t <= t0+L) or over."""
    real = starts_t0 > NO_START
    running = real & (starts_t0 < t) & (t <= starts_t0 + starts_len)
    after = real & (starts_t0 < t) & (t > starts_t0 + starts_len)
    return np.where(running.any(axis=1), 1, np.where(after.any(axis=1), 2, 0))


def _programme_matrix(keys: np.ndarray, n_keys: int, t0: np.ndarray, months: np.ndarray, width: int = 4):
    """Per key (person or event), up to ``width`` participation-programme starts (t0, length); -big = none."""
    t_out = np.full((n_keys, width), NO_START, dtype=np.int64)
    l_out = np.zeros((n_keys, width), dtype=np.int64)
    order = np.lexsort((t0, keys))
    keys, t0, months = keys[order], t0[order], months[order]
    rank = np.arange(len(keys)) - np.searchsorted(keys, keys, side="left")
    ok = rank < width
    t_out[keys[ok], rank[ok]] = t0[ok]
    l_out[keys[ok], rank[ok]] = months[ok]
    return t_out, l_out


def simulate_participation(p, cal, pers, model, st_nt, ev, cs, ids, pp: ParticipationParams | None = None):
    """Participation spells, the actual/counterfactual outcomes per programme start, and the true effects.

    Returns ``(spells, outcomes, true_effects)``: the ``participation`` input table; a frame aligned
    with the events ``ev`` (``<outcome>_actual``, ``_counterfactual``, ``_effect`` for both outcomes);
    and the contract effects rows (method truth) of the participation outcomes per programme and group
    (filled by :func:`true_effects_rows` from the individual effects).
    """
    pp = pp or ParticipationParams()
    chain = _Chain(pp, pers, model, p.seed)
    n, T = st_nt.shape
    prog = ev["prog"].astype(np.int64)
    is_part = prog == PARTICIPATION_PROGRAMME
    ev_pid, ev_t0, ev_len = ev["pid"].astype(np.int64), ev["t0"].astype(np.int64), ev["months"].astype(np.int64)
    pt, pl = _programme_matrix(ev_pid[is_part], n, ev_t0[is_part], ev_len[is_part])
    # actual chain over the whole grid
    pid_all = np.arange(n, dtype=np.int64)
    z = np.zeros(n, dtype=bool)
    act = np.full(n, -1, dtype=np.int64)
    Z = np.zeros((n, T), dtype=bool)
    A = np.full((n, T), -1, dtype=np.int8)
    for t in range(T):
        z, act = chain.step(pid_all, t, z, act, st_nt[:, t].astype(np.int64), _phase(t, pt, pl))
        Z[:, t], A[:, t] = z, act
    # counterfactual chains of the programme starts: the clone's states and its own programme starts
    n_ev = len(ev_pid)
    if model.clone_starts:
        c_ev, c_t, c_prog, c_len = (np.concatenate(x) for x in zip(*model.clone_starts, strict=True))
    else:
        c_ev = c_t = c_prog = c_len = np.zeros(0, dtype=np.int64)
    cp = c_prog.astype(np.int64) == PARTICIPATION_PROGRAMME
    ct, cl = _programme_matrix(c_ev[cp].astype(np.int64), n_ev, c_t[cp].astype(np.int64), c_len[cp].astype(np.int64))
    # the person's participation-programme starts before t0 still act in the counterfactual
    before = pt[ev_pid] < ev_t0[:, None]
    ct = np.concatenate([np.where(before, pt[ev_pid], NO_START), ct], axis=1)
    cl = np.concatenate([np.where(before, pl[ev_pid], 0), cl], axis=1)
    tt = np.minimum(ev_t0, T - 1)
    zc, ac = Z[ev_pid, tt].copy(), A[ev_pid, tt].astype(np.int64)
    for k in range(1, FOLLOW_UP + 1):
        t = ev_t0 + k
        inside = t <= T - 1
        state = np.where(inside, cs[:, k], O).astype(np.int64)
        state = np.where(state < 0, O, state)
        z1, a1 = chain.step(ev_pid, np.minimum(t, T - 1), zc, ac, state, _phase(t[:, None], ct, cl))
        zc, ac = np.where(inside, z1, zc), np.where(inside, a1, ac)
    t18 = ev_t0 + FOLLOW_UP
    ok = t18 <= T - 1
    t18c = np.minimum(t18, T - 1)
    vol = ACTIVITIES.index("volunteering")
    actual = {"participating_18m": Z[ev_pid, t18c], "volunteering_18m": A[ev_pid, t18c] == vol}
    counter = {"participating_18m": zc, "volunteering_18m": ac == vol}
    out = {}
    for o in C.PARTICIPATION_OUTCOMES:
        a_ = np.where(ok, actual[o].astype(float), np.nan)
        c_ = np.where(ok, counter[o].astype(float), np.nan)
        out[f"{o}_actual"], out[f"{o}_counterfactual"], out[f"{o}_effect"] = a_, c_, a_ - c_
    return _spells(cal, Z, A, ids, p.seed), pd.DataFrame(out)


def _spells(cal, Z: np.ndarray, A: np.ndarray, ids, seed: int) -> pd.DataFrame:
    """Runs of one activity over month ends a..b as dated spells (see the module docstring)."""
    n, T = A.shape
    a = A.astype(np.int16)
    prev = np.concatenate([np.full((n, 1), -1, np.int16), a[:, :-1]], axis=1)
    nxt = np.concatenate([a[:, 1:], np.full((n, 1), -1, np.int16)], axis=1)
    pi, first = np.nonzero((a >= 0) & (a != prev))
    pj, last = np.nonzero((a >= 0) & (a != nxt))  # same order (row-major): run k starts at first[k], ends last[k]
    assert np.array_equal(pi, pj)
    acts = a[pi, first]
    days_first = cal.days_in_month(first)
    d0 = 1 + np.floor(hash_uniform(seed, pi, first, SALT_START) * days_first).astype(np.int64)
    start = cal.first_day(first) + (d0 - 1).astype("timedelta64[D]")
    e_m = np.minimum(last + 1, T - 1)
    days_end = cal.days_in_month(e_m)
    d1 = 1 + np.floor(hash_uniform(seed, pi, e_m, SALT_END) * (days_end - 1)).astype(np.int64)  # before the last day
    end = (cal.first_day(e_m) + (d1 - 1).astype("timedelta64[D]")).astype("datetime64[ns]")
    end = np.where(last >= T - 1, np.datetime64("NaT"), end)
    df = pd.DataFrame({"person_id": np.asarray(ids, dtype=object)[pi],
                       "start": start.astype("datetime64[ns]"), "end": end.astype("datetime64[ns]"),
                       "activity": np.asarray(ACTIVITIES, dtype=object)[acts]})
    return df.sort_values(["person_id", "start"], kind="mergesort").reset_index(drop=True)


def true_effects_rows(indiv: pd.DataFrame) -> pd.DataFrame:
    """Contract effects rows (method truth) of the participation outcomes, per programme and group, from
    the individual effects (the ATT over the starts in the truth), as ``compute_truth`` does for the others."""
    used = indiv[indiv["in_truth"]]
    groups = [("all", None, None)] + [(C.group_label(dim, v), col, v) for dim, (col, vals) in
                                      C.GROUP_DIMENSIONS.items() for v in vals]
    rows = []
    for prog in PROGRAMMES:
        sub = used[used["programme"] == prog]
        for label, col, v in groups:
            g = sub if col is None else sub[sub[col].astype(str) == v]
            for o in C.PARTICIPATION_OUTCOMES:
                est = float(g[f"{o}_effect"].mean()) if len(g) else np.nan
                rows.append(dict(programme=prog, group=label, outcome=o, method="truth", estimate=est,
                                 std_error=np.nan, ci_lower=np.nan, ci_upper=np.nan, n_treated=len(g),
                                 n_control=np.nan))
    return pd.DataFrame(rows, columns=list(C.EFFECTS_COLUMNS))


def add_participation(p, cal, pers, model, st_nt, ev, cs, tables, indiv, true_effects,
                      pp: ParticipationParams | None = None):
    """Simulate participation and add it to a simulation's pieces: returns ``(spells, individual_effects,
    true_effects)`` with the participation outcome columns joined to the individual effects (by person
    and month of the start) and the participation truth rows appended to the true effects."""
    ids = tables["persons"]["person_id"].to_numpy()
    spells, y = simulate_participation(p, cal, pers, model, st_nt, ev, cs, ids, pp)
    y.insert(0, "person_id", ids[ev["pid"].astype(np.int64)])
    y.insert(1, "month_index", (ev["t0"].astype(np.int64) - cal.ws_m).astype(np.int64))
    indiv = indiv.merge(y, on=["person_id", "month_index"], how="left", validate="one_to_one")
    truth = pd.concat([true_effects, true_effects_rows(indiv)], ignore_index=True)
    return spells, indiv, truth
