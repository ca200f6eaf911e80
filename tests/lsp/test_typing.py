"""Typing never makes a request wait, and the answers stay right (``specloop.lsp.documents``).

A code action or lens asked for right after a keystroke is answered from the last parse, its
targets moved through the edits since: the lines are those of the text the editor holds.  A
function whose header the user is typing in is left out until its text is parsed again
(never offered under its old name); a paste is parsed before the next answer; a text that
does not parse keeps the last targets that did, moved with the edits; and a parse that
changes what the lenses show asks the client to fetch them again."""

from __future__ import annotations

import asyncio

import pytest

from sources import GEOMETRY

pytestmark = [pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")]

VOLUME = 'def volume(w, h, d):\n    """Volume of a box.\n\n    >>> volume(1, 2, 3)\n    6\n    """\n\n\n'


def insert(editor, uri: str, before: str, text: str, after: bool = False) -> None:
    """Type ``text`` just before (or after) the first occurrence of ``before``: one change."""
    doc = editor.docs[uri].text
    at = doc.index(before) + (len(before) if after else 0)
    editor._change(uri, [(at, at, text)])


def line_of(editor, uri: str, needle: str) -> int:
    return editor.range_of(uri, needle).start.line


def expected(editor, uri: str, *names: str) -> list[tuple[int, str]]:
    return [(line_of(editor, uri, f"def {name}("), f"Implement {name} from spec") for name in names]


async def settles(editor, uri: str, want: list[tuple[int, str]], timeout: float = 10.0) -> None:
    """Ask for the lenses until they are ``want`` (the parse after the last change is done)."""
    for _ in range(int(timeout / 0.05)):
        if await editor.lenses(uri) == want:
            return
        await asyncio.sleep(0.05)
    assert await editor.lenses(uri) == want


async def test_lenses_and_actions_follow_edits_at_once(editor):
    uri = editor.open("typing_moved.py", GEOMETRY)
    assert await editor.lenses(uri) == expected(editor, uri, "area", "perimeter") == [
        (3, "Implement area from spec"), (11, "Implement perimeter from spec")]
    # a line typed above both stubs, a line break typed inside area's docstring, a word typed
    # in perimeter's: each request goes out right after the change, before any parse is due
    insert(editor, uri, "def area", "# typed\n")
    assert await editor.lenses(uri) == expected(editor, uri, "area", "perimeter")
    insert(editor, uri, "rectangle.\n\n    >>> area", " Sides", after=False)
    insert(editor, uri, "Area of a w×h", "\n    ", after=True)
    actions = await editor.actions(uri, editor.range_of(uri, "def perimeter"))
    assert [a.title for a in actions][0] == "Implement perimeter from spec"
    assert await editor.lenses(uri) == expected(editor, uri, "area", "perimeter")
    assert [a.title for a in await editor.actions(uri, editor.range_of(uri, "# typed"))] == []
    on_area = await editor.actions(uri, editor.range_of(uri, ">>> area(2, 3)"))
    assert [a.title for a in on_area][0] == "Implement area from spec"
    # many keystrokes in a row, requests between them
    for i in range(12):
        insert(editor, uri, '"""Geometry helpers."""', "\n" if i % 4 == 0 else "x", after=True)
        assert await editor.lenses(uri) == expected(editor, uri, "area", "perimeter")
    await asyncio.sleep(0.8)     # parsed by now: the same answer
    assert await editor.lenses(uri) == expected(editor, uri, "area", "perimeter")


async def test_a_function_renamed_is_never_offered_under_its_old_name(editor):
    uri = editor.open("typing_renamed.py", GEOMETRY)
    assert [title for _, title in await editor.lenses(uri)] == [
        "Implement area from spec", "Implement perimeter from spec"]
    insert(editor, uri, "def area", "s", after=True)            # def areas(...)
    right_away = await editor.lenses(uri)
    # answered before the new text was parsed (area left out) or after it (areas)
    assert right_away in (expected(editor, uri, "perimeter"), expected(editor, uri, "areas", "perimeter"))
    await settles(editor, uri, expected(editor, uri, "areas", "perimeter"))
    titles = [a.title for a in await editor.actions(uri, editor.range_of(uri, "def areas"))]
    assert titles[0] == "Implement areas from spec"


async def test_a_parse_that_changes_the_lenses_asks_for_a_refresh(editor):
    if editor.persona != "visual-studio-code":     # the only persona with codeLens refreshSupport
        pytest.skip("no codeLens refresh support")
    uri = editor.open("typing_refresh.py", GEOMETRY)
    await editor.lenses(uri)
    before = editor.lens_refreshes
    insert(editor, uri, "def perimeter", "2", after=True)
    await editor.until("a code lens refresh", lambda: editor.lens_refreshes > before)
    await editor.until("the lenses re-fetched", lambda: editor.refreshed_lenses.get(uri) == expected(
        editor, uri, "area", "perimeter2"))


async def test_a_pasted_stub_is_offered_at_once(editor):
    uri = editor.open("typing_paste.py", GEOMETRY)
    await editor.lenses(uri)
    insert(editor, uri, "def area", VOLUME)                     # several lines: not a keystroke
    actions = await editor.actions(uri, editor.range_of(uri, "def volume"))
    assert [a.title for a in actions] == ["Implement volume from spec", "Implement all 3 specs in this file"]
    assert await editor.lenses(uri) == expected(editor, uri, "volume", "area", "perimeter")
    # deleting it again (a block): gone at once, the others back on their lines
    text = editor.docs[uri].text
    start = text.index(VOLUME)
    editor._change(uri, [(start, start + len(VOLUME), "")])
    assert await editor.lenses(uri) == expected(editor, uri, "area", "perimeter")


async def test_a_text_that_does_not_parse_keeps_the_last_targets(editor):
    uri = editor.open("typing_broken.py", GEOMETRY)
    await editor.lenses(uri)
    insert(editor, uri, "return x + 1", " (", after=True)        # does not parse any more
    await asyncio.sleep(0.6)                                      # parsed: an error
    assert await editor.lenses(uri) == expected(editor, uri, "area", "perimeter")
    insert(editor, uri, "def area", "# typed\n")                  # still moves with the text
    assert await editor.lenses(uri) == expected(editor, uri, "area", "perimeter")
    await asyncio.sleep(0.6)
    assert await editor.lenses(uri) == expected(editor, uri, "area", "perimeter")
    on_area = await editor.actions(uri, editor.range_of(uri, "def area"))
    assert [a.title for a in on_area][0] == "Implement area from spec"
    insert(editor, uri, "return x + 1 (", ")", after=True)      # parses again
    await asyncio.sleep(0.6)
    assert await editor.lenses(uri) == expected(editor, uri, "area", "perimeter")
