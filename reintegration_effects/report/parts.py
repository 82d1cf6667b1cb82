"""The :class:`Report`: its state, constructor and shared helpers; the chapters' parts come from the mixins."""

from __future__ import annotations

import base64
import json
import math
import shutil
import tempfile
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..disclosure import save_protected_figure
from ..errors import InsufficientDataError
from ..i18n import DEFAULT_LANGUAGE, Translator, check_language
from .benchmark_parts import BenchmarkParts
from .blocks import (
    Block,
    esc,
    group_color,
    group_sort_key,
    join_text,
    md_escape,
    md_to_html,
    new_figure,
    note_md,
    pipe_table,
    plotly_html,
    prepare_figure,
    raw_typst,
    report_part,
    slug,
    wrap_html,
    wrap_label,
)
from .dashboard_parts import DashboardParts
from .duration_parts import DurationParts
from .effects_parts import EffectsParts
from .evaluation_parts import EvaluationParts
from .monitor_parts import MonitorParts
from .survival_parts import SurvivalParts
from .tables import (
    APPENDICES,
    CHAPTER_TABLES,
    EXTRA_CHAPTER_TABLES,
    GROUP_DIMENSIONS,
    STATUS_ORDER,
    read_tables,
)

# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@dataclass
class Report(DashboardParts, EvaluationParts, MonitorParts, SurvivalParts, EffectsParts, DurationParts,
             BenchmarkParts):
    """The report's parts, made from the protected tables; every method returns a :class:`Block`.

    Build it with :meth:`from_folder` (what the notebooks do). ``settings`` holds the context:
    ``municipality``, ``window`` (start, end), ``manifest`` (seed, inputs, versions), ``date``,
    ``version``. ``figures`` is where static figures are saved (SVG, referenced by the PDF); when not given, a
    temporary folder that is removed with the Report.
    ``strict=True`` raises on the first failing part instead of noting it (tests use it).
    """

    tables: dict[str, pd.DataFrame]
    lang: str = DEFAULT_LANGUAGE
    settings: dict = field(default_factory=dict)
    figures: Path | None = None
    strict: bool = False
    problems: list[str] = field(default_factory=list)

    def __post_init__(self):
        check_language(self.lang)
        self.t = Translator(self.lang, programme_names=self._programme_names())
        if self.figures is None:  # a folder of its own, removed with the Report (the HTML embeds the SVGs)
            self.figures = Path(tempfile.mkdtemp(prefix="report-figures-"))
            weakref.finalize(self, shutil.rmtree, str(self.figures), ignore_errors=True)
        self.figures = Path(self.figures)
        self.figures.mkdir(parents=True, exist_ok=True)

    def _programme_names(self) -> dict[str, str]:
        """The municipality's names for its programmes, in the report's language (programmes.csv)."""
        pr = self.tables.get("programmes")
        col = f"name_{self.lang}"
        if pr is None or pr.empty or "programme" not in pr.columns or col not in pr.columns:
            return {}
        return {str(p): str(n) for p, n in zip(pr["programme"], pr[col], strict=True) if isinstance(n, str) and n}

    @classmethod
    def from_folder(cls, out: str | Path, *, lang: str = DEFAULT_LANGUAGE, context: str | Path | dict | None = None,
                    figures: str | Path | None = None, strict: bool = False) -> Report:
        """Read ``OUT/tables`` and the context (a dict, or the JSON file :func:`write_report` writes)."""
        if isinstance(context, str | Path):
            settings = json.loads(Path(context).read_text(encoding="utf-8"))
        else:
            settings = dict(context or {})
        return cls(read_tables(out), lang=lang, settings=settings, figures=figures, strict=strict)

    # ------------------------------------------------------------------ access helpers
    def table(self, name: str, columns: Sequence[str] = ()) -> pd.DataFrame | None:
        """The table, or None when absent, empty, or lacking one of ``columns``."""
        df = self.tables.get(name)
        if df is None or df.empty or any(c not in df.columns for c in columns):
            return None
        return df

    def missing(self, chapter: str) -> list[str]:
        return [n for n in CHAPTER_TABLES.get(chapter, ()) if self.table(n) is None]

    @property
    def municipality(self) -> str | None:
        m = self.settings.get("municipality")
        if not m:
            m = (self.settings.get("manifest") or {}).get("settings", {}).get("municipality")
        return m or None

    @property
    def window(self) -> tuple[str, str] | None:
        w = self.settings.get("window")
        if not w:
            mw = (self.settings.get("manifest") or {}).get("window")
            w = (mw.get("start"), mw.get("end")) if isinstance(mw, dict) else None
        return tuple(str(x)[:10] for x in w) if w else None

    def _ci(self, lo, hi, decimals: int = 1, scale: float = 100.0) -> str:
        if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
            return ""
        sep = "; " if self.lang == "nl" else ", "
        return f"[{self.t.number(scale * lo, decimals)}{sep}{self.t.number(scale * hi, decimals)}]"

    # ------------------------------------------------------------------ rendering helpers
    def _figure(self, name: str, caption: str, note: str = "", *, static=None, plotly=None,
                html_note: str | None = None) -> Block:
        """A numbered figure: plotly (if given) in the HTML, the static matplotlib figure in the PDF.

        ``note`` is the small print under the figure; ``html_note`` replaces it in the HTML (e.g. to
        point at the chart's menu, which the PDF does not have)."""
        ident = slug(name)
        md = ""
        img_html = ""
        layout = ""
        if static is not None:
            # Dutch/English tick numbers, wrapped titles, and no text cut or covered (strict: raises)
            # saved through the disclosure check; the checked draw is the saved one
            layout, svg = prepare_figure(static, number=self.t.number, name=name, strict=self.strict,
                                         save=partial(save_protected_figure, name=name))
            path = self.figures / f"{ident}.svg"
            path.write_bytes(svg)
            img_html = (f'<img class="static-figure" alt="{esc(caption)}" '
                        f'src="data:image/svg+xml;base64,{base64.b64encode(svg).decode()}">')
            md = f"![{caption}](figures/{path.name}){{#fig-{ident} width=100%}}"
            md = join_text(md, note_md(note), "\n\n")
        body = plotly_html(plotly, name) if plotly is not None else img_html
        note_html = html_note if html_note is not None else note
        note_html = f'<div class="note">{md_to_html(note_html)}</div>' if note_html else ""
        h = (f'<figure class="figure" id="fig-{ident}"><div class="figure-body">{body}</div>'
             f'<figcaption>{md_to_html(caption, inline=True)}</figcaption>{note_html}</figure>')
        if layout:  # a visible warning (the report's build lists it) instead of a silently cut label
            self.problems.append(layout)
            msg = self.t("report.part_failed", error=f"FigureLayoutError: {layout}")
            h += f'<p class="part-failed">{esc(msg)}</p>'
            md = join_text(md, md_escape(msg), "\n\n")
        return Block(h, md)

    def _table(self, name: str, caption: str, header: Sequence[str], rows: Sequence[Sequence[Any]], *,
               note: str = "", align: Sequence[str] | None = None, md_rows: Sequence[Sequence[str]] | None = None,
               html_rows: Sequence[str] | None = None, controls: str = "", md_caption: str | None = None) -> Block:
        """A numbered table. ``rows`` hold plain text (escaped here); ``html_rows`` may replace the
        HTML body rows (already rendered ``<tr>``), ``md_rows`` the Markdown cells (already escaped)."""
        ident = slug(name)
        align = list(align or ["left"] + ["right"] * (len(header) - 1))
        ths = "".join(f'<th class="{a}">{esc(h)}</th>' for h, a in zip(header, align, strict=True))
        if html_rows is None:
            html_rows = ["<tr>" + "".join(f'<td class="{a}">{esc(c)}</td>' for c, a in zip(r, align, strict=True))
                         + "</tr>" for r in rows]
        note_html = f'<div class="note">{md_to_html(note)}</div>' if note else ""
        h = (f'<figure class="table" id="tbl-{ident}"><figcaption>{md_to_html(caption, inline=True)}</figcaption>'
             f'{controls}<div class="table-scroll"><table class="data"><thead><tr>{ths}</tr></thead>'
             f'<tbody>{"".join(html_rows)}</tbody></table></div>{note_html}</figure>')
        if md_rows is None:
            md_rows = [[md_escape(c) for c in r] for r in rows]
        md = pipe_table([md_escape(x) for x in header], md_rows, align, md_caption or caption, ident)
        return Block(h, join_text(md, note_md(note), "\n\n"))

    def _note(self, text: str) -> Block:
        """A short note in place of a part that has nothing to show (and why)."""
        return Block(f'<p class="missing">{esc(text)}</p>', md_escape(text))

    def _paragraphs(self, text: str, cls: str = "text") -> Block:
        return Block(f'<div class="{cls}">{md_to_html(text)}</div>', text)

    # ------------------------------------------------------------------ headings and texts
    @report_part
    def chapter(self, key: str) -> Block:
        """Chapter heading (numbered; the methods chapter is the appendix) plus a note on absent tables."""
        title = self.t(f"chapter.{key}")
        appendix = key in APPENDICES
        cls = "chapter-title appendix" if appendix else "chapter-title"
        if appendix:
            title = f"{self.t('report.appendix')} {chr(ord('A') + APPENDICES.index(key))}. {title}"
        h = f'<h2 class="{cls}" id="ch-{key}">{esc(title)}</h2>'
        md = f"# {md_escape(self.t(f'chapter.{key}'))} {{#ch-{key}}}"
        if appendix and key == APPENDICES[0]:  # typst numbers what follows as appendices A, B, ...
            md = raw_typst("#show: appendix") + "\n\n" + md
        block = Block(h, md)
        for msg in self._absent_notes(key):
            block = block + Block(f'<p class="missing">{esc(msg)}</p>', md_escape(msg))
        return block

    def skipped(self) -> list[tuple[tuple[str, ...], str]]:
        """Parts the run skipped for lack of data: (tables, reason) from the run log in the manifest."""
        notes = (self.settings.get("manifest") or {}).get("notes") or self.settings.get("notes") or []
        return [p for p in (InsufficientDataError.parse_note(n) for n in notes) if p is not None]

    def _absent_notes(self, chapter: str) -> list[str]:
        """Why tables of the chapter are absent, empty or fully suppressed, one sentence each.

        A table the run skipped is explained with the reason from the run log (also when the skip
        was partial, e.g. one estimation method or one model); a table absent for another reason is
        named as not found; a table whose every cell is suppressed says so.
        """
        own = set(CHAPTER_TABLES.get(chapter, ())) | {t for t, c in EXTRA_CHAPTER_TABLES.items() if c == chapter}
        explained: set[str] = set()
        out = []
        for tables, reason in self.skipped():
            mine = [t for t in tables if t.split(" ")[0] in own]
            if mine:
                explained.update(t.split(" ")[0] for t in mine)
                out.append(self.t("report.skipped", tables=", ".join(mine), reason=reason))
        missing = [m for m in self.missing(chapter) if m not in explained]
        if missing:
            out.append(self.t("report.not_available", tables=", ".join(f"{m}.csv" for m in missing)))
        suppressed = [n for n in CHAPTER_TABLES.get(chapter, ()) if n not in explained and self._all_suppressed(n)]
        if suppressed:
            out.append(self.t("report.all_suppressed", tables=", ".join(f"{m}.csv" for m in suppressed)))
        return out

    def _all_suppressed(self, name: str) -> bool:
        """True when the table has rows and the disclosure gate suppressed every one of them."""
        df = self.table(name)
        if df is None or "suppressed" not in df.columns:
            return False
        if not df["suppressed"].astype(str).str.lower().isin(["true", "1"]).all():
            return False
        # a row may be flagged for one small column (e.g. persons off support) while its other counts
        # are published: then there is something to show
        numeric = [c for c in df.select_dtypes("number").columns if c not in ("horizon_months", "time", "leaf")]
        return not any(df[c].notna().any() for c in numeric)

    @report_part
    def section(self, key: str) -> Block:
        title = self.t(key)
        return Block(f'<h3 id="sec-{slug(key)}">{esc(title)}</h3>', f"## {md_escape(title)}")

    @report_part
    def text(self, key: str, **values) -> Block:
        return self._paragraphs(self.t(key, **values))

    @report_part
    def intro(self, chapter: str) -> Block:
        """The chapter's introduction (the dashboard's names the municipality; simulated data flagged)."""
        if chapter == "dashboard":
            name = self.municipality or ("—" if self.lang == "en" else "de gemeente")
            return self._paragraphs(self.t("dashboard.intro", municipality=name), "text lead")
        return self._paragraphs(self.t(f"{chapter}.intro"), "text lead")

    def _simulated(self) -> bool:
        m = self.settings.get("manifest") or {}
        return bool(self.settings.get("simulated", m.get("simulated", False)))

    # ================================================================== cohorts
    def _cohorts(self, kind: str, table: str = "flows") -> list[str]:
        df = self.table(table, ["cohort"])
        if df is None:
            return []
        return sorted(c for c in df["cohort"].dropna().unique() if str(c).startswith(f"{kind}_"))

    def _max_horizon(self) -> int | None:
        df = self.table("flows", ["horizon_months"])
        return int(df["horizon_months"].max()) if df is not None else None

    def main_cohort(self, kind: str = "outflow", table: str = "flows") -> str | None:
        """The latest cohort of ``kind`` followed up to the longest horizon (the dashboard's cohort)."""
        df = self.table(table, ["cohort"])
        if df is None:
            return None
        cohorts = self._cohorts(kind, table)
        if not cohorts:
            return None
        if "horizon_months" in df.columns:
            h = df["horizon_months"].max()
            full = [c for c in cohorts if (df.loc[df["cohort"] == c, "horizon_months"] == h).any()]
            cohorts = full or cohorts
        return cohorts[-1]

    def _flow_matrix(self, cohort: str, df: pd.DataFrame | None = None) -> pd.DataFrame:
        """persons by status (rows, STATUS_ORDER) and horizon (columns) for one cohort; NA = suppressed."""
        df = self.table("flows") if df is None else df
        d = df[df["cohort"] == cohort]
        m = d.pivot_table(index="status", columns="horizon_months", values="persons", aggfunc="first", dropna=False)
        order = [s for s in STATUS_ORDER if s in m.index] + [s for s in m.index if s not in STATUS_ORDER]
        return m.reindex(order)

    # ------------------------------------------------------------------ curves
    def _plotly_layout(self, height: int = 400, **kw) -> dict:
        sep = ",." if self.lang == "nl" else ".,"
        base = dict(template="plotly_white", height=height, separators=sep,
                    font=dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif", size=12),
                    margin=dict(l=60, r=20, t=60, b=50), hovermode="closest",
                    legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
        base.update(kw)
        return base

    def _menu(self, buttons: list[dict], active: int = 0) -> dict:
        """A dropdown at the chart's top left (the figure's note says what it chooses)."""
        return dict(buttons=buttons, active=active, direction="down", showactive=True, x=0.0, xanchor="left",
                    y=1.0, yanchor="bottom", pad=dict(l=0, t=0, b=14), bgcolor="#ffffff", bordercolor="#999999",
                    font=dict(size=12))

    def _curve_dimensions(self, df: pd.DataFrame, first: Sequence[str] = ()) -> list[str]:
        present = [d for d in df["dimension"].dropna().unique() if d != "all"]
        order = [*first, *GROUP_DIMENSIONS]
        return [d for d in order if d in present] + sorted(d for d in present if d not in order)

    def _curve_figure(self, df: pd.DataFrame, *, value: Callable[[pd.DataFrame], pd.Series], ylab: str,
                      xlab: str, first: Sequence[str] = (), default: str = "all", xmax: float | None = None,
                      band_all: bool = True):
        """Plotly lines per group, a menu by dimension; 'all' (with its band) always shown."""
        import plotly.graph_objects as go

        t = self.t
        dims = self._curve_dimensions(df, first)
        fig = go.Figure()
        owner: list[str | None] = []  # dimension of each trace (None = always visible)
        alld = df[df.group == "all"].sort_values("time")
        if len(alld):
            y = value(alld)
            if band_all and {"ci_lower", "ci_upper"} <= set(alld.columns):
                lo, hi = self._band(alld)
                fig.add_trace(go.Scatter(x=alld.time, y=hi, mode="lines", line=dict(width=0), hoverinfo="skip",
                                         showlegend=False))
                fig.add_trace(go.Scatter(x=alld.time, y=lo, mode="lines", line=dict(width=0), fill="tonexty",
                                         fillcolor="rgba(0,0,0,0.10)", hoverinfo="skip", showlegend=False))
                owner += [None, None]
            fig.add_trace(go.Scatter(x=alld.time, y=y, mode="lines", name=t.group("all"),
                                     line=dict(color="#222222", width=2.5),
                                     customdata=self._hover(alld, y), hovertemplate="%{customdata}<extra></extra>"))
            owner.append(None)
        for dim in dims:
            groups = [g for g in df.loc[df.dimension == dim, "group"].dropna().unique()]
            for k, g in enumerate(sorted(groups, key=group_sort_key)):
                d = df[(df.dimension == dim) & (df.group == g)].sort_values("time")
                y = value(d)
                fig.add_trace(go.Scatter(x=d.time, y=y, mode="lines", name=wrap_html(t.group(g), 40), visible=(dim == default),
                                         line=dict(color=group_color(g, k), width=2),
                                         customdata=self._hover(d, y), hovertemplate="%{customdata}<extra></extra>"))
                owner.append(dim)
        options = ["all", *dims]
        buttons = [dict(label=(t.group("all") if d == "all" else t.dimension(d).capitalize()), method="restyle",
                        args=[{"visible": [o is None or o == d for o in owner]}]) for d in options]
        active = options.index(default) if default in options else 0
        fig.update_layout(**self._plotly_layout(height=420),
                          updatemenus=[self._menu(buttons, active)])
        fig.update_yaxes(title=ylab, range=[0, 1.0], tickformat=".0%")
        fig.update_xaxes(title=xlab, range=[0, xmax] if xmax else None)
        return fig

    def _band(self, d: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        return d["ci_lower"], d["ci_upper"]

    def _hover(self, d: pd.DataFrame, y: pd.Series) -> list[str]:
        """Hover texts of a curve; the curves (km, reentry_km) count benefit spells, not persons."""
        t = self.t
        out = []
        for (_, r), v in zip(d.iterrows(), y, strict=True):
            s = f"{esc(t.group(r['group']))}: {t.percent(v, 1)} ({t.number(r['time'])} {t('report.months')})"
            if "persons" in r and pd.notna(r["persons"]):
                s += f"<br>{t('report.hover_spells', n=t.count(r['persons']))}"
            out.append(s)
        return out

    def _static_curves(self, df: pd.DataFrame, panels: Sequence[str], *, value, ylab: str, xlab: str,
                       xmax: float | None = None, ncols: int = 3, height_per_row: float = 2.2,
                       colors: dict | None = None, band_all: bool = True):
        """Static curves, one panel per dimension; each panel's legend (labels wrapped) sits under it,
        never over the lines, and the figure grows with the longest legend of each row."""
        from matplotlib.transforms import ScaledTranslation

        t = self.t
        nrows = math.ceil(len(panels) / ncols)
        width = {2: 34, 3: 26}.get(ncols, 22)
        groups_of = {dim: sorted(df.loc[df.dimension == dim, "group"].dropna().unique(), key=group_sort_key)
                     for dim in panels if dim != "all"}
        legend_lines = {dim: 1 + sum(wrap_label(t.group(g), width).count("\n") + 1 for g in gs)
                        for dim, gs in groups_of.items()}
        rows = [max([legend_lines.get(d, 0) for d in panels[i * ncols:(i + 1) * ncols]] + [0]) for i in range(nrows)]
        fig = new_figure(7.0, sum(height_per_row + 0.125 * n + (0.2 if n else 0) for n in rows) + 0.3)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, squeeze=False,
                                          height_ratios=[height_per_row + 0.125 * n for n in rows])).ravel()
        alld = df[df.group == "all"].sort_values("time")
        for ax, dim in zip(axes, panels, strict=False):
            if dim == "all":
                if len(alld):
                    if band_all and {"ci_lower", "ci_upper"} <= set(alld.columns):
                        lo, hi = self._band(alld)
                        ax.fill_between(alld.time, lo, hi, color="#000000", alpha=0.12, lw=0)
                    ax.plot(alld.time, value(alld), color="#222222", lw=1.8, label=t.group("all"))
                ax.set_title(t.group("all"))
            else:
                if len(alld):
                    ax.plot(alld.time, value(alld), color="#999999", lw=1, ls="--", label=t.group("all"))
                for k, g in enumerate(groups_of[dim]):
                    d = df[(df.dimension == dim) & (df.group == g)].sort_values("time")
                    color = (colors or {}).get(g.split("=", 1)[-1]) or group_color(g, k)
                    ax.plot(d.time, value(d), color=color, lw=1.5, label=wrap_label(t.group(g), width))
                ax.set_title(t.dimension(dim).capitalize())
                below = ax.transAxes + ScaledTranslation(0, -16 / 72, fig.dpi_scale_trans)
                ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below, fontsize=6.5,
                          handlelength=1.2, borderaxespad=0)
            ax.set_ylim(0, 1)
            if xmax:
                ax.set_xlim(0, xmax)
            ax.yaxis.set_major_formatter(self._pct_formatter())
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        fig.supxlabel(xlab, fontsize=8.5)
        fig.supylabel(ylab, fontsize=8.5)
        return fig

    def _pct_formatter(self, decimals: int = 0):
        from matplotlib.ticker import FuncFormatter

        return FuncFormatter(lambda v, _: self.t.percent(v, decimals))

    def _num_formatter(self, decimals: int = 0):
        from matplotlib.ticker import FuncFormatter

        return FuncFormatter(lambda v, _: self.t.number(v, decimals))
