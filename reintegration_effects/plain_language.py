"""Sentences about the estimates, in Dutch and English: the report layer's words.

The estimators return numbers only; the sentences an evaluator reads are made here, from the
protected tables: one sentence per programme and group effect (:func:`plain_language`) and the
reading of the sensitivity bounds (:func:`add_sensitivity_sentences`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["COMPETING_RISKS_TEXT", "GROUP_PHRASES", "IMMORTAL_TIME_TEXT", "OUTCOME_PHRASES", "PLAIN_LANGUAGE_COLUMNS", "PROGRAMME_NAMES", "add_sensitivity_sentences",
           "plain_language", "sensitivity_sentence"]

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
    if lang == "nl":
        if rv <= 0:
            head = ("Het effect is ook zonder verborgen verstorende factor niet significant: het "
                    f"{level}%-betrouwbaarheidsinterval bevat nul al.")
        else:
            head = (f"Een niet-waargenomen verstorende factor zou {pct(rv, lang)} van de resterende variatie "
                    "van zowel de deelname als de uitkomst moeten verklaren om dit effect niet-significant te maken.")
        tail = (f" Verklaart zo'n factor {cy}% van beide, dan ligt het effect tussen {fmt_number(100 * lo, lang)} en "
                f"{fmt_number(100 * hi, lang)} procentpunt ({level}%).")
    else:
        if rv <= 0:
            head = (f"The effect is not significant even without hidden confounding: its {level}% confidence interval "
                    "already contains zero.")
        else:
            head = (f"An unobserved confounder would need to explain {pct(rv, lang)} of the residual variation "
                    "of both take-up and outcome to make the effect insignificant.")
        tail = (f" If such a confounder explained {cy}% of both, the effect would lie between {fmt_number(100 * lo, lang)} "
                f"and {fmt_number(100 * hi, lang)} percentage points ({level}%).")
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
           "months_bijstand_18m": ("het aantal maanden bijstand in de 18 maanden na de start", "maanden", 1.0)},
    "en": {"off_bijstand_6_18m": ("sustainable outflow", "percentage points", 100.0),
           "off_bijstand_12m": ("the chance of being off bijstand 12 months later", "percentage points", 100.0),
           "employed_12m": ("the chance of being in work 12 months later", "percentage points", 100.0),
           "months_bijstand_18m": ("the number of months on bijstand in the 18 months after the start", "months",
                                   1.0)},
}
PLAIN_LANGUAGE_COLUMNS = ("programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper",
                          "significant", "sentence")


def plain_language(effects: pd.DataFrame, lang: str = "nl", outcome: str = "off_bijstand_6_18m", method: str = "dml",
                   *, programme_names: dict[str, str] | None = None, min_persons: int = 10) -> pd.DataFrame:
    """One sentence per programme x group from an effects table (contract layout, e.g. effects.csv).

    "Voor vrouwen verhoogt jobcoaching de duurzame uitstroom met 4,2 procentpunt (95%-BI 1,0 tot 7,4)."
    / "For women, job coaching raises sustainable outflow by 4.2 percentage points (95% CI 1.0 to
    7.4)." A negative effect "lowers" by the absolute value, and the interval is then that of the
    decrease; an interval containing zero adds "niet significant" / "not significant". Dutch uses
    a decimal comma. Rows without an estimate or interval (suppressed), marked ``suppressed``, or
    with fewer than ``min_persons`` participants or controls (``n_treated``/``n_control``, where
    present) are skipped: pass the protected table. ``programme_names`` overrides the built-in
    names (unknown labels are shown with spaces for underscores). The effects are those of
    ``effects.csv``: effects on the participants in the group (ATT).

    Columns: programme, group, outcome, method, estimate, ci_lower, ci_upper, significant, sentence.
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
    num = {c: pd.to_numeric(d[c], errors="coerce").astype(float) for c in ("estimate", "ci_lower", "ci_upper")}
    ok = num["estimate"].notna() & num["ci_lower"].notna() & num["ci_upper"].notna()
    if "suppressed" in d:
        ok &= ~d["suppressed"].fillna(True).astype(bool)
    for c in ("n_treated", "n_control"):
        if c in d:
            ok &= pd.to_numeric(d[c], errors="coerce").fillna(0) >= min_persons
    names = {**PROGRAMME_NAMES[lang], **(programme_names or {})}
    phrase, unit, scale = OUTCOME_PHRASES[lang][outcome]
    rows = []
    for i in d.index[ok.to_numpy()]:
        prog, group = str(d.at[i, "programme"]), str(d.at[i, "group"])
        est, lo, hi = (float(num[c][i]) for c in ("estimate", "ci_lower", "ci_upper"))
        who = GROUP_PHRASES[lang].get(group, f"{'groep' if lang == 'nl' else 'group'} {group}")
        pname = names.get(prog, prog.replace("_", " "))
        v = est * scale
        sig = bool(lo > 0 or hi < 0)
        if v < 0:
            verb = "verlaagt" if lang == "nl" else "lowers"
            ci = (-hi * scale, -lo * scale)
        else:
            verb = "verhoogt" if lang == "nl" else "raises"
            ci = (lo * scale, hi * scale)
        note = "" if sig else ("; niet significant" if lang == "nl" else "; not significant")
        if lang == "nl":
            text = (f"Voor {who} {verb} {pname} {phrase} met {fmt_number(abs(v), lang)} {unit} "
                    f"(95%-BI {fmt_number(ci[0], lang)} tot {fmt_number(ci[1], lang)}{note}).")
        else:
            text = (f"For {who}, {pname} {verb} {phrase} by {fmt_number(abs(v), lang)} {unit} "
                    f"(95% CI {fmt_number(ci[0], lang)} to {fmt_number(ci[1], lang)}{note}).")
        rows.append(dict(programme=prog, group=group, outcome=outcome, method=method, estimate=est, ci_lower=lo,
                         ci_upper=hi, significant=sig, sentence=text[0].upper() + text[1:]))
    return pd.DataFrame(rows, columns=list(PLAIN_LANGUAGE_COLUMNS))


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
