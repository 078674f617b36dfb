"""The agreement report (``python -m lpm_verify report``).

gather.py (check records, run or cached) · cache.py (results keyed by their inputs) · lpm.py (LPM
sweeps and thresholds) · networks.py (the experiments store, training the cpu-report preset when
empty) · figures.py (matplotlib) · sections.py, lpm_section.py, network_section.py (the section
model) · document.py (that model) · render.py (Markdown and HTML) · build.py (all of it, in order).
"""
from lpm_verify.report.build import ReportOptions, ReportResult, build_report

__all__ = ["ReportOptions", "ReportResult", "build_report"]
