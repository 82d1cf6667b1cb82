"""Career sequences after outflow to work, OM distances, PAM and the clusters they give."""

from __future__ import annotations

import contextlib
import io
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from reintegration_effects.careers import (
    CAREER_STATES,
    CareerClustering,
    career_sequences,
    career_tables,
    optimal_matching,
    pam,
    plot_state_distribution,
    substitution_costs,
)
from reintegration_effects.errors import StatisticalWarning
from reintegration_effects.panel import build_panel

from .conftest import make_input
from .test_flows import bij, person

S = {s: i for i, s in enumerate(CAREER_STATES)}


def naive_om(a, b, sub, indel):
    """The textbook OM recursion, cell by cell."""
    d = np.zeros((len(a) + 1, len(b) + 1))
    d[:, 0] = np.arange(len(a) + 1) * indel
    d[0, :] = np.arange(len(b) + 1) * indel
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i, j] = min(d[i - 1, j] + indel, d[i, j - 1] + indel, d[i - 1, j - 1] + sub[a[i - 1], b[j - 1]])
    return d[-1, -1]


def test_om_matches_the_plain_recursion():
    rng = np.random.default_rng(5)
    for la, lb, indel in [(10, 10, 1.0), (7, 12, 0.6), (1, 5, 1.3)]:
        x = rng.integers(0, 7, (25, la))
        y = rng.integers(0, 7, (6, lb))
        sub = rng.uniform(0.2, 2.0, (7, 7))
        sub = (sub + sub.T) / 2
        np.fill_diagonal(sub, 0)
        got = optimal_matching(x, y, sub=sub, indel=indel)
        want = np.array([[naive_om(a, b, sub, indel) for b in y] for a in x])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    x = rng.integers(0, 3, (30, 8))  # many duplicates: computed once, expanded
    sub = substitution_costs(x, 7, "trate")
    got = optimal_matching(x, sub=sub, indel=sub.max() / 2)
    want = np.array([[naive_om(a, b, sub, sub.max() / 2) for b in x] for a in x])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert (np.diag(got) == 0).all() and np.allclose(got, got.T)


def test_om_codes_outside_the_substitution_matrix_are_an_error():
    sub = substitution_costs(np.zeros((2, 3), dtype=int), 3, "constant")
    with pytest.raises(ValueError, match="state codes must lie in 0..2"):
        optimal_matching(np.array([[0, 1, 5], [0, 1, 2]]), sub=sub, indel=1.0)
    with pytest.raises(ValueError, match="found -1 to"):
        optimal_matching(np.array([[0, 1, 2]]), np.array([[0, -1, 2]]), sub=sub, indel=1.0)


def test_om_matches_sequenzo():
    pytest.importorskip("sequenzo", reason="sequenzo is not installed (it is only a cross-check)")
    from sequenzo.define_sequence_data import SequenceData
    from sequenzo.dissimilarity_measures.get_distance_matrix import get_distance_matrix

    rng = np.random.default_rng(3)
    x = rng.integers(0, len(CAREER_STATES), (120, 24))
    x[:40] = np.sort(x[:40], axis=1)
    df = pd.DataFrame(np.array(CAREER_STATES)[x], columns=[f"m{t}" for t in range(24)]).assign(id=range(120))
    with contextlib.redirect_stdout(io.StringIO()):
        sd = SequenceData(df, time=[f"m{t}" for t in range(24)], states=list(CAREER_STATES), id_col="id")
        ref = np.asarray(get_distance_matrix(sd, method="OM", sm="TRATE", indel="auto"))
    sub = substitution_costs(x, len(CAREER_STATES), "trate")
    np.testing.assert_allclose(optimal_matching(x, sub=sub, indel=sub.max() / 2), ref, atol=1e-9)


def test_trate_costs_by_hand():
    # transitions 0->0, 0->1 | 1->1, 1->0 | 1->1, 1->1: p(1|0) = 1/2, p(0|1) = 1/4 -> cost 2 - 1/2 - 1/4
    sub = substitution_costs(np.array([[0, 0, 1], [1, 1, 0], [1, 1, 1]]), 3, "trate")
    assert sub[0, 1] == pytest.approx(2 - 1 / 2 - 1 / 4) and sub[1, 0] == sub[0, 1]
    assert sub[0, 2] == 2 and sub[2, 2] == 0  # a state never left: cost 2
    assert (substitution_costs(np.zeros((2, 3), int), 3, "constant") == 2 - 2 * np.eye(3)).all()


def total_cost(d, medoids):
    return d[list(medoids)].min(axis=0).sum()


def test_pam_finds_the_optimum_and_no_swap_helps():
    rng = np.random.default_rng(11)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    pts = np.vstack([c + rng.normal(0, 1.5, (6, 2)) for c in centres])
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    for k in (3, 4):  # with k = 3 or 4 on three blobs the optimum is unambiguous ...
        med, labels = pam(d, k)
        best = min(total_cost(d, m) for m in itertools.combinations(range(len(d)), k))
        assert total_cost(d, med) == pytest.approx(best)
        assert (labels == np.argmin(d[med], axis=0)).all()
    # ... with k = 2 it is not, and PAM (a local search) may stop in a local optimum: checked below
    # on unstructured distances PAM guarantees a local optimum: no single swap lowers the cost
    r = rng.uniform(1, 10, (25, 25))
    r = (r + r.T) / 2
    np.fill_diagonal(r, 0)
    for dist, k in ((r, 3), (r, 5), (d, 2)):
        med, _ = pam(dist, k)
        c0 = total_cost(dist, med)
        for i in range(k):
            for x in set(range(len(dist))) - set(med):
                trial = list(med)
                trial[i] = x
                assert total_cost(dist, trial) >= c0 - 1e-9


def test_compiled_swap_and_build_steps_equal_the_matrix_formulas():
    """PAM's compiled steps against the FastPAM1 and BUILD formulas written as matrix expressions
    (the numpy code they replaced), on distances with duplicated rows (tied sequences) and an
    infinite second-nearest distance (k = 1)."""
    from reintegration_effects.careers_kernels import build_gains, swap_deltas

    rng = np.random.default_rng(3)
    r = rng.uniform(1, 10, (60, 60))
    r[:, 7] = r[:, 3]  # point 7 duplicates point 3
    r[7, :] = r[3, :]
    r = (r + r.T) / 2
    np.fill_diagonal(r, 0)
    r[3, 7] = r[7, 3] = 0
    near = r[[5, 9]].min(axis=0)
    assert np.allclose(build_gains(r, near), np.maximum(near[None, :] - r, 0).sum(axis=1), rtol=1e-12, atol=0)
    for medoids in ([5], [5, 9, 3], [0, 1, 2, 40, 59]):
        k = len(medoids)
        dm = r[medoids]
        order = np.argsort(dm, axis=0, kind="stable")
        d1 = dm[order[0], np.arange(len(r))]
        d2 = dm[order[1], np.arange(len(r))] if k > 1 else np.full(len(r), np.inf)
        a = np.minimum(r - d1[None, :], 0)
        b = np.minimum(r, d2[None, :]) - d1[None, :] - a
        onehot = np.zeros((len(r), k))
        onehot[np.arange(len(r)), order[0]] = 1.0
        expected = a.sum(axis=1)[:, None] + b @ onehot
        got = swap_deltas(r, order[0].astype(np.int64), d1, d2, k)
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-12)
        # and each entry is the change in total distance of that swap, computed from scratch
        for i, m in ((11, 0), (30, k - 1)):
            trial = list(medoids)
            trial[m] = i
            assert got[i, m] == pytest.approx(total_cost(r, trial) - total_cost(r, medoids), rel=1e-12)


def three_patterns(n=1000, length=24, noise=0.1, seed=0):
    """52% stable work, 26% stable work then back on bijstand after 4-9 months, 22% agency/on-call
    work; each month replaced with probability ``noise`` by a state drawn uniformly from all states."""
    rng = np.random.default_rng(seed)
    sizes = np.round(np.array([0.52, 0.26, 0.22]) * n).astype(int)
    truth = np.repeat([0, 1, 2], sizes)
    x = np.empty((n, length), dtype=int)
    x[truth == 0] = S["stable_work"]
    x[truth == 2] = S["flexible_work"]
    for r in np.flatnonzero(truth == 1):
        k = rng.integers(4, 10)
        x[r, :k], x[r, k:] = S["stable_work"], S["bijstand"]
    hit = rng.random(x.shape) < noise
    x[hit] = rng.integers(0, len(CAREER_STATES), hit.sum())
    frame = pd.DataFrame({f"month_{k + 1}": pd.Categorical.from_codes(x[:, k], categories=list(CAREER_STATES))
                          for k in range(length)})
    frame.insert(0, "cohort", "outflow_2016")
    frame.insert(1, "person_id", [f"s{i}" for i in range(n)])
    frame["sex"] = np.where(truth == 1, "F", "M")
    return frame, truth, sizes


@pytest.mark.parametrize("method", ["pam", "ward"])
def test_three_patterns_come_back_as_three_clusters(method):
    n, length, noise = 1000, 24, 0.1
    frame, truth, sizes = three_patterns(n, length, noise)
    # Tolerance. The patterns differ in at least 15 of 24 months (stable vs bijstand after month
    # 9) and each pattern's own spread (switch month 4-9) is at most 5 months; a noisy sequence
    # can only come closer to another pattern's medoid than to its own when noise has put at
    # least 6 months into the one state that pattern has there. Per month that happens with
    # probability noise / 7, so the expected number of misassigned sequences is below
    # n * 6 * P(Binomial(24, noise / 7) >= 6):
    bound = n * (len(CAREER_STATES) - 1) * binom.sf(5, length, noise / len(CAREER_STATES))
    assert bound < 0.01
    # ... hence the sizes must come back exactly (520 / 260 / 220), from a 400-sequence sample
    res = CareerClustering(method=method, sample_size=400, random_state=3).fit(frame)
    assert res.n_clusters == 3 and res.quality.loc[res.quality.chosen, "k"].item() == 3
    assert res.silhouette == res.quality.silhouette.max()
    sz = res.sizes()
    assert sz.persons.tolist() == sizes.tolist() and (sz.persons_total == n).all()
    assert sz.label.tolist() == ["mostly stable_work", "mostly bijstand", "mostly flexible_work"]
    assert pd.crosstab(res.labels.to_numpy(), truth).to_numpy().max(axis=1).tolist() == sizes.tolist()
    assert len(res.sample_index) == 400
    med = res.medoids()
    assert med.loc[0, "month_24"] == "stable_work" and med.loc[1, "month_24"] == "bijstand"
    assert med.loc[2, "month_1"] == "flexible_work" and (med.persons >= 1).all()


def test_cluster_tables_are_consistent():
    frame, truth, sizes = three_patterns(300, 24, 0.05, seed=4)
    res = CareerClustering(k_range=(2, 5), sample_size=200, random_state=0).fit(frame)
    again = CareerClustering(k_range=(2, 5), sample_size=200, random_state=0).fit(frame)
    assert (res.labels == again.labels).all()  # reproducible with the same random_state
    sh = res.state_shares()
    assert list(sh.columns) == ["cluster", "month", "state", "persons", "persons_total"]
    tot = sh.groupby(["cluster", "month"]).agg(p=("persons", "sum"), t=("persons_total", "first"))
    assert (tot.p == tot.t).all()
    typical = res.typical_sequences()
    assert len(typical) == res.n_clusters * 24
    assert typical.loc[typical.cluster == 2, "state"].iloc[-1] == "bijstand"
    prof = res.profile(["sex"])
    assert prof.loc[(prof.cluster == 2) & (prof.group == "sex=F"), "persons"].item() == sizes[1]
    assert prof.groupby("cluster").persons.sum().tolist() == res.sizes().persons.tolist()
    med = res.medoids()
    codes = np.column_stack([frame[f"month_{k}"].cat.codes for k in range(1, 25)])
    for r in med.itertuples():
        seq = [S[getattr(r, f"month_{k}")] for k in range(1, 25)]
        assert r.persons == (codes == seq).all(axis=1).sum()


def test_the_plot_draws_aggregates_only():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PathCollection

    frame, _, _ = three_patterns(200, 12, 0.05, seed=2)
    res = CareerClustering(n_clusters=3, random_state=0).fit(frame)
    axes = res.plot()
    assert len(axes) == 3
    for ax in axes:
        assert not any(isinstance(c, PathCollection) for c in ax.collections)
        assert not [ln for ln in ax.lines if ln.get_marker() not in (None, "", "None", "none")]
        heights = np.array([p.get_height() for p in ax.patches]).reshape(-1, 12)
        np.testing.assert_allclose(heights.sum(axis=0), 1.0)  # shares per month add up to 1
    try:
        from reintegration_effects.disclosure import check_figure
    except ImportError:
        pass
    else:
        check_figure(axes[0].figure, name="career clusters")
    # a protected table (suppressed counts as NA) still plots
    sh = res.state_shares()
    sh["persons"] = sh["persons"].astype("Int64").mask(sh["persons"] < 10)
    plot_state_distribution(sh)
    plt.close("all")


def test_bad_input_is_reported():
    frame, _, _ = three_patterns(50, 6, 0.0)
    frame.loc[3, "month_2"] = np.nan
    with pytest.raises(ValueError, match="month_2"):
        CareerClustering().fit(frame)
    with pytest.raises(ValueError, match="'pam' or 'ward'"):
        CareerClustering(method="kmeans").fit(frame)


# ------------------------------------------------------------------------------------------------
# Sequences from a register
# ------------------------------------------------------------------------------------------------


def career_register():
    """Q1 leaves on 31 Mar 2019 for a permanent job (Apr-Jun), then agency work (Jul-Sep), then
    bijstand again from October. Q2 leaves on 15 May 2019 for a job without a known contract and
    takes bijstand beside it in Aug-Sep. Q3 leaves for nothing (no career sequence). Q4 holds a
    fixed-term and an on-call job at once (stable work wins)."""
    persons = [person(p) for p in ("Q1", "Q2", "Q3", "Q4")]
    benefits = [
        bij("Q1", "2018-01-01", "2019-03-31"), bij("Q1", "2019-10-01", None),
        bij("Q2", "2018-06-01", "2019-05-15"), bij("Q2", "2019-08-01", "2019-09-30"),
        bij("Q3", "2018-03-01", "2019-02-10"),
        bij("Q4", "2018-03-01", "2019-06-30"),
    ]
    jobs = [
        dict(person_id="Q1", start="2019-04-01", end="2019-06-30", contract="permanent", sector="C"),
        dict(person_id="Q1", start="2019-07-01", end="2019-09-30", contract="agency", sector="N"),
        dict(person_id="Q2", start="2019-05-16", end=None, contract=None),
        dict(person_id="Q4", start="2019-07-01", end=None, contract="on_call", monthly_wage=500.0),
        dict(person_id="Q4", start="2019-07-01", end="2019-12-31", contract="fixed_term", monthly_wage=1500.0),
    ]
    return make_input(persons=persons, benefits=benefits, jobs=jobs, window=("2018-01-01", "2020-12-31"))


def test_career_sequences_by_hand():
    data = career_register()
    seqs = career_sequences(data, build_panel(data), length=12).set_index("person_id")
    assert sorted(seqs.index) == ["Q1", "Q2", "Q4"]
    assert set(seqs.cohort) == {"outflow_2019"}  # outflow_2018 (default, fits) has no exits to work
    months = [f"month_{k}" for k in range(1, 13)]
    assert seqs.loc["Q1", months].tolist() == (["stable_work"] * 3 + ["flexible_work"] * 3 + ["bijstand"] * 6)
    # Q2: 31 May - 31 Jul work, Aug-Sep bijstand with work, then work again (11 of 12 months ends)
    assert seqs.loc["Q2", months].tolist() == (["work_unknown_contract"] * 3 + ["bijstand_met_werk"] * 2
                                               + ["work_unknown_contract"] * 7)
    assert seqs.loc["Q4", months].tolist() == ["stable_work"] * 6 + ["flexible_work"] * 6
    assert seqs.loc["Q1", "first_contract"] == "permanent" and seqs.loc["Q4", "first_contract"] == "fixed_term"
    assert seqs.loc["Q2", "first_contract"] == "unknown"
    with pytest.warns(StatisticalWarning, match="no career clusters"):
        assert career_tables(data, length=12) == ({}, None)  # three sequences: nothing to cluster


def test_careers_on_the_simulated_municipality():
    pytest.importorskip("reintegration_effects.simulate", reason="the simulator (simulate.py) is not there yet")
    from reintegration_effects.datasets import load_simulated

    data, _ = load_simulated(300, seed=11)
    seqs = career_sequences(data, length=24)
    assert len(seqs) > 30 and seqs.filter(like="month_").notna().all().all()
    tabs, res = career_tables(data, length=24, k_range=(2, 4), sample_size=150, random_state=1)
    assert res.sizes().persons.sum() == len(seqs) == tabs["career_clusters"].persons.sum()
    assert set(tabs["career_profile"].dimension) >= {"sex", "age", "contract", "hours", "programme"}
    assert tabs["career_quality"].chosen.sum() == 1
