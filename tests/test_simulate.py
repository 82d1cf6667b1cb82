"""The simulated municipality: realism, coherence of the spells, the truth, determinism."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pandas as pd
import pytest

from reintegration_effects import contract as C
from reintegration_effects.simulate import PROGRAMMES, simulate_municipality, write_simulation

STATE_OF = {"bijstand": 0, "bijstand_met_werk": 1, "werk": 2, "ww": 3, "overig": 4}


# ------------------------------------------------------------------------------------------------
# fixtures (module scope: each simulation runs once)
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    return simulate_municipality(400, seed=11)


@pytest.fixture(scope="module")
def large():
    """20,000 persons: sampling error of a share of the stock is about 0.6 percentage points."""
    return simulate_municipality(20_000, seed=5)


@pytest.fixture(scope="module")
def constant_null():
    return simulate_municipality(3000, seed=3, effects="constant",
                                 hazard_ratios={p: 1.0 for p in PROGRAMMES})


@pytest.fixture(scope="module")
def constant_positive():
    return simulate_municipality(8000, seed=4, effects="constant",
                                 hazard_ratios={"job_coaching": 2.0, "training": 1.5, "work_experience": 1.5,
                                                "participation": 1.0})


# ------------------------------------------------------------------------------------------------
# month-end statuses recomputed from the written spells (independent of the simulator's arrays)
# ------------------------------------------------------------------------------------------------


def _covers(spells: pd.DataFrame, month_end: pd.Timestamp) -> pd.Series:
    return (spells["start"] <= month_end) & (spells["end"].isna() | (spells["end"] >= month_end))


class SpellIndex:
    """Spells grouped by person, to recompute month-end statuses one person at a time."""

    def __init__(self, tables: dict):
        ben = tables["benefits"]
        self.kinds = {
            "bijstand": ben[ben["benefit"] == "bijstand"],
            "ww": ben[ben["benefit"] == "ww"],
            "job": tables["jobs"],
        }
        self.groups = {k: {pid: (g["start"].to_numpy(), g["end"].to_numpy()) for pid, g in df.groupby("person_id")}
                       for k, df in self.kinds.items()}

    def covered(self, kind: str, pid: str, month_ends: np.ndarray) -> np.ndarray:
        empty = (np.array([], dtype="datetime64[ns]"),) * 2
        start, end = self.groups[kind].get(pid, empty)
        me = month_ends[:, None]
        return ((start[None, :] <= me) & (np.isnat(end)[None, :] | (end[None, :] >= me))).any(axis=1)

    def statuses(self, pid: str, month_ends) -> np.ndarray:
        """Status labels at the given month ends by the contract's rule (first that applies)."""
        me = np.asarray(pd.DatetimeIndex(month_ends).values)
        on_b, on_j, on_ww = (self.covered(k, pid, me) for k in ("bijstand", "job", "ww"))
        return np.select([on_b & on_j, on_b, on_j, on_ww], ["bijstand_met_werk", "bijstand", "werk", "ww"],
                         default="overig")


def statuses_from_spells(tables: dict, person_ids, month_ends, index: SpellIndex | None = None) -> pd.DataFrame:
    """Status label per person (rows) and month end (columns), recomputed from the spells."""
    index = index or SpellIndex(tables)
    rows = {pid: index.statuses(pid, month_ends) for pid in person_ids}
    return pd.DataFrame.from_dict(rows, orient="index", columns=pd.DatetimeIndex(month_ends))


def stock_ids(tables: dict, date) -> np.ndarray:
    b = tables["benefits"]
    b = b[b["benefit"] == "bijstand"]
    return b.loc[_covers(b, pd.Timestamp(date)), "person_id"].unique()


# ------------------------------------------------------------------------------------------------
# coherence
# ------------------------------------------------------------------------------------------------


def test_month_end_status_from_spells_equals_internal_state(small):
    ids = small.tables["persons"]["person_id"].to_numpy()
    sample = ids[::4]  # 100 persons x 180 months
    got = statuses_from_spells(small.tables, sample, small.months)
    idx = pd.Index(ids).get_indexer(sample)
    want = small.status_labels()[idx]
    np.testing.assert_array_equal(got.to_numpy(), want)


def test_contract_columns_ids_and_types(small):
    t = small.tables
    for name, spec in C.TABLES.items():
        if spec.extra.get("absent_as_none") and name not in t:  # participation: only with participation=True
            continue
        assert list(t[name].columns) == list(spec.column_names), name
        for col in spec.columns:
            if col.kind == "category":
                vals = set(t[name][col.name].dropna().unique())
                assert vals <= set(col.values), (name, col.name, vals - set(col.values))
            if col.kind == "date":
                assert pd.api.types.is_datetime64_any_dtype(t[name][col.name]), (name, col.name)
    pid = t["persons"]["person_id"]
    assert pid.is_unique
    assert pid.str.fullmatch(r"P\d{7}").all()
    for name in ("households", "benefits", "jobs", "programmes"):
        assert t[name]["person_id"].isin(pid).all(), name
        ended = t[name].dropna(subset=["end"])
        assert (ended["end"] >= ended["start"]).all(), name
    assert t["benefits"]["end"].isna().any()  # spells running at the window end are open
    assert not t["benefits"]["end"].dropna().gt(pd.Timestamp(small.study["window_end"])).any()
    assert set(t["programmes"]["programme"]) == set(PROGRAMMES)
    jobs = t["jobs"]
    assert jobs["hours_per_week"].between(1, 40).all()
    hourly = jobs["monthly_wage"] / (jobs["hours_per_week"] * 52 / 12)
    assert hourly.between(3.5, 60).all()  # consistent with hours (youth rates included)


def _overlaps(spells: pd.DataFrame, gap_days: int = 0) -> int:
    """Consecutive spells of a person closer than gap_days days apart (0: overlapping)."""
    s = spells.sort_values(["person_id", "start"])
    same = s["person_id"].eq(s["person_id"].shift())
    prev_end = s["end"].shift()
    bad = same & (prev_end.isna() | (s["start"] - prev_end <= pd.Timedelta(days=gap_days)))
    return int(bad.sum())


def test_spell_structure(small):
    t = small.tables
    bij = t["benefits"][t["benefits"]["benefit"] == "bijstand"]
    # never overlapping, never contiguous (gap of more than one day): the cleaner will not merge them
    assert _overlaps(bij, gap_days=1) == 0
    assert _overlaps(t["benefits"][t["benefits"]["benefit"] == "ww"]) == 0
    assert _overlaps(t["jobs"]) == 0
    # two bijstand spells are separated by at least one month end off bijstand
    s = bij.sort_values(["person_id", "start"])
    same = s["person_id"].eq(s["person_id"].shift())
    prev_end = s["end"].shift()[same]
    next_me = prev_end + pd.offsets.MonthEnd(0)
    assert (s["start"][same] > next_me).all()
    # households: no overlap, no gap, cover the whole grid
    hh = t["households"].sort_values(["person_id", "start"])
    same = hh["person_id"].eq(hh["person_id"].shift())
    assert (hh["start"][same] == (hh["end"].shift() + pd.Timedelta(days=1))[same]).all()
    first = hh.groupby("person_id")["start"].min()
    last_open = hh.groupby("person_id")["end"].apply(lambda e: e.isna().sum())
    assert (first <= small.months[0]).all() and (last_open == 1).all()
    assert first.index.nunique() == len(t["persons"])
    # programmes lie inside one bijstand spell
    pr = t["programmes"].merge(bij, on="person_id", suffixes=("", "_b"))
    inside = (pr["start_b"] <= pr["start"]) & (
        pr["end_b"].isna() | (pr["end"].notna() & (pr["end"] <= pr["end_b"])))
    assert inside.groupby([pr["person_id"], pr["start"]]).any().all()


def test_stock_is_on_bijstand_at_window_start(small):
    stock = stock_ids(small.tables, small.study["window_start"])
    n_stock = round(0.33 * 400)
    assert len(stock) == n_stock
    # entrants start after the window start; everyone is on bijstand at some point in the window
    b = small.tables["benefits"]
    b = b[b["benefit"] == "bijstand"]
    in_window = b[b["end"].isna() | (b["end"] >= pd.Timestamp(small.study["window_start"]))]
    assert in_window["person_id"].nunique() == 400


# ------------------------------------------------------------------------------------------------
# realism (domain.md figures), computed from the spell tables
# ------------------------------------------------------------------------------------------------


def _stock_shares(tables, date):
    ids = stock_ids(tables, date)
    per = tables["persons"].set_index("person_id").loc[ids]
    age = (pd.Timestamp(date) - per["birth_date"]).dt.days / 365.25
    b = tables["benefits"]
    b = b[(b["benefit"] == "bijstand") & b["person_id"].isin(ids) & _covers(b, pd.Timestamp(date))]
    five = (b["start"] <= pd.Timestamp(date) - pd.DateOffset(years=5)).mean()
    hh = tables["households"]
    pos = hh[hh["person_id"].isin(ids) & _covers(hh, pd.Timestamp(date))]["position"]
    return dict(n=len(ids), women=(per["sex"] == "F").mean(), under27=(age < 27).mean(), over45=(age >= 45).mean(),
                five_years=five, single=pos.isin(["single", "child_at_home", "other"]).mean(),
                single_parent=(pos == "single_parent").mean(),
                couples=pos.isin(["couple_no_children", "couple_with_children"]).mean(),
                non_western=(per["migration_background"] == "outside_europe").mean(),  # relabelled (CBS 2022)
                edu_unknown=(per["education"] == "unknown").mean())


@pytest.mark.parametrize("date", ["2015-01-01", "2023-12-31"])
def test_stock_composition(large, date):
    s = _stock_shares(large.tables, date)
    # public figures: ~57% women, ~10% under 27, ~57% aged 45+, about half 5+ years,
    # households ~60% single / 25% single parent / 15% couples; non-western ~40%+; ~10% unknown education
    assert abs(s["women"] - 0.57) < 0.03
    assert abs(s["under27"] - 0.10) < 0.035
    assert abs(s["over45"] - 0.57) < 0.04
    assert 0.40 <= s["five_years"] <= 0.55
    assert abs(s["single"] - 0.60) < 0.05
    assert abs(s["single_parent"] - 0.25) < 0.04
    assert abs(s["couples"] - 0.15) < 0.04
    assert 0.38 <= s["non_western"] <= 0.55
    assert abs(s["edu_unknown"] - 0.10) < 0.03


def _exits(sim):
    """Bijstand exits inside the window with status 1, 6, 12 months after, from the spells."""
    t = sim.tables
    b = t["benefits"]
    bij = b[b["benefit"] == "bijstand"].sort_values(["person_id", "start"]).copy()
    ws, we = pd.Timestamp(sim.study["window_start"]), pd.Timestamp(sim.study["window_end"])
    bij["next_start"] = bij.groupby("person_id")["start"].shift(-1)
    # last month end covered by the spell; exit month end = the one after
    last_me = (bij["end"] + pd.Timedelta(days=1)) - pd.offsets.MonthEnd(1)
    ex = bij[bij["end"].notna() & (last_me >= ws) & (last_me + pd.DateOffset(months=13) <= we)].copy()
    ex["last_me"] = last_me[ex.index]
    return ex


def test_exits_reentry_and_side_jobs(large):
    ex = _exits(large)
    # destination: status at the first month end after the spell (from the spells, sampled)
    sample = ex.sample(4000, random_state=1)
    index = SpellIndex(large.tables)
    dest = pd.Series([index.statuses(pid, [me + pd.offsets.MonthEnd(1)])[0]
                      for pid, me in zip(sample["person_id"], sample["last_me"], strict=True)], index=sample.index)
    share_work = (dest == "werk").mean()
    assert 0.45 <= share_work <= 0.60  # about half of exits go to work
    # re-entry: a new spell covering a month end within 6 / 12 months of the last one covered
    nxt_me = (ex["next_start"] + pd.offsets.MonthEnd(0))
    months = (nxt_me.dt.year - ex["last_me"].dt.year) * 12 + (nxt_me.dt.month - ex["last_me"].dt.month)
    back6 = (months <= 6).mean()
    back12 = (months <= 12).mean()
    assert abs(back6 - 0.15) < 0.03
    assert abs(back12 - 0.22) < 0.035
    work_ids = sample.index[dest == "werk"]
    back6_work = (months.loc[work_ids] <= 6).mean()
    assert 0.06 <= back6_work <= 0.13  # about 10% after exit to work
    # bijstand met werk: share of recipients with a job at a month end
    t = large.tables
    ids = t["persons"]["person_id"].to_numpy()[::10]
    me = large.months[large.months >= pd.Timestamp("2016-01-01")][::12]
    st = statuses_from_spells(t, ids, me, index).to_numpy()
    on = np.isin(st, ["bijstand", "bijstand_met_werk"])
    share_bmw = (st == "bijstand_met_werk").sum() / on.sum()
    assert abs(share_bmw - 0.08) < 0.025


def test_jobs_after_bijstand_are_flexible_and_realistic(large):
    jobs = large.tables["jobs"]
    recent = jobs[jobs["start"] >= pd.Timestamp("2015-01-01")]
    contracts = recent["contract"].value_counts(normalize=True)
    assert contracts[["agency", "on_call", "fixed_term"]].sum() > 0.6
    assert recent["sector"].value_counts().index[0] == "N"  # agency work is the largest sector
    assert recent.loc[recent["contract"] == "on_call", "hours_per_week"].mean() < recent.loc[
        recent["contract"] == "permanent", "hours_per_week"].mean()


# ------------------------------------------------------------------------------------------------
# the truth
# ------------------------------------------------------------------------------------------------


def test_null_effect_gives_exactly_zero_individual_effects(constant_null):
    ie = constant_null.individual_effects
    assert len(ie) > 500
    for o in (*C.OUTCOMES, *C.EXTRA_OUTCOMES):
        eff = ie[f"{o}_effect"].dropna()
        assert len(eff) > 0
        assert (eff == 0).all(), o
    te = constant_null.true_effects
    assert (te.loc[te["n_treated"] > 0, "estimate"] == 0).all()
    hr = constant_null.true_hazard_ratios
    assert (hr["hazard_ratio"] == 1.0).all()


def test_positive_effect_positive_att_and_naive_is_biased(constant_positive):
    sim = constant_positive
    te = sim.true_effects.set_index(["programme", "group", "outcome"])["estimate"]
    assert te[("job_coaching", "all", "off_bijstand_12m")] > 0.03
    assert te[("job_coaching", "all", "months_bijstand_18m")] < 0
    assert te[("participation", "all", "off_bijstand_12m")] == pytest.approx(0, abs=0.01)
    # naive: participants' actual outcome versus everyone on bijstand at a month end without a start
    states = sim.states
    ws = 60
    T = states.shape[1]
    on = states <= 1
    ie = sim.individual_effects[sim.individual_effects["in_truth"]]
    started = np.zeros_like(on)
    pcode = pd.Index(sim.tables["persons"]["person_id"]).get_indexer(sim.individual_effects["person_id"])
    started[pcode, sim.individual_effects["month_index"].to_numpy() + ws] = True
    months = np.arange(ws, T - 18)
    pool_off = []
    for m in months:
        pool = on[:, m] & ~started[:, m]
        pool_off.append(~on[pool, m + 12])
    control_mean = np.concatenate(pool_off).mean()
    # coaching goes to short spells (who leave fast anyway): naive too high; participation to long
    # spells: naive too low. The bias must exceed 4 standard errors of the participants' mean.
    for prog, sign in (("job_coaching", 1), ("participation", -1)):
        y = ie.loc[ie["programme"] == prog, "off_bijstand_12m_actual"]
        naive = y.mean() - control_mean
        truth = te[(prog, "all", "off_bijstand_12m")]
        se = y.std() / np.sqrt(len(y))
        assert sign * (naive - truth) > 4 * se, (prog, naive, truth, se)
    # selection on duration: coaching goes to short spells, participation to long ones
    sm = ie.groupby("programme")["spell_month"].median()
    assert sm["job_coaching"] < sm["participation"]


def test_truth_tables_layout(small, constant_positive):
    te = small.true_effects
    assert list(te.columns) == list(C.EFFECTS_COLUMNS)
    assert set(te["method"]) == {"truth"}
    labels = {"all"} | {C.group_label(d, v) for d, (_, vals) in C.GROUP_DIMENSIONS.items() for v in vals}
    assert set(te["group"]) == labels
    assert set(te["outcome"]) == {*C.OUTCOMES, *C.EXTRA_OUTCOMES}
    assert len(te) == len(PROGRAMMES) * len(labels) * 4
    ie = small.individual_effects
    joined = ie.merge(small.tables["programmes"], on=["person_id", "start"], how="outer", indicator=True,
                      suffixes=("", "_table"))
    assert (joined["_merge"] == "both").all() and (joined["programme"] == joined["programme_table"]).all()
    assert (ie["start"] + pd.offsets.MonthEnd(0) == ie["time_zero"]).all()
    # group estimates are means of individual effects over the starts counted for the truth
    used = ie[ie["in_truth"] & (ie["programme"] == "job_coaching") & (ie["sex"] == "F")]
    row = te[(te["programme"] == "job_coaching") & (te["group"] == "sex=F") & (te["outcome"] == "employed_12m")]
    assert row["estimate"].iloc[0] == pytest.approx(used["employed_12m_effect"].mean())
    assert row["n_treated"].iloc[0] == len(used)
    # starts whose follow-up runs past the window are marked and have no 18-month outcome
    late = ie[~ie["in_truth"]]
    assert (late["time_zero"] + pd.DateOffset(months=18) > pd.Timestamp(small.study["window_end"])).all()
    hr = small.true_hazard_ratios
    assert list(hr.columns) == ["programme", "group", "phase", "hazard_ratio"]
    assert set(hr["phase"]) == {"lock_in", "post"}
    coach = hr[(hr["programme"] == "job_coaching") & (hr["phase"] == "post")].set_index("group")["hazard_ratio"]
    assert coach["age=18-26"] > coach["age=50+"]
    chr_ = constant_positive.true_hazard_ratios
    assert set(chr_["group"]) == labels


def test_individual_covariates_match_the_panel_definitions(small):
    """spell_month, history counts and age at time zero as the panel would compute them."""
    ie = small.individual_effects.head(60)
    t = small.tables
    index = SpellIndex(t)
    ids = t["persons"]["person_id"]
    bij = t["benefits"][t["benefits"]["benefit"] == "bijstand"]
    for _, r in ie.iterrows():
        tz = r["time_zero"]
        spell = bij[(bij["person_id"] == r["person_id"]) & _covers(bij, tz)]
        assert len(spell) == 1
        start = spell["start"].iloc[0]
        assert r["spell_month"] == (tz.year - start.year) * 12 + tz.month - start.month
        hist_me = [tz - pd.offsets.MonthEnd(k) for k in range(36, 0, -1)]
        st = pd.Series(index.statuses(r["person_id"], hist_me))
        assert r["hist_employed_36m"] == st.isin(["werk", "bijstand_met_werk"]).sum()
        assert r["hist_bijstand_36m"] == st.isin(["bijstand", "bijstand_met_werk"]).sum()
        assert r["hist_ww_36m"] == (st == "ww").sum()
        birth = t["persons"].loc[ids == r["person_id"], "birth_date"].iloc[0]
        age = tz.year - birth.year - ((tz.month, tz.day) < (birth.month, birth.day))
        assert r["age"] == age


# ------------------------------------------------------------------------------------------------
# determinism and files
# ------------------------------------------------------------------------------------------------


def test_same_seed_same_tables_different_seed_different(small):
    again = simulate_municipality(400, seed=11)
    for name in small.tables:
        pd.testing.assert_frame_equal(small.tables[name], again.tables[name])
    pd.testing.assert_frame_equal(small.individual_effects, again.individual_effects)
    pd.testing.assert_frame_equal(small.true_effects, again.true_effects)
    other = simulate_municipality(400, seed=12)
    assert not small.tables["benefits"].equals(other.tables["benefits"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_simulation(small, tmp_path, fmt):
    data_dir, truth_dir = write_simulation(small, tmp_path / "input", fmt=fmt)
    assert data_dir == tmp_path / "input"
    assert truth_dir == tmp_path / "input_truth"
    assert sorted(p.name for p in data_dir.iterdir()) == sorted(
        [f"{n}.{fmt}" for n in C.TABLES if n in small.tables] + ["study.toml"])  # participation: only if simulated
    assert sorted(p.name for p in truth_dir.iterdir()) == [
        "individual_effects.parquet", "params.json", "true_effects.csv", "true_hazard_ratios.csv"]
    study = tomllib.loads((data_dir / "study.toml").read_text())
    programmes = study.pop("programmes")
    assert study == {"municipality": "Simstad", "window_start": "2015-01-01", "window_end": "2024-12-31"}
    assert sorted(programmes) == sorted(set(small.tables["programmes"]["programme"]))
    assert json.loads((truth_dir / "params.json").read_text())["seed"] == 11
    if fmt == "csv":
        ben = pd.read_csv(data_dir / "benefits.csv", dtype=str, keep_default_na=False)
        assert ben["start"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
        assert ((ben["end"] == "") | ben["end"].str.fullmatch(r"\d{4}-\d{2}-\d{2}")).all()
        assert (ben["end"] == "").any()
    else:
        ben = pd.read_parquet(data_dir / "benefits.parquet")
        pd.testing.assert_frame_equal(ben, small.tables["benefits"], check_dtype=False)


def test_bad_arguments():
    with pytest.raises(ValueError, match="effects"):
        simulate_municipality(100, effects="big")
    with pytest.raises(ValueError, match="window_start"):
        simulate_municipality(100, window_start="2015-01-15")
    with pytest.raises(ValueError, match="unknown programme"):
        simulate_municipality(100, effects="constant", hazard_ratios={"coaching": 2.0})


def test_simulated_study_describes_every_programme_in_both_languages():
    """The default municipality's study.toml: a name, a two-sentence description in Dutch and
    English and an illustrative cost for each of the four programmes; it passes validation."""
    import re

    from reintegration_effects.io import _programme_tables
    from reintegration_effects.simulate.params import PROGRAMME_INFO

    assert sorted(PROGRAMME_INFO) == sorted(PROGRAMMES)
    info, problems = _programme_tables(PROGRAMME_INFO)
    assert not problems and info.keys() == PROGRAMME_INFO.keys()
    for label, d in PROGRAMME_INFO.items():
        assert d["name"]["nl"] and d["name"]["en"] and d["name"]["nl"] != label
        for lang in ("nl", "en"):
            sentences = [x for x in re.split(r"(?<=[.!?])\s+", d["description"][lang].strip()) if x]
            assert len(sentences) == 2, (label, lang, sentences)
        assert 500 <= d["cost_per_participant"] <= 10_000


def test_migration_is_a_relabelling_of_the_simulated_categories(small):
    """CBS 2022 labels in the tables; the simulator's own categories (pre-2022 names) behind them."""
    from reintegration_effects.simulate.params import MIGRATION_LABELS, SIM_MIGRATION

    assert set(small.tables["persons"]["migration_background"]) <= set(C.MIGRATION)
    assert [MIGRATION_LABELS[k] for k in SIM_MIGRATION] == list(C.MIGRATION)
    assert set(small.individual_effects["migration_background"]) <= set(C.MIGRATION)
    # the work-experience effect varies by migration: its true ratios carry the new labels
    hr = small.true_hazard_ratios
    we = hr[(hr.programme == "work_experience") & (hr.phase == "post")].set_index("group")["hazard_ratio"]
    assert we.to_dict() == {"migration=dutch": 1.3, "migration=europe": 1.3, "migration=outside_europe": 1.8,
                            "migration=unknown": 1.3}
