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

# Re-exports: every public top-level name of the former single module report.py stays importable
# from here. The modules: tables (what the chapters read), blocks (Block, rendering helpers, figure
# checks), parts (the Report class) with one mixin per group of chapters (dashboard_parts,
# monitor_parts, survival_parts, effects_parts), build (notebooks, HTML, PDF, write_report).
from .blocks import Block, check_plotly_figure, new_figure
from .build import notebook_dir, write_report
from .parts import Report
from .tables import (
    CHAPTER_TABLES,
    CHAPTERS,
    DESTINATION_COLORS,
    EXTRA_CHAPTER_TABLES,
    GROUP_DIMENSIONS,
    MAIN_METHOD,
    MAIN_OUTCOME,
    METHOD_ORDER,
    NOTEBOOKS,
    OUTCOME_ORDER,
    PALETTE,
    STATE_COLORS,
    STATE_ORDER,
    STATUS_COLORS,
    STATUS_ORDER,
    TABLES,
    TYPE_COLORS,
    TYPE_ORDER,
    read_tables,
)

__all__ = [
    "CHAPTERS",
    "CHAPTER_TABLES",
    "DESTINATION_COLORS",
    "EXTRA_CHAPTER_TABLES",
    "GROUP_DIMENSIONS",
    "MAIN_METHOD",
    "MAIN_OUTCOME",
    "METHOD_ORDER",
    "NOTEBOOKS",
    "OUTCOME_ORDER",
    "PALETTE",
    "STATE_COLORS",
    "STATE_ORDER",
    "STATUS_COLORS",
    "STATUS_ORDER",
    "TABLES",
    "TYPE_COLORS",
    "TYPE_ORDER",
    "Block",
    "Report",
    "check_plotly_figure",
    "read_tables",
    "write_report",
]

# Former private names that the tests use.
_new_figure = new_figure
_notebook_dir = notebook_dir
