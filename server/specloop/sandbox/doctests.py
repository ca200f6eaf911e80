"""Doctest examples as an authoritative test file, and the check made outside the sandbox.

The sandbox runs :func:`make_doctest_file`'s module with pytest; each test also
records what its example printed (or the exception it raised) in
``SPECLOOP_GOT``, and the runner sends that with the test's record.  The
sandbox then compares it with the example's expected output itself
(:func:`check_outside`), with doctest's own rules, where the code under test
cannot reach: a test the candidate made "pass" in its own process without
printing the expected output fails there.

The examples run with the module's names and its top-level package under its own name
(``semver.compare(...)`` in ``semver._deprecated``), not with the ``doctest_namespace`` an
autouse fixture of the project's ``conftest.py`` fills: pytest applies such a fixture only
to doctests under the conftest's folder (semver's is in ``tests/``, its modules' doctests
in ``src/`` never see it, and are not run by its suite), and giving it to a test file
outside the project's root would need pytest's internal fixture tables, which differ from
one pytest to the next while the project's own Python may have any of them.
"""

from __future__ import annotations

import doctest
import re

from ..source.spec import Example

TEST_NAME = re.compile(r"::test_doctest_(\d+)$")
FLAGS_LINE = "OPTIONFLAGS = []\n"

# The output checker of both sides: doctest's, plus pytest's ALLOW_UNICODE, ALLOW_BYTES and
# NUMBER flags (as pytest's LiteralsOutputChecker does them), so a project's
# ``doctest_optionflags`` mean here what they mean in its own doctest runs.  One source, run
# in the test process (inside the doctest file) and here (``check_outside``); Python 3.8+.
CHECKER_SOURCE = r'''
import doctest as _doctest
import re as _re

for _name in ("ALLOW_UNICODE", "ALLOW_BYTES", "NUMBER"):
    _doctest.register_optionflag(_name)


def _optionflags(names):
    flags = 0
    for name in names:
        flags |= _doctest.OPTIONFLAGS_BY_NAME.get(name, 0)
    return flags


class LiteralsChecker(_doctest.OutputChecker):
    _unicode = _re.compile(r"(\W|^)[uU]([rR]?[\'\"])")
    _bytes = _re.compile(r"(\W|^)[bB]([rR]?[\'\"])")
    _number = _re.compile(r"""
        (?P<number>
          (?P<mantissa> (?P<integer1> [+-]?\d*)\.(?P<fraction>\d+) | (?P<integer2> [+-]?\d+)\. )
          (?: [Ee] (?P<exponent1> [+-]?\d+) )?
          | (?P<integer3> [+-]?\d+) (?: [Ee] (?P<exponent2> [+-]?\d+) )
        )""", _re.VERBOSE)

    def check_output(self, want, got, optionflags):
        if _doctest.OutputChecker.check_output(self, want, got, optionflags):
            return True
        by_name = _doctest.OPTIONFLAGS_BY_NAME
        unicode_, bytes_, number = (optionflags & by_name["ALLOW_UNICODE"], optionflags & by_name["ALLOW_BYTES"],
                                    optionflags & by_name["NUMBER"])
        if not (unicode_ or bytes_ or number):
            return False
        if unicode_:
            want, got = self._unicode.sub(r"\1\2", want), self._unicode.sub(r"\1\2", got)
        if bytes_:
            want, got = self._bytes.sub(r"\1\2", want), self._bytes.sub(r"\1\2", got)
        if number:
            got = self._precision(want, got)
        return _doctest.OutputChecker.check_output(self, want, got, optionflags)

    def _precision(self, want, got):
        wants, gots = list(self._number.finditer(want)), list(self._number.finditer(got))
        if len(wants) != len(gots):
            return got
        offset = 0
        for w, g in zip(wants, gots):
            fraction, exponent = w.group("fraction"), w.group("exponent1") or w.group("exponent2")
            precision = (0 if fraction is None else len(fraction)) - (int(exponent) if exponent else 0)
            expected, actual = float(g.group()), float(w.group())
            if abs(actual - expected) <= max(1e-6 * abs(expected), 10 ** -precision):
                got = got[: g.start() + offset] + w.group() + got[g.end() + offset:]
                offset += w.end() - w.start() - (g.end() - g.start())
        return got
'''
_checker_space: dict = {}
exec(compile(CHECKER_SOURCE, "<specloop doctest checker>", "exec"), _checker_space)
LiteralsChecker = _checker_space["LiteralsChecker"]
optionflag_bits = _checker_space["_optionflags"]


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
{checker}
{flags_line}

class DoctestMismatch(AssertionError):
    def __init__(self, message, source, expected, actual, short):
        AssertionError.__init__(self, message)
        self.specloop_source = source
        self.specloop_expected = expected
        self.specloop_actual = actual
        self.specloop_message = short


class _Runner(doctest.DocTestRunner):
    def __init__(self, target):
        doctest.DocTestRunner.__init__(self, checker=LiteralsChecker(), verbose=False,
                                       optionflags=_optionflags(OPTIONFLAGS))
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


def _globs(module):
    """The module's names, and its top-level package under its own name when the module does
    not define that name (examples often say ``pkg.f(...)`` in a submodule of ``pkg``)."""
    globs = dict(module.__dict__)
    top = MODULE.split(".")[0]
    if top not in globs:
        try:
            globs[top] = importlib.import_module(top)
        except Exception:
            pass
    return globs


def _check(n):
    module = importlib.import_module(MODULE)
    examples = doctest.DocTestParser().get_examples(TEXT)
    target = examples[n]
    test = doctest.DocTest(examples[: n + 1], _globs(module), MODULE + "." + QUALNAME,
                           getattr(module, "__file__", None), None, None)
    runner = _Runner(target)
    runner.run(test, out=lambda text: None, clear_globs=False)
    if runner.exc_line is not None:
        SPECLOOP_GOT["test_doctest_%d" % n] = ["exc", runner.exc_line]
    elif runner.got is not None:
        SPECLOOP_GOT["test_doctest_%d" % n] = ["out", runner.got]
    if not runner.failed_target:
        return
    flags = _optionflags(OPTIONFLAGS)
    for flag, on in target.options.items():
        flags = flags | flag if on else flags & ~flag
    got = runner.got if runner.exc is None else "Exception raised:\\n" + runner.got
    source = "".join("    " + line for line in target.source.splitlines(True))
    message = "Failed example:\\n" + source + LiteralsChecker().output_difference(target, got, flags)
    expected, actual = target.want.rstrip("\\n"), runner.got.rstrip("\\n")
    short = "doctest %s: expected %r, got %r" % (target.source.strip().splitlines()[0], expected, actual)
    raise DoctestMismatch(message, target.source, expected, actual, short) from runner.exc
'''


def make_doctest_file(module_name: str, qualname: str, examples: list[Example], optionflags=()) -> str:
    """A pytest module with one test per doctest example (``test_doctest_<n>``).

    The examples are rebuilt as doctest text and parsed back with the stdlib
    parser at test time, so directives (``# doctest: +ELLIPSIS``), expected
    exceptions and ``<BLANKLINE>`` follow doctest's own rules; ``optionflags`` (names,
    e.g. the project's ``doctest_optionflags``) apply to every example, as in pytest.
    They run with the module's names, and its top-level package's name where the module
    has none of that name (``semver.compare(...)`` in ``semver._deprecated``)."""
    text = _doctest_text(examples)
    parsed = doctest.DocTestParser().get_examples(text)
    def line_end(text: str) -> str:
        return text if text == "" or text.endswith("\n") else text + "\n"

    if [(e.source, e.want) for e in parsed] != [(line_end(x.source), line_end(x.want)) for x in examples]:
        raise ValueError(f"cannot rebuild the doctest examples of {qualname}")
    body = _DOCTEST_TEMPLATE.format(module=module_name, qualname=qualname, text=text, checker=CHECKER_SOURCE,
                                    flags_line=FLAGS_LINE)
    body = with_optionflags(body, optionflags)
    tests = "".join(f"\n\ndef test_doctest_{n}():\n    _check({n})\n" for n in range(len(examples)))
    return body + tests




def with_optionflags(content: str, names) -> str:
    """A doctest file of :func:`make_doctest_file` whose examples run with the option flags
    ``names`` (the sandbox sets the project's ``doctest_optionflags`` this way)."""
    names = [str(n) for n in names]
    if FLAGS_LINE not in content and not re.search(r"^OPTIONFLAGS = \[.*\]$", content, re.M):
        raise ValueError("not a doctest file of make_doctest_file")
    return re.sub(r"^OPTIONFLAGS = \[.*\]$", lambda m: f"OPTIONFLAGS = {names!r}", content, count=1, flags=re.M)


def doctest_text(examples: list[Example]) -> str:
    """The examples as doctest text (what :func:`check_outside` parses back)."""
    return _doctest_text(examples)


def _flags(example: doctest.Example, base: int = 0) -> int:
    flags = base
    for flag, on in example.options.items():
        flags = flags | flag if on else flags & ~flag
    return flags


def check_outside(text: str, test_id: str, got: object, optionflags=()) -> str | None:
    """None when ``got`` (``["out", text]`` or ``["exc", line]``) satisfies the example
    that ``test_id`` checks under ``optionflags`` (names) and its own directives, else why not."""
    match = TEST_NAME.search(test_id)
    examples = doctest.DocTestParser().get_examples(text)
    if match is None or int(match.group(1)) >= len(examples):
        return "not a test of a known doctest example"
    example = examples[int(match.group(1))]
    flags = _flags(example, optionflag_bits(optionflags))
    if flags & doctest.SKIP:
        return None
    if not (isinstance(got, list) and len(got) == 2 and got[0] in ("out", "exc") and isinstance(got[1], str)):
        return "the run reported no output for this example"
    kind, value = got
    checker = LiteralsChecker()
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
