"""Blocks (one piece of the report in HTML and Markdown), Markdown/HTML/typst helpers, figure checks and styles."""

from __future__ import annotations

import html
import math
import re
import textwrap
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


#: Characters of the PDF's table text (8.3 pt) on one line of the text width, less cell padding.
_TABLE_LINE_CHARS = 112


def _longest_word(cell: str) -> int:
    """The longest unbreakable piece of a Markdown cell as printed (a column must be at least this wide)."""
    text = _RAW_INLINE.sub("", cell).replace("\\", "").replace("**", "")
    return max((len(w) for w in re.split(r"\s+", text)), default=0)


def column_widths(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    """Relative widths of a pipe table's columns, in characters.

    Each column wants its longest cell (a long label capped: it wraps; a header may take up to
    three lines) and needs at least its longest word, the header's in bold (so a header like
    'p-waarde' is never broken). When the wanted widths do not fit on the text width, the widest
    columns give up space first (down to a common cap, never below their need): a long label or
    advice column wraps, a short label or number column stays on one line.
    """
    need, want = [], []
    for i, h in enumerate(header):
        cells = [r[i] for r in rows]
        n = max([math.ceil(1.15 * _longest_word(h))] + [_longest_word(c) for c in cells]) + 2
        longest = max([math.ceil(_visible_len(h) / 3)] + [_visible_len(c) for c in cells])
        need.append(n)
        want.append(max(n, min(longest, 60) + 2))
    if sum(want) <= _TABLE_LINE_CHARS:
        return want

    def fitted(cap: float) -> list[int]:
        return [max(n, min(w, math.floor(cap))) for w, n in zip(want, need, strict=True)]

    lo, hi = 0.0, float(max(want))
    for _ in range(40):  # the largest cap whose widths fit
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sum(fitted(mid)) <= _TABLE_LINE_CHARS else (lo, mid)
    return fitted(lo)


def pipe_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str],
                caption: str, ident: str) -> str:
    """A pandoc pipe table with a caption; column widths from :func:`column_widths` (pandoc uses
    them, relative to each other, when a line of the table is longer than 72 characters)."""
    dashes = [max(3, w) for w in column_widths(header, rows)]
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
# Labels that wrap, numbers in the report's language, and a check that no text is cut
# --------------------------------------------------------------------------------------------


def wrap_label(text: Any, width: int = 28, sep: str = "\n") -> str:
    """A label on lines of at most ``width`` characters (words kept whole where they fit)."""
    lines = textwrap.wrap(str(text), width=max(4, int(width)), break_long_words=True, break_on_hyphens=False)
    return sep.join(lines) or str(text)


def wrap_html(text: Any, width: int = 32) -> str:
    """A plotly label (axis category, legend entry) on lines of at most ``width`` characters."""
    return wrap_label(esc(text), width, "<br>")


def label_lines(labels: Iterable[str]) -> int:
    """The number of lines of the longest of ``labels`` (after wrapping): for a figure's height."""
    return max((str(x).count("\n") + 1 for x in labels), default=1)


def format_p(t, p: Any, decimals: int = 3) -> str:
    """A p-value in the report's language: '0,039'; below 0.001 '< 0,001' (never '0,000')."""
    if p is None or pd.isna(p):
        return t("report.suppressed")
    floor = 10 ** -decimals
    return f"< {t.number(floor, decimals)}" if float(p) < floor else t.number(float(p), decimals)


def locale_formatter(number: Callable[..., str]):
    """A matplotlib tick formatter writing numbers as the report's language does ('0,25', '1.000',
    '−5'); the decimals follow the ticks (as few as show every tick exactly)."""
    from matplotlib.ticker import Formatter

    class LocaleFormatter(Formatter):
        decimals = 0

        def set_locs(self, locs):
            self.locs = locs
            spread = max((abs(v) for v in locs), default=1.0) or 1.0
            self.decimals = next((d for d in range(5) if all(abs(round(v, d) - v) <= 1e-6 * spread for v in locs)), 4)

        def __call__(self, x, pos=None):
            return number(0.0 if abs(x) < 1e-12 else x, self.decimals)

    return LocaleFormatter()


def localize_axes(fig, number: Callable[..., str]) -> None:
    """Every linear axis still on matplotlib's default number format gets the report's format."""
    from matplotlib.ticker import ScalarFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter and axis.get_scale() == "linear":
                axis.set_major_formatter(locale_formatter(number))


def _draw(fig, save: Callable[[Any, Any], Any] | None = None) -> tuple[bytes, Any]:
    """The figure drawn once as the report saves it (SVG at 72 dpi, no date in the metadata):
    the SVG's bytes and a renderer with that draw's text metrics, so the checks measure the very
    draw that is written and the figure is not drawn again to save it. ``save(fig, buffer,
    **savefig_kwargs)`` saves it (default: the figure's own ``savefig``; the report passes the
    disclosure check's :func:`~reintegration_effects.disclosure.save_protected_figure`)."""
    import io

    from matplotlib.backends.backend_svg import RendererSVG

    fig.set_dpi(72)
    buffer = io.BytesIO()
    kwargs = {"format": "svg", "metadata": {"Date": None}}
    if save is None:
        fig.savefig(buffer, **kwargs)
    else:
        save(fig, buffer, **kwargs)
    # measuring needs no drawing: the layout (positions, constrained layout) is that of the save
    metrics = RendererSVG(fig.get_figwidth() * 72, fig.get_figheight() * 72, io.StringIO(), image_dpi=72)
    return buffer.getvalue(), metrics


def fit_titles(fig, renderer=None) -> bool:
    """Wrap panel titles wider than their panel (long programme or group names) onto more lines.
    ``renderer``: one with the metrics of the figure's last draw (:func:`_draw`; default: drawn
    here). Returns whether a title changed (then the figure needs a new draw)."""
    renderer = renderer if renderer is not None else _draw(fig)[1]
    changed = False
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        width = ax.get_window_extent(renderer).width
        for title in (ax.title, ax._left_title, ax._right_title):
            text = title.get_text()
            if not text or not title.get_visible():
                continue
            w = title.get_window_extent(renderer).width
            if w > width:  # wrap at words; a single word still too long gets a smaller font
                longest = max(len(x) for x in text.split("\n"))
                chars = max(4, math.floor(longest * width / w) - 1)
                title.set_text("\n".join(textwrap.wrap(text.replace("\n", " "), chars, break_long_words=False)))
                changed = True
                w = title.get_window_extent(renderer).width
                if w > width:
                    title.set_fontsize(max(5.0, title.get_fontsize() * width / w * 0.97))
    return changed


class FigureLayoutError(ValueError):
    """A figure's text is cut off or overlaps other text (long labels the layout did not absorb)."""


def _drawn_texts(artist):
    """The Text artists that a draw puts on the canvas (tick labels of ticks in view only)."""
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    if not artist.get_visible():
        return
    if isinstance(artist, Axis):
        lo, hi = sorted(artist.get_view_interval())
        eps = 1e-9 * max(1.0, abs(lo), abs(hi))
        for tick in artist.get_major_ticks() + artist.get_minor_ticks():
            if tick.get_visible() and lo - eps <= tick.get_loc() <= hi + eps:
                for lab in (tick.label1, tick.label2):
                    if lab.get_visible() and lab.get_text().strip():
                        yield lab
        for lab in (artist.label, artist.offsetText):
            if lab.get_visible() and lab.get_text().strip():
                yield lab
        return
    if isinstance(artist, Text):
        if artist.get_text().strip():
            yield artist
        return
    for child in artist.get_children():
        yield from _drawn_texts(child)


def figure_layout_problems(fig, tolerance: float = 1.0, renderer=None) -> list[str]:
    """What a reader would see cut or covered in a figure, after its (constrained) layout.

    Checked: every visible text (titles, axis and tick labels, legends, annotations) lies within
    the figure; no two texts overlap; a legend inside a panel covers no line, point or interval
    of the data. Returns one message per problem (empty: the figure is readable). ``renderer``: one
    with the metrics of a draw of the figure as it is now (:func:`_draw`), when the caller has one
    (else the figure is drawn).
    """
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.transforms import Bbox

    renderer = renderer if renderer is not None else _draw(fig)[1]
    box = fig.bbox
    texts = list(dict.fromkeys(_drawn_texts(fig)))
    extents = [tx.get_window_extent(renderer) for tx in texts]
    problems = []
    for tx, e in zip(texts, extents, strict=True):
        if (e.x0 < box.x0 - tolerance or e.y0 < box.y0 - tolerance or e.x1 > box.x1 + tolerance
                or e.y1 > box.y1 + tolerance):
            problems.append(f"text '{shorten(tx.get_text(), 50)}' is cut off at the figure's edge")
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            a, b = extents[i], extents[j]
            if (min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance):
                problems.append(f"texts '{shorten(texts[i].get_text(), 40)}' and "
                                f"'{shorten(texts[j].get_text(), 40)}' overlap")
    for ax in fig.axes:
        leg = ax.get_legend()
        if not ax.get_visible() or leg is None or not leg.get_visible():
            continue
        lb = leg.get_window_extent(renderer)
        if not ax.bbox.overlaps(lb):
            continue  # a legend placed outside the panel
        inner = Bbox.from_extents(lb.x0 + tolerance, lb.y0 + tolerance, lb.x1 - tolerance, lb.y1 - tolerance)
        covered = []
        for line in ax.lines:
            if line.get_visible() and not str(line.get_label()).startswith("_") and len(line.get_xdata()):
                if line.get_transform().transform_path(line.get_path()).intersects_bbox(inner, filled=False):
                    covered.append(str(line.get_label()))
        for coll in ax.collections:
            if not coll.get_visible():
                continue
            if isinstance(coll, PathCollection) and len(coll.get_offsets()):
                pts = coll.get_offset_transform().transform(np.asarray(coll.get_offsets(), dtype=float))
                if any(inner.contains(x, y) for x, y in pts):
                    covered.append(str(coll.get_label()))
            elif isinstance(coll, LineCollection):
                tr = coll.get_transform()
                if any(tr.transform_path(pth).intersects_bbox(inner, filled=False) for pth in coll.get_paths()):
                    covered.append("an interval")
        if covered:
            problems.append(f"the legend of panel '{shorten(ax.get_title(), 40)}' covers data: "
                            + ", ".join(dict.fromkeys(covered)))
    return problems


def check_figure_layout(fig, *, name: str = "figure", strict: bool = True) -> str:
    """Every text of the figure readable (see :func:`figure_layout_problems`), or: with ``strict``
    a :class:`FigureLayoutError` naming each text cut off or covered, else that message returned
    ('' when there is none)."""
    return _layout_verdict(figure_layout_problems(fig), name=name, strict=strict)


def _layout_verdict(problems: list[str], *, name: str, strict: bool) -> str:
    if not problems:
        return ""
    msg = (f"figure '{name}': " + "; ".join(problems) + ". Fix: wrap the long labels (blocks.wrap_label), "
           "give the figure more height, or place the legend outside")
    if strict:
        raise FigureLayoutError(msg)
    return msg


def prepare_figure(fig, *, number: Callable[..., str], name: str, strict: bool,
                   save: Callable[..., Any] | None = None) -> tuple[str, bytes]:
    """What every static figure goes through: numbers in the report's language
    (:func:`localize_axes`), titles wrapped to their panels (:func:`fit_titles`), and the check
    that no text is cut or covered (:func:`check_figure_layout`). Returns its message ('' when
    readable; with ``strict`` it raises instead) and the figure as saved (SVG bytes, by ``save``,
    see :func:`_draw`): the checked draw is the saved one, so each state of the figure is drawn once."""
    localize_axes(fig, number)
    svg, metrics = _draw(fig, save)
    if fit_titles(fig, metrics):
        svg, metrics = _draw(fig, save)
    for _ in range(5):  # rows of wrapped labels that collide: the figure grows (a page is ~9.5 inches)
        problems = figure_layout_problems(fig, renderer=metrics)
        if not problems or not all(" overlap" in p for p in problems) or fig.get_figheight() > 9.0:
            return _layout_verdict(problems, name=name, strict=strict), svg
        fig.set_figheight(min(9.5, fig.get_figheight() * 1.2))
        svg, metrics = _draw(fig, save)
    return _layout_verdict(figure_layout_problems(fig, renderer=metrics), name=name, strict=strict), svg


# --------------------------------------------------------------------------------------------
# Figure pieces: stacked counts with suppressed cells, intervals scaled to the estimates
# --------------------------------------------------------------------------------------------


def stacked_counts(ax, counts: pd.DataFrame, colors: dict, labels: dict, *, height: float = 0.75,
                   max_count: float | None = None) -> None:
    """Horizontal stacked bars of counts, one bar per row of ``counts`` (top to bottom); a
    suppressed cell (NA) is never drawn as zero or as part of the bar: an 'x' in its category's
    colour stands after the bar (a row with every cell suppressed is an empty bar with its x's).
    Rows are categories on the y axis (the caller sets the tick labels)."""
    n = len(counts)
    ypos = np.arange(n)[::-1]
    left = np.zeros(n)
    for c in counts.columns:
        v = pd.to_numeric(counts[c], errors="coerce").to_numpy(dtype=float)
        shown = np.isfinite(v)  # no bar at all (not even one of width 0) for a suppressed cell
        ax.barh(ypos[shown], v[shown], left=left[shown], color=colors.get(c, "#999999"), height=height,
                label=labels.get(c, str(c)))
        left += np.nan_to_num(v)
    top = max_count or float(left.max() if n else 0) or 1.0
    step = 0.035 * top
    xs, ys, cs = [], [], []
    for i, (_, row) in enumerate(counts.iterrows()):
        k = 0
        for c in counts.columns:
            if pd.isna(row[c]):
                xs.append(left[i] + step * (k + 0.8))
                ys.append(ypos[i])
                cs.append(colors.get(c, "#999999"))
                k += 1
    if xs:
        ax.scatter(xs, ys, marker="x", c=cs, s=16, linewidths=1.2, zorder=3, gid=AGGREGATED_GID)
    width = max([top] + [x + step for x in xs])
    ax.set_xlim(0, 1.04 * width)


def suppressed_handle(label: str):
    """A legend entry for the 'x' of a suppressed cell."""
    from matplotlib.lines import Line2D

    return Line2D([], [], marker="x", color="#444444", linestyle="none", markersize=5, label=label)


def interval_limits(estimate, lower, upper, *, include: float | None = 0.0, spread: float = 2.0) -> tuple[float, float]:
    """Axis limits that show the estimates and their intervals, within reason.

    An interval more than ``spread`` times as wide as the typical (median) interval belongs to a
    tiny group: the axis is scaled to the other estimates, their intervals and ``include`` (the
    no-effect line), so that a wide interval cannot squash every other one; what falls outside is
    drawn cut at the axis by :func:`draw_intervals`. The result is padded by 5%.
    """
    est = np.asarray(estimate, dtype=float)
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    ok = np.isfinite(est)
    if not ok.any():
        return (-1.0, 1.0)
    est = est[ok]
    lo = np.where(np.isfinite(lo[ok]), lo[ok], est)
    hi = np.where(np.isfinite(hi[ok]), hi[ok], est)
    width = hi - lo
    typical = float(np.median(width))
    reasonable = width <= spread * typical if typical > 0 else np.ones(len(width), bool)
    if not reasonable.any():
        reasonable[:] = True
    extra = [include] if include is not None else []
    a = min([*lo[reasonable], *extra])
    b = max([*hi[reasonable], *extra])
    pad = 0.05 * (b - a or 1.0)
    return (float(a - pad), float(b + pad))


def draw_intervals(ax, x, y, lower, upper, *, color: str, xlim: tuple[float, float], size: float = 10,
                   marker: str = "o", label: str | None = None, fmt: Callable[[float], str] | None = None) -> int:
    """Estimates (points) with intervals (lines) on a horizontal axis cut at ``xlim``.

    An interval that runs beyond the axis ends in an arrow head at the axis; an estimate beyond
    the axis is an arrow head at the axis with its value written beside it (``fmt``). Returns the
    number of intervals cut."""
    from matplotlib.collections import LineCollection

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    ok = np.isfinite(x)
    x, y, lo, hi = x[ok], y[ok], lo[ok], hi[ok]
    lo, hi = np.where(np.isfinite(lo), lo, x), np.where(np.isfinite(hi), hi, x)
    a, b = xlim
    clo, chi = np.clip(lo, a, b), np.clip(hi, a, b)
    segs = [[(p, q), (r, q)] for p, r, q in zip(clo, chi, y, strict=True) if r > p]
    ax.add_collection(LineCollection(segs, colors=color, linewidths=1))
    inside = (x >= a) & (x <= b)
    ax.scatter(x[inside], y[inside], color=color, s=size, zorder=3, marker=marker, gid=AGGREGATED_GID, label=label)
    cut_lo, cut_hi = lo < a, hi > b
    for cut, edge, head in ((cut_lo, a, "<"), (cut_hi, b, ">")):
        if cut.any():
            ax.scatter(np.full(cut.sum(), edge), y[cut], marker=head, color=color, s=16, zorder=3, clip_on=False,
                       gid=AGGREGATED_GID)
    fmt = fmt or (lambda v: f"{v:.1f}")
    for xv, yv in zip(x[~inside], y[~inside], strict=True):
        right = xv > b
        ax.annotate(fmt(xv), (b if right else a, yv), xytext=(-5 if right else 5, 0), textcoords="offset points",
                    ha="right" if right else "left", va="center", fontsize=6, color=color)
    ax.set_xlim(a, b)
    return int(cut_lo.sum() + cut_hi.sum())


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
    "migration": ("dutch", "europe", "outside_europe", "western", "non_western", "unknown"),
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
