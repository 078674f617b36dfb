"""Last resort of the float64 continuation: the reduced convex program of Eq. 15 (the nuclear-norm
form, Eq. 91 on the invariant subspace) solved by cvxpy/Clarabel, then polished by Newton.
"""
from __future__ import annotations

import math

import numpy as np

from lpm_verify.errors import SolverError
from lpm_verify.solvers.symmetric.kkt import System
from lpm_verify.solvers.symmetric.profile import Profile, Regime
from lpm_verify.solvers.symmetric.switching import Point, convert, gauge_fix, try_regime


def fallback(prof: Profile, pi: np.ndarray) -> Point:
    """Solve the reduced convex program with cvxpy/Clarabel, read off the regime, polish by Newton."""
    import cvxpy as cp
    G = prof.G
    counts = np.array(prof.counts, dtype=float)
    sq = np.sqrt(np.outer(counts, counts))
    T = prof.K * math.sqrt(prof.E_H * prof.E_W)
    ZM = cp.Variable((G, G))
    s = cp.Variable(G, nonneg=True)
    terms = []
    for g in range(G):
        if pi[g] == 0:
            continue
        own = ZM[g, g] / counts[g] + s[g] * (1 - 1 / counts[g])
        logits = [own]
        if counts[g] > 1:
            logits.append(ZM[g, g] / counts[g] - s[g] / counts[g] + math.log(counts[g] - 1))
        logits += [ZM[g, h] / sq[g, h] + math.log(counts[h]) for h in range(G) if h != g]
        terms.append(counts[g] * pi[g] * (cp.log_sum_exp(cp.hstack(logits)) - own))
    cons = [cp.normNuc(ZM) + (counts - 1) @ s <= T]
    cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms))), cons).solve(solver="CLARABEL")
    if ZM.value is None:
        raise SolverError("symmetric fallback: Clarabel found no solution of the reduced program; "
                          "try method='sdp'")
    U, S, Vt = np.linalg.svd(ZM.value)
    r = int(np.sum(S > 1e-6 * T))
    active = tuple(None if c == 1 else bool(s.value[g] > 1e-6 * T) for g, c in enumerate(prof.counts))
    A, B = gauge_fix(U[:, :r] * np.sqrt(S[:r]), Vt[:r].T * np.sqrt(S[:r]))
    sv = np.where([bool(a) for a in active], s.value, 0.0)
    mu = float(cons[0].dual_value)
    base = Regime(r, active)
    x0 = System(prof, base, pi).pack(A, B, sv, mu)
    start = Point(base, x0)
    with np.errstate(all="ignore"):
        got, _ = try_regime(prof, pi, base, x0)
        for reg in base.neighbours(G):
            if got is not None:
                break
            got, _ = try_regime(prof, pi, reg, convert(start, base, reg, prof, pi))
    if got is None:
        raise SolverError("symmetric solver: no regime passed the KKT certificate at this point; "
                          "use method='sdp' (Clarabel) for this instance")
    got.info["pi"] = pi
    return got
