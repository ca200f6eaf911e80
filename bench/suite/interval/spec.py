"""Closed intervals of numbers."""


class Interval:
    """The closed interval [lo, hi] of real numbers.

    >>> a = Interval(1, 5)
    >>> b = Interval(4, 9)
    >>> a.overlaps(b)
    True
    >>> a.intersection(b)
    Interval(4, 5)
    """

    def __init__(self, lo, hi):
        """The interval from ``lo`` to ``hi``; ValueError when ``lo > hi``."""

    @property
    def length(self):
        """hi - lo.

        >>> Interval(2, 7).length
        5
        """

    def __contains__(self, x):
        """Whether the number ``x`` lies in the interval (ends included).

        >>> 5 in Interval(1, 5), 5.5 in Interval(1, 5)
        (True, False)
        """

    def overlaps(self, other):
        """Whether the two intervals share a point.

        >>> Interval(1, 2).overlaps(Interval(2, 3))
        True
        >>> Interval(1, 2).overlaps(Interval(3, 4))
        False
        """

    def intersection(self, other):
        """The points both intervals hold, or None when they do not overlap.

        >>> Interval(0, 10).intersection(Interval(3, 4))
        Interval(3, 4)
        >>> print(Interval(0, 1).intersection(Interval(2, 3)))
        None
        """

    def hull(self, other):
        """The smallest interval holding both.

        >>> Interval(1, 2).hull(Interval(5, 6))
        Interval(1, 6)
        """

    def __eq__(self, other):
        """Same ends.

        >>> Interval(1, 2) == Interval(1, 2), Interval(1, 2) == Interval(1, 3)
        (True, False)
        """

    def __repr__(self):
        """``Interval(lo, hi)``.

        >>> Interval(0.5, 1)
        Interval(0.5, 1)
        """
