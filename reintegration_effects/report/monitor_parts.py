"""The monitor chapters: flows, typology and careers.

A mixin of :class:`~reintegration_effects.report.Report`; the methods use its state and helpers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..disclosure import AGGREGATED_GID
from .blocks import (
    Block,
    esc,
    group_sort_key,
    new_figure,
    profile_rows,
    report_part,
    stacked_counts,
    suppressed_handle,
    wrap_html,
    wrap_label,
)
from .participation_parts import ParticipationParts
from .tables import (
    DESTINATION_COLORS,
    GROUP_DIMENSIONS,
    STATE_COLORS,
    STATE_ORDER,
    STATUS_COLORS,
    STATUS_ORDER,
    TYPE_COLORS,
    TYPE_ORDER,
)

# --------------------------------------------------------------------------------------------
# MonitorParts
# --------------------------------------------------------------------------------------------


class MonitorParts(ParticipationParts):
    """The monitor chapters: flows, typology and careers (participation beyond paid work: ParticipationParts)."""

    # ================================================================== flows chapter
    @report_part
    def flows_overview(self, kind: str = "outflow") -> Block:
        """Every cohort of ``kind``: a table at the longest horizon and bars at every horizon."""
        flows = self.table("flows", ["cohort", "horizon_months", "status", "persons"])
        cohorts = self._cohorts(kind)
        if flows is None or not cohorts:
            return Block()
        t = self.t
        h = int(flows.loc[flows.cohort.isin(cohorts), "horizon_months"].max())
        d = flows[flows.cohort.isin(cohorts) & (flows.horizon_months == h)]
        m = d.pivot_table(index="cohort", columns="status", values="persons", aggfunc="first", dropna=False)
        statuses = [s for s in STATUS_ORDER if s in m.columns]
        rows = []
        for c in cohorts:
            if c not in m.index:
                continue
            vals = [m.loc[c, s] for s in statuses]
            rows.append([t.cohort(c, short=True)] + [t.count(v) for v in vals])
        header = [t("flows.cohort")] + [t.status(s) for s in statuses]
        table = self._table(f"flows-{kind}", t(f"flows.{kind}_caption", h=h), header, rows,
                            note=t("report.disclosure_short"))
        # bars: persons per status, one panel per horizon; a suppressed cell is an x, never a zero
        horizons = sorted(int(x) for x in flows.loc[flows.cohort.isin(cohorts), "horizon_months"].unique())
        fig = new_figure(7.0, 0.9 + 0.22 * len(cohorts) * 1.0 + 0.6)
        axes = np.atleast_1d(fig.subplots(1, len(horizons), sharey=True))
        sel = flows[flows.cohort.isin(cohorts)]
        top = float(sel.groupby(["cohort", "horizon_months"])["persons"].sum().max() or 1)
        for ax, hh in zip(axes, horizons, strict=True):
            dd = sel[sel.horizon_months == hh]
            mm = dd.pivot_table(index="cohort", columns="status", values="persons", aggfunc="first", dropna=False)
            mm = mm.reindex([c for c in cohorts if c in mm.index])[[s for s in statuses if s in mm.columns]]
            stacked_counts(ax, mm, STATUS_COLORS, {s: t.status(s) for s in statuses}, max_count=top)
            ax.set_yticks(np.arange(len(mm))[::-1], [t.cohort(c, short=True) for c in mm.index])
            ax.set_title(t("report.horizon", h=hh))
            ax.grid(axis="y", visible=False)
        handles, labels = axes[0].get_legend_handles_labels()
        handles.append(suppressed_handle(t("report.suppressed_mark")))
        fig.legend(handles, [*labels, t("report.suppressed_mark")], loc="outside lower center", ncols=len(handles))
        for ax in axes:
            ax.set_xlabel(t("report.n_persons"), fontsize=7.5)
        fig_block = self._figure(f"flows-bars-{kind}", t("flows.bars_caption", kind=t(f"flows.kind.{kind}"),
                                                          horizons=t.join(horizons)), static=fig)
        return table + fig_block

    @report_part
    def flows_by_group(self, kind: str = "outflow") -> Block:
        """Status at the longest horizon by target group: plotly bars with a menu by dimension."""
        import plotly.graph_objects as go

        fg = self.table("flows_by_group", ["cohort", "horizon_months", "dimension", "group", "status", "persons"])
        cohort = self.main_cohort(kind, "flows_by_group") if fg is not None else None
        if fg is None or cohort is None:
            return Block()
        t = self.t
        d = fg[fg.cohort == cohort]
        h = int(d.horizon_months.max())
        d = d[d.horizon_months == h]
        dims = [x for x in GROUP_DIMENSIONS if x in set(d.dimension)] + sorted(
            x for x in set(d.dimension) if x not in GROUP_DIMENSIONS)
        statuses = [s for s in STATUS_ORDER if s in set(d.status)]
        counts = {}  # every group of each dimension, also one whose every cell is suppressed
        for dim in dims:
            m = d[d.dimension == dim].pivot_table(index="group", columns="status", values="persons", aggfunc="first",
                                                  dropna=False)
            counts[dim] = m.reindex(sorted(m.index, key=group_sort_key))[[s for s in statuses if s in m.columns]]
        top = max(float(m.sum(axis=1).max()) if len(m) else 0.0 for m in counts.values()) or 1.0
        step = 0.035 * top
        fig = go.Figure()
        owner = []
        for dim in dims:
            m = counts[dim]
            labels = [wrap_html(t.group(g), 34) for g in m.index]
            for s in m.columns:
                custom = [f"{esc(t.group(g))}: {t.status(s)} {t.count(v)} {t('report.persons').lower()}"
                          for g, v in m[s].items()]
                fig.add_trace(go.Bar(y=labels, x=m[s].astype(float).where(m[s].notna(), None), orientation="h",
                                     name=t.status(s), marker_color=STATUS_COLORS[s], visible=(dim == dims[0]),
                                     showlegend=(dim == dims[0]), legendgroup=s, customdata=custom,
                                     hovertemplate="%{customdata}<extra></extra>"))
                owner.append(dim)
            # suppressed cells: an x after the bar, in the status' colour
            xs, ys, cs, hv = [], [], [], []
            ends = m.fillna(0).sum(axis=1)
            for lab, (g, row) in zip(labels, m.iterrows(), strict=True):
                gone = [s for s in m.columns if pd.isna(row[s])]
                for k, s in enumerate(gone):
                    xs.append(float(ends[g]) + step * (k + 0.8))
                    ys.append(lab)
                    cs.append(STATUS_COLORS[s])
                    hv.append(f"{esc(t.group(g))}: {t.status(s)} {t('report.suppressed_part')} (x)")
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", meta=AGGREGATED_GID, name=t("report.suppressed_mark"),
                                     marker=dict(symbol="x-thin", size=9, line=dict(width=2, color=cs), color=cs),
                                     visible=(dim == dims[0]), showlegend=(dim == dims[0]), legendgroup="suppressed",
                                     customdata=hv, hovertemplate="%{customdata}<extra></extra>"))
            owner.append(dim)
        buttons = [dict(label=t.dimension(x).capitalize(), method="update",
                        args=[{"visible": [o == x for o in owner], "showlegend": [o == x for o in owner]}])
                   for x in dims]
        n_lines = max(sum(lab.count("<br>") + 1 for lab in (wrap_html(t.group(g), 34) for g in counts[x].index))
                      for x in dims)
        fig.update_layout(**self._plotly_layout(height=170 + 34 * n_lines), barmode="stack", bargap=0.35,
                          updatemenus=[self._menu(buttons, 0)])
        fig.update_xaxes(title=t("report.n_persons"), range=[0, 1.12 * top], tickformat=",d")
        fig.update_yaxes(autorange="reversed", automargin=True)
        # static: one panel per dimension, all on one scale
        ncols = 2
        nrows = math.ceil(len(dims) / ncols)
        ylabels = {x: [wrap_label(t.group(g), 24) for g in counts[x].index] for x in dims}
        heights = [max(sum(lab.count("\n") + 1 for lab in ylabels[x]) for x in dims[i * ncols:(i + 1) * ncols])
                   for i in range(nrows)]
        fig_s = new_figure(7.0, sum(0.2 * hh + 0.75 for hh in heights) + 0.6)
        gs = fig_s.add_gridspec(nrows, ncols, height_ratios=[hh + 3 for hh in heights])
        handles, labels = [], []
        for i, dim in enumerate(dims):
            ax = fig_s.add_subplot(gs[i // ncols, i % ncols])
            m = counts[dim]
            stacked_counts(ax, m, STATUS_COLORS, {s: t.status(s) for s in m.columns}, max_count=top)
            ax.set_yticks(np.arange(len(m))[::-1], ylabels[dim])
            ax.set_title(t.dimension(dim).capitalize())
            ax.grid(axis="y", visible=False)
            if i >= len(dims) - ncols:
                ax.set_xlabel(t("report.n_persons"), fontsize=7.5)
            for hnd, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(hnd)
                    labels.append(lab)
        handles.append(suppressed_handle(t("report.suppressed_mark")))
        labels.append(t("report.suppressed_mark"))
        fig_s.legend(handles, labels, loc="outside lower center", ncols=len(labels))
        caption = t("flows.groups_caption", h=h, cohort=t.cohort(cohort))
        note = t("flows.groups_note")
        return self._figure(f"flows-groups-{kind}", caption, note, static=fig_s, plotly=fig,
                            html_note=note + " " + t("report.use_menu"))

    # ================================================================== typology chapter
    @report_part
    def typology_chart(self) -> Block:
        ty = self.table("typology", ["cohort", "type", "persons"])
        if ty is None:
            return Block()
        t = self.t
        kinds = [k for k in ("stock", "outflow") if self._cohorts(k, "typology")]
        heights = [len(self._cohorts(k, "typology")) for k in kinds]
        fig = new_figure(7.0, 0.25 * sum(heights) + 1.3 * len(kinds) + 0.4)
        axes = np.atleast_1d(fig.subplots(len(kinds), 1, height_ratios=[hh + 2 for hh in heights], squeeze=False)).ravel()
        types = [x for x in TYPE_ORDER if x in set(ty.type)]
        for ax, k in zip(axes, kinds, strict=True):
            cohorts = self._cohorts(k, "typology")
            m = ty[ty.cohort.isin(cohorts)].pivot_table(index="cohort", columns="type", values="persons",
                                                       aggfunc="first", dropna=False).reindex(cohorts)
            # an outflow cohort has left bijstand: 'continuous' does not apply to it
            m = m[[x for x in types if x in m.columns and not (k == "outflow" and x == "continuous")]]
            stacked_counts(ax, m, TYPE_COLORS, {x: t.type(x) for x in m.columns})
            ax.set_yticks(np.arange(len(m))[::-1], [t.cohort(c, short=True) for c in m.index])
            ax.set_xlabel(t("report.n_persons"), fontsize=8)
            ax.grid(axis="y", visible=False)
        handles, labels = [], []
        for ax in axes:
            for hnd, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(hnd)
                    labels.append(lab)
        handles.append(suppressed_handle(t("report.suppressed_mark")))
        labels.append(t("report.suppressed_mark"))
        fig.legend(handles, labels, loc="outside lower center", ncols=3)
        return self._figure("typology", t("typology.types_caption"), t("report.disclosure_short"), static=fig)

    @report_part
    def typology_profile(self) -> Block:
        tp = self.table("typology_profile", ["cohort", "type", "dimension", "group", "persons"])
        cohort = self.main_cohort("stock", "typology_profile") if tp is not None else None
        if tp is None or cohort is None:
            return Block()
        t = self.t
        d = tp[tp.cohort == cohort]
        types = [x for x in TYPE_ORDER if x in set(d.type)]
        dims = [x for x in ("sex", "age", "migration", "household", "education", "duration", "programme")
                if x in set(d.dimension)]
        header = [t("typology.group")] + [t.type(x) for x in types]
        rows = profile_rows(d, "type", types, dims, t)
        return self._table("typology-profile", t("typology.profile_caption", cohort=t.cohort(cohort)), header, rows,
                           note=t("typology.profile_note"))

    @report_part
    def reentry_chart(self, horizon: int = 12) -> Block:
        re_ = self.table("reentry", ["cohort", "destination", "horizon_months", "share"])
        if re_ is None:
            return Block()
        t = self.t
        if not (re_.horizon_months == horizon).any():
            horizon = int(re_.horizon_months.max())
        d = re_[re_.horizon_months == horizon]
        cohorts = sorted(d.cohort.unique())
        fig = new_figure(7.0, 2.8)
        ax = fig.add_subplot()
        x = np.arange(len(cohorts))
        shown = set(d.loc[d.share.notna(), "destination"])
        for dest in [x_ for x_ in ("all", "werk", "ww", "overig") if x_ in shown]:
            dd = d[d.destination == dest].set_index("cohort").reindex(cohorts)
            color = DESTINATION_COLORS.get(dest, "#555")
            if dest == "all" and {"ci_lower", "ci_upper"} <= set(dd.columns):
                ax.fill_between(x, dd.ci_lower.astype(float), dd.ci_upper.astype(float), color=color, alpha=0.12, lw=0)
            line = ax.plot(x, dd.share.astype(float), color=color, lw=2 if dest == "all" else 1.4, marker="o", ms=3,
                           label=t.destination(dest))[0]
            line.set_gid(AGGREGATED_GID)
        ax.set_xticks(x, [c.split("_", 1)[-1] for c in cohorts])
        vals = pd.to_numeric(d[[c for c in ("share", "ci_upper") if c in d.columns]].stack(),
                             errors="coerce").to_numpy(dtype=float)
        top = np.nanmax(vals) if np.isfinite(vals).any() else np.nan  # every share suppressed: no data
        ax.set_ylim(0, min(1.0, 1.1 * top) if np.isfinite(top) and top > 0 else None)
        ax.set_xlim(-0.3, len(cohorts) - 0.7)
        ax.yaxis.set_major_formatter(self._pct_formatter())
        ax.set_ylabel(t("report.share"))
        fig.legend(*ax.get_legend_handles_labels(), ncols=4, loc="outside lower center")
        chart = self._figure("reentry-cohorts", t("typology.reentry_caption", h=horizon),
                             t("typology.reentry_note", h=horizon), static=fig)
        # table for the latest cohort
        main = sorted(re_.cohort.unique())[-1]
        dm = re_[re_.cohort == main]
        horizons = sorted(int(h) for h in dm.horizon_months.unique())
        rows = []
        for dest in [x_ for x_ in ("all", "werk", "ww", "overig") if x_ in set(dm.destination)]:
            row = [t.destination(dest)]
            for hh in horizons:
                r = dm[(dm.destination == dest) & (dm.horizon_months == hh)]
                if r.empty or pd.isna(r.share.iloc[0]):
                    row.append(t("report.suppressed"))
                else:
                    r = r.iloc[0]
                    row.append(f"{t.percent(r.share)} {self._ci(r.get('ci_lower'), r.get('ci_upper'), 0)}".strip())
            total = dm[(dm.destination == dest)].persons_total
            row.append(t.count(total.iloc[0]) if len(total) else "")
            rows.append(row)
        header = [t("typology.destination")] + [t("typology.within", h=hh) for hh in horizons] + [t("report.persons")]
        table = self._table("reentry-table", t("typology.reentry_table_caption", cohort=t.cohort(main)), header, rows,
                            note=t("typology.reentry_table_note"))
        return chart + table

    @report_part
    def job_quality_chart(self) -> Block:
        jq = self.table("job_quality", ["cohort", "dimension", "value", "persons"])
        if jq is None:
            return Block()
        t = self.t
        label_col = f"label_{self.lang}" if f"label_{self.lang}" in jq.columns else "value"
        dims = [x for x in ("contract", "hours_band", "sector") if x in set(jq.dimension)]
        fig = new_figure(7.0, 3.8)
        axes = np.atleast_1d(fig.subplots(1, len(dims), width_ratios=[1, 1, 1.5][:len(dims)]))
        for ax, dim in zip(axes, dims, strict=True):
            d = jq[jq.dimension == dim]
            agg = d.groupby("value")["persons"].sum(min_count=1).dropna()
            labels = d.drop_duplicates("value").set_index("value")[label_col]
            # share of all first jobs (a suppressed cell is left out of its bar, never out of the total)
            total = (d.drop_duplicates("cohort")["persons_total"].sum() if "persons_total" in d.columns
                     else agg.sum())
            sh = (agg / (total or np.nan)).sort_values(ascending=True)
            if dim == "sector" and len(sh) > 8:
                sh = sh.iloc[-8:]
            ax.barh(np.arange(len(sh)), sh.to_numpy(), color="#1b7837", height=0.7)
            ax.set_yticks(np.arange(len(sh)), [wrap_label(labels.get(v, v), 22 if dim == "sector" else 16)
                                               for v in sh.index], fontsize=7)
            ax.xaxis.set_major_formatter(self._pct_formatter())
            ax.set_title(t.dimension(dim).capitalize())
            ax.grid(axis="y", visible=False)
        return self._figure("job-quality", t("typology.jobs_caption"), t("typology.jobs_note"), static=fig)

    @report_part
    def job_retention_table(self) -> Block:
        jr = self.table("job_retention", ["cohort", "dimension", "value", "horizon_months", "share"])
        cohort = self.main_cohort("outflow", "job_retention") if jr is not None else None
        if jr is None or cohort is None:
            return Block()
        t = self.t
        label_col = f"label_{self.lang}" if f"label_{self.lang}" in jr.columns else "value"
        d = jr[(jr.cohort == cohort) & jr.dimension.isin(["all", "contract", "hours_band"])]
        horizons = sorted(int(h) for h in d.horizon_months.unique())
        rows = []
        for dim in ("all", "contract", "hours_band"):
            dd = d[d.dimension == dim]
            for v in dd.value.drop_duplicates():
                lab = t.group("all") if dim == "all" else str(dd.loc[dd.value == v, label_col].iloc[0])
                row = [lab]
                for h in horizons:
                    r = dd[(dd.value == v) & (dd.horizon_months == h)]
                    if r.empty or pd.isna(r.share.iloc[0]):
                        row.append(t("report.suppressed"))
                    else:
                        r = r.iloc[0]
                        row.append(f"{t.percent(r.share)} {self._ci(r.get('ci_lower'), r.get('ci_upper'), 0)}".strip())
                rows.append(row)
        header = [t("dim.contract").capitalize() + " / " + t("dim.hours")] + [t("report.horizon", h=h) for h in horizons]
        return self._table("job-retention", t("typology.retention_caption", cohort=t.cohort(cohort)), header, rows,
                           note=t("typology.retention_note"))

    @report_part
    def wages_table(self) -> Block:
        w = self.table("wages", ["cohort", "dimension", "value"])
        if w is None:
            return Block()
        t = self.t
        qs = [c for c in ("q25", "q50", "q75") if c in w.columns]
        d = w[(w.dimension == "all")].sort_values("cohort")
        rows = [[t.cohort(r.cohort, short=True), t.count(r.persons)] + [t.euro(getattr(r, q)) for q in qs]
                for r in d.itertuples()]
        header = [t("flows.cohort"), t("report.persons")] + [t(f"typology.{q}") for q in qs]
        return self._table("wages", t("typology.wages_caption"), header, rows, note=t("typology.wages_note"))

    @report_part
    def programme_comparison(self) -> Block:
        sv = self.table("sustainable_vs_short_by_programme", ["cohort", "share_a", "share_b", "estimate"])
        if sv is None:
            return Block()
        t = self.t
        d = sv[sv.estimate.notna()].sort_values("cohort")
        if d.empty:
            return Block()
        rows = []
        for r in d.itertuples():
            yes_first = str(r.group_a) in ("True", "yes", "1") if hasattr(r, "group_a") else True
            pa, pb = (r.share_a, r.share_b) if yes_first else (r.share_b, r.share_a)
            est = r.estimate if yes_first else -r.estimate
            lo, hi = (r.ci_lower, r.ci_upper) if yes_first else (-r.ci_upper, -r.ci_lower)
            rows.append([t.cohort(r.cohort, short=True), t.percent(pa), t.percent(pb),
                         f"{t.pp(est)} {self._ci(lo, hi, 1)}"])
        header = [t("flows.cohort"), t("typology.participants"), t("typology.non_participants"), t("typology.difference")]
        return self._table("sustainable-programme", t("typology.programme_caption"), header, rows,
                           note=t("typology.programme_note"))

    # ================================================================== careers chapter
    def _cluster_label(self, label: str) -> str:
        label = str(label)
        if label.startswith("mostly "):
            return self.t("careers.mostly", state=self.t.state(label[len("mostly "):]))
        return label

    @report_part
    def career_clusters(self) -> Block:
        cl = self.table("career_clusters", ["cluster", "persons"])
        if cl is None:
            return Block()
        t = self.t
        total = cl.persons.sum()
        rows = []
        for r in cl.sort_values("cluster").itertuples():
            share = r.share if hasattr(r, "share") and pd.notna(r.share) else (r.persons / total if total else np.nan)
            rows.append([str(r.cluster), self._cluster_label(getattr(r, "label", "")), t.count(r.persons),
                         t.percent(share)])
        header = [t("careers.cluster"), t("careers.label"), t("report.persons"), t("report.share")]
        return self._table("career-clusters", t("careers.clusters_caption"), header, rows,
                           align=["left", "left", "right", "right"], note=t("report.disclosure_short"))

    @report_part
    def career_states_chart(self) -> Block:
        ss = self.table("career_state_shares", ["cluster", "month", "state", "persons"])
        if ss is None:
            return Block()
        t = self.t
        clusters = sorted(ss.cluster.unique())
        labels = {}
        cl = self.table("career_clusters", ["cluster"])
        if cl is not None and "label" in cl.columns:
            labels = {r.cluster: self._cluster_label(r.label) for r in cl.itertuples()}
        ncols = 2
        nrows = math.ceil(len(clusters) / ncols)
        fig = new_figure(7.0, 2.0 * nrows + 0.8)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)).ravel()
        states = [s for s in STATE_ORDER if s in set(ss.state)]
        for ax, c in zip(axes, clusters, strict=False):
            d = ss[ss.cluster == c].pivot_table(index="month", columns="state", values="persons", aggfunc="first",
                                                dropna=False).sort_index()
            d = d[[s for s in states if s in d.columns]]
            # a month with a suppressed cell: shares of the cluster's total, the unknown rest hatched
            # (never spread over the other states); other months: shares of the (rounded) counts shown
            gone = d.isna().any(axis=1)
            denom = d.sum(axis=1)
            if "persons_total" in ss.columns:
                tot = ss[ss.cluster == c].groupby("month")["persons_total"].first().reindex(d.index)
                denom = denom.where(~gone | tot.isna(), tot)
            sh = d.fillna(0).div(denom.replace(0, np.nan), axis=0).fillna(0)
            xs = sh.index.to_numpy()
            ax.stackplot(xs, *[sh[s].to_numpy() for s in sh.columns],
                         colors=[STATE_COLORS.get(s, "#999") for s in sh.columns],
                         labels=[t.state(s) for s in sh.columns], step="mid")
            if gone.any():
                ax.fill_between(xs, np.minimum(sh.sum(axis=1).to_numpy(), 1.0), 1.0, where=gone.to_numpy(),
                                step="mid", facecolor="white", edgecolor="#777777", hatch="////", lw=0,
                                label=t("report.suppressed_part"))
            ax.set_title(f"{t('careers.cluster')} {c}" + (f": {labels[c]}" if c in labels else ""), fontsize=8)
            ax.set_ylim(0, 1)
            ax.set_xlim(sh.index.min() - 0.5, sh.index.max() + 0.5)
            ax.yaxis.set_major_formatter(self._pct_formatter())
            ax.grid(False)
        for ax in axes[len(clusters):]:
            ax.set_visible(False)
        handles, lbls = [], []
        for ax in axes:
            for hnd, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in lbls:
                    handles.append(hnd)
                    lbls.append(lab)
        fig.legend(handles, lbls, loc="outside lower center", ncols=4)
        for ax in axes[max(0, len(clusters) - ncols):len(clusters)]:
            ax.set_xlabel(t("careers.month"))
        return self._figure("career-states", t("careers.states_caption"), t("report.disclosure_short"), static=fig)

    @report_part
    def career_profile(self) -> Block:
        cp = self.table("career_profile", ["cluster", "dimension", "group", "persons"])
        if cp is None:
            return Block()
        t = self.t
        clusters = sorted(cp.cluster.unique())
        dims = [x for x in ("sex", "age", "migration", "household", "education", "programme", "contract", "hours")
                if x in set(cp.dimension)]
        header = [t("typology.group")] + [f"{t('careers.cluster')} {c}" for c in clusters]
        rows = profile_rows(cp, "cluster", clusters, dims, t)
        return self._table("career-profile", t("careers.profile_caption"), header, rows,
                           note=t("report.disclosure_short"))
