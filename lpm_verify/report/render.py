"""Render one :class:`~lpm_verify.report.document.Document` as Markdown and as self-contained HTML.

Both renderers walk the same section model; every piece of text is escaped for its format here and
nowhere else (a formula with ``|``, ``*`` or ``<`` prints as written in both).  The HTML carries its
CSS inline and refers to its figures as PNG files beside it.
"""
from __future__ import annotations

import html
import re
from urllib.parse import quote

from lpm_verify.report.document import (Badge, Block, Cell, Code, CodeBlock, Document, Figure,
                                        Heading, Inline, Math, Note, Paragraph, Table)

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|&~])")
#: A list marker where a piece of text starts (``- x``, ``+ x``, ``1. x``): escaped, so it stays text.
_MD_LIST_START = re.compile(r"^([ \t]*)([-+]|\d{1,9}[.)])(?=[ \t]|$)")


# -- Markdown ---------------------------------------------------------------------------------
def _md_text(text: str) -> str:
    """Plain text as Markdown that renders as the text itself: every character that could start inline
    markup (emphasis, code, links, images, raw HTML, entities, table cells) backslash-escaped, a leading
    list marker escaped, and each line break a space, so that text from data cannot start a block
    (heading, list, quote, table row) or end the one it is in."""
    text = " ".join(str(text).splitlines())
    return _MD_LIST_START.sub(_escape_list_marker, _MD_SPECIAL.sub(r"\\\1", text))


def _escape_list_marker(match: re.Match) -> str:
    indent, marker = match.groups()
    return indent + marker[:-1] + "\\" + marker[-1]


def _md_url(filename: str) -> str:
    """A relative file name as a Markdown link destination (percent-encoded: no space, paren or bracket)."""
    return quote(filename, safe="/._-~")


def _md_code(text: str) -> str:
    text = text.replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_inline(part: Inline, in_table: bool) -> str:
    if isinstance(part, Code):
        out = _md_code(part.text)
        return out.replace("|", r"\|") if in_table else out
    if isinstance(part, Badge):
        return f"**{_md_text(part.label or part.verdict)}**"
    if isinstance(part, Math):  # the LaTeX source, as Markdown math
        tex = " ".join(part.tex.split())
        return f"${tex}$".replace("|", r"\|") if in_table else f"${tex}$"
    return _md_text(part)


def _md_cell(cell: Cell) -> str:
    parts = cell if isinstance(cell, tuple) else (cell,)
    return "".join(_md_inline(p, in_table=True) for p in parts) or " "


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"### {_md_inline(block.text, False)}"
    if isinstance(block, Paragraph):
        return "".join(_md_inline(p, False) for p in block.parts)
    if isinstance(block, Note):
        return "> **Note.** " + "".join(_md_inline(p, False) for p in block.parts)
    if isinstance(block, Table):
        lines = ["| " + " | ".join(_md_cell(h) for h in block.header) + " |",
                 "|" + "|".join("---" for _ in block.header) + "|"]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        if block.caption:
            lines.append("")
            lines.append("*" + _md_inline(block.caption, False) + "*")
        return "\n".join(lines)
    if isinstance(block, Figure):
        return f"![{_md_text(block.caption)}]({_md_url(block.filename)})\n\n*{_md_text(block.caption)}*"
    if isinstance(block, CodeBlock):
        longest = max((len(m) for m in re.findall(r"`+", block.text)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}\n{block.text}\n{fence}"
    raise TypeError(f"unknown block {type(block).__name__}")


def to_markdown(doc: Document) -> str:
    out = [f"# {_md_inline(doc.title, False)}", "", _md_inline(doc.subtitle, False), "", "Contents:", ""]
    out += [f"- [{_md_inline(s.title, False)}](#{s.anchor})" for s in doc.sections]
    for section in doc.sections:
        out += ["", f'<a id="{section.anchor}"></a>', "", f"## {_md_inline(section.title, False)}"]
        for block in section.blocks:
            out += ["", _md_block(block)]
    return "\n".join(out) + "\n"


# -- HTML -------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0 auto;
 max-width:1200px;padding:1.5rem 2rem;color:#1d2329;line-height:1.45;background:#fff}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{border-bottom:2px solid #d8dee4;padding-bottom:.25rem;
 margin-top:2.2rem}h3{margin-top:1.6rem}.subtitle{color:#57606a;margin-top:0}
nav ol{columns:2;padding-left:1.2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.86rem;width:auto;max-width:100%}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f7}tr:nth-child(even) td{background:#fafbfc}
table+.caption{color:#57606a;font-size:.82rem;margin-top:-.6rem;max-width:900px}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.82rem}
code{background:#f2f4f6;padding:0 .2rem;border-radius:3px;word-break:break-word}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.6rem;overflow-x:auto}
.note{border-left:4px solid #d4a72c;background:#fff8e5;padding:.45rem .8rem;margin:.8rem 0}
figure{margin:1rem 0}figure img{max-width:min(100%,1100px);height:auto;border:1px solid #e1e4e8}
figcaption{color:#57606a;font-size:.86rem;max-width:900px}
.badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-weight:600;font-size:.8rem;
 white-space:nowrap}
.v-pass{background:#dafbe1;color:#116329}.v-fail{background:#ffebe9;color:#a40e26}
.v-erratum{background:#fff1c2;color:#7d4e00}.v-skipped,.v-no-check-yet{background:#eaeef2;color:#424a53}
.v-holds,.v-exact{background:#dafbe1;color:#116329}.v-fails{background:#ffebe9;color:#a40e26}
.v-misprints{background:#fff1c2;color:#7d4e00}.v-not-reproduced{background:#fde2cf;color:#8a3c00}
.v-not-checked,.v-n-a,.v-not-run{background:#eaeef2;color:#424a53}
.v-inconclusive,.v-inconclusive-not-in-regime{background:#ddf4ff;color:#0a3069}
.v-confirmed{background:#fff1c2;color:#7d4e00}.v-possible-transcription-artifact{background:#ddf4ff;color:#0a3069}
svg.math{vertical-align:middle;max-width:100%;height:auto}
"""


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _html_inline(part: Inline) -> str:
    if isinstance(part, Code):
        return f"<code>{_esc(part.text)}</code>"
    if isinstance(part, Badge):
        css = "v-" + re.sub(r"[^a-z]+", "-", part.verdict.lower()).strip("-")
        return f'<span class="badge {css}">{_esc(part.label or part.verdict)}</span>'
    if isinstance(part, Math):  # typeset SVG made by mathsvg from our own table; the LaTeX otherwise
        return part.svg if part.svg else f'<code class="tex">{_esc(part.tex)}</code>'
    return _esc(part)


def _html_cell(cell: Cell) -> str:
    parts = cell if isinstance(cell, tuple) else (cell,)
    return "".join(_html_inline(p) for p in parts)


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h3>{_esc(block.text)}</h3>"
    if isinstance(block, Paragraph):
        return "<p>" + "".join(_html_inline(p) for p in block.parts) + "</p>"
    if isinstance(block, Note):
        return '<div class="note"><strong>Note.</strong> ' + "".join(_html_inline(p) for p in block.parts) + "</div>"
    if isinstance(block, Table):
        head = "".join(f"<th>{_esc(h)}</th>" for h in block.header)
        body = "".join("<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in row) + "</tr>" for row in block.rows)
        caption = f'<p class="caption">{_esc(block.caption)}</p>' if block.caption else ""
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{caption}"
    if isinstance(block, Figure):
        return (f'<figure><img src="{_esc(block.filename)}" alt="{_esc(block.caption)}" loading="eager">'
                f"<figcaption>{_esc(block.caption)}</figcaption></figure>")
    if isinstance(block, CodeBlock):
        return f"<pre>{_esc(block.text)}</pre>"
    raise TypeError(f"unknown block {type(block).__name__}")


def to_html(doc: Document) -> str:
    nav = "".join(f'<li><a href="#{_esc(s.anchor)}">{_esc(s.title)}</a></li>' for s in doc.sections)
    body = []
    for section in doc.sections:
        body.append(f'<section id="{_esc(section.anchor)}"><h2>{_esc(section.title)}</h2>')
        body += [_html_block(b) for b in section.blocks]
        body.append("</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{_esc(doc.title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{_esc(doc.title)}</h1>"
            f"<p class=\"subtitle\">{_esc(doc.subtitle)}</p><nav><ol>{nav}</ol></nav>\n"
            + "\n".join(body) + "\n</body></html>\n")
