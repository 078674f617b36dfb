"""Strict-complementarity margins and the KKT certificate of a reduced point of Eq. 15.

In terms of Eq. 15 the dual matrix is ``Lambda = [[l_H I, G/2], [G^T/2, l_W I]]`` with
``l_H = mu/(2a)``, ``l_W = mu a/2`` (``a = sqrt(E_H / E_W)``); it splits like ``X`` into
``Lambda_M = [[l_H I_G, G_M/2], [G_M^T/2, l_W I_G]]`` and ``Lambda_g = [[l_H, gamma_g/2],
[gamma_g/2, l_W]]`` (``gamma_g`` the contrast eigenvalue of ``G``).  Certificate: KKT residual,
``Lambda_M, Lambda_g >= 0``, ``mu > 0``, and the strict-complementarity margins of every block.
"""
from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np

from lpm_verify.solvers.symmetric.kkt import System, complement_gram
from lpm_verify.solvers.symmetric.profile import GROUP_NAMES
from lpm_verify.solvers.symmetric.kkt import blocks


def _singular_values(M: np.ndarray) -> list[Any]:
    if M.dtype == object:
        return list(mpmath.svd_r(mpmath.matrix(M.tolist()), compute_uv=False)) if M.size else []
    return list(np.linalg.svd(M, compute_uv=False))


def _min_eig(M: np.ndarray) -> Any:
    if M.dtype == object:
        return min(mpmath.eigsy(mpmath.matrix(M.tolist()), eigvals_only=True))
    return float(np.linalg.eigvalsh(M)[0])


def margins(system: System, x: np.ndarray) -> dict[str, Any]:
    """Strict-complementarity margins of every block (all > 0 in the interior of the regime).

    ``mean/primal``: smallest nonzero singular value of ``Z_M`` (r >= 1);
    ``mean/dual``: ``mu - sigma_max`` of ``G_M`` off the active subspace (r < G);
    ``<g>/primal``: ``s_g`` (active contrast); ``<g>/dual``: ``mu - |gamma_g|`` (inactive contrast);
    ``mu``: the budget multiplier.
    """
    A, B, s, mu, tau = system.unpack(x[None, :])
    b = 1
    pi = system.fractions(tau, b, x.dtype)
    GM, gamma, _ = system.gradient(A, B, s, pi)
    out: dict[str, Any] = {"mu": mu[0]}
    r, G = system.regime.rank, system.G
    if r >= 1:
        out["mean/primal"] = min(_singular_values(A[0] @ B[0].T)[:r])
    if r < G:
        comp = complement_gram(A, B, GM)[0]
        top = max(_singular_values(comp)) if comp.size else 0
        out["mean/dual"] = mu[0] - (mpmath.sqrt(top) if x.dtype == object else math.sqrt(max(top, 0.0)))
    for g, a in enumerate(system.regime.active):
        if a is None:
            continue
        name = GROUP_NAMES[g]
        if a:
            out[f"{name}/primal"] = s[0, g]
        else:
            out[f"{name}/dual"] = mu[0] - abs(gamma[0, g])
    return out


def certificate(system: System, x: np.ndarray) -> dict[str, Any]:
    """KKT certificate of ``x`` in Eq. 15's terms (see module docstring).

    ``kkt_residual``: max |F| with the stationarity rows divided by ``mu`` (``kkt_residual_raw``:
    plain max |F|); ``dual_min_eig``: smallest eigenvalue of ``Lambda_M`` and of each
    ``Lambda_g`` (>= 0 up to rounding means dual feasible); ``multipliers``: ``l_H, l_W``;
    ``gap_bound``: ``<Lambda, X> + l_H slack_H + l_W slack_W`` bounds ``f(X) - min`` from above;
    ``margins``: :func:`margins`; ``min_margin``: the smallest of them.
    """
    mp = x.dtype == object
    prof = system.profile
    A, B, s, mu, tau = system.unpack(x[None, :])
    pi = system.fractions(tau, 1, x.dtype)
    GM, gamma, _ = system.gradient(A, B, s, pi)
    F = system.residual(x[None, :])[0]
    a = mpmath.sqrt(mpmath.mpf(prof.E_H) / prof.E_W) if mp else math.sqrt(prof.E_H / prof.E_W)
    lH, lW = mu[0] / (2 * a), mu[0] * a / 2
    G = prof.G
    eyeG = np.eye(G).astype(object) if mp else np.eye(G)
    LM = np.zeros((2 * G, 2 * G), dtype=GM.dtype)
    LM[:G, :G], LM[G:, G:] = lH * eyeG, lW * eyeG
    LM[:G, G:], LM[G:, :G] = GM[0] / 2, GM[0].T / 2
    XM, Sg = blocks(prof, A[0], B[0], s[0], a)
    dual = {"mean": _min_eig(LM)}
    compl = np.sum(LM * XM)
    for g, c in enumerate(prof.counts):
        if c >= 2:
            Lg = np.array([[lH, gamma[0, g] / 2], [gamma[0, g] / 2, lW]], dtype=LM.dtype)
            dual[GROUP_NAMES[g]] = _min_eig(Lg)
            compl = compl + (c - 1) * np.sum(Lg * Sg[g])
    K = prof.K
    trH = a * (np.sum(A * A) + np.sum(s[0] * (np.array(prof.counts) - 1)))
    trW = (np.sum(B * B) + np.sum(s[0] * (np.array(prof.counts) - 1))) / a
    slackH, slackW = K * prof.E_H - trH, K * prof.E_W - trW
    gap = abs(compl) + abs(lH * slackH) + abs(lW * slackW)
    m = margins(system, x)
    return {
        "regime": system.regime.label(),
        "kkt_residual": max(abs(v) for v in system.scaled(F, x)),
        "kkt_residual_raw": max(abs(v) for v in F),
        "dual_min_eig": dual,
        "multipliers": {"lambda_H": lH, "lambda_W": lW},
        "complementarity": compl,
        "gap_bound": gap,
        "margins": m,
        "min_margin": min(m.values()),
    }


def quick_certificate(system: System, x: np.ndarray) -> dict[str, Any]:
    """Residual and margins only (the regime test of the float64 continuation).

    The margins already decide dual feasibility: ``Lambda_M >= 0`` iff ``sigma_max(G_M) <= mu``
    (``mean/dual``, the active part equals ``mu`` by stationarity) and ``Lambda_g >= 0`` iff
    ``|gamma_g| <= mu`` (``<g>/dual``); :func:`certificate` adds the eigenvalues and the gap bound.
    """
    F = system.residual(x[None, :])[0]
    m = margins(system, x)
    return {"regime": system.regime.label(), "kkt_residual": max(abs(v) for v in system.scaled(F, x)),
            "dual_min_eig": {}, "margins": m, "min_margin": min(m.values())}


def certificate_ok(cert: dict[str, Any], tol: Any) -> bool:
    """True iff ``mu > 0``, the (mu-scaled) KKT residual <= tol, every dual block is PSD and every
    dual margin >= 0 up to ``-tol * mu`` (dual quantities scale with ``mu``), and every primal
    margin > tol.

    Primal margins must be strictly positive: a rank-r system also has the degenerate solutions of
    lower rank (a zero column of ``A``, ``B``), which belong to the smaller regime.  At a regime
    boundary the smaller regime passes (its dual margin is ~0).
    """
    m = cert["margins"]
    mu = m["mu"]
    return (mu > 0 and cert["kkt_residual"] <= tol
            and all(v >= -tol * mu for v in cert["dual_min_eig"].values())
            and all(v >= -tol * mu for k, v in m.items() if k.endswith("/dual"))
            and all(v > tol for k, v in m.items() if k.endswith("/primal")))
