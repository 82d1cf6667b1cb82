"""The monitor chapters: flows, typology and careers.

A mixin of :class:`~reintegration_effects.report.Report`; the methods use its state and helpers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..disclosure import AGGREGATED_GID
from .blocks import Block, group_sort_key, new_figure, profile_rows, report_part, shorten
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


class MonitorParts:
    """The monitor chapters: flows, typology and careers."""

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
        # bars: share per status, one panel per horizon
        horizons = sorted(int(x) for x in flows.loc[flows.cohort.isin(cohorts), "horizon_months"].unique())
        fig = new_figure(7.0, 0.9 + 0.22 * len(cohorts) * 1.0 + 0.6)
        axes = np.atleast_1d(fig.subplots(1, len(horizons), sharey=True))
        for ax, hh in zip(axes, horizons, strict=True):
            dd = flows[flows.cohort.isin(cohorts) & (flows.horizon_months == hh)]
            mm = dd.pivot_table(index="cohort", columns="status", values="persons", aggfunc="first", dropna=False)
            mm = mm.reindex([c for c in cohorts if c in mm.index])
            shares = mm.div(mm.sum(axis=1), axis=0).fillna(0)
            left = np.zeros(len(shares))
            ypos = np.arange(len(shares))[::-1]
            for s in statuses:
                if s in shares:
                    ax.barh(ypos, shares[s].to_numpy(), left=left, color=STATUS_COLORS[s], height=0.75,
                            label=t.status(s))
                    left += shares[s].to_numpy()
            ax.set_yticks(ypos, [t.cohort(c, short=True) for c in shares.index])
            ax.set_title(t("report.horizon", h=hh))
            ax.set_xlim(0, 1)
            ax.xaxis.set_major_formatter(self._pct_formatter())
            ax.grid(axis="y", visible=False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
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
        shares = {}
        for dim in dims:
            m = d[d.dimension == dim].pivot_table(index="group", columns="status", values="persons", aggfunc="first",
                                                  dropna=False)
            m = m.reindex(sorted(m.index, key=group_sort_key))
            m = m[m.notna().any(axis=1)]
            shares[dim] = (m, m.div(m.sum(axis=1), axis=0))
        statuses = [s for s in STATUS_ORDER if s in set(d.status)]
        fig = go.Figure()
        owner = []
        for dim in dims:
            m, sh = shares[dim]
            for s in statuses:
                if s not in sh:
                    continue
                labels = [t.group(g) for g in sh.index]
                custom = [f"{t.group(g)}: {t.status(s)} {t.percent(sh.loc[g, s])} ({t.count(m.loc[g, s])})"
                          for g in sh.index]
                fig.add_trace(go.Bar(y=labels, x=sh[s].fillna(0), orientation="h", name=t.status(s),
                                     marker_color=STATUS_COLORS[s], visible=(dim == dims[0]),
                                     showlegend=(dim == dims[0]), legendgroup=s, customdata=custom,
                                     hovertemplate="%{customdata}<extra></extra>"))
                owner.append(dim)
        buttons = [dict(label=t.dimension(x).capitalize(), method="update",
                        args=[{"visible": [o == x for o in owner], "showlegend": [o == x for o in owner]}])
                   for x in dims]
        n_groups = max(len(shares[x][1]) for x in dims)
        fig.update_layout(**self._plotly_layout(height=170 + 34 * n_groups), barmode="stack", bargap=0.35,
                          updatemenus=[self._menu(buttons, 0)])
        fig.update_xaxes(tickformat=".0%", range=[0, 1])
        fig.update_yaxes(autorange="reversed")
        # static: one panel per dimension
        ncols = 2
        nrows = math.ceil(len(dims) / ncols)
        heights = [max(len(shares[x][1]) for x in dims[i * ncols:(i + 1) * ncols]) for i in range(nrows)]
        fig_s = new_figure(7.0, sum(0.28 * hh + 0.55 for hh in heights) + 0.5)
        gs = fig_s.add_gridspec(nrows, ncols, height_ratios=[hh + 1.5 for hh in heights])
        for i, dim in enumerate(dims):
            ax = fig_s.add_subplot(gs[i // ncols, i % ncols])
            _, sh = shares[dim]
            ypos = np.arange(len(sh))[::-1]
            left = np.zeros(len(sh))
            for s in statuses:
                if s in sh:
                    v = sh[s].fillna(0).to_numpy()
                    ax.barh(ypos, v, left=left, color=STATUS_COLORS[s], height=0.75, label=t.status(s))
                    left += v
            ax.set_yticks(ypos, [t.group(g) for g in sh.index])
            ax.set_title(t.dimension(dim).capitalize())
            ax.set_xlim(0, 1)
            ax.xaxis.set_major_formatter(self._pct_formatter())
            ax.grid(axis="y", visible=False)
            if i == 0:
                handles, labels = ax.get_legend_handles_labels()
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
            m = m[[x for x in types if x in m.columns]]
            sh = m.div(m.sum(axis=1), axis=0).fillna(0)
            ypos = np.arange(len(sh))[::-1]
            left = np.zeros(len(sh))
            for x in sh.columns:
                if k == "outflow" and x == "continuous":
                    continue
                v = sh[x].to_numpy()
                ax.barh(ypos, v, left=left, color=TYPE_COLORS.get(x, "#999"), height=0.75, label=t.type(x))
                left += v
            ax.set_yticks(ypos, [t.cohort(c, short=True) for c in sh.index])
            ax.set_xlim(0, 1)
            ax.xaxis.set_major_formatter(self._pct_formatter())
            ax.grid(axis="y", visible=False)
        handles, labels = [], []
        for ax in axes:
            for hnd, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(hnd)
                    labels.append(lab)
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
        ax.set_ylim(0, None)
        ax.yaxis.set_major_formatter(self._pct_formatter())
        ax.set_ylabel(t("report.share"))
        ax.legend(ncols=4, loc="upper left")
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
        fig = new_figure(7.0, 3.6)
        axes = np.atleast_1d(fig.subplots(1, len(dims), width_ratios=[1, 1, 1.5][:len(dims)]))
        for ax, dim in zip(axes, dims, strict=True):
            d = jq[jq.dimension == dim]
            agg = d.groupby("value")["persons"].sum(min_count=1).dropna()
            labels = d.drop_duplicates("value").set_index("value")[label_col]
            sh = (agg / agg.sum()).sort_values(ascending=True)
            if dim == "sector" and len(sh) > 8:
                sh = sh.iloc[-8:]
            ax.barh(np.arange(len(sh)), sh.to_numpy(), color="#1b7837", height=0.7)
            ax.set_yticks(np.arange(len(sh)), [shorten(str(labels.get(v, v)), 28) for v in sh.index])
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
            d = d[[s for s in states if s in d.columns]].fillna(0)
            sh = d.div(d.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
            ax.stackplot(sh.index.to_numpy(), *[sh[s].to_numpy() for s in sh.columns],
                         colors=[STATE_COLORS.get(s, "#999") for s in sh.columns],
                         labels=[t.state(s) for s in sh.columns], step="mid")
            ax.set_title(f"{t('careers.cluster')} {c}" + (f": {labels[c]}" if c in labels else ""), fontsize=8)
            ax.set_ylim(0, 1)
            ax.set_xlim(sh.index.min() - 0.5, sh.index.max() + 0.5)
            ax.yaxis.set_major_formatter(self._pct_formatter())
            ax.grid(False)
        for ax in axes[len(clusters):]:
            ax.set_visible(False)
        handles, lbls = axes[0].get_legend_handles_labels()
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
