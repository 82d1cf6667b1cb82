"""The timing-of-events model on the package's panel: the person-month frame, the implied effects
on leaving bijstand within 6/12/18 months, and the rows of ``hazards.csv`` and ``timing_of_events.csv``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..panel import Panel, month_number
from .exits import panel_covariates, programme_matches
from .settings import DEFAULT_COVARIATES
from .spells import bijstand_rows, spells_by_id
from .terms import Terms
from .timing_of_events import HORIZONS, TimingOfEvents, TimingOfEventsResults, band_dummies
from .toe_kernels import exit_probabilities
from .toe_likelihood import PROCESSES, Block, Likelihood

#: The run's settings (``reintegration-effects run``, survival step): every covariate of the exit
#: models, finer duration bands, lock-in terms from the programme table's end dates, at most four
#: mass points chosen by BIC, the BHHH (outer-product) covariance to keep the run's time down.
RUN_SETTINGS = {"duration_bands": (0, 1, 3, 6, 9, 12, 18, 24, 36, 48, 60, 84), "max_points": 4, "se": "opg",
                "lock_in": True}

#: Columns of ``OUT/tables/timing_of_events.csv`` (one row per quantity; see :func:`toe_table`).
TOE_COLUMNS = ("quantity", "programme", "process", "point", "horizon", "estimate", "std_error", "ci_lower",
               "ci_upper", "persons")


def person_month_frame(panel: Panel, data, *, covariates: Sequence[str] = DEFAULT_COVARIATES,
                       inflow_only: bool = True) -> tuple[pd.DataFrame, dict]:
    """One row per month end on bijstand of every spell that began inside the data window.

    Columns: person_id, spell_id, month (absolute month number), duration (months since the spell
    began, 0 in its first month), exit (the status at the next month end: 0 still on bijstand, 1
    werk, 2 elsewhere, -1 not observed: the window's last month or an unknown destination),
    at_risk_start (no programme started in the spell before this month), start (label of the
    spell's first programme if it started this month, else ""), programme (label of the spell's
    first programme once started, this month included, else ""), lock_in (that programme covers
    this month end), then the covariate terms of the month (as :func:`exit_person_periods`).

    ``inflow_only`` (default True): spells already running at the window start are left out (they
    are selected on the unobservable: the initial-conditions problem). Returns the frame and a
    dict of counts for the run log (spells and persons kept and left out).
    """
    rows = bijstand_rows(panel)
    sp = spells_by_id(panel)
    ok = sp["covers_month_end"].fillna(False).to_numpy(bool) & sp["in_window"].fillna(False).to_numpy(bool)
    lt = sp["left_truncated"].fillna(True).to_numpy(bool)
    keep_sp = ok & ~lt if inflow_only else ok
    info = {"spells": int((keep_sp & ok).sum()), "spells_left_out": int((ok & ~keep_sp).sum()),
            "persons_left_out": int(sp.loc[ok & ~keep_sp, "person_id"].nunique())}
    idx = np.flatnonzero(keep_sp[rows.sid]) if len(rows.sid) else np.zeros(0, dtype=np.int64)
    sid, k, abs_m = rows.sid[idx].astype(np.int64), rows.k[idx].astype(np.int64), rows.abs_m[idx].astype(np.int64)
    last_abs = np.where(sp["last_month"].notna(), month_number(sp["last_month"].fillna(pd.Timestamp("2262-01-01"))),
                        np.iinfo(np.int32).max).astype(np.int64)
    dest = sp["exit_destination"].astype(object).to_numpy()
    censored = sp["right_censored"].to_numpy(bool)
    cause_sp = np.where(censored | pd.isna(dest), -1, np.where(dest == "werk", 1, 2))
    ex = np.where(abs_m == last_abs[sid], cause_sp[sid], 0)
    ex[abs_m >= panel.grid.last_window_month] = -1
    # the spell's first programme start (ties: the label first in sort order)
    pm = programme_matches(panel, data, None)
    n_sp = len(sp)
    big = np.iinfo(np.int64).max
    first = np.full(n_sp, big, dtype=np.int64)
    label = np.full(n_sp, "", dtype=object)
    lo = np.full(n_sp, big, dtype=np.int64)
    hi = np.full(n_sp, -1, dtype=np.int64)
    if len(pm):
        pm = pm.sort_values(["spell_id", "start_abs", "programme"], kind="mergesort").drop_duplicates("spell_id")
        s = pm["spell_id"].to_numpy(np.int64)
        first[s] = pm["start_abs"].to_numpy(np.int64)
        label[s] = pm["programme"].astype(str).to_numpy()
        lo[s], hi[s] = pm["first_cov"].to_numpy(np.int64), pm["last_cov"].to_numpy(np.int64)
    f = first[sid]
    out = pd.DataFrame({"person_id": sp["person_id"].astype(str).to_numpy()[sid], "spell_id": sid, "month": abs_m,
                        "duration": k, "exit": ex.astype(np.int8), "at_risk_start": abs_m <= f,
                        "start": np.where(abs_m == f, label[sid], ""), "programme": np.where(abs_m >= f, label[sid], ""),
                        "lock_in": (abs_m >= f) & (abs_m >= lo[sid]) & (abs_m <= hi[sid])})
    persons = panel.persons.reset_index(drop=True)
    pcode = np.asarray(pd.Categorical(sp["person_id"].astype(str), categories=persons["person_id"].astype(str)).codes,
                       dtype=np.int64)
    terms = Terms(len(sid))
    # history as bands (0, 1-12, 13-36 months), not linear: they change rarely, so months collapse well
    panel_covariates(terms, panel, rows.pos[idx], abs_m, k, pcode[sid], list(covariates), "bands")
    X = terms.frame(terms.names)
    # a level present in the frame but never at risk is dropped by the estimator's checks; drop empty ones here
    X = X.loc[:, [c for c in X.columns if X[c].to_numpy().any()]]
    return pd.concat([out, X.reset_index(drop=True)], axis=1), info


def fit_panel(panel: Panel, data, *, covariates: Sequence[str] = DEFAULT_COVARIATES, **kwargs):
    """The person-month frame and the fitted :class:`TimingOfEvents` (keyword arguments go to it)."""
    frame, info = person_month_frame(panel, data, covariates=covariates)
    fixed = {"person_id", "spell_id", "month", "duration", "exit", "at_risk_start", "start", "programme", "lock_in"}
    # a term that is zero in every month at risk of one of the hazards (year=YYYY of the month after the
    # window's last, seen only where the exit is not observed) cannot be estimated there: left out
    ex, ar = frame["exit"].to_numpy() >= 0, frame["at_risk_start"].to_numpy(bool)
    cov = [c for c in frame.columns if c not in fixed and frame[c].to_numpy()[ex].any()
           and frame[c].to_numpy()[ar].any()]
    res = TimingOfEvents(**kwargs).fit(frame, covariates=cov)
    return res, info


# ---- implied effects on leaving bijstand within h months ----------------------------------------------
def _starter_likelihood(res: TimingOfEventsResults) -> tuple[Likelihood, np.ndarray]:
    """The likelihood restricted to the starters' persons (their posterior point probabilities)."""
    lik = res.prep.lik
    who = np.unique(res.prep.starters["pid"].to_numpy())
    remap = np.full(lik.N, -1, dtype=np.int64)
    remap[who] = np.arange(len(who))

    def sub(b: Block) -> Block:
        m = remap[b.pid] >= 0
        return Block(remap[b.pid[m]], b.X[m], b.y[m], b.n[m])
    return Likelihood(sub(lik.e), sub(lik.s), len(who), lik.L, lik.form), remap


def _posterior(res: TimingOfEventsResults, theta: np.ndarray, sublik) -> np.ndarray:
    lay = res.prep.lik.layout(res.n_points)
    a = lay.unpack(theta)[4]
    Lp = sublik.person_loglik(theta, res.n_points) + (a - np.logaddexp.reduce(a))[None, :]
    return np.exp(Lp - np.logaddexp.reduce(Lp, axis=1)[:, None])


def _implied_design(res: TimingOfEventsResults, horizons, W, remap) -> dict:
    """What :func:`_implied` needs of each programme's starters that does not depend on the
    parameters."""
    prep, st = res.prep, res.prep.starters
    H = max(horizons)
    out = {}
    for lab in prep.labels:
        sel = np.flatnonzero(st["label"].to_numpy() == lab)
        if not len(sel):
            continue
        d0 = st["duration"].to_numpy()[sel]
        L = st["lock_months"].to_numpy()[sel]
        j = np.arange(H)
        out[lab] = {"n": len(sel), "C": prep.start_cov[sel],
                    "w": W[remap[st["pid"].to_numpy()[sel]]],  # (starters, K)
                    # the duration band of each starter's months (starters*H): the band dummies' one 1
                    "band": band_dummies((d0[:, None] + j[None, :]).ravel(), prep.bands).argmax(axis=1),
                    "lock": (j[None, :] < L[:, None]).ravel()}
    return out


def _implied(res: TimingOfEventsResults, theta: np.ndarray, horizons, design: dict) -> tuple[np.ndarray, np.ndarray]:
    """P(leaving bijstand within h months after the start) with and without the programme terms,
    averaged over each programme's starters and their posterior mass-point probabilities (in
    ``design``, from :func:`_implied_design`): array (labels, horizons, 2), and its derivatives
    with respect to ``theta`` (labels, horizons, 2, parameters; the posteriors held)."""
    prep, K = res.prep, res.n_points
    lay = prep.lik.layout(K)
    sl = lay.slices()
    bw, bo, _, V, a = lay.unpack(theta)
    H = max(horizons)
    hs = np.array(sorted(set(horizons)), dtype=np.int64)
    order = [int(np.searchsorted(hs, h)) for h in horizons]
    nb, nc = len(prep.bands), prep.n_cov
    names = prep.exit_names
    out = np.full((len(prep.labels), len(horizons), 2), np.nan)
    jac = np.zeros((len(prep.labels), len(horizons), 2, len(theta)))
    shift = np.ascontiguousarray(V[:, :2])
    for li, lab in enumerate(prep.labels):
        if lab not in design:
            continue
        dz = design[lab]
        C, w, band, lock = dz["C"], dz["w"], dz["band"], dz["lock"]
        base_w = bw[:nb][band] + np.repeat(C @ bw[nb:nb + nc], H)
        base_o = bo[:nb][band] + np.repeat(C @ bo[nb:nb + nc], H)
        post = names.index(f"programme={lab}")
        has_lock = lab in prep.lock_labels
        li_ = names.index(f"programme={lab}:lock_in") if has_lock else None
        post_on = ~lock if has_lock else np.ones(len(lock), dtype=bool)
        lock_on = lock if has_lock else np.zeros(len(lock), dtype=bool)
        no_term = np.zeros(len(lock), dtype=bool)
        for t in (0, 1):  # with the programme terms, without
            ew, eo = base_w.copy(), base_o.copy()
            if t == 0:
                ew[post_on] += bw[post]
                eo[post_on] += bo[post]
                if has_lock:
                    ew[lock_on] += bw[li_]
                    eo[lock_on] += bo[li_]
            value, g_band = np.zeros(len(hs)), np.zeros((len(hs), 2, nb))
            g_cov, g_post, g_lock = np.zeros((dz["n"], len(hs), 2)), np.zeros((len(hs), 2)), np.zeros((len(hs), 2))
            g_point = np.zeros((len(hs), K, 2))
            exit_probabilities(ew, eo, shift, w, H, hs, band, post_on if t == 0 else no_term,
                               lock_on if t == 0 else no_term, value, g_band, g_cov, g_post, g_lock, g_point)
            for hi, o in enumerate(order):
                out[li, hi, t] = value[o]
                for c, block in ((0, sl["work"]), (1, sl["other"])):
                    row = jac[li, hi, t]
                    row[block.start:block.start + nb] = g_band[o, c]
                    row[block.start + nb:block.start + nb + nc] = C.T @ g_cov[:, o, c]
                    if t == 0:
                        row[block.start + post] = g_post[o, c]
                        if has_lock:
                            row[block.start + li_] = g_lock[o, c]
                    for k in range(1, K):
                        row[sl["points"].start + 3 * (k - 1) + c] = g_point[o, k, c]
    return out, jac


def implied_effects(res: TimingOfEventsResults, horizons: Sequence[int] = HORIZONS) -> pd.DataFrame:
    """Implied P(leaving bijstand within h months of the start) for each programme's starters, with
    and without the programme terms (covariates held at the start month, duration advancing, the
    lock-in as long as the starter's programme covered month ends), and their difference; delta-
    method standard errors (analytic gradient over the exit hazards' parameters and the mass
    points, the starters' posterior point probabilities held at their estimate: their own sampling
    variation is left out of the standard error). Leaving bijstand = the first exit of the spell; a
    later return is not counted (unlike ``off_bijstand_12m``)."""
    horizons = tuple(int(h) for h in horizons)
    sublik, remap = _starter_likelihood(res)
    W = _posterior(res, res.params_, sublik)
    design = _implied_design(res, horizons, W, remap)
    f0, d0 = _implied(res, res.params_, horizons, design)
    vals = np.concatenate([f0.reshape(-1, 2), (f0[..., 0] - f0[..., 1]).reshape(-1, 1)], axis=1).ravel()
    J = np.concatenate([d0.reshape(-1, 2, d0.shape[-1]), (d0[:, :, 0] - d0[:, :, 1]).reshape(-1, 1, d0.shape[-1])],
                       axis=1).reshape(len(vals), -1)
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", J, res.cov_, J), 0, None))
    zc = stats.norm.ppf(1 - res.alpha / 2)
    rows = []
    counts = res.prep.starters["label"].value_counts()
    q = ("implied_exit_with_programme", "implied_exit_without_programme", "implied_effect")
    i = 0
    for _li, lab in enumerate(res.prep.labels):
        for h in horizons:
            for qi in range(3):
                rows.append({"quantity": q[qi], "programme": lab, "horizon": h, "estimate": vals[i],
                             "std_error": se[i], "ci_lower": vals[i] - zc * se[i], "ci_upper": vals[i] + zc * se[i],
                             "persons": int(counts.get(lab, 0))})
                i += 1
    return pd.DataFrame(rows)


# ---- output tables ---------------------------------------------------------------------------------------
def hazard_rows(res: TimingOfEventsResults) -> pd.DataFrame:
    """Rows for ``hazards.csv`` (model ``timing_of_events``): the exit-to-work hazard's terms, the
    programme terms ``programme=LABEL`` and ``programme=LABEL:lock_in`` among them."""
    s = res.summary[res.summary["process"] == "exit_to_work"].drop(columns="process").reset_index(drop=True)
    s.insert(0, "model", "timing_of_events")
    s["engine"] = "timing_of_events"
    first = ["model", "term", "hazard_ratio", "ci_lower", "ci_upper"]
    return s[first + [c for c in s.columns if c not in first]]


def toe_table(res: TimingOfEventsResults, implied: pd.DataFrame | None = None) -> pd.DataFrame:
    """``timing_of_events.csv``: mass points (one row per point and process: the log-hazard shift;
    ``persons`` = the expected persons at the point), their probabilities, the selection
    correlations, the number of points, log-likelihood, AIC and BIC of the chosen model, and the
    implied effects on leaving bijstand within 6/12/18 months (see :func:`implied_effects`)."""
    N = res.n_persons
    rows = []
    mp = res.mass_points
    for _, r in mp.iterrows():
        persons = int(round(r["probability"] * N))
        rows.append({"quantity": "probability", "point": int(r["point"]), "estimate": r["probability"], "persons": persons})
        for p in PROCESSES:
            rows.append({"quantity": "mass_point", "process": p, "point": int(r["point"]), "estimate": r[p],
                         "persons": persons})
    for k, v in res.selection_correlation.items():
        rows.append({"quantity": "selection_correlation", "process": k, "estimate": v, "persons": N})
    for qn, v in (("n_points", res.n_points), ("log_likelihood", res.log_likelihood), ("aic", res.aic),
                  ("bic", res.bic), ("converged", float(res.converged))):
        rows.append({"quantity": qn, "estimate": float(v), "persons": N})
    out = pd.DataFrame(rows)
    if implied is not None and len(implied):
        out = pd.concat([out, implied], ignore_index=True)
    for c in TOE_COLUMNS:
        if c not in out:
            out[c] = np.nan
    out["point"] = out["point"].astype("Int64")
    out["horizon"] = out["horizon"].astype("Int64")
    return out[list(TOE_COLUMNS)]
