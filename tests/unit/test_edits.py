"""Edits that put a candidate into the file: minimal, byte-exact elsewhere, runnable."""

from __future__ import annotations

import ast
import re

import pytest

from specloop.source.candidate import parse_candidate
from specloop.source.edits import TextEdit, apply_edits, candidate_module, import_edit, implementation_edits
from specloop.source.spec import Pos, Range, find_target, find_targets


def offset(source: str, pos: Pos) -> int:
    starts = [0, *(m.end() for m in re.finditer(r"\r\n|\r|\n", source))]
    return starts[pos.line] + pos.col


def implement(source: str, qualname: str, reply: str) -> tuple[str, list[TextEdit]]:
    """Apply a reply and check what must hold for every edit: sorted, not
    overlapping, text outside the edited ranges byte-identical, result parses,
    the target is no longer a stub and the other targets are untouched."""
    target = find_target(source, qualname)
    assert target is not None, find_targets(source)
    candidate = parse_candidate(reply, target)
    edits = implementation_edits(source, target, candidate)
    result = candidate_module(source, target, candidate)
    assert result == apply_edits(source, edits)
    spans = [(offset(source, e.range.start), offset(source, e.range.end)) for e in edits]
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert result.startswith(source[:spans[0][0]])
    # everything before the first edit, between edits and after the last edit is unchanged
    cursor = 0
    rebuilt = []
    for (start, end), edit in zip(spans, edits):
        piece = source[cursor:start]
        assert piece in result
        rebuilt += [piece, edit.new_text]
        cursor = end
    rebuilt.append(source[cursor:])
    assert result == "".join(rebuilt)
    assert result.endswith(source[spans[-1][1]:])
    ast.parse(result)
    others = [t.qualname for t in find_targets(source).targets if t.qualname != qualname]
    assert [t.qualname for t in find_targets(result).targets] == others
    return result, edits


def run(module_text: str) -> dict:
    namespace: dict = {"__name__": "edited"}
    exec(compile(module_text, "edited.py", "exec"), namespace)
    return namespace


def test_docstring_function_gets_body_below_the_docstring() -> None:
    src = 'import os\n\n\ndef area(w, h):\n    """Area.\n\n    >>> area(2, 3)\n    6\n    """\n\n\ndef other():\n    return 1\n'
    result, edits = implement(src, "area", "```python\ndef area(w, h):\n    return w * h\n```")
    assert len(edits) == 1
    assert result == src.replace('    """\n\n\ndef other', '    """\n    return w * h\n\n\ndef other')
    assert run(result)["area"](2, 3) == 6


def test_crlf_file_stays_crlf() -> None:
    src = '"""Mod."""\r\nimport os\r\n\r\ndef area(w, h):\r\n    """Area."""\r\n\r\nX = 1\r\n'
    result, _ = implement(src, "area", "import math\ndef area(w, h):\n    if w < 0:\n        return 0\n"
                                       "    return math.prod([w, h])\n")
    assert "\n" not in result.replace("\r\n", "")
    assert result == ('"""Mod."""\r\nimport os\r\nimport math\r\n\r\ndef area(w, h):\r\n    """Area."""\r\n'
                      '    if w < 0:\r\n        return 0\r\n    return math.prod([w, h])\r\n\r\nX = 1\r\n')
    assert run(result)["area"](2, 3) == 6


def test_tab_indented_file_stays_tabs_for_a_method_in_a_nested_class() -> None:
    src = 'class Outer:\n\tclass Inner:\n\t\tdef pick(self, xs):\n\t\t\t"""First positive of xs, else None."""\n\n\tdef keep(self):\n\t\treturn 1\n'
    reply = ("class Inner:\n    def pick(self, xs):\n        for x in xs:\n            if x > 0:\n"
             "                return x\n        return None\n")
    result, _ = implement(src, "Outer.Inner.pick", reply)
    body = result.split('None."""\n')[1].split("\n\n")[0]
    assert body == "\t\t\tfor x in xs:\n\t\t\t\tif x > 0:\n\t\t\t\t\treturn x\n\t\t\treturn None"
    assert run(result)["Outer"].Inner().pick([-1, 0, 5]) == 5


def test_async_decorated_method() -> None:
    src = ('def traced(fn):\n    return fn\n\n\nclass Store:\n    @staticmethod\n    @traced\n'
           '    async def get(key, /, *, default=None):\n        """Return key upper-cased, or default."""\n'
           '        ...\n')
    reply = ("@staticmethod\n@traced\nasync def get(key, /, *, default=None):\n"
             "    return key.upper() if key else default\n")
    result, _ = implement(src, "Store.get", reply)
    assert result.endswith('"""Return key upper-cased, or default."""\n        return key.upper() if key else default\n')
    import asyncio
    assert asyncio.run(run(result)["Store"].get("ab")) == "AB"


def test_one_line_stub_and_comment_spec() -> None:
    src = "# spec: the larger of a and b\ndef larger(a, b): ...\n\nY = 2\n"
    result, edits = implement(src, "larger", "def larger(a, b):\n    return a if a >= b else b\n")
    assert result == "# spec: the larger of a and b\ndef larger(a, b):\n    return a if a >= b else b\n\nY = 2\n"
    assert edits[0].range == Range(Pos(1, 17), Pos(1, 21))
    assert run(result)["larger"](2, 9) == 9


def test_one_line_docstring_def_gets_its_docstring_back() -> None:
    src = 'class A:\n  x = 1\n  def twice(self, n): """Twice n."""\n'
    result, _ = implement(src, "A.twice", "def twice(self, n):\n    return 2 * n\n")
    assert result == 'class A:\n  x = 1\n  def twice(self, n):\n    """Twice n."""\n    return 2 * n\n'
    assert run(result)["A"]().twice(4) == 8


def test_file_without_final_newline() -> None:
    src = 'def f(x):\n    """Return x + 1."""'
    result, _ = implement(src, "f", "def f(x):\n    return x + 1\n")
    assert result == 'def f(x):\n    """Return x + 1."""\n    return x + 1'
    src2 = 'import os\ndef g(x):\n    """Path of x."""\n    pass'
    result2, _ = implement(src2, "g", "import os.path\ndef g(x):\n    return os.path.join('a', x)\n")
    assert result2 == 'import os\nimport os.path\ndef g(x):\n    """Path of x."""\n    return os.path.join(\'a\', x)'


def test_encoding_line_and_shebang_stay_first() -> None:
    src = "#!/usr/bin/env python3\n# -*- coding: latin-1 -*-\ndef f(x):\n    \"\"\"Square root of x.\"\"\"\n"
    result, _ = implement(src, "f", "import math\ndef f(x):\n    return math.sqrt(x)\n")
    assert result.startswith("#!/usr/bin/env python3\n# -*- coding: latin-1 -*-\nimport math\n\ndef f(x):")
    assert run(result)["f"](9) == 3


def test_imports_after_docstring_and_future_import() -> None:
    src = '"""Module."""\nfrom __future__ import annotations\n\n\ndef f(x):\n    """Sqrt."""\n'
    result, _ = implement(src, "f", "from __future__ import annotations\nimport math\n"
                                    "def f(x):\n    return math.sqrt(x)\n")
    assert result.startswith('"""Module."""\nfrom __future__ import annotations\nimport math\n\n\ndef f')
    only_doc = '"""Module."""\n\n# spec: square root\ndef f(x): ...\n'
    result, _ = implement(only_doc, "f", "import math\ndef f(x):\n    return math.sqrt(x)\n")
    assert result == '"""Module."""\n\nimport math\n\n# spec: square root\ndef f(x):\n    return math.sqrt(x)\n'


def test_spec_comment_at_top_of_file_stays_attached() -> None:
    src = "# spec: square root of x\ndef f(x): ...\n"
    result, _ = implement(src, "f", "import math\ndef f(x):\n    return math.sqrt(x)\n")
    assert result == "import math\n\n# spec: square root of x\ndef f(x):\n    return math.sqrt(x)\n"
    licensed = "# Copyright them\n# MIT\n\n# spec: square root of x\ndef f(x): ...\n"
    result, _ = implement(licensed, "f", "import math\ndef f(x):\n    return math.sqrt(x)\n")
    assert result.startswith("# Copyright them\n# MIT\n\nimport math\n\n# spec: square root")


def test_import_merge_skips_what_is_bound_and_adds_what_is_missing() -> None:
    src = ("import os\nimport numpy as np\nfrom collections import OrderedDict\n\n\ndef helper():\n    return 1\n\n\n"
           "def f(x):\n    \"\"\"Stuff.\"\"\"\n")
    reply = ("import os\nimport numpy as np\nfrom collections import OrderedDict, Counter\n"
             "from geo import helper\nimport json, os.path\n"
             "def f(x):\n    return Counter(json.dumps(x)), helper(), OrderedDict(), np, os.path\n")
    result, edits = implement(src, "f", reply)
    assert edits[0].new_text == "from collections import Counter\nimport json\nimport os.path\n"
    assert edits[0].range == Range(Pos(3, 0), Pos(3, 0))
    assert import_edit(src, ["import os", "from os import sep as os"]) is None


def test_import_edit_alone() -> None:
    assert import_edit("x = 1\n", []) is None
    assert import_edit("def broken(:\n", ["import os"]) is None
    edit = import_edit("x = 1\n", ["import os", "import os"], "\r\n")
    assert edit == TextEdit(Range(Pos(0, 0), Pos(0, 0)), "import os\r\n\r\n")
    only_import = import_edit("import sys", ["import os"])
    assert apply_edits("import sys", [only_import]) == "import sys\nimport os"


def test_multiline_string_in_body_is_not_reindented() -> None:
    src = "class T:\n    def text(self):\n        \"\"\"A fixed two-line text.\"\"\"\n"
    reply = 'def text(self):\n    return """first\nsecond"""\n'
    result, _ = implement(src, "T.text", reply)
    assert run(result)["T"]().text() == "first\nsecond"


def test_docstring_with_stub_statement_on_same_line() -> None:
    src = 'def f():\n    """Return 3."""; pass\n'
    result, _ = implement(src, "f", "def f():\n    return 3\n")
    assert run(result)["f"]() == 3


def test_apply_edits_refuses_overlap_and_bad_positions() -> None:
    a = TextEdit(Range(Pos(0, 0), Pos(0, 3)), "x")
    b = TextEdit(Range(Pos(0, 2), Pos(0, 4)), "y")
    with pytest.raises(ValueError):
        apply_edits("abcdef\n", [a, b])
    with pytest.raises(ValueError):
        apply_edits("abc\n", [TextEdit(Range(Pos(5, 0), Pos(5, 0)), "z")])
    with pytest.raises(ValueError):
        apply_edits("abc\n", [TextEdit(Range(Pos(0, 9), Pos(0, 9)), "z")])
    assert apply_edits("ab\r\ncd", [TextEdit(Range(Pos(1, 0), Pos(1, 1)), "X"),
                                    TextEdit(Range(Pos(0, 0), Pos(0, 0)), ">")]) == ">ab\r\nXd"


# Shapes a fuzzer found broken -------------------------------------------------

def test_docstring_line_ending_in_a_backslash_continuation() -> None:
    src = 'def f(x):\n    """Return x + 1."""\\\n\ndef g(): pass\n'
    result, _ = implement(src, "f", "def f(x):\n    return x + 1\n")
    assert result == 'def f(x):\n    """Return x + 1."""\n    return x + 1\n\ndef g(): pass\n'
    one_line = 'def f(x): """Return x + 1.""" \\\n\nY = 1\n'
    result, _ = implement(one_line, "f", "def f(x):\n    return x + 1\n")
    assert result == 'def f(x):\n    """Return x + 1."""\n    return x + 1\n\nY = 1\n'
    joined = 'def f(x):\n    """Return x + 1.""" \\\n    ; pass\n'
    result, _ = implement(joined, "f", "def f(x):\n    return x + 1\n")
    assert run(result)["f"](1) == 2 and '"""Return x + 1."""' in result


@pytest.mark.parametrize("src,qualname,expected", [
    ('def f(a): """Return a."""  # keep\n', "f", 'def f(a):\n    """Return a."""  # keep\n    return a\n'),
    ('def f(a): """Return a.""" ; pass\t# keep\n', "f", 'def f(a):\n    """Return a."""\t# keep\n    return a\n'),
    ('# spec: return a\ndef f(a): ...  # keep\n', "f", '# spec: return a\ndef f(a):  # keep\n    return a\n'),
    ('# spec: return a\ndef f(a): raise NotImplementedError("# no")  # keep\n', "f",
     '# spec: return a\ndef f(a):  # keep\n    return a\n'),
    ('class A:\n    def f(self, a): """Return a."""  # keep # twice\n', "A.f",
     'class A:\n    def f(self, a):\n        """Return a."""  # keep # twice\n        return a\n'),
])
def test_trailing_comment_after_a_one_line_stub_survives(src, qualname, expected) -> None:
    reply = "def f(self, a):\n    return a\n" if "." in qualname else "def f(a):\n    return a\n"
    result, _ = implement(src, qualname, reply)
    assert result == expected


def test_cr_only_file_stays_cr() -> None:
    src = 'import os\r\rdef area(w, h):\r    """Area."""\r\rX = 1\r'
    result, _ = implement(src, "area", "import math\ndef area(w, h):\n    if w < 0:\n        return 0\n"
                                       "    return math.prod([w, h])\n")
    assert result == ('import os\rimport math\r\rdef area(w, h):\r    """Area."""\r'
                      '    if w < 0:\r        return 0\r    return math.prod([w, h])\r\rX = 1\r')
    assert run(result)["area"](2, 3) == 6


def test_mixed_newlines_inserted_text_follows_the_lines_around_it() -> None:
    src = 'import os\n\ndef area(w, h):\r\n    """Area."""\r\n\ndef g():\n    """G."""\n'
    result, _ = implement(src, "area", "import math\ndef area(w, h):\n    x = w * h\n    return math.floor(x)\n")
    assert result == ('import os\nimport math\n\ndef area(w, h):\r\n    """Area."""\r\n'
                      '    x = w * h\r\n    return math.floor(x)\r\n\ndef g():\n    """G."""\n')
    crlf_imports = 'import os\r\nimport re\r\n\ndef f(x):\n    """Sqrt."""\n'
    result, _ = implement(crlf_imports, "f", "import math\ndef f(x):\n    return math.sqrt(x)\n")
    assert result == 'import os\r\nimport re\r\nimport math\r\n\ndef f(x):\n    """Sqrt."""\n    return math.sqrt(x)\n'


def test_blank_lines_below_the_docstring_are_not_doubled_and_stay_empty() -> None:
    reply = 'def f(x):\n    """F."""\n\n    return x\n'
    # the stub line right under the docstring: the reply's blank line goes in, empty
    result, _ = implement('def f(x):\n    """F."""\n    pass\n', "f", reply)
    assert result == 'def f(x):\n    """F."""\n\n    return x\n'
    # the file has its blank line already: not a second one
    result, _ = implement('def f(x):\n    """F."""\n\n    pass\n', "f", reply)
    assert result == 'def f(x):\n    """F."""\n\n    return x\n'
    # blanks after the docstring's closing quotes stay
    result, _ = implement('def f(x):\n    """F."""  \t\n\nY = 1\n', "f", reply)
    assert result == 'def f(x):\n    """F."""  \t\n\n    return x\n\nY = 1\n'
    # a `# spec:` target has no docstring for a blank line to follow
    result, _ = implement("# spec: x itself\ndef f(x): ...\n", "f", reply)
    assert result == "# spec: x itself\ndef f(x):\n    return x\n"
    result, _ = implement("# spec: x itself\ndef f(x):\n    pass\n", "f", reply)
    assert result == "# spec: x itself\ndef f(x):\n    return x\n"


# Round trips on real files ------------------------------------------------------------
#
# Every documented function and method of a real module is stubbed the way a user would
# (its docstring kept, the rest of its body removed, or replaced by a stub line), the model
# answers with the original function, and the placed file must be the original byte for
# byte.  The modules are the Python's own stdlib sources, read only.

REAL_MODULES = ("textwrap", "shlex", "fnmatch", "posixpath", "genericpath", "heapq", "bisect")

SHAPES = '''\
#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Shapes that real modules have around and inside their functions."""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"\\w+")


def words(text):
    """The words of text.

    >>> words("a b")
    ['a', 'b']
    """

    # a comment after a blank line
    return _WORD.findall(text)


@functools.lru_cache(maxsize=None)
def decorated(n):
    """Fibonacci, cached."""
    # a comment right below the docstring

    if n < 2:
        return n   # trailing comment
    return decorated(n - 1) + decorated(n - 2)


def starts_with_a_nested_def(xs):
    """Sorted copy of xs, by a key defined inside."""
    def key(x):
        return (len(str(x)), x)

    return sorted(xs, key=key)


def starts_with_a_decorated_nested_def(fn):
    """A wrapper that changes nothing."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


def with_a_text_block():
    """A text at column 0 inside the body."""
    text = """\\
first
  second
"""
    return text + \\
        "third"


class Shape:
    """A shape."""

    def __init__(self, sides):
        """Keep sides."""

        self.sides = sides

    class Corner:
        """A corner."""

        def angle(self, degrees=90):
            """The angle, in radians."""
            import math
            return math.radians(degrees)

    async def fetch(self, key):
        """Fetch key."""  # a comment on the docstring's line
        for side in self.sides:  # a loop

            if side == key:
                return side
        return None


def continued(a,
              b):
    """Sum, on continuation lines."""
    total = (a +
             b)
    return total


def last(x):
    """The last function of the file."""
    if x:
        return x
    return None
'''

_BREAK = re.compile(r"\r\n|\r|\n")


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in _BREAK.finditer(text))]


def _content_end(text: str, starts: list[int], row: int) -> int:
    """The offset where line ``row``'s text ends (before its newline)."""
    end = starts[row + 1] if row + 1 < len(starts) else len(text)
    newline = _BREAK.search(text, starts[row], end)
    return newline.start() if newline else end


def _documented(tree: ast.Module) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    """(qualname, node, top level?) of every function and method, classes nested too."""
    found = []

    def visit(body: list[ast.stmt], quals: list[str]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((".".join([*quals, node.name]), node, not quals))
            elif isinstance(node, ast.ClassDef):
                visit(node.body, [*quals, node.name])
    visit(tree.body, [])
    return found


def _cases(source: str, *, last_in_file: bool = False):
    """Per documented function with a body on lines of its own: (qualname, the original
    text it must come back to, the function's text, the stubs a user might write)."""
    from specloop.source.spec import docstring_node, is_stub_statement

    starts = _line_starts(source)
    for qual, fn, top in _documented(ast.parse(source)):
        doc = docstring_node(fn.body)
        if doc is None or len(fn.body) < 2 or doc.lineno == fn.lineno or fn.body[1].lineno == doc.end_lineno:
            continue
        if all(is_stub_statement(s) for s in fn.body[1:]) or (last_in_file and not top):
            continue
        if any(re.search(r"overload|abstract", ast.unparse(d)) for d in fn.decorator_list):
            continue
        doc_end = _content_end(source, starts, doc.end_lineno - 1)
        fn_end = _content_end(source, starts, fn.end_lineno - 1)
        original = source[:fn_end] if last_in_file else source
        first = min([fn.lineno, *(d.lineno for d in fn.decorator_list)]) - 1
        newline = _BREAK.search(source, doc_end).group() if _BREAK.search(source, doc_end) else "\n"
        doc_line = source[starts[doc.lineno - 1]:doc_end]
        indent = doc_line[: len(doc_line) - len(doc_line.lstrip())]
        stubs = {"docstring only": original[:doc_end] + original[fn_end:]}
        for line in ("pass", "...", "raise NotImplementedError"):
            stubs[line] = original[:doc_end] + newline + indent + line + original[fn_end:]
        yield qual, original, source[starts[first]:fn_end], (doc.lineno - fn.lineno, doc.end_lineno - fn.lineno,
                                                             fn.lineno - 1 - first), stubs


def _dedented(function_text: str) -> list[str]:
    """The function's lines moved to column 0 (lines inside strings as they are)."""
    from specloop.source.candidate import string_lines

    text = function_text.replace("\r\n", "\n")
    lines, keep = text.split("\n"), string_lines(text)
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    return [line if i in keep or not line.startswith(indent) else line[len(indent):] for i, line in enumerate(lines)]


def _replies(function_text: str, doc_rows: tuple[int, int, int]) -> dict[str, str]:
    """The model's answer: the original function as in the file, moved to column 0, without
    its docstring, and with another docstring; each as the fenced block a reply holds."""
    lines = _dedented(function_text)
    first, last, decorators = doc_rows
    a, b = first + decorators, last + decorators
    doc_indent = lines[a][: len(lines[a]) - len(lines[a].lstrip())]
    forms = {"as in the file": function_text.replace("\r\n", "\n").split("\n"), "at column 0": lines,
             "no docstring": lines[:a] + lines[b + 1:],
             "another docstring": [*lines[:a], doc_indent + '"""Something else, shorter."""', *lines[b + 1:]]}
    return {name: "Here it is:\n```python\n" + "\n".join(form) + "\n```\n" for name, form in forms.items()}


def _round_trip(source: str, *, stubs=None, replies=None, last_in_file: bool = False) -> tuple[int, list[str]]:
    """How many placements were checked, and what differed in those that did not come back."""
    import difflib

    checked, failures = 0, []
    for qual, original, text, doc_rows, stub_texts in _cases(source, last_in_file=last_in_file):
        for stub_name, stub in stub_texts.items():
            if stubs is not None and stub_name not in stubs:
                continue
            target = find_target(stub, qual)
            assert target is not None, (qual, stub_name)
            for reply_name, reply in _replies(text, doc_rows).items():
                if replies is not None and reply_name not in replies:
                    continue
                checked += 1
                candidate = parse_candidate(reply, target)
                placed = apply_edits(stub, implementation_edits(stub, target, candidate))
                if placed != original:
                    diff = "".join(difflib.unified_diff(original.splitlines(True), placed.splitlines(True), n=0))
                    failures.append(f"{qual} ({stub_name}; reply {reply_name}):\n{diff}")
    return checked, failures


def _real_source(name: str) -> str:
    import importlib
    import inspect

    path = inspect.getsourcefile(importlib.import_module(name))
    assert path is not None
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def _tabs(source: str) -> str:
    """Indentation in tabs; continuation lines keep their alignment in spaces after the tabs."""
    import io
    import tokenize

    from specloop.source.candidate import string_lines

    starts: dict[int, int] = {}
    fresh = True
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NEWLINE:
            fresh = True
        elif tok.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.ENDMARKER,
                              tokenize.COMMENT) and fresh:
            starts[tok.start[0] - 1], fresh = tok.start[1], False
    lines, keep, logical = source.split("\n"), string_lines(source), 0
    for row, line in enumerate(lines):
        ws = len(line) - len(line.lstrip(" "))
        if row in keep or not line.strip():
            continue
        if row in starts or line.lstrip().startswith("#"):
            logical = starts.get(row, logical)
            lines[row] = "\t" * (ws // 4) + " " * (ws % 4) + line[ws:]
        elif ws >= logical:
            lines[row] = "\t" * (logical // 4) + " " * (ws - logical // 4 * 4) + line[ws:]
    return "\n".join(lines)


def _trailing_blanks(source: str) -> str:
    """Two blanks at the end of every line of code (and comment)."""
    import io
    import tokenize

    rows = {tok.start[0] - 1 for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type in (tokenize.NEWLINE, tokenize.NL)}
    lines = source.split("\n")
    return "\n".join(line + "  " if i in rows and line.strip() and not line.endswith("\\") else line
                     for i, line in enumerate(lines))


def _indented_blank_lines(source: str) -> str:
    """Empty lines get the indentation of the next line of code, as some editors leave them."""
    from specloop.source.candidate import string_lines

    lines, keep, below = source.split("\n"), string_lines(source), ""
    for row in range(len(lines) - 1, -1, -1):
        if row in keep:
            continue
        if lines[row].strip():
            below = lines[row][: len(lines[row]) - len(lines[row].lstrip())]
        else:
            lines[row] = below
    return "\n".join(lines)


STYLES = {"as written": lambda s: s, "CRLF": lambda s: s.replace("\n", "\r\n"), "tabs": _tabs,
          "trailing blanks": _trailing_blanks, "indented blank lines": _indented_blank_lines}


@pytest.mark.parametrize("module", REAL_MODULES)
def test_real_module_comes_back_byte_identical(module: str) -> None:
    source = _real_source(module)
    checked, failures = _round_trip(source, replies={"as in the file", "at column 0"})
    checked_last, failures_last = _round_trip(source, stubs={"docstring only"}, replies={"at column 0"},
                                              last_in_file=True)
    assert checked > 0 and checked_last > 0
    assert not failures + failures_last, "\n".join((failures + failures_last)[:5])


@pytest.mark.parametrize("style", STYLES)
def test_every_shape_comes_back_byte_identical_in_each_file_style(style: str) -> None:
    source = STYLES[style](SHAPES)
    assert ast.dump(ast.parse(source)) == ast.dump(ast.parse(SHAPES))
    checked, failures = _round_trip(source)
    assert checked == 10 * 4 * 4, checked     # 10 functions, 4 stubs, 4 replies
    for tail in ("", "\n"):     # the function is the last thing in the file, with and without a final newline
        last = source.rstrip("\r\n") + ("\r\n" if tail and style == "CRLF" else tail)
        more, more_failures = _round_trip(last, last_in_file=True)
        checked += more
        failures += more_failures
    assert not failures, "\n".join(failures[:5])


@pytest.mark.parametrize("style", ["as written", "CRLF", "tabs", "trailing blanks", "indented blank lines"])
def test_a_real_module_in_each_file_style(style: str) -> None:
    source = STYLES[style](_real_source("textwrap"))
    checked, failures = _round_trip(source, stubs={"docstring only", "pass"}, replies={"at column 0"})
    assert checked > 10
    assert not failures, "\n".join(failures[:5])


def test_the_users_docstring_stays_whatever_the_reply_does_with_it() -> None:
    """A reply without the docstring, or with another one, leaves the user's docstring as it
    is (and, the body being the original's, the file comes back as it was)."""
    for module in ("textwrap", "shlex"):
        checked, failures = _round_trip(_real_source(module), stubs={"docstring only", "..."},
                                        replies={"no docstring", "another docstring"})
        assert checked > 20
        assert not failures, "\n".join(failures[:5])
