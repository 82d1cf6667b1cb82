"""What an evaluator reads first and last: what works (page 1), the caseload, the group findings,
the programmes, conclusions, limitations, costs and, on the simulated municipality, the truth.

A mixin of :class:`~reintegration_effects.report.Report`. Every statement here is made from the
same protected effects table through :func:`~reintegration_effects.plain_language.verdicts`, so a
programme or group called effective on page 1 is called so in the tables, the conclusions and the
lists, and nowhere else is something called effective that this rule does not support.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..plain_language import (
    ALPHA,
    GROUP_PHRASES,
    MIN_GROUP_SIZE,
    interval,
    pct,
    plain_language,
    programme_sentence,
    sensitivity_sentence,
    signed,
    verdicts,
)
from .blocks import Block, esc, group_sort_key, join_text, md_escape, md_to_html, note_md, report_part
from .tables import MAIN_METHOD, MAIN_OUTCOME, PARTICIPATION_OUTCOME

#: Heterogeneity tests are corrected for the number of programmes (Holm) before a targeting rule is shown.
TARGETING_ALPHA = 0.05


class EvaluationParts:
    """Summary, group findings, programme descriptions, conclusions, limitations, costs, truth box."""

    # ------------------------------------------------------------------ shared numbers
    def _main_effects(self, outcome: str = MAIN_OUTCOME) -> tuple[pd.DataFrame | None, str]:
        """The protected effects of the main outcome with verdicts, for the main method (else matching)."""
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper"])
        if eff is None:
            return None, MAIN_METHOD
        for method in (MAIN_METHOD, "matching"):
            d = eff[(eff.outcome == outcome) & (eff.method == method)]
            if len(d) and d.estimate.notna().any():
                return verdicts(d), method
        return None, MAIN_METHOD

    def programme_name(self, label: str, capital: bool = True) -> str:
        """The municipality's name for a programme (programmes.csv), else the built-in label."""
        name = self.t.programme(label)
        return name[:1].upper() + name[1:] if capital else name

    def _group_phrase(self, group: str) -> str:
        return GROUP_PHRASES[self.lang].get(group, self.t.group(group))

    def targeting(self, outcome: str = MAIN_OUTCOME) -> dict:
        """Whether the data support targeting: the heterogeneity tests, Holm-corrected over programmes.

        Returns ``{"tested": bool, "detected": bool, "programmes": [labels with detected heterogeneity]}``.
        ``tested`` is False when the run wrote no heterogeneity test (then no targeting rule is shown).
        """
        het = self.table("effects_heterogeneity", ["programme", "p_value"])
        if het is None:
            return {"tested": False, "detected": False, "programmes": []}
        d = het[pd.to_numeric(het.p_value, errors="coerce").notna()]
        if "outcome" in d.columns and (d.outcome == outcome).any():
            d = d[d.outcome == outcome]
        if "test" in d.columns and d["test"].nunique() > 1:  # one test per programme: the first listed kind
            d = d[d["test"] == d["test"].iloc[0]]
        if d.empty:
            return {"tested": False, "detected": False, "programmes": []}
        from statsmodels.stats.multitest import multipletests

        reject = multipletests(d.p_value.astype(float).to_numpy(), alpha=TARGETING_ALPHA, method="holm")[0]
        progs = sorted(d.programme[reject].astype(str))
        return {"tested": True, "detected": bool(progs), "programmes": progs}

    # ------------------------------------------------------------------ page 1: what works
    @report_part
    def what_works(self) -> Block:
        """Every programme's effect with its interval in one sentence, whom it works for, and the main caveat."""
        t = self.t
        d, method = self._main_effects()
        if d is None:
            return Block()
        items = self._programme_lines(d, MAIN_OUTCOME)
        title = t("summary.what_works_title")
        lead = t("summary.what_works_lead", method=t.method(method))
        groups = self._group_lines(d)
        tg = self.targeting()
        if tg["detected"]:
            target = t("summary.targeting_yes", programmes=t.join([self.programme_name(p, False)
                                                                  for p in tg["programmes"]]))
        elif tg["tested"]:
            target = t("summary.targeting_no")
        else:
            target = ""
        caveat = t("summary.caveat")
        part_lead, part_items = self._participation_lines()
        h = (f'<div class="text what-works"><h4>{esc(title)}</h4><p>{md_to_html(lead, inline=True)}</p><ul>'
             + "".join(f"<li>{md_to_html(x, inline=True)}</li>" for x in items) + "</ul>"
             + "".join(f"<p>{md_to_html(x, inline=True)}</p>" for x in groups + [target] if x)
             + (f"<p>{md_to_html(part_lead, inline=True)}</p><ul>"
                + "".join(f"<li>{md_to_html(x, inline=True)}</li>" for x in part_items) + "</ul>" if part_items else "")
             + f'<p class="caveat">{md_to_html(caveat, inline=True)}</p></div>')
        md = "\n\n".join([f"**{md_escape(title)}**", lead, "\n".join(f"- {x}" for x in items)]
                         + [x for x in groups + [target] if x]
                         + ([part_lead, "\n".join(f"- {x}" for x in part_items)] if part_items else [])
                         + [f"*{caveat}*"])
        return Block(h, md)

    def _participation_lines(self) -> tuple[str, list[str]]:
        """With a participation table: every programme's effect on taking part in an activity 18 months
        later, one sentence each (the same rule and method as the lines above); else nothing."""
        d, method = self._main_effects(PARTICIPATION_OUTCOME)
        if d is None:
            return "", []
        return (self.t("summary.participation_lead", method=self.t.method(method)),
                self._programme_lines(d, PARTICIPATION_OUTCOME))

    def _programme_lines(self, d: pd.DataFrame, outcome: str) -> list[str]:
        """One sentence per programme's overall effect on ``outcome`` (rows of :meth:`_main_effects`)."""
        lines = []
        for r in d[d.group == "all"].sort_values("programme").itertuples():
            name = self.programme_name(r.programme)
            if r.verdict == "suppressed":
                lines.append(self.t("summary.programme_suppressed", programme=name))
            else:
                lines.append(programme_sentence(name, r.estimate, r.ci_lower, r.ci_upper, self.lang, outcome=outcome))
        return lines

    def _group_findings(self, d: pd.DataFrame, programme: str) -> str:
        """The programme's group findings in words, positive then negative ('' when there are none)."""
        t = self.t
        g = d[(d.programme == programme) & (d.group != "all")]
        parts = []
        for verdict in ("positive", "negative"):
            rows = g[g.verdict == verdict].sort_values("group", key=lambda s: s.map(group_sort_key))
            if len(rows):
                parts.append(t(f"summary.groups_{verdict}", groups=self._group_list(rows)))
        return t.join(parts) if parts else ""

    def _group_lines(self, d: pd.DataFrame) -> list[str]:
        """Per programme with group findings: 'for whom' in one sentence (positive and negative alike)."""
        lines = []
        for p in sorted(d.programme.unique()):
            found = self._group_findings(d, p)
            if found:
                lines.append(self.t("summary.groups_line", programme=self.programme_name(p), findings=found))
        return lines

    def _group_list(self, rows: pd.DataFrame) -> str:
        return self.t.join([f"{self._group_phrase(r.group)} ({signed(100 * r.estimate, self.lang)}; "
                            f"{interval(100 * r.ci_lower, 100 * r.ci_upper, self.lang)})" for r in rows.itertuples()])

    # ------------------------------------------------------------------ page 1: the caseload
    @report_part
    def caseload(self) -> Block:
        """The current caseload: persons on bijstand on the latest reference date, by duration so far."""
        t = self.t
        fbg = self.table("flows_by_group", ["cohort", "horizon_months", "dimension", "group", "persons"])
        stock = self.main_cohort("stock")
        if fbg is None or stock is None:
            return Block()
        d = fbg[(fbg.cohort == stock) & (fbg.dimension == "duration")]
        if d.empty:
            return Block()
        d = d[d.horizon_months == d.horizon_months.min()]
        if "group_persons" in d.columns:
            sizes = d.groupby("group", sort=False)["group_persons"].first()
        else:  # tables of older runs: the sum of the published cells (a lower bound when cells are suppressed)
            sizes = d.groupby("group", sort=False)["persons"].sum(min_count=1)
        flows = self.table("flows", ["cohort", "horizon_months"])
        total = np.nan
        if flows is not None and "cohort_persons" in flows.columns:
            f = flows[flows.cohort == stock]
            total = f.loc[f.horizon_months == f.horizon_months.min(), "cohort_persons"].iloc[0] if len(f) else np.nan
        if pd.isna(total):
            total = sizes.sum()
        order = sorted(sizes.index, key=group_sort_key)
        rows = [[t.group(g), t.count(sizes[g]) if pd.notna(sizes[g]) else t("report.suppressed"),
                 t.percent(sizes[g] / total) if pd.notna(sizes[g]) and total else t("report.suppressed")]
                for g in order]
        rows.append([t("summary.caseload_total"), t.count(total), t.percent(1.0)])
        md_rows = [[md_escape(c) for c in r] for r in rows]
        md_rows[-1] = [f"**{c}**" for c in md_rows[-1]]
        return self._table("caseload", t("summary.caseload_caption", date=t.date(stock[len("stock_"):])),
                           [t("summary.duration"), t("report.persons"), t("report.share")], rows, md_rows=md_rows,
                           note=t("summary.caseload_note"), align=["left", "right", "right"])

    # ------------------------------------------------------------------ the group findings, complete
    @report_part
    def findings(self) -> Block:
        """Every programme's group findings in words: positive, negative, and how many groups show none.

        Symmetric and complete: every group the rule of :func:`~reintegration_effects.plain_language.verdicts`
        calls a finding is listed, whichever its sign; the rest are counted, not hidden."""
        t = self.t
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper"])
        d, method = self._main_effects()
        if d is None or eff is None:
            return Block()
        sentences = plain_language(eff, lang=self.lang, outcome=MAIN_OUTCOME, method=method,
                                   programme_names=self.t.programme_names)
        title = t("dashboard.findings_title")
        html_parts, md_parts = [], []
        for p in sorted(sentences.programme.unique()):
            s = sentences[sentences.programme == p]
            s = s.assign(key=s.group.map(group_sort_key)).sort_values("key")
            listed = s[(s.group == "all") | s.verdict.isin(["positive", "negative"])]
            n_none = int(((s.group != "all") & (s.verdict == "none")).sum())
            n_hidden = int(((d.programme == p) & (d.group != "all") & (d.verdict == "suppressed")).sum())
            items = list(listed.sentence)
            if n_none:
                items.append(t("findings.no_difference", n=n_none, programme=self.programme_name(p, False)))
            if n_hidden:
                items.append(t("findings.suppressed", n=n_hidden))
            head = self.programme_name(p)
            html_parts.append(f"<h5>{esc(head)}</h5><ul>" + "".join(f"<li>{esc(x)}</li>" for x in items) + "</ul>")
            md_parts.append(f"*{md_escape(head)}*\n\n" + "\n".join(f"- {md_escape(x)}" for x in items))
        note = t("findings.note", min_n=MIN_GROUP_SIZE, alpha=t.percent(ALPHA), method=t.method(method))
        h = (f'<div class="text findings"><h4>{esc(title)}</h4>' + "".join(html_parts)
             + f'<p class="note">{md_to_html(note, inline=True)}</p></div>')
        md = f"**{md_escape(title)}**\n\n" + "\n\n".join(md_parts)
        return Block(h, join_text(md, note_md(note), "\n\n"))

    # ------------------------------------------------------------------ the programmes
    @report_part
    def programme_descriptions(self) -> Block:
        """What each programme is (study.toml's descriptions), how many started it, and its cost."""
        t = self.t
        pr = self.table("programmes", ["programme"])
        if pr is None:
            return self._note(t("programmes.none_described"))
        rows = []
        for r in pr.sort_values("programme").itertuples():
            desc = getattr(r, f"description_{self.lang}", None)
            n = getattr(r, "participants", np.nan)
            cost = getattr(r, "cost_per_participant", np.nan)
            rows.append([self.programme_name(r.programme), desc if isinstance(desc, str) and desc else "—",
                         t.count(n) if pd.notna(n) else t("report.suppressed"),
                         t.euro(cost) if pd.notna(cost) else "—"])
        return self._table("programmes", t("programmes.caption"),
                           [t("effects.programme"), t("programmes.description"), t("programmes.participants"),
                            t("programmes.cost")], rows, note=t("programmes.note"),
                           align=["left", "left", "right", "right"])

    # ------------------------------------------------------------------ conclusions
    @report_part
    def conclusions(self) -> Block:
        """Per programme: the overall effect, for whom, agreement of the methods, robustness; then targeting."""
        t = self.t
        d, method = self._main_effects()
        if d is None:
            return self._note(t("conclusions.no_effects"))
        eff = self.table("effects")
        sens = self.table("effects_sensitivity", ["programme", "robustness_value"])
        paras = [t("conclusions.intro", method=t.method(method))]
        for r in d[d.group == "all"].sort_values("programme").itertuples():
            name = self.programme_name(r.programme)
            if r.verdict == "suppressed":
                paras.append(f"**{name}.** " + t("summary.programme_suppressed", programme=name))
                continue
            sentence = programme_sentence(name, r.estimate, r.ci_lower, r.ci_upper, self.lang)
            sentence = sentence[len(name) + 2:]  # the paragraph starts with the name already
            text = [sentence[:1].upper() + sentence[1:]]
            found = self._group_findings(d, r.programme)
            if found:
                text.append(t("conclusions.groups", findings=found))
            else:
                text.append(t("conclusions.no_groups"))
            other = "matching" if method == "dml" else "dml"
            if eff is not None:
                m = eff[(eff.programme == r.programme) & (eff.group == "all") & (eff.outcome == MAIN_OUTCOME)
                        & (eff.method == other)]
                if len(m) and pd.notna(m.estimate.iloc[0]):
                    mr = m.iloc[0]
                    agree = (mr.ci_lower <= r.ci_upper) and (r.ci_lower <= mr.ci_upper)
                    other_name = t.method(other)
                    text.append(t("conclusions.agree" if agree else "conclusions.disagree",
                                  other=other_name[:1].upper() + other_name[1:],
                                  estimate=signed(100 * mr.estimate, self.lang),
                                  interval=interval(100 * mr.ci_lower, 100 * mr.ci_upper, self.lang)))
            if sens is not None and r.verdict != "none":
                s = sens[(sens.programme == r.programme)]
                if "outcome" in s.columns:
                    s = s[s.outcome == MAIN_OUTCOME]
                if len(s) and pd.notna(s.robustness_value.iloc[0]):
                    rv = float(s.robustness_value.iloc[0])
                    text.append(t("conclusions.fragile" if rv < 0.02 else "conclusions.robust",
                                  rv=pct(rv, self.lang)))
            paras.append(f"**{name}.** " + " ".join(text))
        tg = self.targeting()
        if tg["detected"]:
            paras.append(t("conclusions.targeting_yes", programmes=t.join([self.programme_name(p, False)
                                                                         for p in tg["programmes"]])))
        elif tg["tested"]:
            paras.append(t("summary.targeting_no"))
        paras.append(t("conclusions.caveat"))
        return Block.join([self._paragraphs(p) for p in paras])

    @report_part
    def cost_table(self) -> Block:
        """Cost per extra sustainable exit: cost per participant / effect, with the interval where it is defined."""
        t = self.t
        pr = self.table("programmes", ["programme", "cost_per_participant"])
        d, method = self._main_effects()
        if pr is None or d is None or pd.to_numeric(pr.cost_per_participant, errors="coerce").isna().all():
            return self._note(t("costs.none"))
        rows = []
        for r in d[d.group == "all"].sort_values("programme").itertuples():
            c = pr.loc[pr.programme == r.programme, "cost_per_participant"]
            cost = float(c.iloc[0]) if len(c) and pd.notna(c.iloc[0]) else np.nan
            if np.isnan(cost):
                continue
            per100 = f"{t.number(100 * r.estimate, 1)} ({t.number(100 * r.ci_lower, 1)} – {t.number(100 * r.ci_upper, 1)})"
            if r.verdict == "positive":
                # the interval of a ratio with a positive denominator: cost / upper .. cost / lower
                per_exit = (f"{t.euro(cost / r.estimate)} ({t.euro(cost / r.ci_upper)} – "
                            f"{t.euro(cost / r.ci_lower)})")
            else:
                per_exit = t("costs.not_defined")
            rows.append([self.programme_name(r.programme), t.euro(cost), per100, per_exit])
        if not rows:
            return self._note(t("costs.none"))
        return self._table("costs", t("costs.caption"), [t("effects.programme"), t("programmes.cost"),
                                                         t("costs.per100"), t("costs.per_exit")], rows,
                           note=t("costs.note", method=t.method(method)), align=["left", "right", "right", "right"])

    # ------------------------------------------------------------------ limitations and robustness
    @report_part
    def limitations(self) -> Block:
        t = self.t
        parts = []
        for key in ("selection", "lockin", "multiple", "sensitivity", "disclosure", "dynamic", "toe"):
            parts += [self.section(f"limitations.{key}_title"),
                      self.text(f"limitations.{key}", min_n=MIN_GROUP_SIZE, alpha=t.percent(ALPHA))]
        return Block.join(parts)

    @report_part
    def sensitivity_summary(self) -> Block:
        """The sensitivity analysis in words, one paragraph per programme (in the report's language)."""
        se = self.table("effects_sensitivity", ["programme", "estimate", "robustness_value"])
        if se is None:
            return Block()
        d = se[se.estimate.notna()]
        if "outcome" in d.columns and (d.outcome == MAIN_OUTCOME).any():
            d = d[d.outcome == MAIN_OUTCOME]
        items = []
        for r in d.sort_values("programme").to_dict("records"):
            items.append(f"**{self.programme_name(r['programme'])}.** "
                         + sensitivity_sentence(float(r["robustness_value"]), r, self.lang))
        return Block.join([self._paragraphs(x) for x in items])

    @report_part
    def truth_box(self) -> Block:
        """On the simulated municipality: the estimates next to the known true effects."""
        t = self.t
        truth = self.table("effects_truth", ["programme", "group", "outcome", "truth"])
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper"])
        if truth is None or eff is None or not self._simulated():
            return Block()
        tr = truth[(truth.group == "all") & (truth.outcome == MAIN_OUTCOME)].set_index("programme")["truth"]
        rows, covered, total = [], 0, 0
        for p in sorted(tr.index):
            row = [self.programme_name(p), t.pp(tr[p])]
            for m in ("dml", "matching", "naive"):
                e = eff[(eff.programme == p) & (eff.group == "all") & (eff.outcome == MAIN_OUTCOME) & (eff.method == m)]
                if len(e) and pd.notna(e.estimate.iloc[0]):
                    e = e.iloc[0]
                    row.append(f"{t.pp(e.estimate)} {self._ci(e.ci_lower, e.ci_upper)}")
                    if m != "naive" and pd.notna(e.ci_lower):
                        total += 1
                        covered += int(e.ci_lower <= tr[p] <= e.ci_upper)
                else:
                    row.append(t("report.suppressed"))
            rows.append(row)
        if not rows:
            return Block()
        intro = self.section("truth.title") + self.text("truth.intro", covered=covered, total=total)
        return intro + self._table("truth", t("truth.caption"),
                                   [t("effects.programme"), t("truth.truth"), t.method("dml"), t.method("matching"),
                                    t.method("naive")], rows, note=t("truth.note"))
