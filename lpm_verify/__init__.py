"""lpm-verify: a symbolic-numeric verification suite for the Layer-Peeled Model.

Fang, He, Long, Su, "Exploring Deep Neural Networks via Layer-Peeled Model: Minority Collapse
in Imbalanced Training", PNAS 118 (2021).  Equation numbers in docstrings refer to that paper.
"""
__version__ = "0.1.0"
