"""Grouping records (dicts)."""


def key_of(record, field):
    """The value of ``field`` in ``record``, None when it is missing."""
    return record.get(field)


# spec: Grouping records.
#   group_by(records, field): a dict from each value key_of(record, field) to the
#   list of records with that value, keys and lists in input order;
#   count_by(records, field): a dict from each value to how many records have it,
#   the most frequent first, ties in first-seen order;
#   top_values(records, field, n): the n most frequent values, as count_by orders them.
#
#   >>> count_by([{"a": 1}, {"a": 2}, {"a": 2}], "a")
#   {2: 2, 1: 1}


def describe(groups):
    return ", ".join(f"{key}: {len(items)}" for key, items in groups.items())
