"""The static harness policy: candidates that reach into the test harness are flagged, ordinary code is not."""

from __future__ import annotations

import textwrap

import pytest

from specloop.sandbox.policy import check
from specloop.results import Finding


def messages(code: str) -> list[str]:
    return [f.message for f in check(textwrap.dedent(code))]


# (id, code, a fragment that one message must contain)
HOSTILE = [
    ("import-pytest", "import pytest\ndef f(x):\n    pytest.skip('no')\n", "pytest"),
    ("from-_pytest", "from _pytest.outcomes import skip\ndef f(x):\n    skip('x')\n", "_pytest"),
    ("pluggy", "def f(x):\n    import pluggy\n    return x\n", "pluggy"),
    ("mock-patch", "from unittest import mock\ndef f(x):\n    mock.patch('a.b').start()\n", "unittest.mock"),
    ("mock-import", "from unittest.mock import patch\ndef f(x):\n    return x\n", "unittest.mock"),
    ("doctest", "import doctest\ndef f(x):\n    doctest.master = None\n", "doctest"),
    ("__main__", "def f(x):\n    import __main__\n    return __main__.expected\n", "__main__"),
    ("builtins", "import builtins\ndef f(x):\n    builtins.sorted = lambda v: v\n", "builtins"),
    ("__builtins__", "def f(x):\n    __builtins__['len'] = lambda v: 3\n", "__builtins__"),
    ("importlib", "import importlib\ndef f(x):\n    return importlib.import_module('o' + 's')\n", "importlib"),
    ("ctypes", "import ctypes\ndef f(x):\n    ctypes.pythonapi.Py_IncRef\n", "ctypes"),
    ("gc", "import gc\ndef f(x):\n    return [o for o in gc.get_objects() if isinstance(o, dict)]\n", "gc"),
    ("inspect", "import inspect\ndef f(x):\n    return inspect.stack()[1]\n", "inspect"),
    ("traceback-walk", "import traceback\ndef f(x):\n    return list(traceback.walk_stack(None))\n",
     "traceback.walk_stack"),
    ("traceback-extract", "import traceback\ndef f(x):\n    return traceback.extract_stack()\n",
     "traceback.extract_stack"),
    ("sys.modules", "import sys\ndef f(x):\n    return sys.modules['test_f'].EXPECTED\n", "sys.modules"),
    ("sys._getframe", "import sys\ndef f(x):\n    return sys._getframe(1).f_locals['expected']\n", "sys._getframe"),
    ("sys.settrace", "import sys\ndef f(x):\n    sys.settrace(None)\n", "sys.settrace"),
    ("sys.setprofile", "import sys\ndef f(x):\n    sys.setprofile(lambda *a: None)\n", "sys.setprofile"),
    ("sys.exc_info", "import sys\ndef f(x):\n    try:\n        1/0\n    except Exception:\n"
                     "        return sys.exc_info()[2]\n", "sys.exc_info"),
    ("sys.last_traceback", "import sys\ndef f(x):\n    return sys.last_traceback\n", "sys.last_traceback"),
    ("sys.meta_path", "import sys\ndef f(x):\n    sys.meta_path.insert(0, x)\n", "sys.meta_path"),
    ("sys.path_hooks", "import sys\ndef f(x):\n    sys.path_hooks.append(x)\n", "sys.path_hooks"),
    ("sys.path-insert", "import sys\ndef f(x):\n    sys.path.insert(0, '/tmp/evil')\n", "sys.path"),
    ("sys.path-assign", "import sys\ndef f(x):\n    sys.path = ['/tmp']\n", "sys.path"),
    ("sys.path-augassign", "import sys\ndef f(x):\n    sys.path += ['/tmp']\n", "sys.path"),
    ("sys.stdout-assign", "import io, sys\ndef f(x):\n    sys.stdout = io.StringIO()\n", "sys.stdout"),
    ("sys.stderr-assign", "import sys\ndef f(x):\n    sys.stderr = None\n", "sys.stderr"),
    ("sys.exit", "import sys\ndef f(x):\n    sys.exit(0)\n", "sys.exit"),
    ("exit-builtin", "def f(x):\n    exit()\n", "exit"),
    ("raise-SystemExit", "def f(x):\n    raise SystemExit(0)\n", "SystemExit"),
    ("raise-KeyboardInterrupt", "def f(x):\n    raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ("os._exit", "import os\ndef f(x):\n    os._exit(0)\n", "os._exit"),
    ("os.kill-getppid", "import os\ndef f(x):\n    os.kill(os.getppid(), 9)\n", "os.getppid"),
    ("os.kill", "import os, signal\ndef f(x):\n    os.kill(x, 9)\n", "os.kill"),
    ("os.killpg", "import os\ndef f(x):\n    os.killpg(0, 9)\n", "os.killpg"),
    ("os.fork", "import os\ndef f(x):\n    if os.fork():\n        return x\n", "os.fork"),
    ("os.setsid", "import os\ndef f(x):\n    os.setsid()\n", "os.setsid"),
    ("os.execv", "import os\ndef f(x):\n    os.execv('/bin/true', ['true'])\n", "os.execv"),
    ("os.spawnlp", "import os\ndef f(x):\n    os.spawnlp(os.P_NOWAIT, 'sleep', 'sleep', '99')\n", "os.spawnlp"),
    ("os.posix_spawnp", "import os\ndef f(x):\n    os.posix_spawnp('sleep', ['sleep'], {})\n", "os.posix_spawnp"),
    ("os.write-fd1", "import os\ndef f(x):\n    os.write(1, b'1 passed')\n", "os.write"),
    ("os.dup2", "import os\ndef f(x):\n    os.dup2(x, 1)\n", "os.dup2"),
    ("os.close-fd2", "import os\ndef f(x):\n    os.close(2)\n", "os.close"),
    ("open-fd1", "def f(x):\n    open(1, 'w').write('passed')\n", "raw descriptor"),
    ("signal", "import signal\ndef f(x):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n", "signal"),
    ("atexit", "import atexit\ndef f(x):\n    atexit.register(print, 'ok')\n", "atexit"),
    ("start_new_session", "import subprocess\ndef f(x):\n"
                          "    subprocess.Popen(['sleep', '9'], start_new_session=True)\n", "start_new_session"),
    ("preexec_fn", "import subprocess\ndef f(x):\n    subprocess.run(['true'], preexec_fn=x)\n", "preexec_fn"),
    ("resource", "import resource\ndef f(x):\n    resource.setrlimit(resource.RLIMIT_CPU, (-1, -1))\n", "resource"),
    ("faulthandler", "import faulthandler\ndef f(x):\n    faulthandler.enable()\n", "faulthandler"),
    ("threading.settrace", "import threading\ndef f(x):\n    threading.settrace(x)\n", "threading.settrace"),
    # frame and code objects, class walking, on any object
    ("f_back", "def f(frame):\n    return frame.f_back\n", "f_back"),
    ("f_globals", "def f(frame):\n    return frame.f_globals\n", "f_globals"),
    ("tb_frame", "def f(x):\n    try:\n        1/0\n    except Exception as e:\n"
                 "        return e.__traceback__.tb_frame\n", "tb_frame"),
    ("tb_next", "def f(tb):\n    return tb.tb_next\n", "tb_next"),
    ("gi_frame", "def f(gen):\n    return gen.gi_frame\n", "gi_frame"),
    ("cr_frame", "def f(coro):\n    return coro.cr_frame\n", "cr_frame"),
    ("__code__", "def f(g):\n    g.__code__ = (lambda: 1).__code__\n", "__code__"),
    ("__globals__", "def f(x):\n    return f.__globals__['EXPECTED']\n", "__globals__"),
    ("__closure__", "def f(g):\n    return g.__closure__[0].cell_contents\n", "__closure__"),
    ("__subclasses__", "def f(x):\n    return object.__subclasses__()\n", "__subclasses__"),
    ("__bases__", "def f(x):\n    return x.__class__.__bases__[0]\n", "__bases__"),
    ("__mro__", "def f(x):\n    return type(x).__mro__[-1]\n", "__mro__"),
    ("__loader__", "def f(x):\n    return __loader__\n", "__loader__"),
    ("__spec__", "def f(m):\n    return m.__spec__\n", "__spec__"),
    ("__self__", "def f(x):\n    return print.__self__\n", "__self__"),
    ("module-__dict__-write", "import math\ndef f(x):\n    math.__dict__['pi'] = 3\n", "math.__dict__"),
    # dynamic escape hatches
    ("eval", "def f(x):\n    return eval(x)\n", "eval"),
    ("exec", "def f(x):\n    exec('import os')\n", "exec"),
    ("compile", "def f(x):\n    return compile(x, 'f', 'eval')\n", "compile"),
    ("getattr-computed", "def f(obj, name):\n    return getattr(obj, name)\n", "computed name"),
    ("getattr-dunder", "def f(x):\n    return getattr(x, '__globals__')\n", "__globals__"),
    ("getattr-dunder-unlisted", "def f(x):\n    return getattr(x, '__reduce_ex__')\n", "__reduce_ex__"),
    ("getattr-sys-modules", "import sys\ndef f(x):\n    return getattr(sys, 'modules')\n", "sys.modules"),
    ("getattr-prefix-hides", "import sys\ndef f(x):\n    return getattr(sys, '_get' + 'frame')\n", "computed name"),
    ("setattr-computed", "def f(obj, k, v):\n    setattr(obj, k, v)\n", "computed name"),
    ("setattr-dunder", "def f(cls):\n    setattr(cls, '__eq__', lambda s, o: True)\n", "__eq__"),
    ("setattr-module", "import json\ndef f(x):\n    setattr(json, 'dumps', repr)\n", "json.dumps"),
    ("delattr-computed", "def f(obj, k):\n    delattr(obj, k)\n", "computed name"),
    ("hasattr-computed", "def f(obj, k):\n    return hasattr(obj, k)\n", "computed name"),
    ("getattr-passed", "import functools\ndef f(o, path):\n    return functools.reduce(getattr, path, o)\n",
     "getattr"),
    ("object-__setattr__-computed", "def f(o, k, v):\n    object.__setattr__(o, k, v)\n", "computed name"),
    ("object-__getattribute__", "def f(o, k):\n    return object.__getattribute__(o, k)\n", "computed name"),
    ("attrgetter", "import operator\ndef f(x):\n    return operator.attrgetter('gi_frame.f_back')(x)\n",
     "gi_frame"),
    ("globals", "def f(x):\n    globals()['helper'] = lambda: 42\n", "globals"),
    ("vars-module", "import sys\ndef f(x):\n    return vars(sys)['modules']\n", "vars(sys)"),
    ("locals-write", "def f(x):\n    locals()['x'] = 1\n", "locals()"),
    ("breakpoint", "def f(x):\n    breakpoint()\n", "breakpoint"),
    ("__import__", "def f(x):\n    return __import__('s' + 'ys').modules\n", "__import__"),
    ("format-walk", "def f(g):\n    return '{0.__globals__}'.format(g)\n", "format string"),
    # strings naming harness files or settings
    ("str-conftest", "def f(d):\n    open(d + '/conftest.py', 'w').write('')\n", "conftest"),
    ("str-pytest.ini", "def f(d):\n    return open('pytest.ini').read()\n", "pytest"),
    ("str-pth", "def f(d):\n    open(d + '/zz.pth', 'w').write('import os')\n", ".pth"),
    ("str-sitecustomize", "def f(d):\n    return d / 'sitecustomize.py'\n", "sitecustomize"),
    ("str-usercustomize", "def f(d):\n    return d / 'usercustomize.py'\n", "sitecustomize"),
    ("str-_specloop", "def f(d):\n    return open(d + '/_specloop/x').read()\n", "specloop"),
    ("str-results.jsonl", "def f(d):\n    open('results.jsonl', 'a').write('{}')\n", "results.jsonl"),
    ("str-SPECLOOP_", "import os\ndef f(x):\n    return os.environ.get('SPECLOOP_SANDBOX_RUN')\n", "specloop"),
    ("str-PYTEST_CURRENT_TEST", "import os\ndef f(x):\n    if 'PYTEST_CURRENT_TEST' in os.environ:\n"
                                "        return 42\n    return x\n", "pytest"),
    ("fstring-conftest", "def f(d):\n    return f'{d}/conftest.py'\n", "conftest"),
    ("bytes-conftest", "def f(d):\n    return b'conftest'\n", "conftest"),
    # monkeypatching modules
    ("patch-math.sqrt", "import math\ndef f(x):\n    math.sqrt = lambda v: 3\n", "math.sqrt"),
    ("patch-json.dumps", "import json\ndef f(x):\n    json.dumps = repr\n", "json.dumps"),
    ("patch-free-module", "def f(x):\n    math.floor = int\n", "math.floor"),
    ("patch-from-import", "from json import JSONEncoder\ndef f(x):\n    JSONEncoder.default = str\n",
     "json.JSONEncoder.default"),
    ("del-module-attr", "import math\ndef f(x):\n    del math.pi\n", "math.pi"),
    ("os.environ-rebind", "import os\ndef f(x):\n    os.environ = {}\n", "os.environ"),
    ("registry-write", "import copyreg\ndef f(x):\n    copyreg.dispatch_table[x] = None\n", "copyreg.dispatch_table"),
    # hiding a module from the check
    ("module-in-variable", "import sys\ndef f(x):\n    m = sys\n    return m._getframe()\n", "sys"),
    ("module-as-default", "import sys\ndef f(x):\n    def g(sys=sys):\n        return sys.modules\n"
                          "    return g()\n", "sys"),
    ("shadow-in-comprehension", "import sys\ndef f(x):\n    [0 for sys in ()]\n    return sys._getframe()\n",
     "sys._getframe"),
    ("shadow-in-nested-def", "import sys\ndef f(x):\n    def g():\n        sys = 1\n"
                             "    return sys._getframe()\n", "sys._getframe"),
    ("rebound-after-use", "def f(x):\n    import sys\n    y = sys._getframe()\n    sys = None\n",
     "sys._getframe"),
    ("from-sys-alias", "from sys import _getframe as g\ndef f(x):\n    return g(1)\n", "sys._getframe"),
    ("re-export", "import os\ndef f(x):\n    return os.sys.modules\n", "sys.modules"),
    ("star-import", "from sys import *\ndef f(x):\n    return modules\n", "sys.*"),
    ("posix-module", "import posix\ndef f(x):\n    posix.kill(1, 9)\n", "posix"),
    # objects that equal anything
    ("always-equal-class", "def f(x):\n    class Any:\n        def __eq__(self, other):\n"
                           "            return True\n    return Any()\n", "__eq__ returning True"),
    ("always-equal-lambda", "def f(x):\n    class Any(str):\n        __eq__ = lambda s, o: True\n"
                            "    return Any()\n", "__eq__ returning True"),
    ("always-equal-type", "def f(x):\n    return type('A', (), {'__eq__': lambda s, o: True})()\n",
     "__eq__ returning True"),
    ("never-unequal", "def f(x):\n    class Any:\n        def __ne__(self, other):\n"
                      "            return False\n    return Any()\n", "__ne__ returning False"),
]

BENIGN = [
    ("open-argument", "def f(path):\n    with open(path) as fh:\n        return fh.read()\n"),
    ("open-write", "def f(path, text):\n    with open(path, 'w', encoding='utf-8') as fh:\n"
                   "        fh.write(text)\n"),
    ("open-stdin", "def f():\n    return open(0).read().split()\n"),
    ("os.path", "import os\ndef f(a, b):\n    return os.path.join(a, b) if os.path.exists(a) else b\n"),
    ("os.listdir", "import os\ndef f(d):\n    return sorted(os.listdir(d))\n"),
    ("os.environ.get", "import os\ndef f():\n    return os.environ.get('HOME', '')\n"),
    ("os.environ-write", "import os\ndef f(k, v):\n    os.environ[k] = v\n    os.environ.update(X='1')\n"),
    ("pathlib", "from pathlib import Path\ndef f(p):\n    return [x.name for x in Path(p).glob('*.txt')]\n"),
    ("json", "import json\ndef f(obj):\n    return json.loads(json.dumps(obj, sort_keys=True))\n"),
    ("re", "import re\ndef f(s):\n    return re.sub(r'\\s+', ' ', s).strip()\n"),
    ("re.compile-imported", "from re import compile\ndef f(s):\n    return compile('a+').findall(s)\n"),
    ("math", "import math\ndef f(x):\n    return math.sqrt(x) + math.pi\n"),
    ("itertools", "import itertools\ndef f(xs):\n    return list(itertools.chain.from_iterable(xs))\n"),
    ("lru_cache", "import functools\ndef f(n):\n    @functools.lru_cache(maxsize=None)\n"
                  "    def fib(k):\n        return k if k < 2 else fib(k - 1) + fib(k - 2)\n    return fib(n)\n"),
    ("collections", "from collections import Counter, defaultdict\ndef f(xs):\n"
                    "    d = defaultdict(list)\n    d['a'].append(1)\n    return Counter(xs).most_common(1)\n"),
    ("dataclasses", "import dataclasses\ndef f(obj):\n    return dataclasses.asdict(obj)\n"),
    ("typing", "from typing import Iterable, Optional\ndef f(xs: Iterable[int]) -> Optional[int]:\n"
               "    return max(xs, default=None)\n"),
    ("sys-readonly", "import sys\ndef f():\n    return sys.maxsize, sys.version_info >= (3, 11), sys.platform\n"),
    ("sys.stdin.read", "import sys\ndef f():\n    return sys.stdin.read().split()\n"),
    ("print-stderr", "import sys\ndef f(msg):\n    print(msg, file=sys.stderr)\n    sys.stdout.write(msg)\n"),
    ("subprocess.run", "import subprocess\ndef f(cmd):\n"
                       "    return subprocess.run([cmd, '--version'], capture_output=True, text=True).stdout\n"),
    ("subprocess-defaults", "import subprocess\ndef f(c):\n"
                            "    return subprocess.run(c, start_new_session=False, preexec_fn=None)\n"),
    ("time.sleep", "import time\ndef f(s):\n    time.sleep(s)\n    return time.monotonic()\n"),
    ("random", "import random\ndef f(seed, xs):\n    rng = random.Random(seed)\n    return rng.choice(xs)\n"),
    ("hashlib", "import hashlib\ndef f(b):\n    return hashlib.sha256(b).hexdigest()\n"),
    ("getattr-literal", "def f(obj):\n    return getattr(obj, 'name', None)\n"),
    ("getattr-safe-dunder", "def f(fn, x):\n    return getattr(fn, '__name__', repr(fn)), hasattr(x, '__iter__')\n"),
    ("getattr-literal-prefix", "def f(self, kind):\n    return getattr(self, 'visit_' + kind)()\n"),
    ("getattr-fstring-prefix", "def f(self, kind):\n    return getattr(self, f'handle_{kind}', None)\n"),
    ("isinstance", "def f(x):\n    return isinstance(x, (int, float)) and not isinstance(x, bool)\n"),
    ("nested-and-lambda", "def f(xs):\n    def key(x):\n        return -x\n"
                          "    return sorted(xs, key=lambda x: (key(x), x))\n"),
    ("class-dunders", "def f(a, b):\n    class Point:\n        def __init__(self, x, y):\n"
                      "            self.x, self.y = x, y\n        def __eq__(self, other):\n"
                      "            return (self.x, self.y) == (other.x, other.y)\n"
                      "        def __repr__(self):\n            return f'Point({self.x}, {self.y})'\n"
                      "    return Point(a, b)\n"),
    ("target-is-__eq__", "def __eq__(self, other):\n    '''Equal to anything (a sentinel like mock.ANY).'''\n"
                         "    return True\n"),
    ("self.__dict__", "def __repr__(self):\n    fields = ', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())\n"
                      "    return f'{type(self).__name__}({fields})'\n"),
    ("self.__dict__-write", "def __init__(self, **kw):\n    self.__dict__.update(kw)\n"),
    ("vars-self", "def f(self):\n    return dict(vars(self))\n"),
    ("frozen-setattr", "def __post_init__(self):\n    object.__setattr__(self, 'area', self.w * self.h)\n"),
    ("logging", "import logging\ndef f(x):\n    logging.getLogger(__name__).info('x=%s', x)\n    return x\n"),
    ("asyncio", "import asyncio\nasync def f(xs):\n    await asyncio.sleep(0)\n"
                "    return await asyncio.gather(*xs)\n"),
    ("threads", "import threading\nfrom concurrent.futures import ThreadPoolExecutor\ndef f(xs):\n"
                "    t = threading.Thread(target=print, daemon=True)\n    t.start()\n    t.join()\n"
                "    with ThreadPoolExecutor() as ex:\n        return list(ex.map(abs, xs))\n"),
    ("mkstemp", "import os, tempfile\ndef f(data):\n    fd, path = tempfile.mkstemp()\n"
                "    with os.fdopen(fd, 'w') as fh:\n        fh.write(data)\n    return path\n"),
    ("os.write-own-fd", "import os\ndef f(path, data):\n    fd = os.open(path, os.O_WRONLY | os.O_CREAT)\n"
                        "    os.write(fd, data)\n    os.close(fd)\n"),
    ("mkstemp-close", "import os, tempfile\ndef f():\n    fd, path = tempfile.mkstemp()\n    os.close(fd)\n"
                      "    return path\n"),
    ("importlib.metadata", "from importlib.metadata import version\ndef f():\n    return version('pip')\n"),
    ("param-named-like-modules", "def f(code, signal, inspect, gc):\n"
                                 "    return code.strip(), signal.mean(), inspect.x, gc.y\n"),
    ("local-named-like-module", "def f(x):\n    code = x.upper()\n    return code.lower()\n"),
    ("free-global-ambiguous", "def f(x):\n    queue.append(x)\n    return code.get(x)\n"),
    ("class-attribute", "def bump(self):\n    Counter.instances += 1\n    type(self).seen = True\n"),
    ("docstring-mentions-harness", "def f(x):\n    '''Build the pytest command line; never reads conftest.py.'''\n"
                                   "    return ['python', '-m', x]\n"),
    ("exceptions", "import traceback\ndef f(x):\n    try:\n        return int(x)\n    except ValueError as e:\n"
                   "        traceback.print_exc()\n        raise TypeError(str(e)) from e\n"),
    ("redirect_stdout", "import contextlib, io\ndef f(g):\n    buf = io.StringIO()\n"
                        "    with contextlib.redirect_stdout(buf):\n        g()\n    return buf.getvalue()\n"),
    ("recursion-limit", "import sys\ndef f(n):\n    sys.setrecursionlimit(10_000)\n    return n\n"),
    ("module-name", "def f():\n    return __name__, __file__\n"),
    ("comprehensions", "def f(m):\n    return {k: [v for v in vs if v] for k, vs in m.items()}\n"),
    ("match", "def f(cmd):\n    match cmd.split():\n        case ['go', where]:\n            return where\n"
              "        case _:\n            return None\n"),
]


@pytest.mark.parametrize("code, fragment", [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_code_is_flagged(code: str, fragment: str) -> None:
    found = messages(code)
    assert any(fragment in m for m in found), found


@pytest.mark.parametrize("code", [c[1] for c in BENIGN], ids=[c[0] for c in BENIGN])
def test_ordinary_code_is_not_flagged(code: str) -> None:
    assert messages(code) == []


def test_cases_are_enough() -> None:
    assert len(HOSTILE) >= 25 and len(BENIGN) >= 25


def test_finding_shape_and_line() -> None:
    code = "import sys\n\ndef f(x):\n    '''Doc.'''\n    return sys._getframe(1).f_locals['y']\n"
    found = check(code)
    assert found and all(isinstance(f, Finding) for f in found)
    assert {(f.category, f.severity, f.line) for f in found} == {("security", "error", 5)}
    getframe = next(f for f in found if "sys._getframe" in f.message)
    assert "frame introspection" in getframe.message and "compute the result from the arguments" in getframe.message
    assert not any(f.message.startswith("uses _getframe") for f in found)   # not reported twice


def test_import_line_is_reported_on_its_own_line() -> None:
    found = check("import gc\nimport os\n\ndef f():\n    return os.getcwd()\n")
    assert [(f.line, f.message.split(" (")[0]) for f in found] == [(1, "imports gc")]


def test_identical_construct_on_one_line_is_reported_once() -> None:
    found = check("import sys\ndef f():\n    return sys.modules['a'], sys.modules['b']\n")
    assert len(found) == 1 and found[0].line == 3


def test_same_construct_on_two_lines_is_reported_twice() -> None:
    found = check("def f(x):\n    a = eval(x)\n    return eval(a)\n")
    assert [f.line for f in found] == [2, 3]


def test_findings_are_in_line_order() -> None:
    found = check("def f(x):\n    exec(x)\n    return eval(x)\n\nimport gc\n")
    assert [f.line for f in found] == [2, 3, 5]


def test_code_that_does_not_parse_gives_nothing() -> None:
    assert check("def f(:\n    import pytest\n") == []
    assert check("x = '\0'\0") == []


def test_method_given_dedented() -> None:
    assert check("def area(self):\n    return self.width * self.height\n") == []
    assert check("def area(self):\n    return self.__class__.__subclasses__()\n")


# Typical implementations of the functions in examples/specs.py.
EXAMPLES = '''\
import re


def slugify(title: str) -> str:
    """Turn a title into a URL slug."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def is_palindrome(text: str) -> bool:
    """Whether text reads the same forwards and backwards."""
    cleaned = [c.lower() for c in text if c.isalnum()]
    return cleaned == cleaned[::-1]


def fizzbuzz(n: int) -> list[str]:
    """The FizzBuzz sequence from 1 to n."""
    out = []
    for i in range(1, n + 1):
        word = ("Fizz" if i % 3 == 0 else "") + ("Buzz" if i % 5 == 0 else "")
        out.append(word or str(i))
    return out


def add(a: int, b: int) -> int:
    """Return the sum of a and b."""
    return a + b
'''

METHOD = '''\
def area(self) -> float:
    """The area of the rectangle; a negative side raises ValueError."""
    if self.width < 0 or self.height < 0:
        raise ValueError("sides must not be negative")
    return self.width * self.height
'''


def test_typical_example_implementations_are_clean() -> None:
    assert check(EXAMPLES) == []
    assert check(METHOD) == []


def test_module_functions_named_like_mutators_are_not_writes() -> None:
    assert check("import os\ndef f(p, xs):\n    os.remove(p)\n    xs.remove(p)\n") == []
    assert check("from sys import path\ndef f(p):\n    path.append(p)\n")


def test_computed_getattr_on_a_module_is_reported_once() -> None:
    found = check("import logging\ndef f(level):\n    return getattr(logging, level, logging.WARNING)\n")
    assert [f.message.split(" (")[0] for f in found] == ["uses getattr with a computed name"]
