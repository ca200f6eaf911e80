"""Reading model replies into candidates, and the one-line reasons for refusing them."""

from __future__ import annotations

import ast

import pytest

from specloop.source.candidate import CandidateError, parse_candidate, reindent, string_lines
from specloop.source.spec import Target, find_target

MODULE = '''\
import functools


def area(w, h=1):
    """Area of a w x h rectangle.

    >>> area(2, 3)
    6
    """


# spec: add a and b
def add(a, b): ...


class Shape:
    class Box:
        @functools.cache
        @staticmethod
        def volume(w, h, d):
            """Volume of the box."""

    async def fetch(self, *, key):
        """Fetch key."""
'''


def target(qualname: str) -> Target:
    t = find_target(MODULE, qualname)
    assert t is not None
    return t


def reject(code: str, qualname: str = "area") -> str:
    with pytest.raises(CandidateError) as info:
        parse_candidate(code, target(qualname))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_plain_function_with_imports() -> None:
    reply = ('import math\nfrom os import (\n    path,\n    sep,\n)\n\n\n'
             'def area(w, h=1):\n    """Area of a w x h rectangle.\n\n    >>> area(2, 3)\n    6\n    """\n'
             '    # the product\n    result = w * h\n\n    return result\n')
    c = parse_candidate(reply, target("area"))
    assert c.imports == ["import math", "from os import path, sep"]
    assert c.body == "# the product\nresult = w * h\n\nreturn result\n"
    assert c.function_code.startswith("def area(w, h=1):\n")
    assert c.function_code.endswith("    return result\n")
    ast.parse(c.function_code)


def test_fenced_reply_with_prose_is_unwrapped() -> None:
    reply = "Here you go:\r\n\r\n```python\r\ndef area(w, h=1):\r\n    return w * h\r\n```\r\nThis multiplies."
    c = parse_candidate(reply, target("area"))
    assert c.body == "return w * h\n"
    assert c.function_code == "def area(w, h=1):\n    return w * h\n"


def test_the_replys_docstring_is_ignored() -> None:
    assert parse_candidate("def area(w, h=1):\n    return w * h\n", target("area")).body == "return w * h\n"
    same = ('def area(w, h=1):\n    """Area of a w x h rectangle.\n    >>> area(2, 3)\n    6"""\n'
            '    return w * h\n')
    assert parse_candidate(same, target("area")).body == "return w * h\n"
    shortened = 'def area(w, h=1):\n    """Area of a w x h\n    rectangle."""\n    return w * h\n'
    assert parse_candidate(shortened, target("area")).body == "return w * h\n"
    rewritten = 'def area(w, h=1):\n    """Area of a square."""\n    return w * h\n'
    assert parse_candidate(rewritten, target("area")).body == "return w * h\n"


def test_method_without_its_class_indented_or_not() -> None:
    t = target("Shape.Box.volume")
    flat = "@functools.cache\n@staticmethod\ndef volume(w, h, d):\n    return w * h * d\n"
    assert parse_candidate(flat, t).body == "return w * h * d\n"
    indented = "    def volume(w, h, d):\n        text = '''\nraw\n'''\n        return w * h * d\n"
    c = parse_candidate(indented, t)
    assert c.body == "text = '''\nraw\n'''\nreturn w * h * d\n"
    assert c.function_code == "def volume(w, h, d):\n    text = '''\nraw\n'''\n    return w * h * d\n"


def test_method_inside_a_class_wrapper() -> None:
    reply = ("import asyncio\n\nclass Shape:\n    def other(self):\n        return 0\n\n"
             "    async def fetch(self, *, key):\n        await asyncio.sleep(0)\n        return key\n")
    c = parse_candidate(reply, target("Shape.fetch"))
    assert c.imports == ["import asyncio"]
    assert c.body == "await asyncio.sleep(0)\nreturn key\n"
    assert c.function_code.startswith("async def fetch(self, *, key):")


def test_body_on_the_def_line() -> None:
    c = parse_candidate("def add(a, b): return a + b  # sum\n", target("add"))
    assert c.body == "return a + b  # sum\n"


def test_docstring_added_to_a_comment_spec_target_is_not_in_the_body() -> None:
    c = parse_candidate('def add(a, b):\n    """Add."""\n    return a + b\n', target("add"))
    assert c.body == "return a + b\n"


def test_future_imports_are_dropped() -> None:
    c = parse_candidate("from __future__ import annotations\nimport os\ndef add(a, b):\n    return a + b\n",
                        target("add"))
    assert c.imports == ["import os"]


def test_unused_top_level_code_is_ignored() -> None:
    reply = ("def add(a, b):\n    total = a + b\n    return total\n\n"
             "def test_add():\n    assert add(1, 2) == 3\n\ntotal = add(1, 2)\n"
             "if __name__ == '__main__':\n    print(total)\n")
    assert parse_candidate(reply, target("add")).body == "total = a + b\nreturn total\n"


@pytest.mark.parametrize(("code", "qualname", "words"), [
    ("def area(w, h=1:\n    return 1\n", "area", ["does not parse", "line 1"]),
    ("", "area", ["no code"]),
    ("def volume(w, h):\n    return 1\n", "area", ["does not define", "'area'"]),
    ("def area(w, height=1):\n    return w\n", "area", ["parameters", "(w, h)", "(w, height)"]),
    ("def area(h, w=1):\n    return w\n", "area", ["parameters"]),
    ("async def area(w, h=1):\n    return w\n", "area", ["must not be 'async def'"]),
    ("def fetch(self, *, key):\n    return key\n", "Shape.fetch", ["must be 'async def'"]),
    ("@classmethod\ndef volume(w, h, d):\n    return 1\n", "Shape.Box.volume",
     ["decorators", "@functools.cache, @staticmethod"]),
    ('def area(w, h=1):\n    """Area of a w x h rectangle.\n\n    >>> area(2, 3)\n    6\n    """\n', "area",
     ["still a stub"]),
    ("def area(w, h=1):\n    ...\n", "area", ["still a stub"]),
    ("def area(w, h=1):\n    raise NotImplementedError('todo')\n", "area", ["still a stub"]),
    ("def area(w, h=1):\n    return 1\n\ndef area(w, h=1):\n    return 2\n", "area", ["more than once"]),
    ("def _mul(a, b):\n    return a * b\n\ndef area(w, h=1):\n    return _mul(w, h)\n", "area",
     ["'_mul'", "inside the function"]),
    ("FACTOR = 2\ndef add(a, b):\n    return (a + b) * FACTOR // 2\n", "add", ["'FACTOR'"]),
])
def test_rejections_say_why_in_one_line(code: str, qualname: str, words: list[str]) -> None:
    message = reject(code, qualname)
    for word in words:
        assert word in message, message


def test_locals_with_top_level_namesakes_are_not_helpers() -> None:
    reply = ("result = 0\n\ndef add(a, b):\n    result = a + b\n    for i in range(0):\n        pass\n"
             "    return result\n")
    assert parse_candidate(reply, target("add")).body.startswith("result = a + b\n")


def test_string_lines_and_reindent_keep_string_contents() -> None:
    code = 'x = """a\n  b\nc"""\nif x:\n    y = (1,\n         2)\n    # note\n'
    assert string_lines(code) == {1, 2}
    assert reindent(code, "\t") == ['\tx = """a', "  b", 'c"""', "\tif x:", "\t    y = (1,",
                                     "\t         2)", "\t    # note"]
    assert reindent(code, "\t", unit="\t") == ['\tx = """a', "  b", 'c"""', "\tif x:", "\t\ty = (1,",
                                                "\t\t     2)", "\t\t# note"]
    two = "if a:\n  if b:\n    return 1\n"
    assert reindent(two, "    ", unit="    ") == ["    if a:", "        if b:", "            return 1"]


def test_the_body_keeps_the_replys_layout_below_the_docstring() -> None:
    """What follows the docstring is kept as written (blank lines, a comment, a decorated
    nested def, trailing blanks), so the original function placed back is the original."""
    reply = ('def area(w, h=1):\n    """Area."""\n\n    # a note\n    @functools.cache  \n'
             '    def inner(x):\n        return x\n    \n    return inner(w) * h  \n')
    c = parse_candidate(reply, target("area"))
    # a line of blanks only keeps them counted from the def's column ("    " here)
    assert c.body == "\n# a note\n@functools.cache  \ndef inner(x):\n    return x\n    \nreturn inner(w) * h  \n"
    assert c.function_code.endswith("    return inner(w) * h  \n")
    indented = "    " + reply.replace("\n", "\n    ").rstrip(" ")
    assert parse_candidate(indented, target("area")).body == c.body
    assert reindent(c.body, "\t\t", blank="\t") == ["", "\t\t# a note", "\t\t@functools.cache  ", "\t\tdef inner(x):",
                                                   "\t\t    return x", "\t    ", "\t\treturn inner(w) * h  "]
    assert reindent(c.body, "\t\t")[5] == ""
