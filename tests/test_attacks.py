"""Attack suite: try to get exact or small counts back from everything a run publishes.

The pipeline runs once per municipality (module-scoped fixture): the default simulated
municipality and a 300-person one. For every table written (``OUT/tables/*.csv`` and
``OUT/cleaning_log.csv``) the attacks below try to recover a count below 10 or an un-rounded
count from the published numbers, the way an output checker would:

- generic: a count column with a value that is not a multiple of 5, or a nonzero count below 10;
- curve steps: 1 - S(t)/S(t_prev) times every exact number at risk consistent with the published
  (rounded) one gives the number of events when it comes out whole;
- shares and their intervals: every exact (k, n) consistent with the rounded counts is tried
  against the published share (to its printed precision) and Wilson interval;
- naive effects: the difference of two shares, with every exact group size consistent with the
  rounded ones and every numerator of the treated, must give a whole numerator of the controls;
- propensity bins: labels must be fixed edges, not the data's largest score.

A value is *recovered* when exactly one exact value is consistent with what is published and
it differs from the published (rounded) count, or when every consistent value is 1-9. Tables
published the old way (exact curves and shares beside rounded counts) are attacked too, to show
that the attacks find leaks where there are some.

The tables are also cross-checked with ``acro`` (SACRO), with its default rules, where it applies.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reintegration_effects import disclosure as sdc
from reintegration_effects import outputs
from tests.conftest import SpiedRun, spied_run

BASE = sdc.CBS_RULES.rounding_base
SMALL = sdc.CBS_RULES.min_persons
HALF = BASE // 2  # a count rounded to r was exactly one of r - 2, ..., r + 2

#: Columns that are counts of persons or rows in published tables.
COUNT_COLUMNS = outputs.COUNT_COLUMNS
#: (numerator, denominator, share) column triples of published shares.
SHARE_TRIPLES = (("persons", "persons_total", "share"), ("n_off_support", "n_treated", "share"),
                 ("events_a", "persons_a", "share_a"), ("events_b", "persons_b", "share_b"))
CURVES = ("km", "reentry_km", "cumulative_incidence")


#: A finished run with its exact tables (tests/conftest.py).
Run = SpiedRun


def _run(out: Path, persons: int | None) -> Run:
    # one DML split: the attacks read the tables' cells, which the number of splits does not shape
    return spied_run(out, persons=persons, with_report=False, dml_repetitions=1)


@pytest.fixture(scope="module", params=[None, 300], ids=["default", "persons300"])
def published(request, tmp_path_factory, default_run) -> Run:
    if request.param is None:  # the session's default run (tests/conftest.py), with its report
        return default_run
    return _run(tmp_path_factory.mktemp("attack") / "out", request.param)


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    """Every published CSV as text (the attacker reads the file, with its printed precision)."""
    files = sorted((out / "tables").glob("*.csv"))
    if (out / "cleaning_log.csv").is_file():
        files.append(out / "cleaning_log.csv")
    found = {}
    for f in files:
        try:
            found[f.stem] = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
        except pd.errors.EmptyDataError:
            found[f.stem] = pd.DataFrame()
    return found


def _num(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def _tolerance(s: pd.Series) -> float:
    """Half a unit of the last printed decimal of a column (full precision: floating-point noise)."""
    text = s.dropna().astype(str)
    decimals = text.str.extract(r"\.(\d+)$")[0].str.len().fillna(0)
    d = int(decimals.max()) if len(decimals) else 0
    return 1e-12 if d >= 10 else 0.5 * 10.0 ** -d + 1e-12


def _candidates(published_count: float) -> np.ndarray:
    """Exact counts consistent with a count rounded to the base."""
    c = np.arange(published_count - HALF, published_count + HALF + 1)
    return c[c >= 0]


def _recovered(values: set, published_count: float | None) -> bool:
    """One consistent value that differs from the published count, or only small ones."""
    if not values:
        return False
    if len(values) == 1 and (published_count is None or next(iter(values)) != published_count):
        return True
    return all(0 < v < SMALL for v in values)


# ------------------------------------------------------------------------------------------------
# Attacks
# ------------------------------------------------------------------------------------------------


def attack_counts(name: str, df: pd.DataFrame) -> list[str]:
    """Count columns: every published count a multiple of the base and 0 or at least 10."""
    found = []
    for c in [c for c in COUNT_COLUMNS if c in df.columns]:
        v = _num(df[c])
        shown = np.isfinite(v)
        bad = shown & ((np.mod(v, BASE) != 0) | ((v > 0) & (v < SMALL)))
        for i in np.flatnonzero(bad)[:3]:
            found.append(f"{name} row {i + 1}: {c} = {df[c].iloc[i]} (not rounded, or below {SMALL})")
    return found


def attack_curve(name: str, df: pd.DataFrame) -> list[str]:
    """Curve steps: events = n (1 - S(t)/S(t_prev)) for every exact n consistent with the rounded n."""
    if df.empty or "survival" not in df or "persons" not in df:
        return []
    found = []
    keys = ["dimension", "group"] + (["destination"] if "destination" in df else [])
    tol = _tolerance(df["survival"])
    for key, g in df.groupby(keys, sort=False):
        t = _num(g["time"])
        g = g.iloc[np.argsort(t, kind="stable")]
        s, n = _num(g["survival"]), _num(g["persons"])
        f = _num(g["cumulative_incidence"]) if "cumulative_incidence" in g else None
        for j in range(1, len(g)):
            if not (np.isfinite(s[j - 1]) and np.isfinite(s[j]) and np.isfinite(n[j]) and s[j - 1] > 0):
                continue
            cand = _candidates(n[j])
            # events of any cause from the survival step
            d = cand * (1 - s[j] / s[j - 1])
            slack = cand * 2 * tol / s[j - 1] + 1e-9
            whole = {int(round(x)) for x, e in zip(d, slack, strict=True) if abs(x - round(x)) <= e}
            if _recovered(whole, None) and not all(v % BASE == 0 and v >= SMALL for v in whole):
                found.append(f"{name} {key} t={g['time'].iloc[j]}: events {sorted(whole)} from the survival step")
            if f is not None and np.isfinite(f[j]) and np.isfinite(f[j - 1]):
                # events of this destination from the cumulative incidence step: dF = S(t_prev) d_k / n
                dk = cand * (f[j] - f[j - 1]) / s[j - 1]
                whole = {int(round(x)) for x, e in zip(dk, slack, strict=True) if abs(x - round(x)) <= e}
                if _recovered(whole, None) and not all(v % BASE == 0 and v >= SMALL for v in whole):
                    found.append(f"{name} {key} t={g['time'].iloc[j]}: {sorted(whole)} events of the destination")
    return found


def _wilson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.stats.proportion import proportion_confint

    return proportion_confint(k, n, alpha=0.05, method="wilson")


def attack_shares(name: str, df: pd.DataFrame) -> list[str]:
    """Share (and interval) x rounded counts: is only one exact (k, n) consistent with them?"""
    found = []
    for k_col, n_col, s_col in SHARE_TRIPLES:
        if not {k_col, n_col, s_col} <= set(df.columns):
            continue
        k, n, share = _num(df[k_col]), _num(df[n_col]), _num(df[s_col])
        tol = _tolerance(df[s_col])
        ci = ({"ci_lower", "ci_upper"} <= set(df.columns) and s_col == "share")
        lo, hi = (_num(df["ci_lower"]), _num(df["ci_upper"])) if ci else (None, None)
        ci_tol = _tolerance(df["ci_lower"]) if ci else None
        for i in np.flatnonzero(np.isfinite(k) & np.isfinite(n) & np.isfinite(share)):
            kk, nn = np.meshgrid(_candidates(k[i]), _candidates(n[i]))
            kk, nn = kk.ravel().astype(float), nn.ravel().astype(float)
            ok = (nn > 0) & (kk <= nn)
            kk, nn = kk[ok], nn[ok]
            match = np.abs(kk / nn - share[i]) <= tol
            if ci and np.isfinite(lo[i]):
                wl, wh = _wilson(kk, nn)
                match &= (np.abs(wl - lo[i]) <= ci_tol) & (np.abs(wh - hi[i]) <= ci_tol)
            ks, ns = set(kk[match].astype(int)), set(nn[match].astype(int))
            if _recovered(ks, k[i]) or _recovered(ns, n[i]):
                found.append(f"{name} row {i + 1}: {k_col}/{n_col} = {sorted(ks)}/{sorted(ns)} "
                             f"(published {k[i]:g}/{n[i]:g}, {s_col} {df[s_col].iloc[i]})")
    return found


def attack_naive(name: str, df: pd.DataFrame) -> list[str]:
    """Naive effect = k_t/n_t - k_c/n_c: with a precise estimate only one k_t gives a whole k_c."""
    if not {"method", "estimate", "n_treated", "n_control"} <= set(df.columns):
        return []
    found = []
    naive = df[df["method"] == "naive"]
    tol = _tolerance(naive["estimate"]) if len(naive) else 0
    est, nt, nc = _num(naive["estimate"]), _num(naive["n_treated"]), _num(naive["n_control"])
    for i in np.flatnonzero(np.isfinite(est) & np.isfinite(nt) & np.isfinite(nc)):
        kt_found, kc_found = set(), set()
        for nt_ in _candidates(nt[i]):
            kt = np.arange(0, nt_ + 1, dtype=float)
            for nc_ in _candidates(nc[i]):
                kc = nc_ * (kt / nt_ - est[i])
                ok = (kc >= -1e-9) & (kc <= nc_ + 1e-9)
                if tol >= 1e-6:  # a rounded estimate: every whole k_c inside the rounding window
                    lo_, hi_ = nc_ * (kt / nt_ - est[i] - tol), nc_ * (kt / nt_ - est[i] + tol)
                    ok &= np.floor(hi_) >= np.ceil(lo_)
                else:
                    ok &= np.abs(kc - np.round(kc)) <= nc_ * tol + 1e-7
                kt_found |= set(kt[ok].astype(int))
                kc_found |= set(np.round(kc[ok]).astype(int))
                if len(kt_found) > 1 and len(kc_found) > 1:
                    break
            if len(kt_found) > 1 and len(kc_found) > 1:
                break
        if _recovered(kt_found, None) or _recovered(kc_found, None):
            row = naive.iloc[i]
            found.append(f"{name} {row['programme']} {row['group']} {row['outcome']}: treated with the outcome "
                         f"{sorted(kt_found)[:3]}, controls {sorted(kc_found)[:3]}")
    return found


def attack_bins(name: str, df: pd.DataFrame) -> list[str]:
    """Bin labels: fixed edges (the same for every programme, on a round grid), no data maximum."""
    if "bin" not in df.columns:
        return []
    found = []
    edges = df["bin"].astype(str).str.extract(r"^([0-9.]+)-([0-9.]+)$").astype(float)
    if edges.isna().any().any():
        found.append(f"{name}: bin labels that are not 'lower-upper'")
    for v in np.unique(edges.to_numpy()):
        if abs(v * 100 - round(v * 100)) > 1e-9:
            found.append(f"{name}: bin edge {v} is not on a fixed grid (a data minimum or maximum?)")
    if "programme" in df.columns and df.groupby("programme")["bin"].apply(tuple).nunique() > 1:
        found.append(f"{name}: bin edges differ by programme (edges from the data)")
    return found


# ------------------------------------------------------------------------------------------------
# The run's outputs resist every attack
# ------------------------------------------------------------------------------------------------


def test_every_table_the_run_writes_is_attacked(published):
    tables = _tables(published.out)
    assert set(published.exact) - {"effects_plain_language"} <= set(tables), "a table written was not found"
    assert "cleaning_log" in tables
    assert {"km", "reentry_km", "cumulative_incidence", "effects", "job_retention"} <= set(tables)


@pytest.mark.parametrize("attack", [attack_counts, attack_shares, attack_naive, attack_bins, attack_curve])
def test_no_attack_recovers_a_count(published, attack):
    tables = _tables(published.out)
    if attack is attack_curve:
        tables = {k: v for k, v in tables.items() if k in CURVES}
    found = [x for name, df in tables.items() if not df.empty for x in attack(name, df)]
    assert not found, f"{len(found)} recovered:\n" + "\n".join(found[:20])


def test_curves_rest_on_ten_events_per_step(published):
    for name in CURVES:
        df = pd.read_csv(published.out / "tables" / f"{name}.csv")
        steps = df[df["events"].notna()]
        assert len(steps), f"{name}: no published step"
        assert (steps["events"] >= SMALL).all() and (steps["persons"] - steps["events"] >= SMALL - HALF).all()


def test_reentry_bands_belong_to_the_survival_column(published):
    df = pd.read_csv(published.out / "tables" / "reentry_km.csv").dropna(subset=["survival"])
    assert ((df["ci_lower"] <= df["survival"] + 1e-12) & (df["survival"] <= df["ci_upper"] + 1e-12)).all()


# ------------------------------------------------------------------------------------------------
# The attacks work: tables published the old way leak, and the attacks say so
# ------------------------------------------------------------------------------------------------


def _old_curve(exact: pd.DataFrame) -> pd.DataFrame:
    """The previous publication: the exact curve at the published times beside rounded persons."""
    d = exact[exact["time"].isin(outputs.CURVE_TIMES)].copy()
    small = d["persons"] < SMALL
    d["persons"] = sdc.round_count(d["persons"].to_numpy(), BASE)
    d.loc[small, ["persons", "survival"]] = np.nan
    return d.drop(columns=[c for c in ("events", "censored", "reentered") if c in d]).astype(str).replace("nan", None)


def test_attack_finds_events_in_an_exact_curve(published):
    found = attack_curve("km", _old_curve(published.exact["km"]))
    assert found, "the curve-step attack found nothing in an exact Kaplan-Meier curve"


def test_attack_finds_counts_behind_exact_shares_and_intervals(published):
    exact = published.exact["job_retention"]
    old = exact.copy()
    ok = (old["persons"] >= SMALL) & (old["persons_total"] - old["persons"] >= SMALL)
    old = old[ok]
    for c in ("persons", "persons_total"):
        old[c] = sdc.round_count(old[c].to_numpy(), BASE)
    old["share"] = exact.loc[ok, "share"].round(3)
    found = attack_shares("job_retention", old.astype(str))
    assert len(found) >= len(old) // 2, f"only {len(found)} of {len(old)} rows recovered from exact intervals"


def test_attack_finds_numerators_behind_a_precise_naive_effect(published):
    exact = published.exact["effects"]
    old = exact[(exact["method"] == "naive") & (exact["n_treated"] >= SMALL)].copy()
    for c in ("n_treated", "n_control"):
        old[c] = sdc.round_count(old[c].to_numpy(), BASE)
    found = attack_naive("effects", old.astype(str).head(20))
    assert found, "the naive-difference attack found nothing in full-precision differences"


def test_attack_finds_unrounded_counts_and_data_maxima():
    assert attack_counts("t", pd.DataFrame({"persons": ["12", "7", "15"]}))
    assert not attack_counts("t", pd.DataFrame({"persons": ["10", None, "15", "0"]}))
    assert attack_bins("p", pd.DataFrame({"programme": ["a", "a"], "bin": ["0.0000-0.0497", "0.0497-0.0994"]}))
    assert not attack_bins("p", pd.DataFrame({"programme": ["a", "a"], "bin": ["0.00-0.05", "0.05-0.10"]}))


# ------------------------------------------------------------------------------------------------
# Cross-check with acro (SACRO) at its default rules
# ------------------------------------------------------------------------------------------------

#: Count tables: (table, row columns, cell column, count column) as acro's crosstab rebuilds them.
ACRO_COUNTS = (
    ("flows", ["cohort", "horizon_months"], "status", "persons"),
    ("flows_by_group", ["cohort", "horizon_months", "dimension", "group"], "status", "persons"),
    ("typology", ["cohort"], "type", "persons"),
    ("effects_propensity", ["programme", "treated"], "bin", "persons"),
    ("typology_profile", ["cohort", "type", "dimension"], "group", "persons"),
    ("job_quality", ["cohort", "dimension"], "value", "persons"),
    ("career_state_shares", ["cluster", "month"], "state", "persons"),
    ("career_profile", ["cluster", "dimension"], "group", "persons"),
)

#: Tables with thousands of cells: acro checks them on the 300-person run only (time in CI).
ACRO_SLOW = ("flows_by_group",)


@pytest.fixture(scope="module")
def acro_session():
    import acro  # a dev dependency (pyproject [dev], pinned in constraints.txt): missing fails, not skips
    for name in ("acro", "acro.acro", "acro.record"):
        logging.getLogger(name).setLevel(logging.ERROR)
    session = acro.ACRO(suppress=True)
    logging.getLogger("acro").setLevel(logging.ERROR)
    return session


def _acro_crosstab(session, exact: pd.DataFrame, rows: list[str], cell: str, count: str) -> pd.DataFrame:
    """acro's crosstab of pseudo-microdata (one record per person of every exact cell); long format
    with a column ``acro_ok`` (False where acro suppresses the cell: threshold 10, zeros)."""
    import warnings

    counts = pd.to_numeric(exact[count]).fillna(0).to_numpy().astype(np.int64)
    keys = exact[rows].astype(str).agg("\x1f".join, axis=1)  # one row key: no grid of unused row combinations
    micro = pd.DataFrame({"row": keys.repeat(counts).to_numpy(),
                          cell: exact[cell].astype(str).repeat(counts).to_numpy()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        session.crosstab(micro["row"], micro[cell])
    # acro's verdict per cell, from its record of the output (its redacted table can carry
    # duplicated column labels when whole columns are suppressed): cells[check] = [[row, col], ...]
    # in the order of pandas' crosstab of the same data
    record = list(session.results.results.values())[-1]
    tab = pd.crosstab(micro["row"], micro[cell], dropna=False)
    refused = np.zeros(tab.shape, dtype=bool)
    for cells in record.sdc["cells"].values():
        for i, j in cells:
            refused[i, j] = True
    long = pd.DataFrame(~refused, index=tab.index, columns=tab.columns).stack(future_stack=True)
    long = long.rename("acro_ok").reset_index()
    long.columns = ["row", cell, "acro_ok"]
    long[rows] = long["row"].str.split("\x1f", expand=True).to_numpy()
    return long.drop(columns="row")


def acro_refused_but_shown(session, exact: pd.DataFrame, published: pd.DataFrame, rows: list[str], cell: str,
                           count: str) -> pd.DataFrame:
    """Cells acro refuses (fewer than 10 persons, or zero) that the published table shows."""
    if "dimension" in rows:  # one crosstab per dimension: the groups of one dimension are its columns
        acro_long = pd.concat([_acro_crosstab(session, part, rows, cell, count)
                               for _, part in exact.groupby("dimension", sort=False, observed=True)],
                              ignore_index=True)
    else:
        acro_long = _acro_crosstab(session, exact, rows, cell, count)
    ours = published.astype({c: str for c in [*rows, cell]}).assign(ours_ok=published[count].notna())
    merged = ours[[*rows, cell, "ours_ok"]].merge(acro_long, on=[*rows, cell], how="left")
    # a published cell missing from acro's crosstab has no person (its row or column is empty):
    # a zero, which acro refuses by default (zeros_are_disclosive)
    zeros_ok = not session.config["zeros_are_disclosive"]
    merged["acro_ok"] = merged["acro_ok"].astype("boolean").fillna(zeros_ok).astype(bool)
    return merged[~merged["acro_ok"] & merged["ours_ok"]]


@pytest.mark.parametrize("spec", ACRO_COUNTS, ids=[s[0] for s in ACRO_COUNTS])
def test_acro_agrees_on_count_tables(published, acro_session, spec):
    """Every cell acro refuses (fewer than 10 persons, or zero) is suppressed in the published table."""
    name, rows, cell, count = spec
    if published.persons is None and name in ACRO_SLOW:
        pytest.skip(f"acro needs ~1 ms per cell: {name} is cross-checked on the 300-person municipality")
    exact = published.exact.get(name)
    if exact is None or exact.empty:
        pytest.skip(f"{name} not written in this run")
    ours = pd.read_csv(published.out / "tables" / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""])
    bad = acro_refused_but_shown(acro_session, exact, ours, rows, cell, count)
    assert bad.empty, f"{name}: {len(bad)} cells acro refuses are published:\n{bad.head(10)}"


#: Tables of independent rows: (table, count column[, denominator]). Counts: one acro cell per row;
#: shares: two (with and without), and a published share needs acro to accept both.
ACRO_ROWS = (("risk_set_log", "starts", None), ("cleaning_log", "rows", None),
             ("reentry", "persons", "persons_total"), ("job_retention", "persons", "persons_total"),
             ("career_clusters", "persons", "persons_total"), ("career_typical", "persons", "persons_total"),
             ("effects_overlap", "n_off_support", "n_treated"))


@pytest.mark.parametrize("spec", ACRO_ROWS, ids=[s[0] for s in ACRO_ROWS])
def test_acro_agrees_on_tables_of_independent_rows(published, acro_session, spec):
    name, count, total = spec
    exact = published.exact.get(name)
    path = published.out / ("cleaning_log.csv" if name == "cleaning_log" else f"tables/{name}.csv")
    if name == "cleaning_log":
        exact = published.ctx.data.log
    if exact is None or exact.empty or not path.is_file():
        pytest.skip(f"{name} not written in this run")
    ours = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    assert len(ours) == len(exact), f"{name}: rows of the published and exact tables differ"
    k = pd.to_numeric(exact[count]).to_numpy().astype(np.int64)
    parts = {"with": k} if total is None else {"with": k, "without": pd.to_numeric(exact[total]).to_numpy() - k}
    long = pd.concat([pd.DataFrame({"_row": np.arange(len(exact)).astype(str), "part": p, "n": v})
                      for p, v in parts.items()], ignore_index=True)
    acro_long = _acro_crosstab(acro_session, long, ["_row"], "part", "n")
    seen = long.merge(acro_long, on=["_row", "part"], how="left")  # a cell of no person is a zero
    seen["acro_ok"] = seen["acro_ok"].astype("boolean").fillna(not acro_session.config["zeros_are_disclosive"])
    refused = seen.loc[~seen["acro_ok"].astype(bool), "_row"].astype(int).unique()
    shown_col = count if total is None else ("share" if "share" in ours else count)
    shown = ours[shown_col].notna().to_numpy()
    bad = [i for i in refused if shown[i]]
    assert not bad, f"{name}: rows {bad[:10]} are published although acro refuses a cell behind them"


def test_acro_cross_check_can_fail(published, acro_session):
    """Flows rounded but not suppressed: acro refuses the small cells the table shows."""
    exact = published.exact["flows"]
    unsuppressed = exact.assign(persons=sdc.round_count(exact["persons"].to_numpy(), BASE)).astype(str)
    bad = acro_refused_but_shown(acro_session, exact, unsuppressed, ["cohort", "horizon_months"], "status",
                                 "persons")
    assert len(bad) >= 1


def test_acro_agrees_on_wage_quantiles(published, acro_session):
    """acro's median table (threshold 10, p-ratio 10%, N-K dominance 2/90%) refuses no cell we publish."""
    import warnings

    raw = published.exact.get("wages")
    if raw is None or raw.empty:
        pytest.skip("no wages in this run")
    keys = [c for c in ("cohort", "dimension", "value") if c in raw]
    micro = raw.dropna(subset=["monthly_wage"]).astype({k: str for k in keys})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tab = acro_session.pivot_table(micro, values="monthly_wage", index=keys[:-1], columns=keys[-1],
                                       aggfunc="median")
    long = tab.stack(future_stack=True).rename("acro").reset_index()
    long.columns = [*keys, "acro"]
    ours = pd.read_csv(published.out / "tables" / "wages.csv", dtype=str, keep_default_na=False, na_values=[""])
    merged = ours.merge(long, on=keys, how="left")
    shown = merged["q50"].notna()
    if not shown.any():
        pytest.skip("no wage quantile published (every group below 100 persons): nothing to cross-check")
    refused = merged[shown & merged["acro"].isna()]
    assert refused.empty, f"acro refuses {len(refused)} published wage cells:\n{refused.head()}"


def test_acro_survival_rule_holds_for_every_published_step(published, acro_session):
    """acro's survival rule (``survival_safe_threshold``, 10) on every published curve step: at risk
    and events. acro checks survival only on microdata it fits itself, and marks that for review."""
    threshold = int(acro_session.config["survival_safe_threshold"])
    for name in CURVES:
        df = pd.read_csv(published.out / "tables" / f"{name}.csv")
        shown = df[df["survival"].notna()]
        assert (shown["persons"] >= threshold).all(), f"{name}: a step with fewer than {threshold} at risk"
        steps = shown[shown["events"].notna()]
        assert (steps["events"] >= threshold).all(), f"{name}: a step with fewer than {threshold} events"


def test_acro_model_rule_holds_for_every_model(published, acro_session):
    """acro's residual degrees-of-freedom rule (``safe_dof_threshold``) for the published hazard models."""
    dof = int(acro_session.config["safe_dof_threshold"])
    hz = pd.read_csv(published.out / "tables" / "hazards.csv")
    if hz.empty:
        pytest.skip("no hazard model in this run")
    for model, g in hz.groupby("model"):
        n = g["n"].max()
        assert math.isfinite(n) and n - len(g) >= dof, f"model {model}: {n} observations, {len(g)} terms"


def test_csv_fields_that_look_like_formulas_are_escaped(published):
    """No text field of a written CSV starts like a formula (= + - @); numbers stay numbers."""
    for f in [*sorted((published.out / "tables").glob("*.csv")), published.out / "cleaning_log.csv"]:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        for c in df.columns:
            v = df[c]
            numeric = pd.to_numeric(v.where(v != ""), errors="coerce").notna() | (v == "")
            risky = v[~numeric].str.match(r"^[=+\-@]")
            assert not risky.any(), f"{f.name} column {c}: {v[~numeric][risky].head(3).tolist()}"
    eff = pd.read_csv(published.out / "tables" / "effects.csv")
    assert pd.api.types.is_float_dtype(eff["estimate"]) and (eff["estimate"] < 0).any()


def test_disclosure_report_lists_every_table(published):
    path = published.out / "disclosure_report.md"  # written by the run; else written here from the files
    text = (path if path.is_file() else outputs.write_disclosure_report(published.out)).read_text()
    for f in sorted((published.out / "tables").glob("*.csv")):
        assert f"`tables/{f.name}`" in text
    assert "`cleaning_log.csv`" in text
    assert re.search(r"\d+ cells suppressed as too small", text)
