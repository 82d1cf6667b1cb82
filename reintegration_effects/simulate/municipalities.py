"""Several simulated municipalities with known municipality effects and different populations (issue 16a).

``simulate_municipalities(k)`` simulates ``k`` municipalities with :func:`simulate_municipality`
(one run each, own seed) and joins their tables; ``benefits`` gains the ``municipality`` column
(codes ``GM9001``, ``GM9002``, ...: numbers no real Dutch municipality has). Municipality ``j``
(0-based) has

- a disadvantage score ``a_j = j / (k - 1)``: its population has more persons of non-western
  migration background (15% -> 75%), more low education (30% -> 85% of the known; high 25% -> 3%),
  an older stock (55+: 15% -> 50%);
  the stock's elapsed durations follow from the model's own steady state, so they are longer too;
- a TRUE effect on the exit-to-work hazard, ``hazard_ratio_j = exp(effect_range * (a_j - 1/2))``
  (default ``effect_range`` 0.3: 0.86 ... 1.16): the most disadvantaged population meets the most
  effective practice, so a raw comparison ranks the municipalities the wrong way round and a
  composition-adjusted one should not.

Sizes differ (weights 1.0, 0.6, 1.4, 0.4, 0.8, 1.2, repeating; ``n_persons`` is the total), so the
funnel plot has a spread. The truth (``municipalities.csv``: code, hazard_ratio_work, persons and the
composition settings) goes with :func:`write_municipalities` into ``<folder>_truth/``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from .params import SimulatedMunicipality, SimulationParams

SIZE_WEIGHTS = (1.0, 0.6, 1.4, 0.4, 0.8, 1.2)
CODE_BASE = 9001


def municipality_codes(k: int) -> list[str]:
    """The simulated codes GM9001, GM9002, ... (no real municipality has them)."""
    return [f"GM{CODE_BASE + j:04d}" for j in range(int(k))]


def municipality_params(k: int, *, effect_range: float = 0.3, params: SimulationParams | None = None
                        ) -> list[tuple[str, float, SimulationParams]]:
    """(code, true hazard ratio of exit to work, parameters) of each of ``k`` municipalities."""
    base = params if params is not None else SimulationParams()
    out = []
    for j, code in enumerate(municipality_codes(k)):
        a = j / (k - 1) if k > 1 else 0.5
        hr = float(np.exp(effect_range * (a - 0.5)))
        p = dataclasses.replace(base)
        nw = 0.15 + 0.60 * a
        p.migration_probs = {"dutch": 1.0 - 0.10 - nw - 0.005, "western": 0.10, "non_western": nw, "unknown": 0.005}
        low = 0.30 + 0.55 * a
        high = 0.25 - 0.22 * a
        p.education_probs = {"low": low, "medium": 1.0 - low - high, "high": high}
        old = 0.15 + 0.35 * a  # share 55+ of the stock
        rest = (1.0 - old) / 0.69
        p.age_probs_stock = tuple(float(x) for x in (0.10 * rest, 0.13 * rest, 0.20 * rest, 0.26 * rest, old))
        p.work = {**base.work, "base": float(base.work["base"] + np.log(hr))}
        p.municipality = code
        out.append((code, hr, p))
    return out


def simulate_municipalities(k: int, n_persons: int = 6000, *, seed: int = 20150101, effect_range: float = 0.3,
                            **kwargs) -> tuple[SimulatedMunicipality, pd.DataFrame]:
    """``k`` >= 2 simulated municipalities joined into one register, and their truth.

    Returns the joined :class:`SimulatedMunicipality` (tables with ``benefits.municipality``; the
    first municipality is the own one: ``study`` names it in ``municipality_code``; the truth
    tables of the programmes are those of all municipalities together) and the municipality truth
    (``municipality``, ``hazard_ratio_work``, ``persons``, ``non_western``, ``low_education``,
    ``stock_55_plus``). ``kwargs`` go to :func:`simulate_municipality`.
    """
    from . import simulate_municipality

    k = int(k)
    if k < 2:
        raise ValueError(f"simulate_municipalities needs k >= 2 municipalities, found {k}")
    weights = np.resize(np.asarray(SIZE_WEIGHTS), k)
    sizes = np.maximum(np.round(n_persons * weights / weights.sum()).astype(int), 10)
    seeds = np.random.SeedSequence(int(seed)).generate_state(k)
    sims, truth = [], []
    for (code, hr, p), n, s in zip(municipality_params(k, effect_range=effect_range), sizes, seeds, strict=True):
        sim = simulate_municipality(int(n), seed=int(s), params=p, **kwargs)
        sims.append((code, sim))
        truth.append({"municipality": code, "hazard_ratio_work": hr, "persons": int(n),
                      "non_western": p.migration_probs["non_western"], "low_education": p.education_probs["low"],
                      "stock_55_plus": p.age_probs_stock[-1]})
    tables: dict[str, pd.DataFrame] = {}
    for name in sims[0][1].tables:
        parts = []
        for code, sim in sims:
            t = sim.tables[name].copy()
            t["person_id"] = code + "_" + t["person_id"].astype(str)
            if name == "benefits":
                t["municipality"] = np.where(t["benefit"].astype(str) == "bijstand", code, None)
            parts.append(t)
        tables[name] = pd.concat(parts, ignore_index=True)
    first = sims[0][1]
    study = {**first.study, "municipality": "Simstad", "municipality_code": sims[0][0], "benchmark": "all"}
    used = set(tables["programmes"]["programme"])
    study["programmes"] = {key: v for sim in (s for _, s in sims) for key, v in sim.study["programmes"].items()
                           if key in used}
    effects = pd.concat([s.true_effects.assign(municipality=c) for c, s in sims], ignore_index=True)
    hrs = pd.concat([s.true_hazard_ratios.assign(municipality=c) for c, s in sims], ignore_index=True)
    indiv = pd.concat([s.individual_effects.assign(municipality=c) for c, s in sims], ignore_index=True)
    joined = SimulatedMunicipality(tables=tables, study=study, true_effects=effects, true_hazard_ratios=hrs,
                                   individual_effects=indiv, params=first.params,
                                   timings={"total": sum(s.timings.get("total", 0.0) for _, s in sims)})
    return joined, pd.DataFrame(truth)


def write_municipalities(sim: SimulatedMunicipality, truth: pd.DataFrame, folder, fmt: str = "csv"
                         ) -> tuple[Path, Path]:
    """:func:`~reintegration_effects.simulate.write_simulation`, plus ``municipalities.csv`` (the
    true municipality effects) in ``<folder>_truth/``."""
    from . import write_simulation

    folder, truth_dir = write_simulation(sim, folder, fmt=fmt)
    truth.to_csv(truth_dir / "municipalities.csv", index=False)
    return folder, truth_dir
