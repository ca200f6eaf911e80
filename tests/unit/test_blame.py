"""What a test of a class calls, and which methods a failing test blames (blame.py)."""

from __future__ import annotations

from specloop.targets.blame import closure, missing_attribute, suspects, uses

NAMES = {"__init__", "enqueue", "dequeue", "__len__", "__iter__", "__repr__", "__getitem__", "__eq__", "total"}


def test_what_an_example_calls():
    assert uses("q = Queue()", NAMES, "Queue") == {"__init__"}
    assert uses("q.enqueue(1)", NAMES, "Queue") == {"enqueue"}
    assert uses("len(q), q.dequeue()", NAMES, "Queue") == {"__len__", "dequeue"}
    assert uses("[x for x in q]", NAMES, "Queue") == {"__iter__"}
    assert uses("q[0] == q2", NAMES, "Queue") == {"__getitem__", "__eq__"}
    assert uses("q", NAMES, "Queue") == {"__repr__"}                 # a doctest shows its repr
    assert uses("inv.total", NAMES, "Queue") == {"total"}            # a property
    assert uses("def broken(:", NAMES, "Queue") == NAMES             # unknown: everything


def test_what_code_reaches():
    assert closure({"a"}, {"a": {"b"}, "b": {"c"}, "d": {"a"}}) == {"a", "b", "c"}


def test_an_attribute_init_does_not_set_blames_init():
    message = "AttributeError: 'Queue' object has no attribute '_items'"
    assert missing_attribute(message) == "_items"
    args = dict(cleared=set(), tested={"enqueue", "dequeue"}, has_init=True, widened=False)
    assert suspects(message, {"__init__", "enqueue"}, {"__init__", "enqueue"},
                    init_code="def __init__(self):\n    self.items = []\n", **args) == {"__init__"}
    # __init__ sets it: the method that failed is blamed, not __init__
    assert suspects(message, {"__init__", "enqueue"}, {"__init__", "enqueue"},
                    init_code="def __init__(self):\n    self._items = []\n", **args) == {"enqueue"}


def test_methods_cleared_by_their_own_examples_are_not_blamed():
    tested = {"push", "pop", "__len__"}
    direct = {"__init__", "push", "pop"}
    common = dict(init_code="def __init__(self):\n    self._items = []\n", has_init=True)
    assert suspects("expected 2, got 1", direct, direct, cleared={"push", "__len__"}, tested=tested,
                    widened=False, **common) == {"pop"}
    # every method it calls passes its own examples: the untested __init__, else the tested ones
    assert suspects("expected 2, got 1", direct, direct, cleared=tested, tested=tested, widened=False,
                    **common) == {"__init__"}
    assert suspects("expected 2, got 1", {"push", "pop"}, {"push", "pop"}, cleared=tested, tested=tested,
                    widened=False, **common) == {"push", "pop"}
    # a test that outlived a repair: what it reaches through code too, whose own examples fail
    assert suspects("expected 2, got 1", {"pop"}, {"pop", "_shrink"}, cleared=set(), tested={"pop", "_shrink"},
                    widened=True, **common) == {"pop", "_shrink"}
