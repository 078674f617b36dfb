"""Losses of the Layer-Peeled Model.

* cross-entropy, Eq. 8;
* the softmax-based family, Eq. 14: ``g1(S(z)(k)) + sum_{k' != k} g2(S(z)(k'))`` with ``g1``
  nonincreasing convex and ``g2`` nondecreasing convex on (0, 1);
* supervised contrastive, Eq. 11 (a loss on features only, used by the LPM Eq. 12).

Each loss is one definition evaluated through :mod:`lpm_verify.backend`, so a float64 array gives a
float64 answer and an object array of mpmath numbers gives an answer at the working precision.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from lpm_verify import backend as bk
from lpm_verify.errors import LPMInputError, require

Elementwise = Callable[[Any], Any]


@dataclass(frozen=True)
class SoftmaxLoss:
    """A loss of the form Eq. 14, ``L(z, y_k) = g1(S(z)(k)) + sum_{k' != k} g2(S(z)(k'))``.

    ``g2 is None`` means ``g2 == 0``.  Cross-entropy (Eq. 8) is ``g1 = -log``, ``g2 = 0`` and is
    evaluated as ``logsumexp(z) - z(k)`` so that large logits do not underflow.
    """

    name: str
    g1: Elementwise
    g2: Elementwise | None = None
    is_cross_entropy: bool = False

    def __call__(self, Z: Any, labels: Any) -> Any:
        """Per-sample losses for logits ``Z  # (m, K)`` and integer ``labels  # (m,)``."""
        Z = np.asarray(Z) if not bk.is_mp(Z) else Z
        labels = np.asarray(labels, dtype=int)
        rows = np.arange(Z.shape[0])
        if self.is_cross_entropy:
            return bk.logsumexp(Z, axis=1) - Z[rows, labels]
        S = bk.softmax(Z, axis=1)
        value = self.g1(S[rows, labels])
        if self.g2 is not None:
            others = self.g2(S)
            value = value + np.sum(others, axis=1) - others[rows, labels]
        return value


def _neg_log(x: Any) -> Any:
    return -bk.log(x)


def cross_entropy() -> SoftmaxLoss:
    """Cross-entropy, Eq. 8 (Eq. 14 with ``g1(x) = -log x`` and ``g2 = 0``)."""
    return SoftmaxLoss("cross-entropy", g1=_neg_log, g2=None, is_cross_entropy=True)


def power_loss(q: float) -> SoftmaxLoss:
    """Eq. 14 with ``g1(x) = (1 - x)^q`` and ``g2(x) = x^q``, ``q > 1`` (Section 3.B)."""
    require(q > 1, "q", "> 1 (g1, g2 must be convex)", q)
    return SoftmaxLoss(f"power:{q:g}", g1=lambda x: (1 - x) ** q, g2=lambda x: x ** q)


LOSS_NAMES = ("cross-entropy", "ce", "power:<q>")


def get_loss(name: str) -> SoftmaxLoss:
    """Loss by name: ``cross-entropy`` (alias ``ce``) or ``power:<q>`` with q > 1."""
    if name in ("cross-entropy", "ce"):
        return cross_entropy()
    if name.startswith("power:"):
        try:
            q = float(name.split(":", 1)[1])
        except ValueError:
            raise LPMInputError(f"loss {name!r}: q must be a number > 1, e.g. 'power:2'") from None
        return power_loss(q)
    close = difflib.get_close_matches(name, ["cross-entropy", "ce", "power:2"], n=2)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise LPMInputError(f"loss must be one of {', '.join(LOSS_NAMES)}; got {name!r}.{hint}")


def supervised_contrastive(H: Any, tau: Any) -> Any:
    """Per-sample supervised contrastive losses, Eq. 11, for balanced features ``H  # (K, n, p)``.

    ``L_c(h_{k,i}) = (1/n) sum_j -log( exp(h_{k,i}.h_{k,j}/tau) / sum_{k',l} exp(h_{k,i}.h_{k',l}/tau) )``.
    Returns an array ``# (K, n)``.
    """
    require(tau > 0, "tau", "> 0", tau)
    K, n, p = H.shape
    flat = H.reshape(K * n, p)
    G = flat.dot(flat.T) / tau  # (Kn, Kn) all inner products over tau
    lse = bk.logsumexp(G, axis=1).reshape(K, n)  # log of the denominator, per anchor
    same = np.stack([G[k * n:(k + 1) * n, k * n:(k + 1) * n].sum(axis=1) for k in range(K)])  # (K, n)
    return lse - same / n
