"""The server's text helpers on their own: positions in each encoding, line
mapping across edits, line diffs, and finding functions that are no stubs."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from specloop.source.edits import apply_edits
from specloop.source.locate import find_function, restub, without_docstring
from specloop.lsp.positions import from_lsp_pos, map_lines, split_lines, to_lsp_pos
from specloop.lsp.textedits import diff_edits
from specloop.source.spec import Pos, find_target

LINE = "x = '📐é'  # end"


def test_positions_round_trip_in_every_encoding():
    lines = split_lines(LINE + "\n")
    col = LINE.index("#")
    expected = {"utf-16": col + 1, "utf-8": col + 3 + 1, "utf-32": col}   # 📐: 2 / 4 / 1 units, é: 1 / 2 / 1
    for encoding, units in expected.items():
        codec = PositionCodec(encoding)
        assert to_lsp_pos(lines, Pos(0, col), codec) == types.Position(line=0, character=units)
        assert from_lsp_pos(lines, types.Position(line=0, character=units), codec) == Pos(0, col)
    # a position past the end of the text is clamped to it
    assert from_lsp_pos(lines, types.Position(line=9, character=0), PositionCodec("utf-16")) == Pos(1, 0)


def test_split_lines_knows_only_lsp_line_breaks():
    assert split_lines("a\r\nb\rc\u2028d\n") == ["a\r\n", "b\r", "c\u2028d\n", ""]


def test_map_lines_shifts_below_an_edit_and_drops_replaced_lines():
    old = "a\nb\nc\nd\n"
    assert map_lines(old, "new\na\nb\nc\nd\n") == {0: 1, 1: 2, 2: 3, 3: 4, 4: 5}
    assert map_lines(old, "a\nB\nc\nd\n")[1] == 1                 # edited in place: stays
    moved = map_lines(old, "a\nx\ny\nd\n")
    assert moved[0] == 0 and moved[3] == 3
    assert map_lines(old, "a\nd\n")[1] is None and map_lines(old, "a\nd\n")[3] == 1


def test_diff_edits_turn_one_text_into_the_other():
    old = "def f():\n    '''doc'''\n    return 1\n\nz = 2"
    new = "import os\ndef f():\n    '''doc'''\n    return os.sep\n\nz = 2"
    codec = PositionCodec("utf-16")
    edits = diff_edits(old, new, codec)
    lines = split_lines(old)

    class Edit:
        def __init__(self, e: types.TextEdit) -> None:
            self.range = type("R", (), {"start": from_lsp_pos(lines, e.range.start, codec),
                                        "end": from_lsp_pos(lines, e.range.end, codec)})()
            self.new_text = e.new_text
    assert apply_edits(old, [Edit(e) for e in edits]) == new


IMPLEMENTED = '''\
class Shape:
    @property
    def area(self) -> float:
        """Area.

        >>> 1
        1
        """
        # computed
        return 1.0

    def name(self):
        return "s"
'''

# the stub as the user wrote it, before the job: its body is `...`
STUB = '''\
class Shape:
    @property
    def area(self) -> float:
        """Area.

        >>> 1
        1
        """
        ...

    def name(self):
        return "s"
'''


def test_restub_gives_back_the_stub_with_the_same_fingerprint():
    info = find_function(IMPLEMENTED, "Shape.area")
    assert (info.first, info.def_line, info.doc_end, info.body_start, info.end) == (1, 2, 7, 9, 9)
    stub = restub(IMPLEMENTED, "Shape.area")
    assert stub == STUB.replace("        ...\n", "")            # the docstring is the whole body
    restubbed, written = find_target(stub, "Shape.area"), find_target(STUB, "Shape.area")
    assert restubbed is not None and written is not None
    assert restubbed.fingerprint == written.fingerprint     # a result kept for the user's stub still matches
    # no docstring: the body becomes ...
    assert restub(IMPLEMENTED, "Shape.name") == IMPLEMENTED.replace('        return "s"\n', "        ...\n")
    assert find_function("def broken(:\n", "broken") is None


def test_without_docstring_keeps_the_body():
    code = 'def f(x):\n    """Old spec."""\n    return x\n'
    assert without_docstring(code) == "def f(x):\n    return x\n"
    assert without_docstring("def f(x):\n    return x\n") is None


def test_kept_tests_are_merged_without_repeats():
    from specloop.source.placement import merged_tests

    old = "from geo import area\n\n\ndef test_zero():\n    assert area(0, 1) == 0\n"
    same = "from geo import area\n\n\ndef test_zero():\n    assert area(0, 2) == 0\n"
    assert merged_tests(old, same) is None                      # a Fix keeps the same test again
    more = same + "\n\n@mark\ndef test_one():\n    assert area(1, 1) == 1\n"
    assert merged_tests(old, more) == old + "\n\n@mark\ndef test_one():\n    assert area(1, 1) == 1\n"
    assert merged_tests("", same) == same
    assert merged_tests(old, "import math\n") == old + "\n\nimport math\n"
