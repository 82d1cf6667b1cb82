"""Sentences about the estimates, in Dutch and English: the report layer's words.

The estimators return numbers only; the sentences an evaluator reads are made here, from the
protected tables: one sentence per programme and group effect (:func:`plain_language`) and the
reading of the sensitivity bounds (:func:`add_sensitivity_sentences`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .contract import RMST_PREFIX

__all__ = ["ALPHA", "COMPETING_RISKS_TEXT", "GROUP_PHRASES", "IMMORTAL_TIME_TEXT", "MIN_GROUP_SIZE", "OUTCOME_DIRECTIONS",
           "OUTCOME_PHRASES", "PLAIN_LANGUAGE_COLUMNS", "PROGRAMME_NAMES", "add_sensitivity_sentences", "group_q_values",
           "plain_language", "programme_sentence", "sensitivity_sentence", "verdicts"]

LANGUAGES = ("nl", "en")


def fmt_number(x: float, lang: str, decimals: int = 1) -> str:
    s = f"{abs(x):.{decimals}f}"
    if lang == "nl":
        s = s.replace(".", ",")
    return ("−" if x < 0 and float(s.replace(",", ".")) != 0 else "") + s


def pct(share: float, lang: str) -> str:
    """0.0172 -> '1.7%'; small shares keep two decimals ('0.03%'), tiny ones read 'less than 0.01%'."""
    pct = 100 * share
    if pct < 0.01:
        return "minder dan 0,01%" if lang == "nl" else "less than 0.01%"
    return f"{fmt_number(pct, lang, 1 if pct >= 1 else 2)}%"


def sensitivity_sentence(rv: float, row: dict, lang: str, alpha: float = 0.05) -> str:
    """One plain sentence about the robustness value, and one about the interval at c_y, c_t."""
    level = fmt_number(100 * (1 - alpha), lang, 0)
    if not np.isfinite(rv):
        return ("De gevoeligheidsgrenzen zijn niet te berekenen (negatieve variantieschatting)." if lang == "nl"
                else "The sensitivity bounds cannot be computed (a negative variance estimate).")
    lo, hi = row.get("sensitivity_ci_lower", np.nan), row.get("sensitivity_ci_upper", np.nan)
    cy = fmt_number(100 * row["c_y"], lang, 0)
    if str(row.get("outcome", "")).startswith(RMST_PREFIX):  # a restricted mean: months, not a share
        lo_s, hi_s = fmt_number(lo, lang, 2), fmt_number(hi, lang, 2)
        unit = "maanden" if lang == "nl" else "months"
    else:
        lo_s, hi_s = fmt_number(100 * lo, lang), fmt_number(100 * hi, lang)
        unit = "procentpunt" if lang == "nl" else "percentage points"
    if lang == "nl":
        if rv <= 0:
            head = ("Het effect is ook zonder verborgen verstorende factor niet significant: het "
                    f"{level}%-betrouwbaarheidsinterval bevat nul al.")
        else:
            head = (f"Een niet-waargenomen verstorende factor zou {pct(rv, lang)} van de resterende variatie "
                    "van zowel de deelname als de uitkomst moeten verklaren om dit effect niet-significant te maken.")
        tail = f" Verklaart zo'n factor {cy}% van beide, dan ligt het effect tussen {lo_s} en {hi_s} {unit} ({level}%)."
    else:
        if rv <= 0:
            head = (f"The effect is not significant even without hidden confounding: its {level}% confidence interval "
                    "already contains zero.")
        else:
            head = (f"An unobserved confounder would need to explain {pct(rv, lang)} of the residual variation "
                    "of both take-up and outcome to make the effect insignificant.")
        tail = f" If such a confounder explained {cy}% of both, the effect would lie between {lo_s} and {hi_s} {unit} ({level}%)."
    return head + tail


def add_sensitivity_sentences(sensitivity: pd.DataFrame, lang: str = "nl", alpha: float = 0.05) -> pd.DataFrame:
    """The sensitivity table (``HeterogeneityResults.sensitivity``) with an ``interpretation`` column.

    One sentence about the robustness value and one about the sensitivity interval at the row's
    ``c_y``; rows whose robustness value is missing say the bounds cannot be computed.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}; found {lang!r}")
    out = sensitivity.copy()
    out["interpretation"] = [sensitivity_sentence(float(r["robustness_value"]), r, lang, alpha)
                             for r in out.to_dict("records")]
    return out


# ------------------------------------------------------------------------------------------------
# the group effects in sentences
# ------------------------------------------------------------------------------------------------

GROUP_PHRASES = {
    "nl": {
        "all": "alle deelnemers", "sex=M": "mannen", "sex=F": "vrouwen",
        "age=18-26": "jongeren van 18 tot en met 26 jaar", "age=27-49": "mensen van 27 tot en met 49 jaar",
        "age=50+": "50-plussers", "migration=dutch": "mensen met een Nederlandse herkomst",
        "migration=western": "mensen met een westerse migratieachtergrond",
        "migration=non_western": "mensen met een niet-westerse migratieachtergrond",
        "migration=europe": "mensen met een Europese herkomst (buiten Nederland)",
        "migration=outside_europe": "mensen met een herkomst buiten Europa",
        "migration=unknown": "mensen van wie de herkomst onbekend is", "household=single": "alleenstaanden",
        "household=single_parent": "alleenstaande ouders",
        "household=couple_no_children": "mensen in een paar zonder kinderen",
        "household=couple_with_children": "mensen in een paar met kinderen",
        "household=child_at_home": "thuiswonende kinderen", "household=other": "mensen in een ander huishouden",
        "household=unknown": "mensen van wie het huishouden onbekend is", "education=low": "laagopgeleiden",
        "education=medium": "middelbaar opgeleiden", "education=high": "hoogopgeleiden",
        "education=unknown": "mensen van wie de opleiding onbekend is",
    },
    "en": {
        "all": "all participants", "sex=M": "men", "sex=F": "women", "age=18-26": "people aged 18 to 26",
        "age=27-49": "people aged 27 to 49", "age=50+": "people aged 50 and over",
        "migration=dutch": "people of Dutch origin", "migration=western": "people with a western migration background",
        "migration=non_western": "people with a non-western migration background",
        "migration=europe": "people of European origin (outside the Netherlands)",
        "migration=outside_europe": "people of origin outside Europe",
        "migration=unknown": "people whose origin is unknown", "household=single": "single people",
        "household=single_parent": "single parents", "household=couple_no_children": "people in a couple without children",
        "household=couple_with_children": "people in a couple with children",
        "household=child_at_home": "adult children living with their parents",
        "household=other": "people in another type of household",
        "household=unknown": "people whose household position is unknown",
        "education=low": "people with a low education", "education=medium": "people with a medium education",
        "education=high": "people with a high education", "education=unknown": "people whose education is unknown",
    },
}
PROGRAMME_NAMES = {
    "nl": {"job_coaching": "jobcoaching", "training": "scholing", "work_experience": "een werkervaringsplaats",
           "participation": "een participatietraject"},
    "en": {"job_coaching": "job coaching", "training": "training", "work_experience": "a work-experience placement",
           "participation": "a participation programme"},
}
#: outcome -> (phrase, unit, scale to the unit) per language.
OUTCOME_PHRASES = {
    "nl": {"off_bijstand_6_18m": ("de duurzame uitstroom", "procentpunt", 100.0),
           "off_bijstand_12m": ("de kans om na 12 maanden uit de bijstand te zijn", "procentpunt", 100.0),
           "employed_12m": ("de kans om na 12 maanden te werken", "procentpunt", 100.0),
           "months_bijstand_18m": ("het aantal maanden bijstand in de 18 maanden na de start", "maanden", 1.0),
           "participating_18m": ("de kans om 18 maanden later mee te doen aan een activiteit", "procentpunt", 100.0),
           "volunteering_18m": ("de kans om 18 maanden later vrijwilligerswerk te doen", "procentpunt", 100.0)},
    "en": {"off_bijstand_6_18m": ("sustainable outflow", "percentage points", 100.0),
           "off_bijstand_12m": ("the chance of being off bijstand 12 months later", "percentage points", 100.0),
           "employed_12m": ("the chance of being in work 12 months later", "percentage points", 100.0),
           "months_bijstand_18m": ("the number of months on bijstand in the 18 months after the start", "months",
                                   1.0),
           "participating_18m": ("the chance of taking part in an activity 18 months later", "percentage points",
                                 100.0),
           "volunteering_18m": ("the chance of volunteering 18 months later", "percentage points", 100.0)},
}
#: outcome -> (more, less, no effect) phrases per language: "Job coaching: demonstrably more
#: sustainable outflow, +3.8 percentage points (95% CI 1.1 to 6.5)".
OUTCOME_DIRECTIONS = {
    "nl": {"off_bijstand_6_18m": ("aantoonbaar meer duurzame uitstroom", "aantoonbaar minder duurzame uitstroom",
                                  "geen aantoonbaar effect op de duurzame uitstroom"),
           "off_bijstand_12m": ("een aantoonbaar grotere kans om na 12 maanden uit de bijstand te zijn",
                                "een aantoonbaar kleinere kans om na 12 maanden uit de bijstand te zijn",
                                "geen aantoonbaar effect op de kans om na 12 maanden uit de bijstand te zijn"),
           "employed_12m": ("een aantoonbaar grotere kans om na 12 maanden te werken",
                            "een aantoonbaar kleinere kans om na 12 maanden te werken",
                            "geen aantoonbaar effect op de kans om na 12 maanden te werken"),
           "months_bijstand_18m": ("aantoonbaar meer maanden bijstand (in de 18 maanden na de start)",
                                   "aantoonbaar minder maanden bijstand (in de 18 maanden na de start)",
                                   "geen aantoonbaar effect op het aantal maanden bijstand"),
           "participating_18m": ("aantoonbaar meer deelname aan activiteiten (18 maanden na de start)",
                                 "aantoonbaar minder deelname aan activiteiten (18 maanden na de start)",
                                 "geen aantoonbaar effect op deelname aan activiteiten"),
           "volunteering_18m": ("aantoonbaar meer vrijwilligerswerk (18 maanden na de start)",
                                "aantoonbaar minder vrijwilligerswerk (18 maanden na de start)",
                                "geen aantoonbaar effect op vrijwilligerswerk")},
    "en": {"off_bijstand_6_18m": ("demonstrably more sustainable outflow", "demonstrably less sustainable outflow",
                                  "no demonstrable effect on sustainable outflow"),
           "off_bijstand_12m": ("a demonstrably higher chance of being off bijstand 12 months later",
                                "a demonstrably lower chance of being off bijstand 12 months later",
                                "no demonstrable effect on the chance of being off bijstand 12 months later"),
           "employed_12m": ("a demonstrably higher chance of being in work 12 months later",
                            "a demonstrably lower chance of being in work 12 months later",
                            "no demonstrable effect on the chance of being in work 12 months later"),
           "months_bijstand_18m": ("demonstrably more months on bijstand (in the 18 months after the start)",
                                   "demonstrably fewer months on bijstand (in the 18 months after the start)",
                                   "no demonstrable effect on the number of months on bijstand"),
           "participating_18m": ("demonstrably more taking part in activities (18 months after the start)",
                                 "demonstrably less taking part in activities (18 months after the start)",
                                 "no demonstrable effect on taking part in activities"),
           "volunteering_18m": ("demonstrably more volunteering (18 months after the start)",
                                "demonstrably less volunteering (18 months after the start)",
                                "no demonstrable effect on volunteering")},
}
PLAIN_LANGUAGE_COLUMNS = ("programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper",
                          "significant", "sentence", "verdict", "q_value", "n_treated")
#: Groups with fewer participants than this are never called a finding (their intervals are wide
#: and, across dozens of groups, chance differences are expected); stated in the report's captions.
MIN_GROUP_SIZE = 50
#: Level of the tests and of the false-discovery rate across the groups of one programme.
ALPHA = 0.05


def signed(x: float, lang: str, decimals: int = 1) -> str:
    """A signed number as the report's tables show it: '+3,8', '−3,1', '0,0'."""
    s = fmt_number(x, lang, decimals)
    return s if s.startswith("−") or float(s.replace(",", ".")) == 0 else "+" + s


def interval(lo: float, hi: float, lang: str, decimals: int = 1, level: int = 95) -> str:
    """'95%-BI 1,1 tot 6,5' / '95% CI 1.1 to 6.5', with the same signs as the tables."""
    a, b = fmt_number(lo, lang, decimals), fmt_number(hi, lang, decimals)
    return f"{level}%-BI {a} tot {b}" if lang == "nl" else f"{level}% CI {a} to {b}"


def group_q_values(effects: pd.DataFrame) -> pd.Series:
    """Benjamini-Hochberg q-values across the groups of each programme x outcome x method.

    Uses the table's ``q_value`` column where the run wrote one; otherwise (tables of older runs)
    computes the same adjustment as the effects step (:func:`~reintegration_effects.stats.fdr_q_values`
    on :func:`~reintegration_effects.stats.normal_p_value` of estimate / std_error, or of the
    interval's width when there is no standard error). Rows of group "all" and rows without an
    estimate get NaN.
    """
    from scipy import stats

    from .stats import fdr_q_values, normal_p_value

    if "q_value" in effects.columns and pd.to_numeric(effects["q_value"], errors="coerce").notna().any():
        q = pd.to_numeric(effects["q_value"], errors="coerce").astype(float)
        return q.where(effects["group"].astype(str) != "all")
    est = pd.to_numeric(effects["estimate"], errors="coerce").astype(float)
    if "std_error" in effects.columns:
        se = pd.to_numeric(effects["std_error"], errors="coerce").astype(float)
    else:
        se = (pd.to_numeric(effects["ci_upper"], errors="coerce") - pd.to_numeric(effects["ci_lower"], errors="coerce")
              ).astype(float) / (2 * stats.norm.ppf(1 - ALPHA / 2))
    in_family = (effects["group"].astype(str) != "all").to_numpy()
    p = np.where(in_family, normal_p_value(est, se), np.nan)
    families = list(zip(effects["programme"], effects["outcome"], effects["method"], strict=True))
    return pd.Series(fdr_q_values(p, families), index=effects.index)


def verdicts(effects: pd.DataFrame, *, min_group_size: int = MIN_GROUP_SIZE, alpha: float = ALPHA) -> pd.DataFrame:
    """The effects table with ``q_value`` and ``verdict`` ('positive', 'negative', 'none', 'suppressed').

    Group "all" (one pre-specified estimate per programme): a finding when its interval excludes
    zero. A target group: a finding only when its false-discovery-rate adjusted q-value is below
    ``alpha`` across the groups of the programme (outcome, method) and it has at least
    ``min_group_size`` participants; otherwise 'none'. The sign of a finding is the sign of the
    estimate ('positive' is the estimate's sign, not whether it is desirable: for months on
    bijstand a negative estimate is the good direction).
    """
    d = effects.copy()
    est = pd.to_numeric(d["estimate"], errors="coerce").astype(float)
    lo = pd.to_numeric(d["ci_lower"], errors="coerce").astype(float)
    hi = pd.to_numeric(d["ci_upper"], errors="coerce").astype(float)
    d["q_value"] = group_q_values(d)
    n = pd.to_numeric(d["n_treated"], errors="coerce") if "n_treated" in d else pd.Series(np.inf, index=d.index)
    is_all = d["group"].astype(str) == "all"
    ci_excludes = (lo > 0) | (hi < 0)
    finding = np.where(is_all, ci_excludes, (d["q_value"] < alpha) & (n.fillna(0) >= min_group_size) & ci_excludes)
    verdict = np.where(finding, np.where(est > 0, "positive", "negative"), "none")
    missing = est.isna() | lo.isna() | hi.isna()
    if "suppressed" in d:
        missing |= d["suppressed"].astype(str).str.lower().isin(["true", "1"])
    d["verdict"] = np.where(missing, "suppressed", verdict)
    return d


def plain_language(effects: pd.DataFrame, lang: str = "nl", outcome: str = "off_bijstand_6_18m", method: str = "dml",
                   *, programme_names: dict[str, str] | None = None, min_persons: int = 10,
                   min_group_size: int = MIN_GROUP_SIZE, alpha: float = ALPHA) -> pd.DataFrame:
    """One sentence per programme x group from an effects table (contract layout, e.g. effects.csv).

    "Voor vrouwen geeft jobcoaching aantoonbaar meer duurzame uitstroom: +4,5 procentpunt (95%-BI
    0,8 tot 8,2)." / "For women, job coaching gives demonstrably more sustainable outflow: +4.5
    percentage points (95% CI 0.8 to 8.2)." The estimate and interval carry the same signs as the
    effects table. Whether a row is a finding follows :func:`verdicts` (group "all": the interval
    excludes zero; a target group: false-discovery-rate q-value below ``alpha`` and at least
    ``min_group_size`` participants); other rows read "no demonstrable effect". Rows without an
    estimate or interval (suppressed), marked ``suppressed``, or with fewer than ``min_persons``
    participants or controls (``n_treated``/``n_control``, where present) are skipped: pass the
    protected table. ``programme_names`` overrides the built-in names (unknown labels are shown
    with spaces for underscores). The effects are those of ``effects.csv``: effects on the
    participants in the group (ATT).

    Columns: programme, group, outcome, method, estimate, ci_lower, ci_upper, significant (a
    finding), sentence, verdict, q_value, n_treated.
    """
    if lang not in GROUP_PHRASES:
        raise ValueError(f"lang must be one of {list(GROUP_PHRASES)}; found {lang!r}")
    missing = [c for c in ("programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper")
               if c not in effects.columns]
    if missing:
        raise ValueError(f"effects table lacks columns {missing}; expected the contract's effects layout")
    if outcome not in OUTCOME_PHRASES[lang]:
        raise ValueError(f"outcome must be one of {list(OUTCOME_PHRASES[lang])}; found {outcome!r}")
    d = effects[(effects["outcome"] == outcome) & (effects["method"] == method)].copy()
    d = verdicts(d, min_group_size=min_group_size, alpha=alpha)
    ok = d["verdict"] != "suppressed"
    for c in ("n_treated", "n_control"):
        if c in d:
            ok &= pd.to_numeric(d[c], errors="coerce").fillna(0) >= min_persons
    names = {**PROGRAMME_NAMES[lang], **(programme_names or {})}
    _, unit, scale = OUTCOME_PHRASES[lang][outcome]
    more, less, none = OUTCOME_DIRECTIONS[lang][outcome]
    rows = []
    for i in d.index[ok.to_numpy()]:
        prog, group = str(d.at[i, "programme"]), str(d.at[i, "group"])
        est, lo, hi = (float(d.at[i, c]) for c in ("estimate", "ci_lower", "ci_upper"))
        verdict = str(d.at[i, "verdict"])
        who = GROUP_PHRASES[lang].get(group, f"{'groep' if lang == 'nl' else 'group'} {group}")
        pname = names.get(prog, prog.replace("_", " "))
        what = {"positive": more, "negative": less}.get(verdict, none)
        numbers = f"{signed(est * scale, lang)} {unit} ({interval(lo * scale, hi * scale, lang)})"
        if lang == "nl":
            verb = "heeft" if verdict == "none" else "geeft"
            text = f"Voor {who} {verb} {pname} {what}: {numbers}."
        else:
            verb = "has" if verdict == "none" else "gives"
            text = f"For {who}, {pname} {verb} {what}: {numbers}."
        n = d.at[i, "n_treated"] if "n_treated" in d else np.nan
        rows.append(dict(programme=prog, group=group, outcome=outcome, method=method, estimate=est, ci_lower=lo,
                         ci_upper=hi, significant=verdict in ("positive", "negative"),
                         sentence=text[0].upper() + text[1:], verdict=verdict, q_value=d.at[i, "q_value"],
                         n_treated=n))
    return pd.DataFrame(rows, columns=list(PLAIN_LANGUAGE_COLUMNS))


def programme_sentence(name: str, est: float, lo: float, hi: float, lang: str,
                       outcome: str = "off_bijstand_6_18m") -> str:
    """The summary's sentence for one programme: 'Jobcoaching: aantoonbaar meer duurzame uitstroom,
    +3,8 procentpunt (95%-BI 1,1 tot 6,5).' A finding when the interval excludes zero."""
    _, unit, scale = OUTCOME_PHRASES[lang][outcome]
    more, less, none = OUTCOME_DIRECTIONS[lang][outcome]
    what = more if lo > 0 else less if hi < 0 else none
    return f"{name}: {what}, {signed(est * scale, lang)} {unit} ({interval(lo * scale, hi * scale, lang)})."


# --------------------------------------------------------------------------------------------
# Why the survival chapter uses cumulative incidence and a time-varying programme term
# --------------------------------------------------------------------------------------------

COMPETING_RISKS_TEXT = {
    "en": (
        "Why not 1 - Kaplan-Meier? A Kaplan-Meier curve for exit to work treats everyone who left "
        "bijstand for another destination (WW, 'overig') as censored: as if they were still at risk "
        "of leaving for work later, at the same rate as those still on bijstand. But a person who has "
        "left for WW can no longer leave this spell for work: the event has become impossible, not "
        "unobserved. 1 - KM therefore estimates the share leaving for work in a hypothetical world "
        "without the other destinations, and it overstates the share that actually leaves for work "
        "by a given month, the more so the more people leave elsewhere. The Aalen-Johansen "
        "cumulative incidence weights each month's exit-to-work hazard by the probability of still "
        "being on bijstand, so the cumulative incidences of all destinations and the probability of "
        "still being on bijstand add up to one. Hazard ratios from the cause-specific Cox models "
        "describe the rate of leaving for work among those still on bijstand; they do not translate "
        "one-to-one into differences in the cumulative incidence."
    ),
    "nl": (
        "Waarom niet 1 - Kaplan-Meier? Een Kaplan-Meiercurve voor uitstroom naar werk behandelt "
        "iedereen die de bijstand naar een andere bestemming verliet (WW, 'overig') als gecensureerd: "
        "alsof die personen later nog naar werk konden uitstromen, even snel als wie nog in de "
        "bijstand zit. Maar wie naar de WW is gegaan, kan deze uitkeringsperiode niet meer naar werk "
        "verlaten: de gebeurtenis is onmogelijk geworden, niet onwaargenomen. 1 - KM schat daarom het "
        "aandeel dat naar werk uitstroomt in een denkbeeldige wereld zonder de andere bestemmingen, "
        "en overschat het aandeel dat werkelijk naar werk uitstroomt, sterker naarmate meer mensen "
        "elders heen gaan. De cumulatieve incidentie (Aalen-Johansen) weegt de uitstroomkans naar "
        "werk in elke maand met de kans om dan nog in de bijstand te zitten; de cumulatieve "
        "incidenties van alle bestemmingen en de kans om nog in de bijstand te zitten tellen op tot "
        "één. Hazard ratio's uit de oorzaakspecifieke Cox-modellen beschrijven het tempo van "
        "uitstroom naar werk onder wie nog in de bijstand zit; ze vertalen zich niet één op één in "
        "verschillen in de cumulatieve incidentie."
    ),
}

IMMORTAL_TIME_TEXT = {
    "en": (
        "Why a time-varying programme term? Comparing 'ever participated' with 'never participated' "
        "builds in immortal-time bias. To start a programme in month 10 of a spell a person must "
        "still be on bijstand in month 10, so a participant's months before the start are months in "
        "which, by construction, no exit happened. The dummy counts these exit-free months as "
        "'participant' time, and people who leave quickly rarely get the chance to start and are "
        "counted as non-participants. Here the event is the outcome we hope for (leaving for work), "
        "so the dummy makes participants look slower to leave: the 'ever' hazard ratio is biased "
        "downwards, against the programme, the more so the later in the spell programmes start. "
        "(In medical studies, where the event is death, the same error makes treatments look "
        "protective.) The time-varying term counts a person as a participant only from the "
        "programme's start month onwards, so each month is compared with others at the same "
        "duration, using what was known then."
    ),
    "nl": (
        "Waarom een tijdsafhankelijke programmaterm? Een vergelijking van 'ooit deelgenomen' met "
        "'nooit deelgenomen' bevat immortal-time bias. Wie in maand 10 van een uitkeringsperiode met "
        "een traject begint, moet in maand 10 nog in de bijstand zitten; de maanden vóór de start "
        "zijn dus per definitie maanden zonder uitstroom. De dummy telt die maanden als tijd 'als "
        "deelnemer', en wie snel uitstroomt krijgt zelden de kans om te beginnen en telt als "
        "niet-deelnemer. Hier is de gebeurtenis juist de gewenste uitkomst (uitstroom naar werk), "
        "dus lijken deelnemers door de dummy trager uit te stromen: de hazard ratio van 'ooit' is "
        "naar beneden vertekend, in het nadeel van het programma, sterker naarmate trajecten later "
        "in de uitkeringsperiode beginnen. (In medisch onderzoek, waar de gebeurtenis overlijden is, "
        "laat dezelfde fout behandelingen juist beschermend lijken.) De tijdsafhankelijke term telt "
        "iemand pas vanaf de startmaand als deelnemer, zodat elke maand wordt vergeleken met anderen "
        "op dezelfde duur, met wat toen bekend was."
    ),
}
