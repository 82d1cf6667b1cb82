"""The DML nuisance learners A/B (issue 17, item 1): the former scikit-learn HistGradientBoosting
nuisances against the LightGBM defaults, on the same seeds of both simulators.

``python -m benchmarks.compare_learners own 1 20`` (or ``second``; a fourth argument ``lgbm`` or
``hgb``: that arm only) writes
``benchmarks/results/learners_<sim>_<first>_<last>.csv.gz``: every DynamicDML effect of both arms with
the truth and the CPU seconds of the fit; ``python -m benchmarks.compare_learners --analyse FILE``
prints bias, coverage, SD(error)/mean(SE) per arm and the paired differences (docs/validation.md,
"LightGBM nuisances"). Seeds run on two loky workers, each DML fit on one.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "results"


def former_learners():
    """The nuisance learners DynamicDML used before LightGBM (scikit-learn HistGradientBoosting)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    kw = dict(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=100, early_stopping=False)
    return HistGradientBoostingClassifier(**kw), HistGradientBoostingRegressor(**kw)


def one_seed(task, arms=("hgb", "lgbm")) -> pd.DataFrame:
    from reintegration_effects.effects import DynamicDML, build_risk_sets
    from reintegration_effects.panel import build_panel
    from reintegration_effects.parallel import ParallelConfig

    sim, seed = task
    if sim == "own":
        from reintegration_effects.datasets import load_simulated

        data, truth = load_simulated(6000, seed=seed)
        t = truth.effects[["programme", "group", "outcome", "estimate"]].rename(columns={"estimate": "truth"})
    else:
        from tests import second_dgp as dgp

        data, truth, _ = dgp.load_second_dgp(6000, seed)
        t = truth[["programme", "group", "outcome", "truth"]]
    risk = build_risk_sets(build_panel(data), data)
    out = []
    for arm in arms:
        kw = dict(zip(("propensity_model", "outcome_model"), former_learners(), strict=True)) if arm == "hgb" else {}
        t0 = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = DynamicDML(random_state=seed, parallel=ParallelConfig(n_jobs=1), **kw).fit(risk).effects
        out.append(e.assign(cpu_s=time.process_time() - t0, arm=arm))
    m = pd.concat(out).merge(t, on=["programme", "group", "outcome"])
    return m.assign(sim=sim, seed=seed)


def analyse(d: pd.DataFrame) -> str:
    d = d.assign(err=d["estimate"] - d["truth"], cov=(d["ci_lower"] <= d["truth"]) & (d["truth"] <= d["ci_upper"]))
    lines = [f"seeds {d['seed'].nunique()}"]
    for arm, g in d.groupby("arm"):
        a, gr = g[g["group"] == "all"], g[g["group"] != "all"]
        cells = a.groupby(["programme", "outcome"]).agg(bias=("err", "mean"), sd=("err", "std"),
                                                        se=("std_error", "mean"), cov=("cov", "mean"))
        ratio = cells["sd"] / cells["se"]
        share = [o != "months_bijstand_18m" for o in cells.index.get_level_values(1)]
        lines.append(f"{arm}: largest |bias| (share outcomes) {100 * cells.loc[share, 'bias'].abs().max():.2f} "
                     f"points; coverage all {100 * a['cov'].mean():.1f}%, groups {100 * gr['cov'].mean():.1f}%; "
                     f"SD(error)/mean(SE) min/median/max {ratio.min():.2f}/{ratio.median():.2f}/{ratio.max():.2f}; "
                     f"lowest cell coverage {100 * cells['cov'].min():.0f}%; "
                     f"CPU s per seed {g.groupby('seed')['cpu_s'].first().mean():.1f}")
    if d["arm"].nunique() < 2:
        return "\n".join(lines)
    w = d.pivot_table(index=["seed", "programme", "group", "outcome"], columns="arm", values=["estimate", "std_error"])
    z = ((w["estimate"]["lgbm"] - w["estimate"]["hgb"]) / w["std_error"]["hgb"])[
        w.index.get_level_values("group") == "all"]
    se = (w["std_error"]["lgbm"] / w["std_error"]["hgb"])[w.index.get_level_values("group") == "all"]
    lines.append(f"paired |lgbm - hgb| / SE(hgb), group all: median {z.abs().median():.3f}, 90th percentile "
                 f"{z.abs().quantile(.9):.3f}, max {z.abs().max():.3f}, mean signed {z.mean():+.3f}; "
                 f"SE ratio lgbm/hgb median {np.median(se):.3f}")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "--analyse":
        for path in sys.argv[2:]:
            print(path)
            print(analyse(pd.read_csv(path)))
    else:
        from functools import partial

        from reintegration_effects.parallel import ParallelConfig, map_tasks

        sim, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        arms = tuple(sys.argv[4].split(",")) if len(sys.argv) > 4 else ("hgb", "lgbm")
        res = pd.concat(map_tasks(partial(one_seed, arms=arms), [(sim, s) for s in range(first, last + 1)],
                                  ParallelConfig(n_jobs=2, inner_threads=1)))
        OUT.mkdir(exist_ok=True)
        res.to_csv(OUT / f"learners_{sim}_{first}_{last}{'_' + '_'.join(arms) if len(arms) < 2 else ''}.csv.gz",
                   index=False)
        print(analyse(res))
