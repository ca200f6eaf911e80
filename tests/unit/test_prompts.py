"""Prompts of each step and the lenient reading of replies as models write them."""

from __future__ import annotations

import pytest

from specloop.model import prompts
from specloop.model.prompts import parse_code, parse_critic, parse_tests
from specloop import results
from specloop.results import Finding
from specloop.source.spec import Target

AREA = "def area(w, h):\n    return w * h\n"


def target(**kw) -> Target:
    values = dict(name="area", qualname="area", is_async=False, class_name=None, params=["w", "h"],
                  decorators=[], header="def area(w: float, h: float) -> float:",
                  docstring="Area of a w x h rectangle.\n\n>>> area(2, 3)\n6", comment_spec=None)
    values.update(kw)
    return Target(**values)


# -- parse_code ---------------------------------------------------------------

@pytest.mark.parametrize("reply", [
    f"```python\n{AREA}```",
    f"Sure! Here is the implementation:\n\n```python\n{AREA}```\n\nThis multiplies width by height.",
    f"```py\n{AREA}```",
    f"```Python3\n{AREA}```",
    f"```\n{AREA}```",
    f"~~~python\n{AREA}~~~",
    f"Here you go:\n```python\n{AREA}",                                   # unclosed fence (cut-off reply)
    AREA,                                                                   # bare code
    f"Sure, this should work:\n\n{AREA}\nIt runs in O(1).",                 # bare code with prose around
    f"<think>they want area, easy. ```python\nnot code\n```</think>\n```python\n{AREA}```",
    f"   ```python\n   {AREA.replace(chr(10), chr(10) + '   ')}```",          # indented fence
    f"````markdown\nHere:\n```python\n{AREA}```\n````",                     # nested in a markdown block
])
def test_parse_code_reads_real_world_shapes(reply):
    assert parse_code(reply, "area") == AREA


def test_parse_code_keeps_fences_inside_docstrings():
    code = 'def area(w, h):\n    """Example:\n\n    ```\n    area(2, 3)\n    ```\n    """\n    return w * h\n'
    assert parse_code(f"Here:\n```python\n{code}```\nDone.", "area") == code


def test_parse_code_picks_the_block_defining_the_name():
    reply = ("First a helper test:\n```python\ndef test_area():\n    assert area(2, 3) == 6\n"
             "def other():\n    pass\n```\nNow the function:\n```python\n" + AREA + "```\n"
             "Usage:\n```bash\npython -c 'print(area(2, 3))'\n```")
    assert parse_code(reply, "area") == AREA


def test_parse_code_without_name_takes_the_largest_block():
    reply = "```python\nx = 1\n```\n```python\n" + AREA + "```"
    assert parse_code(reply) == AREA


def test_parse_code_merges_a_separate_import_block():
    reply = "```python\nimport math\n```\nthen\n```python\ndef root(x):\n    return math.sqrt(x)\n```"
    assert parse_code(reply, "root") == "import math\ndef root(x):\n    return math.sqrt(x)\n"


def test_parse_code_keeps_imports_and_decorators_in_the_block():
    code = "import functools\n\n\n@functools.cache\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
    assert parse_code(f"```python\n{code}```", "fib") == code


def test_parse_code_dedents_an_indented_method():
    reply = "```python\n    def area(self):\n        return self.w * self.h\n```"
    assert parse_code(reply, "area") == "def area(self):\n    return self.w * self.h\n"


def test_parse_code_dedents_a_method_whose_docstring_has_a_line_at_column_0():
    # semver's Version.parse: the docstring's example lines start at column 0, so the block has
    # no common margin; the def line's indent goes from the lines that have it, the others stay
    method = ('    def area(self):\n        """The area.\n\n>>> Box(2, 3).area()\n6\n        """\n'
              '        if self.w:\n            return self.w * self.h\n        return 0\n')
    code = parse_code(f"Here it is:\n```python\n{method}```\n", "area")
    assert code == ('def area(self):\n    """The area.\n\n>>> Box(2, 3).area()\n6\n    """\n'
                    '    if self.w:\n        return self.w * self.h\n    return 0\n')
    namespace: dict = {}
    exec(code, namespace)
    assert ">>> Box(2, 3).area()\n6\n" in namespace["area"].__doc__


@pytest.mark.parametrize("reply,message", [
    ("", "the reply is empty"),
    ("I cannot help with that.", "no ```python block in the reply"),
    ("The answer is to multiply w by h.", "no ```python block in the reply"),
    ("```python\ndef area(w, h)\n    return w * h\n```", "the python block does not parse (line 1: expected ':')"),
    ("```python\ndef volume(x):\n    return x\n```", "the code does not define `area`"),
    ('```json\n{"code": "def area(w, h): return w * h"}\n```', "no ```python block in the reply"),
])
def test_parse_code_errors_say_what_is_wrong(reply, message):
    with pytest.raises(ValueError) as info:
        parse_code(reply, "area")
    assert str(info.value) == message


def test_parse_tests_needs_a_test_function():
    module = "from geometry import area\n\n\ndef test_unit_square():\n    assert area(1, 1) == 1\n"
    assert parse_tests(f"Tests:\n```python\n{module}```") == module
    with pytest.raises(ValueError, match="no test_\\* function"):
        parse_tests("```python\nfrom geometry import area\nprint(area(1, 1))\n```")


# -- parse_critic ---------------------------------------------------------------

def test_parse_critic_bare_json():
    verdict, findings = parse_critic('{"verdict": "approve", "findings": []}')
    assert (verdict, findings) == ("approve", [])


def test_parse_critic_fenced_with_prose_and_normalisation():
    reply = """Here is my review.
```json
{
  "verdict": "Request_Changes",
  "findings": [
    {"category": "Accuracy", "severity": "high", "line": "3", "message": "Returns  w + h,\\n not w * h."},
    {"category": "style", "severity": "nit", "line": null, "message": "Name is fine"},
    {"category": "security", "severity": "ERROR", "line": 0, "message": "eval on input"},
    {"category": "completeness", "severity": "warning", "line": 2.0, "description": "no negative check"},
    {"category": "quality", "severity": "info", "line": 4}
  ]
}
```
Let me know if you need more."""
    verdict, findings = parse_critic(reply)
    assert verdict == "request_changes"
    assert findings == [
        Finding("accuracy", "error", "Returns w + h, not w * h.", 3),
        Finding("quality", "info", "Name is fine", None),
        Finding("security", "error", "eval on input", None),
        Finding("completeness", "warning", "no negative check", 2),
    ]


def test_parse_critic_tolerates_trailing_commas_and_trailing_prose():
    reply = 'Verdict below {"verdict": "approve", "findings": [{"category": "quality", "severity": "info", ' \
            '"line": 1, "message": "ok",},],} and that is all {not json}'
    assert parse_critic(reply) == ("approve", [Finding("quality", "info", "ok", 1)])


def test_parse_critic_skips_unrelated_objects_and_takes_the_one_with_a_verdict():
    reply = 'Input was {"w": 2}. Review: {"verdict": "request_changes", "findings": ["handle h < 0"]}'
    assert parse_critic(reply) == ("request_changes", [Finding("quality", "warning", "handle h < 0")])


def test_parse_critic_findings_missing_is_empty():
    assert parse_critic('```\n{"verdict": "approve"}\n```') == ("approve", [])


@pytest.mark.parametrize("reply,message", [
    ("Looks good to me!", "no JSON object in the reply"),
    ("", "the reply is empty"),
    ('{"findings": []}', 'the JSON object has no "verdict"'),
    ('{"verdict": "maybe", "findings": []}', "unknown verdict 'maybe'"),
    ("{'verdict': 'approve'}", "no JSON object in the reply"),
])
def test_parse_critic_errors(reply, message):
    with pytest.raises(ValueError) as info:
        parse_critic(reply)
    assert str(info.value).startswith(message)


# -- prompts -----------------------------------------------------------------------

def approx_tokens(text: str) -> int:
    return len(text) // 4 + 1


def test_system_prompts_are_short():
    for system in (prompts.CODE_SYSTEM, prompts.TESTS_SYSTEM, prompts.CRITIC_SYSTEM):
        assert approx_tokens(system) < 120


def test_generate_prompt_shows_context_header_and_spec():
    messages = prompts.generate_messages(target(), "import math\nUNIT = 1.0")
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert "import math\nUNIT = 1.0" in user
    shown = ('def area(w: float, h: float) -> float:\n'
             '    """Area of a w x h rectangle.\n\n    >>> area(2, 3)\n    6\n    """')
    assert shown in user
    assert "one ```python block" in user and "Keep its name, parameters, decorators and docstring" in user
    assert "imports it needs at the top" in user


def test_generate_prompt_for_a_comment_spec_method_with_feedback():
    t = target(name="grow", qualname="Box.grow", class_name="Box", params=["self", "k"],
               header="    @staticmethod\n    def grow(self, k):", docstring=None,
               comment_spec="Scale both sides by k.\nk must be positive.")
    user = prompts.generate_messages(t, "", [Finding("accuracy", "error", "ignores k", 2)])[1]["content"]
    assert "# spec: Scale both sides by k.\n# k must be positive.\n@staticmethod\ndef grow(self, k):\n    ..." in user
    assert "method `grow` of class `Box`" in user
    assert "- [accuracy/error] line 2: ignores k" in user
    assert "Context from the code base" not in user


def test_tests_prompt_names_the_import_line():
    user = prompts.tests_messages(target(), "ctx", prompts.import_line("geometry.shapes", target()))[1]["content"]
    assert "Start the module with `from geometry.shapes import area`." in user
    assert "test_*" in user
    method = target(qualname="Box.area", class_name="Box")
    assert prompts.import_line("geo", method) == "from geo import Box"


def test_fix_prompt_quotes_failures_and_findings():
    failures = [
        results.TestOutcome("test_oracle.py::test_area_negative", "failed", message="assert -6 == 0",
                    expected="0", actual="-6", line=4),
        results.TestOutcome("doctest[1]", "error", message="NameError: name 'math' is not defined"),
    ]
    findings = [Finding("completeness", "warning", "negative sides are not rejected", 2)]
    user = prompts.fix_messages(target(), "", AREA, failures, findings)[1]["content"]
    assert f"```python\n{AREA}```" in user
    assert ("- test_oracle.py::test_area_negative (failed)\n  message: assert -6 == 0\n  expected: 0\n"
            "  actual: -6\n  failed at line 4 of the candidate module") in user
    assert "- doctest[1] (error)\n  message: NameError: name 'math' is not defined" in user
    assert "- [completeness/warning] line 2: negative sides are not rejected" in user


def test_fix_prompt_bounds_long_failure_lists():
    failures = [results.TestOutcome(f"t{i}", "failed", message="x" * 1000) for i in range(20)]
    user = prompts.fix_messages(target(), "", AREA, failures, [])[1]["content"]
    assert "- t7 (failed)" in user and "- t8 (failed)" not in user and "and 12 more failing tests" in user
    assert "x" * 301 not in user


OPENSSH = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
           "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
           "QyNTUxOQAAACDsRzQ1xQmZbJ3yFakeFakeFakeFakeFakeFakeFakeFakeFakeAAAAJg=\n"
           "-----END OPENSSH PRIVATE KEY-----\n")


def test_fix_prompt_holds_no_secret_a_candidate_printed(monkeypatch):
    from specloop.redact import known_secrets

    monkeypatch.setenv("FAKE_SERVICE_TOKEN", "svc-6d1f0c9e8b7a")
    known_secrets(refresh=True)
    try:
        failures = [
            results.TestOutcome("test_oracle.py::test_area", "failed",
                                message=f"AssertionError: assert {OPENSSH!r} == 6",       # repr, as pytest quotes it
                                expected="6", actual=OPENSSH, line=2),
            results.TestOutcome("test_oracle.py::test_env", "failed",
                                message="aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
                                actual="token is svc-6d1f0c9e8b7a", expected="svc-6d1f0c9e8b7a"),
            results.TestOutcome("<test run>", "error", "collection failed: OPENSSH " + OPENSSH[:120]),  # clipped
        ]
        findings = [Finding("security", "error", "prints svc-6d1f0c9e8b7a and AKIAIOSFODNN7EXAMPLE", 2)]
        messages = prompts.fix_messages(target(), "", AREA, failures, findings)
        generate = prompts.generate_messages(target(), "", findings)
    finally:
        monkeypatch.undo()
        known_secrets(refresh=True)
    for text in (messages[1]["content"], generate[1]["content"]):
        for secret in ("PRIVATE KEY", "b3BlbnNzaC1rZXkt", "AKIAIOSFODNN7EXAMPLE", "svc-6d1f0c9e8b7a"):
            assert secret not in text
    user = messages[1]["content"]
    assert "- test_oracle.py::test_env (failed)\n  message: aws_access_key_id = [redacted]\n" in user
    assert "  expected: [redacted]\n  actual: token is [redacted]\n" in user
    assert f"```python\n{AREA}```" in user                  # the code is quoted as it is


def test_critic_prompt_numbers_lines_from_the_def():
    code = "import math\n\n@cache\ndef area(w, h):\n    return w * h\n"
    user = prompts.critic_messages(target(), "", code)[1]["content"]
    assert "  | import math\n  | \n  | @cache\n1 | def area(w, h):\n2 |     return w * h" in user
    assert '"verdict": "approve" or "request_changes"' in user and "the def line is 1" in user


def test_reask_message_quotes_the_error():
    message = prompts.reask_message("generate", "no ```python block in the reply")
    assert message == {"role": "user", "content": "Your reply could not be used: no ```python block in the reply. "
                       "Answer again with one ```python block holding the whole function."}
