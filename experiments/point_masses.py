"""Fig. 7: are the entries of a last-layer classifier ``w_k`` a mixture of one or two point masses?

Lemma 3 (the ℓq-regularised two-class model, Eq. 33) predicts, for ``q > 2``, entries of equal
magnitude (the "all-ones" pattern: values ``±c``) and, for ``q < 2``, a sparse vector (values ``0``
and ``c``): in both cases the entries take at most two values.  The statistic below measures how
far a vector is from that: the largest fraction of its entries that two windows of half-width
``delta`` times the root-mean-square entry can cover,

    M2(w) = max_{a, b} #{i : |w_i - a| <= h or |w_i - b| <= h} / p,   h = delta * sqrt(mean_i w_i^2),

with the centres ``a, b`` ranging over the entries themselves.  The scale is the size of the entries
(for ``±c`` or a constant ``c`` it is ``c``: "within ±5% of the two most frequent values"), not their
range, so that noise around a single mass does not shrink the windows, and one outlier does not widen
them much.  One or two point masses (plus noise small against ``c``) give ``M2 = 1``; a continuous
spread gives a small ``M2`` (about 0.08 for Gaussian entries at ``delta = 0.05``).
"""
from __future__ import annotations

import numpy as np

from lpm_verify.errors import require

#: Half-width of a window, as a fraction of the root-mean-square entry ("within ±5% of the two most frequent values").
WINDOW = 0.05
#: ``M2`` at or above this means "one or two point masses" (at most 10% of the entries elsewhere).
POINT_MASS_LEVEL = 0.9


def two_mass_fraction(w: np.ndarray, delta: float = WINDOW) -> float:
    """``M2(w)`` of the module docstring for ``w  # (p,)``: the fraction of entries two windows cover."""
    w = np.asarray(w, dtype=float).ravel()
    require(w.size >= 2 and bool(np.all(np.isfinite(w))), "w", "a finite vector with >= 2 entries", w.shape)
    require(0 < delta < 0.5, "delta", "in (0, 0.5)", delta)
    scale = float(np.sqrt(np.mean(w * w)))
    if scale == 0.0:
        return 1.0
    C = (np.abs(w[:, None] - w[None, :]) <= delta * scale).astype(np.float64)  # (p, p): entry j in window i
    n = C.sum(axis=1)  # (p,)
    both = C @ C.T     # (p, p): entries in both windows i and k
    return float((n[:, None] + n[None, :] - both).max() / w.size)


def is_point_mass_mixture(w: np.ndarray, delta: float = WINDOW, level: float = POINT_MASS_LEVEL) -> bool:
    """True when ``M2(w) >= level``: the entries look like Lemma 3's one or two point masses."""
    return two_mass_fraction(w, delta) >= level
