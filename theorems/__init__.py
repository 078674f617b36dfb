"""One module per numbered result of the paper; importing a module registers its checks.

Each module (1) derives the closed form in sympy and compares it with the paper as printed,
(2) evaluates every step of the proof on random feasible points, and (3) checks the statement
against independent numeric solves.  ``pytest theorems/`` runs every registered check.
"""
