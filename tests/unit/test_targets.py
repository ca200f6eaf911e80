"""The kinds of targets (``specloop.targets``): one registry, one protocol.  The front ends
find, title, implement, place and locate through it; these tests pin what each kind answers."""

from __future__ import annotations

from specloop import targets
from specloop.results import Finding, JobResult, TestOutcome
from specloop.source.classspec import ClassResult
from specloop.source.edits import apply_edits
from specloop.source.modulespec import ModuleResult

SOURCE = '''import os

# spec: Word statistics for plain text.
#   count_words(text) is the number of words.


def area(w, h):
    """Area of a w by h rectangle.

    >>> area(2, 3)
    6
    """


class Stack:
    """A last-in first-out stack."""

    def push(self, item):
        """Put item on top."""

    def pop(self):
        """Take the top item off."""
'''


def test_every_kind_is_found_and_knows_its_own() -> None:
    found, error = targets.find_all(SOURCE)
    assert error is None
    assert [t.qualname for t in found["function"]] == ["area", "Stack.push", "Stack.pop"]
    assert [t.qualname for t in found["class"]] == ["Stack"]
    for kind in targets.KINDS:
        for target in found[kind.name]:
            assert targets.of(target) is kind
    # a class spec is one job; its method stubs are its components
    assert [t.qualname for t in found["module"]] == ["module spec (line 3)"]
    assert [t.qualname for t in targets.jobs(found)] == ["module spec (line 3)", "area", "Stack"]
    assert targets.by_kind(targets.ordered(found)) == found


def test_a_file_that_does_not_parse_has_no_targets_and_says_why() -> None:
    found, error = targets.find_all("def broken(:\n")
    assert error is not None and error.startswith("line 1")
    assert all(not v for v in found.values())


def test_titles_and_lines_per_kind() -> None:
    area = targets.find(SOURCE, "area")
    stack = targets.find(SOURCE, "Stack")
    assert targets.of(area).title(area) == "Implement area from spec"
    assert targets.of(stack).title(stack) == "Implement class Stack from spec"
    lines = SOURCE.splitlines(keepends=True)
    first, last = targets.of(area).action_lines(area, lines)
    assert lines[first].startswith("def area") and lines[last].strip() == '"""'
    block = targets.find_all(SOURCE)[0]["module"][0]
    assert targets.of(block).title(block) == "Implement module spec"
    assert targets.line_of(SOURCE, block.qualname) == SOURCE.splitlines().index("# spec: Word statistics for plain text.")
    assert targets.line_of(SOURCE, "area") == SOURCE.splitlines().index("def area(w, h):")
    assert targets.line_of(SOURCE, "Stack") == SOURCE.splitlines().index("class Stack:")
    assert targets.line_of(SOURCE, "nothing") is None


def test_a_function_result_is_placed_and_located() -> None:
    area = targets.find(SOURCE, "area")
    code = 'def area(w, h):\n    """Area."""\n    x = w\n    return x * h\n'
    finding = Finding("quality", "warning", "needless variable", line=3)
    failing = TestOutcome("doctest[0]", "failed", "expected 6")
    result = JobResult(name="area", status="failed", fingerprint=area.fingerprint, function_code=code,
                       findings=[finding], failures=[failing])
    kind = targets.of(result)
    placed_text = apply_edits(SOURCE, kind.edits(SOURCE, result))
    assert "    return x * h" in placed_text
    placed = kind.place(placed_text, result)
    assert placed.owners == ["area"]
    def_line = placed_text.splitlines().index("def area(w, h):")
    test_mark = next(m for m in placed.marks if m.item is failing)
    assert (test_mark.line, test_mark.on_name, test_mark.finding) == (def_line, True, {"test": "doctest[0]"})
    assert placed_text.splitlines()[placed.finding_line(finding)].strip() == "x = w"
    assert kind.recorded(result) == ["area"]


def test_results_of_every_kind_find_their_kind() -> None:
    assert targets.of(JobResult(name="f", status="passed")).noun == "function"
    assert targets.of(ClassResult(name="C", status="passed")).noun == "class"
    assert targets.of(ModuleResult(name="module spec (line 1)", status="passed")).noun == "module spec"


def test_an_exception_class_with_only_a_docstring_is_not_a_class_spec() -> None:
    source = ('class Refused(ValueError):\n    """The bank said no."""\n\n\n'
              'class BankError(Exception):\n    """Base."""\n\n\n'
              'class Overdrawn(BankError):\n    """Not enough money."""\n\n\n'
              'class Ledger:\n    """A list of entries."""\n\n\n'
              'class Odd(Exception):\n    """An exception with a method to write."""\n\n'
              '    def code(self):\n        """Its code: 7."""\n')
    found, _ = targets.find_all(source)
    assert [t.name for t in found["class"]] == ["Ledger", "Odd"]
