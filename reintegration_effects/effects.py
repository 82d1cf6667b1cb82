"""Programme effects in the dynamic design of Sianesi (2004): starting now versus not now.

For programme P, time zero is a participant's start month t0. The comparison pool at t0 is every
person on bijstand at the end of month t0 who has not started any programme in the current spell
by then (they may start later). The target is the average effect on the participants (ATT) of
starting P in month t0 rather than not in t0. Covariates are measured at time zero, before the
programme can act: the person's characteristics, the elapsed spell duration, the calendar month,
the labour-market history of the 36 month ends before t0, and whether the person worked beside
the benefit in the month before t0.

Three estimators share the same risk sets (:func:`build_risk_sets`), so a reader sees what
adjustment changes:

- ``naive``: raw difference between starters and everyone else in the same monthly pools.
- ``matching`` (:class:`DynamicMatching`): nearest-neighbour propensity-score matching with
  replacement, exact on calendar month and elapsed-duration band, caliper on the logit score,
  regression bias correction (Abadie & Imbens 2011). Standard errors: a person-level multiplier
  bootstrap of the linear (Otsu & Rai 2017) representation that also re-estimates the propensity
  score and re-matches in every replication, so repeated use of a control, one person in many
  monthly pools, and the estimated score are all accounted for (a plain bootstrap is not valid
  for nearest-neighbour matching: Abadie & Imbens 2008). Details in :class:`DynamicMatching`.
- ``dml`` (:class:`DynamicDML`): the doubly robust (Neyman-orthogonal) ATT score with cross-fitted
  gradient-boosting nuisances (Chernozhukov et al. 2018, section 5.1), folds split by person,
  standard errors clustered by person. Group effects (GATE) are the same score averaged within
  the group (Knaus 2022). econml supplies the heterogeneity tools (causal forest, policy tree,
  sensitivity); the ATT score itself is written here because econml's learners target the
  CATE/ATE and offer no ATT with person-clustered inference, which this design needs.

Assumptions, in plain words: (1) no anticipation: knowing that one will start later does not
change behaviour before the start; (2) selection on observables: among people with the same
characteristics, history, elapsed duration and calendar month, whether someone starts now is
unrelated to their prospects; (3) overlap: for every participant there are comparable people who
did not start in that month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .contract import (
    EDUCATION,
    EFFECTS_COLUMNS,
    GROUP_DIMENSIONS,
    HOUSEHOLD_POSITIONS,
    MIGRATION,
    OUTCOMES,
    PARTICIPATION_OUTCOMES,
    SEX,
    age_band,
)
from .dataset import InputData
from .doubly_robust import (
    N_REP,
    SENSITIVITY_C_T,
    SENSITIVITY_C_Y,
    SENSITIVITY_RHO,
    att_from_score,
    att_score,
    att_sensitivity_inputs,
    check_n_rep,
    default_classifier,
    default_regressor,
    fit_fold,
    fit_fold_task,
    median_aggregate_frame,
    repetition_seeds,
    sensitivity_table,
)
from .errors import InsufficientDataError
from .matching import (  # the shared cores; also importable from here as before
    CellIndex,
    PropensityFit,  # noqa: F401
    att_terms,
    balance_table,
    control_residuals,
    fit_propensity,
    matched_att,  # noqa: F401
    multiplier_draw,
    multiplier_replication,
    nearest_neighbours,
    propensity_logit,  # noqa: F401
)
from .panel import Panel, link_programme_starts, person_codes
from .participation import has_participation, participation_outcomes
from .stats import cluster_se, cluster_sums, fdr_q_values, normal_p_value

#: Outcomes estimated for every programme (contract outcomes + months on bijstand).
ALL_OUTCOMES = (*OUTCOMES, "months_bijstand_18m")
#: Optional outcomes (issue 16b), in the risk sets only when the input has a participation table.
OPTIONAL_OUTCOMES = PARTICIPATION_OUTCOMES


def risk_outcomes(risk: RiskSets) -> tuple[str, ...]:
    """The outcomes of these risk sets: :data:`ALL_OUTCOMES`, then every optional outcome they hold."""
    return (*ALL_OUTCOMES, *(o for o in OPTIONAL_OUTCOMES if o in risk.frame.columns))
FOLLOW_UP_MONTHS = 18
#: Elapsed-duration bands (months) for exact matching: monthly at the start of a spell, where
#: both take-up and the exit hazard change fastest, then widening. Coarser bands (0-3, 3-6, 6-12,
#: 12-24, 24-60, 60+) left a bias of up to 1.15 points in the 20-seed validation (docs/validation.md).
DURATION_BANDS = (0, 1, 2, 3, 4, 6, 9, 12, 18, 24, 36, 60, 120, 10_000)
#: Training rows per cross-fitting fold of :class:`DynamicDML` (above it the pool is thinned with
#: weights). The default run's municipality (6,000 persons, about 90,000 per fold) stays below it; at
#: 2,000,000 risk-set rows a budget of 500,000 made the nuisance fits take twice as long.
DML_MAX_TRAIN_ROWS = 250_000
#: The ``"auto"`` training budget of a double-ML fold at 100,000 risk-set rows (see :func:`training_row_budget`).
DML_TRAIN_ROWS_AT_100K = 40_000
#: Covariates at time zero used by every adjusted estimator (after one-hot encoding).
NUMERIC_COVARIATES = (
    "age",
    "spell_month",
    "calendar",
    "hist_employed_36m",
    "hist_bijstand_36m",
    "hist_ww_36m",
    "side_job_before",
    "status_holder",
)
CATEGORICAL_COVARIATES = {
    "sex": SEX,
    "migration_background": MIGRATION,
    "education": EDUCATION,
    "household": (*HOUSEHOLD_POSITIONS, "unknown"),
}
#: Target-group dimensions from the contract; a person-month without a household spell is
#: reported as household=unknown.
GROUP_COLUMNS = {dim: col for dim, (col, _) in GROUP_DIMENSIONS.items()}
GROUP_VALUES = {dim: (*values, "unknown") if dim == "household" else values
                for dim, (_, values) in GROUP_DIMENSIONS.items()}
NONE = "none"


@dataclass
class RiskSets:
    """Stacked monthly risk sets: one row per (person, month) eligible to start a programme.

    ``frame`` columns: person_id, pcode (int person index), month_index (0 = first window month),
    month (month end), spell_id, treatment (programme label started in this month, or "none" for
    the not-yet-treated pool), weight (1, or 1/sampling fraction for subsampled controls),
    covariates (see NUMERIC_COVARIATES, CATEGORICAL_COVARIATES, age_band), outcomes
    (employed_12m, off_bijstand_12m, off_bijstand_6_18m: 0/1; months_bijstand_18m: 0-18; with a
    participation table also participating_18m, volunteering_18m: 0/1, see :func:`risk_outcomes`).
    ``log``: how many programme starts were used and why others were not.
    """

    frame: pd.DataFrame
    programmes: list[str]
    log: pd.DataFrame = field(default_factory=pd.DataFrame)

    def design(self) -> pd.DataFrame:
        """The covariate matrix (one-hot encoded categoricals, floats) for the frame's rows."""
        return covariate_matrix(self.frame)


def covariate_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric covariates plus one-hot dummies (first category dropped) as a float frame."""
    x = frame[list(NUMERIC_COVARIATES)].astype(float)
    # smooth terms for what drives both take-up and exit: duration (strongly non-linear) and age
    x["log_spell_month"] = np.log1p(x["spell_month"])
    x["age_sq"] = (x["age"] - 40.0) ** 2 / 100.0
    for col, values in CATEGORICAL_COVARIATES.items():
        cat = pd.Categorical(frame[col].astype(str), categories=list(values))
        for v in values[1:]:
            x[f"{col}={v}"] = (cat == v).astype(float)
    return x


#: Elapsed duration (months) from which a spell counts as long-term in the matching propensity's
#: history interactions (:func:`matching_design`).
LONG_TERM_MONTHS = 12
#: The columns :func:`matching_design` adds to :func:`covariate_matrix`.
MATCHING_HISTORY_TERMS = ("no_work_36m", "long_term_x_hist_employed_36m", "long_term_x_no_work_36m")


def matching_design(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`covariate_matrix` plus the labour-market-history terms of the matching propensity.

    No employed month end in the last 36 months, and the long-term (``LONG_TERM_MONTHS``+)
    interacted with both the employed months and their absence: take-up rules that single out
    "long-term and no recent work" (as municipalities' activation rules do) are a step on that
    interaction, which a main-effects logit cannot represent. Measured on the test suite's second
    simulator (docs/validation.md): the matching bias on its zero-effect programme fell from 1.5
    to 0.7 points. Double ML's learners find such interactions themselves and keep
    :func:`covariate_matrix`; the balance table stays on its columns.
    """
    x = covariate_matrix(frame)
    employed = frame["hist_employed_36m"].to_numpy(dtype=float)
    long_term = (frame["spell_month"].to_numpy(dtype=float) >= LONG_TERM_MONTHS).astype(float)
    no_work = (employed == 0).astype(float)
    for name, values in zip(MATCHING_HISTORY_TERMS, (no_work, long_term * employed, long_term * no_work), strict=True):
        x[name] = values
    return x


def build_risk_sets(
    panel: Panel,
    data: InputData,
    *,
    follow_up: int = FOLLOW_UP_MONTHS,
    control_fraction: float = 1.0,
    max_rows: int | None = None,
    random_state: int | None = None,
) -> RiskSets:
    """Stack every month's pool of not-yet-treated persons on bijstand, with the month's starters.

    A programme start belongs to the bijstand spell that covers the end of its start month; the
    first start in a spell is the treatment (a second programme in the same spell is a later
    event that the comparison allows). Starts outside a bijstand spell, starts in the same month
    as another programme, and starts whose follow-up runs past the window end are not used; the
    log says how many. ``control_fraction`` < 1 keeps a random share of the pool rows (all
    starters kept) with weight 1/fraction: the estimators stay unbiased, the variance grows.
    ``max_rows`` sets the fraction instead, so that the risk sets hold about that many rows (all
    starters plus a random share of the pool; a national register has tens of millions of
    eligible person-months, a municipality far fewer than the default cap the run uses), but
    never fewer pool rows than starts. The pool is thinned before the frame is built, so memory
    follows the kept rows.

    Vectorised: month-by-person arrays from the panel, no loop over persons.
    """
    months = panel.months
    n = len(panel.persons)
    t_win = panel.grid.n_window
    bij = months["bijstand"].to_numpy().reshape(n, t_win)
    emp = months["employed"].to_numpy().reshape(n, t_win)
    sid = months["spell_id"].to_numpy().reshape(n, t_win)

    # programme starts -> (person, month index, spell)
    link = link_programme_starts(panel.spells, data.programmes)  # the one linking rule (month end)
    log = []
    pcode = person_codes(link["person_id"], panel.persons)
    t0 = link["start_month"].to_numpy() - panel.grid.first_window_month
    inside = (t0 >= 0) & (t0 < t_win)
    log.append(("programme starts in the input", len(link)))
    log.append(("start before or after the window", int((~inside).sum())))
    starts = pd.DataFrame({"pcode": pcode[inside], "t0": t0[inside],
                           "programme": link["programme"].to_numpy()[inside],
                           "spell_id": link["spell_id"].to_numpy()[inside]})
    on_spell = starts["spell_id"] >= 0
    log.append(("start not within a bijstand spell (no bijstand at the end of the start month)",
                int((~on_spell).sum())))
    starts = starts[on_spell]
    first = starts.groupby("spell_id")["t0"].transform("min")
    starts = starts[starts["t0"] == first]
    log.append(("later start in a spell that already had a programme (not a new time zero)",
                int(on_spell.sum() - len(starts))))
    n_same = starts.groupby("spell_id")["programme"].transform("nunique")
    log.append(("two different programmes started in the same month (ambiguous treatment)",
                int((n_same > 1).sum())))
    n_spells = len(panel.spells)
    first_start = np.full(n_spells + 1, np.iinfo(np.int32).max, dtype=np.int64)  # last slot: no spell
    first_start[starts["spell_id"].to_numpy()] = starts["t0"].to_numpy()
    ambiguous = np.zeros(n_spells + 1, dtype=bool)
    ambiguous[starts.loc[n_same > 1, "spell_id"].to_numpy()] = True
    starts = starts[n_same == 1].drop_duplicates("spell_id")

    # eligible person-months: on bijstand, follow-up inside the window, not started before;
    # an ambiguous start month is neither treated nor control, and the spell leaves the pool
    sid_safe = np.where(sid >= 0, sid, n_spells)
    fs = first_start[sid_safe]
    month_idx = np.arange(t_win)[None, :]
    eligible = bij & (month_idx + follow_up <= t_win - 1) & (month_idx <= fs)
    eligible &= ~((month_idx == fs) & ambiguous[sid_safe])
    p_idx, m_idx = np.nonzero(eligible)
    treated = m_idx == fs[p_idx, m_idx]
    n_pool = int((~treated).sum())
    if max_rows is not None and n_pool > 0:
        n_t = int(treated.sum())  # never fewer pool rows than starts, whatever the budget
        control_fraction = min(control_fraction, max(max_rows - n_t, n_t) / n_pool)
    if control_fraction < 1.0:
        rng = np.random.default_rng(random_state)
        keep = treated | (rng.random(len(p_idx)) < control_fraction)
        p_idx, m_idx, treated = p_idx[keep], m_idx[keep], treated[keep]
    late = starts[starts["t0"] + follow_up > t_win - 1]
    log.append(("start too late for an 18-month follow-up inside the window", len(late)))

    # outcomes from the month-by-person arrays (cumulative sums for windows of months)
    cs = np.zeros((n, t_win + 1), dtype=np.int32)
    np.cumsum(bij, axis=1, out=cs[:, 1:])
    y = {
        "employed_12m": emp[p_idx, m_idx + 12].astype(np.int8),
        "off_bijstand_12m": (~bij[p_idx, m_idx + 12]).astype(np.int8),
        "off_bijstand_6_18m": (cs[p_idx, m_idx + follow_up + 1] - cs[p_idx, m_idx + 6] == 0).astype(np.int8),
        "months_bijstand_18m": (cs[p_idx, m_idx + follow_up + 1] - cs[p_idx, m_idx + 1]).astype(np.int16),
    }
    if has_participation(data):  # issue 16b: participating / volunteering at month end t0 + follow_up
        y.update(participation_outcomes(panel, data.participation, p_idx, m_idx + follow_up))

    treat = np.full(len(p_idx), NONE, dtype=object)
    ti = np.flatnonzero(treated)
    lab = pd.DataFrame({"pcode": p_idx[ti], "t0": m_idx[ti]}).merge(
        starts[["pcode", "t0", "programme"]], on=["pcode", "t0"], how="left", validate="one_to_one")
    treat[ti] = lab["programme"].to_numpy()

    rows = p_idx * t_win + m_idx
    frame = pd.DataFrame({
        "person_id": panel.persons["person_id"].astype(str).to_numpy()[p_idx],
        "pcode": p_idx.astype(np.int32),
        "month_index": m_idx.astype(np.int16),
        "month": months["month"].to_numpy()[rows],
        "spell_id": sid[p_idx, m_idx],
        "treatment": treat,
        "spell_month": months["spell_month"].to_numpy()[rows],
        "calendar": m_idx.astype(float) / 12.0,
        "hist_employed_36m": months["hist_employed_36m"].to_numpy()[rows],
        "hist_bijstand_36m": months["hist_bijstand_36m"].to_numpy()[rows],
        "hist_ww_36m": months["hist_ww_36m"].to_numpy()[rows],
        "side_job_before": np.where(m_idx > 0, emp[p_idx, np.maximum(m_idx - 1, 0)], False).astype(np.int8),
        "household": months["household"].astype(object).to_numpy()[rows],
        **y,
    })
    frame["household"] = frame["household"].fillna("unknown").astype(str)
    per = panel.persons.set_index(panel.persons["person_id"].astype(str))
    for col in ("sex", "migration_background", "education"):
        frame[col] = per[col].astype(str).to_numpy()[p_idx]
    holder = per["status_holder"] if "status_holder" in per else pd.Series(False, index=per.index)
    frame["status_holder"] = holder.fillna(False).astype(bool).to_numpy()[p_idx].astype(np.int8)
    birth = pd.to_datetime(per["birth_date"]).to_numpy()[p_idx]
    frame["age"] = ((frame["month"].to_numpy() - birth) / np.timedelta64(1, "D") / 365.25).astype(float)
    frame["age_band"] = age_band(np.floor(frame["age"]))
    frame["weight"] = 1.0
    if control_fraction < 1.0:
        frame.loc[frame["treatment"] == NONE, "weight"] = 1.0 / control_fraction
    programmes = sorted(starts["programme"].unique().tolist())
    used = int((frame["treatment"] != NONE).sum())
    log.append(("starts used as time zero", used))
    return RiskSets(frame=frame, programmes=programmes,
                    log=pd.DataFrame(log, columns=["item", "starts"]))


# ------------------------------------------------------------------------------------------------
# shared helpers
# ------------------------------------------------------------------------------------------------

def group_masks(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Boolean row masks for 'all' and every contract group label present in the frame."""
    out = {"all": np.ones(len(frame), dtype=bool)}
    for dim, col in GROUP_COLUMNS.items():
        vals = frame[col].astype(str).to_numpy()
        for v in GROUP_VALUES[dim]:
            m = vals == v
            if m.any():
                out[f"{dim}={v}"] = m
    return out


def _row(programme, group, outcome, method, est, se, n_t, n_c) -> dict:
    z = 1.959963984540054
    return dict(programme=programme, group=group, outcome=outcome, method=method, estimate=est,
                std_error=se, ci_lower=est - z * se, ci_upper=est + z * se, n_treated=int(n_t),
                n_control=int(n_c))


def naive_effects(risk: RiskSets, *, outcomes=ALL_OUTCOMES) -> pd.DataFrame:
    """Raw differences in means: starters of P versus the whole not-yet-treated pool.

    What a reader would compute without adjustment; biased wherever take-up depends on duration
    or characteristics. Standard errors clustered by person.
    """
    f = risk.frame
    rows = []
    control = (f["treatment"] == NONE).to_numpy()
    w = f["weight"].to_numpy()
    for prog in risk.programmes:
        treated = (f["treatment"] == prog).to_numpy()
        for group, gm in group_masks(f).items():
            t, c = treated & gm, control & gm
            if t.sum() < 2 or c.sum() < 2:
                continue
            sub = t | c
            clusters = f["pcode"].to_numpy()[sub]
            for y in outcomes:
                yy = f[y].to_numpy(dtype=float)
                mt = yy[t].mean()
                mc = np.average(yy[c], weights=w[c])
                # linearisation of a difference of two (weighted) means, clustered by person
                terms = np.where(t[sub], (yy[sub] - mt) / t.sum(), -w[sub] * (yy[sub] - mc) / w[c].sum())
                se = cluster_se(terms, clusters, 1.0)
                rows.append(_row(prog, group, y, "naive", mt - mc, se, t.sum(), c.sum()))
    return pd.DataFrame(rows, columns=list(EFFECTS_COLUMNS))


# ------------------------------------------------------------------------------------------------
# matching
# ------------------------------------------------------------------------------------------------

def _duration_band(spell_month: np.ndarray, bands=DURATION_BANDS) -> np.ndarray:
    return np.searchsorted(np.asarray(bands[1:]), spell_month, side="right")


@dataclass
class EffectResults:
    """Estimates in the contract's effects layout, plus diagnostics.

    ``effects``: programme, group, outcome, method, estimate, std_error, ci_lower, ci_upper,
    n_treated, n_control. ``balance``: programme, covariate, smd_before/after, variance ratios.
    ``overlap``: programme, group, n_treated, n_off_support (participants without comparable
    non-participants, left out of the estimate). ``propensity``: programme, treated (bool),
    score (the propensity at time zero), for overlap plots (aggregate before showing).
    ``sensitivity`` (:class:`DynamicDML` with ``sensitivity_outcomes``): the omitted-variable
    bounds of the group-"all" estimates, columns
    :data:`~reintegration_effects.doubly_robust.SENSITIVITY_COLUMNS`.
    ``splits`` (:class:`DynamicDML`): the estimate of every cell in every fold split before
    aggregation, columns programme, group, outcome, method, split (0 to n_rep - 1), estimate,
    std_error, n_treated, n_control; ``effects`` is its median aggregation per cell.
    """

    method: str
    effects: pd.DataFrame
    balance: pd.DataFrame = field(default_factory=pd.DataFrame)
    overlap: pd.DataFrame = field(default_factory=pd.DataFrame)
    propensity: pd.DataFrame = field(default_factory=pd.DataFrame)
    model: object = None
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    splits: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def summary(self) -> pd.DataFrame:
        return self.effects.set_index(["programme", "group", "outcome"])

    def to_frame(self) -> pd.DataFrame:
        return self.effects.copy()

    def plot_balance(self, programme: str, ax=None):
        """Love plot: absolute SMD per covariate before and after adjustment."""
        import matplotlib.pyplot as plt

        b = self.balance[self.balance.programme == programme].sort_values("smd_before", key=np.abs)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.25 * len(b) + 1))
        y = np.arange(len(b))
        ax.scatter(np.abs(b.smd_before), y, marker="o", label="before", gid="aggregated")
        ax.scatter(np.abs(b.smd_after), y, marker="x", label="after", gid="aggregated")
        ax.axvline(0.1, color="grey", ls="--", lw=0.8)
        ax.set_yticks(y, b.covariate)
        ax.set_xlabel("|standardised mean difference|")
        ax.legend()
        return ax

    def _repr_html_(self) -> str:
        return self.effects.to_html(index=False, float_format=lambda v: f"{v:.3f}")


class DynamicMatching:
    """Propensity-score matching within monthly risk sets (Sianesi 2004).

    Parameters: ``n_neighbors`` matches per participant (with replacement); ``caliper`` in
    standard deviations of the logit propensity score (Austin 2011's 0.2 by default);
    ``duration_bands`` elapsed-duration bands (months) matched exactly, as is the calendar month;
    ``bias_correction`` regression-adjusts the matched differences (Abadie & Imbens 2011);
    ``n_bootstrap`` replications of the standard-error bootstrap below (0: the analytic
    Otsu-Rai form of :func:`matched_att`, which treats the score as known); ``random_state``
    seeds the bootstrap; ``parallel`` spreads the programmes over workers
    (:mod:`reintegration_effects.parallel`; None: the environment decides).

    Standard errors: a person-level multiplier bootstrap that also re-estimates the propensity
    score. In replication b every person c draws eta_c ~ N(0, 1). The logit coefficients move
    one Newton step along the eta-weighted score (theta_b = theta + H^-1 sum_c eta_c s_c, whose
    spread is the person-clustered sandwich variance of theta), the participants are matched
    again on the new score, and the estimate of replication b is the matching ATT with those
    matches plus sum_c eta_c xi_c / N1, xi_c being person c's linear (Otsu-Rai) terms. The same
    eta drive both parts, so the covariance between the score's error and the outcome noise is
    kept (for the ATT, estimating the score can raise or lower the variance: Abadie & Imbens
    2016). Why not the plain analytic form: the 40-seed validation showed it too small by 10-30%
    for programmes with heterogeneous effects, and the re-matching spread alone (the score drawn
    from its sampling distribution) is about a third of the analytic standard error
    (docs/validation.md). Why not a plain bootstrap: resampling persons with replacement is not
    valid for nearest-neighbour matching (Abadie & Imbens 2008); the multiplier bootstrap keeps
    the sample, and so the structure of the matches, fixed. Written here because no maintained
    Python library offers matching within risk sets with these standard errors.
    """

    method = "matching"

    def __init__(self, *, n_neighbors: int = 5, caliper: float = 0.2, duration_bands=DURATION_BANDS,
                 bias_correction: bool = True, outcomes=ALL_OUTCOMES, n_bootstrap: int = 199,
                 random_state: int | None = 0, parallel=None):
        self.n_neighbors = n_neighbors
        self.caliper = caliper
        self.duration_bands = duration_bands
        self.bias_correction = bias_correction
        self.outcomes = outcomes
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.parallel = parallel

    def fit(self, risk: RiskSets) -> EffectResults:
        from functools import partial

        from .parallel import map_tasks, task_seeds

        f = risk.frame
        x_all = matching_design(f)
        seeds = task_seeds(self.random_state, len(risk.programmes))
        parts = map_tasks(partial(_match_programme, frame=_matching_columns(f, self.outcomes), x_all=x_all, model=self),
                          list(zip(risk.programmes, seeds, strict=True)), self.parallel)
        rows = [r for p in parts for r in p[0]]
        balances = [p[1] for p in parts]
        overlaps = [o for p in parts for o in p[2]]
        props = [p[3] for p in parts]
        return EffectResults(
            method="matching",
            effects=pd.DataFrame(rows, columns=list(EFFECTS_COLUMNS)),
            balance=pd.concat(balances, ignore_index=True) if balances else pd.DataFrame(),
            overlap=pd.DataFrame(overlaps),
            propensity=pd.concat(props, ignore_index=True) if props else pd.DataFrame(),
            model=self,
        )


def _matching_columns(frame: pd.DataFrame, outcomes) -> pd.DataFrame:
    """The columns :func:`_match_programme` reads, text as categories: each worker receives the
    frame, and its text columns (person ids, labels) were most of its size."""
    cols = ["treatment", "weight", "month_index", "spell_month", "pcode", *outcomes, *GROUP_COLUMNS.values()]
    slim = frame[list(dict.fromkeys(cols))]
    return slim.astype({c: "category" for c in slim.columns if slim[c].dtype == object})


def _match_programme(task, *, frame: pd.DataFrame, x_all: pd.DataFrame, model: DynamicMatching):
    """Matching for one programme: effect rows (every group and outcome), balance, overlap, scores."""
    prog, seed = task
    sub = frame["treatment"].isin([prog, NONE]).to_numpy()
    fs = frame[sub].reset_index(drop=True)
    xs = x_all[sub].reset_index(drop=True)
    d = (fs["treatment"] == prog).to_numpy()
    w = fs["weight"].to_numpy()
    x_np = xs.to_numpy()  # one array for the propensity model and the bias correction
    ps = fit_propensity(x_np, d, w, list(xs.columns))
    logit = ps.linear_predictor()
    cell = fs["month_index"].to_numpy().astype(np.int64) * 100 + _duration_band(
        fs["spell_month"].to_numpy(), model.duration_bands)
    index = CellIndex.build(d, cell, logit)  # the same cells in every bootstrap replication

    def match(lg):
        return nearest_neighbours(lg, d, cell, n_neighbors=model.n_neighbors, caliper=model.caliper * np.std(lg),
                                  index=index)

    t_rows, c_rows, wts = match(logit)
    on_support = np.zeros(len(fs), dtype=bool)
    on_support[t_rows] = True
    k_all = np.bincount(c_rows, weights=wts, minlength=len(fs))
    keep = (d & on_support) | ~d
    # balance of the covariates, not of the extra terms
    balance = balance_table(xs.drop(columns=list(MATCHING_HISTORY_TERMS))[keep], d[keep], w[keep],
                            k_all[keep]).assign(programme=prog)
    del xs
    prop = pd.DataFrame({"programme": prog, "treated": d, "score": 1 / (1 + np.exp(-logit))})
    clusters, cl = np.unique(fs["pcode"].to_numpy(), return_inverse=True)
    n_cl = len(clusters)
    x_adj = x_np if model.bias_correction else None
    outcomes = list(model.outcomes)
    r_all = control_residuals(fs[outcomes].to_numpy(dtype=float), d, x_adj, w)
    resid = {y: r_all[:, k] for k, y in enumerate(outcomes)}
    # without bias correction the linear terms still need y - mu0(x) (see matched_att)
    r_se = None if model.bias_correction else control_residuals(fs[outcomes].to_numpy(dtype=float), d, x_np, w)
    groups = group_masks(fs)
    overlaps, cells = [], []
    for group, gm in groups.items():
        overlaps.append(dict(programme=prog, group=group, n_treated=int((d & gm).sum()),
                             n_off_support=int((d & gm & ~on_support).sum())))
        if (d & gm & on_support).sum() >= 2:
            cells += [(group, y) for y in model.outcomes]
    est = {}
    for group, y in cells:
        tau, terms, n1, n0 = att_terms(resid[y], d, t_rows, c_rows, wts, groups[group],
                                        None if r_se is None else r_se[:, outcomes.index(y)])
        est[group, y] = (tau, cluster_se(terms, cl, n1), n1, n0)

    if model.n_bootstrap > 0 and cells:
        rng = np.random.default_rng(seed)
        s_cl, hess = ps.cluster_score_and_hessian(d, w, cl, n_cl)
        h_inv = np.linalg.pinv(hess)
        r_mat = r_all
        names = sorted({g for g, _ in cells}, key=list(groups).index)
        g_mat = np.column_stack([groups[g] for g in names]).astype(float)
        draws = np.empty((model.n_bootstrap, len(names), len(outcomes)))
        for b in range(model.n_bootstrap):
            eta = rng.standard_normal(n_cl)
            tb, cb, wb = match(ps.linear_predictor(ps.coef + h_inv @ (s_cl.T @ eta)))
            draws[b] = multiplier_replication(tb, cb, wb, r_mat, eta[cl], g_mat, r_se)
        sd = np.nanstd(draws, axis=0, ddof=1)
        for gi, g in enumerate(names):
            for yi, y in enumerate(outcomes):
                if (g, y) in est:
                    tau, _, n1, n0 = est[g, y]
                    est[g, y] = (tau, float(sd[gi, yi]), n1, n0)
    rows = [_row(prog, group, y, "matching", *est[group, y]) for group, y in cells]
    return rows, balance, overlaps, prop


# ------------------------------------------------------------------------------------------------
# double machine learning
# ------------------------------------------------------------------------------------------------


def budget_shares(n_part: int, n_pool: int, max_rows: int | None, pool_share: float = 1.0
                  ) -> tuple[float, float]:
    """Shares of the pool rows and of the participants' rows to keep within ``max_rows``.

    The pool (the common, cheap side) is thinned first, from ``pool_share`` down; the
    participants are thinned only when they alone fill more than half the budget, and then to
    half of it; the pool never gets fewer kept rows than the participants. Each kept row is to
    carry weight 1/share, so weighted sums (and the estimands) stay those of the full rows.
    """
    f_pool, f_part = float(pool_share), 1.0
    if max_rows is None or n_part + f_pool * n_pool <= max_rows:
        return f_pool, f_part
    if n_part > max_rows / 2:
        f_part = max_rows / 2 / n_part
    kept_part = f_part * n_part
    return min(f_pool, max(max_rows - kept_part, kept_part) / max(n_pool, 1)), f_part


def training_row_budget(n_rows: int) -> int:
    """The ``max_train_rows="auto"`` budget of a double-ML fold's nuisance training rows.

    ``DML_TRAIN_ROWS_AT_100K`` x (n_rows / 100,000)^(3/4), at least that many and at most
    ``DML_MAX_TRAIN_ROWS``. The 3/4 power: with nuisances trained on m rows their errors shrink
    like m^(-1/2) at best, and the doubly robust score's bias is the product of two such errors,
    ~ 1/m = n^(-3/4), of smaller order than the n^(-1/2) standard error, so the thinning stays
    asymptotically negligible; a fixed budget would not. A municipality (about 100,000 rows)
    trains on about 40% of a fold (measured in docs/validation.md: the same standard errors, a
    third of the cost, so three fold splits cost what one did); small risk sets train on all rows.
    """
    n = max(int(n_rows), 1)
    return int(min(DML_MAX_TRAIN_ROWS, max(DML_TRAIN_ROWS_AT_100K, DML_TRAIN_ROWS_AT_100K * (n / 100_000) ** 0.75)))


def _check_max_train_rows(value):
    if value is None or value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"max_train_rows={value!r}; expected 'auto', None (train on every row) or a "
                         "positive number of rows")
    return int(value)


def _thin_training_rows(train: np.ndarray, controls: np.ndarray, w: np.ndarray, max_rows: int | None,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A fold's training rows within a budget (:func:`budget_shares`): a random share of the pool
    rows, and of the starts if they alone fill half the budget, each kept row's propensity weight
    divided by its share.

    Local case-control subsampling of the nuisance training set: the weighted propensity model
    still estimates P(T = k | x) of the full risk set, and the pool's outcome model E(Y | x, pool)
    is unchanged by a uniform random share. Only the nuisances' precision changes, and the doubly
    robust score is orthogonal to their errors (its bias is the product of the two models'
    errors), so the ATT stays unbiased; the predictions are still made for every row of the
    held-out fold.
    """
    tr_w = w[train]
    is_c = controls[train]
    f_pool, f_part = budget_shares(int((~is_c).sum()), int(is_c.sum()), max_rows)
    if f_pool == 1 and f_part == 1:  # within the budget: no draws, the fold as it is
        return train, tr_w
    share = np.where(is_c, f_pool, f_part)
    keep = rng.random(len(train)) < share
    return train[keep], (tr_w / share)[keep]


class DynamicDML:
    """Doubly robust ATT with cross-fitted machine-learning nuisances, in monthly risk sets.

    All programmes at once: one multi-class propensity model (none / P1 / P2 / ...) and one
    outcome model per outcome on the not-yet-treated pool, cross-fitted over ``n_folds`` folds
    that keep each person's rows together. ``max_train_rows`` caps each fold's training rows
    (the pool, and the starts when they fill half the budget, thinned at random with
    inverse-probability weights in the propensity model, :func:`_thin_training_rows`): ``"auto"``
    (default) a budget growing with the risk sets (:func:`training_row_budget`), an int a fixed
    budget, None all rows. The score is still evaluated on every row. For programme P the ATT score is
    psi = D (Y - mu0) - (1 - D) w odds_P (Y - mu0), with odds_P = e_P / e_none, and
    ATT = sum(psi) / sum(D) within the group; standard errors cluster by person. Rows whose
    conditional propensity e_P / (e_P + e_none) exceeds ``trim`` are left out (and counted).
    The folds are fitted through :func:`reintegration_effects.parallel.map_tasks` (``parallel``:
    a ParallelConfig, None: the environment decides); the results do not depend on it.

    ``sensitivity_outcomes``: outcomes for which the results also hold the omitted-variable bounds
    of Chernozhukov et al. (2022) for every programme's ATT (group "all"), computed on this fit's
    own nuisances and rows, so their ``estimate`` is the headline estimate of ``effects``; they
    need one more outcome model per programme (mu_P, fitted on the programme's participants in
    the training folds, cross-fitted like the others), which changes nothing else.
    ``c_y``, ``c_t``, ``rho``, ``alpha``: the confounding strengths and level of those bounds.

    ``n_rep``: independent fold splits (repeated cross-fitting, Chernozhukov et al. 2018, section
    3.4). Every split has its own seed (:func:`~reintegration_effects.doubly_robust.repetition_seeds`;
    the first is the single-split seed, so ``n_rep=1`` is the single-split fit and the first split
    of any ``n_rep``); the nuisances are refitted on every split; each cell (programme x group x
    outcome) is the median of its split estimates, with standard error
    sqrt(median_s (se_s^2 + (theta_s - theta)^2)) (:func:`~reintegration_effects.doubly_robust.median_aggregate`),
    so the spread over splits is part of the interval; within a split the standard error stays
    clustered by person. ``n_treated``, ``n_control`` and the overlap counts (which trimming can
    make differ between splits) are their medians; the propensity scores (overlap plot) the
    row-wise mean over splits; the sensitivity bounds come from the median-aggregated inputs
    (:meth:`_sensitivity_table`). The per-split estimates are the results' ``splits``.
    """

    method = "dml"

    def __init__(self, *, n_folds: int = 5, n_rep: int = N_REP, propensity_model=None, outcome_model=None, trim: float = 0.95,
                 outcomes=ALL_OUTCOMES, max_train_rows: int | str | None = "auto",
                 random_state: int | None = None, parallel=None, sensitivity_outcomes=(),
                 c_y: float = SENSITIVITY_C_Y, c_t: float = SENSITIVITY_C_T, rho: float = SENSITIVITY_RHO,
                 alpha: float = 0.05):
        self.sensitivity_outcomes = sensitivity_outcomes
        self.c_y = c_y
        self.c_t = c_t
        self.rho = rho
        self.alpha = alpha
        self.n_folds = n_folds
        self.n_rep = n_rep
        self.max_train_rows = max_train_rows
        self.parallel = parallel
        self.propensity_model = propensity_model
        self.outcome_model = outcome_model
        self.trim = trim
        self.outcomes = outcomes
        self.random_state = random_state

    def cross_fit(self, risk: RiskSets) -> pd.DataFrame:
        """Out-of-fold nuisances for every row: e_<label> per treatment and mu0_<outcome> (and
        mu_<programme>_<outcome> for the ``sensitivity_outcomes``), of the first fold split."""
        return self.cross_fit_splits(risk, n_rep=1)[0]

    def cross_fit_splits(self, risk: RiskSets, n_rep: int | None = None) -> list[pd.DataFrame]:
        """:meth:`cross_fit` for every one of ``n_rep`` (default: the estimator's) independent fold
        splits, each with its own seed (:func:`~reintegration_effects.doubly_robust.repetition_seeds`:
        its folds, its thinning draws, its default learners); all folds of all splits are fitted
        through one :func:`~reintegration_effects.parallel.map_tasks` call."""
        from functools import partial

        from sklearn.model_selection import GroupKFold

        from .parallel import map_tasks

        n_rep = check_n_rep(self.n_rep if n_rep is None else n_rep)
        f = risk.frame
        cap = _check_max_train_rows(self.max_train_rows)
        if cap == "auto":
            cap = training_row_budget(len(f))
        x = covariate_matrix(f).to_numpy()
        labels = [NONE, *risk.programmes]
        t = pd.Categorical(f["treatment"], categories=labels).codes
        w = f["weight"].to_numpy()
        controls = t == 0
        n_persons = len(np.unique(f["pcode"].to_numpy()))
        if n_persons < self.n_folds:
            raise InsufficientDataError(f"double ML: fewer persons in the risk sets than the {self.n_folds} "
                                        f"cross-fitting folds", tables=("effects",))
        seeds = repetition_seeds(int(np.random.default_rng(self.random_state).integers(2**31 - 1)), n_rep)
        tasks = []  # ((training rows, test rows, training weights), learners) per fold of every split
        for seed in seeds:
            clf = self.propensity_model if self.propensity_model is not None else default_classifier(seed)
            reg = self.outcome_model if self.outcome_model is not None else default_regressor(seed)
            folds = GroupKFold(n_splits=self.n_folds, shuffle=True, random_state=seed)
            rng = np.random.default_rng(seed)
            for train, test in folds.split(x, t, groups=f["pcode"].to_numpy()):
                train, w_train = _thin_training_rows(train, controls, w, cap, rng)
                absent = [labels[k] for k in range(len(labels)) if not (t[train] == k).any()]
                if absent:  # a handful of participants: a fold's propensity model would not know the programme
                    raise InsufficientDataError(f"double ML: {', '.join(absent)} too rare to appear in every "
                                                f"cross-fitting fold's training rows ({self.n_folds} folds)",
                                                tables=("effects",))
                tasks.append(((train, test, w_train), clf, reg))
        ys = {y: f[y].to_numpy(dtype=float) for y in self.outcomes}
        sens = {y: f[y].to_numpy(dtype=float) for y in self.sensitivity_outcomes}
        # the folds through parallel.map_tasks (one BLAS/OpenMP thread per fit: threads in gradient
        # boosting oversubscribe a busy 2-core machine, measured 6-10x slower; deterministic either way)
        parts = map_tasks(partial(fit_fold_task, x=x, t=t, controls=controls, ys=ys, n_labels=len(labels),
                                  treated_ys=sens), tasks, self.parallel)
        out = []
        for s in range(n_rep):
            e = np.zeros((len(f), len(labels)))
            mu = {y: np.zeros(len(f)) for y in self.outcomes}
            mu1 = {(y, k): np.zeros(len(f)) for y in sens for k in range(1, len(labels))}
            for test, proba, mu_fold in parts[s * self.n_folds:(s + 1) * self.n_folds]:
                e[test] = proba
                for y in self.outcomes:
                    mu[y][test] = mu_fold[y]
                for key in mu1:
                    mu1[key][test] = mu_fold[key]
            nuis = pd.DataFrame(index=f.index)
            for j, lab in enumerate(labels):
                nuis[f"e_{lab}"] = e[:, j]
            for y in self.outcomes:
                nuis[f"mu0_{y}"] = mu[y]
            for (y, k), v in mu1.items():
                nuis[f"mu_{labels[k]}_{y}"] = v
            out.append(nuis)
        return out

    def fit(self, risk: RiskSets) -> EffectResults:
        f = risk.frame
        pcode = f["pcode"].to_numpy()
        w = f["weight"].to_numpy()
        masks = group_masks(f)
        codes, uniq = pd.factorize(pcode)
        rows, overlaps, scores, sens = [], [], [], []
        for split, nuis in enumerate(self.cross_fit_splits(risk)):
            e0 = np.clip(nuis[f"e_{NONE}"].to_numpy(), 1e-6, None)
            scores.append({})
            for prog in risk.programmes:
                ep = nuis[f"e_{prog}"].to_numpy()
                cond = ep / (ep + e0)
                d = (f["treatment"] == prog).to_numpy()
                c = (f["treatment"] == NONE).to_numpy()
                keep = (d | c) & (cond <= self.trim)
                scores[-1][prog] = cond[d | c]
                odds = cond / (1 - cond)
                for y in self.outcomes:
                    yy = f[y].to_numpy(dtype=float)
                    resid = yy - nuis[f"mu0_{y}"].to_numpy()
                    psi = att_score(resid, odds, d, c, np.where(d, 1.0, w))
                    for group, gm in masks.items():
                        sel = keep & gm
                        n1 = int((d & sel).sum())
                        if y == self.outcomes[0]:
                            overlaps.append(dict(programme=prog, group=group, split=split,
                                                 n_treated=int((d & gm).sum()),
                                                 n_off_support=int((d & gm & ~keep).sum())))
                        if n1 < 2:
                            continue
                        tau, se = att_from_score(psi, d, sel, pcode)
                        rows.append(dict(programme=prog, group=group, outcome=y, method="dml", split=split,
                                         estimate=tau, std_error=se, n_treated=n1, n_control=int((c & sel).sum())))
                    if y in self.sensitivity_outcomes and (d & keep).sum() >= 2:
                        sens.append((prog, y, split, *att_sensitivity_inputs(
                            yy, d, c, nuis[f"mu0_{y}"].to_numpy(), nuis[f"mu_{prog}_{y}"].to_numpy(), cond,
                            np.where(d, 1.0, w), keep, codes, len(uniq)),
                            int(np.unique(codes[d & keep]).size)))
        keys = ["programme", "group", "outcome", "method"]
        splits = pd.DataFrame(rows, columns=[*keys, "split", "estimate", "std_error", "n_treated", "n_control"])
        agg = median_aggregate_frame(splits, keys, counts=("n_treated", "n_control"))
        effects = pd.DataFrame([_row(*r[["programme", "group", "outcome", "method", "estimate", "std_error",
                                         "n_treated", "n_control"]]) for _, r in agg.iterrows()],
                               columns=list(EFFECTS_COLUMNS))
        overlap = pd.DataFrame(overlaps, columns=["programme", "group", "split", "n_treated", "n_off_support"])
        overlap = (overlap.groupby(["programme", "group"], sort=False)[["n_treated", "n_off_support"]]
                   .median().apply(np.floor).astype(int).reset_index())
        props = [pd.DataFrame({"programme": prog, "treated": (f["treatment"] == prog).to_numpy()[
            f["treatment"].isin([prog, NONE]).to_numpy()],
            "score": np.mean([s[prog] for s in scores], axis=0) if len(scores) > 1 else scores[0][prog]})
            for prog in risk.programmes]
        return EffectResults(method="dml", effects=effects, overlap=overlap, propensity=pd.concat(props, ignore_index=True),
                             model=self, sensitivity=self._sensitivity_table(sens), splits=splits)

    def _sensitivity_table(self, per_split: list[tuple]) -> pd.DataFrame:
        """The omitted-variable bounds of every programme's ATT (group "all") on the
        ``sensitivity_outcomes``: :func:`~reintegration_effects.doubly_robust.sensitivity_table` of
        every fold split's inputs (median-aggregated over splits as the estimates are)."""
        return sensitivity_table(per_split, c_y=self.c_y, c_t=self.c_t, rho=self.rho, alpha=self.alpha)


#: Columns :func:`add_multiplicity` adds to an effects table (after the contract's columns).
MULTIPLICITY_COLUMNS = ("p_value", "q_value")
#: Methods whose rows get no test: the naive difference is a descriptive contrast, not an effect
#: estimate (and its published values are rounded).
UNTESTED_METHODS = ("naive",)


def add_multiplicity(effects: pd.DataFrame) -> pd.DataFrame:
    """The effects table with ``p_value`` and ``q_value``: multiplicity across the target groups.

    ``p_value``: two-sided, normal, from estimate / std_error (H0: no effect). ``q_value``: the
    Benjamini-Hochberg false-discovery-rate adjusted p-value (statsmodels' ``multipletests``,
    ``fdr_bh``) across the target groups of one programme x outcome x method: every row but group
    "all", which is one pre-specified estimate per programme and has a p-value and no q-value.
    A group is a finding at false-discovery rate 5% when its q-value is below 0.05.
    Left out of the families, with both values empty: rows marked ``suppressed`` (so a p-value
    never shows a hidden cell, and the family is what a reader of the published table sees), rows
    without an estimate or a positive standard error, and the naive rows (:data:`UNTESTED_METHODS`).
    """
    out = effects.copy()
    tested = ~out["method"].astype(str).isin(UNTESTED_METHODS).to_numpy()
    if "suppressed" in out:
        tested &= ~out["suppressed"].fillna(True).astype(bool).to_numpy()
    p = np.where(tested, normal_p_value(pd.to_numeric(out["estimate"], errors="coerce"),
                                        pd.to_numeric(out["std_error"], errors="coerce")), np.nan)
    family = (out["programme"].astype(str) + "\x1f" + out["outcome"].astype(str) + "\x1f"
              + out["method"].astype(str)).to_numpy()
    in_family = (out["group"].astype(str) != "all").to_numpy()
    q = fdr_q_values(np.where(in_family, p, np.nan), family)
    out["p_value"] = pd.array(p, dtype="Float64")
    out["q_value"] = pd.array(q, dtype="Float64")
    return out


def propensity_histogram(propensity: pd.DataFrame, bins: int = 20) -> pd.DataFrame:
    """Counts of participants and pool rows per propensity-score bin: the overlap plot's data.

    Columns: programme, treated, bin (a label "lower-upper" of the score interval: ``bins`` equal
    bins of the fixed range 0-1, e.g. "0.00-0.05" for 20; edges that do not depend on the data, so
    no label shows a largest or smallest score), persons. Aggregated, so it can be shown.
    """
    out = []
    edges = np.arange(bins + 1) / bins
    digits = next((d for d in range(2, 7) if np.allclose(np.round(edges, d), edges, rtol=0, atol=1e-12)), 6)  # "0.05"
    labels = [f"{lo:.{digits}f}-{hi:.{digits}f}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    for prog, g in propensity.groupby("programme", sort=True):
        score = np.clip(g["score"].to_numpy(dtype=float), 0.0, 1.0)
        b = pd.Series(np.minimum((score * bins).astype(int), bins - 1), index=g.index)
        counts = pd.crosstab(b, g["treated"]).reindex(index=range(bins), columns=[False, True], fill_value=0)
        for treated in (False, True):
            out.append(pd.DataFrame({"programme": prog, "treated": treated, "bin": labels,
                                     "persons": counts[treated].to_numpy()}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["programme", "treated", "bin", "persons"])


def estimate_effects(risk: RiskSets, *, methods=("naive", "matching", "dml"), random_state: int | None = None,
                     n_folds: int = 5, parallel=None, sensitivity_outcomes=(), n_rep: int = N_REP
                     ) -> dict[str, object]:
    """All methods side by side on the same risk sets; returns the tables the run writes.

    Keys: effects (contract layout, every method), effects_balance, effects_overlap,
    effects_propensity (histogram), risk_set_log; effects_sensitivity when ``sensitivity_outcomes``
    are given (the bounds of the dml estimates of group "all", see :class:`DynamicDML`); and
    'results' (the EffectResults per method). ``n_rep``: the double-ML fold splits (:class:`DynamicDML`).
    """
    results: dict[str, EffectResults] = {}
    frames = []
    notes: list[str] = []  # methods that cannot be estimated on these risk sets (run-log lines)
    outcomes = risk_outcomes(risk)  # ALL_OUTCOMES, plus the participation outcomes when present (issue 16b)
    if "naive" in methods:
        frames.append(naive_effects(risk, outcomes=outcomes))
    estimators = {"matching": lambda: DynamicMatching(random_state=random_state, parallel=parallel,
                                                      outcomes=outcomes),
                  "dml": lambda: DynamicDML(n_folds=n_folds, n_rep=n_rep, random_state=random_state, parallel=parallel,
                                            sensitivity_outcomes=sensitivity_outcomes, outcomes=outcomes)}
    for method in ("matching", "dml"):
        if method not in methods:
            continue
        try:
            results[method] = estimators[method]().fit(risk)
        except InsufficientDataError as e:  # a handful of participants: this method is left out
            notes.append(e.note([f"effects (method {method})"]))
            continue
        frames.append(results[method].effects)
    effects = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(EFFECTS_COLUMNS))
    main = results.get("dml") or results.get("matching")
    tables: dict[str, object] = {
        "effects": effects,
        "risk_set_log": risk.log,
        "results": results,
        "notes": notes,
    }
    if "matching" in results:
        tables["effects_balance"] = results["matching"].balance
    if main is not None:
        tables["effects_overlap"] = main.overlap.assign(method=main.method)
        tables["effects_propensity"] = propensity_histogram(main.propensity)
    if "dml" in results and sensitivity_outcomes:
        tables["effects_sensitivity"] = results["dml"].sensitivity
    return tables


#: Old private names of the shared cores (now public in matching, doubly_robust and stats).
_att_terms, _multiplier_draw, _cluster_se, _cluster_sums = att_terms, multiplier_draw, cluster_se, cluster_sums
_fit_fold, _default_classifier, _default_regressor = fit_fold, default_classifier, default_regressor
