"""LaTeX to inline SVG, offline, with matplotlib's mathtext (the errata's printed and corrected forms).

mathtext typesets a subset of LaTeX (no ``\\stackrel``, ``\\tfrac``, environments); a formula outside
it raises :class:`~lpm_verify.errors.LPMInputError` naming the formula.  Glyphs are written as paths,
so the SVG needs no font and no network.  The output is deterministic (fixed hash salt, no date), and
a :class:`~lpm_verify.report.cache.Cache` keeps each formula's SVG keyed by its LaTeX, size and the
matplotlib version.
"""
from __future__ import annotations

import hashlib
import html
import io
import re

from lpm_verify.errors import LPMInputError
from lpm_verify.report.cache import Cache

#: Font size of typeset formulas in points (the report body text is 16 px = 12 pt).
FONT_SIZE = 12.0
_KIND = "math"


def _typeset(tex: str, size: float) -> str:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import mathtext, rc_context
    from matplotlib.font_manager import FontProperties

    buf = io.BytesIO()
    with rc_context({"svg.fonttype": "path", "svg.hashsalt": "lpm-verify", "mathtext.fontset": "dejavusans"}):
        try:
            mathtext.math_to_image(f"${tex}$", buf, prop=FontProperties(size=size), format="svg")
        except ValueError as exc:  # mathtext's parse errors
            first = str(exc).strip().splitlines()
            raise LPMInputError(f"LaTeX {tex!r} is outside matplotlib's mathtext subset: "
                                f"{first[-1] if first else type(exc).__name__}") from None
    svg = buf.getvalue().decode("utf-8")
    svg = svg[svg.index("<svg"):]                                   # drop the XML prolog and doctype
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)  # creator and date: not deterministic
    svg = re.sub(r"<defs>\s*<style.*?</style>\s*</defs>\s*", "", svg, flags=re.S)  # a page-wide * rule
    svg = re.sub(r'<g id="patch_1">.*?</g>\s*', "", svg, flags=re.S)   # the white background: transparent inline
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)                # the LaTeX again, as a comment
    svg = re.sub(r' id="(figure|text)_\d+"', "", svg)                   # ids repeated by every formula
    svg = svg.replace("<svg ", f'<svg class="math" role="img" aria-label="{html.escape(tex, quote=True)}" ', 1)
    return svg.strip()


def tex_to_svg(tex: str, cache: Cache | None = None, size: float = FONT_SIZE) -> str:
    """Inline ``<svg>`` element typesetting ``tex`` (without ``$``); raises LPMInputError outside mathtext."""
    if not tex.strip():
        raise LPMInputError("LaTeX formula must be non-empty; got ''")
    if cache is None:
        return _typeset(tex, size)
    from matplotlib import __version__ as mpl_version
    key = hashlib.sha256(f"{mpl_version}\0{size}\0{tex}".encode()).hexdigest()
    svg = cache.get(_KIND, key)
    if svg is None:
        svg = _typeset(tex, size)
        cache.put(_KIND, key, svg)
    return svg
