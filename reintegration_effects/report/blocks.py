"""Blocks (one piece of the report in HTML and Markdown), Markdown/HTML/typst helpers, figure checks and styles."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..disclosure import AGGREGATED_GID
from ..errors import DisclosureError
from .tables import DESTINATION_COLORS, PALETTE

if TYPE_CHECKING:
    from .parts import Report


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
        return Block(join_text(self.html, other.html), join_text(self.markdown, other.markdown, "\n\n"))

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


def join_text(a: str, b: str, sep: str = "\n") -> str:
    return a + sep + b if a and b else a or b


# --------------------------------------------------------------------------------------------
# Escaping and small renderers
# --------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|$~^@])")


def md_escape(text: Any) -> str:
    """Plain text as pandoc Markdown (labels, cell values): special characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def md_to_html(text: str, inline: bool = False) -> str:
    """The report's short Markdown texts (emphasis, bold, lists, code) as HTML."""
    import mistune

    md = mistune.create_markdown(escape=True)
    out = md(text).strip()
    if inline and out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
        out = out[3:-4]
    return out


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def raw_typst(code: str) -> str:
    return f"```{{=typst}}\n{code}\n```"


def note_md(text: str) -> str:
    """A small-print note under a figure or table in the PDF (typst ``#note[...]`` from the template)."""
    if not text:
        return ""
    return f"{raw_typst('#note[')}\n\n{text}\n\n{raw_typst(']')}"


_RAW_INLINE = re.compile(r"`[^`]*`\{=typst\}")


def _visible_len(cell: str) -> int:
    """Length of a Markdown cell as printed (raw typst and escapes left out), for column widths."""
    return len(_RAW_INLINE.sub("", cell).replace("\\", "").replace("**", "")) + (4 if _RAW_INLINE.search(cell) else 0)


def pipe_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str],
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


def plotly_html(fig, name: str) -> str:
    check_plotly_figure(fig, name=name)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"plot-{slug(name)}",
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


def new_figure(width: float = 7.0, height: float = 3.2):
    import matplotlib as mpl
    from matplotlib.figure import Figure

    with mpl.rc_context(_MPL_STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
    return fig


# --------------------------------------------------------------------------------------------
# One part of the report
# --------------------------------------------------------------------------------------------


def report_part(method: Callable[..., Block]) -> Callable[..., Block]:
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
            return Block(f'<p class="part-failed">{esc(msg)}</p>', md_escape(msg))

    return run




# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def null_locator():
    from matplotlib.ticker import NullLocator

    return NullLocator()


def rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def rect(x, y, w, h, color):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, edgecolor="white", linewidth=0.5)


def shorten(text: str, n: int) -> str:
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


def dim_rank(dim: str) -> int:
    return _DIM_ORDER.index(dim) if dim in _DIM_ORDER else len(_DIM_ORDER)


def profile_rows(d: pd.DataFrame, column: str, levels, dims, t) -> list[list[str]]:
    """Rows of a profile table (typology types or career clusters as columns): per group of each
    dimension, the share of the level that falls in the group; the published ``share`` where the
    table has one, else persons over the level's total within the dimension."""
    rows = []
    for dim in dims:
        dd = d[(d.dimension == dim) & _in_dimension(d.group, dim)]
        for g in sorted(dd.group.dropna().unique(), key=group_sort_key):
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


def group_sort_key(label: str) -> tuple:
    label = str(label)
    if label == "all":
        return (-1, 0, "")
    dim, _, value = label.partition("=")
    order = _VALUE_ORDER.get(dim, ())
    return (dim_rank(dim), order.index(value) if value in order else len(order), value)


def group_color(label: str, k: int) -> str:
    dim, _, value = str(label).partition("=")
    if dim == "destination":
        return DESTINATION_COLORS.get(value, PALETTE[k % len(PALETTE)])
    return PALETTE[k % len(PALETTE)]


def bin_lower(b) -> float:
    """Lower bound of a propensity bin ('0.0286-0.0571' -> 0.0286; a number stays a number)."""
    try:
        return float(b)
    except (TypeError, ValueError):
        m = re.match(r"\s*[\[(]?\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)", str(b))
        return float(m.group(1)) if m else np.nan
