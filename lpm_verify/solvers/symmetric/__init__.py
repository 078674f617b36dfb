"""Symmetry-reduced solution of Eq. 15 in float64 (fast path) and in mpmath (with a certificate).

Reduction.  Group the classes by their objective weight ``pi_k`` (class size, times the
oversampling weight of Eq. 18): ``G`` groups, group ``g`` with ``K_g`` classes of weight ``pi_g``.
Eq. 15 is invariant under permuting the classes of one group (simultaneously in the feature and the
classifier half of ``X``) and is convex, so it has an invariant minimizer.  An invariant
``X  # (2K, 2K)`` is block diagonal in the basis {normalized group indicators u_g} + {contrasts}:

* one ``2G x 2G`` block ``X_M`` on ``span{(u_g, 0), (0, u_g)}`` (group means of h and w), and
* for each group with ``K_g >= 2`` one ``2 x 2`` block ``S_g`` repeated ``K_g - 1`` times on
  the within-group contrasts,

and ``X >= 0`` iff ``X_M >= 0`` and every ``S_g >= 0``.  The logits only see the h-w part
``Z = X[:K, K:]``: ``Z_M = X_M[hw]  # (G, G)`` and ``s_g = S_g[hw]``.  Eliminating the h-h and
w-w parts with the budgets gives the equivalent nuclear-norm program (Eq. 91 restricted to the
invariant subspace, where ``||Z||_* = ||Z_M||_* + sum_g (K_g - 1)|s_g|``)::

    min  f(Z_M, s) = sum_g K_g pi_g log(1 + (K_g-1) e^{-s_g} + sum_{g'!=g} K_g' e^{C_gg' - C_gg - s_g(1-1/K_g)})
    s.t. ||Z_M||_* + sum_g (K_g - 1) s_g <= T = K sqrt(E_H E_W),     C_gg' = Z_M[g,g'] / sqrt(K_g K_g'),

and the optimal ``X`` is recovered as ``X_M = [[a A A^T, A B^T], [B A^T, B B^T / a]]``,
``S_g = s_g [[a, 1], [1, 1/a]]`` with ``Z_M = A B^T`` balanced (``A^T A = B^T B``) and
``a = sqrt(E_H / E_W)``, which saturates both budgets.

Modules: :mod:`.profile` (class groups, regimes and their names), :mod:`.kkt` (the reduced KKT system
of a regime, its Jacobian, Newton, the float64 / mpmath arithmetic they share, and the full ``X`` rebuilt
from the reduced variables), :mod:`.certificate` (margins, dual blocks, certificate),
:mod:`.continuation` (one warm-started solve with regime switching, cvxpy on the reduced program as a
last resort, the homotopy from the balanced closed form, mpmath refinement), :mod:`.solution`
(:func:`solve_symmetric`, summaries).  The package exports the interface: the class profile and its
regimes, the float64 and certified solves, and a solution's summary; the pieces of the solver are imported
from their modules.
"""
from lpm_verify.solvers.symmetric.continuation import solve_float
from lpm_verify.solvers.symmetric.profile import GROUP_NAMES, Profile, Regime, parse_regime, regime_name
from lpm_verify.solvers.symmetric.solution import solve_symmetric, summary_from_point

__all__ = ["GROUP_NAMES", "Profile", "Regime", "parse_regime", "regime_name", "solve_float", "solve_symmetric",
           "summary_from_point"]
