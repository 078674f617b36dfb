"""Origins of the penalized-model checks: the published results they test (``origin="literature"`` with the
citation and exactly what of the paper could be read) and where the suite looked before calling a finding its
own (``origin="beyond"``).

What was read (public pages found with the suite's search tool, which returns a page's opening only): for
Hong & Ling the abstract (contributions (a)-(d)) and summary pages; for Thrampoulidis et al. the abstract and
the opening of the NeurIPS text; for Dang et al. (2301.00437) the abstract and the opening of the introduction;
for Dang et al. (2401.02058) the abstract.  No theorem statement of these papers could be read; the statements
checked are written out in each citation in this suite's notation.
"""
from __future__ import annotations

#: Where the suite looked before calling a finding its own.
LOOKED = ("not stated in what we could read (abstracts and openings, no theorem statements) of Hong & Ling (arXiv "
          "2309.09725), Thrampoulidis et al. (arXiv 2208.05512) and Dang et al. (arXiv 2301.00437, 2401.02058)")
BEYOND = dict(origin="beyond")

#: The published minority-collapse threshold of the penalized cross-entropy model.
HONG_LING = dict(origin="literature", citation=(
    "W. Hong, S. Ling, 'Neural collapse for unconstrained feature model under cross-entropy loss with imbalanced "
    "data', arXiv 2309.09725 (JMLR 2024): the sharp minority-collapse threshold (abstract, contribution (c)) and "
    "within-class collapse ((a)); only the abstract could be read, not the theorem, so the statement checked is "
    "the threshold n_B <= N^2 lambda_W lambda_H with the feature penalty on the sum (lambda_H/2) sum ||h_i||^2 and "
    "a penalized bias, i.e. n_B/N <= lambda_W lambda_H in this suite's mean form (lambda_H(mean) = N lambda_H(sum))"))

#: The SELI geometry of the vanishing-regularization limit.
THRAMPOULIDIS = dict(origin="literature", citation=(
    "C. Thrampoulidis, G. R. Kini, V. Vakilian, T. Behnia, 'Imbalance Trouble: Revisiting Neural-Collapse "
    "Geometry', arXiv 2208.05512 (NeurIPS 2022): with cross-entropy and vanishing regularization the "
    "unconstrained-features model interpolates the simplex-encoded label matrix (I - 11^T/K) Y whatever the class "
    "sizes (abstract; only the abstract and the opening of the text could be read, not the definition or theorem "
    "themselves)"))

#: The mean-squared-error counterpart: per-class zero classifiers.
DANG = dict(origin="literature", citation=(
    "H. Dang, T. Tran, S. Osher, H. Tran-The, N. Ho, T. Nguyen, 'Neural Collapse in Deep Linear Networks: From "
    "Balanced to Imbalanced Data', arXiv 2301.00437 (ICML 2023): the imbalanced bias-free MSE geometry, orthogonal "
    "class vectors with lengths set by the class sizes (abstract); the statement checked, class k's classifier is "
    "zero iff n_k <= N^2 lambda_W lambda_H for (1/(2N))||WH - Y||^2 + (lambda_W/2)||W||^2 + (lambda_H/2)||H||^2, "
    "is derived here; only the abstract and the opening of the introduction could be read, not the theorem"))
