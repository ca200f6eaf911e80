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
        if lo > hi:
            raise ValueError(f"empty interval: {lo} > {hi}")
        self.lo = lo
        self.hi = hi

    @property
    def length(self):
        """hi - lo.

        >>> Interval(2, 7).length
        5
        """
        return self.hi - self.lo

    def __contains__(self, x):
        """Whether the number ``x`` lies in the interval (ends included).

        >>> 5 in Interval(1, 5), 5.5 in Interval(1, 5)
        (True, False)
        """
        return self.lo <= x <= self.hi

    def overlaps(self, other):
        """Whether the two intervals share a point.

        >>> Interval(1, 2).overlaps(Interval(2, 3))
        True
        >>> Interval(1, 2).overlaps(Interval(3, 4))
        False
        """
        return self.lo <= other.hi and other.lo <= self.hi

    def intersection(self, other):
        """The points both intervals hold, or None when they do not overlap.

        >>> Interval(0, 10).intersection(Interval(3, 4))
        Interval(3, 4)
        >>> print(Interval(0, 1).intersection(Interval(2, 3)))
        None
        """
        if not self.overlaps(other):
            return None
        return Interval(max(self.lo, other.lo), min(self.hi, other.hi))

    def hull(self, other):
        """The smallest interval holding both.

        >>> Interval(1, 2).hull(Interval(5, 6))
        Interval(1, 6)
        """
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    def __eq__(self, other):
        """Same ends.

        >>> Interval(1, 2) == Interval(1, 2), Interval(1, 2) == Interval(1, 3)
        (True, False)
        """
        if not isinstance(other, Interval):
            return NotImplemented
        return (self.lo, self.hi) == (other.lo, other.hi)

    def __repr__(self):
        """``Interval(lo, hi)``.

        >>> Interval(0.5, 1)
        Interval(0.5, 1)
        """
        return f"Interval({self.lo!r}, {self.hi!r})"
