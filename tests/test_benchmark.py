"""The municipality benchmark (issue 16a): hand-computed standardisation, the simulator's truth, codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from reintegration_effects import benchmark as B
from reintegration_effects.errors import InputError
from reintegration_effects.io import municipality_code, study_from_dict
from reintegration_effects.outputs import protect_table
from reintegration_effects.panel import build_panel
from reintegration_effects.simulate import write_simulation
from reintegration_effects.simulate.municipalities import simulate_municipalities, write_municipalities
from reintegration_effects.validate import load_input

# ------------------------------------------------------------------------------------------------
# Hand-computed standardisation
# ------------------------------------------------------------------------------------------------


def _two_by_two() -> pd.DataFrame:
    """Two municipalities, one binary covariate; cells (A,a) 4/10, (A,b) 6/10, (B,a) 2/10, (B,b) 9/30."""
    rows = []
    for m, x, n, y in (("GM0001", "a", 10, 4), ("GM0001", "b", 10, 6), ("GM0002", "a", 10, 2), ("GM0002", "b", 30, 9)):
        rows += [{"municipality": m, "x": x, "y": float(i < y)} for i in range(n)]
    df = pd.DataFrame(rows)
    df["person_id"] = np.arange(len(df)).astype(str)
    return df


def test_standardisation_arithmetic_by_hand():
    """The logit with municipality fixed effects is saturated-but-for-interaction; compute it with
    statsmodels by hand, then expected_m = sum over m's cells of n expit(x b + c), c calibrated so
    that total expected = total observed (21)."""
    import statsmodels.formula.api as smf

    df = _two_by_two()
    res = B.MunicipalityBenchmark(n_boot=0).fit(df, outcome_col="y", covariates=["x"])
    fit = smf.logit("y ~ C(x) + C(municipality)", df).fit(disp=0)
    b = fit.params["C(x)[T.b]"]
    n_a = np.array([10, 10]); n_b = np.array([10, 30])  # noqa: E702  (A, B)
    from scipy.optimize import brentq

    c = brentq(lambda c: (n_a * expit(c)).sum() + (n_b * expit(c + b)).sum() - 21, -10, 10)
    expected = (n_a * expit(c) + n_b * expit(c + b)) / (n_a + n_b)
    s = res.summary
    np.testing.assert_allclose(s["expected"].to_numpy(), expected, rtol=1e-8)
    np.testing.assert_allclose(s["observed"].to_numpy(), [10 / 20, 11 / 40])
    np.testing.assert_allclose(s["difference"].to_numpy(), s["observed"] - expected, rtol=1e-8)
    np.testing.assert_allclose((s["expected"] * s["observations"]).sum(), 21.0, rtol=1e-10)
    assert list(s["rank"]) == [1.0, 2.0]


def test_identical_composition_gives_expected_equal_to_pooled_rate():
    """Same composition in both: expected = the pooled rate (0.3 + 0.5)/2 = 0.4 for everyone."""
    rows = [{"municipality": m, "x": "a", "y": float(i < k)} for m, k in (("GM0001", 3), ("GM0002", 5))
            for i in range(10)]
    res = B.MunicipalityBenchmark(n_boot=0).fit(pd.DataFrame(rows), outcome_col="y", covariates=["x"],
                                                 cluster_col=None)
    np.testing.assert_allclose(res.summary["expected"], [0.4, 0.4], rtol=1e-9)
    np.testing.assert_allclose(res.summary["difference"], [-0.1, 0.1], atol=1e-12)


def test_newton_refit_equals_statsmodels():
    """The bootstrap's Newton refits reach the statsmodels maximum."""
    rng = np.random.default_rng(1)
    X = np.column_stack([np.ones(200), rng.normal(size=(200, 3))])
    n = rng.integers(1, 20, 200).astype(float)
    y = rng.binomial(n.astype(int), expit(X @ np.array([-1, 0.5, -0.3, 0.2]))).astype(float)
    full = B._glm(y, n, X)
    np.testing.assert_allclose(B._newton(y, n, X, np.zeros(4)), full, atol=1e-7)


def test_median_duration_by_hand():
    """One cell per municipality, no covariates: the observed median is the KM median; expected under
    a hazard constant in the first band, 1 - h = (1 - 0.5)^(1/1) ... checked against lifelines."""
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(4)
    frames = []
    for m, h in (("GM0001", 0.10), ("GM0002", 0.20)):
        d = np.minimum(rng.geometric(h, 400), 30)
        frames.append(pd.DataFrame({"municipality": m, "duration": d, "left": (d < 30).astype(int),
                                    "x": "a", "person_id": [f"{m}{i}" for i in range(400)]}))
    df = pd.concat(frames, ignore_index=True)
    res = B.MunicipalityBenchmark(n_boot=0).fit(df, duration_col="duration", event_col="left", covariates=["x"])
    for m, g in df.groupby("municipality"):
        km = KaplanMeierFitter().fit(g["duration"], g["left"])
        assert res.summary.loc[m, "observed"] == km.median_survival_time_
    # the expected median lies between the two observed ones (one common hazard for both)
    lo, hi = sorted(res.summary["observed"])
    assert lo <= res.summary["expected"].iloc[0] <= hi


# ------------------------------------------------------------------------------------------------
# Against the simulator's truth
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    sim, truth = simulate_municipalities(3, 7500, seed=11)
    folder, truth_dir = write_municipalities(sim, truth, tmp_path_factory.mktemp("b") / "in")
    data = load_input(folder)
    frame = B.benchmark_frame(data, build_panel(data))
    results = B.benchmark_results(frame, own="GM9001", n_boot=100, random_state=5)
    return data, frame, truth, results, truth_dir


def test_truth_is_written_beside_the_input(three):
    data, _, truth, _, truth_dir = three
    written = pd.read_csv(truth_dir / "municipalities.csv")
    assert list(written["municipality"]) == ["GM9001", "GM9002", "GM9003"]
    assert written["hazard_ratio_work"].is_monotonic_increasing
    assert set(data.benefits["municipality"].dropna()) == {"GM9001", "GM9002", "GM9003"}
    assert data.study.own_municipality == "GM9001"


@pytest.mark.parametrize("indicator", ["outflow_to_work", "sustainable_outflow"])
def test_adjusted_comparison_recovers_the_true_order_and_raw_does_not(three, indicator):
    """Exit to work is multiplied by 0.86, 1.0, 1.16 while the populations get harder: the adjusted
    differences rise with the true effect (the ranks are the true order; the gap between the extremes
    exceeds 2 bootstrap standard errors of that gap, and no step goes the wrong way by more than 2 of
    its standard errors: the spread of the person-clustered resamples); the raw rates do not rise
    (composition masks the effect)."""
    _, frame, truth, results, _ = three
    res = results[indicator]
    s = res.summary.loc[truth["municipality"]]
    draws = np.vstack([d["observed"] - d["expected"] for d in res.draws])
    steps = np.diff(draws, axis=1)  # GM9002 - GM9001, GM9003 - GM9002 per resample
    est_steps = np.diff(s["difference"].to_numpy())
    assert (est_steps > -2 * steps.std(axis=0, ddof=1)).all(), (est_steps, steps.std(axis=0))
    gap = draws[:, 2] - draws[:, 0]
    assert s["difference"].iloc[2] - s["difference"].iloc[0] > 2 * gap.std(ddof=1)
    assert list(s["rank"]) == [3.0, 2.0, 1.0]
    raw = frame.groupby("municipality")[indicator].mean().loc[truth["municipality"]].to_numpy()
    assert not (np.diff(raw) > 0).all(), raw  # the raw rates do not show the true order
    assert raw[-1] - raw[0] < s["difference"].iloc[-1] - s["difference"].iloc[0]


def test_expected_sums_to_observed_and_intervals_cover(three):
    _, _, _, results, _ = three
    for ind, res in results.items():
        s = res.summary
        if ind != "median_duration":
            np.testing.assert_allclose((s["expected"] * s["observations"]).sum(), s["events"].sum(), rtol=1e-8)
        ok = s["ci_lower"].notna()
        assert (s.loc[ok, "ci_lower"] <= s.loc[ok, "difference"] + 1e-12).all()
        assert (s.loc[ok, "difference"] <= s.loc[ok, "ci_upper"] + 1e-12).all()
        assert s.loc["GM9001", "own"] and s["own"].sum() == 1


def test_same_seed_same_table(three):
    _, frame, _, results, _ = three
    again = B.benchmark_results(frame, own="GM9001", n_boot=100, random_state=5)
    pd.testing.assert_frame_equal(B.benchmark_table(again), B.benchmark_table(results))


def test_benchmark_table_passes_the_gate(three):
    _, _, _, results, _ = three
    table = B.benchmark_table(results)
    assert list(table.columns[:8]) == ["municipality", "indicator", "persons", "observed", "expected", "difference",
                                       "ci_lower", "ci_upper"]
    table.loc[0, ["persons", "events"]] = [8, 5]  # a municipality-indicator too small: left out entirely
    protected, counts = protect_table("benchmark", table)
    assert len(protected) == len(table) - 1
    assert (protected["persons"] % 5 == 0).all()
    from reintegration_effects.disclosure import check_table

    check_table(protected, name="benchmark", count_cols=counts)


def test_default_simulation_has_no_municipality_column(tmp_path):
    from reintegration_effects.simulate import simulate_municipality

    sim = simulate_municipality(200, seed=2)
    assert "municipality" not in sim.tables["benefits"].columns
    data = load_input(write_simulation(sim, tmp_path / "in")[0])
    assert "municipality" not in data.benefits.columns and not B.has_municipalities(data)


# ------------------------------------------------------------------------------------------------
# Codes and settings
# ------------------------------------------------------------------------------------------------


def test_municipality_codes_are_normalised():
    assert municipality_code(" gm1916 ") == "GM1916"
    assert municipality_code("363") == "GM0363" and municipality_code(363.0) == "GM0363"
    for bad in ("Leiden", "GM12345", "GM19a6", "", None, True, 3.5, "12345"):
        assert municipality_code(bad) is None, bad


def test_bad_codes_in_benefits_name_file_rows_and_fix(tmp_path):
    sim, truth = simulate_municipalities(2, 300, seed=1)
    b = sim.tables["benefits"]
    rows = b.index[b["municipality"].notna()][:2]
    b.loc[rows[0], "municipality"] = "Leiden"
    b.loc[rows[1], "municipality"] = "GM12345"
    folder, _ = write_municipalities(sim, truth, tmp_path / "in")
    with pytest.raises(InputError) as info:
        load_input(folder)
    text = str(info.value)
    assert "benefits.csv" in text and "'municipality'" in text and "'Leiden'" in text and "'GM12345'" in text
    assert "GM1916" in text  # the fix shows a valid code
    assert f"rows {rows[0] + 1}" in text or str(rows[0] + 1) in text


def test_mergers_map_codes_and_are_logged(tmp_path):
    sim, truth = simulate_municipalities(2, 300, seed=1)
    sim.study["municipality_mergers"] = {"GM9002": "GM9001"}
    folder, _ = write_municipalities(sim, truth, tmp_path / "in")
    data = load_input(folder)
    assert set(data.benefits["municipality"].dropna()) == {"GM9001"}
    assert data.log["reason"].str.contains("merged municipalities").any()


def test_study_keys_for_the_benchmark():
    s = study_from_dict({"municipality": "Leidschendam-Voorburg", "municipality_code": "1916",
                         "benchmark": ["GM0518", 599], "municipality_mergers": {"GM0001": "GM0002", "GM0002": "GM0003"}})
    assert s.own_municipality == "GM1916" and s.municipality == "Leidschendam-Voorburg"
    assert s.benchmark == ["GM0518", "GM0599"]
    assert s.municipality_mergers == {"GM0001": "GM0003", "GM0002": "GM0003"}  # chain resolved
    assert study_from_dict({"municipality": "GM1916"}).own_municipality == "GM1916"  # a code as the name
    assert study_from_dict({"municipality": "Simstad"}).own_municipality is None
    with pytest.raises(InputError) as info:
        study_from_dict({"municipality_code": "Leiden", "benchmark": "some",
                         "municipality_mergers": {"GM0001": "GM0002", "GM0002": "GM0001"}})
    text = str(info.value)
    assert "municipality_code" in text and "benchmark" in text and "cycle" in text


def test_own_code_absent_from_the_data_is_a_problem(tmp_path):
    sim, truth = simulate_municipalities(2, 300, seed=1)
    sim.study["municipality_code"] = "GM0518"
    folder, _ = write_municipalities(sim, truth, tmp_path / "in")
    with pytest.raises(InputError, match="GM0518 not in the municipality column"):
        load_input(folder)


def test_estimator_errors_name_the_column():
    df = _two_by_two()
    with pytest.raises(ValueError, match="not in the frame"):
        B.MunicipalityBenchmark().fit(df, outcome_col="nope", covariates=["x"])
    with pytest.raises(ValueError, match="at least two municipalities"):
        B.MunicipalityBenchmark().fit(df[df.municipality == "GM0001"], outcome_col="y", covariates=["x"])
    df.loc[0, "y"] = 2
    with pytest.raises(ValueError, match="0 or 1"):
        B.MunicipalityBenchmark().fit(df, outcome_col="y", covariates=["x"])
    assert logit(0.5) == 0  # scipy's logit/expit are the link used throughout
