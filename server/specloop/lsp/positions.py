"""Positions between the engine (0-based line, column in Python ``str``
characters) and the client (0-based line, column in the negotiated position
encoding: UTF-16 unless the client offered UTF-8 or UTF-32 first).

pygls picks the encoding at ``initialize`` and every synced document carries
the matching codec; all conversions go through the helpers here so the rest of
the server never counts code units itself.  The module also maps line numbers
from an older text to a newer one, which keeps published diagnostics on the
lines they name while the user types.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from ..source.locate import split_lines
from ..source.spec import Pos, Range


def to_lsp_pos(lines: Sequence[str], pos: Pos, codec: PositionCodec) -> types.Position:
    """Engine position -> client position (columns past the line end are clamped)."""
    line = min(max(pos.line, 0), max(len(lines) - 1, 0))
    if line != pos.line:
        # a position past the last line: the end of the text
        text = lines[line].rstrip("\r\n") if lines else ""
        return types.Position(line=line, character=codec.client_num_units(text))
    text = lines[line].rstrip("\r\n") if lines else ""
    return types.Position(line=line, character=codec.client_num_units(text[: max(pos.col, 0)]))


def to_lsp_range(lines: Sequence[str], rng: Range, codec: PositionCodec) -> types.Range:
    return types.Range(start=to_lsp_pos(lines, rng.start, codec), end=to_lsp_pos(lines, rng.end, codec))


def from_lsp_pos(lines: Sequence[str], pos: types.Position, codec: PositionCodec) -> Pos:
    """Client position -> engine position (lines and columns past the end are clamped;
    a column inside a surrogate pair or a UTF-8 sequence rounds up to the next character)."""
    if not lines:
        return Pos(0, 0)
    if pos.line >= len(lines):
        last = len(lines) - 1
        return Pos(last, len(lines[last].rstrip("\r\n")))
    text = lines[max(pos.line, 0)].rstrip("\r\n")
    units = 0
    for index, char in enumerate(text):
        if units >= pos.character:
            return Pos(pos.line, index)
        units += codec.impl.code_units_for_char(char)
    return Pos(pos.line, len(text))


def from_lsp_range(lines: Sequence[str], rng: types.Range, codec: PositionCodec) -> Range:
    return Range(from_lsp_pos(lines, rng.start, codec), from_lsp_pos(lines, rng.end, codec))


def line_range(lines: Sequence[str], line: int, codec: PositionCodec) -> types.Range:
    """The non-blank text of one line (the whole line when it is blank)."""
    line = min(max(line, 0), max(len(lines) - 1, 0))
    text = lines[line].rstrip("\r\n") if lines else ""
    stripped = text.lstrip()
    start = len(text) - len(stripped) if stripped else 0
    end = len(text.rstrip()) if stripped else len(text)
    return to_lsp_range(lines, Range(Pos(line, start), Pos(line, end)), codec)


def map_lines(old: str, new: str) -> dict[int, int | None]:
    """For each line of ``old``, its line in ``new`` (``None``: the line was
    replaced by a different number of lines, so it has no place any more).

    Lines above the first change and below the last stay (shifted by the
    line delta); inside the changed block a line edited in place keeps its
    number, and a block of different size is matched line by line with
    difflib, which is cheap because only the changed middle is compared."""
    a, b = split_lines(old), split_lines(new)
    prefix = 0
    limit = min(len(a), len(b))
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and a[len(a) - 1 - suffix] == b[len(b) - 1 - suffix]:
        suffix += 1
    mapping: dict[int, int | None] = {i: i for i in range(prefix)}
    delta = len(b) - len(a)
    for i in range(len(a) - suffix, len(a)):
        mapping[i] = i + delta
    mid_a = a[prefix: len(a) - suffix]
    mid_b = b[prefix: len(b) - suffix]
    if len(mid_a) == len(mid_b):
        for k in range(len(mid_a)):
            mapping[prefix + k] = prefix + k
        return mapping
    for k in range(len(mid_a)):
        mapping[prefix + k] = None
    matcher = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for k in range(i2 - i1):
                mapping[prefix + i1 + k] = prefix + j1 + k
    return mapping


__all__ = [
    "PositionCodec", "from_lsp_pos", "from_lsp_range", "line_range", "map_lines", "split_lines", "to_lsp_pos",
    "to_lsp_range",
]
