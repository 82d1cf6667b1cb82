"""Small statistics shared by the estimators (the ground floor: no imports from this package)."""

from __future__ import annotations

import numpy as np

__all__ = ["cluster_se", "cluster_sums", "fdr_q_values", "normal_p_value"]


def cluster_se(terms: np.ndarray, clusters: np.ndarray, denominator: float) -> float:
    """sqrt(sum over clusters of (sum of terms)^2) / denominator, with a small-sample factor."""
    sums = np.bincount(clusters, weights=terms)
    g = int((sums != 0).sum())
    factor = g / (g - 1) if g > 1 else 1.0
    return float(np.sqrt(factor * np.sum(sums**2)) / denominator)


def cluster_sums(values: np.ndarray, clusters: np.ndarray, n_clusters: int) -> np.ndarray:
    """Column sums of ``values`` (rows x k) per cluster: (n_clusters x k)."""
    return np.column_stack([np.bincount(clusters, weights=values[:, j], minlength=n_clusters)
                            for j in range(values.shape[1])])


def normal_p_value(estimate, std_error) -> np.ndarray:
    """Two-sided p-value of estimate / std_error against the standard normal.

    NaN where either is missing or the standard error is not positive (no test is possible).
    """
    from scipy.stats import norm

    est = np.asarray(estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
    z = np.divide(np.abs(est), se, out=np.full(est.shape, np.nan), where=ok)
    return np.where(ok, 2 * norm.sf(z), np.nan)


def fdr_q_values(p_values, families) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) within each family.

    ``families``: one label per p-value (any hashable; rows with the same label form one family).
    A NaN p-value is not part of its family and gets NaN. statsmodels'
    ``multipletests(method="fdr_bh")`` does the adjustment (Benjamini & Hochberg 1995).
    """
    import pandas as pd
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    labels = pd.Series(list(families) if not isinstance(families, pd.Series) else families.to_numpy())
    if len(labels) != len(p):
        raise ValueError(f"fdr_q_values: {len(p)} p-values but {len(labels)} family labels")
    ok = np.isfinite(p)
    for idx in labels[ok].groupby(labels[ok], sort=False).groups.values():
        rows = np.asarray(idx, dtype=np.int64)
        q[rows] = multipletests(p[rows], method="fdr_bh")[1]
    return q
