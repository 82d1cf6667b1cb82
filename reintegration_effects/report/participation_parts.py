"""Participation beyond paid work (issue 16b) in the flows chapter: next to outflow, or a clear note.

A mixin of :class:`~reintegration_effects.report.Report` (through ``MonitorParts``); reads the
protected ``participation`` and ``flows`` tables only.
"""

from __future__ import annotations

import pandas as pd

from .blocks import Block, report_part

#: Activities in table order (the contract's, after 'any').
ACTIVITY_ORDER = ("any", "volunteering", "education", "informal_care", "social_activation", "other")


class ParticipationParts:
    """The participation table of the flows chapter."""

    @report_part
    def participation_overview(self) -> Block:
        """The latest fully followed stock cohort: per horizon the share in work and off bijstand (from
        flows) next to the share participating, any activity and per activity (from participation).
        Without a participation table: a note saying so and how to add it."""
        t = self.t
        part = self.table("participation", ["cohort", "horizon_months", "activity", "dimension", "group",
                                            "participating", "persons", "group_persons", "share"])
        if self.tables.get("participation") is None:  # the run had no participation table
            return self._paragraphs(t("participation.absent"), cls="missing")
        if part is None:
            return self._note(t("participation.no_cohort"))
        cohort = self.main_cohort("stock", "participation")
        if cohort is None:
            return self._note(t("participation.no_cohort"))
        d = part[(part.cohort == cohort) & (part.dimension == "all") & (part.participating == "yes")]
        flows = self.table("flows", ["cohort", "horizon_months", "status", "persons", "cohort_persons"])
        acts = [a for a in ACTIVITY_ORDER if a in set(d.activity)]
        rows = []
        for h in sorted(int(x) for x in d.horizon_months.unique()):
            dh = d[d.horizon_months == h].set_index("activity")
            size = dh["group_persons"].dropna()
            row = [t("report.horizon", h=h), t.count(size.iloc[0] if len(size) else pd.NA)]
            off = self._flow_share(flows, cohort, h, ("werk", "ww", "overig"))
            if off != off:  # a part suppressed: off bijstand = 1 - on bijstand (with or without work)
                off = 1.0 - self._flow_share(flows, cohort, h, ("bijstand", "bijstand_met_werk"))
            row += [t.percent(self._flow_share(flows, cohort, h, ("werk",))), t.percent(off)]
            row += [t.percent(dh.loc[a, "share"] if a in dh.index else pd.NA) for a in acts]
            rows.append(row)
        header = [t("participation.horizon"), t("report.persons"), t("participation.in_work"),
                  t("participation.off_bijstand"), *[t(f"participation.activity.{a}") for a in acts]]
        return (self._paragraphs(t("participation.intro"))
                + self._table("participation", t("participation.caption", cohort=t.cohort(cohort)), header, rows,
                              note=t("participation.note")))

    @staticmethod
    def _flow_share(flows: pd.DataFrame | None, cohort: str, h: int, statuses) -> float:
        """Share of the cohort in ``statuses`` at horizon ``h`` from the protected flows (NA if any is suppressed)."""
        if flows is None:
            return float("nan")
        f = flows[(flows.cohort == cohort) & (flows.horizon_months == h)]
        cells = f[f.status.isin(statuses)]["persons"]
        total = f["cohort_persons"].dropna()
        if len(cells) != len(statuses) or cells.isna().any() or not len(total) or float(total.iloc[0]) <= 0:
            return float("nan")
        return float(cells.sum()) / float(total.iloc[0])

    @report_part
    def participation_effects_note(self) -> Block:
        """In the effects chapter: which participation outcomes were estimated, or that none could be."""
        t = self.t
        if self.tables.get("participation") is None:
            return self._paragraphs(t("participation.effects_absent"), cls="missing")
        eff = self.table("effects", ["outcome"])
        if eff is None or not set(eff.outcome) & {"participating_18m", "volunteering_18m"}:
            return Block()
        return self._paragraphs(t("participation.effects_intro"))

