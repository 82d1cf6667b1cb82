"""A small data-generating process for the timing-of-events tests, in the estimator's frame format.

Two-point frailty (so a model with mass points is exactly right), one binary covariate, up to two
bijstand spells per person sharing the person's frailty; monthly grouped competing hazards (work,
elsewhere) and the spell's first programme start (one of two programmes), the programme acting
on the exit-to-work hazard from the month after the start on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRUE_HR = {"coaching": 1.5, "training": 1.0}


def toe_frame(n_persons: int = 3000, *, seed: int = 0, selection: float = 1.2, months: int = 36,
              hr: dict | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hr = {**TRUE_HR, **(hr or {})}
    labels = sorted(hr)
    z = rng.random(n_persons) < 0.4  # the high point
    x = (rng.random(n_persons) < 0.5).astype(float)
    rows = []
    for spell in range(2):
        alive = np.ones(n_persons, dtype=bool) if spell == 0 else rng.random(n_persons) < 0.5
        prog = np.full(n_persons, -1)
        for d in range(months):
            idx = np.flatnonzero(alive)
            if not len(idx):
                break
            band_w = -3.0 if d < 6 else -3.4
            hw = np.exp(band_w + 0.3 * x[idx] + 1.0 * z[idx]
                        + np.where(prog[idx] >= 0, np.log(np.array([hr[lab] for lab in labels]))[prog[idx]], 0.0))
            ho = np.exp(-4.0 - 0.2 * x[idx])
            # month d: the exit (from the state at the end of d-1; none in the spell's first month)
            ex = np.zeros(len(idx), dtype=np.int8)
            if d > 0:
                H = hw + ho
                go = rng.random(len(idx)) < -np.expm1(-H)
                ex = np.where(go, np.where(rng.random(len(idx)) * H < hw, 1, 2), 0).astype(np.int8)
                rows[-1][0]["exit"] = _set_exit(rows[-1], idx, ex)
            stay = ex == 0
            idx = idx[stay]
            alive[:] = False
            alive[idx] = True
            # take-up at the end of month d among those still on bijstand without a programme
            at = prog[idx] < 0
            hs = np.exp(-3.2 + 0.4 * x[idx] + selection * z[idx])
            start = at & (rng.random(len(idx)) < -np.expm1(-hs))
            which = (rng.random(len(idx)) < 0.5).astype(int)
            st_lab = np.where(start, np.asarray(labels, dtype=object)[which], "")
            prog[idx[start]] = which[start]
            frame = pd.DataFrame({"person_id": idx, "spell_id": spell, "duration": d, "exit": -1,
                                  "at_risk_start": at, "start": st_lab,
                                  "programme": np.where(prog[idx] >= 0, np.asarray(labels, dtype=object)[prog[idx]], ""),
                                  "lock_in": False, "x": x[idx]})
            rows.append((frame, idx))
    frames = [f for f, _ in rows]
    out = pd.concat(frames, ignore_index=True)
    out["exit"] = out["exit"].astype(np.int8)
    return out


def _set_exit(prev, idx, ex):
    """The exit of month d belongs to the row of month d-1 (its 'exit at the next month end')."""
    frame, pidx = prev
    pos = np.searchsorted(pidx, idx)
    e = frame["exit"].to_numpy().copy()
    e[pos] = ex
    return e
