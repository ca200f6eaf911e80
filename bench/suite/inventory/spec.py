"""A shop's stock."""

from __future__ import annotations


class Inventory:
    """Items in stock and how many of each.

    >>> inv = Inventory()
    >>> inv.add("apple", 3)
    >>> inv.remove("apple", 1)
    >>> inv.quantity("apple")
    2
    """

    def __init__(self):
        """An empty inventory."""

    def add(self, name: str, count: int = 1) -> None:
        """Add ``count`` (a positive int) of ``name``; ValueError otherwise.

        >>> inv = Inventory()
        >>> inv.add("pear")
        >>> inv.add("pear", 2)
        >>> inv.quantity("pear")
        3
        """

    def remove(self, name: str, count: int = 1) -> None:
        """Take ``count`` of ``name`` out; ValueError when fewer are in stock.
        An item whose quantity falls to 0 is no longer in the inventory.

        >>> inv = Inventory()
        >>> inv.add("fig", 2)
        >>> inv.remove("fig", 2)
        >>> "fig" in inv
        False
        >>> inv.remove("fig")
        Traceback (most recent call last):
            ...
        ValueError: not enough fig in stock
        """

    def quantity(self, name: str) -> int:
        """How many of ``name`` are in stock (0 when none).

        >>> inv = Inventory()
        >>> inv.quantity("kiwi")
        0
        >>> inv.add("kiwi", 5)
        >>> inv.quantity("kiwi")
        5
        """

    @property
    def total(self) -> int:
        """The number of units of every item together.

        >>> inv = Inventory()
        >>> inv.add("a", 2)
        >>> inv.add("b", 3)
        >>> inv.total
        5
        """

    def __contains__(self, name: str) -> bool:
        """Whether at least one ``name`` is in stock.

        >>> inv = Inventory()
        >>> inv.add("plum")
        >>> "plum" in inv, "lime" in inv
        (True, False)
        """

    def __len__(self) -> int:
        """The number of different items in stock.

        >>> inv = Inventory()
        >>> inv.add("a", 4)
        >>> inv.add("b")
        >>> len(inv)
        2
        """

    def items(self) -> list[tuple[str, int]]:
        """(name, quantity) pairs sorted by name.

        >>> inv = Inventory()
        >>> inv.add("b", 1)
        >>> inv.add("a", 2)
        >>> inv.items()
        [('a', 2), ('b', 1)]
        """
