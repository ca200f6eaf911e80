"""Engine edits -> LSP edits.

The engine's edits (``specloop.source.edits.TextEdit``: a ``spec.Range`` in Python
characters and the new text) refer to the document as the server saw it when
it asked for them.  The server converts them to the client's position encoding
with that same text.  ``diff_edits`` makes line edits between two texts.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from lsprotocol import types

from ..source.spec import Pos, Range
from .positions import PositionCodec, split_lines, to_lsp_range


def parts(edit: Any) -> tuple[Range, str]:
    """(range, new text) of an engine edit."""
    return edit.range, edit.new_text


def to_lsp(text: str, edits: Iterable[Any], codec: PositionCodec) -> list[types.TextEdit]:
    lines = split_lines(text)
    return [types.TextEdit(range=to_lsp_range(lines, rng, codec), new_text=new)
            for rng, new in map(parts, edits)]


def diff_edits(old: str, new: str, codec: PositionCodec) -> list[types.TextEdit]:
    """Line-level edits turning ``old`` into ``new`` (used when a result replaces an
    implemented function: only the lines that differ are touched)."""
    a, b = split_lines(old), split_lines(new)
    out: list[types.TextEdit] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        rng = Range(Pos(i1, 0), Pos(i2, 0)) if i2 < len(a) or i1 == i2 else Range(Pos(i1, 0), Pos(len(a), 0))
        if i2 >= len(a) and i2 > i1:
            rng = Range(Pos(i1, 0), Pos(len(a) - 1, len(a[-1])))
        out.append(types.TextEdit(range=to_lsp_range(a, rng, codec), new_text="".join(b[j1:j2])))
    return out
