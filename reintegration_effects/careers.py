"""Careers after outflow to work: monthly status sequences and their clustering.

**Sequences.** For every outflow-cohort member (see :mod:`reintegration_effects.flows`) whose
exit destination is werk, the state at each of the ``length`` (24 or 36) month ends strictly
after the exit, from the panel: bijstand, bijstand_met_werk, ww and overig as in the contract,
and werk split by the contract of the jobs covering that month end: ``stable_work`` when any of
them is permanent or fixed-term, else ``flexible_work`` when any is agency or on-call work, else
``work_unknown_contract`` (only when the jobs file has no contract). Default cohorts: every
calendar year wholly inside the window whose ``length``-month follow-up fits (or the outflow
cohorts named in study.toml that fit); exits of several cohorts are pooled, one sequence per exit.

**Distances.** Optimal matching (OM): the cheapest series of substitutions (cost from a
substitution matrix) and insertions/deletions (``indel``) turning one sequence into the other.
Default substitution costs are TraMineR's/sequenzo's ``TRATE``: ``2 - p(j|i) - p(i|j)`` from the
month-to-month transition rates of all sequences, with ``indel = max(cost) / 2``; ``'constant'``
(2 and 1) or any matrix can be given instead.

Why our own OM code and not sequenzo: sequenzo 0.1.42 (evaluated for this module) computes the
same distances fast (0.3 s for 2,000 sequences; our numpy code agrees with it to 1e-9, see
tests/test_careers.py), but it requires ``scipy<1.17`` while the package pins scipy 1.17.1 (so
``pip install -c constraints.txt`` cannot resolve), pulls in eight further packages (hmmlearn,
boruta, missingno, cython, pybind11, cffi, docutils, pycparser) that would each have to be
admitted to the CBS Remote Access environment, takes about 9 s to import, is pre-1.0 (its API
moves between minor versions) and prints to stdout from its core functions. The OM recursion
here is a compiled loop over the pairs of distinct sequences (:mod:`.careers_kernels`), one row
of the dynamic programme per pair, updated in place.

**Clustering.** On a sample of at most ``sample_size`` sequences (drawn with ``random_state``):
k-medoids (PAM: greedy BUILD, then the best swap while it lowers the total distance) or Ward
hierarchical clustering; the number of clusters maximises the average silhouette width over
``k_range``. Every other sequence goes to the cluster of its nearest medoid. Clusters are
numbered 1, 2, ... by size (largest first).

All outputs are unprotected aggregates with ``persons`` counts; medoids are actual sequences and
carry the number of persons who have exactly that sequence, so disclosure control can withhold
a rare one. The plot draws state shares per month per cluster, never individual sequences.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .careers_kernels import build_gains, om_pairs, swap_deltas
from .contract import CONTRACTS, STATUS_ORDER
from .dataset import InputData
from .errors import InsufficientDataError, StatisticalWarning
from .flows import GROUPS, build_cohorts, default_cohorts, follow_up_statuses, parse_cohort
from .panel import Panel, build_panel, covered_months, month_number
from .typology import HOURS_BANDS, PROFILE_EXTRA, first_jobs, profile_shares

__all__ = [
    "CAREER_STATES",
    "CareerClusterResult",
    "CareerClustering",
    "career_sequences",
    "career_tables",
    "medoid_clusters",
    "optimal_matching",
    "pam",
    "plot_state_distribution",
    "substitution_costs",
]

#: States of the career sequences, in plot order.
CAREER_STATES = ("stable_work", "flexible_work", "work_unknown_contract", "bijstand_met_werk", "bijstand", "ww",
                 "overig")
STABLE_CONTRACTS = ("permanent", "fixed_term")
FLEXIBLE_CONTRACTS = ("agency", "on_call")
_STATE_COLORS = {"stable_work": "#1b7837", "flexible_work": "#a6dba0", "work_unknown_contract": "#d9f0d3",
                 "bijstand_met_werk": "#c2a5cf", "bijstand": "#762a83", "ww": "#f4a582", "overig": "#bababa"}
UNKNOWN = "unknown"

#: Characteristics in the cluster profiles: the flow groups, programme, the first job.
CAREER_PROFILE = {
    **GROUPS,
    **PROFILE_EXTRA,
    "contract": ("first_contract", (*CONTRACTS, UNKNOWN)),
    "hours": ("first_hours_band", (*HOURS_BANDS, UNKNOWN)),
}


def month_columns(length: int) -> list[str]:
    return [f"month_{k}" for k in range(1, int(length) + 1)]


def _state_columns(frame: pd.DataFrame) -> list[str]:
    cols = [c for c in frame.columns if c.startswith("month_") and c[6:].isdigit()]
    cols.sort(key=lambda c: int(c[6:]))
    if not cols:
        raise ValueError("no state columns month_1, month_2, ... found; build the frame with career_sequences()")
    return cols


# --------------------------------------------------------------------------------------------
# Sequences
# --------------------------------------------------------------------------------------------


def _career_cohorts(data: InputData, cohorts, length: int) -> list[str]:
    ws, we = pd.Timestamp(data.window_start), pd.Timestamp(data.window_end)
    if cohorts is None and data.study is not None and data.study.cohorts:
        cohorts = data.study.cohorts
    if cohorts is None:
        return [n for n in default_cohorts(ws, we, (length,)) if n.startswith("outflow_")]
    names = []
    for n in [cohorts] if isinstance(cohorts, str) else cohorts:
        c = parse_cohort(n)
        if c.kind != "outflow":
            continue
        if not c.fits(length, we):
            warnings.warn(f"cohort '{c.name}': the {length}-month career after exits in {c.year} runs past the "
                          f"window end {we:%Y-%m-%d}; left out of the career sequences", StatisticalWarning,
                          stacklevel=3)
            continue
        names.append(c.name)
    return names


def career_sequences(data: InputData, panel: Panel | None = None, *, length: int = 24,
                     cohorts: Iterable[str] | None = None) -> pd.DataFrame:
    """Monthly states in the ``length`` months after every outflow to work (see the module docstring).

    Columns: ``cohort``, ``person_id``, ``time_zero`` (the exit), the background of
    :class:`~reintegration_effects.flows.CohortSet` members (``sex``, ``age_band``,
    ``migration_background``, ``education``, ``household``, ``duration_band``, ``programme``),
    ``first_contract`` and ``first_hours_band`` (the first job, see
    :func:`reintegration_effects.typology.first_jobs`), then ``month_1`` ... ``month_<length>``
    (category, :data:`CAREER_STATES`). One row per exit to work.
    """
    if panel is None:
        panel = build_panel(data)
    length = int(length)
    names = _career_cohorts(data, cohorts, length)
    cols = month_columns(length)
    background = ["sex", "age_band", "migration_background", "education", "household", "duration_band", "programme"]
    if not names:
        warnings.warn(f"no outflow cohort has a {length}-month follow-up inside the window; no career sequences",
                      StatisticalWarning, stacklevel=2)
        empty = pd.DataFrame(columns=["cohort", "person_id", "time_zero", *background, "first_contract",
                                      "first_hours_band", *cols])
        for c in cols:
            empty[c] = pd.Categorical([], categories=list(CAREER_STATES))
        return empty
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        cs = build_cohorts(data, panel, cohorts=names, horizons=(length,), statuses=False)
    jobs = first_jobs(data, cs)
    out = jobs[["cohort", "person_id", "time_zero", *background]].copy()
    out["first_contract"] = jobs["contract"].to_numpy()
    out["first_hours_band"] = jobs["hours_band"].to_numpy()
    st = follow_up_statuses(panel, out["person_id"], out["time_zero"], length)
    if (st < 0).any():
        raise ValueError("career follow-up runs outside the panel window")
    stable, flexible = _contract_cover(data.jobs, out, length)

    status_state = np.array([CAREER_STATES.index(s) if s in CAREER_STATES else -1 for s in STATUS_ORDER])
    state = status_state[st]
    werk = st == STATUS_ORDER.index("werk")
    state = np.where(werk & stable, CAREER_STATES.index("stable_work"),
                     np.where(werk & flexible, CAREER_STATES.index("flexible_work"),
                              np.where(werk, CAREER_STATES.index("work_unknown_contract"), state)))
    for k, c in enumerate(cols):
        out[c] = pd.Categorical.from_codes(state[:, k].astype(np.int8), categories=list(CAREER_STATES))
    return out.reset_index(drop=True)


def _contract_cover(jobs: pd.DataFrame, seqs: pd.DataFrame, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, length) flags: a stable / a flexible job covers the k-th month end after time zero."""
    n = len(seqs)
    stable = np.zeros((n, length), dtype=bool)
    flexible = np.zeros((n, length), dtype=bool)
    if n == 0 or len(jobs) == 0 or "contract" not in jobs:
        return stable, flexible
    first_abs = month_number(seqs["time_zero"]) + np.asarray(
        pd.DatetimeIndex(seqs["time_zero"]).is_month_end, dtype=np.int64)
    q = pd.DataFrame({"person_id": seqs["person_id"].astype(str).to_numpy(), "row": np.arange(n),
                      "m0": first_abs})
    j = jobs[["person_id", "start", "end", "contract"]].assign(person_id=lambda f: f["person_id"].astype(str))
    j = j.loc[j["contract"].isin([*STABLE_CONTRACTS, *FLEXIBLE_CONTRACTS])]
    m = q.merge(j, on="person_id", how="inner")
    if len(m) == 0:
        return stable, flexible
    f, last = covered_months(m["start"], m["end"])
    lo = np.clip(f - m["m0"].to_numpy(), 0, None)
    hi = np.minimum(last - m["m0"].to_numpy(), length - 1)
    keep = hi >= lo
    rows, lo, hi = m["row"].to_numpy()[keep], lo[keep], hi[keep]
    is_stable = m["contract"].isin(STABLE_CONTRACTS).to_numpy()[keep]
    width = length + 1
    for flag, out in ((is_stable, stable), (~is_stable, flexible)):
        diff = np.bincount(rows[flag] * width + lo[flag], minlength=n * width).astype(np.int64)
        diff -= np.bincount(rows[flag] * width + hi[flag] + 1, minlength=n * width)
        out |= np.cumsum(diff.reshape(n, width)[:, :length], axis=1) > 0
    return stable, flexible


# --------------------------------------------------------------------------------------------
# Optimal matching, PAM
# --------------------------------------------------------------------------------------------


def substitution_costs(codes: np.ndarray, n_states: int, method: str = "trate") -> np.ndarray:
    """Substitution-cost matrix: ``'trate'`` (2 - p(j|i) - p(i|j), transition rates between
    consecutive positions pooled over all sequences and positions, as TraMineR/sequenzo TRATE) or
    ``'constant'`` (2 off the diagonal). The diagonal is 0."""
    if method == "constant":
        sub = np.full((n_states, n_states), 2.0)
    elif method == "trate":
        x = np.asarray(codes, dtype=np.int64)
        counts = np.bincount((x[:, :-1] * n_states + x[:, 1:]).ravel(), minlength=n_states * n_states)
        counts = counts.reshape(n_states, n_states).astype(float)
        row = counts.sum(axis=1, keepdims=True)
        p = np.divide(counts, row, out=np.zeros_like(counts), where=row > 0)
        sub = 2.0 - p - p.T
    else:
        raise ValueError(f"substitution must be 'trate', 'constant' or a square matrix; found {method!r}")
    np.fill_diagonal(sub, 0.0)
    return sub


def _om_pairs(a: np.ndarray, b: np.ndarray, sub: np.ndarray, indel: float) -> np.ndarray:
    """OM distance for each pair (a[p], b[p]); a is (P, La), b is (P, Lb), int codes
    (:func:`~reintegration_effects.careers_kernels.om_pairs`, a compiled loop over the pairs)."""
    n_states = sub.shape[0]
    for codes in (a, b):  # the compiled loop does not check its indices
        if codes.size and (codes.min() < 0 or codes.max() >= n_states):
            raise ValueError(f"state codes must lie in 0..{n_states - 1} (the rows of the {n_states} x {n_states} "
                             f"substitution matrix); found {int(codes.min())} to {int(codes.max())}")
    flat = np.ascontiguousarray(sub, dtype=np.float64).ravel() - 2.0 * indel
    return om_pairs(np.ascontiguousarray(a, dtype=np.int64), np.ascontiguousarray(b, dtype=np.int64), flat,
                    n_states, float(indel))


def optimal_matching(x: np.ndarray, y: np.ndarray | None = None, *, sub: np.ndarray, indel: float,
                     chunk: int = 8192) -> np.ndarray:
    """Optimal-matching distances between integer-coded sequences (rows).

    ``y=None``: the symmetric (n, n) matrix among the rows of ``x``; else the (n, m) matrix from
    the rows of ``x`` to the rows of ``y``. Identical sequences are computed once.
    """
    x = np.asarray(x)
    ux, inv_x = np.unique(x, axis=0, return_inverse=True)
    inv_x = inv_x.ravel()
    if y is None:
        u = len(ux)
        du = np.zeros((u, u))
        i, j = np.triu_indices(u, 1)
        for s in range(0, len(i), chunk):
            ii, jx = i[s:s + chunk], j[s:s + chunk]
            d = _om_pairs(ux[ii], ux[jx], sub, indel)
            du[ii, jx] = d
            du[jx, ii] = d
        return du[np.ix_(inv_x, inv_x)]
    y = np.asarray(y)
    uy, inv_y = np.unique(y, axis=0, return_inverse=True)
    inv_y = inv_y.ravel()
    i, j = np.divmod(np.arange(len(ux) * len(uy)), len(uy))
    du = np.empty(len(i))
    for s in range(0, len(i), chunk):
        du[s:s + chunk] = _om_pairs(ux[i[s:s + chunk]], uy[j[s:s + chunk]], sub, indel)
    return du.reshape(len(ux), len(uy))[np.ix_(inv_x, inv_y)]


def pam(dist: np.ndarray, k: int, *, max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """k-medoids by PAM on a distance matrix: greedy BUILD, then the best swap while it helps.

    Each swap step evaluates every (non-medoid, medoid) swap at once from the nearest and
    second-nearest medoid distances (Schubert and Rousseeuw's FastPAM1 decomposition).
    Deterministic (ties: the lowest index). Returns (medoid row indices, labels 0..k-1).
    """
    d = np.asarray(dist, dtype=np.float64)
    n = d.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of sequences ({n}); found {k}")
    d = np.ascontiguousarray(d)
    medoids = [int(np.argmin(d.sum(axis=1)))]
    near = d[medoids[0]].copy()
    for _ in range(1, k):
        gain = build_gains(d, near)
        gain[medoids] = -1
        new = int(np.argmax(gain))
        medoids.append(new)
        near = np.minimum(near, d[new])
    medoids = np.array(medoids)
    for _ in range(max_iter):
        dm = d[medoids]
        order = np.argsort(dm, axis=0, kind="stable")
        nearest = order[0]
        d1 = dm[nearest, np.arange(n)]
        d2 = dm[order[1], np.arange(n)] if k > 1 else np.full(n, np.inf)
        delta = swap_deltas(d, nearest.astype(np.int64), d1, d2, k)
        delta[medoids] = np.inf
        best = np.unravel_index(np.argmin(delta), delta.shape)
        if not delta[best] < -1e-9 * max(1.0, float(d1.sum())):
            break
        medoids[best[1]] = best[0]
    labels = np.argmin(d[medoids], axis=0)
    return medoids, labels


def medoid_clusters(dist: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The medoid (row with the smallest total distance to its cluster) of each cluster 0..k-1."""
    k = int(labels.max()) + 1
    out = np.empty(k, dtype=np.int64)
    for c in range(k):
        rows = np.flatnonzero(labels == c)
        out[c] = rows[np.argmin(dist[np.ix_(rows, rows)].sum(axis=1))]
    return out


# --------------------------------------------------------------------------------------------
# Clustering estimator and results
# --------------------------------------------------------------------------------------------


class CareerClustering:
    """Cluster career sequences by optimal matching (see the module docstring).

    Parameters: ``n_clusters`` (None: chosen by the average silhouette width over ``k_range``,
    inclusive), ``method`` ('pam' or 'ward'), ``substitution`` ('trate', 'constant' or a square
    matrix over :data:`CAREER_STATES`), ``indel`` ('auto' = max substitution cost / 2, or a
    number), ``sample_size`` (sequences clustered; the rest go to the nearest medoid),
    ``random_state`` (the sample draw).
    """

    def __init__(self, *, n_clusters: int | None = None, k_range: tuple[int, int] = (2, 8), method: str = "pam",
                 substitution="trate", indel="auto", sample_size: int = 2000, random_state=None):
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.method = method
        self.substitution = substitution
        self.indel = indel
        self.sample_size = sample_size
        self.random_state = random_state

    def fit(self, sequences: pd.DataFrame) -> CareerClusterResult:
        """Cluster the sequences (a :func:`career_sequences` frame); returns the results."""
        from sklearn.metrics import silhouette_score
        from sklearn.utils import check_random_state

        if self.method not in ("pam", "ward"):
            raise ValueError(f"method must be 'pam' or 'ward'; found {self.method!r}")
        cols = _state_columns(sequences)
        codes = np.column_stack([pd.Categorical(sequences[c], categories=list(CAREER_STATES)).codes for c in cols])
        if codes.size and (codes < 0).any():
            r, c = np.argwhere(codes < 0)[0]
            raise ValueError(f"column '{cols[c]}' has a missing or unknown state in row {r}; states must be "
                             f"one of {list(CAREER_STATES)}")
        n = len(codes)
        n_states = len(CAREER_STATES)
        if isinstance(self.substitution, str):
            sub = substitution_costs(codes, n_states, self.substitution)
        else:
            sub = np.asarray(self.substitution, dtype=float)
            if sub.shape != (n_states, n_states):
                raise ValueError(f"substitution matrix must be {n_states} x {n_states} (CAREER_STATES); "
                                 f"found {sub.shape}")
        indel = float(sub.max() / 2) if self.indel == "auto" else float(self.indel)
        rs = check_random_state(self.random_state)
        sample = np.sort(rs.choice(n, self.sample_size, replace=False)) if n > self.sample_size else np.arange(n)
        d = optimal_matching(codes[sample], sub=sub, indel=indel)
        ks = [int(self.n_clusters)] if self.n_clusters else list(range(int(self.k_range[0]), int(self.k_range[1]) + 1))
        n_distinct = len(np.unique(codes[sample], axis=0))
        ks = [k for k in ks if 2 <= k <= min(n_distinct, len(sample) - 1)] or ([1] if self.n_clusters == 1 else [])
        if not ks:
            raise InsufficientDataError(f"too few distinct career sequences to form clusters in k_range {self.k_range}")
        fits, rows = {}, []
        for k in ks:
            if k == 1:
                labels, med = np.zeros(len(sample), dtype=np.int64), pam(d, 1)[0]
            elif self.method == "pam":
                med, labels = pam(d, k)
            else:
                from scipy.cluster.hierarchy import fcluster, linkage
                from scipy.spatial.distance import squareform

                z = linkage(squareform(d, checks=False), method="ward")
                labels = fcluster(z, t=k, criterion="maxclust") - 1
                med = medoid_clusters(d, labels)
            asw = float(silhouette_score(d, labels, metric="precomputed")) if 1 < len(np.unique(labels)) < len(d) \
                else np.nan
            fits[k] = (med, labels)
            rows.append((k, asw))
        quality = pd.DataFrame(rows, columns=["k", "silhouette"])
        best = int(quality.loc[quality["silhouette"].fillna(-np.inf).idxmax(), "k"]) if len(quality) > 1 else ks[0]
        quality["chosen"] = quality["k"] == best
        med, sample_labels = fits[best]
        medoid_codes = codes[sample[med]]
        # everyone outside the sample: nearest medoid (ties: the lowest cluster)
        labels = np.empty(n, dtype=np.int64)
        labels[sample] = sample_labels
        rest = np.setdiff1d(np.arange(n), sample)
        if len(rest):
            labels[rest] = np.argmin(optimal_matching(codes[rest], medoid_codes, sub=sub, indel=indel), axis=1)
        # number clusters by size, largest first
        sizes = np.bincount(labels, minlength=len(med))
        order = np.argsort(-sizes, kind="stable")
        relabel = np.empty_like(order)
        relabel[order] = np.arange(len(order))
        labels = relabel[labels] + 1
        medoid_codes = medoid_codes[order]
        return CareerClusterResult(
            model=self, sequences=sequences, codes=codes, labels=pd.Series(labels, index=sequences.index, name="cluster"),
            medoid_codes=medoid_codes, quality=quality, substitution=pd.DataFrame(sub, index=list(CAREER_STATES),
                                                                               columns=list(CAREER_STATES)),
            indel=indel, sample_index=sequences.index[sample],
            silhouette=float(quality.loc[quality["chosen"], "silhouette"].iloc[0]))


@dataclass
class CareerClusterResult:
    """Fitted career clusters.

    ``labels``: cluster (1..k, largest first) of every sequence, aligned with the input frame's
    index (person level: stays inside the package). ``quality``: ``k``, ``silhouette`` (average
    silhouette width on the sample), ``chosen``. ``substitution`` and ``indel``: the OM costs used.
    ``sample_index``: the index labels of the clustered sample.
    """

    model: CareerClustering
    sequences: pd.DataFrame
    codes: np.ndarray
    labels: pd.Series
    medoid_codes: np.ndarray
    quality: pd.DataFrame
    substitution: pd.DataFrame
    indel: float
    sample_index: pd.Index
    silhouette: float

    @property
    def n_clusters(self) -> int:
        return len(self.medoid_codes)

    @property
    def length(self) -> int:
        return self.codes.shape[1]

    def cluster_labels(self) -> dict[int, str]:
        """A short name per cluster: its most common state over all person-months ('mostly ...')."""
        out = {}
        for c in range(1, self.n_clusters + 1):
            x = self.codes[self.labels.to_numpy() == c]
            top = np.bincount(x.ravel(), minlength=len(CAREER_STATES)).argmax() if x.size else 0
            out[c] = f"mostly {CAREER_STATES[top]}"
        return out

    def sizes(self) -> pd.DataFrame:
        """Columns: ``cluster`` (1..k), ``label`` (most common state), ``persons`` (sequences in the
        cluster), ``persons_total`` (all sequences). The persons add up to ``persons_total``."""
        lab = self.labels.to_numpy()
        names = self.cluster_labels()
        counts = np.bincount(lab, minlength=self.n_clusters + 1)[1:]
        return pd.DataFrame({"cluster": np.arange(1, self.n_clusters + 1), "label": [names[c] for c in names],
                             "persons": counts.astype(np.int64), "persons_total": np.int64(len(lab))})

    @property
    def summary(self) -> pd.DataFrame:
        return self.sizes()

    def to_frame(self) -> pd.DataFrame:
        """Person-level: cohort, person_id, cluster (internal use only; never output)."""
        return self.sequences[["cohort", "person_id"]].assign(cluster=self.labels.to_numpy())

    def medoids(self) -> pd.DataFrame:
        """Medoid sequence of each cluster.

        Columns: ``cluster``, ``month_1`` ... ``month_<length>`` (states), ``persons`` (sequences
        identical to the medoid, all clusters; a medoid is a real sequence, so disclosure control
        must withhold it when ``persons`` is small).
        """
        cols = month_columns(self.length)
        out = pd.DataFrame({"cluster": np.arange(1, self.n_clusters + 1)})
        for k, c in enumerate(cols):
            out[c] = pd.Categorical.from_codes(self.medoid_codes[:, k].astype(np.int8), categories=list(CAREER_STATES))
        same = (self.codes[None, :, :] == self.medoid_codes[:, None, :]).all(axis=2)
        out["persons"] = same.sum(axis=1).astype(np.int64)
        return out

    def state_shares(self) -> pd.DataFrame:
        """State distribution per cluster and month (the data of the index plot).

        Columns: ``cluster``, ``month`` (1..length), ``state`` (every state), ``persons``,
        ``persons_total`` (the cluster's size). Within a cluster and month the persons add up to
        ``persons_total``.
        """
        k, length, s = self.n_clusters, self.length, len(CAREER_STATES)
        lab = self.labels.to_numpy() - 1
        idx = (lab[:, None] * length + np.arange(length)[None, :]) * s + self.codes
        counts = np.bincount(idx.ravel(), minlength=k * length * s).reshape(k, length, s)
        out = pd.DataFrame({
            "cluster": np.repeat(np.arange(1, k + 1), length * s),
            "month": np.tile(np.repeat(np.arange(1, length + 1), s), k),
            "state": np.tile(np.array(CAREER_STATES, dtype=object), k * length),
            "persons": counts.ravel().astype(np.int64),
        })
        out["persons_total"] = out["cluster"].map(self.sizes().set_index("cluster")["persons"]).astype(np.int64)
        return out

    def typical_sequences(self) -> pd.DataFrame:
        """The modal state per month in each cluster (an aggregate typical sequence).

        Columns: ``cluster``, ``month``, ``state`` (the most common state), ``persons`` (in that
        state), ``persons_total`` (the cluster's size).
        """
        sh = self.state_shares()
        top = sh.sort_values(["cluster", "month", "persons"], ascending=[True, True, False], kind="mergesort")
        return top.drop_duplicates(["cluster", "month"]).reset_index(drop=True)

    def profile(self, dimensions: Iterable[str] | None = None) -> pd.DataFrame:
        """Background of each cluster: counts per characteristic within the cluster.

        ``dimensions``: keys of :data:`CAREER_PROFILE` (default all: the flow groups, programme,
        the first job's contract and hours band). Columns: ``cluster``, ``dimension``, ``group``
        (e.g. ``age=50+``, ``contract=agency``; every value), ``persons``, ``persons_total`` (the
        cluster's size).
        """
        dims = list(CAREER_PROFILE) if dimensions is None else list(dimensions)
        bad = [d for d in dims if d not in CAREER_PROFILE]
        if bad:
            raise ValueError(f"unknown profile dimensions {bad}; expected some of {list(CAREER_PROFILE)}")
        dims = {d: CAREER_PROFILE[d] for d in dims if CAREER_PROFILE[d][0] in self.sequences}
        frame = self.sequences.assign(
            cluster=pd.Categorical(self.labels.to_numpy(), categories=range(1, self.n_clusters + 1)))
        out = profile_shares(frame, ["cluster"], dims)
        out["cluster"] = out["cluster"].astype(np.int64)
        return out

    def plot(self, axes=None):
        """State shares per month for each cluster (:func:`plot_state_distribution`)."""
        return plot_state_distribution(self.state_shares(), axes=axes, labels=self.cluster_labels())


def plot_state_distribution(state_shares: pd.DataFrame, *, axes=None, labels: dict | None = None,
                            states: Sequence[str] = CAREER_STATES):
    """Aggregated sequence index plot: per cluster, stacked bars of the state shares per month.

    Reads a :meth:`CareerClusterResult.state_shares` table (possibly protected: suppressed
    counts, NA, are drawn as 0), so no individual sequence is ever drawn. ``axes``: one Axes per
    cluster (created if None). Returns the array of Axes.
    """
    import matplotlib.pyplot as plt

    clusters = sorted(state_shares["cluster"].unique())
    created = axes is None
    if axes is None:
        fig, axes = plt.subplots(len(clusters), 1, figsize=(8, 2.2 * len(clusters) + 0.8), sharex=True,
                                 squeeze=False)
        axes = axes[:, 0]
    axes = np.atleast_1d(axes)
    if len(axes) < len(clusters):
        raise ValueError(f"need one Axes per cluster ({len(clusters)}); got {len(axes)}")
    for ax, c in zip(axes, clusters, strict=False):
        t = state_shares.loc[state_shares["cluster"] == c]
        wide = t.pivot_table(index="month", columns="state", values="persons", aggfunc="sum", observed=True)
        wide = wide.reindex(columns=list(states)).astype(float).fillna(0.0)
        total = wide.sum(axis=1).replace(0, np.nan)
        share = wide.div(total, axis=0).fillna(0.0)
        bottom = np.zeros(len(share))
        for s in states:
            if share[s].any():
                ax.bar(share.index, share[s], bottom=bottom, width=1.0, color=_STATE_COLORS.get(s), label=s,
                       linewidth=0)
                bottom += share[s].to_numpy()
        n = t["persons_total"].iloc[0] if "persons_total" in t and len(t) else None
        name = (labels or {}).get(c, "")
        ax.set_title(f"Cluster {c}" + (f": {name}" if name else "") + (f" (n = {n})" if pd.notna(n) else ""),
                     fontsize=10)
        ax.set_ylim(0, 1)
        ax.set_ylabel("share")
    axes[len(clusters) - 1].set_xlabel("months after leaving bijstand for work")
    handles = {}
    for ax in axes[:len(clusters)]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig = axes[0].figure
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="upper center", ncol=4, fontsize=8, frameon=False)
    if created:
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))
    return axes


def career_tables(data: InputData, panel: Panel | None = None, *, length: int = 24, cohorts=None,
                  random_state=None, **clustering) -> tuple[dict[str, pd.DataFrame], CareerClusterResult | None]:
    """Career sequences, their clusters and every cluster table; returns ``(tables, result)``.

    ``clustering`` goes to :class:`CareerClustering`. Tables (unprotected): ``career_clusters``
    (:meth:`CareerClusterResult.sizes`), ``career_quality`` (k and average silhouette),
    ``career_state_shares`` (the data of the plot), ``career_typical`` (modal state per month),
    ``career_medoids`` (with ``persons`` sharing the medoid sequence), ``career_profile``.
    With fewer than 10 sequences there is nothing to cluster: empty tables and ``None``.
    """
    seqs = career_sequences(data, panel, length=length, cohorts=cohorts)
    if len(seqs) < 10:  # the count itself is not given: it would be a small count in the run log
        warnings.warn(f"fewer than 10 exits to work with a {length}-month follow-up; no career clusters",
                      StatisticalWarning, stacklevel=2)
        return {}, None
    try:
        res = CareerClustering(random_state=random_state, **clustering).fit(seqs)
    except InsufficientDataError as e:  # e.g. a few sequences, nearly all the same
        warnings.warn(f"{e}; no career clusters", StatisticalWarning, stacklevel=2)
        return {}, None
    return {
        "career_clusters": res.sizes(),
        "career_quality": res.quality,
        "career_state_shares": res.state_shares(),
        "career_typical": res.typical_sequences(),
        "career_medoids": res.medoids(),
        "career_profile": res.profile(),
    }, res
