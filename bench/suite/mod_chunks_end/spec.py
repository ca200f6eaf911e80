"""Iteration helpers."""


def first(iterable, default=None):
    """The first item, or ``default`` when there is none."""
    return next(iter(iterable), default)


# spec: Chunking iterables (any iterable, also an endless one, read lazily).
#   chunked(iterable, n) yields lists of n items, the last one may be shorter;
#   ValueError when n < 1 (raised at the call, not on first use);
#   windows(iterable, n) yields tuples of n consecutive items, sliding by one
#   (nothing when there are fewer than n items);
#   flatten(nested) is a list of the items of the inner iterables, in order.
#
#   >>> list(chunked(range(5), 2))
#   [[0, 1], [2, 3], [4]]
