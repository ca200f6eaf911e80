"""The spec finder: which functions are targets, and the exact ranges it reports."""

from __future__ import annotations

import ast
import re
import textwrap

import pytest

from specloop.source import stubs
from specloop.source.spec import Example, FindResult, Pos, Range, Target, find_target, find_targets


def lines_of(source: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", source)


def text_at(source: str, rng: Range) -> str:
    lines = lines_of(source)
    if rng.start.line == rng.end.line:
        return lines[rng.start.line][rng.start.col:rng.end.col]
    return "\n".join([lines[rng.start.line][rng.start.col:], *lines[rng.start.line + 1:rng.end.line],
                      lines[rng.end.line][:rng.end.col]])


def only(source: str) -> Target:
    result = find_targets(source)
    assert result.error is None, result.error
    assert len(result.targets) == 1, [t.qualname for t in result.targets]
    return result.targets[0]


def check_ranges(source: str, t: Target) -> None:
    """Invariants every target keeps: name range is the name, def range
    starts with the header, the body range lies inside the def range."""
    assert text_at(source, t.name_range) == t.name
    assert t.def_range.start.col == 0
    assert text_at(source, t.def_range).replace("\r\n", "\n").startswith(t.header.replace("\r\n", "\n"))
    assert t.def_range.start <= t.body_range.start <= t.body_range.end
    assert t.body_range.end.line == t.def_range.end.line


def qualnames(source: str) -> list[str]:
    return [t.qualname for t in find_targets(source).targets]


def test_docstring_only_function() -> None:
    src = 'import math\n\n\ndef area(w: float, h: float = 1.0) -> float:\n    """Area of a w x h rectangle.\n\n    >>> area(2, 3)\n    6\n    """\n\n\nx = 1\n'
    t = only(src)
    check_ranges(src, t)
    assert (t.name, t.qualname, t.class_name, t.is_async) == ("area", "area", None, False)
    assert t.params == ["w", "h"]
    assert t.header == "def area(w: float, h: float = 1.0) -> float:"
    assert t.docstring == "Area of a w x h rectangle.\n\n>>> area(2, 3)\n6"
    assert t.examples == [Example("area(2, 3)\n", "6\n", 2)]
    assert t.def_range == Range(Pos(3, 0), Pos(8, 7))
    assert t.name_range == Range(Pos(3, 4), Pos(3, 8))
    # docstring only: insert after the closing quotes, up to the end of that line
    assert t.body_range == Range(Pos(8, 7), Pos(8, 7))
    assert t.body_indent == "    " and t.newline == "\n"
    assert t.spec == t.docstring and t.comment_spec is None


@pytest.mark.parametrize("stub", ["...", "pass", "raise NotImplementedError",
                                  'raise NotImplementedError("later")', "pass\n    ..."])
def test_docstring_then_stub_statement(stub: str) -> None:
    src = f'def f(x):\n    """Double x."""\n    {stub}\n'
    t = only(src)
    check_ranges(src, t)
    # the range covers the stub statements, from the first one to the end of the function
    assert text_at(src, t.body_range) == stub
    assert t.body_range.start == Pos(2, 4)


def test_stub_without_spec_is_not_a_target() -> None:
    assert qualnames("def f(x): ...\n\ndef g():\n    pass\n\ndef h():\n    raise NotImplementedError\n") == []


def test_functions_with_code_are_not_targets() -> None:
    src = 'def f():\n    """Doc."""\n    return 1\n\ndef g():\n    """Doc."""\n    ...\n    x = 1\n'
    assert qualnames(src) == []


def test_nested_functions_are_not_targets_but_methods_at_any_depth_are() -> None:
    src = textwrap.dedent('''\
        def outer():
            def inner():
                """Inner."""
            return inner

        class A:
            def m(self):
                """A.m."""

            class B:
                class C:
                    async def deep(self, *args, key, **kw):
                        """Deep."""
                        ...
        ''')
    result = find_targets(src)
    assert [t.qualname for t in result.targets] == ["A.m", "A.B.C.deep"]
    deep = result.targets[1]
    assert deep.class_name == "C" and deep.is_async
    assert deep.params == ["self", "args", "key", "kw"]
    assert deep.body_indent == " " * 16
    for t in result.targets:
        check_ranges(src, t)


def test_decorated_method_keeps_decorators_in_header_and_range() -> None:
    src = textwrap.dedent('''\
        import functools

        class Cache:
            @functools.lru_cache(
                maxsize=None)
            @staticmethod
            def compute(a, /, b):  # note
                """Compute."""
        ''')
    t = only(src)
    check_ranges(src, t)
    assert t.decorators == ["functools.lru_cache(\n        maxsize=None)", "staticmethod"]
    assert t.header == ("    @functools.lru_cache(\n        maxsize=None)\n    @staticmethod\n"
                        "    def compute(a, /, b):")
    assert t.def_range.start == Pos(3, 0)
    assert t.name_range == Range(Pos(6, 8), Pos(6, 15))
    assert t.params == ["a", "b"]


def test_deliberate_stubs_are_left_alone() -> None:
    src = textwrap.dedent('''\
        import abc
        from typing import Protocol, overload

        class Base(abc.ABC):
            @abc.abstractmethod
            def area(self):
                """Return the area."""

        class Reader(Protocol):
            def read(self) -> bytes:
                """Read it all."""

        @overload
        def f(x: int) -> int:
            """Int."""
        ''')
    assert qualnames(src) == []


def test_comment_spec_above_a_stub() -> None:
    src = textwrap.dedent('''\
        x = 1
        # unrelated note
        # spec: return the larger of a and b;
        #   ties return a
        @staticmethod
        def larger(a, b): ...
        ''')
    t = only(src)
    check_ranges(src, t)
    assert t.docstring is None
    assert t.comment_spec == "return the larger of a and b;\n  ties return a"
    assert t.spec == t.comment_spec
    # body on the def line: replace from just after the colon
    assert t.body_range == Range(Pos(5, 17), Pos(5, 21))
    assert text_at(src, t.body_range) == " ..."
    assert t.def_range.start == Pos(4, 0)    # the spec comment is not part of the def


def test_comment_spec_must_touch_the_def() -> None:
    assert qualnames("# spec: add a and b\n\ndef add(a, b): ...\n") == []
    assert qualnames("# spec: add\n# more\ndef add(a, b):\n    pass\n") == ["add"]


def test_comment_spec_without_docstring_stub_on_own_line() -> None:
    src = "class K:\n    # spec: say hi\n    def hi(self):\n        raise NotImplementedError()  # todo\n"
    t = only(src)
    assert t.comment_spec == "say hi"
    assert t.body_range == Range(Pos(3, 8), Pos(3, 43))   # the stub line's comment goes with the stub
    assert t.body_indent == "        "


def test_one_line_docstring_def() -> None:
    src = 'def one(): """Return 1."""\n'
    t = only(src)
    check_ranges(src, t)
    assert t.docstring == "Return 1."
    assert t.body_range == Range(Pos(0, 10), Pos(0, 26))
    assert text_at(src, t.body_range) == ' """Return 1."""'
    assert t.body_indent == "    "


def test_body_indent_on_def_line_follows_the_file() -> None:
    tabs = 'class A:\n\tx = 1\n\tdef f(self): """Doc."""\n'
    assert only(tabs).body_indent == "\t\t"
    two = 'class A:\n  x = 1\n  # spec: f\n  def f(self): ...\n'
    assert only(two).body_indent == "    "
    top = 'if True:\n  pass\n\n# spec: g\ndef g(): ...\n'
    assert only(top).body_indent == "  "


def test_trailing_comment_after_docstring_is_kept_out_of_the_range() -> None:
    src = 'def f():\n    """Doc."""  # keep me\n'
    t = only(src)
    assert t.body_range == Range(Pos(1, 25), Pos(1, 25))


def test_crlf_file() -> None:
    src = 'import os\r\n\r\ndef f(a):\r\n    """Doc.\r\n\r\n    More."""\r\n\r\ndef g(): ...\r\n'
    t = only(src)
    assert t.newline == "\r\n"
    assert t.docstring == "Doc.\n\nMore."
    assert t.def_range == Range(Pos(2, 0), Pos(5, 12))
    assert t.body_range == Range(Pos(5, 12), Pos(5, 12))


def test_columns_are_python_characters() -> None:
    src = 'def café(x="é"):\n    """Prix en €."""\n'
    t = only(src)
    assert t.name_range == Range(Pos(0, 4), Pos(0, 8))
    assert t.body_range.start == Pos(1, len('    """Prix en €."""')) == Pos(1, 20)
    assert text_at(src, t.body_range) == ""
    assert t.header == 'def café(x="é"):'


def test_file_that_does_not_parse_gives_an_error_not_an_exception() -> None:
    assert find_targets("def f(:\n    pass\n") == FindResult([], error="line 1: invalid syntax")
    nul = find_targets('def f():\n    """x"""\n\0\n')
    assert nul.targets == [] and nul.error.startswith("line 3:")
    surrogate = find_targets('x = "\ud800"\n')
    assert surrogate.targets == [] and surrogate.error.startswith("line 1:")
    assert find_targets("(" * 500).error.startswith("line 1:")
    assert find_targets("") == FindResult([])


def test_error_in_a_later_chunk_is_reported_even_when_earlier_chunks_are_cached() -> None:
    good = 'def a():\n    """A."""\n\n\ndef b():\n    """B."""\n'
    assert qualnames(good) == ["a", "b"]
    bad = good + "\n\ndef c(:\n    pass\n"
    assert find_targets(bad).error == "line 9: invalid syntax"


def test_cut_inside_a_string_falls_back_to_the_whole_file() -> None:
    src = ('"""Module doc with an example:\n\n'
           "def fake():\n    '''Not a real function.'''\n"
           '"""\n\n\n'
           'def real():\n    """Real."""\n')
    assert ast.parse(src)
    assert qualnames(src) == ["real"]
    assert qualnames(src) == ["real"]      # again, from whatever was remembered


def test_results_stay_right_while_the_file_is_edited() -> None:
    stubs._cache.clear()
    parts = [f'def f{i}(x):\n    """F{i}."""\n' for i in range(40)]
    src = "\n\n".join(parts)
    assert qualnames(src) == [f"f{i}" for i in range(40)]
    edited = src.replace('def f7(x):\n    """F7."""\n', 'def f7(x):\n    """F7."""\n    return x\n')
    names = qualnames(edited)
    assert names == [f"f{i}" for i in range(40) if i != 7]
    moved = "import os\n\n\n" + edited
    targets = find_targets(moved).targets
    assert [t.def_range.start.line for t in targets[:2]] == [3, 7]
    assert find_target(moved, "f39").def_range.start.line == lines_of(moved).index("def f39(x):")


def test_future_import_file() -> None:
    src = 'from __future__ import annotations\n\n\ndef f(x: "int") -> int:\n    """F."""\n'
    assert qualnames(src) == ["f"]


def test_find_target_by_qualname() -> None:
    src = 'class A:\n    def m(self):\n        """M."""\n\ndef m():\n    """Top m."""\n'
    assert find_target(src, "A.m").class_name == "A"
    assert find_target(src, "m").docstring == "Top m."
    assert find_target(src, "B.m") is None
    assert find_target("def broken(:", "broken") is None


def test_empty_docstring_is_no_spec() -> None:
    assert qualnames('def f():\n    """  """\n') == []


def test_fingerprint_follows_header_and_spec() -> None:
    a = only('def f(x):\n    """Double x."""\n')
    b = only('def f(x):\n    """Double x."""\n    ...\n')
    c = only('def f(x):\n    """Triple x."""\n')
    d = only('def f(x, y):\n    """Double x."""\n')
    assert a.fingerprint == b.fingerprint
    assert len({a.fingerprint, c.fingerprint, d.fingerprint}) == 3


def test_large_file_finds_every_target() -> None:
    parts = []
    for i in range(300):
        parts.append(f'class C{i}:\n    """C{i}."""\n\n    def m(self, a, b=2, *c, d, **e):\n'
                     f'        """Do m {i}.\n\n        >>> 1 + 1\n        2\n        """\n\n'
                     f'    def n(self, a):\n        return a + {i}\n')
    src = "\n\n".join(parts)
    assert src.count("\n") > 4000
    targets = find_targets(src).targets
    assert len(targets) == 300
    last = targets[-1]
    assert last.qualname == "C299.m" and last.examples[0].want == "2\n"
    check_ranges(src, last)


def test_chunks_are_remembered_and_an_edit_reparses_only_its_chunk() -> None:
    stubs._cache.clear()
    parts = [f'def g{i}(x):\n    """G{i}."""\n' for i in range(10)]
    src = "import os\n\n\n" + "\n\n".join(parts)
    assert qualnames(src) == [f"g{i}" for i in range(10)]
    remembered = set(stubs._cache)
    assert len(remembered) == 11                      # the import chunk and one chunk per def
    edited = src.replace('"""G4."""', '"""G4, edited."""')
    assert find_target(edited, "g4").docstring == "G4, edited."
    assert set(stubs._cache) - remembered == {'def g4(x):\n    """G4, edited."""\n\n\n'}


# Shapes a fuzzer found broken -------------------------------------------------

def test_backslash_after_a_docstring_is_inside_the_body_range() -> None:
    src = 'def f(x):\n    """Doc."""\\\n\ndef g(): pass\n'
    t = only(src)
    check_ranges(src, t)
    assert t.body_range == Range(Pos(1, 14), Pos(1, 15))   # the dangling backslash is replaced too
    assert text_at(src, t.body_range) == "\\"


@pytest.mark.parametrize("valid,broken", [
    # the chunk of the valid file equals the broken file's text plus the newline the chunker used to add
    ('def f(x):\n    """Doc."""\\\n\ndef g(): pass\n', 'def f(x):\n    """Doc."""\\\n'),
    ('x = 1\n\ndef f(x):\n    """Doc."""\\\n\ndef g(): pass\n', 'x = 1\n\ndef f(x):\n    """Doc."""\\\n'),
    ('def f(x):\r    """Doc."""\\\r\rdef g(): pass\r', 'def f(x):\r    """Doc."""\\\r'),
])
def test_remembered_chunks_never_report_targets_for_a_file_that_does_not_parse(valid, broken) -> None:
    stubs._cache.clear()
    assert qualnames(valid) == ["f"]
    with pytest.raises(SyntaxError):
        ast.parse(broken)
    result = find_targets(broken)
    assert result.targets == [] and result.error is not None and result.error.startswith("line ")
    stubs._cache.clear()
    assert find_targets(broken) == result                  # the same answer without the cache


def test_cr_only_file_keeps_cr_newlines() -> None:
    src = 'import os\r\rdef f(a):\r    """Doc.\r\r    More."""\r\rX = 1\r'
    t = only(src)
    check_ranges(src, t)
    assert t.newline == "\r"
    assert t.docstring == "Doc.\n\nMore."
    assert t.def_range == Range(Pos(2, 0), Pos(5, 12))


def test_mixed_newlines_give_each_target_the_newline_around_it() -> None:
    src = ('import os\n\n# spec: f\r\ndef f(a,\r\n      b): ...\r\n\n'
           'def g(b):\n    """G."""\n\ndef h(): """H."""\r')
    f, g, h = find_targets(src).targets
    assert (f.newline, g.newline, h.newline) == ("\r\n", "\n", "\r")
    assert f.header == "def f(a,\r\n      b):"                  # the header is the file's text exactly
