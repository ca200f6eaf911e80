"""Iteration helpers."""

import itertools
from collections import deque


def first(iterable, default=None):
    """The first item, or ``default`` when there is none."""
    return next(iter(iterable), default)


# spec (implemented): Chunking iterables (any iterable, also an endless one, read lazily).
#   chunked(iterable, n) yields lists of n items, the last one may be shorter;
#   ValueError when n < 1 (raised at the call, not on first use);
#   windows(iterable, n) yields tuples of n consecutive items, sliding by one
#   (nothing when there are fewer than n items);
#   flatten(nested) is a list of the items of the inner iterables, in order.
#
#   >>> list(chunked(range(5), 2))
#   [[0, 1], [2, 3], [4]]


def chunked(iterable, n):
    """Lists of ``n`` items of ``iterable``, lazily.

    >>> list(chunked("abcde", 3))
    [['a', 'b', 'c'], ['d', 'e']]
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    iterator = iter(iterable)

    def chunks():
        while chunk := list(itertools.islice(iterator, n)):
            yield chunk
    return chunks()


def windows(iterable, n):
    """Tuples of ``n`` consecutive items, lazily.

    >>> list(windows([1, 2, 3, 4], 3))
    [(1, 2, 3), (2, 3, 4)]
    """
    iterator = iter(iterable)
    window = deque(itertools.islice(iterator, n), maxlen=n)
    if len(window) < n:
        return
    yield tuple(window)
    for item in iterator:
        window.append(item)
        yield tuple(window)


def flatten(nested):
    """The items of the inner iterables, one level, in order.

    >>> flatten([[1, 2], (3,), []])
    [1, 2, 3]
    """
    return list(itertools.chain.from_iterable(nested))
