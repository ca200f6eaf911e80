"""Where a module spec's result goes (``modulespec.module_edits``): one test per placement
rule, exact text where the layout is the point, and every position of a block checked for
edits that do not overlap, a module that parses and imports that stand in the import block."""

from __future__ import annotations

import ast
import itertools

import pytest

from specloop.source.edits import apply_edits
from specloop.source.modulespec import find_module_targets, module_edits

BLOCK = "# spec: Word tools.\n#   count(text) counts the words.\n"
CODE = "def count(text):\n    return len(re.findall(r'\\w+', text))\n"
DONE = BLOCK.replace("# spec:", "# spec (implemented):")
FUNC = "\n\ndef count(text):\n    return len(re.findall(r'\\w+', text))\n"


def placed(source: str, imports=("import re",), code: str = CODE) -> str:
    (target,) = find_module_targets(source)
    return apply_edits(source, module_edits(source, target, code, list(imports), done=True))


def test_between_two_functions_the_functions_follow_the_block():
    source = "import re\n\n\ndef a():\n    return 1\n\n\n" + BLOCK + "\n\ndef b():\n    return 2\n"
    assert placed(source) == ("import re\n\n\ndef a():\n    return 1\n\n\n" + DONE + FUNC
                              + "\n\ndef b():\n    return 2\n")


def test_a_block_above_the_docstring_keeps_it_the_docstring():
    source = BLOCK + '\n"""Doc."""\n\n\ndef b():\n    return 2\n'
    text = placed(source)
    assert text == DONE + '\n"""Doc."""\n\nimport re\n' + FUNC + "\n\ndef b():\n    return 2\n"
    assert ast.get_docstring(ast.parse(text)) == "Doc."


def test_a_block_above_future_imports_puts_the_functions_below_them():
    source = '"""Doc."""\n\n' + BLOCK + "\nfrom __future__ import annotations\n"
    text = placed(source)
    assert text == '"""Doc."""\n\n' + DONE + "\nfrom __future__ import annotations\n\nimport re\n" + FUNC
    compile(text, "m.py", "exec")        # a __future__ import after a def would not compile


def test_a_block_above_the_import_block_puts_the_functions_below_it():
    source = BLOCK + "\nimport os\nimport sys\n\nX = 1\n"
    assert placed(source) == DONE + "\nimport os\nimport sys\nimport re\n" + FUNC + "\n\nX = 1\n"


def test_imports_join_the_import_block_without_repeating_a_name():
    source = '"""Doc."""\n\nimport os\nfrom collections import Counter\n\nX = 1\n\n' + BLOCK
    text = placed(source, ["import re", "from collections import Counter", "import os"])
    assert text == ('"""Doc."""\n\nimport os\nfrom collections import Counter\nimport re\n\nX = 1\n\n'
                    + DONE + FUNC)


def test_imports_are_created_below_the_docstring():
    source = '"""Doc."""\n\n\ndef a():\n    return 1\n\n\n' + BLOCK
    assert placed(source) == '"""Doc."""\n\nimport re\n\n\ndef a():\n    return 1\n\n\n' + DONE + FUNC


def test_a_blank_line_separates_new_imports_from_future_imports():
    source = "from __future__ import annotations\n\n" + BLOCK
    assert placed(source) == "from __future__ import annotations\n\nimport re\n\n" + DONE + FUNC


def test_a_block_at_the_top_takes_the_imports_then_the_functions_in_one_edit():
    source = BLOCK + "\n\ndef b():\n    return 2\n"
    (target,) = find_module_targets(source)
    edits = module_edits(source, target, CODE, ["import re"], done=True)
    assert len(edits) == 2                           # the tag, and imports + functions as one edit
    assert apply_edits(source, edits) == DONE + "\nimport re\n" + FUNC + "\n\ndef b():\n    return 2\n"


def test_without_a_header_imports_go_on_top_two_blank_lines_above_a_def():
    source = "def a():\n    return 1\n\n\n" + BLOCK
    assert placed(source) == "import re\n\n\ndef a():\n    return 1\n\n\n" + DONE + FUNC


def test_imports_go_below_a_shebang_and_an_encoding_line():
    source = "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nX = 1\n\n" + BLOCK
    assert placed(source) == "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nimport re\n\nX = 1\n\n" + DONE + FUNC


@pytest.mark.parametrize("source", [BLOCK, BLOCK.rstrip("\n"), BLOCK + "\n\n\n"])
def test_a_block_that_is_the_whole_file_takes_the_imports_below_it_never_at_the_end(source):
    assert placed(source) == DONE + "\nimport re\n" + FUNC


def test_no_import_edit_when_the_module_has_the_name():
    source = "import re\n\n" + BLOCK
    (target,) = find_module_targets(source)
    edits = module_edits(source, target, CODE, ["import re"], done=True)
    assert len(edits) == 2 and "import re" not in "".join(e.new_text for e in edits)


def test_crlf_files_keep_their_newlines():
    source = ('"""Doc."""\n\n' + BLOCK + "\n\ndef b():\n    return 2\n").replace("\n", "\r\n")
    text = placed(source)
    assert "\n" not in text.replace("\r\n", "")
    assert text.startswith('"""Doc."""\r\n\r\nimport re\r\n\r\n# spec (implemented):')


def test_planned_stubs_stand_where_the_result_will():
    from specloop.targets.plan import check_module_plan, planned_module_source

    source = '"""Doc."""\n\n' + BLOCK + "\nfrom __future__ import annotations\n"
    (target,) = find_module_targets(source)
    plan = check_module_plan('def count(text):\n    """The words."""\n', target)
    text = planned_module_source(source, target, plan)
    compile(text, "m.py", "exec")
    assert text.index("from __future__") < text.index("def count")


# every place a block may stand, with and without an import block and a docstring
HEADS = ["", '"""Doc."""\n\n', "import os\n\n", '"""Doc."""\n\nfrom __future__ import annotations\nimport os\n\n',
         "#!/usr/bin/env python\n\n"]
BODIES = ["", "def a():\n    return 1\n\n\n", "X = 1\n\n"]
TAILS = ["", "\n\ndef b():\n    return 2\n", "\nimport sys\n\n\ndef b():\n    return 2\n"]


def layouts():
    for head, body, tail in itertools.product(HEADS, BODIES, TAILS):
        yield head + body + BLOCK + tail
        if not body:
            yield BLOCK + "\n" + head + tail          # the block first, the header below it


@pytest.mark.parametrize("source", list(layouts()))
def test_every_position_lands_without_overlap_and_with_imports_on_top(source):
    (target,) = find_module_targets(source)
    edits = module_edits(source, target, CODE, ["import re", "from collections import Counter"], done=True)
    spans = sorted((e.range.start, e.range.end) for e in edits)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    text = apply_edits(source, edits)
    tree = ast.parse(text)
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    leading = list(itertools.takewhile(lambda n: isinstance(n, (ast.Import, ast.ImportFrom)), body))
    imported = [ast.unparse(n) for n in body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert imported.count("import re") == 1 and imported.count("from collections import Counter") == 1
    assert {"import re", "from collections import Counter"} <= {ast.unparse(n) for n in leading}, text
    assert DONE in text and text.count("def count(") == 1
    namespace: dict = {}
    exec(compile(text, "m.py", "exec"), namespace)
    assert namespace["count"]("a b c") == 3
    if '"""Doc."""' in source:
        assert ast.get_docstring(tree) == "Doc."
