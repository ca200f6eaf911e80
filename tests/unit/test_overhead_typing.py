"""Typing never makes a request wait (``specloop.lsp.documents``): lines moved through the
edits ``didChange`` sent, and answers given while the parse of the new text has not run."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

from specloop.lsp import documents, offload
from specloop.lsp.documents import Documents, Edit, move_line

GEOMETRY = '''"""Geometry helpers."""


def area(w, h):
    """Area.

    >>> area(2, 3)
    6
    """


def perimeter(w, h):
    """Perimeter.

    >>> perimeter(2, 3)
    10
    """
'''


def change(l1: int, c1: int, l2: int, c2: int, text: str) -> SimpleNamespace:
    pos = lambda line, col: SimpleNamespace(line=line, character=col)  # noqa: E731
    return SimpleNamespace(range=SimpleNamespace(start=pos(l1, c1), end=pos(l2, c2)), text=text)


def apply(text: str, c: SimpleNamespace) -> str:
    lines = text.splitlines(True)
    offset = lambda p: sum(len(x) for x in lines[: p.line]) + p.character  # noqa: E731
    return text[: offset(c.range.start)] + c.text + text[offset(c.range.end):]


def test_lines_move_through_edits() -> None:
    above = Edit.of(2, change(3, 0, 3, 0, "# typed\n"))           # a line typed above line 3
    assert not above.large
    assert [move_line(n, [above], "anchor") for n in (0, 2, 3, 9)] == [0, 2, 4, 10]
    enter = Edit.of(3, change(4, 10, 4, 10, "\n    "))              # Enter in the middle of line 4
    assert not enter.large
    assert move_line(4, [enter], "anchor") is None                  # that line was edited
    assert (move_line(4, [enter], "start"), move_line(4, [enter], "end")) == (4, 5)
    assert move_line(7, [above, enter], "anchor") == 9
    key = Edit.of(4, change(5, 3, 5, 3, "x"))                       # a keystroke
    assert move_line(5, [key], "anchor") is None and move_line(6, [key], "anchor") == 6
    gone = Edit.of(5, change(2, 0, 5, 0, ""))                       # lines 2-4 deleted
    assert gone.large
    assert [move_line(n, [gone], "anchor") for n in (1, 3, 5, 8)] == [1, None, 2, 5]
    assert Edit.of(6, SimpleNamespace(text="whole")) is None        # the whole text: no lines to move


def test_a_request_is_answered_while_the_parse_is_held(monkeypatch) -> None:
    release = threading.Event()
    parsed_texts: list[str] = []

    def held_parse(fn, text):
        if parsed_texts:               # the first parse (didOpen) runs at once
            release.wait(10)
        parsed_texts.append(text)
        return fn(text)
    monkeypatch.setattr(offload, "parse_call", held_parse)
    doc = SimpleNamespace(text=GEOMETRY, version=1)
    calls: list[bool] = []

    async def main() -> None:
        docs = Documents(lambda uri: (doc.text, doc.version), lambda uri, parsed, changed: calls.append(changed))
        docs.opened("u", 1)
        first = await docs.known("u", doc.text, 1)
        assert [(t.qualname, t.def_range.start.line) for t in first.targets] == [("area", 3), ("perimeter", 11)]
        # two lines typed above area, then "s" typed after perimeter's name
        for n, c in enumerate([change(2, 0, 2, 0, "# a\n"), change(3, 0, 3, 0, "# b\n"),
                               change(13, 13, 13, 13, "s")], start=2):
            doc.text, doc.version = apply(doc.text, c), n
            docs.changed("u", n, [c])
        known = await asyncio.wait_for(docs.known("u", doc.text, doc.version), 1.0)   # no parse ran
        assert known.parsed_version == 1 and known.version == 4
        assert [(t.qualname, t.def_range.start.line) for t in known.targets] == [("area", 5)]  # perimeter: left out
        assert doc.text.splitlines()[5].startswith("def area")
        release.set()
        for _ in range(200):
            if calls[-1:] == [True]:
                break
            await asyncio.sleep(0.01)
        known = await docs.known("u", doc.text, doc.version)
        assert [(t.qualname, t.def_range.start.line) for t in known.targets] == [("area", 5), ("perimeters", 13)]
        assert calls == [False, True]        # the second parse changed what the lenses show
        docs.closed("u")

    asyncio.run(main())
    assert len(parsed_texts) == 2            # one parse for three changes (debounced)
    assert documents.DEBOUNCE < documents.MAX_DELAY
