"""Doctest examples as an authoritative test file, and the check made outside the sandbox.

The sandbox runs :func:`make_doctest_file`'s module with pytest; each test also
records what its example printed (or the exception it raised) in
``SPECLOOP_GOT``, and the runner sends that with the test's record.  The
sandbox then compares it with the example's expected output itself
(:func:`check_outside`), with doctest's own rules, where the code under test
cannot reach: a test the candidate made "pass" in its own process without
printing the expected output fails there.
"""

from __future__ import annotations

import doctest
import re

from .spec import Example

TEST_NAME = re.compile(r"::test_doctest_(\d+)$")


def _doctest_text(examples: list[Example]) -> str:
    lines: list[str] = []
    for ex in examples:
        source = ex.source.rstrip("\n").split("\n")
        lines.append(">>> " + source[0])
        lines.extend("... " + s if s else "..." for s in source[1:])
        if ex.want:
            lines.extend(ex.want.rstrip("\n").split("\n"))
    return "\n".join(lines) + "\n"


_DOCTEST_TEMPLATE = '''"""Doctest examples of {qualname} in {module}: one test per example.

Test n runs examples 0..n-1 first (each reports its own mismatch in its own
test), then checks example n with the stdlib doctest runner and its rules."""

import doctest
import importlib
import traceback

MODULE = {module!r}
QUALNAME = {qualname!r}
TEXT = {text!r}
SPECLOOP_GOT = {{}}


class DoctestMismatch(AssertionError):
    def __init__(self, message, source, expected, actual, short):
        AssertionError.__init__(self, message)
        self.specloop_source = source
        self.specloop_expected = expected
        self.specloop_actual = actual
        self.specloop_message = short


class _Runner(doctest.DocTestRunner):
    def __init__(self, target):
        doctest.DocTestRunner.__init__(self, verbose=False, optionflags=0)
        self.target = target
        self.got = None
        self.exc = None
        self.exc_line = None
        self.failed_target = False

    def report_start(self, out, test, example):
        pass

    def report_success(self, out, test, example, got):
        if example is self.target:
            self.got = got
            self.exc_line = _exc_line(got) if example.exc_msg is not None else None

    def report_failure(self, out, test, example, got):
        if example is self.target:
            self.failed_target, self.got = True, got
            self.exc_line = _exc_line(got) if example.exc_msg is not None else None

    def report_unexpected_exception(self, out, test, example, exc_info):
        if example is self.target:
            self.failed_target, self.exc = True, exc_info[1]
            self.exc_line = traceback.format_exception_only(exc_info[0], exc_info[1])[-1]
            self.got = "".join(traceback.format_exception_only(exc_info[0], exc_info[1]))


def _exc_line(got):
    """The exception line(s) at the end of a traceback in ``got`` (as doctest compares them)."""
    head = "Traceback (most recent call last):"
    if head not in got:
        return None
    lines = got[got.rindex(head):].split("\\n")[1:]
    while lines and (lines[0].startswith((" ", "\\t")) or not lines[0]):
        lines.pop(0)
    return "\\n".join(lines)


def _check(n):
    module = importlib.import_module(MODULE)
    examples = doctest.DocTestParser().get_examples(TEXT)
    target = examples[n]
    test = doctest.DocTest(examples[: n + 1], dict(module.__dict__), MODULE + "." + QUALNAME,
                           getattr(module, "__file__", None), None, None)
    runner = _Runner(target)
    runner.run(test, out=lambda text: None, clear_globs=False)
    if runner.exc_line is not None:
        SPECLOOP_GOT["test_doctest_%d" % n] = ["exc", runner.exc_line]
    elif runner.got is not None:
        SPECLOOP_GOT["test_doctest_%d" % n] = ["out", runner.got]
    if not runner.failed_target:
        return
    flags = 0
    for flag, on in target.options.items():
        flags = flags | flag if on else flags & ~flag
    got = runner.got if runner.exc is None else "Exception raised:\\n" + runner.got
    source = "".join("    " + line for line in target.source.splitlines(True))
    message = "Failed example:\\n" + source + doctest.OutputChecker().output_difference(target, got, flags)
    expected, actual = target.want.rstrip("\\n"), runner.got.rstrip("\\n")
    short = "doctest %s: expected %r, got %r" % (target.source.strip().splitlines()[0], expected, actual)
    raise DoctestMismatch(message, target.source, expected, actual, short) from runner.exc
'''


def make_doctest_file(module_name: str, qualname: str, examples: list[Example]) -> str:
    """A pytest module with one test per doctest example (``test_doctest_<n>``).

    The examples are rebuilt as doctest text and parsed back with the stdlib
    parser at test time, so directives (``# doctest: +ELLIPSIS``), expected
    exceptions and ``<BLANKLINE>`` follow doctest's own rules."""
    text = _doctest_text(examples)
    parsed = doctest.DocTestParser().get_examples(text)
    def line_end(text: str) -> str:
        return text if text == "" or text.endswith("\n") else text + "\n"

    if [(e.source, e.want) for e in parsed] != [(line_end(x.source), line_end(x.want)) for x in examples]:
        raise ValueError(f"cannot rebuild the doctest examples of {qualname}")
    body = _DOCTEST_TEMPLATE.format(module=module_name, qualname=qualname, text=text)
    tests = "".join(f"\n\ndef test_doctest_{n}():\n    _check({n})\n" for n in range(len(examples)))
    return body + tests




def doctest_text(examples: list[Example]) -> str:
    """The examples as doctest text (what :func:`check_outside` parses back)."""
    return _doctest_text(examples)


def _flags(example: doctest.Example) -> int:
    flags = 0
    for flag, on in example.options.items():
        flags = flags | flag if on else flags & ~flag
    return flags


def check_outside(text: str, test_id: str, got: object) -> str | None:
    """None when ``got`` (``["out", text]`` or ``["exc", line]``) satisfies the example
    that ``test_id`` checks, else why not."""
    match = TEST_NAME.search(test_id)
    examples = doctest.DocTestParser().get_examples(text)
    if match is None or int(match.group(1)) >= len(examples):
        return "not a test of a known doctest example"
    example = examples[int(match.group(1))]
    flags = _flags(example)
    if flags & doctest.SKIP:
        return None
    if not (isinstance(got, list) and len(got) == 2 and got[0] in ("out", "exc") and isinstance(got[1], str)):
        return "the run reported no output for this example"
    kind, value = got
    checker = doctest.OutputChecker()
    if example.exc_msg is None:
        return None if kind == "out" and checker.check_output(example.want, value, flags) else \
            "the example's output does not match"
    if kind != "exc":
        return "the example did not raise the expected exception"
    if checker.check_output(example.exc_msg, value, flags):
        return None
    if flags & doctest.IGNORE_EXCEPTION_DETAIL:
        strip = doctest._strip_exception_details  # type: ignore[attr-defined]
        if checker.check_output(strip(example.exc_msg), strip(value), flags):
            return None
    return "the example raised a different exception"
