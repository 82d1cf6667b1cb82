"""The survival chapter: outflow and re-entry curves by group, medians, competing risks, hazards.

A mixin of :class:`~reintegration_effects.report.Report`; the methods use its state and helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..disclosure import AGGREGATED_GID
from .blocks import (
    Block,
    dim_rank,
    esc,
    format_p,
    group_sort_key,
    label_lines,
    md_escape,
    md_to_html,
    new_figure,
    null_locator,
    report_part,
    wrap_label,
)
from .tables import DESTINATION_COLORS

# --------------------------------------------------------------------------------------------
# SurvivalParts
# --------------------------------------------------------------------------------------------


class SurvivalParts:
    """The survival chapter: outflow and re-entry curves by group, medians, competing risks, hazards."""

    # ================================================================== survival chapter
    @report_part
    def outflow_by_group(self) -> Block:
        km = self.table("km", ["dimension", "group", "time", "survival"])
        if km is None:
            return Block()
        t = self.t
        km = km[km.survival.notna()]
        if km.empty:
            return self._note(t("report.nothing_to_show"))
        panels = ["all"] + self._curve_dimensions(km)
        xmax = min(float(km.time.max()), 72.0)
        fig = self._static_curves(km, panels, value=lambda d: d["survival"], ylab=t("report.share"),
                                  xlab=t("report.months_since_start"), xmax=xmax, ncols=3)
        return self._figure("outflow-groups", t("survival.outflow_caption"), t("survival.outflow_note"), static=fig)

    @report_part
    def medians_table(self) -> Block:
        med = self.table("medians", ["dimension", "group", "median_months"])
        if med is None:
            return Block()
        t = self.t
        rows = []
        for r in sorted(med.itertuples(), key=lambda r: (dim_rank(r.dimension), group_sort_key(r.group))):
            m = r.median_months
            val = t.number(m) if pd.notna(m) and np.isfinite(m) else ("> " + t.number(120) if pd.notna(m) else
                                                                       t("report.suppressed"))
            ci = ""
            if pd.notna(getattr(r, "ci_lower", np.nan)):
                sep = "; " if self.lang == "nl" else ", "
                hi = r.ci_upper
                ci = f"[{t.number(r.ci_lower)}{sep}{t.number(hi) if np.isfinite(hi) else '∞'}]"
            rows.append([t.group(r.group), val, ci, t.count(r.persons) if hasattr(r, "persons") else ""])
        header = [t("typology.group"), t("survival.median"), t("effects.ci"), t("report.spells")]
        return self._table("medians", t("survival.medians_caption"), header, rows, note=t("survival.medians_note"))

    @report_part
    def competing_risks(self) -> Block:
        ci = self.table("cumulative_incidence", ["dimension", "group", "time", "destination", "cumulative_incidence"])
        if ci is None:
            return Block()
        t = self.t
        d = ci[(ci.group == "all") & ci.cumulative_incidence.notna()]
        if d.empty:
            return self._note(t("report.nothing_to_show"))
        fig = new_figure(7.0, 3.0)
        ax = fig.add_subplot()
        for dest in [x for x in ("werk", "elsewhere") if x in set(d.destination)]:
            dd = d[d.destination == dest].sort_values("time")
            color = DESTINATION_COLORS[dest]
            if {"ci_lower", "ci_upper"} <= set(dd.columns):
                ax.fill_between(dd.time, dd.ci_lower.astype(float), dd.ci_upper.astype(float), color=color,
                                alpha=0.15, lw=0)
            ax.plot(dd.time, dd.cumulative_incidence, color=color, lw=2, label=t.destination(dest))
            if dest == "werk" and "one_minus_km" in dd.columns:
                ax.plot(dd.time, dd.one_minus_km, color=color, lw=1.5, ls=":", label="1 − Kaplan-Meier (" +
                        t.destination("werk") + ")")
        ax.set_xlim(0, min(float(d.time.max()), 72.0))
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(self._pct_formatter())
        ax.set_xlabel(t("report.months_since_start"))
        ax.set_ylabel(t("report.share"))
        ax.legend(loc="upper left")
        fig_block = self._figure("competing-risks", t("survival.cif_caption"), t("survival.cif_note"), static=fig)
        text = Block(f'<div class="text aside"><h4>{esc(t("survival.competing_title"))}</h4>'
                     f'{md_to_html(t("survival.competing"))}</div>',
                     f"**{md_escape(t('survival.competing_title'))}** {t('survival.competing')}")
        return fig_block + text

    @report_part
    def reentry_by_group(self) -> Block:
        km = self._reentry()
        if km is None:
            return Block()
        t = self.t
        panels = [d for d in ("destination", "contract") if d in set(km.dimension)] + [
            d for d in self._curve_dimensions(km) if d not in ("destination", "contract")]
        panels = panels or ["all"]  # every group suppressed: the total alone
        xmax = min(float(km.time.max()), 48.0)
        ymax = float(np.nanmax(km["reentered"].to_numpy(dtype=float)))
        fig = self._static_curves(km, panels, value=lambda d: d["reentered"], ylab=t("report.share"),
                                  xlab=t("report.months_since_exit"), xmax=xmax, ncols=3, colors=DESTINATION_COLORS,
                                  band_all=False)
        for ax in fig.axes:
            ax.set_ylim(0, min(1.0, max(0.1, ymax * 1.15)))
        return self._figure("reentry-groups", t("survival.reentry_caption"), t("survival.reentry_note"), static=fig)

    @report_part
    def hazards_chart(self) -> Block:
        hz = self.table("hazards", ["model", "term", "hazard_ratio", "ci_lower", "ci_upper"])
        if hz is None:
            return Block()
        t = self.t
        # the timing-of-events model's terms are shown in the effects chapter, beside matching and DML
        hz = hz[hz.hazard_ratio.notna() & (hz.model != "timing_of_events")]
        if hz.empty:
            return self._note(t("report.nothing_to_show"))
        models = [m for m in ("exit_to_work", "reentry") if m in set(hz.model)] + sorted(
            m for m in set(hz.model) if m not in ("exit_to_work", "reentry"))
        width = 40 if len(models) > 1 else 70
        labels = {m: [wrap_label(t.term(x), width) for x in hz.loc[hz.model == m, "term"].iloc[::-1]] for m in models}
        # rows evenly spaced: each as high as the tallest label
        pitch = max(0.155, 0.11 * max(label_lines(labels[m]) for m in models))
        fig = new_figure(7.0, pitch * max(len(labels[m]) for m in models) + 1.2)
        axes = np.atleast_1d(fig.subplots(1, len(models)))
        for ax, m in zip(axes, models, strict=True):
            d = hz[hz.model == m].iloc[::-1]
            y = np.arange(len(d))
            color = np.where(d.term.str.startswith("programme="), "#0072B2", "#444444")
            ax.errorbar(d.hazard_ratio, y, xerr=[d.hazard_ratio - d.ci_lower, d.ci_upper - d.hazard_ratio],
                        fmt="none", ecolor=color, elinewidth=1)
            ax.scatter(d.hazard_ratio, y, c=color, s=12, zorder=3, gid=AGGREGATED_GID)
            ax.axvline(1, color="#999999", lw=0.8, ls="--")
            ax.set_xscale("log")
            lo = max(float(d.ci_lower.min()), 0.01)
            hi = min(float(d.ci_upper.max()), 100.0)
            ticks = [x for x in (0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10) if lo / 1.5 <= x <= hi * 1.5]
            if len(ticks) > 6:
                ticks = [x for x in ticks if x in (0.1, 0.25, 0.5, 1, 2, 4, 10)]
            ax.set_xticks(ticks, [t.number(x, 2 if x == 0.25 else 1 if x < 1 else 0) for x in ticks])
            ax.xaxis.set_minor_locator(null_locator())
            ax.set_yticks(y, labels[m], fontsize=6.5)
            ax.set_title(t.get(f"survival.model.{m}", m))
            ax.grid(axis="y", visible=False)
        return self._figure("hazard-ratios", t("survival.hazards_caption"), t("survival.hazards_note"), static=fig)

    @report_part
    def ph_tests(self) -> Block:
        ph = self.table("ph_tests", ["model", "term", "p_value"])
        if ph is None:
            return Block()
        t = self.t
        conc = []
        if "concordance" in ph.columns:
            for m, c in ph.groupby("model", sort=False)["concordance"].first().items():
                if pd.notna(c):
                    conc.append(f"{t.get(f'survival.model.{m}', m)} {t.number(c, 2)}")
        conc_txt = ", ".join(conc) or "—"
        fails = ph[ph["fails"].astype(str).isin(["True", "true", "1"])] if "fails" in ph.columns else ph[ph.p_value < 0.05]
        if fails.empty:
            return self.text("survival.ph_none", concordance=conc_txt)
        rows = [[t.get(f"survival.model.{r.model}", r.model), t.term(r.term), format_p(t, r.p_value),
                 t("survival.rec_programme") if str(r.term).startswith(("programme=", "lock_in="))
                 else t("survival.rec_control")] for r in fails.itertuples()]
        header = [t("survival.model"), t("survival.term"), t("survival.p_value"), t("survival.recommendation")]
        tests = ph["test"].dropna().astype(str).unique() if "test" in ph.columns else []
        used = t.join(dict.fromkeys(t(f"survival.ph_test.{'score' if 'score' in x else 'schoenfeld'}") for x in tests))
        note = t("survival.ph_note", concordance=conc_txt) + (" " + t("survival.ph_tests_used", tests=used) if used else "")
        return self._table("ph-tests", t("survival.ph_caption"), header, rows, note=note,
                           align=["left", "left", "right", "left"])

    @report_part
    def immortal_time(self) -> Block:
        it = self.table("immortal_time", ["programme", "hazard_ratio", "hazard_ratio_ever"])
        text = self.section("survival.immortal_title") + self.text("methods.immortal")
        if it is None:
            return text
        t = self.t
        rows = []
        for r in it.itertuples():
            sep = "; " if self.lang == "nl" else ", "
            tv = f"{t.number(r.hazard_ratio, 2)} [{t.number(r.ci_lower, 2)}{sep}{t.number(r.ci_upper, 2)}]"
            ev = f"{t.number(r.hazard_ratio_ever, 2)} [{t.number(r.ci_lower_ever, 2)}{sep}{t.number(r.ci_upper_ever, 2)}]" \
                if hasattr(r, "ci_lower_ever") else t.number(r.hazard_ratio_ever, 2)
            rows.append([t.programme(r.programme), tv, ev])
        header = [t("effects.programme"), t("survival.hr_time_varying"), t("survival.hr_ever")]
        return text + self._table("immortal-time", t("survival.immortal_caption"), header, rows,
                                  note=t("survival.immortal_note"))
