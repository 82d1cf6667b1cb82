"""The defaults of issue 18's decision: three fold splits, the "auto" training budget of a
double-ML fold, every CPU for a run, and the matching propensity's history terms (hand-computed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reintegration_effects import doubly_robust
from reintegration_effects.effects import (
    DML_MAX_TRAIN_ROWS,
    DML_TRAIN_ROWS_AT_100K,
    MATCHING_HISTORY_TERMS,
    DynamicDML,
    covariate_matrix,
    matching_design,
    training_row_budget,
)


def test_three_splits_by_default():
    assert doubly_robust.N_REP == 3
    assert DynamicDML().n_rep == 3
    assert doubly_robust.DoublyRobustATT().n_rep == 3


@pytest.mark.parametrize(("rows", "budget"), [
    (1, 40_000),                    # small risk sets: the floor, i.e. every row of a fold
    (100_000, 40_000),              # 40,000 x 1
    (1_000_000, 224_936),           # 40,000 x 10^0.75 = 224,936.4
    (1_600_000, 250_000),           # 40,000 x 16^0.75 = 320,000, above the ceiling
    (20_000_000, 250_000),
])
def test_training_row_budget_by_hand(rows, budget):
    assert (DML_TRAIN_ROWS_AT_100K, DML_MAX_TRAIN_ROWS) == (40_000, 250_000)
    assert training_row_budget(rows) == budget


def test_budget_grows_as_the_three_quarter_power():
    """Between floor and ceiling, 8 times the rows give 8^(3/4) = 4.757 times the budget."""
    assert training_row_budget(880_000) == pytest.approx(8 ** 0.75 * training_row_budget(110_000), abs=5)
    assert DML_TRAIN_ROWS_AT_100K < training_row_budget(110_000) < training_row_budget(880_000) < DML_MAX_TRAIN_ROWS


@pytest.mark.parametrize("bad", [0, -5, 2.5, "all", True])
def test_bad_training_budget_is_refused_when_fitting(bad):
    from tests.test_heterogeneity_tests import synthetic_risk

    risk = synthetic_risk(n_persons=60, effects={"job_coaching": lambda f: 0.4}, seed=1)
    with pytest.raises(ValueError, match="max_train_rows"):
        DynamicDML(max_train_rows=bad).cross_fit(risk)


def test_matching_history_terms_by_hand():
    from tests.test_heterogeneity_tests import synthetic_risk

    frame = synthetic_risk(n_persons=40, effects={"job_coaching": lambda f: 0.4}, seed=2).frame.head(6).copy()
    frame["spell_month"] = [0, 11, 12, 30, 5, 40]
    frame["hist_employed_36m"] = [0, 0, 0, 7, 3, 2]
    x = matching_design(frame)
    base = covariate_matrix(frame)
    assert list(x.columns) == [*base.columns, *MATCHING_HISTORY_TERMS]
    pd.testing.assert_frame_equal(x[list(base.columns)], base)
    np.testing.assert_array_equal(x["no_work_36m"], [1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(x["long_term_x_hist_employed_36m"], [0, 0, 0, 7, 0, 2])
    np.testing.assert_array_equal(x["long_term_x_no_work_36m"], [0, 0, 1, 0, 0, 0])


def test_a_run_uses_every_cpu_unless_told(monkeypatch, tmp_path):
    """A run without --n-jobs uses every CPU (the manifest records n_jobs=-1); REINTEGRATION_N_JOBS
    decides when set."""
    import json

    from reintegration_effects.parallel import ENV_N_JOBS
    from tests.test_cli import _run, _table_step, pipeline

    monkeypatch.setattr(pipeline, "STEPS", [*pipeline.STEPS[:2], ("fast table", _table_step())])
    monkeypatch.delenv(ENV_N_JOBS, raising=False)
    data, _ = pipeline.simulate_default(tmp_path / "sim", seed=3, n_persons=40)
    assert _run(data, tmp_path / "a") == 0
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["parallel"]["n_jobs"] == -1
    monkeypatch.setenv(ENV_N_JOBS, "1")
    assert _run(data, tmp_path / "b") == 0
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["parallel"]["n_jobs"] == 1
