class RingBuffer:
    """The last ``capacity`` items appended; older ones are overwritten.

    >>> rb = RingBuffer(3)
    >>> for x in range(5):
    ...     rb.append(x)
    >>> list(rb)
    [2, 3, 4]
    """

    def __init__(self, capacity):
        """An empty buffer for ``capacity`` items (at least 1; ValueError otherwise)."""
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items = []

    def append(self, item):
        """Add ``item`` as the newest, dropping the oldest when the buffer is full.

        >>> rb = RingBuffer(2)
        >>> rb.append("a")
        >>> rb.append("b")
        >>> rb.append("c")
        >>> rb.to_list()
        ['b', 'c']
        """
        self._items.append(item)
        if len(self._items) > self.capacity:
            del self._items[0]

    def to_list(self):
        """The items from the oldest to the newest.

        >>> rb = RingBuffer(4)
        >>> rb.append(1)
        >>> rb.to_list()
        [1]
        """
        return list(self._items)

    def is_full(self):
        """Whether the buffer holds ``capacity`` items.

        >>> rb = RingBuffer(1)
        >>> rb.is_full()
        False
        >>> rb.append(0)
        >>> rb.is_full()
        True
        """
        return len(self._items) == self.capacity

    def __len__(self):
        """How many items the buffer holds.

        >>> rb = RingBuffer(2)
        >>> for x in "abc":
        ...     rb.append(x)
        >>> len(rb)
        2
        """
        return len(self._items)

    def __iter__(self):
        """The items from the oldest to the newest.

        >>> rb = RingBuffer(3)
        >>> rb.append(1)
        >>> rb.append(2)
        >>> sum(rb)
        3
        """
        return iter(list(self._items))

    def __getitem__(self, index):
        """The item at ``index`` counted from the oldest (negative from the newest);
        IndexError out of range.

        >>> rb = RingBuffer(2)
        >>> for x in (10, 20, 30):
        ...     rb.append(x)
        >>> rb[0], rb[-1]
        (20, 30)
        """
        return self._items[index]
