"""Hypothesis profiles for the tests: ``default`` (every run) and ``slow`` (ten times the examples),
selected with ``pytest --hypothesis-profile slow`` (``.ci/run`` does for the CLI fuzz).

Both run without a deadline (a solve's time varies with the machine's load, which says nothing about its
correctness), without an example database (runs are reproducible from the seed printed on failure and
leave no files), and without health checks (the fuzz strategies filter heavily on purpose: most generated
argument lists are bad input).  A test that sets ``max_examples`` itself keeps it.
"""
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, database=None, suppress_health_check=list(HealthCheck),
                          max_examples=100)
settings.register_profile("slow", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile("default")
