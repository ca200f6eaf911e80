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

    def add(self, item, times=1):
        """Add ``item`` ``times`` times (a positive int; ValueError otherwise).

        >>> b = Bag()
        >>> b.add("x", 3)
        >>> b.count("x")
        3
        """

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

    def count(self, item):
        """How many times ``item`` is in the bag (0 when it is not).

        >>> Bag("abca").count("a"), Bag().count("z")
        (2, 0)
        """

    def most_common(self, n=None):
        """The ``n`` most frequent (item, count) pairs (all with None), the most frequent
        first, ties in the order the items were first added.

        >>> Bag("abbcccb").most_common(2)
        [('b', 3), ('c', 3)]
        """

    def __len__(self):
        """The number of items, repeats counted.

        >>> len(Bag("hello"))
        5
        """

    def __contains__(self, item):
        """Whether ``item`` is in the bag at least once.

        >>> "l" in Bag("hello"), "z" in Bag("hello")
        (True, False)
        """

    def __iter__(self):
        """Each item as many times as it is in the bag, grouped, in first-added order.

        >>> list(Bag("abab"))
        ['a', 'a', 'b', 'b']
        """

    def __eq__(self, other):
        """Bags are equal when they hold the same items as often, in any order.

        >>> Bag("ab") == Bag("ba"), Bag("ab") == Bag("abb")
        (True, False)
        """
