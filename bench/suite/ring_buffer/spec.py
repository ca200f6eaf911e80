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

    def append(self, item):
        """Add ``item`` as the newest, dropping the oldest when the buffer is full.

        >>> rb = RingBuffer(2)
        >>> rb.append("a")
        >>> rb.append("b")
        >>> rb.append("c")
        >>> rb.to_list()
        ['b', 'c']
        """

    def to_list(self):
        """The items from the oldest to the newest.

        >>> rb = RingBuffer(4)
        >>> rb.append(1)
        >>> rb.to_list()
        [1]
        """

    def is_full(self):
        """Whether the buffer holds ``capacity`` items.

        >>> rb = RingBuffer(1)
        >>> rb.is_full()
        False
        >>> rb.append(0)
        >>> rb.is_full()
        True
        """

    def __len__(self):
        """How many items the buffer holds.

        >>> rb = RingBuffer(2)
        >>> for x in "abc":
        ...     rb.append(x)
        >>> len(rb)
        2
        """

    def __iter__(self):
        """The items from the oldest to the newest.

        >>> rb = RingBuffer(3)
        >>> rb.append(1)
        >>> rb.append(2)
        >>> sum(rb)
        3
        """

    def __getitem__(self, index):
        """The item at ``index`` counted from the oldest (negative from the newest);
        IndexError out of range.

        >>> rb = RingBuffer(2)
        >>> for x in (10, 20, 30):
        ...     rb.append(x)
        >>> rb[0], rb[-1]
        (20, 30)
        """
