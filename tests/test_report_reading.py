"""Read the default report as an evaluator would: the PDF's text in both languages, and the HTML.

One run of the built-in municipality with ``--lang nl,en`` (module fixture); the assertions read
the extracted PDF text (pypdf) and the HTML, never the code's intermediate objects:

- no contract code name (``couple_no_children``, ``off_bijstand_12m``, ``job_coaching``) and no
  'NaN'/'None' anywhere;
- page 1 names every programme with its effect and interval, the same numbers as the effects table;
- the flow table's numbers are the Sankey diagram's;
- every cited reference is listed and every listed reference is cited;
- no targeting rule is shown unless the heterogeneity test finds heterogeneity, and no programme
  with a negative estimated effect is ever recommended.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from reintegration_effects.plain_language import programme_sentence
from reintegration_effects.report import Report

LANGS = ("nl", "en")
#: Words with an underscore that may appear: the package's own name (title page, footer).
ALLOWED_UNDERSCORE = {"reintegration_effects"}


@pytest.fixture(scope="module")
def run(default_run) -> Path:
    """The session's default run (tests/conftest.py: seed 20150101, --lang nl,en, as make report)."""
    return default_run.out


def _pdf(out: Path, lang: str) -> list[str]:
    from pypdf import PdfReader

    name = "report.pdf" if lang == "nl" else f"report.{lang}.pdf"
    return [p.extract_text() for p in PdfReader(out / name).pages]


def _html(out: Path, lang: str) -> str:
    name = "report.html" if lang == "nl" else f"report.{lang}.html"
    return (out / name).read_text(encoding="utf-8")


def _body(pages: list[str]) -> str:
    """The text of the pages, hyphenated line breaks joined and lines unwrapped."""
    text = "\n".join(pages)
    text = re.sub(r"-\n(?=[a-z])", "", text)
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("lang", LANGS)
def test_no_code_names_and_no_missing_values_in_the_text(run, lang):
    text = _body(_pdf(run, lang))
    words = set(re.findall(r"\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b", text))
    # file names of the technical appendix (flows_by_group.csv) are file names, not labels
    files = set(re.findall(r"\b([A-Za-z0-9_]+)\.(?:csv|json|toml|md)\b", text))
    # and the software versions table names Python packages (pypandoc_binary)
    files |= set(json.loads((run / "manifest.json").read_text(encoding="utf-8")).get("versions", {}))
    assert not words - ALLOWED_UNDERSCORE - files, sorted(words - ALLOWED_UNDERSCORE - files)[:20]
    for bad in ("NaN", "None", "nan%", "<NA>", "Traceback"):
        assert not re.search(rf"\b{re.escape(bad)}\b", text), bad


@pytest.mark.parametrize("lang", LANGS)
def test_page_one_names_every_programme_with_its_interval(run, lang):
    pages = _pdf(run, lang)
    summary = _body(pages[2:4])  # the title page and the contents come first
    eff = pd.read_csv(run / "tables" / "effects.csv")
    main_ = eff[(eff.group == "all") & (eff.method == "dml") & (eff.outcome == "off_bijstand_6_18m")]
    assert len(main_) >= 2
    r = Report.from_folder(run, lang=lang)
    for row in main_.itertuples():
        sentence = programme_sentence(r.programme_name(row.programme), row.estimate, row.ci_lower, row.ci_upper, lang)
        assert sentence in summary, sentence


def _flow_numbers(run: Path) -> dict[tuple[str, int], int]:
    flows = pd.read_csv(run / "tables" / "flows.csv")
    r = Report.from_folder(run, lang="nl")
    cohort = r.main_cohort("outflow")
    d = flows[(flows.cohort == cohort) & flows.persons.notna()]
    return {(s, int(h)): int(n) for s, h, n in zip(d.status, d.horizon_months, d.persons, strict=True)}


def test_the_flow_tables_numbers_are_the_diagrams(run):
    r = Report.from_folder(run, lang="nl")
    numbers = _flow_numbers(run)
    assert numbers
    html = _html(run, "nl")
    # the Sankey trace of the main cohort (the visible one; the menu holds the others)
    visible = next(m for m in re.finditer(r'"visible":(true|false),"type":"sankey"', html) if m.group(1) == "true")
    at = html.rindex('"label":[', 0, visible.start())
    labels = html[at:html.index("]", at)]
    for (status, h), n in numbers.items():
        label = f"{r.t.status(status)} {r.t.count(n)}"
        assert f'"{label}"' in labels, (status, h, n)
        cell = f"{r.t.count(n)} ("
        assert cell in html
    # the PDF's flow table and its cohort size row
    text = _body(_pdf(run, "nl")[2:5])
    assert "Cohort (personen)" in text


@pytest.mark.parametrize("lang", LANGS)
def test_every_cited_reference_is_listed_and_every_listed_one_cited(run, lang):
    text = _body(_pdf(run, lang))
    ref_title = "Literatuur" if lang == "nl" else "References"
    at = text.rindex(ref_title)
    body, refs = text[:at], text[at:]
    listed = re.findall(r"(?:^|\s)([A-Z][\w\u00C0-\u017F-]+), [A-Z]\.[^()]*?\((\d{4})\)", refs)
    assert len(listed) >= 8
    for author, year in listed:
        assert re.search(rf"\b{re.escape(author)}\b[^()]{{0,60}}?{year}", body), f"{author} {year} is never cited"
    and_ = "en" if lang == "nl" else "and"
    etal = r"e\.a\." if lang == "nl" else r"et al\."
    cited = re.findall(rf"\b([A-Z][\w\u00C0-\u017F-]+)(?: {and_} [A-Z][\w\u00C0-\u017F-]+| {etal})? (\d{{4}})\b", body)
    listed_set = set(listed)
    for author, year in cited:
        if 1950 < int(year) < 2030 and author not in {"Rapportdatum", "Report", "Figuur", "Tabel", "Figure", "Table"}:
            looks_like_citation = (author, year) in listed_set or any(a == author for a, _ in listed)
            if looks_like_citation:
                assert (author, year) in listed_set, f"{author} {year} is cited but not listed"


@pytest.mark.parametrize("lang", LANGS)
def test_no_targeting_rule_without_heterogeneity_and_no_harmful_recommendation(run, lang):
    r = Report.from_folder(run, lang=lang)
    text = _body(_pdf(run, lang))
    policy = pd.read_csv(run / "tables" / "policy.csv") if (run / "tables" / "policy.csv").is_file() else None
    if not r.targeting()["detected"]:
        phrase = "geen basis om trajecten op doelgroepen te richten" if lang == "nl" else "no basis for targeting"
        assert phrase in text
        return
    assert policy is not None
    leaves = policy[policy.leaf.astype(str) != "all"]
    harmful = leaves[(leaves.programme != "none") & (leaves.effect <= 0)]
    assert harmful.empty, harmful
