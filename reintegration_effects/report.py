"""The report: an HTML dashboard and a PDF, in Dutch or English, from the protected tables only.

Readers are policy evaluators and municipal staff. Everything the report shows is read from
``OUT/tables/*.csv`` (and ``OUT/cleaning_log.csv``), which the run wrote through the disclosure
gate: so every number in the report has passed disclosure control. The report never sees the
input data or the panel.

How it is made (:func:`write_report`):

1. The notebooks in ``analyses/`` (jupytext percent scripts, one per chapter) are executed with
   nbclient, parameterised by the output folder, the language and a context file (municipality,
   data window, manifest). They hold no logic: each cell calls one method of :class:`Report`,
   which returns a :class:`Block` with two renderings, HTML (interactive plotly charts, tables)
   and Markdown (static SVG figures, pipe tables) for the PDF.
2. HTML: each executed notebook is converted with nbconvert (code cells hidden) and the parts are
   put into one self-contained page (``templates/report.html.j2``, CSS and plotly.js inline; no
   CDN, works offline).
3. PDF: the Markdown outputs are joined, converted to typst by pandoc (``pypandoc_binary``) and
   compiled by the ``typst`` Python package (title page, contents, numbered figures and tables,
   methods appendix; fonts built into typst, so é, ë, €, ≥ render without system fonts).

Every matplotlib figure is saved through :func:`~reintegration_effects.disclosure.save_protected_figure`
(individual points refused); every plotly figure passes :func:`check_plotly_figure`, the same rule
for plotly traces. Aggregated points are marked with ``gid``/``meta`` = :data:`AGGREGATED_GID`.

The same tables give the same report: figure ids, plot ids and cell ids are derived from names,
SVGs carry no date and the PDF's timestamp is the report date.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date as _date
from functools import wraps
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .disclosure import AGGREGATED_GID, save_protected_figure
from .errors import DisclosureError, InsufficientDataError
from .i18n import DEFAULT_LANGUAGE, Translator, check_language

__all__ = [
    "CHAPTERS",
    "NOTEBOOKS",
    "TABLES",
    "Block",
    "Report",
    "check_plotly_figure",
    "read_tables",
    "write_report",
]

# --------------------------------------------------------------------------------------------
# What the report reads, and in which order it shows it
# --------------------------------------------------------------------------------------------

#: Chapters in report order: (key, notebook file stem in analyses/).
CHAPTERS: tuple[tuple[str, str], ...] = (
    ("dashboard", "00_dashboard"),
    ("data", "01_data"),
    ("flows", "02_flows"),
    ("typology", "03_typology"),
    ("careers", "04_careers"),
    ("survival", "05_survival"),
    ("effects", "06_effects"),
    ("methods", "07_methods"),
)
NOTEBOOKS = tuple(stem for _, stem in CHAPTERS)

#: Protected tables the report can show: name -> file names tried in OUT/tables (first found wins).
TABLES: dict[str, tuple[str, ...]] = {
    "flows": ("flows",),
    "flows_by_group": ("flows_by_group",),
    "transitions": ("transitions",),
    "typology": ("typology",),
    "typology_profile": ("typology_profile",),
    "reentry": ("reentry",),
    "job_quality": ("job_quality",),
    "job_retention": ("job_retention",),
    "wages": ("wages",),
    "sustainable_vs_short_by_programme": ("sustainable_vs_short_by_programme",),
    "career_clusters": ("career_clusters",),
    "career_state_shares": ("career_state_shares",),
    "career_profile": ("career_profile",),
    "km": ("km", "km_outflow"),
    "medians": ("medians",),
    "cumulative_incidence": ("cumulative_incidence",),
    "reentry_km": ("reentry_km", "km_reentry"),
    "hazards": ("hazards",),
    "ph_tests": ("ph_tests",),
    "immortal_time": ("immortal_time",),
    "effects": ("effects",),
    "effects_balance": ("effects_balance",),
    "effects_overlap": ("effects_overlap",),
    "effects_propensity": ("effects_propensity",),
    "risk_set_log": ("risk_set_log",),
    "effects_blp": ("effects_blp",),
    "effects_calibration": ("effects_calibration",),
    "effects_sensitivity": ("effects_sensitivity",),
    "policy": ("policy",),
}

#: The tables each chapter draws on (for the 'not available in this run' note).
CHAPTER_TABLES: dict[str, tuple[str, ...]] = {
    "dashboard": ("flows", "transitions", "km", "reentry_km", "effects"),
    "data": (),
    "flows": ("flows", "flows_by_group", "transitions"),
    "typology": ("typology", "typology_profile", "reentry", "job_quality", "job_retention", "wages",
                 "sustainable_vs_short_by_programme"),
    "careers": ("career_clusters", "career_state_shares", "career_profile"),
    "survival": ("km", "medians", "cumulative_incidence", "reentry_km", "hazards", "ph_tests", "immortal_time"),
    "effects": ("effects", "effects_blp", "effects_sensitivity", "policy", "effects_calibration", "effects_balance",
                "effects_overlap", "effects_propensity", "risk_set_log"),
    "methods": (),
}

#: Tables written by the run but not drawn on by a chapter's parts: the chapter whose note explains
#: them when the run skipped them.
EXTRA_CHAPTER_TABLES: dict[str, str] = {
    "cause_specific": "survival", "logrank": "survival", "career_quality": "careers", "career_typical": "careers",
    "effects_plain_language": "effects",
}

STATUS_ORDER = ("bijstand", "werk", "bijstand_met_werk", "ww", "overig")
STATUS_COLORS = {"bijstand": "#762a83", "bijstand_met_werk": "#c2a5cf", "werk": "#1b7837",
                 "ww": "#e08214", "overig": "#a6a6a6"}
TYPE_ORDER = ("continuous", "recidivist", "short_outflow", "outflow_elsewhere", "sustainable_work")
TYPE_COLORS = {"continuous": "#762a83", "recidivist": "#9970ab", "short_outflow": "#e08214",
               "outflow_elsewhere": "#a6a6a6", "sustainable_work": "#1b7837"}
STATE_ORDER = ("stable_work", "flexible_work", "work_unknown_contract", "bijstand_met_werk", "bijstand", "ww", "overig")
STATE_COLORS = {"stable_work": "#1b7837", "flexible_work": "#7fbf7b", "work_unknown_contract": "#d9f0d3",
                "bijstand_met_werk": "#c2a5cf", "bijstand": "#762a83", "ww": "#e08214", "overig": "#a6a6a6"}
DESTINATION_COLORS = {"all": "#222222", "werk": "#1b7837", "ww": "#e08214", "overig": "#a6a6a6",
                      "elsewhere": "#e08214"}
#: Okabe-Ito: distinguishable with colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
GROUP_DIMENSIONS = ("sex", "age", "migration", "household", "education", "duration")
METHOD_ORDER = ("naive", "matching", "dml")
OUTCOME_ORDER = ("off_bijstand_6_18m", "off_bijstand_12m", "employed_12m", "months_bijstand_18m")
MAIN_OUTCOME = "off_bijstand_6_18m"
MAIN_METHOD = "dml"

_TEMPLATES = Path(__file__).with_name("templates")
#: The chapter notebooks: analyses/ of the source tree (editable install) or, in a built wheel,
#: the copy setup.py ships as package data.
_ANALYSES = Path(__file__).resolve().parent.parent / "analyses"
_PACKAGED_NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


# --------------------------------------------------------------------------------------------
# Reading the protected tables
# --------------------------------------------------------------------------------------------


def _read_csv(path: Path) -> pd.DataFrame:
    """A protected CSV: only empty fields are missing (a label 'NA' or 'none' stays a label)."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[""], low_memory=False)
    for c in df.columns:
        if df[c].dtype == object and c in ("cohort", "status", "group", "dimension", "value", "type", "programme",
                                           "term", "model", "state", "destination", "outcome", "method", "label"):
            df[c] = df[c].astype("string").astype(object)
    return df


def read_tables(out: str | Path) -> dict[str, pd.DataFrame]:
    """The protected tables found in ``OUT/tables`` (see :data:`TABLES`), plus ``cleaning_log``.

    Absent tables are absent from the dict; a table with no rows is kept (and shown as empty).
    """
    out = Path(out)
    found: dict[str, pd.DataFrame] = {}
    for name, files in TABLES.items():
        for stem in files:
            path = out / "tables" / f"{stem}.csv"
            if path.is_file():
                try:
                    found[name] = _read_csv(path)
                except pd.errors.EmptyDataError:
                    found[name] = pd.DataFrame()
                break
    log = out / "cleaning_log.csv"
    if log.is_file():
        found["cleaning_log"] = _read_csv(log)
    return found


# --------------------------------------------------------------------------------------------
# Blocks: one piece of the report in two renderings
# --------------------------------------------------------------------------------------------


@dataclass
class Block:
    """One piece of the report: ``html`` for the web page, ``markdown`` (pandoc) for the PDF.

    In a notebook a Block displays as both (``text/html`` and ``text/markdown``); the report's
    assembler takes the HTML for ``report.html`` and the Markdown for ``report.pdf``.
    """

    html: str = ""
    markdown: str = ""

    def __bool__(self) -> bool:
        return bool(self.html or self.markdown)

    def __add__(self, other: Block) -> Block:
        return Block(_join(self.html, other.html), _join(self.markdown, other.markdown, "\n\n"))

    @classmethod
    def join(cls, blocks: Iterable[Block]) -> Block:
        out = cls()
        for b in blocks:
            out = out + b
        return out

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        if not self:
            return {"text/plain": ""}
        return {"text/html": self.html, "text/markdown": self.markdown, "text/plain": ""}

    def __repr__(self) -> str:  # keeps notebooks' text/plain fallback empty
        return ""


def _join(a: str, b: str, sep: str = "\n") -> str:
    return a + sep + b if a and b else a or b


# --------------------------------------------------------------------------------------------
# Escaping and small renderers
# --------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|$~^@])")


def _md_escape(text: Any) -> str:
    """Plain text as pandoc Markdown (labels, cell values): special characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _md_to_html(text: str, inline: bool = False) -> str:
    """The report's short Markdown texts (emphasis, bold, lists, code) as HTML."""
    import mistune

    md = mistune.create_markdown(escape=True)
    out = md(text).strip()
    if inline and out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
        out = out[3:-4]
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def _raw_typst(code: str) -> str:
    return f"```{{=typst}}\n{code}\n```"


def _note_md(text: str) -> str:
    """A small-print note under a figure or table in the PDF (typst ``#note[...]`` from the template)."""
    if not text:
        return ""
    return f"{_raw_typst('#note[')}\n\n{text}\n\n{_raw_typst(']')}"


_RAW_INLINE = re.compile(r"`[^`]*`\{=typst\}")


def _visible_len(cell: str) -> int:
    """Length of a Markdown cell as printed (raw typst and escapes left out), for column widths."""
    return len(_RAW_INLINE.sub("", cell).replace("\\", "").replace("**", "")) + (4 if _RAW_INLINE.search(cell) else 0)


def _pipe_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str],
                caption: str, ident: str) -> str:
    """A pandoc pipe table with a caption; column widths follow the longest cell of each column."""
    widths = [max([_visible_len(h)] + [_visible_len(r[i]) for r in rows]) for i, h in enumerate(header)]
    total = sum(widths) or 1
    dashes = [max(3, round(60 * w / total)) for w in widths]
    sep = []
    for a, n in zip(align, dashes, strict=True):
        bar = "-" * n
        sep.append(f"{bar}:" if a == "right" else f":{bar}" if a == "left" else f":{bar}:")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(sep) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + f"\n\n: {caption} {{#tbl-{ident}}}"


# --------------------------------------------------------------------------------------------
# Plotly: the disclosure rule for interactive charts, and HTML without a CDN
# --------------------------------------------------------------------------------------------

_RAW_DATA_TRACES = ("box", "violin", "histogram", "histogram2d", "histogram2dcontour", "splom",
                    "pointcloud", "densitymapbox", "densitymap")


def check_plotly_figure(fig, *, name: str = "figure") -> None:
    """Raise :class:`DisclosureError` if a plotly figure may show individual persons.

    The plotly counterpart of :func:`~reintegration_effects.disclosure.check_figure`: refused are
    traces that aggregate raw values in the browser (box, violin, histogram, splom: the raw values
    would be inside the HTML) and scatter traces drawn with markers unless marked as aggregates
    with ``meta=AGGREGATED_GID``. Lines, bars, filled areas and Sankey diagrams of counts pass.
    """
    problems = []
    for i, tr in enumerate(fig.data, start=1):
        label = f"trace {i} ('{tr.name}')" if getattr(tr, "name", None) else f"trace {i}"
        if tr.type in _RAW_DATA_TRACES:
            problems.append(f"{label}: a {tr.type} trace carries individual values")
        elif tr.type in ("scatter", "scattergl"):
            mode = tr.mode or ("lines+markers" if tr.x is not None and len(tr.x) < 20 else "lines")
            if "markers" in mode and tr.meta != AGGREGATED_GID:
                problems.append(f"{label}: a scatter with markers on {len(tr.x) if tr.x is not None else 0} points")
    if problems:
        raise DisclosureError(f"plotly figure '{name}': " + "; ".join(problems) + ". Individual-level points "
                              f"may not leave CBS. Fix: plot aggregates and mark them with meta='{AGGREGATED_GID}'")


def _plotly_html(fig, name: str) -> str:
    check_plotly_figure(fig, name=name)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"plot-{_slug(name)}",
                       config={"displaylogo": False, "responsive": True,
                               "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]})


# --------------------------------------------------------------------------------------------
# Matplotlib: a quiet, consistent style; figures built without pyplot (nothing shown by accident)
# --------------------------------------------------------------------------------------------

_MPL_STYLE = {
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "svg.hashsalt": "reintegration_effects",
    "svg.fonttype": "path",
}


def _new_figure(width: float = 7.0, height: float = 3.2):
    import matplotlib as mpl
    from matplotlib.figure import Figure

    with mpl.rc_context(_MPL_STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
    return fig


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def _part(method: Callable[..., Block]) -> Callable[..., Block]:
    """Run one part of the report; on an error, show a short note instead (or raise when strict)."""

    @wraps(method)
    def run(self: Report, *args, **kwargs) -> Block:
        import matplotlib as mpl

        try:
            with warnings.catch_warnings(), mpl.rc_context(_MPL_STYLE):
                warnings.simplefilter("ignore")
                return method(self, *args, **kwargs)
        except Exception as e:  # noqa: BLE001 - one broken part must not cost the whole report
            if self.strict:
                raise
            self.problems.append(f"{method.__name__}: {type(e).__name__}: {e}")
            msg = self.t("report.part_failed", error=f"{type(e).__name__}: {e}")
            return Block(f'<p class="part-failed">{_esc(msg)}</p>', _md_escape(msg))

    return run


@dataclass
class Report:
    """The report's parts, made from the protected tables; every method returns a :class:`Block`.

    Build it with :meth:`from_folder` (what the notebooks do). ``settings`` holds the context:
    ``municipality``, ``window`` (start, end), ``manifest`` (seed, inputs, versions), ``date``,
    ``version``. ``figures`` is where static figures are saved (SVG, referenced by the PDF).
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
        self.t = Translator(self.lang)
        if self.figures is None:
            self.figures = Path(tempfile.mkdtemp(prefix="report-figures-"))
        self.figures = Path(self.figures)
        self.figures.mkdir(parents=True, exist_ok=True)

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
        ident = _slug(name)
        md = ""
        img_html = ""
        if static is not None:
            path = save_protected_figure(static, self.figures / f"{ident}.svg", name=name, format="svg",
                                         metadata={"Date": None})
            svg = path.read_bytes()
            img_html = (f'<img class="static-figure" alt="{_esc(caption)}" '
                        f'src="data:image/svg+xml;base64,{base64.b64encode(svg).decode()}">')
            md = f"![{caption}](figures/{path.name}){{#fig-{ident} width=100%}}"
            md = _join(md, _note_md(note), "\n\n")
        body = _plotly_html(plotly, name) if plotly is not None else img_html
        note_html = html_note if html_note is not None else note
        note_html = f'<div class="note">{_md_to_html(note_html)}</div>' if note_html else ""
        h = (f'<figure class="figure" id="fig-{ident}"><div class="figure-body">{body}</div>'
             f'<figcaption>{_md_to_html(caption, inline=True)}</figcaption>{note_html}</figure>')
        return Block(h, md)

    def _table(self, name: str, caption: str, header: Sequence[str], rows: Sequence[Sequence[Any]], *,
               note: str = "", align: Sequence[str] | None = None, md_rows: Sequence[Sequence[str]] | None = None,
               html_rows: Sequence[str] | None = None, controls: str = "", md_caption: str | None = None) -> Block:
        """A numbered table. ``rows`` hold plain text (escaped here); ``html_rows`` may replace the
        HTML body rows (already rendered ``<tr>``), ``md_rows`` the Markdown cells (already escaped)."""
        ident = _slug(name)
        align = list(align or ["left"] + ["right"] * (len(header) - 1))
        ths = "".join(f'<th class="{a}">{_esc(h)}</th>' for h, a in zip(header, align, strict=True))
        if html_rows is None:
            html_rows = ["<tr>" + "".join(f'<td class="{a}">{_esc(c)}</td>' for c, a in zip(r, align, strict=True))
                         + "</tr>" for r in rows]
        note_html = f'<div class="note">{_md_to_html(note)}</div>' if note else ""
        h = (f'<figure class="table" id="tbl-{ident}"><figcaption>{_md_to_html(caption, inline=True)}</figcaption>'
             f'{controls}<div class="table-scroll"><table class="data"><thead><tr>{ths}</tr></thead>'
             f'<tbody>{"".join(html_rows)}</tbody></table></div>{note_html}</figure>')
        if md_rows is None:
            md_rows = [[_md_escape(c) for c in r] for r in rows]
        md = _pipe_table([_md_escape(x) for x in header], md_rows, align, md_caption or caption, ident)
        return Block(h, _join(md, _note_md(note), "\n\n"))

    def _note(self, text: str) -> Block:
        """A short note in place of a part that has nothing to show (and why)."""
        return Block(f'<p class="missing">{_esc(text)}</p>', _md_escape(text))

    def _paragraphs(self, text: str, cls: str = "text") -> Block:
        return Block(f'<div class="{cls}">{_md_to_html(text)}</div>', text)

    # ------------------------------------------------------------------ headings and texts
    @_part
    def chapter(self, key: str) -> Block:
        """Chapter heading (numbered; the methods chapter is the appendix) plus a note on absent tables."""
        title = self.t(f"chapter.{key}")
        appendix = key == "methods"
        cls = "chapter-title appendix" if appendix else "chapter-title"
        h = f'<h2 class="{cls}" id="ch-{key}">{_esc(title)}</h2>'
        md = f"# {_md_escape(title)} {{#ch-{key}}}"
        if appendix:
            md = _raw_typst("#show: appendix") + "\n\n" + md
        block = Block(h, md)
        for msg in self._absent_notes(key):
            block = block + Block(f'<p class="missing">{_esc(msg)}</p>', _md_escape(msg))
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
        return df is not None and "suppressed" in df.columns and bool(
            df["suppressed"].astype(str).str.lower().isin(["true", "1"]).all())

    @_part
    def section(self, key: str) -> Block:
        title = self.t(key)
        return Block(f'<h3 id="sec-{_slug(key)}">{_esc(title)}</h3>', f"## {_md_escape(title)}")

    @_part
    def text(self, key: str, **values) -> Block:
        return self._paragraphs(self.t(key, **values))

    @_part
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

    # ================================================================== dashboard
    @_part
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
                n = first["persons"].sum()
                value = t.count(n) if first["persons"].notna().all() else t("report.approx", value=t.count(n))
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
                tiles.append((f"{j}", t("dashboard.kpi_programmes", k=k)))
        if not tiles:
            return Block()
        h = '<div class="kpis">' + "".join(
            f'<div class="kpi"><div class="kpi-value">{_esc(v)}</div><div class="kpi-label">{_esc(lbl)}</div></div>'
            for v, lbl in tiles) + "</div>"
        md = "\n".join(f"- **{_md_escape(v)}** {_md_escape(lbl)}" for v, lbl in tiles)
        return Block(h, md)

    def _flow_table_rows(self, m: pd.DataFrame) -> tuple[list[str], list[list[str]], list[list[str]]]:
        t = self.t
        horizons = [int(h) for h in m.columns]
        header = [t("report.status")] + [t("report.horizon", h=h) for h in horizons]
        totals = {h: m[h].sum() for h in m.columns}
        rows, md_rows = [], []
        for s in m.index:
            cells, md_cells = [t.status(s)], [f"**{_md_escape(t.status(s))}**"]
            for h in m.columns:
                v = m.loc[s, h]
                if pd.isna(v):
                    cells.append(t("report.suppressed"))
                else:
                    share = v / totals[h] if totals[h] else np.nan
                    cells.append(f"{t.count(v)} ({t.percent(share)})")
                md_cells.append(_md_escape(cells[-1]))
            rows.append(cells)
            md_rows.append(md_cells)
        return header, rows, md_rows

    @_part
    def flow_table(self, kind: str = "outflow") -> Block:
        """Status at 6/12/18 months of one cohort (HTML: every cohort through a menu)."""
        flows = self.table("flows", ["cohort", "horizon_months", "status", "persons"])
        main = self.main_cohort(kind)
        if flows is None or main is None:
            return Block()
        t = self.t
        cohorts = self._cohorts("outflow") + self._cohorts("stock")
        header, rows, md_rows = self._flow_table_rows(self._flow_matrix(main, flows))
        ident = f"flow-table-{kind}"
        panels, options = [], []
        for c in cohorts:
            hd, rw, _ = self._flow_table_rows(self._flow_matrix(c, flows))
            ths = "".join(f'<th class="{"left" if i == 0 else "right"}">{_esc(x)}</th>' for i, x in enumerate(hd))
            trs = "".join("<tr>" + "".join(
                f'<td class="{"left status" if i == 0 else "right"}">'
                + (f'<span class="swatch" style="background:{STATUS_COLORS.get(s, "#ccc")}"></span>' if i == 0 else "")
                + f"{_esc(x)}</td>" for i, x in enumerate(r)) + "</tr>"
                for s, r in zip(self._flow_matrix(c, flows).index, rw, strict=True))
            hidden = "" if c == main else " hidden"
            panels.append(f'<div data-key="{_esc(c)}"{hidden}><table class="data"><thead><tr>{ths}</tr></thead>'
                          f"<tbody>{trs}</tbody></table></div>")
            sel = " selected" if c == main else ""
            options.append(f'<option value="{_esc(c)}"{sel}>{_esc(t.cohort(c))}</option>')
        controls = (f'<label class="control">{_esc(t("report.select_cohort"))} '
                    f'<select data-switch="{ident}">{"".join(options)}</select></label>')
        horizons = t.join([int(h) for h in sorted(flows.horizon_months.unique())])
        caption = t("dashboard.flow_table_caption", cohort=t.cohort(main), horizons=horizons)
        note = t("dashboard.flow_table_note")
        h = (f'<figure class="table" id="tbl-{ident}"><figcaption>'
             f'{_esc(t("dashboard.flow_table_caption_html", horizons=horizons))}'
             f"</figcaption>{controls}<div class=\"table-scroll\" id=\"{ident}\">{''.join(panels)}</div>"
             f'<div class="note">{_md_to_html(note)}</div></figure>')
        md = _pipe_table([_md_escape(x) for x in header], md_rows, ["left"] + ["right"] * (len(header) - 1),
                         caption, ident)
        return Block(h, _join(md, _note_md(note), "\n\n"))

    # ------------------------------------------------------------------ Sankey / alluvial
    def _paths(self, cohort: str) -> tuple[pd.DataFrame, list[str]]:
        tr = self.table("transitions", ["cohort", "persons"])
        cols = sorted([c for c in tr.columns if re.fullmatch(r"status_\d+m", c)], key=lambda c: int(c[7:-1]))
        d = tr[(tr.cohort == cohort) & tr.persons.notna()].dropna(subset=cols)
        return d[cols + ["persons"]], cols

    def _sankey_trace(self, cohort: str, visible: bool):
        import plotly.graph_objects as go

        t = self.t
        d, cols = self._paths(cohort)
        nodes, index = [], {}
        for j, c in enumerate(cols):
            sizes = d.groupby(c)["persons"].sum()
            for s in STATUS_ORDER:
                if sizes.get(s, 0) > 0:
                    index[(j, s)] = len(nodes)
                    nodes.append((j, s, sizes[s]))
        src, dst, val, col, hover = [], [], [], [], []
        for j in range(len(cols) - 1):
            agg = d.groupby([cols[j], cols[j + 1]], sort=False)["persons"].sum()
            for (a, b), v in agg.items():
                if v > 0 and (j, a) in index and (j + 1, b) in index:
                    src.append(index[(j, a)])
                    dst.append(index[(j + 1, b)])
                    val.append(float(v))
                    col.append(_rgba(STATUS_COLORS.get(a, "#999999"), 0.35))
                    hover.append(f"{t.status(a)} → {t.status(b)}: {t.count(v)}")
        ncol = max(len(cols) - 1, 1)
        xs, ys = [], []
        for j in range(len(cols)):
            col_nodes = [n for n in nodes if n[0] == j]
            total = sum(n[2] for n in col_nodes) or 1
            acc = 0.0
            for _, _, size in col_nodes:
                ys.append(min(max((acc + size / 2) / total, 0.001), 0.999))
                xs.append(min(max(j / ncol, 0.001), 0.999))
                acc += size
        horizons = [int(c[7:-1]) for c in cols]
        return go.Sankey(
            visible=visible, arrangement="snap", valueformat=",d",
            node=dict(label=[t.status(s) for _, s, _ in nodes], x=xs, y=ys, pad=12, thickness=14,
                      color=[STATUS_COLORS.get(s, "#999") for _, s, _ in nodes],
                      customdata=[f"{t.status(s)}, {t('horizon.short', h=horizons[j])}: {t.count(n)}"
                                  for j, s, n in nodes],
                      hovertemplate="%{customdata}<extra></extra>"),
            link=dict(source=src, target=dst, value=val, color=col, customdata=hover,
                      hovertemplate="%{customdata}<extra></extra>"),
            name=t.cohort(cohort, short=True),
        ), horizons

    @_part
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
        fig = _new_figure(7.0, 3.6)
        ax = fig.add_subplot()
        total = d["persons"].sum() or 1
        gap = 0.02 * total
        width = 0.09
        pos: dict[tuple[int, str], list[float]] = {}
        for j, c in enumerate(cols):
            sizes = d.groupby(c)["persons"].sum()
            y = 0.0
            for s in reversed(STATUS_ORDER):
                v = float(sizes.get(s, 0))
                if v <= 0:
                    continue
                ax.add_patch(_rect(j - width / 2, y, width, v, STATUS_COLORS.get(s, "#999")))
                if v >= 0.04 * total:
                    ax.text(j + (width / 2 + 0.02 if j == len(cols) - 1 else -width / 2 - 0.02), y + v / 2,
                            f"{t.status(s)} {t.count(v)}", va="center",
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
            for k, g in enumerate(sorted(groups, key=_group_sort_key)):
                d = df[(df.dimension == dim) & (df.group == g)].sort_values("time")
                y = value(d)
                fig.add_trace(go.Scatter(x=d.time, y=y, mode="lines", name=t.group(g), visible=(dim == default),
                                         line=dict(color=_group_color(g, k), width=2),
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
        t = self.t
        out = []
        for (_, r), v in zip(d.iterrows(), y, strict=True):
            s = f"{t.group(r['group'])}: {t.percent(v, 1)} ({t.number(r['time'])} {t('report.months')})"
            if "persons" in r and pd.notna(r["persons"]):
                s += f"<br>{t('report.hover_persons', n=t.count(r['persons']))}"
            out.append(s)
        return out

    def _static_curves(self, df: pd.DataFrame, panels: Sequence[str], *, value, ylab: str, xlab: str,
                       xmax: float | None = None, ncols: int = 3, height_per_row: float = 2.2,
                       colors: dict | None = None, band_all: bool = True):
        t = self.t
        nrows = math.ceil(len(panels) / ncols)
        fig = _new_figure(7.0, height_per_row * nrows + 0.3)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, squeeze=False)).ravel()
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
                groups = sorted(df.loc[df.dimension == dim, "group"].dropna().unique(), key=_group_sort_key)
                if len(alld):
                    ax.plot(alld.time, value(alld), color="#999999", lw=1, ls="--", label=t.group("all"))
                for k, g in enumerate(groups):
                    d = df[(df.dimension == dim) & (df.group == g)].sort_values("time")
                    color = (colors or {}).get(g.split("=", 1)[-1]) or _group_color(g, k)
                    ax.plot(d.time, value(d), color=color, lw=1.5, label=t.group(g))
                ax.set_title(t.dimension(dim).capitalize())
            ax.legend(loc="best", fontsize=6.5, handlelength=1.2)
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

    @_part
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

    @_part
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
            return _esc(x), _md_escape(x), "na"
        months = r.get("outcome") == "months_bijstand_18m"
        scale, dec = (1.0, 1) if months else (100.0, 1)
        est = t.number(scale * r["estimate"], dec)
        if r["estimate"] > 0:
            est = "+" + est
        ci = self._ci(r.get("ci_lower"), r.get("ci_upper"), dec, scale)
        n = r.get("n_treated")
        n_txt = f"n = {t.count(n)}" if n is not None and pd.notna(n) else ""
        sig = pd.notna(r.get("ci_lower")) and (r["ci_lower"] > 0 or r["ci_upper"] < 0)
        good = (r["estimate"] < 0) if months else (r["estimate"] > 0)
        cls = ("pos" if good else "neg") if sig else "ns"
        md = f"**{_md_escape(est)}** {_md_escape(ci)}" if sig else f"{_md_escape(est)} {_md_escape(ci)}"
        if n_txt:
            md += f"`#linebreak()#text(size: 6.8pt, fill: luma(90))[{n_txt}]`{{=typst}}"
        html_cell = (f'<span class="est">{_esc(est)}</span> <span class="ci">{_esc(ci)}</span>'
                     + (f' <span class="n">{_esc(n_txt)}</span>' if n_txt else ""))
        return html_cell, md, cls

    @_part
    def programme_table(self, outcome: str = MAIN_OUTCOME, method: str = MAIN_METHOD) -> Block:
        """Rows: target groups; columns: programmes; cells: effect (pp) with CI and participants."""
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate"])
        if eff is None:
            return Block()
        t = self.t
        d = eff[(eff.outcome == outcome) & (eff.method == method)]
        if d.empty:
            return Block()
        programmes = sorted(d.programme.dropna().unique())
        groups = sorted(d.group.dropna().unique(), key=_group_sort_key)
        header = [t("dashboard.programme_row")] + [t.programme(p) for p in programmes]
        html_rows, md_rows = [], []
        dims_seen = []
        for g in groups:
            dim = "all" if g == "all" else g.split("=", 1)[0]
            if dim not in dims_seen:
                dims_seen.append(dim)
                if dim != "all":
                    html_rows.append(f'<tr class="dim-row" data-dim="{_esc(dim)}"><th colspan="{len(header)}">'
                                     f"{_esc(t.dimension(dim).capitalize())}</th></tr>")
                    md_rows.append([f"*{_md_escape(t.dimension(dim).capitalize())}*"] + [""] * len(programmes))
            cells_h = [f'<td class="left">{_esc(t.group(g))}</td>']
            cells_m = [("**" + _md_escape(t.group(g)) + "**") if g == "all" else "   " + _md_escape(t.group(g))]
            for p in programmes:
                row = d[(d.group == g) & (d.programme == p)]
                if row.empty:
                    x = t("report.suppressed")
                    cells_h.append(f'<td class="effect na">{_esc(x)}</td>')
                    cells_m.append(_md_escape(x))
                    continue
                cell, md, cls = self._effect_cell(row.iloc[0])
                cells_h.append(f'<td class="effect {cls}">{cell}</td>')
                cells_m.append(md)
            html_rows.append(f'<tr data-dim="{_esc(dim)}">' + "".join(cells_h) + "</tr>")
            md_rows.append(cells_m)
        ident = f"programme-table-{outcome}-{method}"
        options = [f'<option value="">{_esc(t("report.all_groups"))}</option>'] + [
            f'<option value="{_esc(x)}">{_esc(t.dimension(x).capitalize())}</option>' for x in dims_seen if x != "all"]
        controls = (f'<label class="control">{_esc(t("report.select_dimension"))} '
                    f'<select data-filter="{_esc(ident)}">{"".join(options)}</select></label>')
        caption = t("dashboard.programme_caption")
        block = self._table(ident, caption, header, [], note=t("dashboard.programme_note"),
                            align=["left"] + ["right"] * len(programmes), md_rows=md_rows, html_rows=html_rows,
                            controls=controls)
        block.html = block.html.replace('<table class="data">', f'<table class="data effects" id="{_esc(ident)}">', 1)
        return block

    @_part
    def findings(self, limit: int = 8) -> Block:
        """The programme table in plain sentences: every programme for everyone, then the groups
        whose interval excludes zero (sentences of :func:`plain_language.plain_language`, made here
        from the protected effects table in the report's language)."""
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper"])
        if eff is None:
            return Block()
        from .plain_language import plain_language

        d = eff[(eff.outcome == MAIN_OUTCOME) & (eff.method == MAIN_METHOD)]
        if d.empty:
            return Block()
        sentences = plain_language(d, lang=self.lang, outcome=MAIN_OUTCOME, method=MAIN_METHOD)
        if sentences.empty:
            return Block()
        sentences = sentences.assign(key=sentences.group.map(_group_sort_key))
        first = sentences[sentences.group == "all"].sort_values("programme")
        rest = sentences[(sentences.group != "all") & sentences.significant.astype(bool)]
        rest = rest.sort_values(["programme", "key"]).head(max(0, limit - len(first)))
        chosen = pd.concat([first, rest])
        items = [str(x) for x in chosen.sentence]
        title = self.t("dashboard.findings_title")
        h = (f'<div class="text findings"><h4>{_esc(title)}</h4><ul>'
             + "".join(f"<li>{_esc(x)}</li>" for x in items) + "</ul>"
             + f'<p class="note">{_esc(self.t("dashboard.findings_note"))}</p></div>')
        md = f"**{_md_escape(title)}**\n\n" + "\n".join(f"- {_md_escape(x)}" for x in items)
        return Block(h, _join(md, _note_md(self.t("dashboard.findings_note")), "\n\n"))

    # ================================================================== data chapter
    @_part
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

    @_part
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

    @_part
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

    @_part
    def tables_present(self) -> Block:
        t = self.t
        rows = []
        for name, files in TABLES.items():
            df = self.tables.get(name)
            rows.append((f"{files[0]}.csv", t.count(len(df)) if df is not None else t("data.table_missing")))
        return self._table("tables-present", t("data.tables_caption"), [t("data.table_file"), t("data.table_rows")],
                           rows, note=t("data.tables_note"), align=["left", "right"])

    @_part
    def disclosure_rules(self) -> Block:
        return self.section("data.disclosure_title") + self.text("data.disclosure")

    @_part
    def versions(self) -> Block:
        t = self.t
        v = (self.settings.get("manifest") or {}).get("versions") or {}
        if not v:
            return Block()
        rows = [(k, str(val)) for k, val in v.items() if k != "platform"]
        return self._table("versions", t("data.versions_caption"), [t("data.package"), t("data.version")], rows,
                           align=["left", "left"])

    # ================================================================== flows chapter
    @_part
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
        fig = _new_figure(7.0, 0.9 + 0.22 * len(cohorts) * 1.0 + 0.6)
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

    @_part
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
            m = m.reindex(sorted(m.index, key=_group_sort_key))
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
        fig_s = _new_figure(7.0, sum(0.28 * hh + 0.55 for hh in heights) + 0.5)
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
    @_part
    def typology_chart(self) -> Block:
        ty = self.table("typology", ["cohort", "type", "persons"])
        if ty is None:
            return Block()
        t = self.t
        kinds = [k for k in ("stock", "outflow") if self._cohorts(k, "typology")]
        heights = [len(self._cohorts(k, "typology")) for k in kinds]
        fig = _new_figure(7.0, 0.25 * sum(heights) + 1.3 * len(kinds) + 0.4)
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

    @_part
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
        rows = _profile_rows(d, "type", types, dims, t)
        return self._table("typology-profile", t("typology.profile_caption", cohort=t.cohort(cohort)), header, rows,
                           note=t("typology.profile_note"))

    @_part
    def reentry_chart(self, horizon: int = 12) -> Block:
        re_ = self.table("reentry", ["cohort", "destination", "horizon_months", "share"])
        if re_ is None:
            return Block()
        t = self.t
        if not (re_.horizon_months == horizon).any():
            horizon = int(re_.horizon_months.max())
        d = re_[re_.horizon_months == horizon]
        cohorts = sorted(d.cohort.unique())
        fig = _new_figure(7.0, 2.8)
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

    @_part
    def job_quality_chart(self) -> Block:
        jq = self.table("job_quality", ["cohort", "dimension", "value", "persons"])
        if jq is None:
            return Block()
        t = self.t
        label_col = f"label_{self.lang}" if f"label_{self.lang}" in jq.columns else "value"
        dims = [x for x in ("contract", "hours_band", "sector") if x in set(jq.dimension)]
        fig = _new_figure(7.0, 3.6)
        axes = np.atleast_1d(fig.subplots(1, len(dims), width_ratios=[1, 1, 1.5][:len(dims)]))
        for ax, dim in zip(axes, dims, strict=True):
            d = jq[jq.dimension == dim]
            agg = d.groupby("value")["persons"].sum(min_count=1).dropna()
            labels = d.drop_duplicates("value").set_index("value")[label_col]
            sh = (agg / agg.sum()).sort_values(ascending=True)
            if dim == "sector" and len(sh) > 8:
                sh = sh.iloc[-8:]
            ax.barh(np.arange(len(sh)), sh.to_numpy(), color="#1b7837", height=0.7)
            ax.set_yticks(np.arange(len(sh)), [_short(str(labels.get(v, v)), 28) for v in sh.index])
            ax.xaxis.set_major_formatter(self._pct_formatter())
            ax.set_title(t.dimension(dim).capitalize())
            ax.grid(axis="y", visible=False)
        return self._figure("job-quality", t("typology.jobs_caption"), t("typology.jobs_note"), static=fig)

    @_part
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

    @_part
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

    @_part
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

    @_part
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

    @_part
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
        fig = _new_figure(7.0, 2.0 * nrows + 0.8)
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

    @_part
    def career_profile(self) -> Block:
        cp = self.table("career_profile", ["cluster", "dimension", "group", "persons"])
        if cp is None:
            return Block()
        t = self.t
        clusters = sorted(cp.cluster.unique())
        dims = [x for x in ("sex", "age", "migration", "household", "education", "programme", "contract", "hours")
                if x in set(cp.dimension)]
        header = [t("typology.group")] + [f"{t('careers.cluster')} {c}" for c in clusters]
        rows = _profile_rows(cp, "cluster", clusters, dims, t)
        return self._table("career-profile", t("careers.profile_caption"), header, rows,
                           note=t("report.disclosure_short"))

    # ================================================================== survival chapter
    @_part
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

    @_part
    def medians_table(self) -> Block:
        med = self.table("medians", ["dimension", "group", "median_months"])
        if med is None:
            return Block()
        t = self.t
        rows = []
        for r in sorted(med.itertuples(), key=lambda r: (_dim_rank(r.dimension), _group_sort_key(r.group))):
            m = r.median_months
            val = t.number(m) if pd.notna(m) and np.isfinite(m) else ("> " + t.number(120) if pd.notna(m) else
                                                                       t("report.suppressed"))
            ci = ""
            if pd.notna(getattr(r, "ci_lower", np.nan)):
                sep = "; " if self.lang == "nl" else ", "
                hi = r.ci_upper
                ci = f"[{t.number(r.ci_lower)}{sep}{t.number(hi) if np.isfinite(hi) else '∞'}]"
            rows.append([t.group(r.group), val, ci, t.count(r.persons) if hasattr(r, "persons") else ""])
        header = [t("typology.group"), t("survival.median"), t("effects.ci"), t("report.persons")]
        return self._table("medians", t("survival.medians_caption"), header, rows, note=t("survival.medians_note"))

    @_part
    def competing_risks(self) -> Block:
        ci = self.table("cumulative_incidence", ["dimension", "group", "time", "destination", "cumulative_incidence"])
        if ci is None:
            return Block()
        t = self.t
        d = ci[(ci.group == "all") & ci.cumulative_incidence.notna()]
        if d.empty:
            return self._note(t("report.nothing_to_show"))
        fig = _new_figure(7.0, 3.0)
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
        text = Block(f'<div class="text aside"><h4>{_esc(t("survival.competing_title"))}</h4>'
                     f'{_md_to_html(t("survival.competing"))}</div>',
                     f"**{_md_escape(t('survival.competing_title'))}** {t('survival.competing')}")
        return fig_block + text

    @_part
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

    @_part
    def hazards_chart(self) -> Block:
        hz = self.table("hazards", ["model", "term", "hazard_ratio", "ci_lower", "ci_upper"])
        if hz is None:
            return Block()
        t = self.t
        hz = hz[hz.hazard_ratio.notna()]
        if hz.empty:
            return self._note(t("report.nothing_to_show"))
        models = [m for m in ("exit_to_work", "reentry") if m in set(hz.model)] + sorted(
            m for m in set(hz.model) if m not in ("exit_to_work", "reentry"))
        nterms = max(len(hz[hz.model == m]) for m in models)
        fig = _new_figure(7.0, 0.16 * nterms + 1.2)
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
            ax.xaxis.set_minor_locator(_null_locator())
            ax.set_yticks(y, [_short(t.term(x), 42) for x in d.term], fontsize=6.5)
            ax.set_title(t.get(f"survival.model.{m}", m))
            ax.grid(axis="y", visible=False)
        return self._figure("hazard-ratios", t("survival.hazards_caption"), t("survival.hazards_note"), static=fig)

    @_part
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
        rows = [[t.get(f"survival.model.{r.model}", r.model), t.term(r.term), t.number(r.p_value, 3),
                 t("survival.rec_programme") if str(r.term).startswith(("programme=", "lock_in="))
                 else t("survival.rec_control")] for r in fails.itertuples()]
        header = [t("survival.model"), t("survival.term"), t("survival.p_value"), t("survival.recommendation")]
        return self._table("ph-tests", t("survival.ph_caption"), header, rows,
                           note=t("survival.ph_note", concordance=conc_txt), align=["left", "left", "right", "left"])

    @_part
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

    # ================================================================== effects chapter
    @_part
    def effects_overview(self) -> Block:
        """For all participants: every outcome, the three methods side by side."""
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate"])
        if eff is None:
            return Block()
        t = self.t
        d = eff[eff.group == "all"]
        programmes = sorted(d.programme.unique())
        methods = [m for m in METHOD_ORDER if m in set(d.method)]
        blocks = []
        for outcome in [o for o in OUTCOME_ORDER if o in set(d.outcome)]:
            rows_h, rows_m = [], []
            for p in programmes:
                cells_h = [f'<td class="left">{_esc(t.programme(p))}</td>']
                cells_m = [_md_escape(t.programme(p))]
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

    @_part
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
        groups = sorted(d.group.unique(), key=_group_sort_key)
        fig = go.Figure()
        for i, p in enumerate(programmes):
            dd = d[d.programme == p].set_index("group").reindex(groups)
            y = [t.group(g) for g in groups]
            est = 100 * dd.estimate
            custom = [f"{t.programme(p)}, {t.group(g)}: {t.pp(r.estimate)} {self._ci(r.ci_lower, r.ci_upper)}"
                      if pd.notna(r.estimate) else "" for g, r in dd.iterrows()]
            fig.add_trace(go.Scatter(
                x=est, y=y, mode="markers", name=t.programme(p), visible=(i == 0), meta=AGGREGATED_GID,
                marker=dict(color=PALETTE[0], size=8),
                error_x=dict(type="data", symmetric=False, array=100 * (dd.ci_upper - dd.estimate),
                             arrayminus=100 * (dd.estimate - dd.ci_lower), color=PALETTE[0], thickness=1.5),
                customdata=custom, hovertemplate="%{customdata}<extra></extra>"))
        buttons = [dict(label=t.programme(p), method="update", args=[{"visible": [q == p for q in programmes]}])
                   for p in programmes]
        fig.update_layout(**self._plotly_layout(height=max(380, 22 * len(groups) + 120)), showlegend=False,
                          updatemenus=[self._menu(buttons, 0)])
        fig.add_vline(x=0, line_color="#888888", line_dash="dash")
        fig.update_yaxes(autorange="reversed")
        fig.update_xaxes(title=t("effects.axis_pp"))
        # static: one panel per programme, groups on the y axis
        ncols = min(len(programmes), 4)
        nrows = math.ceil(len(programmes) / ncols)
        fig_s = _new_figure(7.0, (0.14 * len(groups) + 0.8) * nrows)
        axes = np.atleast_1d(fig_s.subplots(nrows, ncols, sharey=True, sharex=True, squeeze=False)).ravel()
        for ax, p in zip(axes, programmes, strict=False):
            dd = d[d.programme == p].set_index("group").reindex(groups)
            y = np.arange(len(groups))[::-1]
            ok = dd.estimate.notna().to_numpy()
            ax.errorbar(100 * dd.estimate[ok], y[ok], xerr=[100 * (dd.estimate - dd.ci_lower)[ok],
                                                           100 * (dd.ci_upper - dd.estimate)[ok]],
                        fmt="none", ecolor=PALETTE[0], elinewidth=1)
            ax.scatter(100 * dd.estimate[ok], y[ok], color=PALETTE[0], s=10, zorder=3, gid=AGGREGATED_GID)
            ax.axvline(0, color="#888888", lw=0.8, ls="--")
            ax.set_yticks(y, [_short(t.group(g), 30) for g in groups], fontsize=6.5)
            ax.set_title(t.programme(p))
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_formatter(self._num_formatter())
        for ax in axes[len(programmes):]:
            ax.set_visible(False)
        fig_s.supxlabel(t("effects.axis_pp"), fontsize=8.5)
        note = t("effects.forest_note")
        return self._figure("effects-forest", t("effects.forest_caption"), note, static=fig_s, plotly=fig,
                            html_note=note + " " + t("report.use_menu_programme"))

    @_part
    def effects_methods_chart(self) -> Block:
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper"])
        if eff is None:
            return Block()
        t = self.t
        d = eff[(eff.group == "all") & eff.estimate.notna()]
        outcomes = [o for o in OUTCOME_ORDER if o in set(d.outcome)]
        programmes = sorted(d.programme.unique())
        methods = [m for m in METHOD_ORDER if m in set(d.method)]
        if not outcomes:
            return Block()
        ncols = 2
        nrows = math.ceil(len(outcomes) / ncols)
        fig = _new_figure(7.0, (0.35 * len(programmes) + 1.0) * nrows + 0.4)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, squeeze=False)).ravel()
        colors = {"naive": "#999999", "matching": PALETTE[1], "dml": PALETTE[0]}
        for ax, o in zip(axes, outcomes, strict=False):
            scale = 1.0 if o == "months_bijstand_18m" else 100.0
            y0 = np.arange(len(programmes))[::-1]
            for k, m in enumerate(methods):
                dd = d[(d.outcome == o) & (d.method == m)].set_index("programme").reindex(programmes)
                ok = dd.estimate.notna().to_numpy()
                y = y0 + (1 - k) * 0.22
                ax.errorbar(scale * dd.estimate[ok], y[ok],
                            xerr=[scale * (dd.estimate - dd.ci_lower)[ok], scale * (dd.ci_upper - dd.estimate)[ok]],
                            fmt="none", ecolor=colors.get(m, "#444"), elinewidth=1)
                ax.scatter(scale * dd.estimate[ok], y[ok], color=colors.get(m, "#444"), s=12, zorder=3,
                           gid=AGGREGATED_GID, label=t.method(m))
            ax.axvline(0, color="#888888", lw=0.8, ls="--")
            ax.set_yticks(y0, [t.programme(p) for p in programmes])
            ax.set_title(_short(t.outcome(o), 60), fontsize=8)
            ax.set_xlabel(t("effects.months_unit") if scale == 1 else t("effects.pp"), fontsize=7.5)
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_formatter(self._num_formatter())
        for ax in axes[len(outcomes):]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
        return self._figure("effects-methods", t("effects.methods_caption"), t("effects.methods_note"), static=fig)

    @_part
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
            cells_h, cells_m = [f'<td class="left">{_esc(label)}</td>'], [_md_escape(label)]
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

    @_part
    def sensitivity_table(self) -> Block:
        """Robustness to hidden confounding: robustness values and bounds per programme."""
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
                         t.percent(r.robustness_value, 1), bounds])
        strength = d["c_y"].dropna() if "c_y" in d.columns else pd.Series([], dtype=float)
        header = [t("effects.programme"), f"{t('effects.estimate')} ({t('effects.pp')})", t("effects.rv"),
                  t("effects.bounds", strength=t.percent(strength.iloc[0]) if len(strength) else "?")]
        return self._table("sensitivity", t("effects.sensitivity_caption"), header, rows,
                           note=t("effects.sensitivity_note"))

    @_part
    def policy_table(self) -> Block:
        """The depth-2 policy tree: which programme for which group, and what it would gain."""
        po = self.table("policy", ["leaf", "group", "programme", "estimate"])
        if po is None:
            return Block()
        t = self.t
        d = po[po.estimate.notna() | (po.leaf.astype(str) != "all")]
        rows = []
        for r in d.itertuples():
            is_all = str(r.leaf) == "all"
            who = t.group("all") if is_all else self._group_expression(str(r.group))
            prog = t("effects.policy_total") if is_all else (
                t("effects.no_programme") if r.programme == "none" else t.programme(r.programme))
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

    @_part
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

    @_part
    def balance_chart(self) -> Block:
        b = self.table("effects_balance", ["programme", "covariate", "smd_before", "smd_after"])
        if b is None:
            return Block()
        t = self.t
        programmes = sorted(b.programme.unique())
        covs = list(dict.fromkeys(b.covariate))
        ncols = min(len(programmes), 4)
        nrows = math.ceil(len(programmes) / ncols)
        fig = _new_figure(7.0, (0.13 * len(covs) + 0.8) * nrows)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, sharex=True, squeeze=False)).ravel()
        for ax, p in zip(axes, programmes, strict=False):
            d = b[b.programme == p].set_index("covariate").reindex(covs)
            y = np.arange(len(covs))[::-1]
            ax.scatter(d.smd_before.abs(), y, facecolors="none", edgecolors="#999999", s=12, gid=AGGREGATED_GID,
                       label=t("effects.before"))
            ax.scatter(d.smd_after.abs(), y, color=PALETTE[0], s=12, gid=AGGREGATED_GID, label=t("effects.after"))
            ax.axvline(0.1, color="#888888", lw=0.8, ls=":")
            ax.set_yticks(y, [_short(t.covariate(c), 34) for c in covs], fontsize=6)
            ax.set_title(t.programme(p))
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_formatter(self._num_formatter(1))
        for ax in axes[len(programmes):]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=2)
        return self._figure("balance", t("effects.balance_caption"), t("effects.balance_note"), static=fig)

    @_part
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

    @_part
    def propensity_chart(self) -> Block:
        pr = self.table("effects_propensity", ["programme", "treated", "bin", "persons"])
        if pr is None:
            return Block()
        t = self.t
        pr = pr.copy()
        pr["treated"] = pr.treated.astype(str).isin(["True", "true", "1"])
        pr["lower"] = pr["bin"].map(_bin_lower)
        programmes = sorted(pr.programme.unique())
        ncols = min(len(programmes), 2)
        nrows = math.ceil(len(programmes) / ncols)
        fig = _new_figure(7.0, 1.9 * nrows + 0.5)
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

    @_part
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
    @_part
    def methods(self) -> Block:
        t = self.t
        parts = [self.text("methods.intro")]
        for key in ("estimand", "outcomes", "assumptions", "estimators"):
            parts += [self.section(f"methods.{key}_title"), self.text(f"methods.{key}")]
        parts += [self.section("methods.competing_title"), self.text("survival.competing")]
        parts += [self.section("methods.immortal_title"), self.text("methods.immortal")]
        parts += [self.section("methods.disclosure_title"), self.text("methods.disclosure")]
        parts += [self.section("methods.references_title"), self.text("methods.references")]
        del t
        return Block.join(parts)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _null_locator():
    from matplotlib.ticker import NullLocator

    return NullLocator()


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _rect(x, y, w, h, color):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, edgecolor="white", linewidth=0.5)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


_DIM_ORDER = ("all", "destination", "contract", "sex", "age", "migration", "household", "education", "duration",
              "programme", "hours", "hours_band")
_VALUE_ORDER = {
    "sex": ("M", "F"),
    "age": ("18-26", "27-49", "50+"),
    "migration": ("dutch", "western", "non_western", "unknown"),
    "household": ("single", "single_parent", "couple_no_children", "couple_with_children", "child_at_home", "other",
                  "unknown"),
    "education": ("low", "medium", "high", "unknown"),
    "duration": ("<1y", "1-2y", "2-5y", "5+y"),
    "destination": ("werk", "ww", "overig"),
    "contract": ("permanent", "fixed_term", "agency", "on_call", "unknown", "none"),
    "hours": ("<12", "12-19", "20-34", "35+", "unknown"),
    "programme": ("yes", "no"),
}


def _in_dimension(groups: pd.Series, dim: str) -> pd.Series:
    """Rows whose group label belongs to ``dim`` (a completed grid may list every dimension's labels)."""
    return groups.astype(str).str.partition("=")[0] == dim


def _dim_rank(dim: str) -> int:
    return _DIM_ORDER.index(dim) if dim in _DIM_ORDER else len(_DIM_ORDER)


def _profile_rows(d: pd.DataFrame, column: str, levels, dims, t) -> list[list[str]]:
    """Rows of a profile table (typology types or career clusters as columns): per group of each
    dimension, the share of the level that falls in the group; the published ``share`` where the
    table has one, else persons over the level's total within the dimension."""
    rows = []
    for dim in dims:
        dd = d[(d.dimension == dim) & _in_dimension(d.group, dim)]
        for g in sorted(dd.group.dropna().unique(), key=_group_sort_key):
            row = [t.group(g)]
            for x in levels:
                cell = dd[(dd[column] == x) & (dd.group == g)]
                if "share" in dd.columns:
                    v = cell.share.iloc[0] if len(cell) else np.nan
                else:
                    tot = dd.loc[dd[column] == x, "persons"].sum()
                    v = cell.persons.iloc[0] / tot if len(cell) and tot else np.nan
                row.append(t.percent(v))
            rows.append(row)
    return rows


def _group_sort_key(label: str) -> tuple:
    label = str(label)
    if label == "all":
        return (-1, 0, "")
    dim, _, value = label.partition("=")
    order = _VALUE_ORDER.get(dim, ())
    return (_dim_rank(dim), order.index(value) if value in order else len(order), value)


def _group_color(label: str, k: int) -> str:
    dim, _, value = str(label).partition("=")
    if dim == "destination":
        return DESTINATION_COLORS.get(value, PALETTE[k % len(PALETTE)])
    return PALETTE[k % len(PALETTE)]


def _bin_lower(b) -> float:
    """Lower bound of a propensity bin ('0.0286-0.0571' -> 0.0286; a number stays a number)."""
    try:
        return float(b)
    except (TypeError, ValueError):
        m = re.match(r"\s*[\[(]?\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)", str(b))
        return float(m.group(1)) if m else np.nan


# --------------------------------------------------------------------------------------------
# Building the report: execute the notebooks, assemble HTML and PDF
# --------------------------------------------------------------------------------------------


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("reintegration_effects")
    except metadata.PackageNotFoundError:
        return "unknown"


def _notebook_dir() -> Path:
    """The folder holding the chapter notebooks: the source tree's analyses/, else the wheel's copy."""
    for folder in (_ANALYSES, _PACKAGED_NOTEBOOKS):
        if all((folder / f"{stem}.py").is_file() for stem in NOTEBOOKS):
            return folder
    raise FileNotFoundError(
        f"the report's notebooks ({', '.join(s + '.py' for s in NOTEBOOKS)}) are neither in {_ANALYSES} nor in "
        f"{_PACKAGED_NOTEBOOKS}. Fix: reinstall the package (pip install reintegration_effects, or pip install . "
        "from its source tree), which ships them")


def _load_notebook(stem: str, parameters: dict):
    """The notebook ``analyses/<stem>.py`` with the parameters injected after its parameters cell."""
    import jupytext
    import nbformat

    nb = jupytext.read(_notebook_dir() / f"{stem}.py")
    at = next((i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])), -1)
    src = "# Parameters injected by reintegration_effects.report.write_report\n" + "\n".join(
        f"{k} = {v!r}" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(at + 1, cell)
    for i, c in enumerate(nb.cells):  # deterministic ids (jupytext would draw random ones)
        c["id"] = f"{stem}-{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _execute(notebooks: list, *, timeout: int, workdir: Path, workers: int = 2) -> None:
    """Run the notebooks in order with nbclient, on a small pool of kernels.

    Starting a kernel and importing the scientific stack costs a few seconds, more than most
    chapters take, so each of ``workers`` kernels runs several notebooks one after the other.
    The notebooks share nothing but the kernel: each begins by building its own :class:`Report`
    from the protected tables.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    sockets = Path(tempfile.mkdtemp(prefix="re-kernels-"))  # short path: a unix socket name has a length limit
    queue = list(enumerate(notebooks))

    async def worker(k: int):
        # Unix: IPC sockets in a private temporary folder, no TCP port opened (shared machines);
        # Windows (e.g. CBS Remote Access) has no IPC transport: local TCP, as Jupyter itself does
        if os.name == "posix":
            km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(sockets / f"k{k}"))
        else:
            km = AsyncKernelManager(kernel_name="python3")
        await km.start_kernel(cwd=str(workdir), extra_arguments=["--HistoryManager.hist_file=:memory:"])
        try:
            while queue:
                _, nb = queue.pop(0)
                client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3", allow_errors=False,
                                        resources={"metadata": {"path": str(workdir)}})
                try:
                    await client.async_execute()
                finally:
                    if client.kc is not None:
                        client.kc.stop_channels()
        finally:
            await km.shutdown_kernel(now=False)  # also removes the connection files

    async def run_all():
        n = max(1, min(workers, len(queue)))
        await asyncio.gather(*(worker(k) for k in range(n)))

    import asyncio

    try:
        _run_coroutine(run_all)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


def _run_coroutine(make: Callable) -> None:
    """asyncio.run(make()), also when called from inside a running event loop (e.g. a notebook)."""
    import asyncio

    if sys.platform == "win32":  # pyzmq's asyncio needs the selector loop on Windows
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(make())
    else:  # called from inside a running loop (e.g. a notebook): run in a worker thread
        import threading

        err: list[BaseException] = []

        def target():
            try:
                asyncio.run(make())
            except BaseException as e:  # noqa: BLE001
                err.append(e)

        th = threading.Thread(target=target)
        th.start()
        th.join()
        if err:
            raise err[0]


def _clean_outputs(nb) -> list[str]:
    """Drop empty outputs and stream output (warnings) before conversion; return the stderr text."""
    stderr = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                if o.get("name") == "stderr":
                    stderr.append(o.get("text", ""))
                continue
            if o.output_type in ("display_data", "execute_result") and not o.get("data", {}).get("text/html"):
                continue
            if o.output_type == "execute_result":  # shown like display_data: no prompt, no count
                o["output_type"] = "display_data"
                o.pop("execution_count", None)
            kept.append(o)
        cell["outputs"] = kept
        cell["execution_count"] = None
        cell.metadata.pop("execution", None)
    return stderr


def _failed_parts(nb) -> list[str]:
    """Messages of the parts that :func:`_part` replaced by a note (non-strict runs)."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            h = o.get("data", {}).get("text/html", "")
            h = h if isinstance(h, str) else "".join(h)
            out += [html.unescape(m) for m in re.findall(r'<p class="part-failed">(.*?)</p>', h, re.S)]
    return out


def _notebook_html(nb) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, exclude_markdown=True, exclude_raw=True,
                            exclude_unknown=True, anchor_link_text="")
    body, _ = exporter.from_notebook_node(nb)
    return body


def _notebook_markdown(nb) -> str:
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            md = o.get("data", {}).get("text/markdown")
            if md:
                parts.append(md if isinstance(md, str) else "".join(md))
    return "\n\n".join(parts)


def _render_html(chapters: list[tuple[str, str]], t: Translator, meta: dict) -> str:
    import jinja2
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=False,
                             keep_trailing_newline=True)
    tpl = env.get_template("report.html.j2")
    css = (_TEMPLATES / "report.css").read_text(encoding="utf-8")
    css = css.replace("__FIGURE__", t("report.figure")).replace("__TABLE__", t("report.table")).replace(
        "__APPENDIX__", t("report.appendix"))
    js = (_TEMPLATES / "report.js").read_text(encoding="utf-8")
    nav = [(key, t(f"nav.{key}")) for key, _ in chapters]
    return tpl.render(css=css, js=js, plotly_js=get_plotlyjs(), chapters=chapters, nav=nav, **meta)


def _typst_string(s: str) -> str:
    """A Python string as a typst string literal."""
    out = []
    for ch in str(s):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 32:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _render_pdf(markdown: str, build: Path, t: Translator, meta: dict, pdf_path: Path, report_date: _date) -> Path:
    import pypandoc
    import typst

    md_path = build / "report.md"
    md_path.write_text(markdown, encoding="utf-8")
    body = pypandoc.convert_text(markdown, "typst", format="markdown+pipe_tables+table_captions+implicit_figures"
                                 "+raw_attribute-tex_math_dollars-citations-subscript-superscript",
                                 extra_args=["--wrap=preserve"])
    (build / "body.typ").write_text(body, encoding="utf-8")
    tpl = (_TEMPLATES / "report.typ").read_text(encoding="utf-8")
    fields = {k: _typst_string(v) for k, v in meta.items() if isinstance(v, str)}
    header = "#let meta = (\n" + "".join(f"  {k}: {v},\n" for k, v in fields.items()) + ")\n"
    source = tpl.replace("// __META__", header).replace("// __BODY__", body)
    typ = build / "report.typ"
    typ.write_text(source, encoding="utf-8")
    from datetime import UTC, datetime

    stamp = datetime(report_date.year, report_date.month, report_date.day, tzinfo=UTC)
    typst.compile(str(typ), output=str(pdf_path), root=str(build), ignore_system_fonts=True,
                  timestamp=int(stamp.timestamp()))
    return pdf_path


def write_report(out: str | Path, *, lang: str = DEFAULT_LANGUAGE, manifest: dict | None = None,
                 municipality: str | None = None, window: tuple[str, str] | None = None,
                 build_dir: str | Path | None = None, strict: bool = False, timeout: int = 600,
                 report_date: _date | None = None, echo: Callable[[str], None] | None = None,
                 pdf: bool = True) -> list[Path]:
    """Write ``OUT/report.html`` and ``OUT/report.pdf`` from the protected tables in ``OUT/tables``.

    ``lang``: 'nl' (default) or 'en'. ``manifest``: what the run knows about itself (``seed``,
    ``inputs`` {name: {file, sha256, bytes}}, ``versions``, ``settings``, ``simulated``); shown in
    the data chapter. ``municipality`` and ``window`` ('YYYY-MM-DD', 'YYYY-MM-DD') go on the title
    page. ``build_dir``: keep the executed notebooks, figures and typst source there (default: a
    temporary folder, removed afterwards). ``strict``: fail on the first part that cannot be made
    (default: note it in the report and go on). ``pdf=False``: the HTML only (no typst run).
    Returns ``[report.html, report.pdf]`` (``[report.html]`` without the PDF).
    """
    t = Translator(check_language(lang))
    out = Path(out).resolve()
    report_date = report_date or _date.today()
    version = _package_version()
    tmp = None
    if build_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="report-build-")
        build = Path(tmp.name)
    else:
        build = Path(build_dir).resolve()
        build.mkdir(parents=True, exist_ok=True)
    try:
        figures = build / "figures"
        if figures.exists():
            shutil.rmtree(figures)
        figures.mkdir(parents=True)
        context = {
            "municipality": municipality,
            "window": list(window) if window else None,
            "manifest": _jsonable(manifest or {}),
            "simulated": bool((manifest or {}).get("simulated", False)),
            "date": report_date.isoformat(),
            "version": version,
        }
        ctx_path = build / "context.json"
        ctx_path.write_text(json.dumps(context, indent=1, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        params = {"out": str(out), "lang": lang, "context": str(ctx_path), "figures": str(figures), "strict": strict}
        notebooks = [_load_notebook(stem, params) for _, stem in CHAPTERS]
        if echo:
            echo(f"      executing {len(notebooks)} notebooks ...")
        _execute(notebooks, timeout=timeout, workdir=build)
        chapters_html, markdown, failed = [], [], []
        for (key, stem), nb in zip(CHAPTERS, notebooks, strict=True):
            stderr = _clean_outputs(nb)
            if stderr and echo:
                echo(f"      {stem}: {''.join(stderr).strip()[:300]}")
            failed += [f"{stem}: {m}" for m in _failed_parts(nb)]
            import nbformat

            nbformat.write(nb, build / f"{stem}.ipynb")
            chapters_html.append((key, _notebook_html(nb)))
            markdown.append(_notebook_markdown(nb))
        w = tuple(window) if window else None
        if not w and isinstance((manifest or {}).get("window"), dict):
            w = ((manifest or {})["window"].get("start"), (manifest or {})["window"].get("end"))
        meta = {
            "title": t("report.title"),
            "subtitle": t("report.subtitle"),
            "municipality": t("report.municipality", municipality=municipality) if municipality
            else t("report.municipality_unknown"),
            "window": t("report.window", start=t.date(w[0]), end=t.date(w[1])) if w and all(w) else "",
            "date": t("report.date", date=t.date(report_date)),
            "version": t("report.version", version=version),
            "toc": t("report.toc"),
            "appendix": t("report.appendix"),
            "simulated": t("report.simulated").replace("**", "") if context["simulated"] else "",
            "footer": t("report.footer", version=version),
            "lang": lang,
        }
        if failed:
            msg = (f"{len(failed)} part(s) of the report could not be made and are noted in it instead: "
                   + "; ".join(failed))
            if echo:
                echo(f"      {msg}")
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
        html_text = _render_html(chapters_html, t, meta)
        html_path = out / "report.html"
        html_path.write_text(html_text, encoding="utf-8")
        if not pdf:
            return [html_path]
        pdf_path = _render_pdf("\n\n".join(m for m in markdown if m), build, t, meta, out / "report.pdf", report_date)
        return [html_path, pdf_path]
    finally:
        if tmp is not None:
            tmp.cleanup()


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, pd.Timestamp | _date):
        return value.isoformat()[:10]
    if isinstance(value, np.generic):
        return value.item()
    return value
