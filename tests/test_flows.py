"""Cohorts and flow tables against registers whose flows are known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reintegration_effects.contract import FLOWS_COLUMNS, STATUS_ORDER
from reintegration_effects.errors import StatisticalWarning
from reintegration_effects.flows import (
    GROUPS,
    build_cohorts,
    default_cohorts,
    flow_tables,
    flows,
    flows_by_group,
    parse_cohort,
    transitions,
)
from reintegration_effects.panel import build_panel

from .conftest import make_input

WINDOW = ("2019-01-01", "2021-12-31")


def person(pid, sex="F", birth="1980-05-01", migration="dutch", education="low"):
    return dict(person_id=pid, sex=sex, birth_date=birth, migration_background=migration, education=education,
                status_holder=False)


def bij(pid, start, end):
    return dict(person_id=pid, benefit="bijstand", start=start, end=end)


def hand_register():
    """Six persons; statuses, groups and types worked out by hand in the comments.

    P1 on bijstand throughout; P2 leaves on 31 Mar 2020 for a permanent job (and turns 50 that
    January); P3 leaves on 14 May 2020 for WW, overig in Jan 2021, back on bijstand 1 Feb 2021;
    P4 combines bijstand with an agency job, the bijstand ends 31 Aug 2020, the job 31 Dec 2020;
    P5 has two short spells in 2020 then a fixed-term job; P6 (a recidivist) leaves in Jan 2020
    and comes back twice. P7 left before the window period of interest; P8 never had bijstand. P9
    leaves after exactly one year on 31 Mar 2020 (duration band 1-2y). P10's spell runs to the window
    end (right-censored: not an exit), P11 leaves in 2021.
    """
    persons = [
        person("P1", "F", "1995-03-01"),
        person("P2", "M", "1970-01-15"),
        person("P3", "F", "1965-06-30"),
        person("P4", "F", "1990-01-01", migration="europe", education="medium"),
        person("P5", "M", "1985-07-07", education="high"),
        person("P6", "M", "2000-01-01", migration="outside_europe", education=None),
        person("P7"),
        person("P8"),
        person("P9", "F", "1980-05-01"),
        person("P10"),
        person("P11"),
    ]
    benefits = [
        bij("P1", "2018-06-01", None),
        bij("P2", "2014-02-01", "2020-03-31"),
        bij("P3", "2019-03-15", "2020-05-14"),
        dict(person_id="P3", benefit="ww", start="2020-05-15", end="2020-12-31"),
        bij("P3", "2021-02-01", None),
        bij("P4", "2019-10-01", "2020-08-31"),
        bij("P5", "2020-02-01", "2020-03-31"),
        bij("P5", "2020-06-01", "2020-06-30"),
        bij("P6", "2019-01-01", "2020-01-31"),
        bij("P6", "2020-04-01", "2020-04-30"),
        bij("P6", "2020-10-01", None),
        bij("P7", "2018-01-01", "2019-05-31"),
        bij("P9", "2019-04-01", "2020-03-31"),  # exactly one year (end inclusive)
        bij("P10", "2021-01-01", "2021-12-31"),  # runs to the window end: right-censored, no known exit
        bij("P11", "2021-03-01", "2021-06-30"),
    ]
    jobs = [
        dict(person_id="P2", start="2020-04-01", end=None, sector="C", contract="permanent", hours_per_week=36,
             monthly_wage=2500.0),
        dict(person_id="P2", start="2020-04-15", end="2020-06-30", sector="I", contract="on_call", hours_per_week=8,
             monthly_wage=300.0),
        dict(person_id="P4", start="2019-12-01", end="2020-12-31", sector="N", contract="agency", hours_per_week=16,
             monthly_wage=900.0),
        dict(person_id="P5", start="2020-07-15", end=None, sector="Q", contract="fixed_term", hours_per_week=24,
             monthly_wage=1800.0),
        dict(person_id="P8", start="2015-01-01", end=None, sector="G", contract="permanent", hours_per_week=38,
             monthly_wage=3000.0),
    ]
    households = [
        dict(person_id="P1", start="2010-01-01", end=None, position="single"),
        dict(person_id="P3", start="2019-01-01", end="2020-01-01", position="single_parent"),
        dict(person_id="P3", start="2020-01-02", end=None, position="couple_no_children"),
        dict(person_id="P5", start="2019-01-01", end=None, position="couple_with_children"),
    ]
    programmes = [
        dict(person_id="P2", programme="coaching", start="2019-05-01", end="2019-08-31"),
        dict(person_id="P5", programme="training", start="2020-02-10", end="2020-02-20"),
        dict(person_id="P1", programme="training", start="2021-03-01", end="2021-04-01"),  # after time zero
    ]
    return make_input(persons=persons, benefits=benefits, jobs=jobs, households=households, programmes=programmes,
                      window=WINDOW)


COHORTS = ["stock_2020-01-01", "outflow_2020"]

# status at 6 and 12 months, by hand (exact dates: stock 2020-07-01 / 2021-01-01; outflow t0 + 6/12 months)
EXPECTED_STATUS = {
    "stock_2020-01-01": {
        "P1": ("bijstand", "bijstand"),
        "P2": ("werk", "werk"),
        "P3": ("ww", "overig"),
        "P4": ("bijstand_met_werk", "overig"),  # the job ends 31 Dec 2020
        "P6": ("overig", "bijstand"),
        "P9": ("overig", "overig"),
    },
    "outflow_2020": {
        "P2": ("werk", "werk"),  # t0 31 Mar 2020
        "P3": ("ww", "bijstand"),  # t0 14 May: 14 Nov 2020 on WW, 14 May 2021 back on bijstand
        "P4": ("overig", "overig"),  # t0 31 Aug: 31 Aug + 6 months = 28 Feb 2021 (clipped)
        "P5": ("werk", "werk"),  # first exit 31 Mar 2020 (the June exit is the second)
        "P6": ("overig", "bijstand"),  # t0 31 Jan 2020
        "P9": ("overig", "overig"),
    },
}
# characteristics at time zero, by hand
EXPECTED_GROUPS = {
    "stock_2020-01-01": {
        #      sex  age      migration      household            education  duration
        "P1": ("F", "18-26", "dutch", "single", "low", "1-2y"),  # 24; on bijstand since 1 Jun 2018
        "P2": ("M", "27-49", "dutch", "unknown", "low", "5+y"),  # 49 on 1 Jan 2020
        "P3": ("F", "50+", "dutch", "single_parent", "low", "<1y"),  # spell end inclusive on 1 Jan
        "P4": ("F", "27-49", "europe", "unknown", "medium", "<1y"),
        "P6": ("M", "18-26", "outside_europe", "unknown", "unknown", "1-2y"),  # exactly 1 year on 1 Jan 2020
        "P9": ("F", "27-49", "dutch", "unknown", "low", "<1y"),  # 9 months
    },
    "outflow_2020": {
        "P2": ("M", "50+", "dutch", "unknown", "low", "5+y"),  # turned 50 in Jan 2020; 6 years
        "P3": ("F", "50+", "dutch", "couple_no_children", "low", "1-2y"),
        "P4": ("F", "27-49", "europe", "unknown", "medium", "<1y"),  # 11 months
        "P5": ("M", "27-49", "dutch", "couple_with_children", "high", "<1y"),
        "P6": ("M", "18-26", "outside_europe", "unknown", "unknown", "1-2y"),  # 13 months
        "P9": ("F", "27-49", "dutch", "unknown", "low", "1-2y"),  # 1 Apr 2019 - 31 Mar 2020: one full year
    },
}
DIMS = ("sex", "age", "migration", "household", "education", "duration")


@pytest.fixture(scope="module")
def hand():
    data = hand_register()
    panel = build_panel(data)
    cs = build_cohorts(data, panel, cohorts=COHORTS, horizons=(6, 12))
    return data, panel, cs


def expected_flows() -> pd.DataFrame:
    rows = []
    for cohort, people in EXPECTED_STATUS.items():
        for k, h in enumerate((6, 12)):
            for s in STATUS_ORDER:
                rows.append((cohort, h, s, sum(v[k] == s for v in people.values())))
    return pd.DataFrame(rows, columns=list(FLOWS_COLUMNS)).astype({"horizon_months": np.int64, "persons": np.int64})


def test_parse_cohort_and_errors():
    c = parse_cohort("stock_2016-01-01")
    assert c.kind == "stock" and c.date == pd.Timestamp("2016-01-01")
    c = parse_cohort("outflow_2017")
    assert c.kind == "outflow" and c.year == 2017 and c.last_time_zero == pd.Timestamp("2017-12-31")
    for bad in ("stock_2016-13-01", "outflow_17", "inflow_2017", "stock2016-01-01"):
        with pytest.raises(ValueError, match="stock_YYYY-MM-DD"):
            parse_cohort(bad)


def test_default_cohorts_fit_the_window():
    # 18 months after 1 Jan 2018 is 1 Jul 2019 (fits), after 1 Jan 2019 is 1 Jul 2020 (does not);
    # 18 months after 31 Dec 2017 is 30 Jun 2019 (fits), after 31 Dec 2018 is 30 Jun 2020 (does not)
    got = default_cohorts("2015-01-01", "2019-12-31", (6, 12, 18))
    assert got == ["stock_2015-01-01", "stock_2016-01-01", "stock_2017-01-01", "stock_2018-01-01",
                   "outflow_2015", "outflow_2016", "outflow_2017"]
    # a window starting mid-year: no cohort for the partial year 2015; 1 Jan 2016 + 12 months fits,
    # 31 Dec 2016 + 12 months does not
    assert default_cohorts("2015-07-01", "2017-06-30", (12,)) == ["stock_2016-01-01"]
    # 31 Dec 2015 + 18 months = 30 Jun 2017: a window ending that day fits exactly
    assert "outflow_2015" in default_cohorts("2015-01-01", "2017-06-30", (6, 12, 18))
    assert "outflow_2015" not in default_cohorts("2015-01-01", "2017-06-29", (6, 12, 18))


def test_members_and_statuses_by_hand(hand):
    _, _, cs = hand
    m = cs.members
    for cohort, people in EXPECTED_STATUS.items():
        sub = m[m.cohort == cohort].set_index("person_id")
        assert sorted(sub.index) == sorted(people)
        got = {p: (str(r.status_6m), str(r.status_12m)) for p, r in sub.iterrows()}
        assert got == people
    out = m[m.cohort == "outflow_2020"].set_index("person_id")
    assert out.loc["P5", "time_zero"] == pd.Timestamp("2020-03-31")  # the first exit of the year
    assert out["exit_destination"].astype(str).to_dict() == {"P2": "werk", "P3": "ww", "P4": "werk", "P5": "overig",
                                                             "P6": "overig", "P9": "overig"}
    assert out["programme"].to_dict() == {"P2": True, "P3": False, "P4": False, "P5": True, "P6": False,
                                          "P9": False}
    assert not m.loc[m.person_id == "P1", "programme"].any()  # the programme began after time zero


def test_flows_table_by_hand(hand):
    _, _, cs = hand
    got = flows(cs)
    assert list(got.columns) == list(FLOWS_COLUMNS)
    pd.testing.assert_frame_equal(got, expected_flows())


def test_flows_by_group_by_hand(hand):
    _, _, cs = hand
    got = flows_by_group(cs)
    rows = []
    for cohort, people in EXPECTED_STATUS.items():
        for k, h in enumerate((6, 12)):
            for d_i, d in enumerate(DIMS):
                for value in GROUPS[d][1]:
                    for s in STATUS_ORDER:
                        n = sum(people[p][k] == s and EXPECTED_GROUPS[cohort][p][d_i] == value for p in people)
                        rows.append((cohort, h, d, f"{d}={value}", s, n))
    want = pd.DataFrame(rows, columns=["cohort", "horizon_months", "dimension", "group", "status", "persons"])
    want = want.astype({"horizon_months": np.int64, "persons": np.int64})
    pd.testing.assert_frame_equal(got, want)
    # the contract's labels
    assert {"sex=F", "age=18-26", "age=27-49", "age=50+", "duration=<1y", "duration=1-2y", "duration=2-5y",
            "duration=5+y", "household=unknown"} <= set(got.group)


def test_transitions_by_hand(hand):
    _, _, cs = hand
    got = transitions(cs)
    assert list(got.columns) == ["cohort", "status_6m", "status_12m", "persons"]
    paths = {(r.cohort, str(r.status_6m), str(r.status_12m)): r.persons for r in got.itertuples()}
    want = {}
    for cohort, people in EXPECTED_STATUS.items():
        for s6, s12 in people.values():
            want[(cohort, s6, s12)] = want.get((cohort, s6, s12), 0) + 1
    assert paths == want
    by = transitions(cs, by_group=True)
    # every dimension splits every cohort completely
    tot = by.groupby(["cohort", "dimension"]).persons.sum()
    assert (tot.xs("stock_2020-01-01") == 6).all() and (tot.xs("outflow_2020") == 6).all()
    assert set(by.dimension) == set(DIMS)


def test_horizon_past_window_is_left_out_with_a_warning(hand):
    data, panel, _ = hand
    with pytest.warns(StatisticalWarning, match="runs past the window end"):
        cs = build_cohorts(data, panel, cohorts=["outflow_2021"], horizons=(6, 12))
    # 31 Dec 2021 + 6 months is past the window end 31 Dec 2021: no horizon fits
    assert cs.cohorts[0].horizons == ()
    assert flows(cs).empty
    with pytest.raises(ValueError, match="outside the window"):
        build_cohorts(data, panel, cohorts=["stock_2023-01-01"], horizons=(6,))


def test_study_settings_are_used(hand):
    data, panel, _ = hand
    data.study.cohorts = ["outflow_2020"]
    data.study.horizons = (3,)
    data.study.groups = ["sex"]
    try:
        tabs = flow_tables(data, panel)
    finally:
        data.study.cohorts, data.study.horizons, data.study.groups = None, (6, 12, 18), None
    assert set(tabs["flows"].cohort) == {"outflow_2020"} and set(tabs["flows"].horizon_months) == {3}
    assert set(tabs["flows_by_group"].dimension) == {"sex"}
    assert tabs["flows"].persons.sum() == 6


def test_a_right_censored_spell_is_not_an_exit(hand):
    data, panel, _ = hand
    with pytest.warns(StatisticalWarning):
        cs = build_cohorts(data, panel, cohorts=["outflow_2021"], horizons=(6,))
    # P10's spell ends on the window's last day: its destination is unknown, so it is no outflow
    assert cs.members.person_id.tolist() == ["P11"]


# ------------------------------------------------------------------------------------------------
# The CBS reference layout: an outflow cohort of 460 with 75 / 190 / 20 / 15 / 160 at 6 months
# ------------------------------------------------------------------------------------------------


def cbs_register():
    """460 persons leaving bijstand in 2015, spread over the year, built to end up at 6 months as in
    the CBS example (Leidschendam-Voorburg): 75 back on bijstand, 190 in work, 20 bijstand with
    work, 15 on WW and 160 elsewhere."""
    plan = ["bijstand"] * 75 + ["werk"] * 190 + ["bijstand_met_werk"] * 20 + ["ww"] * 15 + ["overig"] * 160
    persons, benefits, jobs = [], [], []
    for i, target in enumerate(plan):
        pid = f"c{i:03d}"
        end = pd.Timestamp("2015-01-01") + pd.Timedelta(days=(i * 7) % 365)
        persons.append(person(pid, "F" if i % 2 else "M", f"{1960 + i % 40}-03-01"))
        benefits.append(bij(pid, end - pd.Timedelta(days=400 + i), end))
        nxt = end + pd.Timedelta(days=1)
        back = end + pd.DateOffset(months=3)
        if target in ("werk", "bijstand_met_werk"):
            jobs.append(dict(person_id=pid, start=nxt, end=None, sector="G", contract="permanent",
                             hours_per_week=30, monthly_wage=2000.0))
        if target in ("bijstand", "bijstand_met_werk"):
            benefits.append(bij(pid, back, None))
        if target == "ww":
            benefits.append(dict(person_id=pid, benefit="ww", start=nxt, end=nxt + pd.DateOffset(years=1)))
    return make_input(persons=persons, benefits=benefits, jobs=jobs, window=("2014-01-01", "2017-06-30"))


def test_cbs_reference_cohort_is_reproduced():
    data = cbs_register()
    tabs = flow_tables(data, cohorts=["outflow_2015"], horizons=(6, 12, 18))
    f = tabs["flows"]
    six = f[f.horizon_months == 6]
    assert six.status.tolist() == list(STATUS_ORDER)  # the CBS layout's order
    assert six.persons.tolist() == [75, 190, 20, 15, 160]
    assert (f.groupby("horizon_months").persons.sum() == 460).all()


# ------------------------------------------------------------------------------------------------
# Flows agree with a direct count from the raw spells
# ------------------------------------------------------------------------------------------------


def direct_flows(person_ids, benefits, jobs, window_start, window_end, cohorts, horizons) -> pd.DataFrame:
    """Reference: person by person, with plain Python over the raw spells (no panel, no merges)."""
    we = pd.Timestamp(window_end)
    last_me = we if we.is_month_end else we - pd.offsets.MonthEnd(1)  # the window's last month end

    def spells(frame):
        out = {}
        for r in frame.itertuples():
            out.setdefault(str(r.person_id), []).append((r.start, None if pd.isna(r.end) else r.end))
        return out

    kind = benefits.benefit.astype(str)
    bij, ww, job = spells(benefits[kind == "bijstand"]), spells(benefits[kind == "ww"]), spells(jobs)

    def covers(sp, pid, date):
        return any(s <= date and (e is None or e >= date) for s, e in sp.get(pid, []))

    def status(pid, date):
        b, j, w = covers(bij, pid, date), covers(job, pid, date), covers(ww, pid, date)
        return "bijstand_met_werk" if b and j else "bijstand" if b else "werk" if j else "ww" if w else "overig"

    rows = []
    for name in cohorts:
        c = parse_cohort(name)
        members = {}
        for pid in map(str, person_ids):
            if c.kind == "stock":
                if covers(bij, pid, c.date):
                    members[pid] = c.date
                continue
            # ended in the year, inside the window, before the window's last month end (so that a month
            # end follows inside the window and the destination is known); the first such exit
            ends = [e for _, e in bij.get(pid, []) if e is not None and e.year == c.year
                    and pd.Timestamp(window_start) <= e < last_me]
            if ends:
                members[pid] = min(ends)
        for h in horizons:
            counts = dict.fromkeys(STATUS_ORDER, 0)
            for pid, t0 in members.items():
                counts[status(pid, t0 + pd.DateOffset(months=h))] += 1
            rows += [(name, h, s, counts[s]) for s in STATUS_ORDER]
    return pd.DataFrame(rows, columns=list(FLOWS_COLUMNS)).astype({"horizon_months": np.int64, "persons": np.int64})


def direct_flows_data(data, cohorts, horizons):
    return direct_flows(data.persons.person_id, data.benefits, data.jobs, data.window_start, data.window_end,
                        cohorts, horizons)


def random_register(seed: int, n: int = 60):
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2016-01-01")
    persons, benefits, jobs = [], [], []

    def day(lo, hi):
        return base + pd.Timedelta(days=int(rng.integers(lo, hi)))

    for i in range(n):
        pid = f"r{i}"
        persons.append(person(pid, "F" if rng.random() < .5 else "M", f"{rng.integers(1955, 2000)}-0{rng.integers(1, 9)}-15"))
        t = day(-900, 700)
        for _ in range(int(rng.integers(0, 4))):
            end = None if rng.random() < .15 else t + pd.Timedelta(days=int(rng.integers(0, 700)))
            benefits.append(bij(pid, t, end))
            if end is None:
                break
            t = end + pd.Timedelta(days=int(rng.integers(1, 300)))
        for _ in range(int(rng.integers(0, 3))):
            s = day(-1500, 1400)
            e = None if rng.random() < .3 else s + pd.Timedelta(days=int(rng.integers(0, 500)))
            jobs.append(dict(person_id=pid, start=s, end=e))
        if rng.random() < .3:
            s = day(-300, 1200)
            benefits.append(dict(person_id=pid, benefit="ww", start=s, end=s + pd.Timedelta(days=int(rng.integers(0, 400)))))
    return make_input(persons=persons, benefits=benefits, jobs=jobs, window=("2016-01-01", "2019-12-31"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_flows_match_a_direct_count_on_random_registers(seed):
    data = random_register(seed)
    cohorts = ["stock_2016-01-01", "stock_2017-03-14", "outflow_2016", "outflow_2017"]
    got = flow_tables(data, cohorts=cohorts, horizons=(6, 12, 18))["flows"]
    pd.testing.assert_frame_equal(got, direct_flows_data(data, cohorts, (6, 12, 18)))


def test_flows_on_the_simulated_municipality_match_the_raw_spell_files(tmp_path):
    pytest.importorskip("reintegration_effects.simulate", reason="the simulator (simulate.py) is not there yet")
    from reintegration_effects.datasets import load_simulated

    folder = tmp_path / "input"
    data, _ = load_simulated(300, seed=7, folder=folder)
    names = ["stock_2016-01-01", "outflow_2016"]  # a default stock and outflow cohort of the 2015-2024 window
    assert set(names) <= set(default_cohorts(data.window_start, data.window_end, (6, 12, 18)))
    got = flow_tables(data, cohorts=names, horizons=(6, 12, 18))["flows"]
    # the reference reads the CSV files the simulator wrote, not the validated frames
    raw = {n: pd.read_csv(folder / f"{n}.csv", dtype={"person_id": str}) for n in ("persons", "benefits", "jobs")}
    for n in ("benefits", "jobs"):
        raw[n]["start"] = pd.to_datetime(raw[n]["start"])
        raw[n]["end"] = pd.to_datetime(raw[n]["end"])
    want = direct_flows(raw["persons"].person_id, raw["benefits"], raw["jobs"], data.window_start, data.window_end,
                        names, (6, 12, 18))
    pd.testing.assert_frame_equal(got, want)
    sizes = got.groupby("cohort").persons.sum() / 3
    assert (sizes > 20).all(), sizes  # both cohorts are sizeable: the comparison is not vacuous


@pytest.mark.parametrize("horizons", [(6, 12), (12, 24, 36), (6, 12, 18, 24), (1,), (3, 45)])
def test_any_horizons_give_flows_transitions_and_their_protected_tables(horizons, tmp_path):
    """Issue 15: horizons other than the default [6, 12, 18] crashed the transitions' disclosure plan
    (a path built from status_6m, status_12m and status_18m only). Any increasing horizons within
    the window give direct-count flows, one status column per horizon, and tables that pass the gate."""
    from reintegration_effects.outputs import protect_table, write_table

    data = random_register(4)
    cohorts = ["stock_2016-01-01", "outflow_2016"]
    cs = build_cohorts(data, cohorts=cohorts, horizons=horizons)
    fits = {(c.name, h) for c in cs.cohorts for h in c.horizons}
    direct = direct_flows_data(data, cohorts, horizons)
    direct = direct[[(c, h) in fits for c, h in zip(direct.cohort, direct.horizon_months, strict=True)]]
    pd.testing.assert_frame_equal(flows(cs), direct.reset_index(drop=True))
    tr = transitions(cs)
    scols = [f"status_{h}m" for h in horizons]
    assert list(tr.columns) == ["cohort", *scols, "persons"]
    sizes = cs.members.groupby("cohort", observed=True).size().rename(index=str)
    assert tr.groupby("cohort").persons.sum().to_dict() == {c: sizes[c] for c in tr.cohort.unique()}
    protected, counts = protect_table("transitions", tr)
    assert counts == ("persons",) and not protected.duplicated(["cohort", "path"]).any()
    assert protected["path"].str.count(">").eq(len(horizons) - 1).all()
    for name, df in {"flows": flows(cs), "flows_by_group": flows_by_group(cs), "transitions": tr}.items():
        assert write_table(tmp_path, name, df).is_file()


# ------------------------------------------------------------------------------------------------
# 'overig' broken down: another benefit, or no registered work or benefit
# ------------------------------------------------------------------------------------------------

#: 'Other' benefit spells added to the hand register. They change no status (the status rule does
#: not know benefit 'other'): P9 is on a disability benefit from the day after her bijstand ends;
#: P4 has an 'other' benefit in January 2021 only; P1 has one while on bijstand (not overig: not counted).
OTHER_BENEFITS = [
    dict(person_id="P9", benefit="other", start="2020-04-01", end=None),
    dict(person_id="P4", benefit="other", start="2021-01-01", end="2021-01-31"),
    dict(person_id="P1", benefit="other", start="2019-01-01", end=None),
]
# by hand, from EXPECTED_STATUS: the overig persons at each horizon and whether an 'other' benefit
# covers that exact date (stock: 1 Jul 2020 / 1 Jan 2021; outflow: time zero + 6 / 12 months)
EXPECTED_OVERIG = {
    # cohort, horizon: (other_benefit, no_work_or_benefit)
    ("stock_2020-01-01", 6): (1, 1),  # P9 (WIA) / P6
    ("stock_2020-01-01", 12): (2, 1),  # P9 and P4 (1 Jan 2021) / P3
    ("outflow_2020", 6): (1, 2),  # P9 / P4 (28 Feb 2021, no longer covered) and P6
    ("outflow_2020", 12): (1, 1),  # P9 / P4
}


@pytest.fixture(scope="module")
def overig_hand():
    data = hand_register()
    extra = pd.DataFrame(OTHER_BENEFITS)
    for c in ("start", "end"):
        extra[c] = pd.to_datetime(extra[c])
    data.benefits = pd.concat([data.benefits, extra], ignore_index=True)
    return data, build_cohorts(data, build_panel(data), cohorts=COHORTS, horizons=(6, 12))


def test_overig_breakdown_by_hand(overig_hand):
    from reintegration_effects.contract import FLOWS_OVERIG_COLUMNS, OVERIG_DETAILS
    from reintegration_effects.flows import flows_overig

    _, cs = overig_hand
    got = flows_overig(cs)
    assert list(got.columns) == list(FLOWS_OVERIG_COLUMNS)
    want = pd.DataFrame([(c, h, d, n) for (c, h), counts in EXPECTED_OVERIG.items()
                         for d, n in zip(OVERIG_DETAILS, counts, strict=True)], columns=list(FLOWS_OVERIG_COLUMNS))
    pd.testing.assert_frame_equal(got, want.astype({"horizon_months": np.int64, "persons": np.int64}))
    # the details add up to flows' overig, cohort by cohort and horizon by horizon
    fl = flows(cs)
    overig = fl[fl.status == "overig"].set_index(["cohort", "horizon_months"])["persons"]
    pd.testing.assert_series_equal(got.groupby(["cohort", "horizon_months"], sort=False)["persons"].sum(), overig,
                                   check_names=False)
    # the exact flows table rides along for the disclosure plan
    pd.testing.assert_frame_equal(got.attrs["flows"], fl)
    # the 'other' benefit alone changes no status: the hand register's flows are unchanged
    pd.testing.assert_frame_equal(fl, expected_flows())


def test_other_benefit_columns_of_the_members(overig_hand):
    _, cs = overig_hand
    m = cs.members.set_index(["cohort", "person_id"])
    assert m.loc[("stock_2020-01-01", "P1"), "other_benefit_6m"]  # covered, though on bijstand
    assert m.loc[("stock_2020-01-01", "P4"), "other_benefit_12m"]
    assert not m.loc[("stock_2020-01-01", "P4"), "other_benefit_6m"]
    assert not m.loc[("outflow_2020", "P4"), "other_benefit_6m"]
    assert m["other_benefit_6m"].dtype == bool and m["other_benefit_12m"].dtype == bool


def _overig_exact(overig_counts: dict, other_counts: dict, statuses: dict | None = None) -> pd.DataFrame:
    """An exact flows_overig table with its flows table in attrs: one stock cohort, horizons as keys."""
    from reintegration_effects.contract import OVERIG_DETAILS

    rows, frows = [], []
    for h, ov in overig_counts.items():
        other = other_counts[h]
        rows += [("stock_2020-01-01", h, OVERIG_DETAILS[0], other), ("stock_2020-01-01", h, OVERIG_DETAILS[1], ov - other)]
        rest = (statuses or {}).get(h, {"bijstand": 500, "werk": 200, "bijstand_met_werk": 40, "ww": 30})
        for s in STATUS_ORDER:
            frows.append(("stock_2020-01-01", h, s, ov if s == "overig" else rest[s]))
    df = pd.DataFrame(rows, columns=["cohort", "horizon_months", "detail", "persons"])
    df.attrs["flows"] = pd.DataFrame(frows, columns=list(FLOWS_COLUMNS))
    return df


def test_overig_breakdown_is_protected_consistently_with_flows():
    """Shown parts add up to flows.csv's overig exactly; a part under 10 hides both parts; an
    overig that flows.csv hides (here as the partner of a small ww cell) hides both parts."""
    from reintegration_effects import disclosure as sdc
    from reintegration_effects.outputs import protect_table

    df = _overig_exact({6: 143, 12: 121, 18: 98, 24: 60}, {6: 37, 12: 7, 18: 40, 24: 20},
                       statuses={6: {"bijstand": 500, "werk": 200, "bijstand_met_werk": 40, "ww": 30},
                                 12: {"bijstand": 500, "werk": 200, "bijstand_met_werk": 40, "ww": 30},
                                 # ww = 4 is suppressed in flows; its partner is the smallest other cell: overig
                                 18: {"bijstand": 500, "werk": 200, "bijstand_met_werk": 140, "ww": 4},
                                 24: {"bijstand": 500, "werk": 200, "bijstand_met_werk": 140, "ww": 30}})
    out, counts = protect_table("flows_overig", df)
    fl, _ = protect_table("flows", df.attrs["flows"])
    fl_overig = fl[fl.status == "overig"].set_index("horizon_months")["persons"]
    assert pd.isna(fl_overig[18]) and fl_overig[6] == 145
    o = out.set_index(["horizon_months", "detail"])
    # 6 months: other 37 -> 35, the rest from the published overig 145 (exact 106, shown 110)
    assert (o.loc[(6, "other_benefit"), "persons"], o.loc[(6, "no_work_or_benefit"), "persons"]) == (35, 110)
    assert o.loc[(6, "other_benefit"), "persons_overig"] == 145
    assert o.loc[(6, "other_benefit"), "share_of_overig"] == pytest.approx(round(35 / 145, 3))
    # 12 months: 7 with another benefit is too small; the other part would give it back: both hidden
    assert o.loc[12, "persons"].isna().all() and o.loc[12, "share_of_overig"].isna().all()
    assert list(o.loc[12, "flag"]) == ["<10", "secondary"]
    # 18 months: flows hides overig, so both parts are hidden (they would give overig, then ww, back)
    assert o.loc[18, "persons"].isna().all() and o.loc[18, "persons_overig"].isna().all()
    assert (o.loc[18, "flag"] == "secondary (overig suppressed in flows)").all()
    # 24 months: 20 + 40; shown parts add up to flows.csv's overig exactly
    for h in (6, 24):
        assert o.loc[h, "persons"].sum() == fl_overig[h]
    sdc.check_table(out, name="flows_overig", count_cols=counts)  # the gate accepts it


@pytest.mark.parametrize("seed", range(30))
def test_overig_parts_are_multiples_of_five_near_the_exact_counts(seed):
    """The derived part (published overig - published other) is a multiple of 5 within 4 of its
    exact count and at least 10 when the exact count is: the gate's rules hold on random counts."""
    from reintegration_effects import disclosure as sdc
    from reintegration_effects.outputs import protect_table

    rng = np.random.default_rng(seed)
    hs = list(range(1, 41))
    overig = {h: int(rng.integers(20, 200)) for h in hs}
    other = {h: int(rng.integers(0, overig[h] + 1)) for h in hs}
    df = _overig_exact(overig, other)
    out, counts = protect_table("flows_overig", df)
    sdc.check_table(out, name="flows_overig", count_cols=counts)
    shown = out[out.persons.notna()]
    exact = df.set_index(["horizon_months", "detail"])["persons"]
    diff = shown.set_index(["horizon_months", "detail"])["persons"].astype(int) - exact.loc[
        list(zip(shown.horizon_months, shown.detail, strict=True))]
    assert (diff.abs() <= 4).all() and (shown.persons % 5 == 0).all() and (shown.persons >= 10).all()
    small = exact[exact < 10].index.get_level_values(0)
    assert out[out.horizon_months.isin(small)].persons.isna().all()


# ------------------------------------------------------------------------------------------------
# programmes.csv: the programmes, their descriptions and participants
# ------------------------------------------------------------------------------------------------


def test_programmes_table_by_hand():
    """14 persons start 'coaching' in the window (one twice, one only before the window); 3 start
    'werkfit'; 'plus' is described in study.toml but nobody started it."""
    from reintegration_effects.contract import PROGRAMMES_COLUMNS
    from reintegration_effects.disclosure import check_table
    from reintegration_effects.flows import programmes_table
    from reintegration_effects.io import StudyWithProgrammes
    from reintegration_effects.outputs import protect_table

    ids = [f"Q{i}" for i in range(16)]
    rows = [dict(person_id=i, programme="coaching", start="2020-03-01", end="2020-06-30") for i in ids[:14]]
    rows.append(dict(person_id="Q0", programme="coaching", start="2021-03-01", end="2021-04-30"))  # same person
    rows.append(dict(person_id="Q15", programme="coaching", start="2018-03-01", end="2018-04-30"))  # before
    rows += [dict(person_id=i, programme="werkfit", start="2019-05-01", end=None) for i in ids[:3]]
    data = make_input(persons=[person(i) for i in ids], programmes=rows, window=WINDOW)
    data.study = StudyWithProgrammes(programmes={
        "coaching": {"name": {"nl": "Jobcoaching", "en": "Job coaching"},
                     "description": {"nl": "Hulp bij werk.", "en": "Help into work."}, "cost_per_participant": 2500.0},
        "plus": {"name": {"nl": "Plus", "en": "Plus"}, "description": None, "cost_per_participant": 100.0}})
    got = programmes_table(data)
    assert list(got.columns) == list(PROGRAMMES_COLUMNS)
    assert got["programme"].tolist() == ["coaching", "plus", "werkfit"]
    assert got["participants"].tolist() == [14, 0, 3]
    c = got.set_index("programme")
    assert (c.loc["coaching", "name_nl"], c.loc["coaching", "description_en"]) == ("Jobcoaching", "Help into work.")
    assert c.loc["coaching", "cost_per_participant"] == 2500.0
    assert pd.isna(c.loc["werkfit", "name_nl"]) and pd.isna(c.loc["werkfit", "cost_per_participant"])
    out, counts = protect_table("programmes", got)
    check_table(out, name="programmes", count_cols=counts)
    p = out.set_index("programme")
    assert p.loc["coaching", "participants"] == 15  # 14 rounded to 5
    assert p.loc["coaching", "name_en"] == "Job coaching" and p.loc["coaching", "cost_per_participant"] == 2500.0
    assert pd.isna(p.loc["werkfit", "participants"]) and p.loc["werkfit", "flag"] == "<10"
    assert pd.isna(p.loc["plus", "participants"]) and pd.isna(p.loc["plus", "cost_per_participant"])
    assert p.loc["plus", "name_nl"] == "Plus"  # the texts are not person data: always shown
