"""Which protection each output table gets, and the one function that writes them.

Analyses return exact tables; here each is made safe with the disclosure module (suppression,
rounding, share and quantile rules) and written through
:func:`~reintegration_effects.disclosure.write_protected_csv`, which refuses anything unsafe. A
table without a plan here cannot be written: add its plan rather than bypass the gate.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import disclosure as sdc

FLOAT_COLUMNS_HIDDEN_WITH_COUNT = ("share", "ci_lower", "ci_upper", "estimate", "std_error", "z", "p_value")


#: Time points (months) at which survival curves are published: a step per month would show
#: single exits; at these points every estimate rests on the persons at risk, which are protected.
CURVE_TIMES = (0, 1, 2, 3, 6, 9, 12, 18, 24, 30, 36, 48, 60, 72, 84, 96, 108, 120)


def _rows(df: pd.DataFrame, count_cols, rules=sdc.CBS_RULES) -> pd.DataFrame:
    """Rows that are each their own total (a log, a curve point, a model term): round the counts,
    and where any count is too small suppress it and hide every float of the row."""
    count_cols = [count_cols] if isinstance(count_cols, str) else list(count_cols)
    out = df.reset_index(drop=True).copy()
    small = np.zeros(len(out), dtype=bool)
    for col in count_cols:
        exact = pd.to_numeric(out[col]).fillna(0).to_numpy()
        small |= exact < rules.min_persons if rules.suppress_zero else (exact > 0) & (exact < rules.min_persons)
    for col in count_cols:
        exact = pd.to_numeric(out[col]).fillna(0).to_numpy().astype(np.int64)
        out[col] = pd.array(sdc.round_count(exact, rules.rounding_base), dtype="Int64")
        out.loc[small, col] = pd.NA
    for c in out.columns:
        if c not in count_cols and pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].astype("Float64")
            out.loc[small, c] = pd.NA
    out["suppressed"] = small
    out["flag"] = np.where(small, "<10", "")
    return out


def _hide_floats(df: pd.DataFrame, mask, cols=FLOAT_COLUMNS_HIDDEN_WITH_COUNT) -> pd.DataFrame:
    for c in cols:
        if c in df:
            df[c] = df[c].astype("Float64")
            df.loc[np.asarray(mask, dtype=bool), c] = pd.NA
    return df


def protect_table(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The protected version of output table ``name`` and its count columns (for the gate)."""
    if name == "flows":
        return sdc.protect_counts(df, by=["cohort", "horizon_months"], cell_col="status", col_totals=False), (
            "persons",)
    if name == "flows_by_group":
        return sdc.protect_counts(df, by=["cohort", "horizon_months", "dimension", "group"], cell_col="status",
                                  col_totals=("cohort", "horizon_months", "dimension")), ("persons",)
    if name in ("transitions",):
        # one cell per path over every horizon of the study (status_<h>m columns, in horizon order)
        scols = sorted((c for c in df.columns if re.fullmatch(r"status_\d+m", str(c))), key=lambda c: int(c[7:-1]))
        path = pd.Series("", index=df.index, dtype=object)
        for i, c in enumerate(scols):
            path = path + (">" if i else "") + df[c].astype(object).where(df[c].notna(), "NA").astype(str)
        d = df.assign(path=path)
        out = sdc.protect_counts(d, by=["cohort"], cell_col="path", col_totals=False, complete=False)
        return out, ("persons",)
    if name == "typology":
        return sdc.protect_counts(df, by=["cohort"], cell_col="type", col_totals=False), ("persons",)
    if name == "typology_profile":
        return sdc.protect_shares(df, numerator="persons", denominator="persons_total",
                                  by=["cohort", "type", "dimension"], cell_col="group",
                                  col_totals=("cohort", "dimension")), ("persons", "persons_total")
    if name in ("reentry", "job_retention", "career_clusters", "career_typical"):
        out = sdc.protect_shares(df, numerator="persons", denominator="persons_total")
        return _hide_floats(out, out["share"].isna()), ("persons", "persons_total")
    if name == "job_quality":
        return sdc.protect_shares(df, numerator="persons", denominator="persons_total",
                                  by=["cohort", "dimension"], cell_col="value", col_totals=False), (
            "persons", "persons_total")
    if name == "career_state_shares":
        return sdc.protect_shares(df, numerator="persons", denominator="persons_total", by=["cluster", "month"],
                                  cell_col="state", col_totals=False), ("persons", "persons_total")
    if name == "career_profile":
        return sdc.protect_shares(df, numerator="persons", denominator="persons_total",
                                  by=["cluster", "dimension"], cell_col="group", col_totals=("dimension",)), (
            "persons", "persons_total")
    if name == "wages":
        keys = [c for c in ("cohort", "dimension", "value") if c in df]
        return sdc.protect_quantiles(df["monthly_wage"], df[keys], rules=sdc.INCOME_RULES), ("persons",)
    if name == "sustainable_vs_short_by_programme":
        out = df.reset_index(drop=True).copy()
        small = np.zeros(len(out), dtype=bool)
        for side in ("a", "b"):
            n, e = out[f"persons_{side}"].to_numpy(), out[f"events_{side}"].to_numpy()
            small |= (n < 10) | (e < 10) | (n - e < 10)
        for c in ("persons_a", "events_a", "persons_b", "events_b"):
            out[c] = pd.array(sdc.round_count(out[c].to_numpy().astype(np.int64), 5), dtype="Int64")
            out.loc[small, c] = pd.NA
        out = _hide_floats(out, small, FLOAT_COLUMNS_HIDDEN_WITH_COUNT + ("share_a", "share_b"))
        out["suppressed"] = small
        return out, ("persons_a", "events_a", "persons_b", "events_b")
    if name == "career_quality":
        return df, ()
    if name == "effects":
        out = df.reset_index(drop=True).copy()
        small = (out["n_treated"] < 10) | (out["n_control"] < 10)
        for c in ("n_treated", "n_control"):
            out[c] = pd.array(sdc.round_count(out[c].to_numpy().astype(np.int64), 5), dtype="Int64")
            out.loc[small, c] = pd.NA
        out = _hide_floats(out, small)
        return out, ("n_treated", "n_control")
    if name == "effects_overlap":
        out = sdc.protect_shares(df.assign(on_support=df["n_treated"] - df["n_off_support"]),
                                 numerator="n_off_support", denominator="n_treated")
        out = out.drop(columns=["on_support"])
        return out, ("n_off_support", "n_treated")
    if name == "effects_propensity":
        return sdc.protect_counts(df, by=["programme", "treated"], cell_col="bin", col_totals=False), ("persons",)
    if name in ("risk_set_log", "cleaning_log"):
        col = "starts" if name == "risk_set_log" else "rows"
        return _rows(df, col), (col,)
    if name in ("km", "cumulative_incidence", "reentry_km"):
        d = df[df["time"].isin(CURVE_TIMES)].drop(columns=[c for c in ("events", "censored", "reentered")
                                                           if c in df and c != "persons"], errors="ignore")
        return _rows(d, "persons"), ("persons",)
    if name == "medians":
        return _rows(df.drop(columns=["events"], errors="ignore"), "persons"), ("persons",)
    if name in ("hazards", "cause_specific"):
        counts = [c for c in ("n", "n_events", "term_n", "term_events") if c in df]
        return _rows(df, counts), tuple(counts)
    if name in ("effects_blp", "effects_calibration", "effects_sensitivity", "policy"):
        out = _rows(df, "persons")
        if "interpretation" in out:  # the sentence quotes the bounds: hidden with the floats
            out["interpretation"] = out["interpretation"].astype(object).where(~out["suppressed"], pd.NA)
        return out, ("persons",)
    if name == "effects_plain_language":  # built from the already protected effects table
        return df, ()
    if name in ("effects_balance", "ph_tests", "logrank", "immortal_time"):
        return df, tuple(c for c in ("persons",) if c in df)
    raise KeyError(f"no disclosure plan for output table '{name}': add one in outputs.protect_table")


def write_table(out_dir: Path, name: str, df: pd.DataFrame) -> Path:
    """Protect table ``name`` and write ``out_dir/tables/<name>.csv`` through the disclosure gate."""
    protected, counts = protect_table(name, df)
    return sdc.write_protected_csv(protected, Path(out_dir) / "tables" / f"{name}.csv", name=name,
                                   count_cols=counts)
