"""Effects on the whole duration (issue 14): effect curves with censoring, restricted mean time on
bijstand, and the timing-of-events model beside the other methods.

A mixin of :class:`~reintegration_effects.report.Report` (the notebook ``analyses/05_effects.py``
calls it): everything from the protected ``effects_curves.csv``, ``effects.csv`` (outcomes
``rmst_bijstand_*``), ``hazards.csv`` (model ``timing_of_events``) and ``timing_of_events.csv``.
A table that is absent gives a sentence saying so, never an empty figure.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..contract import RMST_PREFIX
from ..disclosure import AGGREGATED_GID
from .blocks import Block, new_figure, report_part
from .tables import MAIN_METHOD

#: The curve outcomes, in the order shown.
CURVE_OUTCOMES = ("on_bijstand", "work_off_bijstand")
#: The restricted mean whose sensitivity the report reads in words (the horizon of months_bijstand_18m).
HEADLINE_RMST = f"{RMST_PREFIX}18m"
#: The fixed-horizon outcome the timing-of-events model's implied effect is put beside.
TOE_COMPARE_OUTCOME = "off_bijstand_12m"
TOE_MODEL = "timing_of_events"


def rmst_horizon(outcome: str) -> str:
    """The horizon in months of a restricted-mean outcome ("18" for rmst_bijstand_18m)."""
    return str(outcome)[len(RMST_PREFIX):].rstrip("m")


def rmst_outcomes(outcomes) -> list[str]:
    """The restricted-mean outcomes present, by horizon (rmst_bijstand_12m, _18m, _36m)."""
    found = [str(o) for o in set(outcomes) if str(o).startswith(RMST_PREFIX)]
    return sorted(found, key=lambda o: int("".join(ch for ch in rmst_horizon(o) if ch.isdigit()) or 0))


def is_duration_outcome(outcome: str) -> bool:
    """Outcomes the duration parts show (the fixed-horizon tables leave them out)."""
    return str(outcome).startswith(RMST_PREFIX)


class DurationParts:
    """Report parts for the duration effects (effect curves, restricted means, timing of events)."""

    @report_part
    def duration_intro(self) -> Block:
        """The section heading and what the effects over the whole duration add."""
        return self.section("duration.title") + self.text("duration.intro")

    @report_part
    def timing_of_events_intro(self) -> Block:
        """The section heading and what the timing-of-events model adds (selection on unobservables)."""
        return self.section("toe.title") + self.text("toe.intro")

    def _curves(self) -> pd.DataFrame | None:
        return self.table("effects_curves", ["programme", "group", "outcome", "month", "method", "estimate",
                                             "ci_lower", "ci_upper"])

    @report_part
    def effects_curves_figure(self, outcome: str = "on_bijstand") -> Block:
        """Per programme, the effect of starting now on the probability of ``outcome`` at every month
        after time zero (group "all"): estimate, pointwise 95% interval (shaded) and simultaneous 95%
        band (dashed)."""
        from matplotlib.ticker import MaxNLocator

        t = self.t
        cur = self._curves()
        if cur is None:
            return self._note(t("duration.curves_absent"))
        d = cur[(cur.group == "all") & (cur.outcome == outcome) & cur.estimate.notna()]
        if "method" in d and (d.method == MAIN_METHOD).any():
            d = d[d.method == MAIN_METHOD]
        if d.empty:
            return self._note(t("report.nothing_to_show"))
        programmes = sorted(d.programme.unique())
        ncols = 2 if len(programmes) > 1 else 1
        nrows = math.ceil(len(programmes) / ncols)
        fig = new_figure(7.0, 2.3 * nrows + 0.6)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)).ravel()
        has_band = {"band_lower", "band_upper"} <= set(d.columns) and d["band_lower"].notna().any()
        for ax, p in zip(axes, programmes, strict=False):
            dp = d[d.programme == p].sort_values("month")
            x = dp.month.astype(float).to_numpy()
            ax.fill_between(x, 100 * dp.ci_lower.astype(float), 100 * dp.ci_upper.astype(float), color="#0072B2",
                            alpha=0.18, lw=0, gid=AGGREGATED_GID)
            if has_band:
                for col in ("band_lower", "band_upper"):
                    ax.plot(x, 100 * dp[col].astype(float), color="#0072B2", lw=0.9, ls="--", gid=AGGREGATED_GID)
            ax.plot(x, 100 * dp.estimate.astype(float), color="#0072B2", lw=1.8, gid=AGGREGATED_GID)
            ax.axhline(0, color="#888888", lw=0.8)
            ax.set_title(t.programme(p))
            # whole-point ticks only: 2.5 labelled with 0 decimals would read "2"
            ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10], integer=True))
            ax.yaxis.set_major_formatter(self._num_formatter())
        for ax in axes[len(programmes):]:
            ax.set_visible(False)
        # no legend: the note under the figure says what the line, the shading and the dashes are
        fig.supxlabel(t("duration.x_label"), fontsize=8.5)
        fig.supylabel(t("duration.y_label"), fontsize=8.5)
        caption = t("duration.curves_caption", outcome=t.outcome(outcome))
        return self._figure(f"effects-curves-{outcome}", caption, t("duration.curves_note"), static=fig)

    @report_part
    def rmst_table(self) -> Block:
        """The effect on the restricted mean time on bijstand within 12, 18 and 36 months (months; group
        "all", every method present), with its interval and the starts counted."""
        t = self.t
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper"])
        outs = rmst_outcomes(eff.outcome) if eff is not None else []
        if not outs:
            return self._note(t("duration.rmst_absent"))
        d = eff[(eff.group == "all") & eff.outcome.isin(outs)]
        truth = self.table("effects_truth", ["programme", "group", "outcome", "truth"])
        if truth is not None and self._simulated():  # the built-in municipality: the true effect above its estimate
            tr = truth[(truth.group == "all") & truth.outcome.isin(outs)]
            tr = tr.assign(method="truth", estimate=tr.truth, ci_lower=np.nan, ci_upper=np.nan)
            d = pd.concat([tr[list(d.columns.intersection(tr.columns))], d], ignore_index=True)
        rows = []
        for p in sorted(d.programme.unique()):
            methods = list(dict.fromkeys(d.loc[d.programme == p, "method"]))
            for m in ["truth"] * ("truth" in methods) + sorted(x for x in methods if x != "truth"):
                row = [t.programme(p), t("truth.truth") if m == "truth" else t.method(m)]
                n = ""
                for o in outs:
                    r = d[(d.programme == p) & (d.method == m) & (d.outcome == o)]
                    if r.empty or pd.isna(r.estimate.iloc[0]):
                        row.append(t("report.suppressed"))
                        continue
                    r = r.iloc[0]
                    row.append(f"{t.number(r.estimate, 2)} {self._ci(r.ci_lower, r.ci_upper, 2, 1.0)}")
                    if m != "truth" and "n_treated" in r and pd.notna(r.n_treated):
                        n = t.count(r.n_treated)
                rows.append([*row, n])
        header = [t("effects.programme"), t("duration.method"),
                  *[t("duration.rmst_horizon", months=rmst_horizon(o)) for o in outs],
                  t("duration.starts")]
        return self._table("effects-rmst", t("duration.rmst_caption"), header, rows, note=t("duration.rmst_note"),
                           align=["left", "left", *["right"] * (len(outs) + 1)])

    @report_part
    def rmst_sensitivity(self) -> Block:
        """How strong a hidden confounder would have to be to explain away each programme's effect on the
        restricted mean time on bijstand (issue 14c): a table over the horizons (robustness value, range
        at the stated strength) and, per programme, the reading in words at the headline horizon."""
        from ..plain_language import pct, sensitivity_sentence

        t = self.t
        se = self.table("effects_sensitivity", ["programme", "outcome", "estimate", "robustness_value"])
        d = se[se.outcome.map(is_duration_outcome)] if se is not None else None
        if d is None or d.empty:
            return self._note(t("duration.sensitivity_absent"))
        outs = rmst_outcomes(d.outcome)
        rows = []
        for p in sorted(d.programme.unique()):
            for o in outs:
                r = d[(d.programme == p) & (d.outcome == o)]
                if r.empty:
                    continue
                r = r.iloc[0]
                horizon = t("duration.rmst_horizon", months=rmst_horizon(o))
                if pd.isna(r.estimate):
                    rows.append([t.programme(p), horizon, *[t("report.suppressed")] * 3])
                    continue
                rv = pct(r.robustness_value, self.lang) if pd.notna(r.robustness_value) else "—"
                rows.append([t.programme(p), horizon, f"{t.number(r.estimate, 2)} {self._ci(r.ci_lower, r.ci_upper, 2, 1.0)}",
                             rv, self._ci(r.sensitivity_ci_lower, r.sensitivity_ci_upper, 2, 1.0)])
        strength = d["c_y"].dropna() if "c_y" in d.columns else pd.Series([], dtype=float)
        header = [t("effects.programme"), t("duration.horizon"), t("duration.estimate_months"), t("effects.rv"),
                  t("effects.bounds", strength=t.percent(strength.iloc[0]) if len(strength) else "?")]
        table = self._table("effects-rmst-sensitivity", t("duration.sensitivity_caption"), header, rows,
                            note=t("duration.sensitivity_note"), align=["left", "left", "right", "right", "right"])
        head = HEADLINE_RMST if HEADLINE_RMST in outs else outs[-1]
        items = []
        for r in d[d.outcome == head].sort_values("programme").to_dict("records"):
            if pd.isna(r["estimate"]):
                continue
            horizon = rmst_horizon(head)
            items.append(t("duration.sensitivity_item", programme=self.programme_name(r["programme"]), months=horizon)
                         + " " + sensitivity_sentence(float(r["robustness_value"]), r, self.lang))
        return Block.join([table, *[self._paragraphs(x) for x in items]])

    # ------------------------------------------------------------------ timing of events (issue 14b)
    def _toe(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        hz = self.table("hazards", ["model", "term", "hazard_ratio", "ci_lower", "ci_upper"])
        hz = hz[hz.model == TOE_MODEL] if hz is not None else None
        het = self.table("timing_of_events", ["quantity", "estimate"])
        return (hz if hz is not None and len(hz) else None), het

    @report_part
    def timing_of_events_table(self) -> Block:
        """The three methods side by side per programme: the timing-of-events hazard ratios (after the
        start, and during the programme where a lock-in term exists), its implied effect on leaving
        bijstand within 12 months, and matching's and DML's effect on being off bijstand after 12 months."""
        t = self.t
        hz, het = self._toe()
        if hz is None:
            return self._note(t("toe.absent"))
        eff = self.table("effects", ["programme", "group", "outcome", "method", "estimate", "ci_lower", "ci_upper"])
        implied = None
        if het is not None and {"programme", "horizon"} <= set(het.columns):
            implied = het[(het.quantity == "implied_effect") & (pd.to_numeric(het.horizon, errors="coerce") == 12)]
        terms = hz.set_index("term")
        programmes = sorted({str(x).split("=", 1)[1].split(":")[0] for x in hz.term if str(x).startswith("programme=")})

        def hr(term):
            if term not in terms.index or pd.isna(terms.loc[term, "hazard_ratio"]):
                return "–"
            r = terms.loc[term]
            return f"{t.number(r.hazard_ratio, 2)} {self._ci(r.ci_lower, r.ci_upper, 2, 1.0)}"

        def pp(r):
            if r is None or pd.isna(r.estimate):
                return t("report.suppressed")
            return f"{t.pp(r.estimate)} {self._ci(r.ci_lower, r.ci_upper)}"

        def first(d):
            return None if d is None or d.empty else d.iloc[0]

        rows = []
        for p in programmes:
            imp = first(implied[implied.programme == p]) if implied is not None else None
            row = [t.programme(p), hr(f"programme={p}"), hr(f"programme={p}:lock_in"), pp(imp)]
            for m in ("matching", MAIN_METHOD):
                e = None
                if eff is not None:
                    e = first(eff[(eff.programme == p) & (eff.group == "all") & (eff.method == m)
                                  & (eff.outcome == TOE_COMPARE_OUTCOME)])
                row.append(pp(e))
            rows.append(row)
        header = [t("effects.programme"), t("toe.hr_post"), t("toe.hr_lock_in"), t("toe.implied_12m"),
                  t("toe.method_outcome", method=t.method("matching").capitalize()),
                  t("toe.method_outcome", method=t.method(MAIN_METHOD))]
        return self._table("timing-of-events", t("toe.caption"), header, rows, note=t("toe.note"),
                           align=["left", *["right"] * 5])

    @report_part
    def timing_of_events_heterogeneity(self) -> Block:
        """The unobserved heterogeneity the model found, in words: the number of mass points, the share
        at each, and the direction of selection (do the people who leave for work faster also start
        programmes more often?)."""
        t = self.t
        hz, het = self._toe()
        if hz is None or het is None:
            return Block()
        n_points = int(pd.to_numeric(het.loc[het.quantity == "n_points", "estimate"], errors="coerce").iloc[0]) \
            if (het.quantity == "n_points").any() else 1
        if n_points <= 1:
            return self._paragraphs(t("toe.heterogeneity_none"))
        corr = het[(het.quantity == "selection_correlation") & (het.process.astype(str) == "exit_to_work~programme_start")]
        rho = float(corr.estimate.iloc[0]) if len(corr) and pd.notna(corr.estimate.iloc[0]) else float("nan")
        if np.isnan(rho) or abs(rho) < 0.05:
            key = "toe.selection_none"
        else:
            key = "toe.selection_positive" if rho > 0 else "toe.selection_negative"
        return self._paragraphs(t("toe.heterogeneity_found", points=n_points, rho=t.number(rho, 2)) + " " + t(key))
