"""effects_truth: written for a run on the built-in simulated municipality, absent for real data."""

from __future__ import annotations

import json
import shutil

import pandas as pd

from reintegration_effects.dataset import DEFAULT_SEED
from reintegration_effects.outputs import protect_table


def test_truth_is_written_for_a_simulated_run_and_absent_otherwise(tmp_path):
    """A 300-person simulated run writes effects_truth (the simulator's true_effects, groups with
    <10 starts suppressed, counts rounded); the same data given as --data (real data, as far as the
    run knows) writes none."""
    from reintegration_effects.pipeline import run

    sim = tmp_path / "sim"
    run(None, sim, seed=DEFAULT_SEED, persons=300, with_report=False, echo=lambda s: None, cache=tmp_path / "c",
        dml_repetitions=1)  # one DML split: the test is about the truth table
    assert json.loads((sim / "manifest.json").read_text())["simulated"] is True
    truth = pd.read_csv(sim / "tables" / "effects_truth.csv")
    assert list(truth.columns[:5]) == ["programme", "group", "outcome", "method", "truth"]
    assert (truth.method == "truth").all()
    raw = pd.read_csv(sim / "input_truth" / "true_effects.csv")
    # the built-in run simulates the duration truth too (issue 14a): its restricted means join
    raw = pd.concat([raw, pd.read_csv(sim / "input_truth" / "true_rmst.csv")], ignore_index=True)
    assert raw.outcome.str.startswith("rmst_bijstand_").any()
    assert len(truth) == len(raw)
    shown = truth[~truth.suppressed]
    assert len(shown) and (shown.n_treated >= 10).all() and (shown.n_treated % 5 == 0).all()
    m = shown.merge(raw, on=["programme", "group", "outcome"])
    pd.testing.assert_series_equal(m.truth, m.estimate, check_names=False, rtol=1e-12)
    small = raw[(raw.n_treated < 10)].merge(truth, on=["programme", "group", "outcome"])
    assert len(small) and small.suppressed.all() and small.truth.isna().all()
    # the rule the gate applies is the registered one (nothing shown beside a suppressed count)
    prot, _ = protect_table("effects_truth", raw[["programme", "group", "outcome", "method", "estimate",
                                                  "n_treated"]].rename(columns={"estimate": "truth"}))
    assert prot.suppressed.sum() == truth.suppressed.sum()

    data = tmp_path / "data"
    shutil.copytree(sim / "input", data)
    real = tmp_path / "real"
    run(data, real, seed=DEFAULT_SEED, with_report=False, echo=lambda s: None, cache=tmp_path / "c",
        dml_repetitions=1)
    assert (real / "tables" / "effects.csv").is_file()
    assert not (real / "tables" / "effects_truth.csv").exists()
