import pytest

from inventory import Inventory


def test_remove_more_than_in_stock_leaves_stock_unchanged():
    inv = Inventory()
    inv.add("apple", 2)
    with pytest.raises(ValueError):
        inv.remove("apple", 3)
    assert inv.quantity("apple") == 2


def test_add_rejects_non_positive_counts():
    inv = Inventory()
    with pytest.raises(ValueError):
        inv.add("apple", 0)
    with pytest.raises(ValueError):
        inv.add("apple", -2)
    assert len(inv) == 0 and inv.total == 0


def test_items_and_totals_follow_changes():
    inv = Inventory()
    inv.add("c", 1)
    inv.add("a", 5)
    inv.add("b", 2)
    inv.remove("a", 5)
    assert inv.items() == [("b", 2), ("c", 1)]
    assert inv.total == 3 and len(inv) == 2 and "a" not in inv


def test_separate_inventories():
    one, two = Inventory(), Inventory()
    one.add("x", 1)
    assert "x" in one and "x" not in two


def test_remove_unknown_item_raises():
    with pytest.raises(ValueError):
        Inventory().remove("ghost")
