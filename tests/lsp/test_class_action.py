"""A class spec in the editor: the code action and lens "Implement class NAME from spec", the
class job (plan, the methods, review) in one work-done progress that names the methods, one
``workspace/applyEdit`` holding the whole class, and a class whose plan stays invalid ending
in an error diagnostic with the document unchanged.  Against the scripted model over HTTP."""

from __future__ import annotations

import json
import re

import pytest
import pytest_asyncio
from lsprotocol import types

from lsp_editor import plain, start_editor
from replies import critic, fenced
from spec_examples import STACK, STACK_METHODS, STACK_PLAN

pytestmark = [pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")]

# two personas: VS Code (documentChanges, code action literals) and Neovim 0.7 (plain changes)
PERSONAS = ["visual-studio-code", "neovim@v0.7"]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=PERSONAS)
async def editor(request, tmp_path_factory):
    client = await start_editor(request.param, tmp_path_factory.mktemp("ws"))
    yield client
    await client.shutdown_session()
    await client.stop()


WITH_STUB = STACK.replace('''    2
    """
''', '''    2
    """

    def peek(self):
        """The top item, left on the stack."""
''', 1) + '''

def double(x):
    """Twice ``x``.

    >>> double(2)
    4
    """
'''

PLAN, CODE = STACK_PLAN, STACK_METHODS
PUSH_LINE = "self.items.append(item)"


def diags(editor, uri, code):
    return [d for d in editor.diagnostics.get(uri, []) if d.code == code]


def numbered(body, text: str) -> int | None:
    """The number the class critic's prompt gives the line holding ``text``."""
    prompt = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
    prompt = prompt if isinstance(prompt, str) else "".join(p.get("text", "") for p in prompt)
    for line in prompt.splitlines():
        match = re.match(r"\s*(\d+) \| (.*)$", line)
        if match and text in match.group(2):
            return int(match.group(1))
    return None


async def test_the_class_action_and_lens(editor):
    uri = editor.open("actions_class.py", WITH_STUB)
    on_header = await editor.actions(uri, editor.range_of(uri, "class Stack"))
    assert [a.title for a in on_header] == ["Implement class Stack from spec", "Implement all 2 specs in this file"]
    assert on_header[0].command.command == "specloop.generate"
    assert list(on_header[0].command.arguments) == [{"uri": uri, "target": "Stack"}]
    if isinstance(on_header[0], types.CodeAction):
        assert on_header[0].kind == "refactor.rewrite.specloop"
    in_doc = await editor.actions(uri, editor.range_of(uri, ">>> s.pop()"))
    assert [a.title for a in in_doc] == ["Implement class Stack from spec", "Implement all 2 specs in this file"]
    # a method stub keeps its own action; "all" counts the class as one job (Stack, double)
    on_method = await editor.actions(uri, editor.range_of(uri, "def peek"))
    assert [a.title for a in on_method] == ["Implement Stack.peek from spec", "Implement all 2 specs in this file"]
    assert await editor.actions(uri, editor.range_of(uri, "return \"untouched\"")) == []
    lenses = await editor.lenses(uri)
    assert (3, "Implement class Stack from spec") in lenses
    assert [title for _, title in lenses] == ["Implement class Stack from spec", "Implement Stack.peek from spec",
                                              "Implement double from spec"]


async def test_implement_class_applies_the_whole_class_at_once(editor, scripted_model):
    scripted_model.add("plan", fenced(PLAN))
    for name, code in CODE.items():
        scripted_model.add("generate", fenced(code), target=name, repeat=True)

    def review(step, target, body):
        line = numbered(body, PUSH_LINE)
        return critic("approve", {"method": "push", "category": "quality", "severity": "info", "line": line,
                                  "message": "push could say what it returns"},
                      {"category": "quality", "severity": "info", "message": "the class could use __len__"})
    scripted_model.respond(review, step="critic", target="Stack")
    await editor.configure(api_base=scripted_model.url, critic=True)
    uri = editor.open("stack.py", STACK)
    before, mark = len(editor.apply_requests), editor.mark()

    (action,) = await editor.actions(uri, editor.range_of(uri, "class Stack"))
    answer = await editor.command(action.command.command, *action.command.arguments)
    assert answer["started"] is True and answer["target"] == "Stack"
    begin, *reports, end = await editor.job_end("specloop: Stack", mark)
    assert re.fullmatch(r"passed (\d+)/\1 tests, 2 critic findings", plain(end.message)), end.message

    messages = [r.message for r in reports]
    assert "planning the components" in messages
    # the components report in the job's one progress, each named by its method
    assert any(re.fullmatch(r"push: testing: (\d+)/\1 passed", m or "") for m in messages), messages
    assert {m.split(":")[0] for m in messages if m} >= {"__init__", "push", "pop"}
    percents = [r.percentage for r in reports if r.percentage is not None]
    assert percents == sorted(percents)

    # one edit holding the whole class; the rest of the file as it was
    assert len(editor.apply_requests) == before + 1
    request = editor.apply_requests[before]
    if editor.persona == "visual-studio-code":
        (doc_edit,) = request.edit.document_changes
        assert doc_edit.text_document.version == 1
    else:
        assert list(request.edit.changes) == [uri]
    text = editor.docs[uri].text
    assert text.startswith(STACK.split("\n\n\ndef after")[0])
    assert text.endswith('def after():\n    return "untouched"\n')
    for code in CODE.values():
        assert code.splitlines()[1].strip() in text
    namespace: dict = {}
    exec(compile(text, "stack.py", "exec"), namespace)
    stack = namespace["Stack"]()
    stack.push(3)
    stack.push(4)
    assert stack.pop() == 4 and stack.items == [3]

    # the findings: one on the line of push it names, one on the class's name
    found = await editor.until("the critic's findings", lambda: len(diags(editor, uri, "critic.quality")) == 2
                               and diags(editor, uri, "critic.quality"))
    by_message = {d.message: d for d in found}
    on_push = by_message["push could say what it returns"]
    assert editor.text_at(uri, on_push.range).strip() == PUSH_LINE
    assert on_push.data["target"] == "Stack.push"
    on_class = by_message["the class could use __len__"]
    assert editor.text_at(uri, on_class.range).startswith("class Stack")
    assert on_class.data["target"] == "Stack"
    # the methods are recorded for `specloop check`
    recorded = json.loads((editor.root / ".specloop" / "implemented.json").read_text())["functions"]
    assert {f["qualname"] for f in recorded if f["path"] == "stack.py"} == set(CODE)
    # the class is no longer a class spec: no action, no lens
    assert await editor.actions(uri, editor.range_of(uri, "class Stack")) == []
    assert not [t for _, t in await editor.lenses(uri) if "Stack" in t]


async def test_a_plan_invalid_twice_ends_in_an_error_and_leaves_the_document(editor, scripted_model):
    scripted_model.add("plan", fenced("class Queue:\n    def f(self):\n        'Doc.'\n"), repeat=True)
    await editor.configure(api_base=scripted_model.url)
    uri = editor.open("bad_plan.py", STACK)
    before, mark, shown = len(editor.apply_requests), editor.mark(), len(editor.messages)
    await editor.command("specloop.generate", {"uri": uri, "target": "Stack"})
    end = (await editor.job_end("specloop: Stack", mark))[-1]
    assert end.message.startswith("error: plan: ") and "exactly one class, `Stack`" in end.message
    assert scripted_model.steps == ["plan", "plan"]
    told = await editor.until("the error message", lambda: [m for m in editor.messages[shown:]
                                                             if m.message.startswith("specloop: Stack: error: plan")])
    assert told[0].type == types.MessageType.Error
    (error,) = await editor.until("job.error", lambda: diags(editor, uri, "job.error"))
    assert editor.text_at(uri, error.range) == "Stack"
    assert "specloop could not implement Stack: plan: " in error.message
    fixes = await editor.actions(uri, error.range, diagnostics=[error], only=["quickfix"])
    assert [a.title for a in fixes][0] == "Try again"
    assert list(fixes[0].command.arguments) == [{"uri": uri, "target": "Stack"}]
    assert len(editor.apply_requests) == before and editor.docs[uri].text == STACK


async def test_a_failing_class_is_offered_then_applied_anyway(editor, scripted_model):
    scripted_model.add("plan", fenced(PLAN))
    wrong_pop = "def pop(self):\n    return None\n"
    for name, code in {**CODE, "Stack.pop": wrong_pop}.items():
        scripted_model.add("generate", fenced(code), target=name, repeat=True)
    scripted_model.add("fix", fenced(wrong_pop), target="Stack.pop", repeat=True)
    await editor.configure(api_base=scripted_model.url, max_iterations=1)
    uri = editor.open("failing_stack.py", STACK)
    before, mark = len(editor.apply_requests), editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "Stack"})
    end = (await editor.job_end("specloop: Stack", mark))[-1]
    assert re.fullmatch(r"failed \d+/\d+ tests — not applied; see the quick fixes", plain(end.message)), end.message
    (offered,) = await editor.until("test.failed", lambda: diags(editor, uri, "test.failed"))
    assert editor.text_at(uri, offered.range) == "Stack" and "not applied" in offered.message
    assert len(editor.apply_requests) == before and editor.docs[uri].text == STACK
    fixes = await editor.actions(uri, offered.range, diagnostics=[offered], only=["quickfix"])
    assert [a.title for a in fixes] == ["Apply the best attempt anyway", "Show the best attempt",
                                       "Show the diff of the best attempt", "Try again", "Discard the best attempt"]

    # applied anyway: the failures are about pop's code now, on pop
    answer = await editor.command(fixes[0].command.command, *fixes[0].command.arguments)
    assert answer["applied"] is True and len(editor.apply_requests) == before + 1
    text = editor.docs[uri].text
    assert "return None" in text and PUSH_LINE in text and text.endswith('return "untouched"\n')
    failed = await editor.until("pop's failures", lambda: [d for d in diags(editor, uri, "test.failed")
                                                           if "not applied" not in d.message])
    assert {editor.text_at(uri, d.range) for d in failed} == {"pop"}
    assert {d.data["target"] for d in failed} == {"Stack.pop"}


async def implemented_stack(editor, scripted_model, name: str, *findings: dict) -> str:
    """``STACK`` opened as ``name`` and implemented as a class whose review approves with
    ``findings``; returns its uri once the class is applied.  Rules added before this call
    answer first."""
    scripted_model.add("plan", fenced(PLAN))
    for qualname, code in CODE.items():
        scripted_model.add("generate", fenced(code), target=qualname, repeat=True)
    scripted_model.add("critic", critic("approve", *findings), target="Stack")
    await editor.configure(api_base=scripted_model.url, critic=True)
    uri = editor.open(name, STACK)
    mark = editor.mark()
    await editor.command("specloop.generate", {"uri": uri, "target": "Stack"})
    end = (await editor.job_end("specloop: Stack", mark))[-1]
    assert plain(end.message).startswith("passed "), end.message
    return uri


async def test_a_finding_naming_a_method_without_a_line_sits_on_that_method(editor, scripted_model):
    uri = await implemented_stack(editor, scripted_model, "method_finding.py", {
        "method": "pop", "category": "quality", "severity": "info", "message": "pop could say what empty means"})
    (finding,) = await editor.until("the finding", lambda: diags(editor, uri, "critic.quality"))
    assert editor.text_at(uri, finding.range).strip() == "def pop(self):"
    assert finding.data["target"] == "Stack.pop"


async def test_fix_on_a_methods_finding_reimplements_that_method_and_a_class_finding_has_none(
        editor, scripted_model):
    new_push = "def push(self, item):\n    self.items += [item]\n"
    scripted_model.add("generate", fenced(new_push), target="Stack.push", contains="A reviewer found")
    scripted_model.add("critic", critic("approve"), target="Stack.push")

    def review(step, target, body):
        return critic("approve", {"method": "push", "category": "quality", "severity": "info",
                                  "line": numbered(body, PUSH_LINE), "message": "push could use +="},
                      {"category": "quality", "severity": "info", "message": "the class could use __len__"})
    scripted_model.respond(review, step="critic", target="Stack")
    uri = await implemented_stack(editor, scripted_model, "fix_method.py")
    found = await editor.until("the findings", lambda: len(diags(editor, uri, "critic.quality")) == 2
                               and diags(editor, uri, "critic.quality"))
    by_message = {d.message: d for d in found}

    # a finding on the class as a whole: only Dismiss (its job takes no feedback)
    on_class = by_message["the class could use __len__"]
    fixes = await editor.actions(uri, on_class.range, diagnostics=[on_class], only=["quickfix"])
    assert [a.title for a in fixes] == ["Dismiss: the class could use __len__"]

    # a finding on push: Fix re-implements push alone, quoting the finding at its line in push
    on_push = by_message["push could use +="]
    fixes = await editor.actions(uri, on_push.range, diagnostics=[on_push], only=["quickfix"])
    assert [a.title for a in fixes] == ["Fix: push could use +=", "Dismiss: push could use +="]
    lines = editor.docs[uri].text.splitlines()
    in_push = next(i for i, t in enumerate(lines) if PUSH_LINE in t) - lines.index("    def push(self, item):") + 1
    mark = editor.mark()
    answer = await editor.command(fixes[0].command.command, *fixes[0].command.arguments)
    assert answer["started"] is True and answer["target"] == "Stack.push"
    end = (await editor.job_end("specloop: Stack.push", mark))[-1]
    assert plain(end.message).startswith("passed "), end.message
    asked = scripted_model.requests_for("generate", "Stack.push")[-1].last_user
    assert f"- [quality/info] line {in_push}: push could use +=" in asked
    text = editor.docs[uri].text
    assert "self.items += [item]" in text and PUSH_LINE not in text
    assert "return self.items.pop()" in text and text.endswith('def after():\n    return "untouched"\n')


async def test_implement_all_counts_a_class_as_one_job_and_runs_it(editor, scripted_model):
    scripted_model.add("plan", fenced(PLAN))
    for qualname, code in {**CODE, "double": "def double(x):\n    return x * 2\n"}.items():
        scripted_model.add("generate", fenced(code), target=qualname, repeat=True)
    await editor.configure(api_base=scripted_model.url)
    uri = editor.open("all_specs.py", STACK + WITH_STUB[WITH_STUB.index("\n\ndef double"):])
    on_double = await editor.actions(uri, editor.range_of(uri, "def double"))
    assert [a.title for a in on_double] == ["Implement double from spec", "Implement all 2 specs in this file"]
    on_class = await editor.actions(uri, editor.range_of(uri, "class Stack"))
    assert [a.title for a in on_class] == ["Implement class Stack from spec", "Implement all 2 specs in this file"]

    mark = editor.mark()
    answer = await editor.command(on_class[1].command.command, *on_class[1].command.arguments)
    assert answer == {"started": ["Stack", "double"]}
    for title in ("specloop: Stack", "specloop: double"):
        end = (await editor.job_end(title, mark))[-1]
        assert plain(end.message).startswith("passed "), end.message
    await editor.until("both applied", lambda: "return x * 2" in editor.docs[uri].text
                       and PUSH_LINE in editor.docs[uri].text)
    assert [r.target for r in scripted_model.requests_for("plan")] == ["Stack"]
    assert {r.target for r in scripted_model.requests_for("generate")} == {*CODE, "double"}


async def test_a_methods_fix_that_changes_nothing_is_nothing_to_apply(editor, scripted_model):
    """The review approves with a warning on push (shown, as Information); its "Fix" answers
    with push as it is: no edit is sent, nothing is kept, nothing is refused."""
    scripted_model.add("generate", fenced(CODE["Stack.push"]), target="Stack.push", contains="A reviewer found")
    scripted_model.add("critic", critic("approve"), target="Stack.push")

    def review(step, target, body):
        return critic("approve", {"method": "push", "category": "quality", "severity": "warning",
                                  "line": numbered(body, PUSH_LINE), "message": "push could use +="})
    scripted_model.respond(review, step="critic", target="Stack")
    uri = await implemented_stack(editor, scripted_model, "same_method.py")
    (on_push,) = await editor.until("the finding", lambda: diags(editor, uri, "critic.quality"))
    assert on_push.severity == types.DiagnosticSeverity.Information
    fixes = await editor.actions(uri, on_push.range, diagnostics=[on_push], only=["quickfix"])
    assert fixes[0].title == "Fix: push could use +="
    mark, edits, shown, text = editor.mark(), len(editor.apply_requests), len(editor.messages), editor.docs[uri].text
    await editor.command(fixes[0].command.command, *fixes[0].command.arguments)
    end = (await editor.job_end("specloop: Stack.push", mark))[-1]
    assert re.fullmatch(r"passed (\d+)/\1 tests — nothing to apply: the code is already what the result says",
                        plain(end.message)), end.message
    await editor.command("specloop.status")
    assert len(editor.apply_requests) == edits and editor.docs[uri].text == text
    assert editor.statuses[-1]["pending"] == []
    assert not [m for m in [*editor.messages[shown:], *editor.log_messages] if "did not apply" in m.message]


async def test_a_class_jobs_tokens_are_all_counted_and_the_total_never_goes_down(editor, scripted_model):
    """Every token the model served for a class job (plan, each method, a method's second
    attempt, the reviews) is in the session's total, which only ever grows."""
    scripted_model.add("generate", fenced(CODE["Stack.push"].replace("append(item)", "append(item)  # top")),
                       target="Stack.push", contains="A reviewer found")
    scripted_model.add("critic", critic("request_changes", {"method": "push", "category": "quality",
                                        "severity": "warning", "message": "say where the item goes"}),
                       critic("approve"), target="Stack")
    status = await editor.command("specloop.status")
    assert status["jobs"] == []
    seen, served = len(editor.statuses), scripted_model.served_tokens()
    before = sum(editor.statuses[-1][k] for k in ("prompt_tokens", "completion_tokens")) if editor.statuses else 0
    uri = await implemented_stack(editor, scripted_model, "tokens.py")
    assert "# top" in editor.docs[uri].text
    assert len(scripted_model.requests_for("generate", "Stack.push")) >= 2      # its first attempt was replaced
    await editor.until("idle", lambda: editor.statuses[-1]["running"] == 0)
    totals = [s["prompt_tokens"] + s["completion_tokens"] for s in editor.statuses[seen:]]
    assert totals == sorted(totals), totals
    assert totals[-1] - before == scripted_model.served_tokens() - served > 0
