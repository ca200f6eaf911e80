"""Edits that put a candidate into the file: minimal, byte-exact elsewhere, runnable."""

from __future__ import annotations

import ast
import re

import pytest

from specloop.candidate import parse_candidate
from specloop.edits import TextEdit, apply_edits, candidate_module, import_edit, implementation_edits
from specloop.spec import Pos, Range, find_target, find_targets


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
