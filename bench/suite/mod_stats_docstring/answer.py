"""Descriptive statistics for lists of numbers."""

import math

# spec (implemented): Summary statistics (ValueError for an empty list in every function).
#   mean(xs): the arithmetic mean, a float;
#   median(xs): the middle value of the sorted numbers, the mean of the two
#   middle ones for an even count;
#   pstdev(xs): the population standard deviation (square root of the mean
#   squared distance from the mean);
#   zscores(xs): each number's distance from the mean in standard deviations,
#   all 0.0 when pstdev is 0.
#
#   >>> median([3, 1, 2, 10])
#   2.5


def mean(xs):
    """The arithmetic mean of ``xs``.

    >>> mean([1, 2, 3, 4])
    2.5
    """
    if not xs:
        raise ValueError("mean of no numbers")
    return sum(xs) / len(xs)


def median(xs):
    """The middle value of ``xs``.

    >>> median([5, 1, 3])
    3
    """
    if not xs:
        raise ValueError("median of no numbers")
    s = sorted(xs)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def pstdev(xs):
    """The population standard deviation of ``xs``.

    >>> pstdev([2, 4, 4, 4, 5, 5, 7, 9])
    2.0
    """
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))


def zscores(xs):
    """Each number's distance from the mean, in standard deviations.

    >>> zscores([1, 3])
    [-1.0, 1.0]
    """
    m, sd = mean(xs), pstdev(xs)
    return [0.0 if sd == 0 else (x - m) / sd for x in xs]
