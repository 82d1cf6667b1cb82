"""Statistical disclosure control: the one gate every table and figure passes before leaving the package.

Output from CBS Remote Access is released only when it cannot reveal anything about one person.
This module turns exact tables into publishable ones and refuses unsafe output at the last step:

- :func:`protect_counts`, :func:`protect_shares`, :func:`protect_quantiles` make tables safe
  (primary and secondary suppression, rounding, the denominator and quantile rules);
- :func:`check_table`, :func:`check_model_output`, :func:`check_figure` refuse unsafe output;
- :func:`write_protected_csv` and :func:`save_protected_figure` are the package's only writers of
  output tables and figures: both run the checks first.

Documented choices (defaults = :data:`CBS_RULES`):

- Primary suppression uses the *exact* count: a cell with fewer than ``min_persons`` persons is
  published as NA with ``suppressed=True`` and ``flag='<10'``. Zero cells are suppressed too
  (``suppress_zero=True``): a 0 also rests on fewer than 10 persons, and it would tell that *no* one
  in the row has the status (group disclosure, e.g. "all 12 statushouders in programme X are still
  on bijstand"). Hiding zeros also keeps the reader from learning that a "<10" cell is 1-9 rather
  than 0-9. Set ``suppress_zero=False`` for tables with structural zeros.
- A long table is completed to its full grid (every row × every cell value) before protection: an
  absent cell reads as 0, so it is added as a 0 and treated like one.
- Secondary suppression assumes every row total (the sum of the exact cells) is known, and, for
  two-way tables, every column total too. First, a margin (row or column) with exactly one hidden
  cell gets its smallest published cell hidden as well (ties: the first in table order), preferring
  a cell whose other margin already has a hidden cell so the pattern closes (one small cell in a
  two-way table costs a rectangle of three more, not a chain across the table); this is repeated
  until stable. Then a stronger check: a hidden cell can also be recovered by combining
  several row and column equations (a *bridge* in the graph whose nodes are the margins and whose
  edges are the hidden cells); such a cell gets the smallest published cell that closes a cycle
  through it. A margin of one cell is not treated as a known total: its total *is* the cell, which
  the cell rule already protects.
- Published counts are rounded to the nearest multiple of ``rounding_base`` (5): 12 -> 10, 13 -> 15;
  an exact half (only possible for even bases, e.g. 15 with base 10) rounds *up* (15 -> 20), never
  to even, so the result does not depend on the neighbouring multiple.
- Shares need a denominator of at least ``min_denominator`` persons, a numerator cell that passes
  the cell rule, and a complement (denominator - numerator) that passes it too: "11 of 12 found
  work" tells that one person did not. A share is computed from the *published* (rounded) numerator
  and denominator and then rounded to ``decimals`` (default 3): a share of the exact counts would
  undo their rounding (0.903 beside 270 of 300 pins 271 of 300).
- CSV fields that begin with ``=``, ``+``, ``-`` or ``@`` in text columns get a leading ``'`` when
  written (OWASP CSV-injection rule: a spreadsheet would run them as formulas); numeric columns
  are written as numbers (``-0.031`` stays a number).
- Quantiles need at least ``max(min_persons, min_persons_quantile)`` persons (default 10; use
  :data:`INCOME_RULES` with 100 for wages and incomes, after domain.md's "stricter rules for income
  figures, e.g. at least 100 units"), and a
  quantile is never published when it is computed from the minimum or maximum observation (linear
  interpolation between order statistics 1 and 2, or n-1 and n): that would show a min or max.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import pandas as pd

from .errors import DisclosureError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "AGGREGATED_GID",
    "CBS_RULES",
    "INCOME_RULES",
    "LAYOUT_ATTR",
    "SECONDARY_FLAG",
    "DisclosureRules",
    "TableLayout",
    "check_figure",
    "check_model_output",
    "check_table",
    "escape_formulas",
    "protect_counts",
    "protect_quantiles",
    "protect_shares",
    "round_count",
    "save_protected_figure",
    "write_protected_csv",
]

#: Mark an artist that shows aggregates (group means, shares per month) with ``gid=AGGREGATED_GID``.
AGGREGATED_GID = "aggregated"
#: Flag of a cell hidden only to protect another cell.
SECONDARY_FLAG = "secondary"
#: Key in ``DataFrame.attrs`` under which the protect functions leave the table's :class:`TableLayout`.
LAYOUT_ATTR = "disclosure_layout"

_MAX_LISTED = 10
_REMAINDER = "\x00remainder"  # cell value of the hidden remainder of a row (never published)
_CELL = "\x00cell"  # internal column name for cell values while building margins
_LINKING_KEYS = frozenset({"person_id", "rinpersoon", "rinpersoons", "bsn", "beid"})
_EXTREME_WORDS = frozenset(
    {
        "min", "max", "minimum", "maximum", "minima", "maxima", "smallest", "largest", "lowest",
        "highest", "minimaal", "maximaal", "laagste", "hoogste", "kleinste", "grootste",
    }
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class DisclosureRules:
    """Output rules for CBS Remote Access; the defaults are the usual CBS rules (see domain.md).

    min_persons: a published cell rests on at least this many persons (exact count).
    rounding_base: published counts are rounded to a multiple of this (1 = no rounding).
    min_denominator: a share or percentage needs at least this many persons in its denominator.
    min_persons_quantile: a quantile (median wage, quartiles) needs at least this many persons
        (10 by default; :data:`INCOME_RULES` uses 100 for wages and incomes).
    min_model_df: model output needs at least this many residual degrees of freedom.
    suppress_zero: treat 0 as a small cell (suppressed) rather than publishing it.
    """

    min_persons: int = 10
    rounding_base: int = 5
    min_denominator: int = 10
    min_persons_quantile: int = 10
    min_model_df: int = 10
    suppress_zero: bool = True


#: The default rules.
CBS_RULES = DisclosureRules()
#: Stricter rules for income-type figures (wages, incomes): quantiles need at least 100 persons.
INCOME_RULES = DisclosureRules(min_persons_quantile=100)


@dataclass(frozen=True, kw_only=True)
class TableLayout:
    """Which cells of a long table add up to a total an attacker may know.

    by: columns that define a row; the row's cells add up to its (known) row total.
    cell_col: the column whose values are the cells of a row (e.g. ``status``).
    count_col: the column with the counts.
    col_totals: True: cells with the same ``cell_col`` value add up to a known column total across
        all rows (a two-way table); a tuple of ``by`` columns: column totals within each combination
        of these (e.g. ``("horizon_months",)``: across cohorts, per horizon); False: no column totals
        (e.g. rows are the same persons at different horizons).
    remainder: the row total also covers persons in no listed cell (a hidden remainder cell).
    complete: every row has every cell value (an absent cell would read as 0); False when cells
        differ by row by construction (e.g. the values of different dimensions).
    """

    by: tuple[str, ...]
    cell_col: str
    count_col: str = "persons"
    col_totals: bool | tuple[str, ...] = True
    remainder: bool = False
    complete: bool = True


# ------------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------------


def round_count(x: Any, base: int) -> Any:
    """Round whole counts to the nearest multiple of ``base``; exact halves round up (15 -> 20 for 10)."""
    return (np.asarray(x, dtype=np.int64) + base // 2) // base * base


def _check_rules(rules: DisclosureRules) -> None:
    """Refuse rules that make no sense (a base of 0, negative thresholds)."""
    if not isinstance(rules, DisclosureRules):
        raise TypeError(f"rules must be a DisclosureRules; found {type(rules).__name__}")
    for name in ("min_persons", "rounding_base", "min_denominator", "min_persons_quantile", "min_model_df"):
        value = getattr(rules, name)
        lowest = 0 if name == "min_model_df" else 1
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lowest:
            raise ValueError(f"DisclosureRules.{name} must be a whole number >= {lowest}; found {value!r}")


def _exact_counts(values: pd.Series, column: str) -> np.ndarray:
    """The counts as int64; a missing, negative or fractional count is an error naming the rows."""
    v = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    bad = ~np.isfinite(v) | (v < 0) | (v != np.floor(v))
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = ", ".join(f"{r + 1} ({_show(values.iloc[r])})" for r in rows[:5])
        raise ValueError(
            f"column '{column}' must hold whole numbers of persons >= 0; rows {shown} do not"
            f"{f' (and {len(rows) - 5} more)' if len(rows) > 5 else ''}. Fix: count persons, not weights."
        )
    return v.astype(np.int64)


def _is_small(counts: np.ndarray, rules: DisclosureRules) -> np.ndarray:
    """Cells that fail the cell rule on their exact count (zeros only when ``suppress_zero``)."""
    counts = np.asarray(counts)
    return (counts < rules.min_persons) & ((counts > 0) | rules.suppress_zero)


def _primary_flag(rules: DisclosureRules) -> str:
    return f"<{rules.min_persons}"


def _norm_col_totals(col_totals: bool | Sequence[str], by: Sequence[str]) -> bool | tuple[str, ...]:
    """``col_totals`` as stored in a layout; a tuple must name ``by`` columns."""
    if isinstance(col_totals, bool):
        return col_totals
    cols = tuple(col_totals)
    unknown = [c for c in cols if c not in by]
    if unknown:
        raise ValueError(f"col_totals names {unknown}, which are not among by={list(by)}")
    return cols


def _codes(frame: pd.DataFrame, cols: Sequence[str]) -> np.ndarray:
    """Group number of every row (groups numbered in order of first appearance)."""
    if not cols:
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(list(cols), sort=False, observed=True, dropna=False).ngroup().to_numpy()


def _row_label(df: pd.DataFrame, i: int, key_cols: Sequence[str]) -> str:
    """'row 3 (cohort='outflow_2015', status='ww')': 1-based data row plus its key values."""
    keys = ", ".join(f"{c}={_show(df[c].iloc[i])}" for c in key_cols if c in df.columns)
    return f"row {i + 1}" + (f" ({keys})" if keys else "")


def _show(x: Any) -> str:
    """repr of a cell value without numpy's wrapper ('6', not 'np.int64(6)')."""
    return repr(x.item() if isinstance(x, np.generic) else x)


def _fmt(x: Any) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# ------------------------------------------------------------------------------------------------
# The margin graph: margins are nodes, cells are edges between their row and column margin
# ------------------------------------------------------------------------------------------------


@dataclass
class _Graph:
    """Cells of a table as edges between their row margin ``u`` and column margin ``v``.

    Margins of a single cell and absent column margins map to one ``ground`` node that carries no
    equation. A hidden cell's value follows from the margins iff it is a bridge among hidden cells.
    """

    u: np.ndarray
    v: np.ndarray
    n_nodes: int
    hidden: np.ndarray  # remainder cells: part of a row total but never published

    @property
    def ground(self) -> int:
        return self.n_nodes - 1

    def margins(self) -> list[tuple[int, np.ndarray]]:
        """(node, cell indices) of each margin with an equation: row margins first, then columns."""
        ends = np.concatenate([self.u, self.v])
        cells = np.concatenate([np.arange(len(self.u))] * 2)
        order = np.argsort(ends, kind="stable")
        ends, cells = ends[order], cells[order]
        split = np.flatnonzero(np.diff(ends)) + 1
        return [(int(e[0]), np.sort(c)) for c, e in zip(np.split(cells, split), np.split(ends, split), strict=True)
                if len(c) and e[0] != self.ground]


def _build_graph(keys: pd.DataFrame, layout: TableLayout) -> _Graph:
    """Margin graph of a long table's cells (plus one hidden remainder cell per row if needed)."""
    by = list(layout.by)
    frame = keys[by].astype(object)
    frame[_CELL] = keys[layout.cell_col].astype(object).to_numpy()
    n_published = len(frame)
    if layout.remainder:
        rest = frame[by].drop_duplicates() if by else frame.iloc[:1, :0].copy()
        rest[_CELL] = _REMAINDER
        frame = pd.concat([frame, rest], ignore_index=True)
    hidden = np.arange(len(frame)) >= n_published
    row = _codes(frame, by)
    if layout.col_totals is False:
        col = None
    else:
        within = [] if layout.col_totals is True else list(layout.col_totals)
        col = _codes(frame, [*within, _CELL])

    # Margins with a single cell carry no equation beyond the cell itself: map them to ground.
    _, r_inv, r_cnt = np.unique(row, return_inverse=True, return_counts=True)
    n_rows = int(r_inv.max()) + 1 if len(r_inv) else 0
    if col is None:
        c_inv, c_cnt, n_cols = np.zeros(len(frame), dtype=np.int64), np.array([0]), 0
    else:
        _, c_inv, c_cnt = np.unique(col, return_inverse=True, return_counts=True)
        n_cols = int(c_inv.max()) + 1 if len(c_inv) else 0
    ground = n_rows + n_cols
    u = np.where(r_cnt[r_inv] > 1, r_inv, ground)
    v = np.full(len(frame), ground) if col is None else np.where(c_cnt[c_inv] > 1, n_rows + c_inv, ground)
    return _Graph(u=u.astype(np.int64), v=v.astype(np.int64), n_nodes=ground + 1, hidden=hidden)


def _bridges(graph: _Graph, edges: np.ndarray) -> set[int]:
    """Cells (edge ids) among ``edges`` that are bridges: their value follows from the margins."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(graph.n_nodes)]
    for e in edges:
        a, b = int(graph.u[e]), int(graph.v[e])
        adj[a].append((b, int(e)))
        adj[b].append((a, int(e)))
    disc = [-1] * graph.n_nodes
    low = [0] * graph.n_nodes
    found: set[int] = set()
    t = 0
    for s in range(graph.n_nodes):  # iterative Tarjan; parallel edges are told apart by their id
        if disc[s] != -1 or not adj[s]:
            continue
        disc[s] = low[s] = t
        t += 1
        stack = [(s, -1, iter(adj[s]))]
        while stack:
            node, via, it = stack[-1]
            for nb, e in it:
                if e == via:
                    continue
                if disc[nb] == -1:
                    disc[nb] = low[nb] = t
                    t += 1
                    stack.append((nb, e, iter(adj[nb])))
                    break
                low[node] = min(low[node], disc[nb])
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > disc[parent]:
                        found.add(via)
    return found


def _components(graph: _Graph, edges: Iterable[int]) -> np.ndarray:
    """Connected-component label of every node, using only ``edges``."""
    parent = list(range(graph.n_nodes))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for e in edges:
        parent[find(int(graph.u[e]))] = find(int(graph.v[e]))
    return np.array([find(a) for a in range(graph.n_nodes)])


def _suppress(counts: np.ndarray, graph: _Graph, primary: np.ndarray) -> np.ndarray:
    """Primary plus secondary suppression until no hidden small cell follows from the margins.

    Returns the suppressed mask over all cells (hidden remainder cells are never marked). A margin
    with one hidden cell gets the smallest published cell hidden too (ties: table order), preferring
    a cell whose other margin already has a hidden cell (or no total): that closes the pattern
    instead of opening a new margin with one hidden cell, so one small cell in a two-way table costs
    three secondary cells (a rectangle), not a chain across the table.
    """
    hidden = graph.hidden
    suppressed = primary & ~hidden
    margins = graph.margins()
    while True:
        unknown = suppressed | hidden
        n_unknown = np.bincount(np.concatenate([graph.u[unknown], graph.v[unknown]]), minlength=graph.n_nodes)
        changed = True
        while changed:  # 1. no margin with exactly one unknown cell that needs protection
            changed = False
            for node, idx in margins:
                unknown = suppressed[idx] | hidden[idx]
                if unknown.sum() != 1:
                    continue
                j = idx[unknown][0]
                if suppressed[j] or primary[j]:
                    cand = idx[~unknown]
                    other = np.where(graph.u[cand] == node, graph.v[cand], graph.u[cand])
                    closes = (other == graph.ground) | (n_unknown[other] > 0)
                    pool = cand[closes] if closes.any() else cand
                    pick = pool[np.argmin(counts[pool])]
                    suppressed[pick] = True
                    n_unknown[graph.u[pick]] += 1
                    n_unknown[graph.v[pick]] += 1
                    changed = True
        # 2. no cell that follows from a combination of margins (a bridge among unknown cells)
        unknown = suppressed | hidden
        must = suppressed | (hidden & primary)
        edges = np.flatnonzero(unknown)
        bridges = sorted(e for e in _bridges(graph, edges) if must[e])
        if not bridges:
            return suppressed
        e = bridges[0]
        comp = _components(graph, edges[edges != e])
        a, b = comp[graph.u[e]], comp[graph.v[e]]
        cu, cv = comp[graph.u], comp[graph.v]
        cand = np.flatnonzero(~unknown & (((cu == a) & (cv == b)) | ((cu == b) & (cv == a))))
        if not len(cand):
            raise DisclosureError(
                f"cell {e + 1} of the table follows from its margins whatever else is suppressed; "
                "do not publish its row and column totals, or merge categories"
            )
        suppressed[cand[np.argmin(counts[cand])]] = True


# ------------------------------------------------------------------------------------------------
# Protect: exact tables -> publishable tables
# ------------------------------------------------------------------------------------------------


def _complete_grid(df: pd.DataFrame, by: list[str], cell_col: str, count_col: str,
                   complete: bool = True) -> pd.DataFrame:
    """Every row (``by`` combination) × every cell value; absent cells become explicit zeros.

    Rows keep their order of first appearance; cells follow the categories of a categorical
    ``cell_col``, else their order of first appearance. Other columns are NA on added cells.
    With ``complete=False`` only the checks run and the rows stay as given.
    """
    keys = [*by, cell_col]
    missing = [c for c in [*keys, count_col] if c not in df.columns]
    if missing:
        raise ValueError(f"the table has no column(s) {missing}; it has {list(df.columns)}")
    na = df[keys].isna()
    if na.to_numpy().any():
        col = na.any().idxmax()
        rows = np.flatnonzero(na[col].to_numpy())[:5] + 1
        raise ValueError(f"column '{col}' is empty in rows {rows.tolist()}. Fix: label the group (e.g. 'unknown').")
    dup = df.duplicated(keys, keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)[:5] + 1
        raise ValueError(f"rows {rows.tolist()} repeat the same cell {keys}; each cell must appear once")
    if not complete:
        return df.reset_index(drop=True)
    cell = df[cell_col]
    if isinstance(cell.dtype, pd.CategoricalDtype):
        cells = pd.DataFrame({cell_col: pd.Categorical(cell.cat.categories, dtype=cell.dtype)})
    else:
        cells = pd.DataFrame({cell_col: cell.drop_duplicates().to_numpy()}).astype({cell_col: cell.dtype})
    grid = df[by].drop_duplicates().merge(cells, how="cross") if by else cells
    out = grid.merge(df, on=keys, how="left", sort=False)
    filled = out[count_col].isna()
    out[count_col] = out[count_col].astype(object).where(~filled, 0)
    return out.reset_index(drop=True)


def protect_counts(
    df: pd.DataFrame,
    *,
    count_col: str = "persons",
    by: Sequence[str],
    cell_col: str,
    col_totals: bool | Sequence[str] = True,
    complete: bool = True,
    rules: DisclosureRules = CBS_RULES,
) -> pd.DataFrame:
    """Suppress and round a long count table so that no cell below the rules can be seen or derived.

    ``by`` are the columns of a row (e.g. ``["cohort", "horizon_months"]``) whose cells (values of
    ``cell_col``, e.g. ``status``) add up to a row total that is assumed known; ``col_totals`` says
    which column totals are known too (see :class:`TableLayout`; True = a two-way table). Cells must
    exhaust the row: do not include a 'total' cell. ``complete=False`` when rows have different
    cells by construction (absent cells are then impossible, not zeros).

    Steps: complete the grid (absent cells are zeros); primary suppression on the exact counts;
    secondary suppression until no suppressed cell follows from row or column totals, alone or
    combined (the smallest published cell, ties by table order, preferring one that closes the
    pattern; see the module notes); round the published counts to ``rules.rounding_base``.

    Columns: the input's columns, with ``count_col`` as Int64 (NA where suppressed), plus
    ``suppressed`` (bool) and ``flag`` ('<10' primary, 'secondary', '' published). The layout is left
    in ``attrs`` so that :func:`check_table` can verify the suppression pattern.
    """
    _check_rules(rules)
    by = list(by)
    layout = TableLayout(by=tuple(by), cell_col=cell_col, count_col=count_col,
                         col_totals=_norm_col_totals(col_totals, by), complete=complete)
    out = _complete_grid(df, by, cell_col, count_col, complete)
    exact = _exact_counts(out[count_col], count_col)
    primary = _is_small(exact, rules)
    suppressed = _suppress(exact, _build_graph(out, layout), primary)
    out[count_col] = pd.array(round_count(exact, rules.rounding_base), dtype="Int64")
    out.loc[suppressed, count_col] = pd.NA
    out["suppressed"] = suppressed
    out["flag"] = np.where(primary, _primary_flag(rules), np.where(suppressed, SECONDARY_FLAG, ""))
    out.attrs[LAYOUT_ATTR] = layout
    return out


def protect_shares(
    df: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    by: Sequence[str] | None = None,
    cell_col: str | None = None,
    col_totals: bool | Sequence[str] = True,
    share_col: str = "share",
    decimals: int = 3,
    rules: DisclosureRules = CBS_RULES,
) -> pd.DataFrame:
    """Shares ``numerator / denominator`` that pass the denominator, cell and complement rules.

    Without ``by``: every row is its own split of the denominator into the numerator and its
    complement (e.g. share employed per group); both parts must pass the cell rule. With ``by`` and
    ``cell_col``: the numerators of a row are cells of one distribution over ``cell_col`` (e.g. the
    status shares of a cohort) with the row's denominator as total; secondary suppression then
    works as in :func:`protect_counts`, with a hidden remainder cell when the cells do not add up
    to the denominator. ``col_totals`` as in :func:`protect_counts`, across rows.

    Columns: the input's columns (grid completed when ``by`` is given), ``numerator`` and
    ``denominator`` as rounded Int64 (NA when suppressed), ``share_col`` (Float64 rounded to
    ``decimals``; NA when the numerator is suppressed or the denominator is below
    ``rules.min_denominator``), ``suppressed`` (the numerator cell) and ``flag``.
    """
    _check_rules(rules)
    if (by is None) != (cell_col is None):
        raise ValueError("pass both by and cell_col (one distribution per row) or neither (independent rows)")
    for col in (numerator, denominator):
        if col not in df.columns:
            raise ValueError(f"the table has no column '{col}'; it has {list(df.columns)}")
    if by is None:
        if not isinstance(col_totals, bool):
            raise ValueError("without by, col_totals must be True or False (totals across all rows or none)")
        out = df.reset_index(drop=True)
        keys = pd.DataFrame({"row": np.arange(len(out)), "part": "numerator"})
        layout = TableLayout(by=("row",), cell_col="part", count_col=numerator,
                             col_totals=col_totals, remainder=True)
        num = _exact_counts(out[numerator], numerator)
        den = _exact_counts(out[denominator], denominator)
        rest = den - num
    else:
        by = list(by)
        varying = df.groupby(by, sort=False, observed=True)[denominator].nunique(dropna=False)
        if (varying > 1).any():
            raise ValueError(f"column '{denominator}' differs within the row {varying[varying > 1].index[0]!r}; "
                             f"a row of by={by} has one denominator")
        out = _complete_grid(df, by, cell_col, numerator)
        out[denominator] = out.groupby(by, sort=False, observed=True)[denominator].transform("first")
        keys = out
        num = _exact_counts(out[numerator], numerator)
        den = _exact_counts(out[denominator], denominator)
        row = _codes(out, by)
        first = np.unique(row, return_index=True)[1]
        rest = den[first] - np.bincount(row, weights=num).astype(np.int64)
        layout = TableLayout(by=tuple(by), cell_col=cell_col, count_col=numerator,
                             col_totals=_norm_col_totals(col_totals, by), remainder=bool((rest > 0).any()))
    if (rest < 0).any():
        raise ValueError(f"'{numerator}' exceeds '{denominator}' (in total over a row); a share is at most 1")
    if not layout.remainder:
        rest = rest[:0]
    counts = np.concatenate([num, rest])
    primary = _is_small(counts, rules)
    suppressed = _suppress(counts, _build_graph(keys, layout), primary)[: len(num)]
    primary = primary[: len(num)]
    small_den = _is_small(den, rules)
    share_ok = ~suppressed & ~small_den & (den >= rules.min_denominator) & (den > 0)

    out = out.copy()
    out[numerator] = pd.array(round_count(num, rules.rounding_base), dtype="Int64")
    out.loc[suppressed, numerator] = pd.NA
    out[denominator] = pd.array(round_count(den, rules.rounding_base), dtype="Int64")
    out.loc[small_den, denominator] = pd.NA
    # the share is computed from the *published* (rounded) counts: it then pins nothing that the
    # rounded counts do not already show (a share of the exact counts, to 3 decimals, would give
    # the exact numerator back from the rounded denominator)
    num_pub = round_count(num, rules.rounding_base)
    den_pub = round_count(den, rules.rounding_base)
    share = np.round(num_pub / np.where(den_pub > 0, den_pub, 1), decimals)
    out[share_col] = pd.array(np.where(share_ok, share, np.nan), dtype="Float64")
    out.loc[~share_ok, share_col] = pd.NA
    out["suppressed"] = suppressed
    flags = []
    for p, s, d in zip(primary, suppressed, den, strict=True):
        parts = [_primary_flag(rules)] if p else [SECONDARY_FLAG] if s else []
        if d < rules.min_denominator:
            parts.append(f"denominator<{rules.min_denominator}")
        flags.append("; ".join(parts))
    out["flag"] = flags
    if by is not None:
        out.attrs[LAYOUT_ATTR] = layout
    else:
        out.attrs.pop(LAYOUT_ATTR, None)
    return out


def _quantile_name(q: float) -> str:
    """'q25' for 0.25, 'q2.5' for 0.025."""
    return f"q{100 * q:g}"


def protect_quantiles(
    values: pd.Series,
    by: pd.Series | pd.DataFrame | None = None,
    *,
    q: Sequence[float] = (0.25, 0.5, 0.75),
    within: Sequence[str] | None = None,
    rules: DisclosureRules = CBS_RULES,
) -> pd.DataFrame:
    """Quantiles of ``values`` per group of ``by``, only where the rules allow; never min or max.

    A group's quantiles are published only with at least ``max(rules.min_persons,
    rules.min_persons_quantile)`` persons with a value (use :data:`INCOME_RULES` for wages), and a
    single quantile is withheld when it would be computed from the group's minimum or maximum
    (fewer than one observation beyond it: ``(n - 1) * min(q, 1 - q) < 1``). Missing values are
    left out.

    ``by`` is one group column (Series) or several (DataFrame, e.g. cohort, dimension, value).
    Group sizes are published as a count table (rounded, small ones suppressed) whose totals are
    assumed known within each combination of the ``within`` columns (default: all ``by`` columns
    but the last, e.g. per cohort and dimension; for a Series: one total over all groups), with
    secondary suppression there. Absent groups are simply absent (no one, no quantile).

    Columns: the group column(s) (``by.name`` or 'group'; 'all' when ``by`` is None), ``persons``,
    one column per quantile ('q25', 'q50', 'q75'), ``suppressed`` (the group size) and ``flag``.
    """
    _check_rules(rules)
    qs = [float(x) for x in q]
    bad = [x for x in qs if not 0 < x < 1]
    if bad or len(set(qs)) != len(qs):
        raise ValueError(f"q must be distinct quantiles strictly between 0 and 1 (0 and 1 are min and max); found {list(q)}")
    try:
        vals = pd.to_numeric(values)
    except (TypeError, ValueError) as e:
        raise ValueError(f"values '{values.name}' must be numeric: {e}") from None
    if by is None:
        groups = pd.DataFrame({"group": "all"}, index=vals.index)
    else:
        groups = by.to_frame(name="group" if by.name is None else str(by.name)) if isinstance(by, pd.Series) else by
        if not groups.index.equals(vals.index):
            raise ValueError("by and values must share one index (one row per person)")
        empty = groups.isna().any()
        if empty.any():
            col = empty.idxmax()
            raise ValueError(f"by column '{col}' is empty for {int(groups[col].isna().sum())} persons. "
                             "Fix: label them (e.g. 'unknown').")
    cols = [str(c) for c in groups.columns]
    within = cols[:-1] if within is None else list(within)
    grouped = vals.groupby([groups[c] for c in groups.columns], sort=False, observed=True)
    n = grouped.count()
    sizes = n.rename("persons").reset_index()
    sizes.columns = [*cols, "persons"]
    out = protect_counts(sizes, count_col="persons", by=within, cell_col=cols[-1], col_totals=False,
                         complete=False, rules=rules)
    n_all = n.to_numpy(dtype=np.int64)
    quant = grouped.quantile(qs).unstack().reindex(index=n.index, columns=qs) if len(vals) else None
    enough = n_all >= max(rules.min_persons, rules.min_persons_quantile)
    flags = [[f] if f else [] for f in out["flag"]]
    for i in np.flatnonzero(~enough & (n_all >= rules.min_persons)):
        flags[i].append(f"quantiles need {max(rules.min_persons, rules.min_persons_quantile)}+ persons")
    for x in qs:
        inner = (n_all - 1) * min(x, 1 - x) >= 1 - 1e-9
        show = enough & inner
        col = quant[x].to_numpy(dtype=float) if quant is not None else np.full(len(out), np.nan)
        out[_quantile_name(x)] = pd.array(np.where(show, col, np.nan), dtype="Float64")
        out.loc[~show, _quantile_name(x)] = pd.NA
        for i in np.flatnonzero(enough & ~inner):
            flags[i].append(f"{_quantile_name(x)} would show a min or max")
    out["flag"] = ["; ".join(f) for f in flags]
    out = out[[*cols, "persons", *[_quantile_name(x) for x in qs], "suppressed", "flag"]]
    out.attrs[LAYOUT_ATTR] = TableLayout(by=tuple(within), cell_col=cols[-1], count_col="persons",
                                         col_totals=False, complete=False)
    return out


# ------------------------------------------------------------------------------------------------
# Check: the last gate before output is written
# ------------------------------------------------------------------------------------------------


def _name_tokens(name: Any) -> list[str]:
    """'ciLower' / 'ci_lower' -> ['ci', 'lower']."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name)).lower()
    return [t for t in re.split(r"[^a-z0-9]+", s) if t]


def _column_problems(columns: Iterable[Any]) -> list[str]:
    """Columns that look like a minimum/maximum or a linking key."""
    problems = []
    for col in columns:
        tokens = _name_tokens(col)
        extreme = [t for t in tokens if t in _EXTREME_WORDS or re.fullmatch(r"[qp](0+|100)", t)]
        if extreme:
            problems.append(f"column '{col}' looks like a minimum or maximum ('{extreme[0]}'); "
                            "min and max values may not be published. Fix: drop it or show quantiles "
                            "(protect_quantiles)")
        if str(col).lower() in _LINKING_KEYS:
            problems.append(f"column '{col}' is a linking key; keys may not leave CBS. Fix: drop it")
    return problems


def _key_columns(df: pd.DataFrame, count_cols: Sequence[str], layout: TableLayout | None) -> list[str]:
    """Columns that name a row in error messages: the layout's, else the non-float non-count ones."""
    if layout is not None:
        return [c for c in [*layout.by, layout.cell_col] if c in df.columns]
    return [c for c in df.columns if c not in count_cols and c not in ("suppressed", "flag")
            and not pd.api.types.is_float_dtype(df[c])]


def _count_problems(df: pd.DataFrame, col: str, rules: DisclosureRules, key_cols: list[str]) -> list[str]:
    """Published counts below the (rounded) threshold, not whole or not a multiple of the base."""
    series = df[col]
    na = series.isna().to_numpy()
    v = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
    threshold = int(round_count(rules.min_persons, rules.rounding_base))
    problems = []
    for i in np.flatnonzero(~na):
        where = f"{_row_label(df, i, key_cols)}, column '{col}'"
        x = v[i]
        if not np.isfinite(x):
            problems.append(f"{where}: {_show(series.iloc[i])} is not a count. Fix: publish a number or NA (suppressed)")
        elif x < threshold and not (x == 0 and not rules.suppress_zero):
            problems.append(f"{where}: {_fmt(x)} is below the minimum of {rules.min_persons} persons. "
                            "Fix: suppress it (protect_counts)")
        elif x % rules.rounding_base != 0:
            problems.append(f"{where}: {_fmt(x)} is not rounded to a multiple of {rules.rounding_base}. "
                            "Fix: round it (protect_counts)")
    return problems


def _suppression_problems(df: pd.DataFrame, count_cols: Sequence[str], layout: TableLayout | None,
                          key_cols: list[str]) -> list[str]:
    """A cell marked suppressed but shown; a value shown in a row whose count is too small."""
    problems = []
    present = [c for c in count_cols if c in df.columns]
    marked_col = layout.count_col if layout is not None else present[0] if len(present) == 1 else None
    if "suppressed" in df.columns and marked_col in df.columns:
        shown = df["suppressed"].fillna(False).astype(bool).to_numpy() & df[marked_col].notna().to_numpy()
        for i in np.flatnonzero(shown):
            problems.append(f"{_row_label(df, i, key_cols)}, column '{marked_col}': marked suppressed "
                            f"but shows {_show(df[marked_col].iloc[i])}. Fix: set it to NA")
    if not present:
        return problems
    na_count = df[present].isna().any(axis=1).to_numpy()
    if "flag" in df.columns:
        na_count &= ~df["flag"].fillna("").astype(str).str.contains(SECONDARY_FLAG).to_numpy()
    values = [c for c in df.columns if c not in present and pd.api.types.is_float_dtype(df[c])]
    for c in values:
        for i in np.flatnonzero(na_count & df[c].notna().to_numpy()):
            problems.append(f"{_row_label(df, i, key_cols)}, column '{c}': shows {_show(df[c].iloc[i])} although "
                            "a count of the row is suppressed as too small. Fix: set it to NA")
    return problems


def _layout_problems(df: pd.DataFrame, layout: TableLayout, rules: DisclosureRules,
                     key_cols: list[str]) -> list[str]:
    """Absent cells, and suppressed cells that follow from row and column totals."""
    keys = [*layout.by, layout.cell_col]
    missing = [c for c in [*keys, layout.count_col] if c not in df.columns]
    if missing:
        return [f"the table's layout names column(s) {missing} that it lacks. Fix: keep them, or pass "
                "layout= to check_table"]
    dup = df.duplicated(keys, keep=False).to_numpy()
    if dup.any():
        return [f"{_row_label(df, i, key_cols)}: the cell appears more than once" for i in np.flatnonzero(dup)]
    problems = []
    if rules.suppress_zero and layout.complete:
        n_rows = len(df[list(layout.by)].drop_duplicates()) if layout.by else 1
        n_cells = df[layout.cell_col].nunique(dropna=False)
        if len(df) < n_rows * n_cells:
            problems.append(f"the table lacks {n_rows * n_cells - len(df)} of its {n_rows} × {n_cells} cells; "
                            "an absent cell reads as 0. Fix: publish the full grid from protect_counts")
    graph = _build_graph(df, layout)
    unknown = np.concatenate([df[layout.count_col].isna().to_numpy(), graph.hidden[len(df):]])
    must = unknown & ~graph.hidden
    edges = np.flatnonzero(unknown)
    for e in sorted(b for b in _bridges(graph, edges) if must[b]):
        row_unknown = unknown[graph.u == graph.u[e]].sum() if graph.u[e] != graph.ground else 0
        col_unknown = unknown[graph.v == graph.v[e]].sum() if graph.v[e] != graph.ground else 0
        how = ("from its row total" if row_unknown == 1 else "from its column total" if col_unknown == 1
               else "by combining row and column totals")
        problems.append(f"{_row_label(df, int(e), key_cols)}, column '{layout.count_col}': the suppressed "
                        f"cell can be recovered {how}. Fix: suppress another cell (protect_counts)")
    return problems


def check_table(
    df: pd.DataFrame,
    *,
    name: str,
    rules: DisclosureRules = CBS_RULES,
    count_cols: Sequence[str] = ("persons",),
    layout: TableLayout | None = None,
) -> None:
    """Raise :class:`DisclosureError` if the table may not leave CBS; the last gate before writing.

    Refused, naming the table, the row (its key values) and the column: a column named like a min
    or max ('min', 'max', 'minimum', 'maximum', 'laagste', 'q0', 'p100', ...; 'ci_lower' is fine) or
    a linking key ('person_id', 'rinpersoon'); a published count (in ``count_cols``; NA = suppressed
    is fine) below ``rules.min_persons`` (as rounded) or not a multiple of ``rules.rounding_base``;
    a cell marked suppressed but shown; a float value shown in a row whose count is suppressed as
    too small. With a ``layout`` (passed, or left in ``df.attrs`` by the protect functions): an
    absent cell, and a suppressed cell that can be recovered from row and column totals. Without a
    layout, recoverability cannot be checked.
    """
    _check_rules(rules)
    if layout is None:
        layout = df.attrs.get(LAYOUT_ATTR)
    count_cols = [count_cols] if isinstance(count_cols, str) else list(count_cols)
    key_cols = _key_columns(df, count_cols, layout)
    problems = _column_problems(df.columns)
    for col in count_cols:
        if col not in df.columns:
            problems.append(f"count column '{col}' is missing. Fix: pass count_cols= with the table's counts")
        else:
            problems += _count_problems(df, col, rules, key_cols)
    problems += _suppression_problems(df, count_cols, layout, key_cols)
    if layout is not None:
        problems += _layout_problems(df, layout, rules, key_cols)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems[:_MAX_LISTED])
        more = f"\n  (and {len(problems) - _MAX_LISTED} more)" if len(problems) > _MAX_LISTED else ""
        s = "s" if len(problems) != 1 else ""
        raise DisclosureError(f"table '{name}' breaks the disclosure rules ({len(problems)} problem{s}):\n"
                              f"{listed}{more}")


def check_model_output(n_obs: int, n_params: int, *, name: str, rules: DisclosureRules = CBS_RULES) -> None:
    """Raise :class:`DisclosureError` when a model has fewer residual degrees of freedom than allowed.

    ``n_obs`` is the number of observations the model was fitted on (persons, or person-months in a
    hazard model) and ``n_params`` the number of estimated parameters.
    """
    _check_rules(rules)
    dof = int(n_obs) - int(n_params)
    if dof < rules.min_model_df:
        raise DisclosureError(
            f"model '{name}': {int(n_obs)} observations and {int(n_params)} parameters leave {dof} residual "
            f"degrees of freedom; at least {rules.min_model_df} are needed. Fix: fewer terms or a larger group"
        )


def check_figure(fig: Figure, *, name: str = "figure") -> None:
    """Raise :class:`DisclosureError` if a matplotlib figure may show individual persons.

    Refused: a scatter (a ``PathCollection`` with points) and a line drawn with markers, unless the
    artist is marked as showing aggregates with ``gid='aggregated'`` (:data:`AGGREGATED_GID`), e.g.
    ``ax.scatter(means.x, means.y, gid='aggregated')``. Bars, histograms, filled areas and plain
    lines pass: they show aggregates by construction. Legends are not inspected.
    """
    from matplotlib.collections import PathCollection

    problems = []
    axes = list(fig.axes)
    for ax in axes:
        axes.extend(a for a in ax.child_axes if a not in axes)
    for k, ax in enumerate(axes, start=1):
        where = f"figure '{name}', axes {k}" + (f" ('{ax.get_title()}')" if ax.get_title() else "")
        for coll in ax.collections:
            if (isinstance(coll, PathCollection) and len(coll.get_offsets())
                    and coll.get_gid() != AGGREGATED_GID):
                problems.append(f"{where}: a scatter of {len(coll.get_offsets())} points")
        for line in ax.lines:
            if line.get_marker() not in (None, "", " ", "None", "none") and line.get_gid() != AGGREGATED_GID:
                problems.append(f"{where}: line '{line.get_label()}' with markers on {len(line.get_xdata())} points")
    if problems:
        raise DisclosureError(
            "; ".join(problems) + ". Individual-level points may not leave CBS. Fix: plot group "
            f"aggregates and mark them with gid='{AGGREGATED_GID}'"
        )


# ------------------------------------------------------------------------------------------------
# Write: the only way output leaves the package
# ------------------------------------------------------------------------------------------------


def write_protected_csv(
    df: pd.DataFrame,
    path: str | Path,
    *,
    name: str,
    rules: DisclosureRules = CBS_RULES,
    count_cols: Sequence[str] = ("persons",),
    layout: TableLayout | None = None,
) -> Path:
    """Check the table with :func:`check_table` and write it as CSV; nothing is written on failure.

    A named index (e.g. from ``groupby``) is written as columns; an unnamed one is dropped.
    Suppressed cells are written as empty fields. Returns the path written.
    """
    table = df.reset_index() if any(n is not None for n in df.index.names) else df
    check_table(table, name=name, rules=rules, count_cols=count_cols, layout=layout)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    escape_formulas(table).to_csv(path, index=False)
    return path


#: First characters that make a spreadsheet read a CSV field as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@")


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """The table with text fields that begin with ``=``, ``+``, ``-`` or ``@`` prefixed by ``'``.

    OWASP's CSV-injection rule: a label such as ``=HYPERLINK(...)`` would be run as a formula when
    the CSV is opened in a spreadsheet; with a leading single quote it is shown as text and stays
    readable. Only text (object, string, category) columns and the column names are touched:
    numbers, including negative ones (``-0.031``), stay numbers. Returns a copy when anything
    changes, else the table itself.
    """

    def esc(x: Any) -> Any:
        return "'" + x if isinstance(x, str) and x.startswith(FORMULA_PREFIXES) else x

    out = df
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col) or \
                pd.api.types.is_datetime64_any_dtype(col):
            continue
        values = col.astype(object)
        escaped = values.map(esc)
        if not escaped.equals(values):
            out = out.copy() if out is df else out
            out[c] = escaped
    names = [esc(c) for c in df.columns]
    if names != list(df.columns):
        out = out.copy() if out is df else out
        out.columns = names
    return out


def save_protected_figure(fig: Figure, path: str | Path | BinaryIO, *, name: str, **savefig_kwargs: Any
                          ) -> Path | BinaryIO:
    """Check the figure with :func:`check_figure` and save it to ``path`` (a file name, or a binary
    file object such as ``io.BytesIO``); nothing is written on failure."""
    check_figure(fig, name=name)
    if hasattr(path, "write"):
        fig.savefig(path, **savefig_kwargs)
        return path
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, **savefig_kwargs)
    return path
