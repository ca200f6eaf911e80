import pytest

from stack import Stack


def test_lifo_order():
    s = Stack()
    for i in range(10):
        s.push(i)
    assert [s.pop() for _ in range(10)] == list(range(9, -1, -1))
    assert not s


def test_limit_counts_current_items_not_pushes():
    s = Stack(limit=2)
    s.push(1)
    s.push(2)
    assert s.pop() == 2
    s.push(3)
    with pytest.raises(OverflowError):
        s.push(4)
    assert len(s) == 2


def test_empty_stack_errors():
    s = Stack()
    with pytest.raises(IndexError):
        s.pop()
    with pytest.raises(IndexError):
        s.peek()


def test_repr_of_empty_and_falsy_items():
    s = Stack()
    assert repr(s) == "Stack([])"
    s.push(0)
    assert bool(s) is True and repr(s) == "Stack([0])"


def test_no_limit_by_default():
    s = Stack()
    for i in range(1000):
        s.push(i)
    assert len(s) == 1000 and s.peek() == 999
