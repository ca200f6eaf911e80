import pytest

from cache import LRUCache


def test_get_refreshes_recency():
    c = LRUCache(2)
    c.put("a", 1)
    c.put("b", 2)
    c.get("a")
    c.put("c", 3)
    assert "a" in c and "b" not in c and "c" in c


def test_put_existing_key_refreshes_and_updates():
    c = LRUCache(2)
    c.put("a", 1)
    c.put("b", 2)
    c.put("a", 10)
    c.put("c", 3)
    assert c.get("a") == 10 and c.get("b") is None and len(c) == 2


def test_contains_does_not_refresh():
    c = LRUCache(2)
    c.put("a", 1)
    c.put("b", 2)
    assert "a" in c
    c.put("c", 3)
    assert "a" not in c


def test_bad_capacity():
    with pytest.raises(ValueError):
        LRUCache(0)


def test_keys_order_and_capacity_bound():
    c = LRUCache(3)
    for i in range(10):
        c.put(i, i * i)
    assert c.keys() == [7, 8, 9] and len(c) == 3 == c.capacity
    assert c.get(8) == 64 and c.keys() == [7, 9, 8]
