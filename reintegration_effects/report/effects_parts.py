"""The effects chapter and the methods appendix.

A mixin of :class:`~reintegration_effects.report.Report`; the methods use its state and helpers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..disclosure import AGGREGATED_GID
from .blocks import (
    Block,
    bin_lower,
    draw_intervals,
    esc,
    group_sort_key,
    interval_limits,
    label_lines,
    md_escape,
    new_figure,
    report_part,
    wrap_html,
    wrap_label,
)
from .duration_parts import is_duration_outcome
from .tables import MAIN_METHOD, MAIN_OUTCOME, METHOD_ORDER, OUTCOME_ORDER, PALETTE

# --------------------------------------------------------------------------------------------
# EffectsParts
# --------------------------------------------------------------------------------------------


class EffectsParts:
    """The effects chapter and the methods appendix."""

    # ================================================================== effects chapter
    @report_part
    def effects_overview(self) -> Block:
        """For all participants: every outcome, the three methods side by side."""
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate"])
        if eff is None:
            return Block()
        t = self.t
        d = eff[(eff.group == "all") & ~eff.outcome.map(is_duration_outcome)]  # restricted means: rmst_table
        programmes = sorted(d.programme.unique())
        methods = [m for m in METHOD_ORDER if m in set(d.method)]
        blocks = []
        for outcome in [o for o in OUTCOME_ORDER if o in set(d.outcome)] + sorted(set(d.outcome) - set(OUTCOME_ORDER)):
            rows_h, rows_m = [], []
            for p in programmes:
                cells_h = [f'<td class="left">{esc(t.programme(p))}</td>']
                cells_m = [md_escape(t.programme(p))]
                for m in methods:
                    r = d[(d.programme == p) & (d.outcome == outcome) & (d.method == m)]
                    if r.empty:
                        x = t("report.suppressed")
                        cells_h.append(f'<td class="effect na">{x}</td>')
                        cells_m.append(x)
                        continue
                    cell, md, cls = self._effect_cell(r.iloc[0])
                    cells_h.append(f'<td class="effect {cls}">{cell}</td>')
                    cells_m.append(md)
                rows_h.append("<tr>" + "".join(cells_h) + "</tr>")
                rows_m.append(cells_m)
            unit = t("effects.months_unit") if outcome == "months_bijstand_18m" else t("effects.pp")
            header = [t("effects.programme")] + [f"{t.method(m)} ({unit})" for m in methods]
            blocks.append(self._table(f"effects-{outcome}", t("effects.table_caption", outcome=t.outcome(outcome)),
                                      header, [], md_rows=rows_m, html_rows=rows_h,
                                      align=["left"] + ["right"] * len(methods)))
        return Block.join(blocks)

    @report_part
    def effects_forest(self) -> Block:
        """DML effects on sustainable outflow per group: plotly with a programme menu; static panels."""
        import plotly.graph_objects as go

        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper"])
        if eff is None:
            return Block()
        t = self.t
        d = eff[(eff.outcome == MAIN_OUTCOME) & (eff.method == MAIN_METHOD) & eff.estimate.notna()]
        if d.empty:
            return Block()
        programmes = sorted(d.programme.unique())
        groups = sorted(d.group.unique(), key=group_sort_key)
        # one axis for every programme, scaled to the estimates and the intervals of the groups that are
        # not tiny; a wider interval is cut at the axis with an arrow (the note says so)
        xlim = interval_limits(100 * d.estimate, 100 * d.ci_lower, 100 * d.ci_upper)
        cut = 0
        fig = go.Figure()
        owner = []
        ylab_html = [wrap_html(t.group(g), 34) for g in groups]
        for i, p in enumerate(programmes):
            dd = d[d.programme == p].set_index("group").reindex(groups)
            est = 100 * dd.estimate
            custom = [f"{esc(t.programme(p))}, {esc(t.group(g))}: {t.pp(r.estimate)} {self._ci(r.ci_lower, r.ci_upper)}"
                      if pd.notna(r.estimate) else "" for g, r in dd.iterrows()]
            fig.add_trace(go.Scatter(
                x=est, y=ylab_html, mode="markers", name=t.programme(p), visible=(i == 0), meta=AGGREGATED_GID,
                marker=dict(color=PALETTE[0], size=8),
                error_x=dict(type="data", symmetric=False, array=100 * (dd.ci_upper - dd.estimate),
                             arrayminus=100 * (dd.estimate - dd.ci_lower), color=PALETTE[0], thickness=1.5),
                customdata=custom, hovertemplate="%{customdata}<extra></extra>"))
            owner.append(p)
            for side, edge, symbol in (("ci_lower", xlim[0], "triangle-left"), ("ci_upper", xlim[1], "triangle-right")):
                out = (100 * dd[side] < edge) if side == "ci_lower" else (100 * dd[side] > edge)
                out = out.fillna(False).to_numpy()
                fig.add_trace(go.Scatter(x=[edge] * int(out.sum()), y=[y for y, o in zip(ylab_html, out, strict=True) if o],
                                         mode="markers", meta=AGGREGATED_GID, visible=(i == 0), hoverinfo="skip",
                                         marker=dict(color=PALETTE[0], size=9, symbol=symbol), cliponaxis=False))
                owner.append(p)
        buttons = [dict(label=wrap_html(t.programme(p), 40), method="update",
                        args=[{"visible": [q == p for q in owner]}]) for p in programmes]
        fig.update_layout(**self._plotly_layout(height=max(380, 22 * sum(x.count("<br>") + 1 for x in ylab_html) + 120)),
                          showlegend=False, updatemenus=[self._menu(buttons, 0)])
        fig.add_vline(x=0, line_color="#888888", line_dash="dash")
        fig.update_yaxes(autorange="reversed", automargin=True)
        fig.update_xaxes(title=t("effects.axis_pp"), range=list(xlim))
        # static: one panel per programme, groups on the y axis
        ncols = min(len(programmes), 4)
        nrows = math.ceil(len(programmes) / ncols)
        ylab = [wrap_label(t.group(g), 30) for g in groups]
        pitch = max(0.14, 0.105 * label_lines(ylab))
        fig_s = new_figure(7.0, (pitch * len(groups) + 1.0) * nrows)
        axes = np.atleast_1d(fig_s.subplots(nrows, ncols, sharey=True, sharex=True, squeeze=False)).ravel()
        for ax, p in zip(axes, programmes, strict=False):
            dd = d[d.programme == p].set_index("group").reindex(groups)
            y = np.arange(len(groups))[::-1]
            cut += draw_intervals(ax, 100 * dd.estimate, y, 100 * dd.ci_lower, 100 * dd.ci_upper, color=PALETTE[0],
                                  xlim=xlim, fmt=lambda v: t.number(v, 1))
            ax.axvline(0, color="#888888", lw=0.8, ls="--")
            ax.set_yticks(y, ylab, fontsize=6.5)
            ax.set_ylim(-0.6, len(groups) - 0.4)
            ax.set_title(t.programme(p))
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_formatter(self._num_formatter())
        for ax in axes[len(programmes):]:
            ax.set_visible(False)
        fig_s.supxlabel(t("effects.axis_pp"), fontsize=8.5)
        note = t("effects.forest_note") + (" " + t("report.interval_cut") if cut else "")
        return self._figure("effects-forest", t("effects.forest_caption"), note, static=fig_s, plotly=fig,
                            html_note=note + " " + t("report.use_menu_programme"))

    @report_part
    def effects_methods_chart(self) -> Block:
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper"])
        if eff is None:
            return Block()
        t = self.t
        d = eff[(eff.group == "all") & eff.estimate.notna() & ~eff.outcome.map(is_duration_outcome)]
        outcomes = [o for o in OUTCOME_ORDER if o in set(d.outcome)] + sorted(set(d.outcome) - set(OUTCOME_ORDER))
        programmes = sorted(d.programme.unique())
        methods = [m for m in METHOD_ORDER if m in set(d.method)]
        if not outcomes:
            return Block()
        ncols = 2
        nrows = math.ceil(len(outcomes) / ncols)
        ylab = [wrap_label(t.programme(p), 24) for p in programmes]
        pitch = max(0.35, 0.11 * label_lines(ylab) + 0.1)
        fig = new_figure(7.0, (pitch * len(programmes) + 1.1) * nrows + 0.4)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, squeeze=False)).ravel()
        colors = {"naive": "#999999", "matching": PALETTE[1], "dml": PALETTE[0]}
        cut = 0
        for ax, o in zip(axes, outcomes, strict=False):
            scale = 1.0 if o == "months_bijstand_18m" else 100.0
            y0 = np.arange(len(programmes))[::-1]
            do = d[d.outcome == o]
            xlim = interval_limits(scale * do.estimate, scale * do.ci_lower, scale * do.ci_upper)
            for k, m in enumerate(methods):
                dd = do[do.method == m].set_index("programme").reindex(programmes)
                cut += draw_intervals(ax, scale * dd.estimate, y0 + (1 - k) * 0.22, scale * dd.ci_lower,
                                      scale * dd.ci_upper, color=colors.get(m, "#444"), xlim=xlim, size=12,
                                      label=t.method(m), fmt=lambda v: t.number(v, 1))
            ax.axvline(0, color="#888888", lw=0.8, ls="--")
            ax.set_yticks(y0, ylab)
            ax.set_ylim(-0.6, len(programmes) - 0.4)
            ax.set_title(t.outcome(o), fontsize=8)
            ax.set_xlabel(t("effects.months_unit") if scale == 1 else t("effects.pp"), fontsize=7.5)
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_formatter(self._num_formatter())
        for ax in axes[len(outcomes):]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
        note = t("effects.methods_note") + (" " + t("report.interval_cut") if cut else "")
        return self._figure("effects-methods", t("effects.methods_caption"), note, static=fig)

    @report_part
    def blp_table(self) -> Block:
        """How the effect differs between groups, all group characteristics at once (best linear projection)."""
        blp = self.table("effects_blp", ["programme", "term", "estimate", "ci_lower", "ci_upper"])
        if blp is None:
            return Block()
        t = self.t
        d = blp[blp.estimate.notna()] if "target" not in blp or not (blp.target == "treated").any() else \
            blp[(blp.target == "treated")]
        if "outcome" in d.columns and (d.outcome == MAIN_OUTCOME).any():
            d = d[d.outcome == MAIN_OUTCOME]
        programmes = sorted(d.programme.unique())
        terms = list(dict.fromkeys(d.term))
        header = [t("effects.term")] + [t.programme(p) for p in programmes]
        rows_h, rows_m = [], []
        for term in terms:
            label = t("effects.intercept") if term == "intercept" else t.group(term)
            cells_h, cells_m = [f'<td class="left">{esc(label)}</td>'], [md_escape(label)]
            for p in programmes:
                r = d[(d.programme == p) & (d.term == term)]
                if r.empty:
                    cells_h.append('<td class="effect na">x</td>')
                    cells_m.append("x")
                    continue
                r = r.iloc[0].to_dict()
                r["n_treated"] = r.get("persons")
                cell, md, cls = self._effect_cell({**r, "outcome": MAIN_OUTCOME})
                cells_h.append(f'<td class="effect {cls}">{cell}</td>')
                cells_m.append(md)
            rows_h.append("<tr>" + "".join(cells_h) + "</tr>")
            rows_m.append(cells_m)
        ref = d.loc[d.term == "intercept", "reference"].dropna() if "reference" in d.columns else pd.Series([], dtype=object)
        ref_txt = ", ".join(t.group(x.strip()) for x in str(ref.iloc[0]).split(",")) if len(ref) else "—"
        return self._table("blp", t("effects.blp_caption"), header, [], md_rows=rows_m, html_rows=rows_h,
                           note=t("effects.blp_note", reference=ref_txt), align=["left"] + ["right"] * len(programmes))

    @report_part
    def sensitivity_table(self) -> Block:
        """Robustness to hidden confounding: robustness values and bounds per programme."""
        from ..plain_language import pct

        se = self.table("effects_sensitivity", ["programme", "estimate", "robustness_value"])
        if se is None:
            return Block()
        t = self.t
        d = se[se.estimate.notna()]
        if "outcome" in d.columns and (d.outcome == MAIN_OUTCOME).any():
            d = d[d.outcome == MAIN_OUTCOME]
        rows = []
        for r in d.sort_values("programme").itertuples():
            bounds = self._ci(getattr(r, "sensitivity_ci_lower", np.nan), getattr(r, "sensitivity_ci_upper", np.nan))
            rows.append([t.programme(r.programme), f"{t.pp(r.estimate)} {self._ci(r.ci_lower, r.ci_upper)}",
                         pct(r.robustness_value, self.lang) if pd.notna(r.robustness_value) else t("report.suppressed"),
                         bounds])
        strength = d["c_y"].dropna() if "c_y" in d.columns else pd.Series([], dtype=float)
        header = [t("effects.programme"), f"{t('effects.estimate')} ({t('effects.pp')})", t("effects.rv"),
                  t("effects.bounds", strength=t.percent(strength.iloc[0]) if len(strength) else "?")]
        return self._table("sensitivity", t("effects.sensitivity_caption"), header, rows,
                           note=t("effects.sensitivity_note"))

    @report_part
    def policy_table(self) -> Block:
        """The depth-2 policy tree: which programme for which group, and what it would gain."""
        po = self.table("policy", ["leaf", "group", "programme", "estimate"])
        if po is None:
            return Block()
        t = self.t
        tg = self.targeting()
        if not tg["detected"]:  # no detectable heterogeneity: no basis for a targeting rule, so none is shown
            return self.section("effects.policy_title") + self._paragraphs(
                t("summary.targeting_no") if tg["tested"] else t("effects.policy_untested"))
        d = po[po.estimate.notna() | (po.leaf.astype(str) != "all")]
        rows = []
        for r in d.itertuples():
            is_all = str(r.leaf) == "all"
            who = t.group("all") if is_all else self._group_expression(str(r.group))
            effect = getattr(r, "effect", np.nan)
            # never a programme whose estimated effect in the group is not positive as a recommendation
            none = r.programme == "none" or (pd.notna(effect) and effect <= 0)
            prog = t("effects.policy_total") if is_all else (
                t("effects.no_programme") if none else t.programme(r.programme))
            gain = f"{t.pp(r.estimate)} {self._ci(r.ci_lower, r.ci_upper)}" if pd.notna(r.estimate) else t("report.suppressed")
            eff = ""
            if not is_all and pd.notna(getattr(r, "effect", np.nan)):
                eff = f"{t.pp(r.effect)} {self._ci(getattr(r, 'effect_ci_lower', np.nan), getattr(r, 'effect_ci_upper', np.nan))}"
            rows.append([who, prog, t.count(r.persons) if pd.notna(getattr(r, "persons", np.nan)) else "", eff, gain])
        header = [t("dashboard.programme_row"), t("effects.recommended"), t("report.persons"), t("effects.policy_effect"),
                  t("effects.policy_gain")]
        return self._table("policy", t("effects.policy_caption"), header, rows, note=t("effects.policy_note"),
                           align=["left", "left", "right", "right", "right"])

    def _group_expression(self, expr: str) -> str:
        """'age=50+; sex=F|sex=M' -> 'aged 50 and over and women or men' in words."""
        and_ = " en " if self.lang == "nl" else " and "
        or_ = " of " if self.lang == "nl" else " or "
        return and_.join(or_.join(self.t.group(g.strip()) for g in part.split("|")) for part in expr.split(";"))

    @report_part
    def calibration_table(self) -> Block:
        ca = self.table("effects_calibration", ["programme", "group", "estimate"])
        if ca is None:
            return Block()
        t = self.t
        d = ca[ca.estimate.notna()]
        if "outcome" in d.columns and (d.outcome == MAIN_OUTCOME).any():
            d = d[d.outcome == MAIN_OUTCOME]
        groups = [g for g in dict.fromkeys(d.group) if g != "slope"]
        programmes = sorted(d.programme.unique())
        header = [t("effects.programme")] + [f"{g}" for g in groups] + [t("effects.slope")]
        rows = []
        for p in programmes:
            row = [t.programme(p)]
            for g in groups:
                r = d[(d.programme == p) & (d.group == g)]
                row.append(f"{t.pp(r.estimate.iloc[0])}" if len(r) else t("report.suppressed"))
            r = d[(d.programme == p) & (d.group == "slope")]
            row.append(f"{t.number(r.estimate.iloc[0], 2)} {self._ci(r.ci_lower.iloc[0], r.ci_upper.iloc[0], 2, 1.0)}"
                       if len(r) else t("report.suppressed"))
            rows.append(row)
        return self._table("calibration", t("effects.calibration_caption"), header, rows,
                           note=t("effects.calibration_note"))

    @report_part
    def balance_chart(self) -> Block:
        b = self.table("effects_balance", ["programme", "covariate", "smd_before", "smd_after"])
        if b is None:
            return Block()
        t = self.t
        programmes = sorted(b.programme.unique())
        covs = list(dict.fromkeys(b.covariate))
        ncols = min(len(programmes), 4)
        nrows = math.ceil(len(programmes) / ncols)
        ylab = [wrap_label(t.covariate(c), 34) for c in covs]
        pitch = max(0.13, 0.095 * label_lines(ylab))
        fig = new_figure(7.0, (pitch * len(covs) + 0.9) * nrows + 0.3)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, sharex=True, squeeze=False)).ravel()
        for ax, p in zip(axes, programmes, strict=False):
            d = b[b.programme == p].set_index("covariate").reindex(covs)
            y = np.arange(len(covs))[::-1]
            ax.scatter(d.smd_before.abs(), y, facecolors="none", edgecolors="#999999", s=12, gid=AGGREGATED_GID,
                       label=t("effects.before"))
            ax.scatter(d.smd_after.abs(), y, color=PALETTE[0], s=12, gid=AGGREGATED_GID, label=t("effects.after"))
            ax.axvline(0.1, color="#888888", lw=0.8, ls=":")
            ax.set_yticks(y, ylab, fontsize=6)
            ax.set_ylim(-0.6, len(covs) - 0.4)
            ax.set_title(t.programme(p))
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_formatter(self._num_formatter(1))
        for ax in axes[len(programmes):]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=2)
        return self._figure("balance", t("effects.balance_caption"), t("effects.balance_note"), static=fig)

    @report_part
    def overlap_table(self) -> Block:
        ov = self.table("effects_overlap", ["programme", "group", "n_treated"])
        if ov is None:
            return Block()
        t = self.t
        d = ov[ov.group == "all"]
        if "method" in d.columns:
            d = d[d.method == MAIN_METHOD] if (d.method == MAIN_METHOD).any() else d
        rows = []
        for r in d.sort_values("programme").itertuples():
            off = getattr(r, "n_off_support", np.nan)
            rows.append([t.programme(r.programme), t.count(r.n_treated),
                         t.count(off) if pd.notna(off) else t("report.fewer_than_10")])
        header = [t("effects.programme"), t("effects.n_treated"), t("effects.n_off_support")]
        return self._table("overlap", t("effects.overlap_caption"), header, rows, note=t("effects.overlap_note"))

    @report_part
    def propensity_chart(self) -> Block:
        pr = self.table("effects_propensity", ["programme", "treated", "bin", "persons"])
        if pr is None:
            return Block()
        t = self.t
        pr = pr.copy()
        pr["treated"] = pr.treated.astype(str).isin(["True", "true", "1"])
        pr["lower"] = pr["bin"].map(bin_lower)
        programmes = sorted(pr.programme.unique())
        ncols = min(len(programmes), 2)
        nrows = math.ceil(len(programmes) / ncols)
        fig = new_figure(7.0, 1.9 * nrows + 0.5)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, p in zip(axes, programmes, strict=False):
            d = pr[pr.programme == p]
            used = d[d.persons.fillna(0) > 0]
            bins = sorted(b_ for b_ in d.lower.dropna().unique() if b_ <= used.lower.max())
            d = d[d.lower.isin(bins)]
            idx = {b_: i for i, b_ in enumerate(bins)}
            for treated, color, off in ((False, "#999999", -0.2), (True, PALETTE[0], 0.2)):
                dd = d[d.treated == treated]
                tot = dd.persons.sum()
                if not tot:
                    continue
                x = np.array([idx[v] for v in dd.lower]) + off
                ax.bar(x, (dd.persons.fillna(0) / tot).to_numpy(), width=0.4, color=color,
                       label=t("typology.participants") if treated else t("typology.non_participants"))
            step = max(1, len(bins) // 5)
            ax.set_xticks(range(0, len(bins), step), [t.number(bins[i], 2) for i in range(0, len(bins), step)])
            ax.set_title(t.programme(p))
            ax.yaxis.set_major_formatter(self._pct_formatter())
            ax.grid(axis="x", visible=False)
        for ax in axes[len(programmes):]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=2)
        return self._figure("propensity", t("effects.propensity_caption"), t("effects.propensity_note"), static=fig)

    @report_part
    def risk_set_log(self) -> Block:
        log = self.table("risk_set_log", ["item", "starts"])
        if log is None:
            return Block()
        t = self.t
        rows = [[t.risk_item(r.item), t.count(r.starts) if pd.notna(r.starts) else t("report.suppressed")]
                for r in log.itertuples()]
        return self._table("risk-set-log", t("effects.risk_log_caption"), ["", t("effects.risk_item")], rows,
                           note=t("report.disclosure_short"))

    # ================================================================== methods appendix
    @report_part
    def methods(self) -> Block:
        t = self.t
        parts = [self.text("methods.intro")]
        for key in ("estimand", "outcomes", "assumptions", "estimators", "duration", "toe"):
            parts += [self.section(f"methods.{key}_title"), self.text(f"methods.{key}")]
        # competing risks and immortal time are explained once, in the survival chapter (not repeated here)
        parts += [self.section("methods.disclosure_title"), self.text("methods.disclosure")]
        parts += [self.section("methods.references_title"), self.text("methods.references")]
        del t
        return Block.join(parts)
