"""The dashboard and the data chapter: key figures, flows, curves, programme table, findings, run settings.

A mixin of :class:`~reintegration_effects.report.Report`; the methods use its state and helpers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .blocks import (
    Block,
    esc,
    group_sort_key,
    join_text,
    md_escape,
    md_to_html,
    new_figure,
    note_md,
    pipe_table,
    rect,
    report_part,
    rgba,
)
from .tables import DESTINATION_COLORS, MAIN_METHOD, MAIN_OUTCOME, STATUS_COLORS, STATUS_ORDER, TABLES

# --------------------------------------------------------------------------------------------
# DashboardParts
# --------------------------------------------------------------------------------------------


class DashboardParts:
    """The dashboard and the data chapter: key figures, flows, curves, programme table, findings, run settings."""

    # ================================================================== dashboard
    @report_part
    def key_figures(self) -> Block:
        """Four to five headline numbers, each from one protected table."""
        t = self.t
        tiles: list[tuple[str, str]] = []
        flows = self.table("flows", ["cohort", "horizon_months", "status", "persons"])
        if flows is not None:
            stock = self.main_cohort("stock")
            if stock:
                d = flows[flows.cohort == stock]
                first = d[d.horizon_months == d.horizon_months.min()]
                size = first["cohort_persons"].dropna() if "cohort_persons" in first.columns else first["persons"][:0]
                n = size.iloc[0] if len(size) else first["persons"].sum()
                value = t.count(n) if len(size) or first["persons"].notna().all() else t("report.approx",
                                                                                          value=t.count(n))
                tiles.append((value, t("dashboard.kpi_stock", date=t.date(stock[len("stock_"):]))))
            out = self.main_cohort("outflow")
            if out:
                m = self._flow_matrix(out, flows)
                h = int(max(m.columns))
                col = m[h]
                if "werk" in col.index and pd.notna(col["werk"]) and col.sum() > 0:
                    tiles.append((t.percent(col["werk"] / col.sum()),
                                  t("dashboard.kpi_work", year=out[len("outflow_"):], h=h)))
        re_ = self.table("reentry", ["cohort", "destination", "horizon_months", "share"])
        if re_ is not None:
            d = re_[(re_.destination == "all") & re_.share.notna()]
            h = 12 if (d.horizon_months == 12).any() else (int(d.horizon_months.max()) if len(d) else None)
            d = d[d.horizon_months == h].sort_values("cohort")
            if len(d):
                last = d.iloc[-1]
                tiles.append((t.percent(last.share), t("dashboard.kpi_reentry", year=str(last.cohort)[len("outflow_"):],
                                                       h=h)))
        med = self.table("medians", ["group", "median_months"])
        if med is not None:
            row = med[med.group == "all"]
            if len(row) and pd.notna(row.median_months.iloc[0]) and np.isfinite(row.median_months.iloc[0]):
                tiles.append((t.number(row.median_months.iloc[0]), t("dashboard.kpi_median")))
        eff = self.table("effects", ["programme", "group", "outcome", "method", "ci_lower"])
        if eff is not None:
            d = eff[(eff.group == "all") & (eff.outcome == MAIN_OUTCOME) & (eff.method == MAIN_METHOD)]
            if len(d):
                k = d.programme.nunique()
                j = int((d.ci_lower > 0).sum())
                tiles.append((t("dashboard.kpi_programmes_value", j=j, k=k), t("dashboard.kpi_programmes")))
        if not tiles:
            return Block()
        h = '<div class="kpis">' + "".join(
            f'<div class="kpi"><div class="kpi-value">{esc(v)}</div><div class="kpi-label">{esc(lbl)}</div></div>'
            for v, lbl in tiles) + "</div>"
        md = "\n".join(f"- **{md_escape(v)}** {md_escape(lbl)}" for v, lbl in tiles)
        return Block(h, md)

    def _cohort_sizes(self, cohort: str, m: pd.DataFrame) -> dict:
        """Cohort size per horizon: the published (rounded) row total, else the sum of the shown cells."""
        flows = self.table("flows", ["cohort", "horizon_months"])
        sizes = {}
        if flows is not None and "cohort_persons" in flows.columns:
            d = flows[flows.cohort == cohort].groupby("horizon_months")["cohort_persons"].first()
            sizes = {h: d.get(h) for h in m.columns}
        for h in m.columns:
            if sizes.get(h) is None or pd.isna(sizes.get(h)):
                sizes[h] = m[h].sum() if m[h].notna().all() else np.nan
        return sizes

    def _flow_table_rows(self, m: pd.DataFrame, cohort: str) -> tuple[list[str], list[list[str]], list[list[str]], list]:
        """CBS layout: the cohort size first, then every status as persons (share of the cohort).

        Returns header, rows, Markdown rows and the row keys (None: the cohort size; a status; or
        ``("detail", status)`` for an 'of which' row)."""
        t = self.t
        horizons = [int(h) for h in m.columns]
        header = [t("report.status")] + [t("report.horizon", h=h) for h in horizons]
        totals = self._cohort_sizes(cohort, m)
        first = [t("dashboard.cohort_size")] + [t.count(totals[h]) if pd.notna(totals[h]) else t("report.suppressed")
                                                for h in m.columns]
        rows, md_rows, keys = [first], [[f"**{md_escape(c)}**" for c in first]], [None]
        for s in m.index:
            keys.append(s)
            cells, md_cells = [t.status(s)], [md_escape(t.status(s))]
            for h in m.columns:
                cells.append(self._count_share(m.loc[s, h], totals[h]))
                md_cells.append(md_escape(cells[-1]))
            rows.append(cells)
            md_rows.append(md_cells)
            if s == "overig":
                for detail_row in self._overig_rows(cohort, m, totals):
                    rows.append(detail_row)
                    md_rows.append([md_escape(c) for c in detail_row])
                    keys.append(("detail", s))
        return header, rows, md_rows, keys

    def _count_share(self, v, total) -> str:
        """A flow-table cell: 'persons (share of the cohort)', the count alone without a total, x if suppressed."""
        t = self.t
        if pd.isna(v):
            return t("report.suppressed")
        return f"{t.count(v)} ({t.percent(v / total)})" if pd.notna(total) and total else t.count(v)

    def _overig_rows(self, cohort: str, m: pd.DataFrame, totals: dict) -> list[list[str]]:
        """'of which' rows breaking 'overig' down (flows_overig.csv), when the run wrote that table."""
        t = self.t
        ov = self.table("flows_overig", ["cohort", "horizon_months", "detail", "persons"])
        if ov is None or not (ov.cohort == cohort).any():
            return []
        d = ov[ov.cohort == cohort]
        out = []
        for detail in dict.fromkeys(d.detail):
            cells = ["   " + t("dashboard.overig_detail", detail=t.get(f"overig_detail.{detail}", str(detail)))]
            for h in m.columns:
                v = d.loc[(d.detail == detail) & (d.horizon_months == h), "persons"]
                cells.append(self._count_share(v.iloc[0] if len(v) else np.nan, totals[h]))
            out.append(cells)
        return out

    @report_part
    def flow_table(self, kind: str = "outflow") -> Block:
        """Status at 6/12/18 months of one cohort (HTML: every cohort through a menu)."""
        flows = self.table("flows", ["cohort", "horizon_months", "status", "persons"])
        main = self.main_cohort(kind)
        if flows is None or main is None:
            return Block()
        t = self.t
        cohorts = self._cohorts("outflow") + self._cohorts("stock")
        header, rows, md_rows, _ = self._flow_table_rows(self._flow_matrix(main, flows), main)
        ident = f"flow-table-{kind}"
        panels, options = [], []
        for c in cohorts:
            hd, rw, _, keys = self._flow_table_rows(self._flow_matrix(c, flows), c)
            ths = "".join(f'<th class="{"left" if i == 0 else "right"}">{esc(x)}</th>' for i, x in enumerate(hd))
            trs = "".join(("<tr class=\"total\">" if s is None else "<tr>") + "".join(
                f'<td class="{"left status" if i == 0 else "right"}">'
                + (f'<span class="swatch" style="background:{STATUS_COLORS.get(s, "#ccc")}"></span>'
                   if i == 0 and isinstance(s, str) else "")
                + (f"<strong>{esc(x)}</strong>" if s is None else esc(x.strip()) if isinstance(s, tuple) else esc(x))
                + "</td>" for i, x in enumerate(r)) + "</tr>"
                for s, r in zip(keys, rw, strict=True))
            hidden = "" if c == main else " hidden"
            panels.append(f'<div data-key="{esc(c)}"{hidden}><table class="data"><thead><tr>{ths}</tr></thead>'
                          f"<tbody>{trs}</tbody></table></div>")
            sel = " selected" if c == main else ""
            options.append(f'<option value="{esc(c)}"{sel}>{esc(t.cohort(c))}</option>')
        controls = (f'<label class="control">{esc(t("report.select_cohort"))} '
                    f'<select data-switch="{ident}">{"".join(options)}</select></label>')
        horizons = t.join([int(h) for h in sorted(flows.horizon_months.unique())])
        caption = t("dashboard.flow_table_caption", cohort=t.cohort(main), horizons=horizons)
        note = t("dashboard.flow_table_note")
        h = (f'<figure class="table" id="tbl-{ident}"><figcaption>'
             f'{esc(t("dashboard.flow_table_caption_html", horizons=horizons))}'
             f"</figcaption>{controls}<div class=\"table-scroll\" id=\"{ident}\">{''.join(panels)}</div>"
             f'<div class="note">{md_to_html(note)}</div></figure>')
        md = pipe_table([md_escape(x) for x in header], md_rows, ["left"] + ["right"] * (len(header) - 1),
                         caption, ident)
        return Block(h, join_text(md, note_md(note), "\n\n"))

    # ------------------------------------------------------------------ Sankey / alluvial
    def _paths(self, cohort: str) -> tuple[pd.DataFrame, list[str]]:
        tr = self.table("transitions", ["cohort", "persons"])
        cols = sorted([c for c in tr.columns if re.fullmatch(r"status_\d+m", c)], key=lambda c: int(c[7:-1]))
        d = tr[(tr.cohort == cohort) & tr.persons.notna()].dropna(subset=cols)
        return d[cols + ["persons"]], cols

    def _node_sizes(self, cohort: str, d: pd.DataFrame, cols: list[str]) -> dict[tuple[int, str], tuple[float, bool]]:
        """(horizon index, status) -> (size, shown as a number): the flow table's published counts, so
        the diagram and the table give the same numbers; where the table suppresses a cell, the sum of
        the drawn paths sizes the node and no number is shown."""
        flows = self.table("flows", ["cohort", "horizon_months", "status", "persons"])
        m = self._flow_matrix(cohort, flows) if flows is not None and (flows.cohort == cohort).any() else None
        out = {}
        for j, c in enumerate(cols):
            h = int(c[7:-1])
            paths = d.groupby(c)["persons"].sum()
            for s in STATUS_ORDER:
                v = m.loc[s, h] if m is not None and s in m.index and h in m.columns else np.nan
                if pd.notna(v) and v > 0:
                    out[(j, s)] = (float(v), True)
                elif paths.get(s, 0) > 0:
                    out[(j, s)] = (float(paths[s]), m is None)
        return out

    def _sankey_trace(self, cohort: str, visible: bool):
        import plotly.graph_objects as go

        t = self.t
        d, cols = self._paths(cohort)
        sizes = self._node_sizes(cohort, d, cols)
        nodes, index = [], {}
        for j in range(len(cols)):
            for s in STATUS_ORDER:
                if (j, s) in sizes:
                    index[(j, s)] = len(nodes)
                    nodes.append((j, s, *sizes[(j, s)]))
        src, dst, val, col, hover = [], [], [], [], []
        ncol = max(len(cols) - 1, 1)
        small = t("dashboard.small_paths")
        extra_x, extra_y = [], []
        for j in range(len(cols) - 1):
            agg = d.groupby([cols[j], cols[j + 1]], sort=False)["persons"].sum()
            drawn_out: dict[str, float] = {}
            drawn_in: dict[str, float] = {}
            for (a, b), v in agg.items():
                if v > 0 and (j, a) in index and (j + 1, b) in index:
                    src.append(index[(j, a)])
                    dst.append(index[(j + 1, b)])
                    val.append(float(v))
                    col.append(rgba(STATUS_COLORS.get(a, "#999999"), 0.35))
                    hover.append(f"{t.status(a)} → {t.status(b)}: {t.count(v)}")
                    drawn_out[a] = drawn_out.get(a, 0.0) + float(v)
                    drawn_in[b] = drawn_in.get(b, 0.0) + float(v)
            # persons on paths of fewer than 10 (not published one by one) pass through one grey
            # node between the horizons, so every status node has the size the flow table gives it
            rest_out = {a: sizes[(j, a)][0] - drawn_out.get(a, 0.0) for a in STATUS_ORDER if (j, a) in sizes}
            rest_in = {b: sizes[(j + 1, b)][0] - drawn_in.get(b, 0.0) for b in STATUS_ORDER if (j + 1, b) in sizes}
            if any(v > 0 for v in rest_out.values()) or any(v > 0 for v in rest_in.values()):
                k = len(nodes) + len(extra_x)
                extra_x.append((j + 0.5) / ncol)
                extra_y.append(0.999)
                for a, v in rest_out.items():
                    if v > 0:
                        src.append(index[(j, a)]), dst.append(k), val.append(v)
                        col.append("rgba(170,170,170,0.25)")
                        hover.append(f"{t.status(a)} → {small}: {t.count(v)}")
                for b, v in rest_in.items():
                    if v > 0:
                        src.append(k), dst.append(index[(j + 1, b)]), val.append(v)
                        col.append("rgba(170,170,170,0.25)")
                        hover.append(f"{small} → {t.status(b)}: {t.count(v)}")
        xs, ys = [], []
        for j in range(len(cols)):
            col_nodes = [n for n in nodes if n[0] == j]
            total = sum(n[2] for n in col_nodes) or 1
            acc = 0.0
            for _, _, size, _ in col_nodes:
                ys.append(min(max((acc + size / 2) / total, 0.001), 0.999))
                xs.append(min(max(j / ncol, 0.001), 0.999))
                acc += size
        horizons = [int(c[7:-1]) for c in cols]
        labels = [f"{t.status(s)} {t.count(n)}" if shown else t.status(s) for _, s, n, shown in nodes]
        hovers = [f"{t.status(s)}, {t('horizon.short', h=horizons[j])}: {t.count(n) if shown else t('report.suppressed')}"
                  for j, s, n, shown in nodes]
        return go.Sankey(
            visible=visible, arrangement="fixed", valueformat=",d",
            node=dict(label=labels + [""] * len(extra_x), x=xs + extra_x, y=ys + extra_y, pad=12, thickness=14,
                      color=[STATUS_COLORS.get(s, "#999") for _, s, _, _ in nodes] + ["#d0d0d0"] * len(extra_x),
                      customdata=hovers + [small] * len(extra_x),
                      hovertemplate="%{customdata}<extra></extra>"),
            link=dict(source=src, target=dst, value=val, color=col, customdata=hover,
                      hovertemplate="%{customdata}<extra></extra>"),
            name=t.cohort(cohort, short=True),
        ), horizons

    @report_part
    def sankey(self, kind: str = "outflow") -> Block:
        """Flows between the horizons: plotly Sankey with a cohort menu (HTML), alluvial chart (PDF)."""
        import plotly.graph_objects as go

        tr = self.table("transitions", ["cohort", "persons"])
        main = self.main_cohort(kind, "transitions") if tr is not None else None
        if tr is None or main is None or not any(re.fullmatch(r"status_\d+m", c) for c in tr.columns):
            return Block()
        t = self.t
        cohorts = self._cohorts("outflow", "transitions") + self._cohorts("stock", "transitions")
        cohorts = [c for c in cohorts if len(self._paths(c)[0])]
        if not cohorts:  # every path suppressed (fewer than 10 persons each)
            return self._note(t("report.all_suppressed", tables="transitions.csv"))
        if main not in cohorts:  # the main cohort's paths are all suppressed: the latest that has some
            main = next((c for c in reversed(cohorts) if c.startswith(f"{kind}_")), cohorts[0])
        fig = go.Figure()
        horizons = []
        for c in cohorts:
            trace, hz = self._sankey_trace(c, visible=(c == main))
            fig.add_trace(trace)
            if c == main:
                horizons = hz
        buttons = [dict(label=t.cohort(c), method="update",
                        args=[{"visible": [c == o for o in cohorts]}]) for c in cohorts]
        annotations = [dict(x=j / max(len(horizons) - 1, 1), y=0.0, yanchor="top", xref="paper", yref="paper", showarrow=False,
                            text=f"<b>{t('report.horizon', h=h)}</b>", xanchor=("left" if j == 0 else "right" if j == len(horizons) - 1 else "center"))
                       for j, h in enumerate(horizons)]
        fig.update_layout(**self._plotly_layout(height=430),
                          updatemenus=[self._menu(buttons, cohorts.index(main))], annotations=annotations)
        fig.update_layout(margin=dict(l=10, r=10, t=50, b=36))
        static = self._alluvial(main)
        caption = t("dashboard.sankey_caption", cohort=t.cohort(main))
        return self._figure(f"sankey-{kind}", caption, t("dashboard.sankey_note"), static=static, plotly=fig)

    def _alluvial(self, cohort: str):
        """Static alluvial chart of the paths between horizons (matplotlib, for the PDF)."""
        t = self.t
        d, cols = self._paths(cohort)
        sizes = self._node_sizes(cohort, d, cols)
        fig = new_figure(7.0, 3.6)
        ax = fig.add_subplot()
        total = max(sum(v for (j, _), (v, _) in sizes.items() if j == k) for k in range(len(cols))) or 1
        gap = 0.02 * total
        width = 0.09
        pos: dict[tuple[int, str], list[float]] = {}
        for j, _c in enumerate(cols):
            y = 0.0
            for s in reversed(STATUS_ORDER):
                if (j, s) not in sizes:
                    continue
                v, shown = sizes[(j, s)]
                ax.add_patch(rect(j - width / 2, y, width, v, STATUS_COLORS.get(s, "#999")))
                if v >= 0.04 * total:
                    ax.text(j + (width / 2 + 0.02 if j == len(cols) - 1 else -width / 2 - 0.02), y + v / 2,
                            f"{t.status(s)} {t.count(v)}" if shown else t.status(s), va="center",
                            ha="left" if j == len(cols) - 1 else "right", fontsize=7)
                pos[(j, s)] = [y, y]  # [next free position for outgoing, for incoming]
                y += v + gap
        xs = np.linspace(0, 1, 30)
        smooth = 3 * xs**2 - 2 * xs**3
        for j in range(len(cols) - 1):
            agg = d.groupby([cols[j], cols[j + 1]])["persons"].sum()
            for a in reversed(STATUS_ORDER):
                for b in reversed(STATUS_ORDER):
                    v = float(agg.get((a, b), 0))
                    if v <= 0 or (j, a) not in pos or (j + 1, b) not in pos:
                        continue
                    y0, y1 = pos[(j, a)][0], pos[(j + 1, b)][1]
                    pos[(j, a)][0] += v
                    pos[(j + 1, b)][1] += v
                    x = j + width / 2 + xs * (1 - width)
                    lower = y0 + (y1 - y0) * smooth
                    ax.fill_between(x, lower, lower + v, color=STATUS_COLORS.get(a, "#999"), alpha=0.35, lw=0)
        ax.set_xlim(-0.75, len(cols) - 0.25)
        ax.set_ylim(0, total + gap * 5)
        ax.set_xticks(range(len(cols)), [t("report.horizon", h=int(c[7:-1])) for c in cols])
        ax.set_yticks([])
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="x", length=0)
        return fig

    @report_part
    def outflow_curves(self) -> Block:
        """Share still on bijstand by spell duration: plotly with a menu by group; static: total and age."""
        km = self.table("km", ["dimension", "group", "time", "survival"])
        if km is None:
            return Block()
        t = self.t
        km = km[km.survival.notna()]
        if km.empty:  # every point suppressed
            return self._note(t("report.nothing_to_show"))
        xmax = min(float(km.time.max()), 72.0)
        fig = self._curve_figure(km, value=lambda d: d["survival"], ylab=t("report.share"),
                                 xlab=t("report.months_since_start"), first=("age",), xmax=xmax)
        panels = ["all"] + [d for d in ("age",) if d in set(km.dimension)]
        static = self._static_curves(km, panels, value=lambda d: d["survival"], ylab=t("report.share"),
                                     xlab=t("report.months_since_start"), xmax=xmax, ncols=2, height_per_row=2.6)
        return self._figure("outflow-curves", t("dashboard.outflow_caption"), t("dashboard.outflow_note"),
                            static=static, plotly=fig, html_note=t("dashboard.outflow_note") + " " + t("report.use_menu"))

    def _reentry(self) -> pd.DataFrame | None:
        km = self.table("reentry_km", ["dimension", "group", "time", "survival"])
        if km is None:
            return None
        km = km[km.survival.notna()].copy()
        if km.empty:  # every point suppressed: the chapter note says so
            return None
        km["reentered"] = 1 - km["survival"]
        return km

    @report_part
    def reentry_curves(self) -> Block:
        """Share back on bijstand by time since leaving: by destination (menu: other groups)."""
        km = self._reentry()
        if km is None:
            return Block()
        t = self.t
        xmax = min(float(km.time.max()), 48.0)
        dims = set(km.dimension)
        default = "destination" if "destination" in dims else "all"
        fig = self._curve_figure(km, value=lambda d: d["reentered"], ylab=t("report.share"),
                                 xlab=t("report.months_since_exit"), first=("destination", "contract"),
                                 default=default, xmax=xmax)
        ymax = float(np.nanmax(km["ci_upper"].to_numpy(dtype=float))) if "ci_upper" in km else 1.0
        fig.update_yaxes(range=[0, min(1.0, max(0.1, ymax * 1.1))])
        panels = [d for d in ("destination", "contract") if d in dims] or ["all"]
        static = self._static_curves(km, panels, value=lambda d: d["reentered"], ylab=t("report.share"),
                                     xlab=t("report.months_since_exit"), xmax=xmax, ncols=2, height_per_row=2.6,
                                     colors=DESTINATION_COLORS)
        for ax in static.axes:
            ax.set_ylim(0, min(1.0, max(0.1, ymax * 1.1)))
        return self._figure("reentry-curves", t("dashboard.reentry_caption"), t("dashboard.reentry_note"),
                            static=static, plotly=fig, html_note=t("dashboard.reentry_note") + " " + t("report.use_menu"))

    # ------------------------------------------------------------------ which programme works for whom
    def _effect_cell(self, r) -> tuple[str, str, str]:
        """(text, markdown, css class) of one effect estimate in percentage points with its CI."""
        t = self.t
        if pd.isna(r.get("estimate")):
            x = t("report.suppressed")
            return esc(x), md_escape(x), "na"
        months = r.get("outcome") == "months_bijstand_18m"
        scale, dec = (1.0, 1) if months else (100.0, 1)
        est = t.number(scale * r["estimate"], dec)
        if r["estimate"] > 0:
            est = "+" + est
        ci = self._ci(r.get("ci_lower"), r.get("ci_upper"), dec, scale)
        n = r.get("n_treated")
        n_txt = f"n = {t.count(n)}" if n is not None and pd.notna(n) else ""
        if r.get("verdict") is not None:  # the one rule of plain_language.verdicts (FDR and group size for groups)
            sig = r["verdict"] in ("positive", "negative")
        else:
            sig = pd.notna(r.get("ci_lower")) and (r["ci_lower"] > 0 or r["ci_upper"] < 0)
        good = (r["estimate"] < 0) if months else (r["estimate"] > 0)
        cls = ("pos" if good else "neg") if sig else "ns"
        md = f"**{md_escape(est)}** {md_escape(ci)}" if sig else f"{md_escape(est)} {md_escape(ci)}"
        if n_txt:
            md += f"`#linebreak()#text(size: 6.8pt, fill: luma(90))[{n_txt}]`{{=typst}}"
        html_cell = (f'<span class="est">{esc(est)}</span> <span class="ci">{esc(ci)}</span>'
                     + (f' <span class="n">{esc(n_txt)}</span>' if n_txt else ""))
        return html_cell, md, cls

    @report_part
    def programme_table(self, outcome: str = MAIN_OUTCOME, method: str = MAIN_METHOD) -> Block:
        """Rows: target groups; columns: programmes; cells: effect (pp) with CI and participants."""
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate"])
        if eff is None:
            return Block()
        t = self.t
        d = eff[(eff.outcome == outcome) & (eff.method == method)]
        if d.empty:
            return Block()
        from ..plain_language import MIN_GROUP_SIZE, verdicts

        d = verdicts(d)
        programmes = sorted(d.programme.dropna().unique())
        groups = sorted(d.group.dropna().unique(), key=group_sort_key)
        header = [t("dashboard.programme_row")] + [t.programme(p) for p in programmes]
        html_rows, md_rows = [], []
        dims_seen = []
        for g in groups:
            dim = "all" if g == "all" else g.split("=", 1)[0]
            if dim not in dims_seen:
                dims_seen.append(dim)
                if dim != "all":
                    html_rows.append(f'<tr class="dim-row" data-dim="{esc(dim)}"><th colspan="{len(header)}">'
                                     f"{esc(t.dimension(dim).capitalize())}</th></tr>")
                    md_rows.append([f"*{md_escape(t.dimension(dim).capitalize())}*"] + [""] * len(programmes))
            cells_h = [f'<td class="left">{esc(t.group(g))}</td>']
            cells_m = [("**" + md_escape(t.group(g)) + "**") if g == "all" else "   " + md_escape(t.group(g))]
            for p in programmes:
                row = d[(d.group == g) & (d.programme == p)]
                if row.empty:
                    x = t("report.suppressed")
                    cells_h.append(f'<td class="effect na">{esc(x)}</td>')
                    cells_m.append(md_escape(x))
                    continue
                cell, md, cls = self._effect_cell(row.iloc[0].to_dict())
                cells_h.append(f'<td class="effect {cls}">{cell}</td>')
                cells_m.append(md)
            html_rows.append(f'<tr data-dim="{esc(dim)}">' + "".join(cells_h) + "</tr>")
            md_rows.append(cells_m)
        ident = f"programme-table-{outcome}-{method}"
        options = [f'<option value="">{esc(t("report.all_groups"))}</option>'] + [
            f'<option value="{esc(x)}">{esc(t.dimension(x).capitalize())}</option>' for x in dims_seen if x != "all"]
        controls = (f'<label class="control">{esc(t("report.select_dimension"))} '
                    f'<select data-filter="{esc(ident)}">{"".join(options)}</select></label>')
        caption = t("dashboard.programme_caption")
        block = self._table(ident, caption, header, [], note=t("dashboard.programme_note", min_n=MIN_GROUP_SIZE),
                            align=["left"] + ["right"] * len(programmes), md_rows=md_rows, html_rows=html_rows,
                            controls=controls)
        block.html = block.html.replace('<table class="data">', f'<table class="data effects" id="{esc(ident)}">', 1)
        return block

    # ================================================================== data chapter
    @report_part
    def run_settings(self) -> Block:
        t = self.t
        m = self.settings.get("manifest") or {}
        rows = []
        rows.append((t("data.municipality"), self.municipality or "—"))
        if self.window:
            rows.append((t("data.window"), f"{t.date(self.window[0])} – {t.date(self.window[1])}"))
        if m.get("seed") is not None:
            rows.append((t("data.seed"), str(m["seed"])))
        hz = (m.get("settings") or {}).get("horizons")
        if hz:
            rows.append((t("data.horizons"), ", ".join(str(h) for h in hz)))
        rows.append((t("data.language"), {"nl": "Nederlands", "en": "English"}[self.lang]))
        rows.append((t("data.simulated"), t("data.yes") if self._simulated() else t("data.no")))
        return self._table("settings", t("data.settings_caption"), [t("data.setting"), t("data.value")], rows,
                           align=["left", "left"])

    @report_part
    def input_files(self) -> Block:
        t = self.t
        inputs = (self.settings.get("manifest") or {}).get("inputs") or {}
        if not inputs:
            return Block()
        rows = []
        for name, info in sorted(inputs.items()):
            info = info if isinstance(info, dict) else {"file": str(info)}
            rows.append((Path(str(info.get("file", name))).name,
                         t.count(info["bytes"]) if info.get("bytes") is not None else "",
                         str(info.get("sha256", ""))[:16]))
        return self._table("inputs", t("data.inputs_caption"), [t("data.file"), t("data.bytes"), t("data.hash")],
                           rows, align=["left", "right", "left"])

    @report_part
    def cleaning_log(self) -> Block:
        t = self.t
        log = self.table("cleaning_log", ["table", "outcome", "reason", "rows"])
        if log is None:
            return Block()
        rows = [(r.table, t.cleaning("outcome", r.outcome), t.cleaning("reason", r.reason), t.count(r.rows))
                for r in log.itertuples()]
        return self._table("cleaning-log", t("data.cleaning_caption"),
                           [t("data.table"), t("data.outcome"), t("data.reason"), t("data.rows")], rows,
                           note=t("data.cleaning_note"), align=["left", "left", "left", "right"])

    @report_part
    def tables_present(self) -> Block:
        t = self.t
        rows = []
        for name, files in TABLES.items():
            df = self.tables.get(name)
            rows.append((f"{files[0]}.csv", t.count(len(df)) if df is not None else t("data.table_missing")))
        return self._table("tables-present", t("data.tables_caption"), [t("data.table_file"), t("data.table_rows")],
                           rows, note=t("data.tables_note"), align=["left", "right"])

    @report_part
    def disclosure_rules(self) -> Block:
        return self.section("data.disclosure_title") + self.text("data.disclosure")

    @report_part
    def versions(self) -> Block:
        t = self.t
        v = (self.settings.get("manifest") or {}).get("versions") or {}
        if not v:
            return Block()
        rows = [(k, str(val)) for k, val in v.items() if k != "platform"]
        return self._table("versions", t("data.versions_caption"), [t("data.package"), t("data.version")], rows,
                           align=["left", "left"])
