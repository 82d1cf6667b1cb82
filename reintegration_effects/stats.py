"""Small statistics shared by the estimators (the ground floor: no package imports)."""

from __future__ import annotations

import numpy as np

__all__ = ["cluster_se", "cluster_sums"]


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
