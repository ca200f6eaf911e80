"""The index of the workspace's definitions (specloop.context.index): imports resolved to files
of the workspace, re-exports followed, files parsed lazily and again when they change."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from specloop.context import index as projectindex
from specloop.context.index import Import, imported_definitions, index_for, summarize

CORE = '''\
"""Core."""
from typing import TYPE_CHECKING

_UNSET = object()
_SIZE_RANGES = {"k": 1024, "m": 1024 ** 2}
parse = parse_size = None
if TYPE_CHECKING:
    Alias = int


def parse_size(text: str, default=_UNSET) -> int:
    """Parse a size like 10k.

    More text.
    """
    return 0


class Config(Base, metaclass=Meta):
    """Settings."""
    verbose = False

    def __init__(self, name):
        self.name = name
        self._cache = {}

    def get(self, key, default=_UNSET):
        """Look up key."""
'''


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def test_summary_has_functions_classes_constants_and_aliases(tmp_path: Path) -> None:
    info = summarize(CORE, tmp_path / "core.py")
    assert info.defs["parse_size"].kind == "function" and info.defs["parse_size"].line == 11
    assert info.defs["parse_size"].text == \
        "def parse_size(text: str, default=_UNSET) -> int: ...  # Parse a size like 10k."
    assert info.defs["_UNSET"].text == "_UNSET = object()" and info.defs["_UNSET"].line == 4
    assert info.defs["_SIZE_RANGES"].text == '_SIZE_RANGES = {"k": 1024, "m": 1024 ** 2}'
    assert info.defs["Alias"].text == "Alias = int"                  # inside 'if TYPE_CHECKING:', dedented
    assert info.defs["parse"].kind == "name"
    outline = info.defs["Config"].text
    assert outline.startswith("class Config(Base, metaclass=Meta):  # Settings.\n    verbose = False\n")
    assert "    # instance attributes: self._cache, self.name" in outline
    assert "    def get(self, key, default=_UNSET): ...  # Look up key." in outline
    assert info.imports["TYPE_CHECKING"] == Import("TYPE_CHECKING", "typing", "TYPE_CHECKING", 0, 2)


def test_a_long_value_is_cut() -> None:
    text = "TABLE = {\n" + "".join(f"    'k{i}': {i},\n" for i in range(100)) + "}\n"
    defn = summarize(text, Path("t.py")).defs["TABLE"]
    assert defn.text.endswith(" ...") and defn.text.count("\n") <= 3 and len(defn.text) <= 250


def package(root: Path, top: str = "") -> None:
    write(root, {
        f"{top}pkg/__init__.py": "from .core import parse_size as size\nfrom .core import *\n",
        f"{top}pkg/core.py": CORE,
        f"{top}pkg/sub/__init__.py": "",
        f"{top}pkg/sub/util.py": "from ..core import Config as Cfg\n\n\ndef helper(x):\n    \"\"\"Help.\"\"\"\n",
    })


def test_absolute_relative_aliased_and_re_exported_imports(tmp_path: Path) -> None:
    package(tmp_path)
    importer = tmp_path / "pkg" / "sub" / "app.py"
    imports = [Import("parse_size", "pkg.core", "parse_size"), Import("m", "pkg.core", None),
               Import("util", "", "util", 1), Import("Cfg", "util", "Cfg", 1), Import("size", "pkg", "size"),
               Import("_UNSET", "pkg", "_UNSET"), Import("os", "os", None), Import("x", "nowhere", "x")]
    found = imported_definitions(importer, tmp_path, imports, [("m", "Config"), ("util", "helper")])
    core = (tmp_path / "pkg" / "core.py").resolve()
    assert (found["parse_size"].file, found["parse_size"].line) == (core, 11)
    assert found["m"].kind == "module" and found["m"].file == core and "parse_size" in found["m"].text
    assert found["m.Config"].kind == "class" and found["m.Config"].line == 19
    assert found["util"].kind == "module" and found["util.helper"].name == "helper"
    assert found["Cfg"].name == "Config" and found["Cfg"].file == core       # re-exported under another name
    assert found["size"].name == "parse_size"                                # through pkg/__init__.py
    assert found["_UNSET"].text == "_UNSET = object()"                       # through 'from .core import *'
    assert "os" not in found and "x" not in found


def test_src_layout_and_the_folder_holding_the_package(tmp_path: Path) -> None:
    package(tmp_path, "src/")
    package(tmp_path, "libs/other/")
    write(tmp_path, {"libs/other/pkg2/__init__.py": "", "libs/other/pkg2/mod.py": "def f():\n    pass\n"})
    found = imported_definitions(tmp_path / "tests" / "test_x.py", tmp_path,
                                 [Import("parse_size", "pkg.core", "parse_size"), Import("f", "pkg2.mod", "f")])
    assert found["parse_size"].file == (tmp_path / "src" / "pkg" / "core.py").resolve()
    assert found["f"].file == (tmp_path / "libs" / "other" / "pkg2" / "mod.py").resolve()
    # from a file of the other tree its own package comes first
    own = imported_definitions(tmp_path / "libs" / "other" / "pkg" / "x.py", tmp_path,
                               [Import("parse_size", "pkg.core", "parse_size")])
    assert own["parse_size"].file == (tmp_path / "libs" / "other" / "pkg" / "core.py").resolve()


def test_a_changed_file_is_indexed_again(tmp_path: Path) -> None:
    write(tmp_path, {"lib.py": "def old(x):\n    pass\n"})
    imports = [Import("old", "lib", "old"), Import("new", "lib", "new")]
    assert set(imported_definitions(tmp_path / "app.py", tmp_path, imports)) == {"old"}
    before = projectindex.parses
    assert set(imported_definitions(tmp_path / "app.py", tmp_path, imports)) == {"old"}
    assert projectindex.parses == before                                     # unchanged: not parsed again
    (tmp_path / "lib.py").write_text("def new(x, y):\n    pass\n\n\ndef old(x):\n    pass\n")
    st = (tmp_path / "lib.py").stat()
    os.utime(tmp_path / "lib.py", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    found = imported_definitions(tmp_path / "app.py", tmp_path, imports)
    assert found["new"].text == "def new(x, y): ..." and found["old"].line == 5
    projectindex.update(tmp_path / "lib.py", "def new(z):\n    pass\n")        # an editor's buffer
    assert imported_definitions(tmp_path / "app.py", tmp_path, imports)["new"].text == "def new(z): ..."
    projectindex.forget(tmp_path / "lib.py")
    assert imported_definitions(tmp_path / "app.py", tmp_path, imports)["new"].text == "def new(x, y): ..."
    (tmp_path / "lib.py").unlink()
    assert imported_definitions(tmp_path / "app.py", tmp_path, imports) == {}


def test_one_query_in_a_5000_file_workspace_parses_only_what_it_imports(tmp_path: Path) -> None:
    for p in range(50):
        pkg = tmp_path / f"pkg{p}"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        for m in range(99):
            (pkg / f"mod{m}.py").write_text(f"from pkg{(p + 1) % 50}.mod{m} import f{m}\n\n\ndef g{m}():\n    pass\n")
    app = tmp_path / "pkg0" / "app.py"
    before = projectindex.parses
    found = imported_definitions(app, tmp_path, [Import("g3", "pkg7.mod3", "g3"), Import("f5", "pkg1.mod5", "f5"),
                                                 Import("numpy", "numpy", None)])
    assert found["g3"].file == (tmp_path / "pkg7" / "mod3.py").resolve()
    assert "f5" not in found                   # pkg1/mod5 imports f5 from pkg2/mod5, which does not define it
    assert projectindex.parses - before <= 4   # pkg7/mod3, pkg1/mod5, pkg2/mod5 (not 5,000 files)
    assert len(index_for(tmp_path).source_roots()) == 1


def test_warm_reads_only_the_import_lines(tmp_path: Path) -> None:
    package(tmp_path)
    text = ('"""Doc.\n\nfrom the start, this is prose\n"""\nfrom pkg.core import (\n    parse_size,\n    Config,\n)\n'
            "import pkg.sub.util as u\n\ndef f(:\n")                   # the rest need not even parse
    assert projectindex.import_lines(text).splitlines()[1] == "from pkg.core import ( parse_size, Config, )"
    assert asyncio.run(projectindex.warm_async(tmp_path / "app.py", tmp_path, text)) == 3


def test_a_module_created_after_a_miss_is_found_once_the_miss_expires(tmp_path: Path, monkeypatch) -> None:
    imports = [Import("f", "later", "f")]
    assert imported_definitions(tmp_path / "app.py", tmp_path, imports) == {}
    (tmp_path / "later.py").write_text("def f():\n    pass\n")
    monkeypatch.setattr(projectindex, "ROOTS_TTL", 0.0)
    assert imported_definitions(tmp_path / "app.py", tmp_path, imports)["f"].line == 1
    (tmp_path / "later.py").unlink()                        # a found file that went away is looked for again
    assert imported_definitions(tmp_path / "app.py", tmp_path, imports) == {}


def test_dunder_names_resolve_but_are_not_listed(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "__about__.py").write_text('__version__ = "1.2"\n__all__ = ["f"]\n\n\ndef f():\n    pass\n')
    importer = tmp_path / "pkg" / "cli.py"
    found = imported_definitions(importer, tmp_path, [Import("__version__", "__about__", "__version__", 1),
                                                      Import("about", "", "__about__", 1)])
    assert found["__version__"].kind == "name" and found["__version__"].text == '__version__ = "1.2"'
    assert found["about"].text == "f"                  # a module's list of names leaves dunders out
