"""Grouping records (dicts)."""

from collections import Counter, defaultdict


def key_of(record, field):
    """The value of ``field`` in ``record``, None when it is missing."""
    return record.get(field)


# spec (implemented): Grouping records.
#   group_by(records, field): a dict from each value key_of(record, field) to the
#   list of records with that value, keys and lists in input order;
#   count_by(records, field): a dict from each value to how many records have it,
#   the most frequent first, ties in first-seen order;
#   top_values(records, field, n): the n most frequent values, as count_by orders them.
#
#   >>> count_by([{"a": 1}, {"a": 2}, {"a": 2}], "a")
#   {2: 2, 1: 1}


def group_by(records, field):
    """Records grouped by their value of ``field``, in input order.

    >>> group_by([{"k": "x"}, {"k": "y"}, {"k": "x", "n": 1}], "k")
    {'x': [{'k': 'x'}, {'k': 'x', 'n': 1}], 'y': [{'k': 'y'}]}
    """
    groups = defaultdict(list)
    for record in records:
        groups[key_of(record, field)].append(record)
    return dict(groups)


def count_by(records, field):
    """How many records have each value of ``field``, the most frequent first.

    >>> count_by([{"c": "r"}, {"c": "g"}, {"c": "g"}], "c")
    {'g': 2, 'r': 1}
    """
    return dict(Counter(key_of(r, field) for r in records).most_common())


def top_values(records, field, n):
    """The ``n`` most frequent values of ``field``.

    >>> top_values([{"c": 1}, {"c": 2}, {"c": 2}, {"c": 3}], "c", 2)
    [2, 1]
    """
    return list(count_by(records, field))[:n]


def describe(groups):
    return ", ".join(f"{key}: {len(items)}" for key, items in groups.items())
