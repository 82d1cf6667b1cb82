"""Figures and tables that survive real labels (issue 13, item 5).

A municipality's programme labels and target groups can be long ("Intensieve begeleiding naar
betaald werk met jobcoach en werkgever"). Every static figure of the report is rendered here from
hand-made protected tables with 60-character programme and group labels, in both languages, with
``strict=True``: the report's figure check (:func:`blocks.check_figure_layout`, run on every saved
figure) raises when any text is cut at the figure's edge, overlaps other text, or a legend covers
data. Suppressed cells must show as suppressed (an x), never as a zero or a share of a 100% bar,
and every group must appear; p-values read '< 0,001'; spells are not called persons.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import reintegration_effects.report.parts as parts_module
from reintegration_effects.report import Report
from reintegration_effects.report.blocks import (
    FigureLayoutError,
    check_figure_layout,
    column_widths,
    draw_intervals,
    format_p,
    interval_limits,
    new_figure,
    wrap_label,
)

STATUSES = ("bijstand", "werk", "bijstand_met_werk", "ww", "overig")
#: Programme labels as a municipality writes them: 60 characters and more.
PROGRAMMES = ("Intensieve begeleiding naar betaald werk met jobcoach en werkgever",
              "Taal- en participatietraject voor statushouders in de wijkcentra")
#: Target groups of a study's own dimension (study.toml `groups`), with long values.
DISTRICTS = ("Noord-Oost inclusief de nieuwbouwwijken langs het kanaal en de haven",
             "Centrum met de binnenstad, het stationsgebied en de oude kernen",
             "Zuid")
LONG_GROUPS = [f"district={d}" for d in DISTRICTS]
GROUPS = ["all", "sex=M", "sex=F", "age=50+", *LONG_GROUPS]
SECTORS = {"N": "Verhuur en overige zakelijke diensten met een heel lange omschrijving",
           "G": "Handel", "Q": "Gezondheids- en welzijnszorg"}


def _curve(rate: float, times) -> np.ndarray:
    return np.exp(-rate * np.asarray(times, dtype=float))


def make_long_label_folder(out: Path) -> Path:
    """Protected tables (counts rounded to 5, small cells empty) with long programme and group labels."""
    (out / "tables").mkdir(parents=True, exist_ok=True)

    def write(name, rows):
        pd.DataFrame(rows).to_csv(out / "tables" / f"{name}.csv", index=False)

    flows = []
    for cohort in ("outflow_2020", "outflow_2021", "stock_2020-01-01"):
        for h in (6, 12, 18):
            counts = (120, 310, None, None, 200) if cohort.startswith("outflow") else (900, None, 60, None, 150)
            flows += [dict(cohort=cohort, horizon_months=h, status=s, persons=n, suppressed=n is None,
                           flag="secondary" if s == "werk" and n is None else "<10" if n is None else "")
                      for s, n in zip(STATUSES, counts, strict=True)]
    write("flows", flows)
    fbg = []
    cells = {"sex=M": (60, 150, None, None, 100), "sex=F": (60, 160, None, None, 100),
             LONG_GROUPS[0]: (40, 120, None, None, 80), LONG_GROUPS[1]: (None, None, None, None, 15),
             LONG_GROUPS[2]: (None, None, None, None, None)}  # the last: every cell suppressed
    for cohort in ("outflow_2020", "outflow_2021", "stock_2020-01-01"):
        for g, counts in cells.items():
            dim = g.split("=")[0]
            fbg += [dict(cohort=cohort, horizon_months=18, dimension=dim, group=g, status=s, persons=n,
                         suppressed=n is None, flag="<10" if n is None else "")
                    for s, n in zip(STATUSES, counts, strict=True)]
    write("flows_by_group", fbg)
    write("typology", [dict(cohort=c, type=ty, persons=n) for c in ("stock_2020-01-01", "outflow_2020")
                       for ty, n in (("continuous", 800), ("recidivist", 150), ("short_outflow", None),
                                     ("sustainable_work", 90))])
    write("reentry", [dict(cohort=c, destination=d, horizon_months=h, share=s, ci_lower=s - 0.05, ci_upper=s + 0.05,
                           persons=100, persons_total=400)
                      for c in ("outflow_2019", "outflow_2020", "outflow_2021")
                      for d, s in (("all", 0.25), ("werk", 0.18), ("ww", 0.5), ("overig", 0.3)) for h in (6, 12)])
    jq = []
    for cohort in ("outflow_2020", "outflow_2021"):
        for dim, values in (("contract", {"fixed_term": "tijdelijk contract met een lange omschrijving",
                                          "permanent": "vast contract"}),
                            ("hours_band", {"20-34": "20 tot 35 uur", "<12": "minder dan 12 uur"}),
                            ("sector", SECTORS)):
            for i, (v, lab) in enumerate(values.items()):
                jq.append(dict(cohort=cohort, dimension=dim, value=v, label_nl=lab, label_en=lab,
                               persons=None if i == 2 else 50 + 20 * i, persons_total=200))
    write("job_quality", jq)
    write("career_clusters", [dict(cluster=c, label=lab, persons=n, share=n / 900)
                              for c, lab, n in ((1, "mostly stable_work", 500), (2, "mostly overig", 400))])
    css = []
    for c in (1, 2):
        for m in range(1, 13):
            for st, n in (("stable_work", 300), ("bijstand", 100), ("ww", None if m % 3 == 0 else 20), ("overig", 60)):
                css.append(dict(cluster=c, month=m, state=st, persons=n, persons_total=500,
                                share=None if n is None else n / 500))
    write("career_state_shares", css)
    times = [0, 1, 2, 3, 6, 9, 12, 18, 24, 36, 48]
    km, rk = [], []
    for g, rate in zip(GROUPS, (0.06, 0.07, 0.05, 0.04, 0.08, 0.05, 0.06), strict=True):
        s = _curve(rate, times)
        km += [dict(dimension=g.split("=")[0], group=g, time=t, survival=v, ci_lower=v * 0.95, ci_upper=min(1, v * 1.05),
                    persons=int(max(10, round(600 * v / 5) * 5))) for t, v in zip(times, s, strict=True)]
    for g, rate in (("all", 0.02), ("destination=werk", 0.01), ("destination=overig", 0.03),
                    (LONG_GROUPS[0], 0.02), (LONG_GROUPS[1], 0.025)):
        s = _curve(rate, times)
        rk += [dict(dimension=g.split("=")[0], group=g, time=t, survival=v, ci_lower=v * 0.95, ci_upper=min(1, v * 1.05),
                    persons=300) for t, v in zip(times, s, strict=True)]
    write("km", km)
    write("reentry_km", rk)
    write("medians", [dict(dimension=g.split("=")[0], group=g, median_months=11.0, ci_lower=10.0, ci_upper=12.0,
                           persons=4600) for g in GROUPS])
    ci = []
    for dest, rate in (("werk", 0.03), ("elsewhere", 0.02)):
        v = 1 - _curve(rate, times[1:])
        ci += [dict(dimension="all", group="all", time=t, destination=dest, cumulative_incidence=x, ci_lower=x * 0.9,
                    ci_upper=x * 1.1, one_minus_km=x * 1.1) for t, x in zip(times[1:], v, strict=True)]
    write("cumulative_incidence", ci)
    hz = [dict(model=m, term=term, hazard_ratio=hr, ci_lower=hr * 0.8, ci_upper=hr * 1.25)
          for m in ("exit_to_work", "reentry")
          for term, hr in (("sex=F", 0.9), ("age=50+", 0.5), (LONG_GROUPS[0], 1.3), (LONG_GROUPS[1], 0.8),
                           *((f"programme={p}", 1.2) for p in PROGRAMMES))]
    write("hazards", hz)
    write("ph_tests", [dict(model="exit_to_work", term="sex=F", test="scaled Schoenfeld (rank of time)",
                            test_statistic=30.0, df=1, p_value=2e-8, fails=True, recommendation="x", concordance=0.68),
                       dict(model="exit_to_work", term=f"programme={PROGRAMMES[0]}", test="scaled Schoenfeld (rank of time)",
                            test_statistic=4.2, df=1, p_value=0.039, fails=True, recommendation="x", concordance=0.68)])
    eff = []
    for p, base in zip(PROGRAMMES, (0.03, -0.02), strict=True):
        for g in GROUPS:
            half = 0.30 if g == LONG_GROUPS[1] else 0.03  # one tiny group: an interval of +/-30 points
            for m, bias in (("naive", 0.08), ("matching", 0.005), ("dml", 0.0)):
                for o in ("off_bijstand_6_18m", "employed_12m"):
                    est = base + bias
                    eff.append(dict(programme=p, group=g, outcome=o, method=m, estimate=est, std_error=half / 1.96,
                                    ci_lower=est - half, ci_upper=est + half, n_treated=120, n_control=4000))
    write("effects", eff)
    write("effects_balance", [dict(programme=p, covariate=c, smd_before=b, smd_after=b / 10)
                              for p in PROGRAMMES for c, b in (("age", 0.4), ("hist_employed_36m", -0.3),
                                                               (f"district={DISTRICTS[0]}", 0.2))])
    write("effects_propensity", [dict(programme=p, treated=tr, bin=f"{lo:.2f}-{lo + 0.05:.2f}", persons=n)
                                 for p in PROGRAMMES for tr in (True, False)
                                 for lo, n in ((0.0, 400), (0.05, 120), (0.10, None))])
    return out


FIGURE_PARTS = ("flows_overview", "flows_by_group", "typology_chart", "reentry_chart", "job_quality_chart",
                "career_states_chart", "outflow_by_group", "competing_risks", "reentry_by_group", "hazards_chart",
                "effects_forest", "effects_methods_chart", "balance_chart", "propensity_chart", "outflow_curves",
                "reentry_curves")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_long_label_folder(tmp_path_factory.mktemp("long_labels"))


@pytest.fixture
def saved(monkeypatch):
    """The matplotlib figures the report saves, by name."""
    figures = {}
    original = parts_module.save_protected_figure

    def keep(fig, path, *, name, **kw):
        figures[name] = fig
        return original(fig, path, name=name, **kw)

    monkeypatch.setattr(parts_module, "save_protected_figure", keep)
    return figures


def _texts(fig) -> list[str]:
    from reintegration_effects.report.blocks import _drawn_texts

    return [tx.get_text() for tx in _drawn_texts(fig)]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_figure_keeps_long_labels_whole_and_uncut(folder, tmp_path, saved, lang):
    """strict=True: a figure with text cut off, overlapping, or a legend over the data raises."""
    r = Report.from_folder(folder, lang=lang, figures=tmp_path / "f", strict=True)
    for part in FIGURE_PARTS:
        assert getattr(r, part)(), f"{part} drew nothing"
    assert {"flows-bars-outflow", "flows-groups-outflow", "effects-forest", "hazard-ratios"} <= set(saved)
    for name, fig in saved.items():
        assert check_figure_layout(fig, name=name, strict=False) == ""
        joined = " ".join(" ".join(_texts(fig)).split())
        assert "…" not in joined, f"{name}: a label was shortened"
    # the long labels are shown whole (wrapped over lines, never truncated)
    for name in ("effects-forest", "effects-methods", "propensity"):
        joined = " ".join(" ".join(_texts(saved[name])).split())
        assert all(p in joined for p in PROGRAMMES), name
    for name in ("flows-groups-outflow", "effects-forest"):
        joined = " ".join(" ".join(_texts(saved[name])).split())
        assert all(d in joined for d in DISTRICTS), name
    assert SECTORS["N"] in " ".join(" ".join(_texts(saved["job-quality"])).split())


def test_the_layout_check_catches_cut_overlapping_and_covered_text():
    fig = new_figure(3.0, 2.0)
    ax = fig.add_subplot()
    ax.set_xlim(0, 1)
    ax.text(0.9, 0.5, "a label that runs far beyond the right edge of the figure", transform=ax.transAxes)
    with pytest.raises(FigureLayoutError, match="cut off"):
        check_figure_layout(fig, name="cut")
    fig = new_figure(3.0, 2.0)
    ax = fig.add_subplot()
    ax.set_yticks([0, 0.05], ["first long label", "second long label"])
    with pytest.raises(FigureLayoutError, match="overlap"):
        check_figure_layout(fig, name="overlap")
    fig = new_figure(3.0, 2.0)
    ax = fig.add_subplot()
    ax.plot([0, 1], [1, 1], label="a line along the top")
    ax.set_ylim(0, 1.1)  # the line runs through the legend's text
    ax.legend(loc="upper left")
    with pytest.raises(FigureLayoutError, match="legend"):
        check_figure_layout(fig, name="legend")
    fig = new_figure(3.0, 2.0)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 0.2], label="low line")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    assert check_figure_layout(fig, name="fine") == ""


def test_a_cut_label_is_a_visible_warning_when_not_strict(folder, tmp_path):
    r = Report.from_folder(folder, lang="nl", figures=tmp_path / "f")
    fig = new_figure(3.0, 2.0)
    ax = fig.add_subplot()
    ax.set_title("een titel die veel te lang is voor dit kleine figuur en over de rand loopt " * 2)
    ax.text(1.5, 0.5, "tekst buiten de figuur", transform=ax.transAxes)
    block = r._figure("te-lang", "bijschrift", static=fig)
    assert 'class="part-failed"' in block.html and "FigureLayoutError" in block.markdown
    assert r.problems and "tekst buiten de figuur" in r.problems[-1]
    with pytest.raises(FigureLayoutError):
        Report.from_folder(folder, lang="nl", figures=tmp_path / "g", strict=True)._figure("te-lang", "x", static=fig)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_suppressed_cells_show_as_suppressed_and_every_group_appears(folder, tmp_path, saved, lang):
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Rectangle

    r = Report.from_folder(folder, lang=lang, figures=tmp_path / "f", strict=True)
    block = r.flows_by_group("outflow")
    fig = saved["flows-groups-outflow"]
    t = r.t
    # one panel per dimension; the district whose every cell is suppressed is still a row
    panel = next(ax for ax in fig.axes if ax.get_title() == t.dimension("district").capitalize())
    rows = [" ".join(x.get_text().split()) for x in panel.get_yticklabels()]
    assert sorted(rows) == sorted(t.group(g) for g in LONG_GROUPS)
    bars = [p for p in panel.patches if isinstance(p, Rectangle) and p.get_width() > 0]
    zero = [p for p in panel.patches if isinstance(p, Rectangle) and p.get_width() == 0]
    fbg = pd.read_csv(folder / "tables" / "flows_by_group.csv")
    published = int(fbg[fbg.group.isin(LONG_GROUPS) & (fbg.cohort == "outflow_2021")].persons.notna().sum())
    assert len(bars) == published and not zero  # a suppressed cell is no bar, not even of width 0
    marks = [c for c in panel.collections if isinstance(c, PathCollection)]
    n_marks = sum(len(c.get_offsets()) for c in marks)
    assert n_marks == 5 * len(LONG_GROUPS) - published  # an x for every suppressed cell
    assert panel.get_xlim()[1] > 300  # counts, not shares: no 100% bar built from the cells shown
    # the HTML chart: every group, and the x's as a trace of their own
    assert all(t.group(g).split()[0] in block.html for g in LONG_GROUPS)
    assert t("report.suppressed_mark") in block.html


def test_flows_overview_marks_a_suppressed_large_cell(folder, tmp_path, saved):
    r = Report.from_folder(folder, lang="nl", figures=tmp_path / "f", strict=True)
    r.flows_overview("stock")
    ax = saved["flows-bars-stock"].axes[0]
    marks = sum(len(c.get_offsets()) for c in ax.collections)
    assert marks == 2  # werk (secondary) and WW are suppressed in the one stock cohort
    assert max(p.get_x() + p.get_width() for p in ax.patches) == pytest.approx(900 + 60 + 150)


@pytest.mark.parametrize(("lang", "text"), [("nl", "< 0,001"), ("en", "< 0.001")])
def test_p_values_below_the_shown_precision(folder, tmp_path, lang, text):
    r = Report.from_folder(folder, lang=lang, figures=tmp_path / "f", strict=True)
    assert format_p(r.t, 2e-8) == text and format_p(r.t, 0.0391) == ("0,039" if lang == "nl" else "0.039")
    block = r.ph_tests()
    assert text in block.markdown.replace("\\<", "<") and "0,000" not in block.markdown
    assert ".csv" not in block.markdown and ".csv" not in block.html
    header = block.markdown.splitlines()[0]
    assert r.t("survival.p_value") in header


def test_pipe_table_columns_never_break_a_header_word():
    header = ["Model", "Term", "p-waarde", "Advies"]
    rows = [["Uitstroom naar werk", "uitstroom naar overig (t.o.v. werk)", "< 0,001",
             "als controlevariabele: stratificeren; als het effect zelf telt: effect per duurklasse " * 2]]
    widths = column_widths(header, rows)
    assert widths[2] >= len("p-waarde") + 2 and widths[0] >= len("Uitstroom naar werk")
    assert sum(widths) <= 112


def test_medians_count_spells_not_persons(folder, tmp_path):
    for lang, word in (("nl", "Uitkeringsperioden"), ("en", "Benefit spells")):
        block = Report.from_folder(folder, lang=lang, figures=tmp_path / lang, strict=True).medians_table()
        assert word in block.markdown and "Personen" not in block.markdown and "Persons" not in block.markdown


def test_axes_follow_the_estimates_and_cut_a_tiny_groups_interval():
    est = np.array([3.0, 2.5, -1.0, 4.0])
    lo, hi = est - 3, est + 3
    lo[3], hi[3] = -46.0, 54.0  # a tiny group
    a, b = interval_limits(est, lo, hi)
    assert -5 < a < -4 and 6 < b < 7  # scaled to the other intervals, not to +/-50
    fig = new_figure(3, 2)
    ax = fig.add_subplot()
    assert draw_intervals(ax, est, np.arange(4), lo, hi, color="k", xlim=(a, b)) == 2
    assert ax.get_xlim() == (a, b)
    far = interval_limits([1.0, 2.0, 40.0], [0.0, 1.0, -20.0], [2.0, 3.0, 100.0])
    assert far[1] < 10  # an estimate of a tiny group beyond the axis is drawn at the edge with its value


def test_dutch_tick_labels_and_wrapping(folder, tmp_path, saved):
    r = Report.from_folder(folder, lang="nl", figures=tmp_path / "f", strict=True)
    r.balance_chart()
    r.effects_methods_chart()
    ticks = [x for name in ("balance", "effects-methods") for x in _texts(saved[name])
             if re.fullmatch(r"[−\d.,]+", x)]
    assert any("," in x for x in ticks) and not any(re.search(r"\d\.\d(?!\d\d)", x) for x in ticks)
    assert wrap_label("een heel lang label met veel woorden", 12).count("\n") >= 2


def test_a_report_without_a_figures_folder_cleans_up_its_own(folder):
    """Without ``figures`` the Report saves its SVGs in a temporary folder of its own (the HTML embeds
    them) and removes it with itself: notebooks and tests used to leave one folder per Report in /tmp."""
    import gc

    r = Report.from_folder(folder, lang="en", strict=True)
    r.flows_overview()
    own = Path(r.figures)
    assert any(own.glob("*.svg"))
    del r
    gc.collect()
    assert not own.exists()
