"""The report: both languages, HTML (self-contained, the tables' numbers and the charts' data) and
PDF (headings, Unicode), rendered on a small folder of hand-made protected tables.

The rendering is done once per language (module fixture); the slow test takes a headless Chromium
screenshot of the dashboard.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reintegration_effects import i18n
from reintegration_effects.disclosure import AGGREGATED_GID
from reintegration_effects.errors import DisclosureError
from reintegration_effects.report import Block, Report, check_plotly_figure, read_tables, write_report

REPORT_DATE = date(2025, 3, 1)
STATUSES = ("bijstand", "werk", "bijstand_met_werk", "ww", "overig")
#: The CBS reference cohort (Leidschendam-Voorburg, outflow 2015), as in domain.md.
OUTFLOW = {6: (75, 190, 20, 15, 160), 12: (90, 165, 20, 25, 165), 18: (105, 160, 25, 15, 160)}
STOCK = {6: (820, 45, 60, None, 75), 12: (700, 95, 55, None, 140), 18: (610, 120, 50, None, 215)}
PROGRAMMES = ("job_coaching", "financiële_coaching_café")  # ë and é must survive the whole chain


def _write(folder: Path, name: str, df: pd.DataFrame) -> None:
    df.to_csv(folder / "tables" / f"{name}.csv", index=False)


def make_protected_folder(out: Path) -> Path:
    """A run folder with a few protected tables (counts rounded to 5, small cells empty)."""
    (out / "tables").mkdir(parents=True, exist_ok=True)
    rows = []
    for cohort, table in (("outflow_2015", OUTFLOW), ("stock_2015-01-01", STOCK)):
        for h, counts in table.items():
            for s, n in zip(STATUSES, counts, strict=True):
                rows.append(dict(cohort=cohort, horizon_months=h, status=s, persons=n, suppressed=n is None,
                                 flag="<10" if n is None else ""))
    _write(out, "flows", pd.DataFrame(rows))
    paths = [("werk", "werk", "werk", 140), ("werk", "overig", "overig", 25), ("overig", "overig", "overig", 120),
             ("bijstand", "bijstand", "bijstand", 60), ("overig", "werk", "werk", 20), ("bijstand", "werk", "werk", 15),
             ("werk", "bijstand", "bijstand", 25), ("ww", "ww", None, None)]
    _write(out, "transitions", pd.DataFrame(
        [dict(cohort="outflow_2015", status_6m=a, status_12m=b, status_18m=c, persons=n) for a, b, c, n in paths]))
    times = [0, 1, 2, 3, 6, 9, 12, 18, 24, 36, 48]
    km = []
    for group, rate in (("all", 0.06), ("sex=M", 0.07), ("sex=F", 0.05)):
        s = np.exp(-rate * np.array(times, dtype=float))
        km += [dict(dimension=group.split("=")[0], group=group, time=t, survival=v, ci_lower=v * 0.95,
                    ci_upper=min(1.0, v * 1.05), persons=int(max(10, round(600 * v / 5) * 5)))
               for t, v in zip(times, s, strict=True)]
    _write(out, "km", pd.DataFrame(km))
    rk = []
    for group, rate in (("all", 0.02), ("destination=werk", 0.01), ("destination=overig", 0.03)):
        s = np.exp(-rate * np.array(times, dtype=float))
        rk += [dict(dimension=group.split("=")[0], group=group, time=t, survival=v, ci_lower=(1 - v) * 0.9,
                    ci_upper=(1 - v) * 1.1, persons=300) for t, v in zip(times, s, strict=True)]
    _write(out, "reentry_km", pd.DataFrame(rk))
    _write(out, "medians", pd.DataFrame([dict(dimension="all", group="all", median_months=11.0, ci_lower=10.0,
                                              ci_upper=12.0, persons=4600)]))
    eff = []
    for p, base in zip(PROGRAMMES, (0.045, -0.02), strict=True):
        for g, shift in (("all", 0), ("sex=M", 0.01), ("sex=F", -0.01), ("age=50+", 0.03)):
            for m, bias in (("naive", 0.08), ("matching", 0.005), ("dml", 0.0)):
                for o in ("off_bijstand_6_18m", "employed_12m"):
                    est = base + shift + bias
                    eff.append(dict(programme=p, group=g, outcome=o, method=m, estimate=est, std_error=0.02,
                                    ci_lower=est - 0.039, ci_upper=est + 0.039, n_treated=120, n_control=4000))
    _write(out, "effects", pd.DataFrame(eff))
    _write(out, "reentry", pd.DataFrame(
        [dict(cohort="outflow_2015", destination=d, horizon_months=h, persons=n, persons_total=tot, share=n / tot,
              ci_lower=n / tot - 0.04, ci_upper=n / tot + 0.04)
         for d, tot in (("all", 460), ("werk", 210)) for h, n in ((6, 70 if d == "all" else 20), (12, 100 if d == "all"
                                                                                                   else 30))]))
    _write(out, "wages", pd.DataFrame([dict(cohort="outflow_2015", dimension="all", value="all", persons=160,
                                            q25=804.5, q50=1019.4, q75=1226.5, suppressed=False, flag="")]))
    _write(out, "ph_tests", pd.DataFrame([dict(model="exit_to_work", term="sex=F", test="scaled Schoenfeld",
                                               test_statistic=0.3, df=1, p_value=0.58, fails=False,
                                               recommendation="", concordance=0.69)]))
    pd.DataFrame([dict(table="persons", file="persons.csv", outcome="kept", reason="valid rows kept", rows=3000),
                  dict(table="study", file="study.toml", outcome="kept",
                       reason="window 2015-01-01 to 2024-12-31 (from study.toml)", rows=0)]
                 ).to_csv(out / "cleaning_log.csv", index=False)
    return out


MANIFEST = {
    "seed": 20150101,
    "simulated": True,
    "settings": {"municipality": "Simstad", "horizons": [6, 12, 18]},
    "inputs": {"persons": {"file": "input/persons.csv", "sha256": "ab" * 32, "bytes": 127054}},
    "versions": {"python": "3.11", "reintegration_effects": "0.1.0"},
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{lang: (html text, pdf text, folder)} for both languages, from the same tables."""
    from pypdf import PdfReader

    out = {}
    for lang in ("nl", "en"):
        folder = make_protected_folder(tmp_path_factory.mktemp(f"report_{lang}"))
        paths = write_report(folder, lang=lang, manifest=MANIFEST, municipality="Simstad",
                             window=("2015-01-01", "2024-12-31"), strict=True, report_date=REPORT_DATE)
        assert [p.name for p in paths] == ["report.html", "report.pdf"]
        assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
        pdf = "\n".join(page.extract_text() for page in PdfReader(paths[1]).pages).replace("\xa0", " ")
        out[lang] = (paths[0].read_text(encoding="utf-8"), pdf, folder)
    return out


# ------------------------------------------------------------------------------------------------
# Texts
# ------------------------------------------------------------------------------------------------


def test_both_languages_have_the_same_keys_and_placeholders():
    assert set(i18n.NL) == set(i18n.EN)
    differ = [k for k in i18n.NL if i18n.placeholders(i18n.NL[k]) != i18n.placeholders(i18n.EN[k])]
    assert differ == []
    assert all(v.strip() for v in i18n.NL.values()) and all(v.strip() for v in i18n.EN.values())


def test_translator_formats_numbers_dates_and_labels():
    nl, en = i18n.Translator("nl"), i18n.Translator("en")
    assert nl.number(1234.5, 1) == "1.234,5" and en.number(1234.5, 1) == "1,234.5"
    assert nl.percent(0.412) == "41%" and nl.pp(0.042) == "+4,2" and en.pp(-0.042) == "−4.2"
    assert nl.euro(1019.4) == "€ 1.019"
    assert nl.cohort("stock_2016-01-01") == "bijstandsbestand op 1 januari 2016"
    assert en.cohort("outflow_2017") == "outflow cohort 2017"
    assert nl.status("bijstand_met_werk") == "bijstand met werk" and nl.status("ww") == "WW"
    assert nl.group("sex=F") == "vrouwen" and en.group("age=50+") == "aged 50 and over"
    assert nl.term("programme=job_coaching") == "traject: jobcoaching"
    assert nl.programme("some_new_programme") == "some new programme"
    assert nl.number(float("nan")) == "x"
    with pytest.raises(ValueError, match="lang must be one of"):
        i18n.Translator("de")


# ------------------------------------------------------------------------------------------------
# The rendered report
# ------------------------------------------------------------------------------------------------


def test_html_is_self_contained(rendered):
    for lang in ("nl", "en"):
        html = rendered[lang][0]
        assert not re.search(r"<script[^>]+src\s*=\s*[\"']?(https?:)?//", html, re.I)
        assert not re.search(r"<link[^>]+href\s*=\s*[\"']?(https?:)?//", html, re.I)
        assert not re.search(r"<img[^>]+src\s*=\s*[\"']?(https?:)?//", html, re.I)
        assert not re.search(r"@import|url\(\s*[\"']?https?:", html, re.I)
        assert html.count("plotly.js v") == 1, "plotly.js is embedded exactly once"
        assert "Plotly.newPlot" in html
        assert "data:image/svg+xml;base64," in html  # static figures embedded


def test_html_shows_the_flow_table_and_the_charts_data(rendered):
    html = rendered["nl"][0]
    # flow table of the outflow cohort: counts and shares of the persons shown
    assert "190 (41%)" in html and "160 (35%)" in html and "105 (23%)" in html
    assert "uitstroomcohort 2015" in html
    # Sankey: a plotly sankey trace whose link values are the published paths
    assert '"type":"sankey"' in html
    assert re.search(r'"value":\[[^\]]*140\.0', html)
    # outflow and re-entry curves: plotly lines for the groups
    assert "Kaplan-Meier" in html and '"name":"vrouwen"' in html and '"name":"uitstroom naar werk"' in html
    # which programme works for whom: DML effect on sustainable outflow, in percentage points with CI
    assert "+4,5" in html and "[0,6; 8,4]" in html and "financiële coaching café" in html
    # absent parts are named, not silently dropped
    assert "ontbreekt in deze run" in html and "typology.csv" in html


def test_pdf_has_title_page_contents_headings_and_unicode(rendered):
    nl, en = rendered["nl"][1], rendered["en"][1]
    for text in ("Bijstand en re-integratie", "Gemeente Simstad", "Inhoudsopgave", "1 januari 2015",
                 "Overzicht", "Waar zijn mensen na 6, 12 en 18 maanden?", "Welk traject werkt voor wie?",
                 "Bijlage A", "Methoden", "Aannames, in gewone woorden", "Figuur 1", "Tabel 1", "190 (41%)"):
        assert text in nl, text
    for text in ("Social assistance and reintegration", "Municipality of Simstad", "Contents", "At a glance",
                 "Which programme works for whom?", "Appendix A", "Methods", "Figure 1", "Table 1"):
        assert text in en, text
    for ch in ("é", "ë", "€", "≥"):
        assert ch in nl and ch in en, ch
    assert "Crépon" in nl and "€ 1.019" in nl and "€ 1,019" in en


def test_the_two_languages_differ(rendered):
    (html_nl, pdf_nl, _), (html_en, pdf_en, _) = rendered["nl"], rendered["en"]
    assert html_nl != html_en and pdf_nl != pdf_en
    assert '<html lang="nl">' in html_nl and '<html lang="en">' in html_en
    assert "herinstroom" in html_nl.lower() and "re-entry" in html_en.lower()
    assert "Which programme works for whom?" not in html_nl and "Welk traject werkt voor wie?" not in html_en


def test_the_same_tables_give_the_same_parts(tmp_path):
    """Deterministic content: every part renders identically from the same tables (figure ids,
    plot ids and SVGs carry no randomness and no date)."""
    folder = make_protected_folder(tmp_path / "run")
    parts = ("key_figures", "flow_table", "sankey", "outflow_curves", "reentry_curves", "programme_table",
             "effects_forest", "effects_methods_chart", "medians_table", "wages_table")

    def render(sub):
        r = Report.from_folder(folder, lang="en", figures=tmp_path / sub, strict=True)
        return [getattr(r, p)() for p in parts]

    a, b = render("a"), render("b")
    assert all(x.html == y.html and x.markdown == y.markdown for x, y in zip(a, b, strict=True))
    assert all(a), "every part has content on these tables"


def test_report_reads_only_protected_tables(tmp_path):
    folder = make_protected_folder(tmp_path / "run")
    (folder / "input").mkdir()
    pd.DataFrame({"person_id": ["P1"]}).to_csv(folder / "input" / "persons.csv", index=False)
    found = read_tables(folder)
    assert "flows" in found and "cleaning_log" in found
    assert not any("person_id" in df.columns for df in found.values())


def test_missing_and_empty_tables_leave_out_their_parts(tmp_path):
    folder = make_protected_folder(tmp_path / "run")
    (folder / "tables" / "effects.csv").unlink()
    (folder / "tables" / "transitions.csv").write_text("")
    r = Report.from_folder(folder, lang="nl", figures=tmp_path / "f", strict=True)
    assert not r.programme_table() and not r.sankey() and not r.effects_forest()
    assert "effects.csv" in r.chapter("dashboard").html and "transitions.csv" in r.chapter("dashboard").html
    assert r.flow_table()  # the rest still renders


def test_a_failing_part_is_noted_not_fatal(tmp_path):
    folder = make_protected_folder(tmp_path / "run")
    r = Report.from_folder(folder, lang="en", figures=tmp_path / "f")
    r.tables["flows"] = r.tables["flows"].assign(persons="many")  # not numbers: the part fails
    block = r.flow_table()
    assert "could not be made" in block.html and r.problems


def test_figures_pass_the_disclosure_checks(tmp_path):
    import plotly.graph_objects as go

    folder = make_protected_folder(tmp_path / "run")
    r = Report.from_folder(folder, lang="en", figures=tmp_path / "f", strict=True)
    from reintegration_effects.report import _new_figure

    fig = _new_figure()
    fig.add_subplot().scatter([1, 2, 3], [1, 2, 3])  # individual points: refused
    with pytest.raises(DisclosureError):
        r._figure("points", "caption", static=fig)
    assert not (tmp_path / "f" / "points.svg").exists()
    with pytest.raises(DisclosureError):
        check_plotly_figure(go.Figure(go.Scatter(x=[1, 2], y=[1, 2], mode="markers")), name="points")
    with pytest.raises(DisclosureError):
        check_plotly_figure(go.Figure(go.Histogram(x=[1, 2, 3])), name="raw")
    check_plotly_figure(go.Figure(go.Scatter(x=[1, 2], y=[1, 2], mode="markers", meta=AGGREGATED_GID)), name="ok")
    assert isinstance(r.effects_forest(), Block)


def test_notebooks_hold_no_logic():
    """analyses/*.py: besides the parameters and the import, every code cell is one call on `report`."""
    folder = Path(__file__).resolve().parent.parent / "analyses"
    stems = sorted(p.stem for p in folder.glob("[0-9][0-9]_*.py"))
    assert stems == ["00_dashboard", "01_flows", "02_typology", "03_careers", "04_survival", "05_effects",
                     "06_benchmark", "07_conclusions", "08_limitations", "09_methods", "10_diagnostics", "11_data"]
    for stem in stems:
        cells = (folder / f"{stem}.py").read_text(encoding="utf-8").split("# %%")[1:]
        code = [c.split("\n", 1)[1].strip() for c in cells if not c.startswith(" [markdown]")]
        calls = [c for c in code if not c.startswith(("out =", "from reintegration_effects.report import"))]
        assert calls and all(re.fullmatch(r'report\.\w+\(("[\w]+")?\)', c) for c in calls), (stem, calls)


# ------------------------------------------------------------------------------------------------
# Slow: a real browser
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_dashboard_renders_in_headless_chromium(rendered, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from PIL import Image

    html_path = rendered["nl"][2] / "report.html"
    shot = rendered["nl"][2] / "dashboard.png"
    profile = tmp_path / "chromium-profile"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
         "--window-size=1280,1800", "--virtual-time-budget=10000", f"--screenshot={shot}", html_path.as_uri()],
        check=True, timeout=120, capture_output=True)
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[:2] == (1800, 1280)
    assert (image[:120] == np.array([0x17, 0x32, 0x4D])).all(axis=-1).mean() > 0.5  # the masthead drew
    plotted = (np.abs(image.astype(int) - np.array([0x1B, 0x78, 0x37])).sum(axis=-1) < 30).sum()
    assert plotted > 500, "the Sankey's green (werk) flows are drawn"
