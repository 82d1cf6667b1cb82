"""The monthly status panel and the bijstand spell table, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reintegration_effects.panel import Panel, build_panel, covered_months, month_number

from .conftest import make_input

NA = None


def small_case(person_rows):
    return make_input(
        persons=person_rows("A", "B", "C", "D"),
        households=[
            dict(person_id="A", start="2000-01-01", end="2020-03-15", position="single"),
            dict(person_id="A", start="2020-03-16", end=None, position="couple_no_children"),
        ],
        benefits=[
            dict(person_id="A", benefit="bijstand", start="2019-11-15", end="2020-02-29"),
            dict(person_id="A", benefit="ww", start="2020-04-01", end=None),
            dict(person_id="B", benefit="bijstand", start="2020-01-31", end="2020-01-31"),
            dict(person_id="B", benefit="bijstand", start="2020-05-01", end=None),
            dict(person_id="C", benefit="bijstand", start="2020-03-02", end="2020-03-20"),
        ],
        jobs=[
            dict(person_id="A", start="2020-02-10", end="2020-03-30"),
            dict(person_id="B", start="2020-02-01", end=None),
            dict(person_id="D", start="2016-01-01", end="2018-12-31"),
        ],
        programmes=[dict(person_id="A", programme="coaching", start="2020-01-05", end="2020-01-31")],
    )


def test_covered_months_month_end_rule():
    first, last = covered_months(
        pd.to_datetime(["2020-01-31", "2020-03-02", "2020-02-10"]),
        pd.to_datetime(["2020-01-31", "2020-03-20", pd.NaT]),
    )
    jan = month_number(["2020-01-15"])[0]
    assert first.tolist() == [jan, jan + 2, jan + 1]
    assert last[0] == jan  # a one-day spell on a month end covers that month end
    assert last[1] == jan + 1  # covers no month end: last < first
    assert last[2] > 10**8  # open


def test_status_rule_hand_computed(person_rows):
    panel = build_panel(small_case(person_rows))
    m = panel.months
    status = m.pivot(index="person_id", columns="month_index", values="status").astype(str)
    assert status.loc["A"].tolist() == ["bijstand", "bijstand_met_werk", "overig", "ww", "ww", "ww"]
    assert status.loc["B"].tolist() == ["bijstand", "werk", "werk", "werk",
                                         "bijstand_met_werk", "bijstand_met_werk"]
    assert status.loc["C"].tolist() == ["overig"] * 6
    assert status.loc["D"].tolist() == ["overig"] * 6
    a = m[m.person_id == "A"].reset_index(drop=True)
    assert a["spell_month"].tolist() == [2, 3, -1, -1, -1, -1]  # began Nov 2019: Jan is month 2
    assert a["household"].astype(str).tolist() == ["single", "single"] + ["couple_no_children"] * 4
    assert a["in_programme"].tolist() == [True, False, False, False, False, False]
    b = m[m.person_id == "B"].reset_index(drop=True)
    assert b["spell_month"].tolist() == [0, -1, -1, -1, 0, 1]
    assert b["household"].isna().all()
    d = m[m.person_id == "D"].reset_index(drop=True)
    # job Jan 2016 - Dec 2018: month ends Jan 2017..Dec 2018 lie in the 36 months before Jan 2020
    assert d["hist_employed_36m"].tolist() == [24, 23, 22, 21, 20, 19]
    assert a["hist_bijstand_36m"].tolist()[:3] == [2, 3, 4]  # Nov, Dec (+Jan, +Feb)
    assert b["hist_employed_36m"].tolist() == [0, 0, 1, 2, 3, 4]
    assert list(m["month"].iloc[:6].dt.strftime("%m-%d")) == ["01-31", "02-29", "03-31", "04-30",
                                                              "05-31", "06-30"]


def test_spell_table_hand_computed(person_rows):
    sp = build_panel(small_case(person_rows)).spells.set_index(["person_id", "spell_number"])
    a = sp.loc[("A", 1)]
    assert a.left_truncated and a.months_before_window == 2 and a.duration_months == 4
    assert a.exit_destination == "overig"  # job ended Mar 30, WW begins Apr 1: Mar 31 is overig
    assert a.last_month == pd.Timestamp("2020-02-29") and not a.right_censored
    b1, b2 = sp.loc[("B", 1)], sp.loc[("B", 2)]
    assert b1.exit_destination == "werk" and b1.duration_months == 1
    assert b1.months_to_reentry == 4 and b1.next_start == pd.Timestamp("2020-05-01")
    assert b2.right_censored and pd.isna(b2.exit_destination) and b2.duration_months == 2
    assert pd.isna(b2.months_to_reentry)
    c = sp.loc[("C", 1)]
    assert not c.covers_month_end and c.duration_months == 0 and c.exit_destination == "overig"
    assert len(sp) == 4  # every bijstand spell is in the table


def test_save_load_roundtrip(tmp_path, person_rows):
    panel = build_panel(small_case(person_rows))
    again = Panel.load(panel.save(tmp_path / "p"))
    pd.testing.assert_frame_equal(panel.months, again.months)
    pd.testing.assert_frame_equal(panel.spells, again.spells)


def naive_status(data, date) -> dict:
    """The contract's status rule, evaluated person by person on one date (reference)."""
    out = {}
    for pid in data.persons.person_id:
        def covers(frame, pid=pid):
            f = frame[frame.person_id == pid]
            return bool(((f.start <= date) & (f.end.isna() | (f.end >= date))).any())
        ben = data.benefits
        bij = covers(ben[ben.benefit == "bijstand"])
        job = covers(data.jobs)
        ww = covers(ben[ben.benefit == "ww"])
        out[pid] = ("bijstand_met_werk" if bij and job else "bijstand" if bij else "werk" if job
                    else "ww" if ww else "overig")
    return out


@st.composite
def spell_sets(draw):
    n = draw(st.integers(1, 4))
    base = pd.Timestamp("2018-06-01")
    benefits, jobs = [], []
    for i in range(n):
        pid = f"p{i}"
        # non-overlapping bijstand spells: consecutive gaps and lengths in days
        t = base + pd.Timedelta(days=draw(st.integers(0, 400)))
        for _ in range(draw(st.integers(0, 3))):
            length = draw(st.integers(0, 300))
            open_end = draw(st.booleans()) and draw(st.booleans())
            end = None if open_end else t + pd.Timedelta(days=length)
            benefits.append(dict(person_id=pid, benefit="bijstand", start=t, end=end))
            if open_end:
                break
            t = end + pd.Timedelta(days=draw(st.integers(2, 200)))
        for _ in range(draw(st.integers(0, 3))):
            s = base + pd.Timedelta(days=draw(st.integers(-2000, 1300)))
            e = None if draw(st.booleans()) and draw(st.booleans()) else s + pd.Timedelta(
                days=draw(st.integers(0, 700)))
            jobs.append(dict(person_id=pid, start=s, end=e))
        if draw(st.booleans()):
            s = base + pd.Timedelta(days=draw(st.integers(-500, 1000)))
            benefits.append(dict(person_id=pid, benefit="ww", start=s,
                                 end=s + pd.Timedelta(days=draw(st.integers(0, 365)))))
    months = draw(st.integers(1, 30))
    ws = pd.Timestamp("2019-01-01") + pd.DateOffset(months=draw(st.integers(0, 12)))
    we = ws + pd.DateOffset(months=months) - pd.Timedelta(days=1)
    return n, benefits, jobs, (ws, we)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spell_sets())
def test_random_spells_match_the_rule_and_fill_the_window(case):
    n, benefits, jobs, window = case
    persons = [dict(person_id=f"p{i}", sex="M", birth_date="1970-01-01", migration_background="dutch",
                    education="low", status_holder=False) for i in range(n)]
    data = make_input(persons=persons, benefits=benefits, jobs=jobs, window=window)
    panel = build_panel(data)
    months = panel.months
    n_months = len(pd.date_range(window[0], window[1], freq="ME"))
    assert (months.groupby("person_id", observed=False).size() == n_months).all()
    for date in months["month"].unique()[:: max(1, n_months // 4)]:
        expected = naive_status(data, pd.Timestamp(date))
        got = months[months.month == date].set_index("person_id")["status"].astype(str).to_dict()
        assert got == expected
    # each bijstand month carries the id of a spell of that person that covers it
    on = months[months.bijstand]
    sp = panel.spells.set_index("spell_id")
    assert (sp.loc[on.spell_id, "person_id"].to_numpy() == on.person_id.astype(str).to_numpy()).all()
    assert np.all(on.spell_month >= 0)


def test_status_on_exact_dates(person_rows):
    from reintegration_effects.panel import status_on

    data = small_case(person_rows)
    got = status_on(data, ["A", "A", "A", "B", "C", "D"],
                    ["2020-02-10", "2020-03-30", "2020-03-31", "2020-01-31", "2020-03-10", "2017-05-05"])
    assert list(got.astype(str)) == ["bijstand_met_werk", "werk", "overig", "bijstand", "bijstand", "werk"]


def _linking_case(person_rows):
    """Person a: bijstand 10 Jan - 15 Mar 2020 (month ends Jan, Feb) and from 1 Jun 2021 (open).
    Person b: no bijstand."""
    return make_input(
        persons=person_rows("a", "b"),
        benefits=[dict(person_id="a", benefit="bijstand", start="2020-01-10", end="2020-03-15"),
                  dict(person_id="a", benefit="bijstand", start="2021-06-01", end=None)],
        programmes=[dict(person_id="a", programme="coaching", start="2020-01-05", end="2020-02-10"),
                    dict(person_id="a", programme="training", start="2020-03-02", end="2020-05-31"),
                    dict(person_id="a", programme="coaching", start="2020-02-20", end=None),
                    dict(person_id="b", programme="coaching", start="2020-02-01", end="2020-03-01"),
                    dict(person_id="a", programme="training", start="2022-01-15", end="2022-03-31")],
        window=("2020-01-01", "2022-12-31"),
    )


def test_programme_starts_link_to_the_spell_covering_the_start_month_end(person_rows):
    from reintegration_effects.panel import START_COLUMNS, link_programme_starts

    data = _linking_case(person_rows)
    panel = build_panel(data)
    link = link_programme_starts(panel.spells, data.programmes)
    assert list(link.columns) == list(START_COLUMNS) and link["row"].tolist() == [0, 1, 2, 3, 4]
    first, second = panel.spells["spell_id"].tolist()
    # a start before the spell's first day but in its first month belongs to it (month end rule);
    # a start in the month the spell ended before the month end belongs to no spell
    assert link["spell_id"].tolist() == [first, -1, first, -1, second]
    assert link["spell_month"].tolist() == [0, -1, 1, -1, 7]
    # the panel's own spell_id on the start month's end says the same
    m = panel.months.set_index(["person_id", "month"])["spell_id"]
    for r in link.itertuples():
        month_end = r.start + pd.offsets.MonthEnd(0)
        assert m.get((r.person_id, month_end), -1) == r.spell_id


def test_survival_effects_and_flows_use_the_same_link(person_rows):
    from reintegration_effects.flows import build_cohorts
    from reintegration_effects.survival import _programme_matches

    data = _linking_case(person_rows)
    panel = build_panel(data)
    pm = _programme_matches(panel, data, None)
    # the March start (bijstand ended on 15 March) is not a programme of the first spell
    assert sorted(zip(pm["spell_id"], pm["programme"], strict=True)) == [(0, "coaching"), (0, "coaching"),
                                                                         (1, "training")]
    members = build_cohorts(data, panel, cohorts=["stock_2020-02-29"], horizons=[1], statuses=False).members
    assert members.set_index("person_id").loc["a", "programme"]


def test_the_panel_does_not_depend_on_the_chunk_of_persons(monkeypatch, tmp_path):
    """Persons are built in chunks to bound memory: chunks of one person, of 7 persons (not a divisor
    of the persons) and one chunk for all give the same panel."""
    import reintegration_effects.panel as panel_module
    from reintegration_effects.datasets import load_simulated

    data, _ = load_simulated(300, seed=3, folder=tmp_path / "sim")
    whole = build_panel(data)
    n_grid = panel_module.MonthGrid.from_window(data.window_start, data.window_end).n_grid
    for persons_per_chunk in (1, 7):
        monkeypatch.setattr(panel_module, "_CHUNK_CELLS", persons_per_chunk * n_grid)
        chunked = build_panel(data)
        pd.testing.assert_frame_equal(chunked.months, whole.months)
        pd.testing.assert_frame_equal(chunked.spells, whole.spells)
    assert whole.months["bijstand"].sum() > 0 and (whole.months["spell_id"] >= 0).any()


def test_month_number_of_datetime_columns_equals_the_calendar_fields():
    """The datetime64 fast path gives year * 12 + month - 1 (the pandas fields), NaT -> the
    open-end number, before 1970 too, in every datetime unit and for text input."""
    rng = np.random.default_rng(0)
    d = pd.Series(pd.Timestamp("1900-01-01") + pd.to_timedelta(rng.integers(0, 60_000, 500), "D"))
    d[::7] = pd.NaT
    fields = np.where(d.isna(), np.iinfo(np.int32).max, d.dt.year.fillna(0) * 12 + d.dt.month.fillna(1) - 1)
    for v in (d, d.astype("datetime64[s]"), d.to_numpy(), d.dt.strftime("%Y-%m-%d")):
        np.testing.assert_array_equal(month_number(v), fields.astype(np.int64))
