"""Which runs are judged by value, and with which proxies (read with ``ast``; nothing runs)."""

from __future__ import annotations

from specloop.sandbox import byvalue

JUDGE = '''import re


class Stack:
    """A stack."""


def area(w, h):
    """Area."""
'''
CANDIDATE = JUDGE + '''    return w * h


async def fetch(x):
    return x
'''
CLASS = '''class Stack:
    """A stack."""

    def __init__(self):
        self.items = []

    @property
    def size(self):
        return len(self.items)

    @classmethod
    def of(cls, items):
        s = cls()
        s.items = list(items)
        return s

    @staticmethod
    def empty():
        return Stack()

    async def drain(self):
        return self.items
'''


def test_a_function_and_the_kind_of_each_method_become_proxies() -> None:
    assert byvalue.plan(JUDGE, CANDIDATE, ("area",)) == [["area", "function"]]
    assert byvalue.plan(JUDGE, CANDIDATE, ("fetch",)) == [["fetch", "async"]]
    methods = tuple(byvalue.class_methods(CLASS, "Stack"))
    assert methods == ("Stack.__init__", "Stack.size", "Stack.of", "Stack.empty", "Stack.drain")
    assert byvalue.plan(JUDGE, CLASS, methods) == [
        ["Stack.__init__", "function"], ["Stack.size", "property"], ["Stack.of", "classmethod"],
        ["Stack.empty", "staticmethod"], ["Stack.drain", "async"]]


def test_what_cannot_cross_is_judged_in_process() -> None:
    assert byvalue.plan(None, CANDIDATE, ("area",)) is None                 # no module as written
    assert byvalue.plan(JUDGE, CANDIDATE, ("missing",)) is None             # not a def of the candidate
    both = CLASS.replace("    @staticmethod\n", "    @staticmethod\n    @property\n")
    assert byvalue.plan(JUDGE, both, ("Stack.empty",)) is None              # two kinds at once
    for dunder in ("__getattr__(self, name)", "__reduce__(self)", "__new__(cls)"):
        cls = CLASS.replace("def empty():", f"def {dunder}:\n        pass\n\n    @staticmethod\n    def empty():")
        assert byvalue.plan(JUDGE, cls, ("Stack.size",)) is None, dunder


def test_other_decorators_and_slots_cross() -> None:
    decorated = CANDIDATE.replace("def area", "@deprecated(version='2')\ndef area")   # runs in the candidate
    assert byvalue.plan(JUDGE, decorated, ("area",)) == [["area", "function"]]
    slots = CLASS.replace('"""A stack."""\n', '"""A stack."""\n    __slots__ = ("items",)\n')
    assert byvalue.plan(JUDGE, slots, ("Stack.size",)) == [["Stack.size", "property"]]


def test_a_module_spec_that_adds_other_names_than_functions_is_judged_in_process() -> None:
    functions = JUDGE + "\n\ndef shout(s):\n    return s.upper()\n"
    assert byvalue.plan(JUDGE, functions, ("shout",), module_names=True) == [["shout", "function"]]
    constant = functions + "\nLIMIT = 3\n"
    assert byvalue.plan(JUDGE, constant, ("shout",), module_names=True) is None
    assert byvalue.plan(JUDGE, constant, ("shout",)) == [["shout", "function"]]   # a function's helper: fine
    assert byvalue.local_classes(CLASS) == ["Stack"]
