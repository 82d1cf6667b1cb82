"""The benchmark chapter (issue 16a): the own municipality against the others.

Functions of a :class:`~reintegration_effects.report.Report` (the notebook ``analyses/06_benchmark.py``
calls them with its report): a funnel plot per share indicator and a ranked table with intervals,
from the protected ``benchmark.csv`` only. Without that table the chapter says why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..disclosure import AGGREGATED_GID
from .blocks import Block, report_part

SHARES = ("outflow_to_work", "sustainable_outflow", "reentry_12m")
ORDER = (*SHARES, "median_duration")
Z = (1.959963984540054, 3.090232306167813)


def _table(report) -> pd.DataFrame | None:
    return report.table("benchmark", ["municipality", "indicator", "persons", "observed", "expected", "difference"])


def _own(df: pd.DataFrame) -> pd.Series:
    return df["own"].astype(str).str.lower().isin(["true", "1"]) if "own" in df else pd.Series(False, index=df.index)


@report_part
def absent_note(report) -> Block:
    """A clear sentence when there is no benchmark (no municipality column, or one municipality)."""
    return report._note(report.t("benchmark.absent")) if _table(report) is None else Block()


@report_part
def funnel(report, indicator: str = "outflow_to_work") -> Block:
    """Funnel plot: observed - expected (percentage points) against persons, 95% / 99.8% control limits
    (the half-widths ``control_95``/``control_998`` of the table; drawn as a smooth funnel through the
    pooled rate they imply)."""
    df = _table(report)
    if df is None:
        return Block()
    t = report.t
    d = df[(df["indicator"] == indicator) & df["difference"].notna()]
    if d.empty:
        return report._note(t("report.nothing_to_show"))
    n = d["observations"].astype(float) if "observations" in d else d["persons"].astype(float)
    fig = report_figure()
    ax = fig.add_subplot()
    if "control_95" in d and d["control_95"].notna().any():
        i = d["control_95"].astype(float).idxmax()
        p0q = (float(d.loc[i, "control_95"]) / Z[0]) ** 2 * float(n.loc[i])  # p0 (1 - p0)
        grid = np.linspace(max(float(n.min()) * 0.7, 5.0), float(n.max()) * 1.15, 200)
        for z, ls in zip(Z, ("--", ":"), strict=True):
            half = 100 * z * np.sqrt(p0q / grid)
            ax.plot(grid, half, color="grey", ls=ls, lw=1)
            ax.plot(grid, -half, color="grey", ls=ls, lw=1)
    own = _own(d)
    ax.scatter(n[~own], 100 * d.loc[~own, "difference"].astype(float), color="#0072B2", s=28, gid=AGGREGATED_GID)
    if own.any():
        ax.scatter(n[own], 100 * d.loc[own, "difference"].astype(float), color="#D55E00", s=60, marker="D",
                   gid=AGGREGATED_GID, label=t("benchmark.own"))
        ax.legend(loc="upper right")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel(t("benchmark.x_label"))
    ax.set_ylabel(t("benchmark.y_label"))
    caption = t("benchmark.funnel_caption", indicator=t(f"benchmark.{indicator}"))
    return report._figure(f"benchmark-funnel-{indicator}", caption, t("benchmark.funnel_note"), static=fig)


def report_figure():
    from .blocks import new_figure

    return new_figure(6.5, 3.4)


@report_part
def ranking(report) -> Block:
    """Per indicator, municipalities ranked by observed - expected, with the interval and the rank's interval."""
    df = _table(report)
    if df is None:
        return Block()
    t = report.t
    rows = []
    for ind in [i for i in ORDER if i in set(df["indicator"])]:
        d = df[df["indicator"] == ind].copy()
        d = d.sort_values("rank" if "rank" in d else "difference", ascending="rank" in d)
        share = ind in SHARES
        scale, dec = (100.0, 1) if share else (1.0, 0)
        for r, own in zip(d.itertuples(), _own(d), strict=True):
            name = r.municipality + (f" ({t('benchmark.own')})" if own else "")
            rank = ""
            if pd.notna(getattr(r, "rank", np.nan)):
                rank = t.number(r.rank, 0)
                if pd.notna(getattr(r, "rank_ci_lower", np.nan)):
                    rank += f" [{t.number(r.rank_ci_lower, 0)}–{t.number(r.rank_ci_upper, 0)}]"
            rows.append([t(f"benchmark.{ind}"), name, t.count(r.persons),
                         t.number(scale * r.observed, dec), t.number(scale * r.expected, dec),
                         t.number(scale * r.difference, dec) + " " + report._ci(r.ci_lower, r.ci_upper, dec, scale),
                         rank])
    header = [t("benchmark.indicator"), t("benchmark.municipality"), t("benchmark.persons"), t("benchmark.observed"),
              t("benchmark.expected"), t("benchmark.difference"), t("benchmark.rank")]
    return report._table("benchmark-ranking", t("benchmark.ranking_caption"), header, rows,
                         note=t("benchmark.ranking_note"), align=["left", "left", "right", "right", "right", "right",
                                                                   "right"])


class BenchmarkParts:
    """The same parts as a mixin of :class:`~reintegration_effects.report.Report` (add it to the class's
    bases in ``report/parts.py``; the notebook can then call ``report.benchmark_funnel(...)``)."""

    def benchmark_absent(self) -> Block:
        return absent_note(self)

    def benchmark_funnel(self, indicator: str = "outflow_to_work") -> Block:
        return funnel(self, indicator)

    def benchmark_ranking(self) -> Block:
        return ranking(self)
