import pytest

from bag import Bag


def test_remove_until_gone():
    b = Bag([1, 1])
    b.remove(1)
    b.remove(1)
    assert 1 not in b and len(b) == 0 and b.count(1) == 0
    with pytest.raises(KeyError):
        b.remove(1)


def test_add_rejects_zero_times():
    b = Bag()
    with pytest.raises(ValueError):
        b.add("a", 0)
    assert len(b) == 0


def test_most_common_all_and_ties_in_first_added_order():
    b = Bag(["z", "y", "z", "x", "y"])
    assert b.most_common() == [("z", 2), ("y", 2), ("x", 1)]
    assert b.most_common(0) == []


def test_iteration_and_equality():
    b = Bag("mississippi")
    assert sorted(b) == sorted("mississippi") and len(b) == 11
    assert b == Bag("ssssiiiippm")
    assert b != Bag("mississipp")
    assert Bag() != "abc"


def test_initial_items_any_iterable():
    b = Bag(x % 3 for x in range(10))
    assert [b.count(i) for i in range(3)] == [4, 3, 3]
