"""A module spec in the editor: the code action and lens "Implement module spec" on a
standalone ``# spec:`` block, the job (plan, the functions, review) in one work-done
progress, one ``workspace/applyEdit`` putting the functions below the block (marked done),
findings on the functions they name, and a plan that stays invalid ending in an error on the
block with the document unchanged.  Against the scripted model over HTTP."""

from __future__ import annotations

import json
import re

import pytest
import pytest_asyncio

from lsp_editor import plain, start_editor
from replies import critic, fenced
from spec_examples import TEXTS, TEXTS_CODE as CODE, TEXTS_PLAN as PLAN


pytestmark = [pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")]

# two personas: VS Code (documentChanges, code action literals) and Neovim 0.7 (plain changes)
PERSONAS = ["visual-studio-code", "neovim@v0.7"]
NAME = "module spec (line 5)"


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=PERSONAS)
async def editor(request, tmp_path_factory):
    client = await start_editor(request.param, tmp_path_factory.mktemp("ws"))
    yield client
    await client.shutdown_session()
    await client.stop()


def diags(editor, uri, code):
    return [d for d in editor.diagnostics.get(uri, []) if d.code == code]


async def test_the_module_action_and_lens(editor):
    uri = editor.open("actions_module.py", TEXTS)
    on_block = await editor.actions(uri, editor.range_of(uri, "longest_word(text)"))
    assert [a.title for a in on_block] == ["Implement module spec"]
    assert list(on_block[0].command.arguments) == [{"uri": uri, "target": NAME}]
    assert await editor.actions(uri, editor.range_of(uri, 'return "untouched"')) == []
    assert (4, "Implement module spec") in await editor.lenses(uri)
    with_stub = editor.open("actions_module_and_stub.py", TEXTS + '\n\ndef twice(x):\n    """Twice x."""\n')
    titles = [a.title for a in await editor.actions(with_stub, editor.range_of(with_stub, "# spec: Word"))]
    assert titles == ["Implement module spec", "Implement all 2 specs in this file"]


async def test_implement_module_spec_applies_every_function_at_once(editor, scripted_model):
    scripted_model.add("plan", fenced(PLAN))
    for name, code in CODE.items():
        scripted_model.add("generate", fenced(code), target=name, repeat=True)
    def review(step, target, body):
        prompt = body["messages"][-1]["content"]
        line = next(int(m.group(1)) for m in re.finditer(r"(?m)^\s*(\d+) \| (.*)$", prompt)
                    if "out += ch.upper()" in m.group(2))
        return critic("approve", {"function": "shout", "category": "quality", "severity": "info",
                                  "message": "shout could strip the text first"},
                      {"function": "shout", "category": "quality", "severity": "info", "line": line,
                       "message": "upper-case the whole text at once"},
                      {"category": "quality", "severity": "info", "message": "the module could say what a word is"})
    scripted_model.respond(review, step="critic", target=NAME)
    await editor.configure(api_base=scripted_model.url, critic=True)
    uri = editor.open("texts.py", TEXTS)
    before, mark = len(editor.apply_requests), editor.mark()

    (action,) = await editor.actions(uri, editor.range_of(uri, "# spec: Word"))
    answer = await editor.command(action.command.command, *action.command.arguments)
    assert answer["started"] is True and answer["target"] == NAME
    begin, *reports, end = await editor.job_end(f"specloop: {NAME}", mark)
    assert re.fullmatch(r"passed (\d+)/\1 tests, 3 critic findings", plain(end.message)), end.message
    messages = [r.message for r in reports]
    assert "planning the components" in messages
    assert "plan: count_words, longest_word, shout" in messages     # the plan, shown as it is accepted
    assert {m.split(":")[0] for m in messages if m} >= {"count_words", "longest_word", "shout"}

    assert len(editor.apply_requests) == before + 1            # one edit holding every function
    text = editor.docs[uri].text
    assert text.startswith(TEXTS.split("# spec:")[0] + "# spec (implemented): Word statistics")
    assert text.endswith('\n\n\ndef after():\n    return "untouched"\n')
    namespace: dict = {}
    exec(compile(text, "texts.py", "exec"), namespace)
    assert namespace["longest_word"]("a bb cc") == "bb" and namespace["shout"]("hi") == "HI!"

    found = await editor.until("the critic's findings", lambda: len(diags(editor, uri, "critic.quality")) == 3
                               and diags(editor, uri, "critic.quality"))
    by_message = {d.message: d for d in found}
    on_name = by_message["shout could strip the text first"]       # no line: on the function's def line
    assert editor.text_at(uri, on_name.range).startswith("def shout") and on_name.data["target"] == "shout"
    on_line = by_message["upper-case the whole text at once"]      # the line the review named
    assert editor.text_at(uri, on_line.range).strip() == "out += ch.upper()" and on_line.data["target"] == "shout"
    on_block = by_message["the module could say what a word is"]   # no function: on the block
    assert editor.text_at(uri, on_block.range).startswith("# spec (implemented): Word")
    assert on_block.data["target"] == NAME
    recorded = json.loads((editor.root / ".specloop" / "implemented.json").read_text())["functions"]
    assert {f["qualname"] for f in recorded if f["path"] == "texts.py"} == set(CODE)
    # the block is done: no action, no lens
    assert await editor.actions(uri, editor.range_of(uri, "longest_word(text)")) == []
    assert not [t for _, t in await editor.lenses(uri) if "module" in t]


async def test_a_plan_invalid_twice_ends_in_an_error_on_the_block(editor, scripted_model):
    scripted_model.add("plan", fenced("class Words:\n    'Doc.'\n"), repeat=True)
    await editor.configure(api_base=scripted_model.url)
    uri = editor.open("bad_module_plan.py", TEXTS)
    before, mark = len(editor.apply_requests), editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": NAME})
    end = (await editor.job_end(f"specloop: {NAME}", mark))[-1]
    assert end.message.startswith("error: plan: ") and "not a function stub" in end.message
    assert scripted_model.steps == ["plan", "plan"]
    (error,) = await editor.until("job.error", lambda: diags(editor, uri, "job.error"))
    assert editor.text_at(uri, error.range).startswith("# spec: Word statistics")
    fixes = await editor.actions(uri, error.range, diagnostics=[error], only=["quickfix"])
    assert [a.title for a in fixes][0] == "Try again"
    assert list(fixes[0].command.arguments) == [{"uri": uri, "target": NAME}]
    assert len(editor.apply_requests) == before and editor.docs[uri].text == TEXTS
    # the error moves with the block when the user types above it
    editor.replace(uri, '"""Text helpers."""', '"""Text helpers."""\n# a line typed above')
    moved = await editor.until("the error on the moved block", lambda: [
        d for d in diags(editor, uri, "job.error") if d.range.start.line == error.range.start.line + 1])
    assert editor.text_at(uri, moved[0].range).startswith("# spec: Word statistics")
