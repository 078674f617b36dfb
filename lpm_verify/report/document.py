"""The section model shared by the Markdown and HTML renderers.

A report is a :class:`Document` of :class:`Section` s; a section is a list of blocks (paragraphs,
notes, tables, figures, code).  Text is plain text: each renderer escapes it for its format, so no
block carries markup of either format.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Code:
    """Inline code: a formula, a command or an identifier, shown verbatim."""

    text: str


@dataclass(frozen=True)
class Badge:
    """A verdict (pass / fail / erratum / skipped / holds / exact / ...), coloured in HTML by ``verdict``;
    ``label`` is the text shown when it differs from the verdict ("2 misprints")."""

    verdict: str
    label: str = ""


@dataclass(frozen=True)
class Math:
    """A formula: ``tex`` is LaTeX (kept as ``$tex$`` in Markdown); ``svg`` its typeset inline SVG for
    HTML (made by :mod:`lpm_verify.report.mathsvg`; empty: HTML shows the LaTeX as code)."""

    tex: str
    svg: str = ""


#: One piece of inline content; a cell or a paragraph is a sequence of them.
Inline = Union[str, Code, Badge, Math]
Cell = Union[Inline, tuple[Inline, ...]]


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[Inline, ...]


@dataclass(frozen=True)
class Note:
    """A highlighted paragraph: something the reader must not miss (an undefined value, a missing run)."""

    parts: tuple[Inline, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """A PNG beside the report (``filename`` relative to the report folder)."""

    filename: str
    caption: str


@dataclass(frozen=True)
class CodeBlock:
    text: str


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: str


Block = Union[Paragraph, Note, Table, Figure, CodeBlock, Heading]


@dataclass
class Section:
    """One top-level section; ``seconds`` is the wall time it took to build (Provenance lists it)."""

    anchor: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]


def para(*parts: Inline) -> Paragraph:
    return Paragraph(tuple(parts))


def note(*parts: Inline) -> Note:
    return Note(tuple(parts))


def table(header: list[str] | tuple[str, ...], rows: list[list[Cell]] | list[tuple[Cell, ...]],
          caption: str = "") -> Table:
    return Table(tuple(header), tuple(tuple(r) for r in rows), caption)


def rich(text: str) -> tuple[Inline, ...]:
    """Split ``text`` at backticks: the quoted pieces become :class:`Code`, the rest stays text."""
    pieces = text.split("`")
    if len(pieces) % 2 == 0:  # an unmatched backtick is kept as text
        return (text,)
    return tuple(Code(p) if i % 2 else p for i, p in enumerate(pieces) if p)
