class Bag:
    """A multiset: items with how many times each was added.

    >>> b = Bag(["a", "b", "a"])
    >>> b.count("a"), len(b)
    (2, 3)
    >>> b.most_common(1)
    [('a', 2)]
    """

    def __init__(self, items=()):
        """A bag holding each of ``items`` once per occurrence."""
        self._counts = {}
        for item in items:
            self.add(item)

    def add(self, item, times=1):
        """Add ``item`` ``times`` times (a positive int; ValueError otherwise).

        >>> b = Bag()
        >>> b.add("x", 3)
        >>> b.count("x")
        3
        """
        if times < 1:
            raise ValueError("times must be positive")
        self._counts[item] = self._counts.get(item, 0) + times

    def remove(self, item):
        """Take one ``item`` out; KeyError when there is none.

        >>> b = Bag("aab")
        >>> b.remove("a")
        >>> b.count("a"), "a" in b
        (1, True)
        >>> b.remove("a")
        >>> "a" in b
        False
        """
        if item not in self._counts:
            raise KeyError(item)
        self._counts[item] -= 1
        if not self._counts[item]:
            del self._counts[item]

    def count(self, item):
        """How many times ``item`` is in the bag (0 when it is not).

        >>> Bag("abca").count("a"), Bag().count("z")
        (2, 0)
        """
        return self._counts.get(item, 0)

    def most_common(self, n=None):
        """The ``n`` most frequent (item, count) pairs (all with None), the most frequent
        first, ties in the order the items were first added.

        >>> Bag("abbcccb").most_common(2)
        [('b', 3), ('c', 3)]
        """
        ranked = sorted(self._counts.items(), key=lambda pair: -pair[1])
        return ranked if n is None else ranked[:n]

    def __len__(self):
        """The number of items, repeats counted.

        >>> len(Bag("hello"))
        5
        """
        return sum(self._counts.values())

    def __contains__(self, item):
        """Whether ``item`` is in the bag at least once.

        >>> "l" in Bag("hello"), "z" in Bag("hello")
        (True, False)
        """
        return item in self._counts

    def __iter__(self):
        """Each item as many times as it is in the bag, grouped, in first-added order.

        >>> list(Bag("abab"))
        ['a', 'a', 'b', 'b']
        """
        for item, n in self._counts.items():
            for _ in range(n):
                yield item

    def __eq__(self, other):
        """Bags are equal when they hold the same items as often, in any order.

        >>> Bag("ab") == Bag("ba"), Bag("ab") == Bag("abb")
        (True, False)
        """
        if not isinstance(other, Bag):
            return NotImplemented
        return self._counts == other._counts
