"""Runs judged by value: the candidate runs in a process of its own, the tests in the judge.

What real tests do across the wall keeps working (printed output, mutated arguments,
generators, exceptions with their line, callbacks and mocks, monkeypatching the module and
what it imports, the environment, ``tmp_path`` files, the user's own objects); and a wrong
candidate gets no ``passed`` whatever it does in its own process -- without the static policy.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from specloop.sandbox import policy, warm
from specloop.sandbox.runs import Sandbox, SandboxRequest, TestFile, doctest_text, make_doctest_file
from specloop.settings import Settings
from specloop.source.spec import find_target

from test_sandbox import MODES
from test_sandbox_hostile import FORGE, trusted_pass

MODULE = '''"""Shapes."""
import os
import json


class Box:
    def __init__(self, w, h):
        self.w, self.h = w, h

    def __eq__(self, other):
        return isinstance(other, Box) and (self.w, self.h) == (other.w, other.h)

    def __repr__(self):
        return f"Box({self.w}, {self.h})"


def helper(x):
    return x


def area(w, h):
    """Area of a w-by-h rectangle.

    >>> area(2, 3)
    6
    >>> area(4, 5)
    20
    """
'''
USER_TEST = "from mypkg.mod import area\n\n\ndef test_area():\n    assert area(7, 8) == 56\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "mypkg").mkdir(parents=True)
    (root / "mypkg" / "__init__.py").write_text("")
    (root / "mypkg" / "mod.py").write_text(MODULE)
    (root / "tests").mkdir()
    (root / "tests" / "test_area.py").write_text(USER_TEST)
    yield root
    warm.shutdown()


def candidate(body: str, after: str = "") -> str:
    return MODULE + textwrap.indent(textwrap.dedent(body).strip() + "\n", "    ") + textwrap.dedent(after)


async def run(mode: str, ws: Path, body: str, *, verify: bool = False, tests: str | None = None, after: str = "",
              fallback: bool = False):
    target = find_target(MODULE, "area")
    doctests = TestFile("test_specloop_doctests.py", make_doctest_file("mypkg.mod", "area", target.examples),
                        True, doctest=doctest_text(target.examples))
    user = ["tests/test_area.py::test_area"]
    if tests is not None:
        (ws / "tests" / "test_more.py").write_text(textwrap.dedent(tests))
        user = ["tests/test_more.py"]
    sandbox = Sandbox(Settings(sandbox=mode, test_timeout=20.0), ws)
    code = candidate(body, after)
    # ``fallback``: as the engine decides it (job.request): a failing test is judged again
    # in-process only for a candidate the static policy does not flag
    req = SandboxRequest(ws / "mypkg" / "mod.py", code, ws, [doctests], user, judge_source=MODULE, targets=("area",),
                         in_process_fallback=fallback and not policy.check(code[code.index("def area"):]))
    return await sandbox.run(req, verify=verify)


def outcomes(result) -> dict[str, tuple[str, str]]:
    return {o.id.rsplit("::", 1)[-1]: (o.outcome, o.message) for o in result.outcomes}


@pytest.mark.parametrize("mode", MODES)
async def test_the_singletons_a_pickle_names_cross_by_value(mode: str, ws: Path) -> None:
    # an ``__eq__`` returning NotImplemented for a stranger is ordinary code, not a forgery
    body = "if w is None:\n    return NotImplemented\nif w is ...:\n    return ...\nreturn w * h"
    tests = """
        from mypkg.mod import area


        def test_singletons():
            assert area(None, 1) is NotImplemented and area(..., 1) is Ellipsis and area(2, 3) == 6
    """
    result = await run(mode, ws, body, tests=tests)
    assert result.judged == "value" and trusted_pass(result), (result.error, outcomes(result))
    assert all(o.judged != "in-process" for o in result.outcomes if o.authoritative)   # none fell back


@pytest.mark.parametrize("mode", MODES)
async def test_the_right_answer_passes_judged_by_value(mode: str, ws: Path) -> None:
    for verify in (False, True):
        result = await run(mode, ws, "return w * h", verify=verify)
        assert trusted_pass(result), (result.error, outcomes(result))
        assert result.judged == "value" and len(result.outcomes) == 3


TESTS_ACROSS = '''
    import os
    from unittest import mock
    import pytest
    import mypkg.mod as mod
    from mypkg.mod import area, Box


    def test_printed_output_reaches_capsys(capsys):
        assert area(5, 5) == 25
        assert capsys.readouterr().out == "computing 5 5\\n"


    def test_a_mutated_argument_is_copied_back():
        seen = []
        area(seen, 1)
        assert seen == ["called"]


    def test_an_exception_crosses_with_its_type_and_line():
        with pytest.raises(ValueError, match="negative"):
            area(-1, 2)


    def test_a_callback_is_called_in_the_judge():
        spy = mock.Mock(return_value=5)
        assert area(spy, 2) == 10
        spy.assert_called_once_with(2)


    def test_monkeypatched_helper_is_used(monkeypatch):
        monkeypatch.setattr(mod, "helper", lambda x: 100)
        assert area("helper", 1) == 100


    def test_a_patched_module_attribute_is_used():
        with mock.patch("mypkg.mod.os.getcwd", return_value="/nowhere"):
            assert area("cwd", 1) == "/nowhere"


    def test_the_environment_follows(monkeypatch):
        monkeypatch.setenv("SPECLOOP_PROBE", "yes")
        assert area("env", 1) == "yes"


    def test_files_in_tmp_path_cross(tmp_path):
        path = tmp_path / "x.txt"
        path.write_text("abc")
        assert area(str(path), 0) == "abc"


    def test_the_users_objects_cross_by_value():
        assert area("box", 3) == Box(3, 3)
        assert isinstance(area("box", 1), Box)


    def test_a_generator_streams():
        assert list(area("gen", 4)) == [0, 1, 4, 9]


    def test_the_same_object_comes_back():
        items = [1]
        assert area("same", items) is items


    def test_log_records_reach_caplog(caplog):
        import logging
        caplog.set_level(logging.INFO)
        assert area("log", 2) == 4
        assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [("mypkg.mod", "INFO", "doubled 2")]
'''
BODY_ACROSS = '''
    import os
    if w == 5 and h == 5:
        print("computing", w, h)
    if isinstance(w, list):
        w.append("called")
        return None
    if callable(w):
        return w(h) * 2
    if w == -1:
        raise ValueError("negative width")
    if w == "helper":
        return helper(h)
    if w == "cwd":
        return os.getcwd()
    if w == "env":
        return os.environ.get("SPECLOOP_PROBE")
    if isinstance(w, str) and w.startswith("/"):
        with open(w) as fh:
            return fh.read()
    if w == "box":
        return Box(h, h)
    if w == "gen":
        return (i * i for i in range(h))
    if w == "same":
        return h
    if w == "log":
        import logging
        logging.getLogger(__name__).info("doubled %s", h)
        logging.getLogger(__name__).debug("not shown")
        return h * 2
    return w * h
'''


@pytest.mark.parametrize("mode", MODES)
async def test_what_real_tests_do_keeps_working_across_the_wall(mode: str, ws: Path) -> None:
    result = await run(mode, ws, BODY_ACROSS, tests=TESTS_ACROSS)
    assert result.judged == "value"
    failing = {k: v for k, v in outcomes(result).items() if v[0] != "passed"}
    assert not failing and result.error is None, (result.error, failing)
    assert len(result.outcomes) == 14


@pytest.mark.parametrize("mode", MODES)
async def test_an_exception_points_at_the_candidates_line(mode: str, ws: Path) -> None:
    result = await run(mode, ws, "x = 1\nraise KeyError(w)\n")
    failed = [o for o in result.outcomes if o.outcome != "passed"]
    assert failed and all(o.line == MODULE.count("\n") + 2 for o in failed), [(o.id, o.line) for o in failed]
    assert "KeyError" in failed[0].message


@pytest.mark.parametrize("mode", MODES)
async def test_a_value_that_cannot_cross_fails_with_a_clear_message(mode: str, ws: Path) -> None:
    body = '''
        class Answer:
            def __init__(self, n):
                self.n = n
            def __eq__(self, other):
                return not False
            __hash__ = None
        return Answer(w * h)
    '''
    result = await run(mode, ws, body)
    assert not trusted_pass(result)
    user = outcomes(result)["test_area"]
    assert user[0] == "failed" and "cannot leave the sandbox by value" in user[1], user


# -- the hostile corpus, judged by value (no static policy in the way) --------------------------------------

_GADGET_NAMES = ("tp", "trg_bowrpgf")   # gc, get_objects in rot13: the source never names them
BY_VALUE = dict(FORGE)
BY_VALUE.update({
    # reaching the reporter: gc.get_objects through a pickle GLOBAL with rot13'd names, then the emitter
    "pickle-gadget": f'''
        import pickle, codecs, json
        mod, name = (codecs.decode(s, "rot13") for s in {_GADGET_NAMES!r})
        get_objects = pickle.loads(b"c" + mod.encode() + b"\\n" + name.encode() + b"\\n.")
        for obj in get_objects():
            if callable(obj) and getattr(obj, "__name__", "") == "emit" and getattr(obj, "__closure__", None):
                for n in range(2):
                    obj({{"kind": "test", "id": "test_specloop_doctests.py::test_doctest_%d" % n,
                         "outcome": "passed", "authoritative": True, "got": "6\\n" if n == 0 else "20\\n"}})
                obj({{"kind": "test", "id": "tests/test_area.py::test_area", "outcome": "passed"}})
                obj({{"kind": "done", "code": 0}})
        import os
        os._exit(0)
    ''',
    # the runner's plugin found through gc.get_objects named in a pickle; its emit called as a method
    # (no closure, no frame): judged by value it reaches nothing, and the policy flags the pickle,
    # so it gets no in-process second run either
    "pickle-gadget-plugin": f'''
        import pickle, codecs, os
        mod, name = (codecs.decode(s, "rot13") for s in {_GADGET_NAMES!r})
        get_objects = pickle.loads(b"c" + mod.encode() + b"\\n" + name.encode() + b"\\n.")
        for obj in get_objects():
            if type(obj).__name__ == "Plugin" and hasattr(obj, "emit"):
                for n in range(2):
                    obj.emit({{"kind": "test", "id": "test_specloop_doctests.py::test_doctest_%d" % n,
                              "outcome": "passed", "authoritative": True, "got": "6\\n" if n == 0 else "20\\n"}})
                obj.emit({{"kind": "test", "id": "tests/test_area.py::test_area", "outcome": "passed"}})
                obj.emit({{"kind": "done", "code": 0}})
                os._exit(0)
        return 0
    ''',
    # a pytest hookwrapper registered from inside the candidate (there is no pytest here)
    "hookwrapper-by-pickle": '''
        import pickle, sys
        pm = None
        for mod in list(sys.modules.values()):
            pm = getattr(mod, "_pluginmanager", None) or pm
        class Forger:
            def pytest_runtest_makereport(self, item, call):
                outcome = yield
                outcome.get_result().outcome = "passed"
        try:
            import pytest
            pytest.hookimpl(hookwrapper=True)(Forger.pytest_runtest_makereport)
            if pm is not None:
                pm.register(Forger())
        except Exception:
            pass
        return 0
    ''',
    # computed always-equal objects
    "always-equal-computed": '''
        eq = lambda self, other: not False
        return type("Int", (int,), {"__eq__": eq, "__ne__": lambda s, o: False, "__hash__": int.__hash__})(0)
    ''',
    # a handcrafted answer on the wire: a pickle that calls eval in the judge
    "raw-eval-on-the-wire": f'''
        import os, struct, socket, pickle
        payload = pickle.dumps(("ret", None, None, "", ""))
        evil = (b"\\x80\\x04cbuiltins\\neval\\n(V__import__('os')._exit(0)\\ntR" +
                b"(VretqNNVVt.")
        for fd in range(3, 32):
            try:
                s = socket.socket(fileno=os.dup(fd))
                s.sendall(struct.pack("!I", len(evil)) + evil)
            except OSError:
                pass
        import time
        time.sleep(0.5)
        return 0
    ''',
    # frames, in the candidate's process: there is no test runner up the stack
    "frames-of-the-runner": '''
        import sys
        frame = sys._getframe(1)
        while frame is not None:
            if "example" in frame.f_locals:
                return int(frame.f_locals["example"].want)
            frame = frame.f_back
        return 0
    ''',
    # ending the worker early, after killing every process of the sandbox's runs it can see
    # (the judge and its supervisor among them where they share a process namespace)
    "kill-the-runs": '''
        import os, signal
        marker = ("SPECLOOP_SANDBOX_RUN=" + os.environ.get("SPECLOOP_SANDBOX_RUN", "?")).encode()
        for name in os.listdir("/proc"):
            try:
                with open("/proc/%s/environ" % name, "rb") as fh:
                    mine = marker in fh.read().split(b"\\0")
            except OSError:
                continue
            if mine and int(name) != os.getpid():
                try:
                    os.kill(int(name), signal.SIGKILL)
                except OSError:
                    pass
        os._exit(0)
    ''',
    # the judge's files: where the run's tests are written
    "rewrite-the-tests": '''
        import glob
        for path in glob.glob("/tmp/**/test_specloop_doctests.py", recursive=True) + \\
                glob.glob("/tmp/**/_specloop_tests/*.py", recursive=True):
            try:
                with open(path, "w") as fh:
                    fh.write("def test_doctest_0():\\n    pass\\ndef test_doctest_1():\\n    pass\\n")
            except OSError:
                pass
        return 0
    ''',
})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(BY_VALUE))
async def test_a_wrong_candidate_cannot_forge_a_pass_judged_by_value(mode: str, name: str, ws: Path) -> None:
    for verify in (False, True):
        result = await run(mode, ws, BY_VALUE[name], verify=verify, fallback=True)
        assert result.judged == "value"
        assert not trusted_pass(result), (name, verify, outcomes(result))



@pytest.mark.parametrize("when", ["at-import", "at-call"])
async def test_a_test_file_rewritten_in_process_mode_is_put_back_and_the_run_untrusted(when: str, ws: Path) -> None:
    path = ws / "tests" / "test_area.py"
    rewrite = f"""
        with open({str(path)!r}, "w") as fh:
            fh.write("def test_area():\\n    pass\\n")
    """
    if when == "at-call":
        result = await run("process", ws, rewrite + "return 0\n")
    else:
        result = await run("process", ws, "return 0", after=rewrite)
    assert not trusted_pass(result)
    assert result.tampered and "tests/test_area.py" in result.tampered, result.tampered
    assert path.read_text() == USER_TEST
    aside = list((ws / ".specloop" / "changed-by-run").rglob("test_area.py"))
    assert aside and "pass" in aside[0].read_text()


CLASS_SPEC = '''class Stack:
    """A stack of items.

    >>> s = Stack.of([1, 2])
    >>> s.push(3)
    >>> s.size, len(s), s.pop(), list(s)
    (3, 3, 3, [2, 1])
    >>> s == Stack.of([1, 2]), Stack.empty().size
    (True, 0)
    """
'''
CLASS_CODE = '''class Stack:
    """A stack of items."""

    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

    def pop(self):
        return self.items.pop()

    @property
    def size(self):
        return len(self.items)

    @classmethod
    def of(cls, items):
        stack = cls()
        stack.items = list(items)
        return stack

    @staticmethod
    def empty():
        return Stack()

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return reversed(self.items)

    def __eq__(self, other):
        return isinstance(other, Stack) and self.items == other.items
'''


@pytest.mark.parametrize("mode", MODES)
async def test_a_class_is_judged_by_value_through_its_methods(mode: str, tmp_path: Path) -> None:
    from specloop.sandbox import byvalue

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "stacks.py").write_text(CLASS_SPEC)
    from specloop.source.classspec import find_class_target

    spec = find_class_target(CLASS_SPEC, "Stack")
    doctests = TestFile("test_specloop_doctests.py", make_doctest_file("stacks", "Stack", spec.examples),
                        True, doctest=doctest_text(spec.examples))
    methods = tuple(byvalue.class_methods(CLASS_CODE, "Stack"))
    sandbox = Sandbox(Settings(sandbox=mode, test_timeout=20.0), ws)
    try:
        result = await sandbox.run(SandboxRequest(ws / "stacks.py", CLASS_CODE, ws, [doctests], [],
                                                  judge_source=CLASS_SPEC, targets=methods))
        assert result.judged == "value"
        assert trusted_pass(result), (result.error, outcomes(result))
        wrong = CLASS_CODE.replace("return self.items.pop()", "return self.items.pop(0)")
        result = await sandbox.run(SandboxRequest(ws / "stacks.py", wrong, ws, [doctests], [],
                                                  judge_source=CLASS_SPEC, targets=methods))
        assert not trusted_pass(result)
    finally:
        warm.shutdown()


@pytest.mark.parametrize("mode", [m for m in MODES if m.values[0] == "bwrap"])
async def test_the_candidates_process_has_no_capabilities_and_cannot_see_the_judge(mode: str, ws: Path) -> None:
    body = '''
        import os
        caps = [line.split()[1] for line in open("/proc/self/status") if line.startswith("CapEff")][0]
        seen = []
        for name in os.listdir("/proc"):
            try:
                with open("/proc/%s/cmdline" % name, "rb") as fh:
                    argv = fh.read().split(b"\\0")
                if b"serve" in argv or b"once" in argv:
                    seen.append(name)   # the judge's worker or run (this side's worker says cserve)
            except OSError:
                pass
        return [caps, seen, os.path.exists("/tmp/run-")]
    '''
    tests = '''
        from mypkg.mod import area


        def test_walls():
            caps, seen, _ = area(0, 0)
            assert int(caps, 16) == 0 and seen == []
    '''
    result = await run(mode, ws, body, tests=tests)
    assert outcomes(result)["test_walls"] == ("passed", ""), outcomes(result)


DECORATOR_SPEC = '''def tagged(name):
    """A decorator that sets the function's ``tag`` to ``name`` and returns it.

    >>> @tagged("y")
    ... def g():
    ...     return 2
    >>> g.tag, g()
    ('y', 2)
    """


@tagged("x")
def f():
    return 1
'''


@pytest.mark.parametrize("mode", MODES)
async def test_a_target_the_module_uses_while_it_loads_is_the_candidates(mode: str, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "tests").mkdir(parents=True)
    (ws / "deco.py").write_text(DECORATOR_SPEC)
    (ws / "tests" / "test_deco.py").write_text("from deco import f\n\n\ndef test_f():\n    assert f.tag == 'x' and f() == 1\n")
    code = DECORATOR_SPEC.replace('    """\n\n\n@tagged', '    """\n    def deco(func):\n        func.tag = name\n'
                                  '        return func\n    return deco\n\n\n@tagged', 1)
    spec = find_target(DECORATOR_SPEC, "tagged")
    doctests = TestFile("test_specloop_doctests.py", make_doctest_file("deco", "tagged", spec.examples),
                        True, doctest=doctest_text(spec.examples))
    sandbox = Sandbox(Settings(sandbox=mode, test_timeout=20.0), ws)
    try:
        result = await sandbox.run(SandboxRequest(ws / "deco.py", code, ws, [doctests], ["tests/test_deco.py::test_f"],
                                                  judge_source=DECORATOR_SPEC, targets=("tagged",)))
    finally:
        warm.shutdown()
    assert result.judged == "value"
    assert trusted_pass(result), (result.error, outcomes(result))


SCALE_SPEC = '''class Scale:
    def __init__(self, k):
        self.k = k

    def __call__(self, x):
        return self.k * x


def twice(f, x):
    """f(f(x)), and whether f is a Scale."""
'''
SCALE_TEST = "from scale import Scale, twice\n\n\ndef test_twice():\n    assert twice(Scale(3), 2) == (18, True)\n"


@pytest.mark.parametrize("mode", MODES)
async def test_the_users_callable_objects_cross_by_value(mode: str, tmp_path: Path) -> None:
    """An object of the user's class that defines ``__call__`` is a value, not a callback:
    the code under test gets a Scale (isinstance holds), as it would in one process."""
    ws = tmp_path / "ws"
    (ws / "tests").mkdir(parents=True)
    (ws / "scale.py").write_text(SCALE_SPEC)
    (ws / "tests" / "test_scale.py").write_text(SCALE_TEST)
    sandbox = Sandbox(Settings(sandbox=mode, test_timeout=20.0), ws)
    try:
        result = await sandbox.run(SandboxRequest(ws / "scale.py", SCALE_SPEC + "    return f(f(x)), isinstance(f, Scale)\n",
                                                  ws, [], ["tests/test_scale.py::test_twice"],
                                                  judge_source=SCALE_SPEC, targets=("twice",)))
    finally:
        warm.shutdown()
    assert result.judged == "value" and trusted_pass(result), (result.error, outcomes(result))


COUNTER_SPEC = '''COUNT = 0


def bump():
    """Add one to the module's COUNT and return it."""
'''
COUNTER_TEST = "import counter\n\n\ndef test_bump():\n    assert counter.bump() == 1 and counter.COUNT == 1\n"


@pytest.mark.parametrize("mode", MODES)
async def test_a_test_that_cannot_be_judged_by_value_is_judged_in_process_and_says_so(mode: str,
                                                                                     tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "tests").mkdir(parents=True)
    (ws / "counter.py").write_text(COUNTER_SPEC)
    (ws / "tests" / "test_counter.py").write_text(COUNTER_TEST)
    right = COUNTER_SPEC + "    global COUNT\n    COUNT += 1\n    return COUNT\n"
    sandbox = Sandbox(Settings(sandbox=mode, test_timeout=20.0), ws)

    async def run_one(code: str, fallback: bool):
        return await sandbox.run(SandboxRequest(ws / "counter.py", code, ws, [], ["tests/test_counter.py::test_bump"],
                                                judge_source=COUNTER_SPEC, targets=("bump",),
                                                in_process_fallback=fallback))
    try:
        # the module's COUNT the test reads is the judge's: by value the test fails ...
        by_value = await run_one(right, False)
        assert by_value.judged == "value" and not trusted_pass(by_value)
        # ... and, the policy flagging nothing, it is judged again in-process, where it passes
        again = await run_one(right, True)
        assert trusted_pass(again), outcomes(again)
        assert [o.judged for o in again.outcomes] == ["in-process"]
        assert not trusted_pass(await run_one(COUNTER_SPEC + "    return 1\n", True))   # wrong stays wrong
    finally:
        warm.shutdown()


SLOTS_SPEC = '''class Version:
    """A version number."""

    __slots__ = ("major", "minor")

    def __init__(self, major, minor):
        self.major, self.minor = major, minor

    def bump(self):
        """Raise the major number by one, the minor to 0; return both."""
'''


@pytest.mark.parametrize("mode", MODES)
async def test_an_object_with_slots_crosses_and_comes_back_changed(mode: str, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "tests").mkdir(parents=True)
    (ws / "versions.py").write_text(SLOTS_SPEC)
    (ws / "tests" / "test_versions.py").write_text(
        "from versions import Version\n\n\ndef test_bump():\n    v = Version(1, 2)\n"
        "    assert v.bump() == (2, 0) and (v.major, v.minor) == (2, 0)\n")
    code = SLOTS_SPEC + "        self.major, self.minor = self.major + 1, 0\n        return self.major, self.minor\n"
    sandbox = Sandbox(Settings(sandbox=mode, test_timeout=20.0), ws)
    try:
        result = await sandbox.run(SandboxRequest(ws / "versions.py", code, ws, [], ["tests/test_versions.py::test_bump"],
                                                  judge_source=SLOTS_SPEC, targets=("Version.bump",)))
    finally:
        warm.shutdown()
    assert result.judged == "value" and trusted_pass(result), (result.error, outcomes(result))
