"""The words about the estimates: one rule for what counts as a finding, the same signs as the
tables, complete and symmetric lists, no targeting rule without heterogeneity, costs by hand."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from reintegration_effects.plain_language import (
    MIN_GROUP_SIZE,
    group_q_values,
    plain_language,
    programme_sentence,
    verdicts,
)
from reintegration_effects.report import Report


def _effects_table():
    rows = [
        ("job_coaching", "sex=F", "off_bijstand_6_18m", "dml", 0.042, 0.0163, 0.010, 0.074, 338, 5000),
        ("training", "age=18-26", "off_bijstand_6_18m", "dml", -0.028, 0.0158, -0.059, 0.003, 183, 4000),
        ("work_experience", "all", "off_bijstand_6_18m", "dml", np.nan, np.nan, np.nan, np.nan, np.nan, np.nan),
        ("participation", "household=other", "off_bijstand_6_18m", "dml", 0.30, 0.1, 0.10, 0.50, 4, 300),
        ("job_coaching", "sex=F", "off_bijstand_6_18m", "matching", 0.050, 0.02, 0.011, 0.089, 338, 900),
        ("job_coaching", "sex=F", "employed_12m", "dml", 0.061, 0.02, 0.022, 0.100, 338, 5000),
        ("job_coaching", "age=50+", "months_bijstand_18m", "dml", -0.64, 0.2, -1.03, -0.25, 86, 3000),
    ]
    cols = ["programme", "group", "outcome", "method", "estimate", "std_error", "ci_lower", "ci_upper",
            "n_treated", "n_control"]
    return pd.DataFrame(rows, columns=cols)


def test_sentences_carry_the_tables_signs_and_intervals():
    eff = _effects_table()
    nl = plain_language(eff, lang="nl")
    assert list(nl.sentence) == [
        "Voor vrouwen geeft jobcoaching aantoonbaar meer duurzame uitstroom: +4,2 procentpunt (95%-BI 1,0 tot 7,4).",
        "Voor jongeren van 18 tot en met 26 jaar heeft scholing geen aantoonbaar effect op de duurzame uitstroom: "
        "−2,8 procentpunt (95%-BI −5,9 tot 0,3).",
    ]  # suppressed (NaN) and small (4 participants) rows skipped; other methods/outcomes filtered
    assert nl.verdict.tolist() == ["positive", "none"]
    assert not any(re.search(r"\d\.\d", s) for s in nl.sentence)  # decimal comma only
    en = plain_language(eff, lang="en")
    assert en.sentence.iloc[0] == ("For women, job coaching gives demonstrably more sustainable outflow: "
                                   "+4.2 percentage points (95% CI 1.0 to 7.4).")
    assert not any(re.search(r"\d,\d", s) for s in en.sentence)
    months = plain_language(eff, lang="en", outcome="months_bijstand_18m")
    assert months.sentence.iloc[0] == (
        "For people aged 50 and over, job coaching gives demonstrably fewer months on bijstand (in the 18 months "
        "after the start): −0.6 months (95% CI −1.0 to −0.2).")
    named = plain_language(eff, lang="nl", method="matching", programme_names={"job_coaching": "de Werkcoach"})
    assert named.sentence.iloc[0].startswith("Voor vrouwen geeft de Werkcoach aantoonbaar meer duurzame uitstroom: +5,0 ")
    with pytest.raises(ValueError, match="lang must be one of"):
        plain_language(eff, lang="de")


def test_q_values_are_benjamini_hochberg_within_a_programme():
    """Hand computation: p = 0.01, 0.04, 0.03, 0.20 in one family -> BH q = 0.04, 0.0533, 0.0533, 0.20."""
    from scipy import stats

    p = np.array([0.01, 0.04, 0.03, 0.20])
    z = stats.norm.isf(p / 2)
    eff = pd.DataFrame({"programme": "a", "outcome": "o", "method": "dml",
                        "group": ["sex=M", "sex=F", "age=18-26", "age=50+"], "estimate": z * 0.01,
                        "std_error": 0.01})
    eff = pd.concat([eff, pd.DataFrame([{"programme": "a", "outcome": "o", "method": "dml", "group": "all",
                                         "estimate": 0.5, "std_error": 0.01}]),
                     eff.assign(programme="b", estimate=eff.estimate * 10)], ignore_index=True)
    q = group_q_values(eff)
    assert q[:4].to_numpy() == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20], rel=1e-9)
    assert np.isnan(q[4])  # group "all" is not in the family
    assert (q[5:] < q[:4].to_numpy()).all()  # programme b is its own family
    # a published q_value column is used as it is
    assert group_q_values(eff.assign(q_value=0.5))[:4].tolist() == [0.5] * 4


def test_a_group_is_a_finding_only_with_fdr_and_enough_participants():
    base = dict(programme="a", outcome="off_bijstand_6_18m", method="dml")
    eff = pd.DataFrame([
        {**base, "group": "all", "estimate": 0.03, "ci_lower": 0.001, "ci_upper": 0.06, "q_value": np.nan,
         "n_treated": 900},
        {**base, "group": "sex=F", "estimate": 0.05, "ci_lower": 0.02, "ci_upper": 0.08, "q_value": 0.01,
         "n_treated": 400},
        {**base, "group": "age=50+", "estimate": -0.09, "ci_lower": -0.15, "ci_upper": -0.03, "q_value": 0.01,
         "n_treated": 400},
        {**base, "group": "household=other", "estimate": 0.20, "ci_lower": 0.05, "ci_upper": 0.35, "q_value": 0.01,
         "n_treated": MIN_GROUP_SIZE - 5},  # too small to be called a finding
        {**base, "group": "sex=M", "estimate": 0.04, "ci_lower": 0.001, "ci_upper": 0.08, "q_value": 0.09,
         "n_treated": 500},  # raw interval excludes zero, but not after the FDR correction
        {**base, "group": "age=18-26", "estimate": np.nan, "ci_lower": np.nan, "ci_upper": np.nan,
         "q_value": np.nan, "n_treated": np.nan},
    ])
    v = verdicts(eff).set_index("group")["verdict"]
    assert v.to_dict() == {"all": "positive", "sex=F": "positive", "age=50+": "negative", "household=other": "none",
                           "sex=M": "none", "age=18-26": "suppressed"}


def test_programme_sentence_says_no_demonstrable_effect_when_the_interval_covers_zero():
    assert programme_sentence("Jobcoaching", 0.038, 0.011, 0.065, "nl") == (
        "Jobcoaching: aantoonbaar meer duurzame uitstroom, +3,8 procentpunt (95%-BI 1,1 tot 6,5).")
    assert programme_sentence("Training", -0.031, -0.056, -0.007, "en") == (
        "Training: demonstrably less sustainable outflow, −3.1 percentage points (95% CI −5.6 to −0.7).")
    assert programme_sentence("Participatie", -0.001, -0.017, 0.015, "nl") == (
        "Participatie: geen aantoonbaar effect op de duurzame uitstroom, −0,1 procentpunt (95%-BI −1,7 tot 1,5).")


# ------------------------------------------------------------------------------------------------
# The report's parts built on the rule
# ------------------------------------------------------------------------------------------------

def _folder(tmp_path, *, heterogeneity_p=(0.40, 0.30), costs=True):
    """Two programmes: a helps (overall and for women), b harms (overall and the 50+)."""
    t = tmp_path / "run" / "tables"
    t.mkdir(parents=True)
    base = dict(outcome="off_bijstand_6_18m", method="dml", n_control=5000)
    rows = []
    for prog, est, lo, hi in (("a", 0.04, 0.01, 0.07), ("b", -0.03, -0.055, -0.005)):
        rows.append({**base, "programme": prog, "group": "all", "estimate": est, "std_error": 0.015, "ci_lower": lo,
                     "ci_upper": hi, "n_treated": 800})
        for g, e, q in (("sex=F", 0.06, 0.01), ("sex=M", 0.02, 0.4), ("age=50+", -0.08, 0.02),
                        ("age=18-26", 0.01, 0.8)):
            e = e if prog == "a" or g == "age=50+" else 0.0
            q = q if (prog == "a" and g != "age=50+") or (prog == "b" and g == "age=50+") else 0.9
            rows.append({**base, "programme": prog, "group": g, "estimate": e, "std_error": 0.02,
                         "ci_lower": e - 0.04, "ci_upper": e + 0.04, "n_treated": 300, "q_value": q})
    eff = pd.DataFrame(rows)
    eff.loc[(eff.programme == "a") & (eff.group == "age=50+"), ["estimate", "ci_lower", "ci_upper"]] = [0.0, -0.04,
                                                                                                        0.04]
    eff.to_csv(t / "effects.csv", index=False)
    pd.DataFrame({"programme": ["a", "b"], "outcome": "off_bijstand_6_18m", "test": "blp_wald",
                  "statistic": 1.0, "df": 4, "p_value": list(heterogeneity_p), "persons": 800}).to_csv(
        t / "effects_heterogeneity.csv", index=False)
    pd.DataFrame([{"outcome": "off_bijstand_6_18m", "leaf": 1, "group": "sex=F", "programme": "b", "persons": 400,
                   "estimate": 0.01, "ci_lower": -0.02, "ci_upper": 0.04, "effect": -0.02,
                   "effect_ci_lower": -0.05, "effect_ci_upper": 0.01}]).to_csv(t / "policy.csv", index=False)
    if costs:
        pd.DataFrame({"programme": ["a", "b"], "name_nl": ["Coaching A", "Scholing B"],
                      "name_en": ["Coaching A", "Training B"], "description_nl": ["x", "y"],
                      "description_en": ["x", "y"], "cost_per_participant": [2000.0, 1500.0],
                      "participants": [800, 800]}).to_csv(t / "programmes.csv", index=False)
    return tmp_path / "run"


def test_page_one_names_every_programme_with_its_interval_and_the_groups_both_ways(tmp_path):
    r = Report.from_folder(_folder(tmp_path), lang="nl", figures=tmp_path / "f", strict=True)
    md = r.what_works().markdown
    assert "Coaching A: aantoonbaar meer duurzame uitstroom, +4,0 procentpunt (95%-BI 1,0 tot 7,0)." in md
    assert "Scholing B: aantoonbaar minder duurzame uitstroom, −3,0 procentpunt (95%-BI −5,5 tot −0,5)." in md
    assert "vrouwen (+6,0; 95%-BI 2,0 tot 10,0)" in md  # a positive group finding
    assert "50-plussers (−8,0; 95%-BI −12,0 tot −4,0)" in md  # and a negative one, listed the same way
    assert "geen basis om trajecten op doelgroepen te richten" in md  # no heterogeneity detected
    findings = r.findings().markdown
    assert findings.count("aantoonbaar meer") == 2 and findings.count("aantoonbaar minder") == 2
    assert "Voor de andere 3 doelgroepen is er geen aantoonbaar effect van Coaching A." in findings


def test_no_targeting_rule_without_heterogeneity_and_never_a_harmful_recommendation(tmp_path):
    r = Report.from_folder(_folder(tmp_path), lang="en", figures=tmp_path / "f", strict=True)
    block = r.policy_table()
    assert "no basis for targeting" in block.markdown and "Training B" not in block.markdown
    r2 = Report.from_folder(_folder(tmp_path / "h", heterogeneity_p=(0.001, 0.30)), lang="en",
                            figures=tmp_path / "f2", strict=True)
    assert r2.targeting() == {"tested": True, "detected": True, "programmes": ["a"]}
    table = r2.policy_table().markdown
    # the leaf's programme b has a negative effect there: shown as no programme, never recommended
    assert "Training B" not in table and "no programme" in table.lower()


def test_cost_per_extra_exit_by_hand(tmp_path):
    r = Report.from_folder(_folder(tmp_path), lang="en", figures=tmp_path / "f", strict=True)
    md = r.cost_table().markdown
    # 2000 / 0.04 = 50,000; interval 2000 / 0.07 = 28,571 to 2000 / 0.01 = 200,000
    assert "€ 50,000 (€ 28,571 – € 200,000)" in md
    assert "not defined" in md  # programme b has no positive effect
