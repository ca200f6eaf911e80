from grouping import count_by, describe, group_by, key_of, top_values

ROWS = [{"city": "Oslo", "n": 1}, {"city": "Rome", "n": 2}, {"city": "Oslo", "n": 3},
        {"n": 4}, {"city": "Lima", "n": 5}, {"city": "Rome", "n": 6}, {"city": "Oslo", "n": 7}]


def test_group_by_keeps_input_order_and_missing_key_is_none():
    groups = group_by(ROWS, "city")
    assert list(groups) == ["Oslo", "Rome", None, "Lima"]
    assert [r["n"] for r in groups["Oslo"]] == [1, 3, 7] and groups[None] == [{"n": 4}]


def test_count_by_order_with_ties_first_seen():
    assert list(count_by(ROWS, "city").items()) == [("Oslo", 3), ("Rome", 2), (None, 1), ("Lima", 1)]
    assert count_by([], "city") == {}


def test_top_values():
    assert top_values(ROWS, "city", 2) == ["Oslo", "Rome"]
    assert top_values(ROWS, "city", 10) == ["Oslo", "Rome", None, "Lima"]


def test_existing_functions_still_work():
    assert describe(group_by(ROWS[:2], "city")) == "Oslo: 1, Rome: 1"
    assert key_of({"a": 1}, "b") is None


def test_group_by_returns_a_plain_dict():
    assert type(group_by(ROWS, "city")) is dict and type(count_by(ROWS, "city")) is dict
