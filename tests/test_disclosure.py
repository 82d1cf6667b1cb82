"""Disclosure control: every published cell, share, quantile and figure follows the CBS output rules.

The suppression patterns are checked by an attacker written here, independently of the module:
`peel` solves row and column equations with one unknown (repeatedly, as a reader would with a
calculator) and `determined` solves the whole linear system (a cell is recoverable iff its unit
vector lies in the row space of the margin equations restricted to the suppressed cells).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from reintegration_effects.disclosure import (
    AGGREGATED_GID,
    CBS_RULES,
    INCOME_RULES,
    LAYOUT_ATTR,
    DisclosureRules,
    TableLayout,
    check_figure,
    check_model_output,
    check_table,
    protect_counts,
    protect_quantiles,
    protect_shares,
    round_count,
    save_protected_figure,
    write_protected_csv,
)
from reintegration_effects.errors import DisclosureError

STATUSES = ["bijstand", "werk", "bijstand_met_werk", "ww", "overig"]


# ------------------------------------------------------------------------------------------------
# The attacker: margins as a reader knows them, and two ways to solve them
# ------------------------------------------------------------------------------------------------


def margins(df: pd.DataFrame, by, cell_col, col_totals=True) -> list[list[int]]:
    """Positions of the cells of every known total (row totals, then column totals).

    A margin of a single cell is left out: its total is the cell itself (the module's convention).
    """
    pos = df.reset_index(drop=True)
    groups = [list(g.index) for _, g in pos.groupby(list(by), sort=False)] if by else [list(pos.index)]
    if col_totals is not False:
        within = [] if col_totals is True else list(col_totals)
        groups += [list(g.index) for _, g in pos.groupby([*within, cell_col], sort=False)]
    return [g for g in groups if len(g) > 1]


def peel(df: pd.DataFrame, by, cell_col, col_totals=True, count_col="persons") -> set[int]:
    """Cells recovered by solving margins with exactly one unknown, repeated until nothing changes."""
    unknown = set(np.flatnonzero(df[count_col].isna().to_numpy()))
    recovered: set[int] = set()
    changed = True
    while changed:
        changed = False
        for m in margins(df, by, cell_col, col_totals):
            open_ = [i for i in m if i in unknown]
            if len(open_) == 1:
                unknown.discard(open_[0])
                recovered.add(open_[0])
                changed = True
    return recovered


def determined(df: pd.DataFrame, by, cell_col, col_totals=True, count_col="persons") -> set[int]:
    """Suppressed cells whose value follows from any linear combination of the known totals."""
    unknown = list(np.flatnonzero(df[count_col].isna().to_numpy()))
    if not unknown:
        return set()
    col = {cell: k for k, cell in enumerate(unknown)}
    rows = []
    for m in margins(df, by, cell_col, col_totals):
        row = np.zeros(len(unknown))
        for i in m:
            if i in col:
                row[col[i]] = 1
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    out = set()
    for cell, k in col.items():
        unit = np.zeros(len(unknown))
        unit[k] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.add(int(cell))
    return out


def one_row(counts, status=None, **keys) -> pd.DataFrame:
    status = status or STATUSES[: len(counts)]
    return pd.DataFrame({**{k: [v] * len(counts) for k, v in keys.items()}, "status": status, "persons": counts})


def two_way(rows: dict[str, list[int]], cells=None) -> pd.DataFrame:
    cells = cells or [f"c{j + 1}" for j in range(len(next(iter(rows.values()))))]
    return pd.DataFrame(
        [{"group": g, "status": c, "persons": n} for g, counts in rows.items() for c, n in zip(cells, counts, strict=True)]
    )


def cell(df: pd.DataFrame, **keys) -> pd.Series:
    mask = np.logical_and.reduce([df[k] == v for k, v in keys.items()])
    assert mask.sum() == 1, keys
    return df[mask].iloc[0]


# ------------------------------------------------------------------------------------------------
# Rules and rounding
# ------------------------------------------------------------------------------------------------


def test_rules_are_keyword_only_with_cbs_defaults():
    with pytest.raises(TypeError):
        DisclosureRules(5)  # type: ignore[misc]
    r = DisclosureRules()
    assert (r.min_persons, r.rounding_base, r.min_denominator, r.min_persons_quantile, r.min_model_df) == (
        10, 5, 10, 10, 10)
    assert r.suppress_zero is True
    assert INCOME_RULES.min_persons_quantile == 100 and INCOME_RULES.min_persons == 10


def test_nonsense_rules_are_refused():
    with pytest.raises(ValueError, match="rounding_base"):
        protect_counts(one_row([20, 30]), by=[], cell_col="status", rules=DisclosureRules(rounding_base=0))


@pytest.mark.parametrize(
    "x, base, expected",
    [(12, 5, 10), (13, 5, 15), (10, 5, 10), (14, 5, 15), (17, 5, 15), (18, 5, 20), (0, 5, 0), (3, 5, 5),
     (15, 10, 20), (25, 10, 30), (35, 10, 40), (14, 10, 10), (7, 1, 7), (462, 5, 460)],
)
def test_round_count_nearest_multiple_and_halves_up(x, base, expected):
    assert int(round_count(x, base)) == expected


def test_published_counts_are_rounded_to_five():
    out = protect_counts(one_row([12, 13, 27, 28, 22], cohort="c"), by=["cohort"], cell_col="status")
    assert out["persons"].tolist() == [10, 15, 25, 30, 20]
    assert not out["suppressed"].any()
    assert out["persons"].dtype == "Int64"


def test_exact_halves_round_up_deterministically_with_base_ten():
    rules = DisclosureRules(rounding_base=10)
    out = protect_counts(one_row([15, 25, 45, 14], cohort="c"), by=["cohort"], cell_col="status", rules=rules)
    assert out["persons"].tolist() == [20, 30, 50, 10]


# ------------------------------------------------------------------------------------------------
# Primary and secondary suppression in one row
# ------------------------------------------------------------------------------------------------


def test_a_seven_is_suppressed_with_a_second_cell_so_it_cannot_be_recovered():
    df = one_row([7, 50, 30, 20, 12], cohort="outflow_2015", horizon_months=6)
    out = protect_counts(df, by=["cohort", "horizon_months"], cell_col="status")
    assert out.loc[out["suppressed"], "status"].tolist() == ["bijstand", "overig"]
    assert cell(out, status="bijstand")["flag"] == "<10"
    assert cell(out, status="overig")["flag"] == "secondary"  # 12: the smallest other cell
    assert out["persons"].isna().sum() == 2 and out["persons"].dropna().tolist() == [50, 30, 20]
    assert peel(out, ["cohort", "horizon_months"], "status") == set()
    check_table(out, name="flows")

    # the attacker is real: with only the 7 hidden, the row total gives it away
    naive = df.assign(persons=df["persons"].astype("Int64").mask(df["persons"] < 10))
    assert peel(naive, ["cohort", "horizon_months"], "status") == {0}
    with pytest.raises(DisclosureError, match="recovered from its row total"):
        check_table(naive.assign(persons=naive["persons"].where(naive["persons"].isna(), 50)), name="naive",
                    layout=TableLayout(by=("cohort", "horizon_months"), cell_col="status"))


def test_secondary_cell_ties_are_broken_by_table_order():
    out = protect_counts(one_row([7, 40, 12, 12, 30], cohort="c"), by=["cohort"], cell_col="status")
    assert out["flag"].tolist() == ["<10", "", "secondary", "", ""]


def test_two_small_cells_protect_each_other():
    out = protect_counts(one_row([7, 8, 50, 40], cohort="c"), by=["cohort"], cell_col="status")
    assert out["flag"].tolist() == ["<10", "<10", "", ""]


def test_secondary_suppression_does_not_depend_on_input_row_order():
    df = one_row([7, 50, 30, 20, 12], cohort="c")
    a = protect_counts(df, by=["cohort"], cell_col="status")
    b = protect_counts(df.iloc[::-1], by=["cohort"], cell_col="status")
    assert set(a.loc[a.suppressed, "status"]) == set(b.loc[b.suppressed, "status"]) == {"bijstand", "overig"}


def test_zero_cells_are_suppressed_by_default_and_published_when_allowed():
    df = one_row([0, 50, 40, 30], cohort="c")
    out = protect_counts(df, by=["cohort"], cell_col="status")
    assert out["flag"].tolist() == ["<10", "", "", "secondary"]  # a 0 is never shown as 0

    lenient = DisclosureRules(suppress_zero=False)
    out = protect_counts(df, by=["cohort"], cell_col="status", rules=lenient)
    assert out["persons"].tolist() == [0, 50, 40, 30] and not out["suppressed"].any()
    check_table(out, name="zeros", rules=lenient)
    with pytest.raises(DisclosureError, match="0 is below the minimum"):
        check_table(out, name="zeros")


def test_absent_cells_become_zero_cells_of_the_full_grid():
    df = pd.DataFrame({"group": ["a", "a", "a", "b", "b"], "status": ["x", "y", "z", "x", "y"],
                       "persons": [20, 30, 40, 25, 35]})
    out = protect_counts(df, by=["group"], cell_col="status", col_totals=False)
    assert len(out) == 6
    added = cell(out, group="b", status="z")
    assert added["suppressed"] and added["flag"] == "<10" and pd.isna(added["persons"])
    assert cell(out, group="b", status="x")["flag"] == "secondary"
    # with the absent cell gone, the table reads as if b had 0 in z
    with pytest.raises(DisclosureError, match="absent cell reads as 0"):
        check_table(out.drop(index=out.index[-1]).drop(columns=["suppressed"]), name="t")


def test_categorical_cells_follow_their_categories():
    df = one_row([30, 40], status=["werk", "bijstand"], cohort="c")
    df["status"] = pd.Categorical(df["status"], categories=STATUSES)
    out = protect_counts(df, by=["cohort"], cell_col="status")
    assert out["status"].tolist() == STATUSES
    assert out["suppressed"].tolist() == [False, False, True, True, True]


def test_bad_counts_and_duplicate_cells_are_refused():
    with pytest.raises(ValueError, match="whole numbers"):
        protect_counts(one_row([12.5, 30], cohort="c"), by=["cohort"], cell_col="status")
    with pytest.raises(ValueError, match="whole numbers"):
        protect_counts(one_row([-1, 30], cohort="c"), by=["cohort"], cell_col="status")
    with pytest.raises(ValueError, match="repeat the same cell"):
        protect_counts(one_row([12, 30], status=["werk", "werk"], cohort="c"), by=["cohort"], cell_col="status")


def test_reference_layout_passes_untouched(tmp_path):
    """CBS 'Bijstand en re-integratie': outflow cohort 2015 of 460 persons, already rounded."""
    ref = {6: [75, 190, 20, 15, 160], 12: [90, 165, 20, 25, 165], 18: [105, 160, 25, 15, 160]}
    order = ["bijstand", "werk", "bijstand_met_werk", "ww", "overig"]
    df = pd.concat([one_row(c, status=order, cohort="outflow_2015", horizon_months=h) for h, c in ref.items()],
                   ignore_index=True)
    out = protect_counts(df, by=["cohort", "horizon_months"], cell_col="status")
    assert out["persons"].tolist() == df["persons"].tolist()
    assert out[["cohort", "horizon_months", "status"]].equals(df[["cohort", "horizon_months", "status"]])
    assert not out["suppressed"].any() and (out["flag"] == "").all()
    check_table(out, name="flows")
    check_table(df, name="flows")  # the published figures themselves pass
    path = write_protected_csv(out, tmp_path / "flows.csv", name="flows")
    assert pd.read_csv(path)["persons"].tolist() == df["persons"].tolist()


# ------------------------------------------------------------------------------------------------
# Two-way tables: rows and columns
# ------------------------------------------------------------------------------------------------


TWO_WAY = {"M": [7, 40, 30], "F": [25, 50, 12], "X": [35, 45, 60]}


def test_two_way_table_is_protected_in_the_column_direction_too():
    df = two_way(TWO_WAY)
    rows_only = protect_counts(df, by=["group"], cell_col="status", col_totals=False)
    # protecting rows alone leaves the 7 recoverable from its column total: the attacker finds it
    assert 0 in peel(rows_only, ["group"], "status", col_totals=True)
    with pytest.raises(DisclosureError, match="column total"):
        check_table(rows_only, name="breakdown", layout=TableLayout(by=("group",), cell_col="status"))

    out = protect_counts(df, by=["group"], cell_col="status")
    assert peel(out, ["group"], "status") == set()
    assert determined(out, ["group"], "status") == set()
    assert cell(out, group="M", status="c1")["flag"] == "<10"
    assert out["suppressed"].sum() >= 4  # a hidden cell needs a partner in its row and its column
    check_table(out, name="breakdown")


def test_one_small_cell_costs_a_rectangle_not_a_chain():
    """Plain 'smallest cell' would hide r2/c2 (15) in column c2 and then need more in row r2."""
    df = two_way({"r1": [7, 20, 50, 60], "r2": [30, 15, 55, 65], "r3": [25, 45, 70, 75], "r4": [40, 35, 80, 85]})
    out = protect_counts(df, by=["group"], cell_col="status")
    hidden = set(map(tuple, out.loc[out.suppressed, ["group", "status"]].to_numpy()))
    assert hidden == {("r1", "c1"), ("r1", "c2"), ("r3", "c1"), ("r3", "c2")}
    assert determined(out, ["group"], "status") == set()


def test_a_cell_recoverable_only_by_combining_margins_is_caught_and_protected():
    """Two 2x2 blocks of small cells joined by one small cell: every margin has 2+ unknowns, yet
    column totals of block B minus its row totals give the joining cell exactly."""
    rows, cols = ["r1", "r2", "r3", "r4", "r5"], ["c1", "c2", "c3", "c4", "c5"]
    small = {("r1", "c1"): 1, ("r1", "c2"): 2, ("r2", "c1"): 3, ("r2", "c2"): 4, ("r3", "c3"): 5,
             ("r3", "c4"): 6, ("r4", "c3"): 7, ("r4", "c4"): 8, ("r1", "c3"): 9}
    df = pd.DataFrame([{"group": r, "status": c, "persons": small.get((r, c), 40 + 3 * i + j)}
                       for i, r in enumerate(rows) for j, c in enumerate(cols)])
    df.loc[(df.group == "r2") & (df.status == "c4"), "persons"] = 11  # smallest cell that closes a cycle

    hand = df.assign(persons=df["persons"].astype("Int64").mask(df["persons"] < 10))
    hand["persons"] = hand["persons"].where(hand["persons"].isna(), 50)
    bridge = int(np.flatnonzero((df.group == "r1") & (df.status == "c3"))[0])
    assert peel(hand, ["group"], "status") == set()  # no margin with one unknown ...
    assert determined(hand, ["group"], "status") == {bridge}  # ... but the system pins it down
    with pytest.raises(DisclosureError, match=r"group='r1', status='c3'.*combining row and column totals"):
        check_table(hand, name="blocks", layout=TableLayout(by=("group",), cell_col="status"))

    out = protect_counts(df, by=["group"], cell_col="status")
    assert determined(out, ["group"], "status") == set()
    assert cell(out, group="r2", status="c4")["flag"] == "secondary"
    assert out["suppressed"].sum() == 10
    check_table(out, name="blocks")


def test_column_totals_within_a_by_column():
    """cohort x group x status: column totals per cohort across groups, none across cohorts."""
    a = two_way(TWO_WAY).assign(cohort="outflow_2015")
    b = two_way({"M": [20, 40, 30], "F": [25, 50, 22], "X": [35, 45, 60]}).assign(cohort="outflow_2016")
    df = pd.concat([a, b], ignore_index=True)
    out = protect_counts(df, by=["cohort", "group"], cell_col="status", col_totals=["cohort"])
    assert determined(out, ["cohort", "group"], "status", col_totals=["cohort"]) == set()
    assert not out[out.cohort == "outflow_2016"]["suppressed"].any()
    with pytest.raises(ValueError, match="not among by"):
        protect_counts(df, by=["cohort", "group"], cell_col="status", col_totals=["sex"])


@st.composite
def random_tables(draw):
    n_a, n_b, n_c = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 5))
    count = st.one_of(st.integers(0, 12), st.integers(0, 60))
    rows = []
    for a in range(n_a):
        for b in range(n_b):
            for c in range(n_c):
                if draw(st.integers(0, 9)) > 0:  # now and then a cell is absent (= 0)
                    rows.append({"a": f"a{a}", "b": b, "status": f"s{c}", "persons": draw(count)})
    if not rows:
        rows.append({"a": "a0", "b": 0, "status": "s0", "persons": draw(count)})
    rules = DisclosureRules(min_persons=draw(st.sampled_from([3, 5, 10])),
                            rounding_base=draw(st.sampled_from([1, 5, 10])),
                            suppress_zero=draw(st.booleans()))
    col_totals = draw(st.sampled_from([True, False, ("a",), ("b",)]))
    return pd.DataFrame(rows), rules, col_totals


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_tables())
def test_protected_tables_always_pass_the_gate_and_resist_the_attacker(case):
    df, rules, col_totals = case
    out = protect_counts(df, by=["a", "b"], cell_col="status", col_totals=col_totals, rules=rules)
    check_table(out, name="random", rules=rules)
    assert determined(out, ["a", "b"], "status", col_totals) == set()
    assert peel(out, ["a", "b"], "status", col_totals) == set()

    merged = out.merge(df, on=["a", "b", "status"], how="left", suffixes=("", "_exact"))
    exact = merged["persons_exact"].fillna(0).astype(int).to_numpy()
    small = (exact < rules.min_persons) & ((exact > 0) | rules.suppress_zero)
    assert out["suppressed"].to_numpy()[small].all()
    assert (out["flag"].to_numpy()[small] == f"<{rules.min_persons}").all()
    shown = ~out["suppressed"].to_numpy()
    assert (out["persons"].to_numpy()[shown] == round_count(exact[shown], rules.rounding_base)).all()
    assert out["persons"].isna().to_numpy().tolist() == out["suppressed"].tolist()


# ------------------------------------------------------------------------------------------------
# check_table: the gate refuses what it should, names the cell, and passes what is safe
# ------------------------------------------------------------------------------------------------


def flows(counts) -> pd.DataFrame:
    return one_row(counts, cohort="outflow_2015", horizon_months=6)


def test_gate_refuses_a_five_and_names_the_cell():
    with pytest.raises(DisclosureError) as e:
        check_table(flows([75, 190, 20, 5, 160]), name="flows")
    msg = str(e.value)
    assert "table 'flows'" in msg and "row 4 (cohort='outflow_2015', horizon_months=6, status='ww')" in msg
    assert "column 'persons'" in msg and "5 is below the minimum of 10" in msg


def test_gate_refuses_an_unrounded_twelve():
    with pytest.raises(DisclosureError, match=r"status='bijstand'.*12 is not rounded to a multiple of 5"):
        check_table(flows([12, 190, 20, 15, 160]), name="flows")


@pytest.mark.parametrize("column", ["min", "max_wage", "wage_maximum", "Minimum", "maxWage", "laagste_loon", "q0",
                                    "p100"])
def test_gate_refuses_min_and_max_columns(column):
    df = flows([75, 190, 20, 15, 160]).assign(**{column: 1.0})
    with pytest.raises(DisclosureError, match=f"column '{column}' looks like a minimum or maximum"):
        check_table(df, name="wages")


def test_gate_accepts_confidence_bounds_and_other_harmless_names():
    df = flows([75, 190, 20, 15, 160]).assign(ci_lower=0.1, ci_upper=0.3, minutes=3.0, admin=1.0, q50=2.0)
    check_table(df, name="effects")


def test_gate_refuses_linking_keys_and_missing_count_columns():
    with pytest.raises(DisclosureError, match="linking key"):
        check_table(flows([75, 190, 20, 15, 160]).assign(person_id="x"), name="flows")
    with pytest.raises(DisclosureError, match="count column 'n_treated' is missing"):
        check_table(flows([75, 190, 20, 15, 160]), name="flows", count_cols=("persons", "n_treated"))


def test_gate_accepts_suppressed_cells_that_hide_each_other():
    df = flows([75, 190, 20, 15, 160])
    df["persons"] = df["persons"].astype("Int64")
    df.loc[[2, 3], "persons"] = pd.NA
    check_table(df, name="flows", layout=TableLayout(by=("cohort", "horizon_months"), cell_col="status"))
    df.loc[2, "persons"] = 20
    with pytest.raises(DisclosureError, match=r"row 4 \(.*status='ww'\), column 'persons'.*row total"):
        check_table(df, name="flows", layout=TableLayout(by=("cohort", "horizon_months"), cell_col="status"))


def test_gate_uses_the_layout_left_by_protect_counts():
    out = protect_counts(flows([7, 50, 30, 20, 12]), by=["cohort", "horizon_months"], cell_col="status")
    assert isinstance(out.attrs[LAYOUT_ATTR], TableLayout)
    tampered = out.copy()
    tampered.loc[tampered.flag == "secondary", ["persons", "suppressed"]] = [10, False]
    with pytest.raises(DisclosureError, match="status='bijstand'.*recovered from its row total"):
        check_table(tampered, name="flows")


def test_gate_refuses_a_cell_marked_suppressed_but_shown():
    out = protect_counts(flows([7, 50, 30, 20, 12]), by=["cohort", "horizon_months"], cell_col="status")
    shown = out.copy()
    shown.loc[0, "persons"] = 10  # e.g. a careless fillna
    with pytest.raises(DisclosureError, match="marked suppressed but shows"):
        check_table(shown, name="flows")


def test_gate_refuses_an_estimate_next_to_a_suppressed_count():
    effects = pd.DataFrame({"programme": ["coaching", "schooling"], "estimate": [0.05, 0.02],
                            "n_treated": pd.array([120, pd.NA], dtype="Int64"), "n_control": [400, 300]})
    with pytest.raises(DisclosureError, match=r"programme='schooling'.*column 'estimate'"):
        check_table(effects, name="effects", count_cols=("n_treated", "n_control"))
    effects.loc[1, "estimate"] = np.nan
    check_table(effects, name="effects", count_cols=("n_treated", "n_control"))


def test_gate_lists_every_failing_cell():
    with pytest.raises(DisclosureError, match=r"3 problems") as e:
        check_table(flows([5, 12, 20, 15, 3]), name="flows")
    assert "status='overig'" in str(e.value)


# ------------------------------------------------------------------------------------------------
# Shares
# ------------------------------------------------------------------------------------------------


def test_shares_need_a_denominator_a_numerator_and_a_complement_of_ten():
    df = pd.DataFrame({"group": ["a", "b", "c", "d", "e"], "employed": [190, 8, 55, 30, 9],
                       "n": [460, 40, 60, 60, 9]})
    out = protect_shares(df, numerator="employed", denominator="n", col_totals=False)
    assert out["share"].tolist()[0] == pytest.approx(0.413)  # 190 / 460, rounded to 3 decimals
    assert out["share"].tolist()[3] == pytest.approx(0.5)
    assert out["share"].isna().tolist() == [False, True, True, False, True]
    assert out["flag"].tolist() == ["", "<10", "secondary", "", "<10; denominator<10"]  # c: 5 not employed
    assert out["employed"].tolist()[0] == 190 and pd.isna(out["employed"][1])
    assert pd.isna(out["n"][4]) and out["n"].tolist()[:4] == [460, 40, 60, 60]
    check_table(out, name="shares", count_cols=("employed", "n"))


def test_shares_with_a_stricter_denominator_rule():
    rules = DisclosureRules(min_denominator=50)
    out = protect_shares(pd.DataFrame({"employed": [20], "n": [40]}), numerator="employed", denominator="n",
                         rules=rules)
    assert pd.isna(out["share"][0]) and out["employed"][0] == 20 and out["flag"][0] == "denominator<50"
    check_table(out, name="shares", count_cols=("employed", "n"), rules=rules)


def test_shares_of_a_distribution_get_secondary_suppression():
    df = flows([7, 50, 30, 20, 12]).assign(cohort_size=119)
    out = protect_shares(df, numerator="persons", denominator="cohort_size", by=["cohort", "horizon_months"],
                         cell_col="status")
    assert out["share"].isna().tolist() == [True, False, False, False, True]  # 1 - others would give 7/119
    assert out["share"].tolist()[1] == pytest.approx(round(50 / 120, 3))  # from the published (rounded) counts
    check_table(out, name="shares", count_cols=("persons", "cohort_size"))

    reference = flows([75, 190, 20, 15, 160]).assign(cohort_size=460)
    out = protect_shares(reference, numerator="persons", denominator="cohort_size",
                         by=["cohort", "horizon_months"], cell_col="status")
    assert out["share"].tolist() == pytest.approx([0.163, 0.413, 0.043, 0.033, 0.348])


def test_shares_protect_the_hidden_remainder_of_a_row():
    df = pd.DataFrame({"cohort": "c", "status": ["werk", "ww", "bijstand"], "persons": [50, 30, 20],
                       "cohort_size": 105})  # 5 persons in none of the listed statuses
    out = protect_shares(df, numerator="persons", denominator="cohort_size", by=["cohort"], cell_col="status")
    assert out["flag"].tolist() == ["", "", "secondary"]
    assert out.attrs[LAYOUT_ATTR].remainder
    check_table(out, name="shares", count_cols=("persons", "cohort_size"))
    with pytest.raises(ValueError, match="exceeds"):
        protect_shares(df.assign(cohort_size=90), numerator="persons", denominator="cohort_size", by=["cohort"],
                       cell_col="status")


# ------------------------------------------------------------------------------------------------
# Quantiles
# ------------------------------------------------------------------------------------------------


def test_quantiles_only_for_large_enough_groups_and_never_min_or_max():
    values = pd.Series(np.arange(1.0, 21.0))  # 20 persons in one group
    out = protect_quantiles(values)
    assert list(out.columns) == ["group", "persons", "q25", "q50", "q75", "suppressed", "flag"]
    assert out["persons"].tolist() == [20]
    assert out[["q25", "q50", "q75"]].iloc[0].tolist() == pytest.approx([5.75, 10.5, 15.25])
    check_table(out, name="wages")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        protect_quantiles(values, q=(0.0, 0.5))
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        protect_quantiles(values, q=(0.5, 1.0))


def test_small_groups_are_suppressed_and_sizes_get_secondary_suppression():
    rng = np.random.default_rng(1)
    groups = pd.Series(["a"] * 43 + ["b"] * 22 + ["c"] * 7, name="sex")
    values = pd.Series(rng.normal(2500, 400, len(groups)))
    out = protect_quantiles(values, groups)
    a, b, c = (out.iloc[i] for i in range(3))
    assert a["persons"] == 45 and not a["suppressed"]  # 43 rounded
    assert pd.isna(c["persons"]) and pd.isna(c["q50"]) and c["flag"] == "<10"
    assert pd.isna(b["persons"]) and b["flag"] == "secondary" and not pd.isna(b["q50"])  # 72 - 43 - b = c
    check_table(out, name="wages")


def test_group_sizes_are_protected_within_each_dimension():
    """Wages by cohort x dimension x value: each dimension splits the cohort, so a small group must be
    hidden with a partner in its own dimension (a small group elsewhere does not protect it)."""
    sizes = {("all", "all"): 120, ("contract", "permanent"): 70, ("contract", "fixed_term"): 45,
             ("contract", "agency"): 5, ("sector", "C"): 60, ("sector", "G"): 52, ("sector", "Q"): 8}
    by = pd.DataFrame([(d, v) for (d, v), n in sizes.items() for _ in range(n)], columns=["dimension", "value"])
    by.insert(0, "cohort", "outflow_2015")
    values = pd.Series(np.linspace(1500, 3500, len(by)))
    out = protect_quantiles(values, by, rules=INCOME_RULES)
    assert list(out.columns[:4]) == ["cohort", "dimension", "value", "persons"]
    hidden = set(out.loc[out.suppressed, "value"])
    assert hidden == {"agency", "fixed_term", "Q", "G"}
    assert determined(out, ["cohort", "dimension"], "value", col_totals=False) == set()
    assert out.loc[out.value == "all", "q50"].notna().all() and out.loc[out.value == "C", "q50"].isna().all()
    check_table(out, name="wages")

    flattened = protect_quantiles(values, by["dimension"] + "=" + by["value"])  # one total over all groups
    assert set(flattened.loc[flattened.suppressed, "group"]) == {"contract=agency", "sector=Q"}  # why by= matters


def test_income_rules_need_a_hundred_persons():
    groups = pd.Series(["a"] * 60 + ["b"] * 140, name="group")
    values = pd.Series(np.linspace(1000, 4000, 200))
    out = protect_quantiles(values, groups, rules=INCOME_RULES)
    assert out["persons"].tolist() == [60, 140]
    assert out["q50"].isna().tolist() == [True, False]
    assert out["flag"][0] == "quantiles need 100+ persons"
    assert protect_quantiles(values, groups)["q50"].notna().all()  # the general rule allows both


def test_extreme_quantiles_that_would_show_a_min_or_max_are_withheld():
    values = pd.Series(np.arange(1.0, 13.0))
    out = protect_quantiles(values, q=(0.05, 0.5, 0.95))
    assert out["q5"].isna().all() and out["q95"].isna().all() and out["q50"].notna().all()
    assert "q5 would show a min or max" in out["flag"][0]
    out = protect_quantiles(pd.Series(np.arange(1.0, 31.0)), q=(0.05, 0.5, 0.95))
    assert out[["q5", "q50", "q95"]].notna().all(axis=None)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcde"), st.floats(0, 1e4)), min_size=1, max_size=80))
def test_protected_quantiles_always_pass_the_gate(rows):
    groups = pd.Series([g for g, _ in rows], name="group")
    values = pd.Series([v for _, v in rows])
    out = protect_quantiles(values, groups)
    check_table(out, name="quantiles")
    n = groups.value_counts()
    for _, r in out.iterrows():
        if n.get(r["group"], 0) < 10:
            assert pd.isna(r["q50"]) and pd.isna(r["persons"])


# ------------------------------------------------------------------------------------------------
# Models and figures
# ------------------------------------------------------------------------------------------------


def test_model_output_needs_ten_residual_degrees_of_freedom():
    check_model_output(20, 10, name="exit_to_work")
    with pytest.raises(DisclosureError, match="model 'reentry'.*9 residual degrees of freedom"):
        check_model_output(19, 10, name="reentry")
    check_model_output(14, 10, name="small", rules=DisclosureRules(min_model_df=4))


def test_figures_with_individual_points_are_refused():
    fig = Figure()
    ax = fig.add_subplot()
    ax.scatter([1, 2, 3], [3, 1, 2])
    with pytest.raises(DisclosureError, match="a scatter of 3 points"):
        check_figure(fig, name="wages")

    fig = Figure()
    fig.add_subplot().plot([1, 2, 3], [3, 1, 2], "o")
    with pytest.raises(DisclosureError, match="with markers"):
        check_figure(fig)

    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([1, 2], [1, 2])
    ax.inset_axes([0.6, 0.6, 0.3, 0.3]).scatter([1], [1])
    with pytest.raises(DisclosureError, match="axes 2"):
        check_figure(fig)


def test_figures_of_aggregates_pass():
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([6, 12, 18], [0.41, 0.36, 0.35], label="werk")
    ax.plot([6, 12, 18], [0.16, 0.20, 0.23], marker="o", gid=AGGREGATED_GID, label="bijstand")
    ax.scatter([1, 2], [0.5, 0.4], gid=AGGREGATED_GID, label="group means")
    ax.bar(["M", "F"], [0.4, 0.5])
    ax.hist(np.arange(50.0))
    ax.legend()
    check_figure(fig)


def test_save_protected_figure_writes_only_safe_figures(tmp_path):
    fig = Figure()
    fig.add_subplot().scatter([1, 2], [2, 1])
    with pytest.raises(DisclosureError):
        save_protected_figure(fig, tmp_path / "bad.png", name="bad")
    assert not (tmp_path / "bad.png").exists()
    fig = Figure()
    fig.add_subplot().bar(["a", "b"], [1, 2])
    assert save_protected_figure(fig, tmp_path / "figures" / "ok.png", name="ok").exists()


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------


def test_write_protected_csv_writes_checked_tables_only(tmp_path):
    out = protect_counts(flows([7, 50, 30, 20, 12]), by=["cohort", "horizon_months"], cell_col="status")
    path = write_protected_csv(out, tmp_path / "out" / "flows.csv", name="flows")
    lines = path.read_text().splitlines()
    assert lines[0] == "cohort,horizon_months,status,persons,suppressed,flag"
    assert lines[1] == "outflow_2015,6,bijstand,,True,<10"

    with pytest.raises(DisclosureError, match="table 'flows'"):
        write_protected_csv(flows([5, 190, 20, 15, 160]), tmp_path / "bad.csv", name="flows")
    assert not (tmp_path / "bad.csv").exists()


def test_write_protected_csv_keeps_a_named_index(tmp_path):
    table = pd.DataFrame({"persons": [20, 35]}, index=pd.Index(["M", "F"], name="sex"))
    path = write_protected_csv(table, tmp_path / "sex.csv", name="sex")
    assert path.read_text().splitlines() == ["sex,persons", "M,20", "F,35"]


def test_default_rules_object_is_the_cbs_rules():
    assert CBS_RULES == DisclosureRules()


# ------------------------------------------------------------------------------------------------
# Precision: published numbers pin nothing the rounded counts do not show
# ------------------------------------------------------------------------------------------------


def test_shares_are_computed_from_the_published_counts():
    # exact 271 of 300 would be 0.903: beside the rounded 270 it would give the exact count back
    out = protect_shares(pd.DataFrame({"k": [271, 13], "n": [301, 58]}), numerator="k", denominator="n")
    assert out["k"].tolist() == [270, 15] and out["n"].tolist() == [300, 60]
    assert out["share"].tolist() == pytest.approx([0.9, 0.25])  # 270 / 300, 15 / 60


def test_csv_fields_that_look_like_formulas_are_escaped(tmp_path):
    df = pd.DataFrame({"group": ["=HYPERLINK(\"x\")", "+31", "-x", "@SUM(A1)", "a=b", None],
                       "estimate": [-0.031, 0.5, -1.0, 2.0, 0.0, np.nan], "persons": [10, 15, 20, 25, 30, 35]})
    path = write_protected_csv(df, tmp_path / "t.csv", name="t")
    back = pd.read_csv(path)
    assert back["group"].tolist()[:5] == ["'=HYPERLINK(\"x\")", "'+31", "'-x", "'@SUM(A1)", "a=b"]
    assert pd.isna(back["group"][5])
    assert back["estimate"].tolist()[:4] == [-0.031, 0.5, -1.0, 2.0]  # numbers stay numbers
    assert df["group"][0].startswith("=")  # the caller's frame is not changed
