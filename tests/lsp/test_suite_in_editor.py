"""The suite of class and module specs (``bench/suite/``) in the editor: each case's
``spec.py`` opened in the editor, its target implemented as a user does
it (the code action on the class's header or the ``# spec:`` block, its command executed),
the scripted model over HTTP answering every step correctly (the answers
``bench/target_suite.py`` reads from ``answer.py``: plan, each component, the critic
approving).  Once the job has ended:

1. exactly one ``workspace/applyEdit`` came for the job, touching only the case's document,
   and the document's text after it parses;
2. that text passes the case's hidden tests, never shown to the model (plain pytest in a
   subprocess on a fresh project, as the bench runs them);
3. one undo restores the stub: the inverse of that one edit, computed from the edit against
   the text it was applied to, turns the result back into ``spec.py`` exactly.

Every case runs in VS Code (the default persona), and a few in Neovim 0.11 too (plain
``changes``, UTF-8 positions).  One server per persona; each case opens its own file in its
workspace (the suite's file names differ)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types

from lsp_editor import Doc, offset_of, plain, position_of, start_editor

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import target_suite  # noqa: E402

pytestmark = [pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")]

CASES = target_suite.load_cases()
# every case in VS Code (documentChanges, UTF-16 positions); a few in Neovim 0.11 too (plain
# changes, UTF-8 positions): the cases with non-ASCII text (matrix, mod_slug_future), a class
# the plan fills from its docstring alone (graph), a module spec that is the whole file
SECOND = ["graph", "matrix", "mod_geometry_whole", "mod_slug_future"]
RUNS = [pytest.param("visual-studio-code", c, id=f"vscode-{c.name}") for c in CASES] + [
    pytest.param("neovim@v0.11", c, id=f"nvim-{c.name}") for c in CASES if c.name in SECOND]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(request, tmp_path_factory):
    client = await start_editor(request.param, tmp_path_factory.mktemp("ws"))
    yield client
    await client.shutdown_session()
    await client.stop()


# -- edits and their inverse (written here independently of the server) ------------------------

def text_edits(params: types.ApplyWorkspaceEditParams) -> dict[str, list[types.TextEdit]]:
    """The text edits of a workspace edit, per document uri (any other change fails the test)."""
    edit, per_doc = params.edit, {}
    for change in edit.document_changes or []:
        assert isinstance(change, types.TextDocumentEdit), f"not a text edit: {change!r}"
        per_doc.setdefault(change.text_document.uri, []).extend(change.edits)
    for uri, edits in (edit.changes or {}).items():
        per_doc.setdefault(uri, []).extend(edits)
    return per_doc


def spans(text: str, edits: list[types.TextEdit], encoding: str) -> list[tuple[int, int, str]]:
    """(start, end, new text) offsets into ``text``, in document order (edits at one position
    in the order they were sent, as LSP says); overlapping edits fail the test."""
    out = sorted(((offset_of(text, e.range.start, encoding), offset_of(text, e.range.end, encoding), i, e.new_text)
                  for i, e in enumerate(edits)))
    for (_, end, _, _), (start, _, _, _) in zip(out, out[1:]):
        assert end <= start, f"overlapping edits: {edits}"
    return [(a, b, new) for a, b, _, new in out]


def apply(text: str, edits: list[types.TextEdit], encoding: str) -> str:
    parts, at = [], 0
    for start, end, new in spans(text, edits, encoding):
        parts += [text[at:start], new]
        at = end
    return "".join(parts) + text[at:]


def inverse(before: str, edits: list[types.TextEdit], encoding: str) -> list[types.TextEdit]:
    """The edits that undo ``edits`` (made against ``before``), as positions in the text after."""
    after, undo, shift = apply(before, edits, encoding), [], 0
    for start, end, new in spans(before, edits, encoding):
        a, b = start + shift, start + shift + len(new)
        undo.append(types.TextEdit(range=types.Range(start=position_of(after, a, encoding),
                                                     end=position_of(after, b, encoding)),
                                   new_text=before[start:end]))
        shift += len(new) - (end - start)
    return undo


# -- the case as the user has it -------------------------------------------------------------

def open_exact(editor, name: str, text: str) -> str:
    """``editor.open`` without its dedent: the suite's file byte for byte."""
    path = editor.root / name
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    editor.docs[uri] = Doc(text, 1)
    editor.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=text)))
    return uri


def target_line(case: target_suite.Case) -> tuple[int, str]:
    """The line (0-based) a user puts the cursor on, and the action's title there."""
    lines = case.spec.split("\n")
    if case.kind == "class":
        pattern, title = rf"class {re.escape(case.target)}\b", f"Implement class {case.target} from spec"
    else:
        pattern, title = r"# spec:", "Implement module spec"
    return next(i for i, line in enumerate(lines) if re.match(pattern, line)), title


@pytest.mark.parametrize(("editor", "case"), RUNS, indirect=["editor"])
async def test_a_suite_case_lands_in_one_edit_that_passes_its_hidden_tests_and_undoes_whole(
        editor, scripted_model, case, tmp_path):
    scripted_model.respond(target_suite.responder(case))
    await editor.configure(api_base=scripted_model.url, critic=True)
    uri = open_exact(editor, case.module, case.spec)
    line, title = target_line(case)
    where = types.Range(start=types.Position(line=line, character=0), end=types.Position(line=line, character=0))
    actions = [a for a in await editor.actions(uri, where) if a.title == title]
    assert len(actions) == 1, f"no single {title!r} on line {line + 1}: {actions}"
    command = actions[0].command if isinstance(actions[0], types.CodeAction) else actions[0]

    before, mark = len(editor.apply_requests), editor.mark()
    answer = await editor.command(command.command, *command.arguments)
    assert answer["started"] is True, answer
    *_, end = await editor.job_end(f"specloop: {answer['target']}", mark, timeout=150)
    unanswered = [f"{r.step} {r.target}" for r in scripted_model.unmatched]
    assert not unanswered, f"steps the scripted model could not answer: {unanswered}"
    assert re.match(r"passed (\d+)/\1 tests(,|$)", plain(end.message)), end.message
    assert scripted_model.requests_for("critic"), "the critic was never asked"

    # 1. one edit, on this document only, and what it leaves parses
    assert len(editor.apply_requests) == before + 1, editor.apply_requests[before:]
    request = editor.apply_requests[before]
    edits = text_edits(request)
    assert list(edits) == [uri]
    if request.edit.document_changes:           # versioned: against the text the user opened
        assert [c.text_document.version for c in request.edit.document_changes] == [1]
    text = editor.docs[uri].text
    assert text != case.spec and text == apply(case.spec, edits[uri], editor.encoding)
    ast.parse(text, filename=case.module)

    # 2. the hidden tests pass on the text as the editor holds it
    work = target_suite.make_project(case, tmp_path)
    hidden = target_suite.hidden_tests(work, case, module_text=text)
    assert hidden["passed"] == hidden["total"] == case.hidden_count, "\n".join(hidden["failures"])

    # 3. one undo (the inverse of that one edit) gives back the stub exactly
    assert apply(text, inverse(case.spec, edits[uri], editor.encoding), editor.encoding) == case.spec
    assert len(editor.apply_requests) == before + 1, "a second edit came after the job"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
async def test_the_inverse_of_edits_restores_the_text(encoding):
    before = "a\nb é ü\nc\n"

    def at(offset: int) -> types.Position:
        return position_of(before, offset, encoding)
    u = before.index("ü")
    edits = [types.TextEdit(range=types.Range(start=at(u), end=at(u + 1)), new_text="x\ny\n"),
             types.TextEdit(range=types.Range(start=at(0), end=at(0)), new_text="# top\n"),
             types.TextEdit(range=types.Range(start=at(len(before)), end=at(len(before))), new_text="end\n"),
             types.TextEdit(range=types.Range(start=at(0), end=at(0)), new_text="# second\n")]
    after = apply(before, edits, encoding)
    assert after == "# top\n# second\na\nb é x\ny\n\nc\nend\n"
    assert apply(after, inverse(before, edits, encoding), encoding) == before
