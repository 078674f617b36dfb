"""Class groups and regimes of the symmetry-reduced Eq. 15.

A :class:`Profile` groups the classes by their objective weight ``pi_k`` (class size, times the
oversampling weight of Eq. 18): ``G`` groups, group ``g`` with ``K_g`` classes of weight ``pi_g``.
Eq. 15 is invariant under permuting the classes of one group, so it has an invariant minimizer,
block diagonal in the group-mean block ``X_M`` and one contrast block ``S_g`` per group (see
:mod:`lpm_verify.solvers.symmetric`).  A :class:`Regime` is the rank pattern of that minimizer:
``r = rank Z_M`` and which contrasts ``s_g`` are nonzero.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import mpmath
import numpy as np

from lpm_verify.errors import require
from lpm_verify.problem import LPMProblem

GROUP_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Profile:
    """Classes grouped by weight: ``counts[g] = K_g``, ``weights[g]`` the unnormalized weight of one
    class of group g (``w_k n_k``; 0 allowed, e.g. the minority at ``R = inf``), budgets, and
    ``class_groups[k]`` the group of class k (classes keep their order in the rebuilt ``X``)."""

    counts: tuple[int, ...]
    weights: tuple[float, ...]
    E_W: float
    E_H: float
    class_groups: tuple[int, ...]

    @property
    def G(self) -> int:
        return len(self.counts)

    @property
    def K(self) -> int:
        return sum(self.counts)

    def fractions(self, mp: bool = False) -> np.ndarray:
        """Per-class weight ``pi_g`` of each group, ``sum_g K_g pi_g = 1``  # (G,)."""
        conv = mpmath.mpf if mp else float
        w = [conv(x) for x in self.weights]
        total = sum(conv(c) * x for c, x in zip(self.counts, w))
        return np.array([x / total for x in w], dtype=object if mp else float)

    @classmethod
    def from_fractions(cls, pi: Sequence[float], E_W: float, E_H: float) -> "Profile":
        """Group equal entries of the class weights ``pi  # (K,)`` (first appearance order)."""
        pi = [float(x) for x in pi]
        require(len(pi) >= 2 and all(x >= 0 and math.isfinite(x) for x in pi) and sum(pi) > 0,
                "fractions", "K >= 2 finite nonnegative numbers, not all zero", pi)
        require(math.isfinite(E_W) and E_W > 0, "E_W", "a finite number > 0", E_W)
        require(math.isfinite(E_H) and E_H > 0, "E_H", "a finite number > 0", E_H)
        values: list[float] = []
        groups = []
        for x in pi:
            if x not in values:
                values.append(x)
            groups.append(values.index(x))
        counts = tuple(groups.count(g) for g in range(len(values)))
        return cls(counts, tuple(values), float(E_W), float(E_H), tuple(groups))

    @classmethod
    def from_problem(cls, problem: LPMProblem) -> "Profile":
        require(problem.loss.is_cross_entropy, "loss", "cross-entropy for the symmetric solver", problem.loss.name)
        w = problem.weights or (1.0,) * problem.K
        return cls.from_fractions([wk * nk for wk, nk in zip(w, problem.sizes)], problem.E_W, problem.E_H)

    @classmethod
    def two_size(cls, K: int, K_A: int, R: float, E_W: float, E_H: float, w_r: float = 1.0) -> "Profile":
        """``K_A`` classes of size ``R`` and ``K - K_A`` of size 1 (times ``w_r``), ``R`` in (0, inf]."""
        require(isinstance(K, int) and K >= 2, "K", "an integer >= 2", K)
        require(isinstance(K_A, int) and 0 < K_A < K, "K_A", f"an integer in [1, K-1] = [1, {K - 1}]", K_A)
        require(isinstance(R, (int, float)) and R > 0 and not math.isnan(R), "R", "a number > 0 (inf allowed)", R)
        require(w_r > 0 and math.isfinite(w_r), "w_r", "a finite number > 0", w_r)
        require(math.isfinite(E_W) and E_W > 0, "E_W", "a finite number > 0", E_W)
        require(math.isfinite(E_H) and E_H > 0, "E_H", "a finite number > 0", E_H)
        groups = (0,) * K_A + (1,) * (K - K_A)
        if math.isinf(R):
            return cls((K_A, K - K_A), (1.0, 0.0), float(E_W), float(E_H), groups)
        return cls((K_A, K - K_A), (float(R), float(w_r)), float(E_W), float(E_H), groups)


@dataclass(frozen=True)
class Regime:
    """``rank = rank Z_M`` (mean block) and, per group, whether its contrast block is nonzero
    (``None`` for a group of one class, which has no contrast)."""

    rank: int
    active: tuple[bool | None, ...]

    def label(self) -> str:
        """E.g. ``"M1 A+ B0"``: mean block of rank 1, group A's contrast active, group B's zero."""
        parts = [f"M{self.rank}"]
        for g, a in enumerate(self.active):
            parts.append(GROUP_NAMES[g] + ("-" if a is None else "+" if a else "0"))
        return " ".join(parts)

    @property
    def active_groups(self) -> list[int]:
        return [g for g, a in enumerate(self.active) if a]

    def n_free(self, G: int) -> int:
        r = self.rank
        return (G * r - r * (r - 1) // 2) + G * r + len(self.active_groups) + 1

    def neighbours(self, G: int) -> list["Regime"]:
        out = [replace(self, rank=r) for r in (self.rank - 1, self.rank + 1) if 0 <= r <= G]
        for g, a in enumerate(self.active):
            if a is not None:
                act = list(self.active)
                act[g] = not a
                out.append(Regime(self.rank, tuple(act)))
        return out


def regime_name(regime: Regime) -> str:
    """Readable name plus code for two groups (majority A, minority B), e.g.
    ``"minority-collapse (M1 A+ B0)"``; the bare code for other profiles.

    ``*-collapse``: that group's classifiers are all equal (contrast block zero); ``-zero``: and the
    mean block has rank 0, so they are all zero (their cosine is undefined).
    """
    code = regime.label()
    if len(regime.active) != 2:
        return code
    a, b = regime.active
    zero = "-zero" if regime.rank == 0 else ""
    if a is False and b is False:
        name = "all-collapse" + zero
    elif b is False or (b is None and regime.rank == 0):
        name = "minority-collapse" + zero
    elif a is False or (a is None and regime.rank == 0):
        name = "majority-collapse" + zero
    else:
        name = "distinct"
    return f"{name} ({code})"


def parse_regime(label: str) -> Regime:
    """Inverse of :meth:`Regime.label` (also accepts :func:`regime_name`'s ``"name (code)"``)."""
    if "(" in label:
        label = label[label.index("(") + 1:label.rindex(")")]
    head, *rest = label.split()
    return Regime(int(head[1:]), tuple(None if p[1] == "-" else p[1] == "+" for p in rest))
