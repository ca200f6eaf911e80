"""The context the model sees, and finding the user's tests that mention a target."""

from __future__ import annotations

from pathlib import Path

import pytest

from specloop.context import gather as context
from specloop.sandbox import testfiles
from specloop.context.gather import build_context, estimate_tokens, find_user_tests
from specloop.source.spec import Target, find_target

GEO = '''\
"""Geometry helpers."""
import math
from dataclasses import dataclass


def square(x: float) -> float:
    """Square a number.

    Longer text that the context leaves out.
    """
    return x * x


@dataclass
class Shape:
    """A rectangle."""
    kind: str = "rect"

    def __init__(self, w, h):
        self.w = w
        self.h = h

    def area(self) -> float:
        """Return the area; use square when w == h. SECRET-SPEC-TEXT"""

    def perimeter(self):
        return 2 * (self.w + self.h)
'''

TESTS = '''\
from pkg.geo import Shape


def test_area():
    assert Shape(2, 3).area() == 6


def test_unrelated():
    assert Shape(1, 1).perimeter() == 4


class TestShape:
    def test_area_zero(self):
        assert Shape(0, 3).area() == 0


class TestWithInit:
    def __init__(self):
        pass

    def test_area_never_collected(self):
        assert Shape(1, 1).area() == 1
'''


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "geo.py").write_text(GEO)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_geo.py").write_text(TESTS)
    (tmp_path / "tests" / "shape_test.py").write_text(
        "import pkg.geo as g\n\ndef test_area_big():\n    assert g.Shape(10, 10).area() == 100\n")
    (tmp_path / "tests" / "test_broken.py").write_text("from pkg.geo import Shape\ndef test_area(:\n")
    (tmp_path / "tests" / "test_other_module.py").write_text(
        "from elsewhere import Shape\n\ndef test_area():\n    assert Shape().area() == 1\n")
    (tmp_path / "tests" / "helpers.py").write_text(
        "from pkg.geo import Shape\n\ndef test_area():\n    Shape(1, 1).area()\n")
    for hidden in (".venv/lib", "node_modules/x", ".git", "build/lib/site-packages", ".specloop"):
        (tmp_path / hidden).mkdir(parents=True)
        (tmp_path / hidden / "test_geo.py").write_text(TESTS)
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "env" / "test_geo.py").write_text(TESTS)
    return tmp_path


def area_target(workspace: Path) -> tuple[str, Target, Path]:
    path = workspace / "pkg" / "geo.py"
    source = path.read_text()
    target = find_target(source, "Shape.area")
    assert target is not None
    return source, target, path


def test_find_user_tests_returns_node_ids_of_tests_that_mention_the_target(workspace: Path) -> None:
    _, target, path = area_target(workspace)
    found = find_user_tests(target, path, workspace)
    tests = workspace.resolve() / "tests"
    assert found == [
        f"{tests / 'shape_test.py'}::test_area_big",
        f"{tests / 'test_geo.py'}::test_area",
        f"{tests / 'test_geo.py'}::TestShape::test_area_zero",
    ]


def test_find_user_tests_for_a_function_needs_the_module_named(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text('def add(a, b):\n    """Add."""\n')
    (tmp_path / "test_calc.py").write_text("from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    (tmp_path / "test_misc.py").write_text("def add(a, b):\n    return 0\n\ndef test_add():\n    assert add(1, 1) == 0\n")
    source = (tmp_path / "calc.py").read_text()
    target = find_target(source, "add")
    assert find_user_tests(target, tmp_path / "calc.py", tmp_path) == [f"{tmp_path.resolve()}/test_calc.py::test_add"]


def test_find_user_tests_stops_after_the_file_limit(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, target, path = area_target(workspace)
    monkeypatch.setattr(testfiles, "MAX_FILES", 3)
    assert find_user_tests(target, path, workspace) == []     # pkg/ and one file of tests/ seen
    monkeypatch.setattr(testfiles, "MAX_FILES", 5)
    assert len(find_user_tests(target, path, workspace)) == 1


def test_small_module_is_shown_whole_with_tests_and_without_the_target(workspace: Path) -> None:
    source, target, path = area_target(workspace)
    text = build_context(source, target, path=path, workspace=workspace, max_tokens=1500)
    assert text.startswith("# file: pkg/geo.py\n")
    assert "SECRET-SPEC-TEXT" not in text            # the prompt shows the target itself
    assert "    # <area: the function to implement>" in text
    assert "def perimeter(self):\n        return 2 * (self.w + self.h)" in text
    assert "# tests/test_geo.py::test_area\ndef test_area():\n    assert Shape(2, 3).area() == 6" in text
    assert "# tests/test_geo.py::TestShape::test_area_zero\ndef test_area_zero(self):" in text
    assert "test_unrelated" not in text
    assert estimate_tokens(text) <= 1500


def test_large_module_is_shown_in_parts_by_priority(workspace: Path) -> None:
    source, target, path = area_target(workspace)
    filler = "".join(f"\n\ndef filler_{i}(a, b):\n    \"\"\"Filler {i}.\"\"\"\n    return a + b + {i}\n"
                     for i in range(200))
    big = source + filler
    target = find_target(big, "Shape.area")
    text = build_context(big, target, path=path, workspace=workspace, max_tokens=300)
    assert estimate_tokens(text) <= 300
    assert "import math\nfrom dataclasses import dataclass" in text
    # the class outline: decorators, class attributes, instance attributes, signatures
    assert "@dataclass\nclass Shape:  # A rectangle." in text
    assert "    kind: str = 'rect'" in text
    assert "    # instance attributes: self.h, self.w" in text
    assert "    def perimeter(self): ..." in text
    # a function the spec names comes before the others, with its first docstring line only
    assert "# used by the spec\n# pkg/geo.py:6\ndef square(x: float) -> float: ...  # Square a number." in text
    assert "Longer text" not in text
    assert "def test_area():" in text
    assert "SECRET-SPEC-TEXT" not in text


@pytest.mark.parametrize("max_tokens", [0, 5, 20, 60, 120, 250, 400, 800, 3000])
def test_context_never_exceeds_the_bound(workspace: Path, max_tokens: int) -> None:
    source, _, path = area_target(workspace)
    big = source + "".join(f"\n\ndef f{i}(x):\n    return x * {i}  # {'pad ' * 30}\n" for i in range(100))
    target = find_target(big, "Shape.area")
    text = build_context(big, target, path=path, workspace=workspace, max_tokens=max_tokens)
    assert estimate_tokens(text) <= max_tokens
    if max_tokens >= 800:
        assert "# around the target" in text and "def perimeter(self):" in text


def test_small_budget_keeps_the_file_line(tmp_path: Path) -> None:
    source = 'def f(x):\n    """Double x."""\n'
    target = find_target(source, "f")
    text = build_context(source + "\n\n" + "y = 2\n" * 50, target, path=tmp_path / "m.py", workspace=tmp_path,
                         max_tokens=60)
    assert estimate_tokens(text) <= 60 and text.startswith("# file: m.py")


def test_comment_spec_target_is_replaced_with_its_comment(tmp_path: Path) -> None:
    source = "import os\n\n# keep: unrelated\n\n# spec: join a and b\n# with a slash\ndef join(a, b): ...\n\nX = 1\n"
    target = find_target(source, "join")
    text = build_context(source, target, path=tmp_path / "j.py", workspace=tmp_path, max_tokens=500)
    assert text == "# file: j.py\n\nimport os\n\n# keep: unrelated\n\n# <join: the function to implement>\n\nX = 1"


# -- project-aware context (issue 18) ----------------------------------------------------------

PROJECT = {
    "src/shop/__init__.py": "from .pricing import discount\n",
    "src/shop/pricing.py": ('"""Prices."""\nRATE = 0.2\n\n\ndef discount(price: float, pct: float) -> float:\n'
                            '    """Price after a discount of pct percent."""\n    return price\n'),
    "src/shop/models.py": ('class Item:\n    """An item for sale."""\n    currency = "EUR"\n\n'
                           '    def __init__(self, name, price):\n        self.name = name\n'
                           '        self.price = price\n\n'
                           '    def label(self) -> str:\n        """Name and price."""\n'),
    "src/shop/util/__init__.py": "",
    "src/shop/util/money.py": "def cents(x: float) -> int:\n    \"\"\"Whole cents.\"\"\"\n    return 0\n",
}

CART = '''\
"""The cart."""
from shop import discount
from .models import Item
from .util import money as m
import shop.pricing as pricing

_UNSET = object()
_SIZES = {"s": 1, "m": 2}
total_of = sum


def _helper(items):
    return [i.price for i in items]


def checkout(items: list[Item], code=_UNSET) -> int:
    """Total of the items in cents with discount applied; uses m.cents."""
'''


def project(tmp_path: Path, cart: str = CART) -> tuple[str, Path]:
    for rel, text in {**PROJECT, "src/shop/cart.py": cart}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return cart, tmp_path / "src" / "shop" / "cart.py"


def test_cross_file_definitions_appear_with_file_and_line(tmp_path: Path) -> None:
    source, path = project(tmp_path)
    text = build_context(source, find_target(source, "checkout"), path=path, workspace=tmp_path, max_tokens=4000)
    # re-exported through shop/__init__.py, from a relative import, through a module alias
    assert "# src/shop/pricing.py:5\ndef discount(price: float, pct: float) -> float: ...  # Price after" in text
    assert "# src/shop/models.py:1\nclass Item:  # An item for sale.\n    currency = 'EUR'" in text
    assert "    # instance attributes: self.name, self.price" in text
    assert "# src/shop/util/money.py:1\ndef cents(x: float) -> int: ...  # Whole cents." in text
    assert "# src/shop/pricing.py: module pricing, defines RATE, discount" in text
    # the module itself is small: shown whole, module-level names and aliases included
    assert "_UNSET = object()" in text and '_SIZES = {"s": 1, "m": 2}' in text and "total_of = sum" in text
    assert estimate_tokens(text) <= 4000


def test_a_large_module_shows_its_names_and_the_projects_first(tmp_path: Path) -> None:
    filler = "".join(f"\n\ndef filler_{i}(a, b):\n    \"\"\"Filler {i}.\"\"\"\n    return a + b + {i}\n"
                     for i in range(400))
    source, path = project(tmp_path, CART + filler)
    target = find_target(source, "checkout")
    text = build_context(source, target, path=path, workspace=tmp_path, max_tokens=700)
    assert estimate_tokens(text) <= 700
    assert "# used by the spec\n# src/shop/cart.py:7\n_UNSET = object()" in text          # named by the signature
    assert "# src/shop/models.py:1\nclass Item:" in text and "def cents(x: float)" in text
    assert "def discount(price: float, pct: float)" in text                               # named by the spec
    assert "def _helper(items): ..." in text and "total_of = sum" in text                  # nearest others


def test_tests_do_not_push_out_needed_helpers(tmp_path: Path) -> None:
    source, path = project(tmp_path, CART + "".join(f"\n\ndef pad_{i}(a):\n    return a * {i}\n" for i in range(300)))
    tests = "from shop.cart import checkout\n\n" + "".join(
        f"def test_checkout_{i}():\n    items = [1] * {i}\n"
        + "    assert checkout(items) == 0  # padding padding\n" * 8
        + "\n\n" for i in range(11))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_cart.py").write_text(tests)
    text = build_context(source, find_target(source, "checkout"), path=path, workspace=tmp_path, max_tokens=1500)
    assert estimate_tokens(text) <= 1500
    assert "def discount(price" in text and "class Item:" in text and "def cents(" in text
    assert "_UNSET = object()" in text
    shown = text[text.index("# existing tests that mention checkout"):]
    assert "def test_checkout_0():" in shown and len(shown) <= 1500 * 4 * context.TESTS_SHARE + 200


@pytest.mark.parametrize("max_tokens", [0, 10, 40, 100, 300, 1000, 5000])
def test_project_context_never_exceeds_the_bound(tmp_path: Path, max_tokens: int) -> None:
    source, path = project(tmp_path, CART + "".join(f"\n\ndef f{i}(x):\n    return x * {i}  # {'pad ' * 20}\n"
                                                    for i in range(200)))
    text = build_context(source, find_target(source, "checkout"), path=path, workspace=tmp_path, max_tokens=max_tokens)
    assert estimate_tokens(text) <= max_tokens


def test_a_long_class_outline_is_cut_at_a_line(tmp_path: Path) -> None:
    methods = "".join(f"    def method_{i}(self, a, b, c):\n        \"\"\"Method number {i}.\"\"\"\n"
                      for i in range(200))
    source, path = project(tmp_path)
    (tmp_path / "src" / "shop" / "models.py").write_text("class Item:\n    \"\"\"An item.\"\"\"\n" + methods)
    text = build_context(source, find_target(source, "checkout"), path=path, workspace=tmp_path, max_tokens=800)
    assert "class Item:  # An item.\n    def method_0(self, a, b, c): ..." in text
    assert "method_199" not in text and "    # ..." in text and estimate_tokens(text) <= 800


def test_class_and_module_spec_targets_get_the_project_context(tmp_path: Path) -> None:
    from specloop.source.classspec import find_class_targets
    from specloop.source.modulespec import find_module_targets

    cls = CART + '\n\nclass Basket:\n    """Items, priced with discount and m.cents."""\n'
    source, path = project(tmp_path, cls)
    target = next(t for t in find_class_targets(source) if t.name == "Basket")
    text = build_context(source, target, path=path, workspace=tmp_path, max_tokens=2000)
    assert "# <Basket: the class to implement>" in text and "def cents(x: float)" in text
    block = CART + "\n\n# spec: prices of baskets, using discount.\n\nX = 1\n"
    source, path = project(tmp_path, block)
    target = find_module_targets(source)[0]
    text = build_context(source, target, path=path, workspace=tmp_path, max_tokens=2000)
    assert "# <module spec: the functions it asks for go here>" in text and "def discount(price" in text


def test_a_class_the_spec_does_not_name_is_shown_briefly(tmp_path: Path) -> None:
    methods = "".join(f"    def method_{i}(self):\n        pass\n" for i in range(20))
    source, path = project(tmp_path, CART.replace("from .models import Item", "from .models import Item, Other"))
    with (tmp_path / "src" / "shop" / "models.py").open("a") as fh:
        fh.write("\n\nclass Other:\n    \"\"\"Not named.\"\"\"\n" + methods)
    text = build_context(source, find_target(source, "checkout"), path=path, workspace=tmp_path, max_tokens=4000)
    shown = text[text.index("class Other:"):]
    assert "    def method_4(self): ...\n    # ..." in shown and "method_5" not in shown
    assert "    def label(self) -> str: ...  # Name and price." in text      # Item, named: whole


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


FILLER = "".join(f"\n\ndef filler_{i}(a, b):\n    \"\"\"Filler {i}.\"\"\"\n    return a + b + {i}\n" for i in range(300))


def test_a_methods_class_outline_shows_what_its_bases_define(tmp_path: Path) -> None:
    # cachetools' TTLCache.popitem uses self.timer, defined on the base _TimedCache (same module),
    # whose own base Cache comes from another file of the project
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/base.py": ('class Cache:\n    """A cache."""\n\n    def __init__(self, maxsize):\n'
                        '        self.maxsize = maxsize\n\n    def popitem(self):\n        """Remove an item."""\n'
                        '        raise KeyError\n\n    def __len__(self):\n        return 0\n'),
    })
    source = ('from .base import Cache\n\n\nclass _Timed(Cache):\n    """Timed."""\n\n'
              '    @property\n    def timer(self):\n        """The timer function."""\n        return 1\n\n'
              '    def clear(self):\n        pass\n\n\nclass TTL(_Timed):\n    """TTL."""\n\n'
              '    def clear(self):\n        pass\n\n    def popitem(self):\n        """Remove the oldest."""\n'
              + FILLER)
    path = tmp_path / "pkg" / "ttl.py"
    path.write_text(source)
    text = build_context(source, find_target(source, "TTL.popitem"), path=path, workspace=tmp_path, max_tokens=1000)
    outline = text[text.index("class TTL(_Timed):"):].split("\n\n")[0]
    assert "    # from _Timed: timer\n    @property\n    def timer(self): ...  # The timer function." in outline
    assert "    # from Cache: __init__, popitem\n" in outline            # the base's popitem: what super() calls
    assert "    def popitem(self): ...  # Remove an item." in outline
    assert "__len__" not in outline                                     # dunders of bases are left out
    assert outline.index("# from _Timed") < outline.index("# from Cache")
    assert outline.count("def clear(self)") == 1                        # overridden: the class's own only
    assert estimate_tokens(text) <= 1000


def test_a_module_imported_as_a_name_shows_the_definitions_reached_through_it(tmp_path: Path) -> None:
    # pathspec's PathSpec.match_tree_entries calls util.iter_tree_entries after `from . import util`
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/util.py": ('def iter_tree_entries(root):\n    """Walk the tree."""\n\n\n'
                        'def iter_tree_files(root):\n    """Walk the files."""\n\n\n'
                        'def normalize_file(f):\n    """Normalize."""\n\n\ndef _private_tree(x):\n    pass\n\n\n'
                        'def unrelated(x):\n    """Other."""\n'),
    })
    source = ('from . import util\n\n\ndef match_files(root):\n    """Match the files."""\n'
              '    return [util.normalize_file(f) for f in util.iter_tree_files(root)]\n\n\n'
              'def match_tree_entries(root):\n    """Walk root and match its entries."""\n')
    path = tmp_path / "pkg" / "core.py"
    path.write_text(source)
    target = find_target(source, "match_tree_entries")
    text = build_context(source, target, path=path, workspace=tmp_path, max_tokens=4000)
    assert "def iter_tree_entries(root): ...  # Walk the tree." in text       # shares words with the target
    assert "def normalize_file(f): ...  # Normalize." in text                 # used as util.X in the module
    assert "def iter_tree_files(root): ..." in text
    assert "_private_tree(x)" not in text
    # its other public definitions come last, after the tests
    assert text.index("# also in modules imported as names") < text.index("def unrelated(x): ...")
    assert text.index("def unrelated(x)") > text.index("def iter_tree_entries(root)")
    big = source + FILLER
    path.write_text(big)
    text = build_context(big, find_target(big, "match_tree_entries"), path=path, workspace=tmp_path, max_tokens=600)
    assert "def iter_tree_entries(root): ..." in text and estimate_tokens(text) <= 600


def test_an_imported_module_constant_is_shown_with_its_value(tmp_path: Path) -> None:
    # semver's createparser uses __version__ from semver.__about__
    _write(tmp_path, {"pkg/__init__.py": "", "pkg/__about__.py": '__version__ = "3.0.2"\n__all__ = ["x"]\n'})
    source = ('from .__about__ import __version__\n\n\ndef banner():\n    """The name and version."""\n' + FILLER)
    path = tmp_path / "pkg" / "cli.py"
    path.write_text(source)
    text = build_context(source, find_target(source, "banner"), path=path, workspace=tmp_path, max_tokens=1000)
    assert '# pkg/__about__.py:1\n__version__ = "3.0.2"' in text


def test_a_large_modules_constants_and_names_the_spec_spells_out_come_before_nearer_functions(tmp_path: Path) -> None:
    # tabulate's tabulate: a long spec, the module's constants and _rst_escape_first_column far above it
    far = ('MIN_PADDING = 2\nWIDE_CHARS_MODE = False\n\n\ndef _rst_escape_first_column(rows):\n'
           '    """Escape the first cells."""\n    return rows\n')
    near = "".join(f"\n\ndef helper_{i}(a, b):\n    \"\"\"Helper {i}.\"\"\"\n    return a + b + {i}\n" for i in range(120))
    target = ('\n\ndef render(rows, fmt="rst"):\n    """Render rows as a table; for rst, escape the first column\n'
              '    and pad the cells."""\n')
    source = far + near + target
    path = tmp_path / "render.py"
    path.write_text(source)
    text = build_context(source, find_target(source, "render"), path=path, workspace=tmp_path, max_tokens=600)
    others = text[text.index("# elsewhere in the module"):]
    assert others.index("def _rst_escape_first_column(rows)") < others.index("MIN_PADDING = 2")  # every word in the spec
    assert others.index("WIDE_CHARS_MODE = False") < others.index("def helper_119(a, b)")        # constants next
    assert "def helper_119(a, b)" in others and "helper_0(" not in text                           # then nearest first
    assert estimate_tokens(text) <= 600


def test_a_small_module_shows_what_a_methods_class_inherits_from_other_files(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/base.py": ('class Cache:\n    """A cache."""\n\n    @property\n    def timer(self):\n'
                        '        """The timer."""\n        return 1\n\n    def clear(self):\n        pass\n'),
    })
    source = ('from .base import Cache\n\n\nclass Mid(Cache):\n    def clear(self):\n        pass\n\n\n'
              'class TTL(Mid):\n    def expire(self):\n        """Drop what is old."""\n')
    path = tmp_path / "pkg" / "ttl.py"
    path.write_text(source)
    text = build_context(source, find_target(source, "TTL.expire"), path=path, workspace=tmp_path, max_tokens=4000)
    assert "class Mid(Cache):\n    def clear(self):" in text                      # the module, whole
    part = text[text.index("# TTL inherits from other files of the project"):].split("\n\n")[0]
    assert "    # from Cache: timer\n    @property\n    def timer(self): ...  # The timer." in part
    assert "# from Mid" not in part and "clear" not in part                     # shown above / overridden


def test_a_large_modules_functions_its_neighbours_call_come_before_nearer_ones(tmp_path: Path) -> None:
    # more-itertools' adjacent: windowed, defined 1,100 lines above, is what the nearby functions call
    far = ('def slide(seq, n):\n    """Windows of n items."""\n    return zip(*[seq[i:] for i in range(n)])\n\n\n'
           'def pairs(seq):\n    """Items two by two."""\n    return zip(seq, seq[1:])\n')
    fill = "".join(f"\n\ndef helper_{i}(a, b):\n    \"\"\"Helper {i}.\"\"\"\n    return a + b + {i}\n" for i in range(120))
    users = ('\n\ndef locate(seq, n):\n    """Where the windows are."""\n    return list(slide(seq, n))\n'
             '\n\ndef sums(seq):\n    """Sums of windows."""\n    return [sum(w) for w in slide(seq, 3)] + list(pairs(seq))\n')
    target = '\n\ndef flank(pred, seq, distance=1):\n    """Mark each item next to one that satisfies pred."""\n'
    source = far + fill + users + target
    path = tmp_path / "more.py"
    path.write_text(source)
    text = build_context(source, find_target(source, "flank"), path=path, workspace=tmp_path, max_tokens=600)
    others = text[text.index("# elsewhere in the module"):]
    assert others.index("def slide(seq, n)") < others.index("def pairs(seq)")           # used most first
    assert others.index("def pairs(seq)") < others.index("def helper_119(a, b)")      # then the nearest
    assert "helper_0(" not in text
    assert estimate_tokens(text) <= 600
