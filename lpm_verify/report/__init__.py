"""The agreement report (``python -m lpm_verify report``).

gather.py (check records, run or cached) · cache.py (results keyed by their inputs) · lpm.py (LPM
sweeps and thresholds) · networks.py (the experiments store, training the cpu-report preset when
empty) · figures.py (matplotlib) · sections.py, lpm_section.py, network_section.py (the section
model) · document.py (that model) · render.py (Markdown and HTML) · build.py (all of it, in order: ``build_report``).

This file imports nothing, so that a cached sweep's key (the sources its code can run) does not
include every report module.
"""
