class Stack:
    """A last-in, first-out stack that can be bounded.

    >>> s = Stack()
    >>> s.push(1)
    >>> s.push(2)
    >>> s.pop()
    2
    >>> s
    Stack([1])
    """

    def __init__(self, limit=None):
        """An empty stack holding at most ``limit`` items (None: no limit)."""
        self._items = []
        self._limit = limit

    def push(self, item):
        """Put ``item`` on top; OverflowError when the stack is full.

        >>> s = Stack(limit=1)
        >>> s.push("a")
        >>> s.peek()
        'a'
        >>> s.push("b")
        Traceback (most recent call last):
            ...
        OverflowError: stack is full
        """
        if self._limit is not None and len(self._items) >= self._limit:
            raise OverflowError("stack is full")
        self._items.append(item)

    def pop(self):
        """Take the top item off and return it; IndexError when empty.

        >>> s = Stack()
        >>> s.push(1)
        >>> s.push(2)
        >>> s.pop(), s.pop()
        (2, 1)
        >>> len(s)
        0
        """
        if not self._items:
            raise IndexError("pop from an empty stack")
        return self._items.pop()

    def peek(self):
        """The top item, left in place; IndexError when empty.

        >>> s = Stack()
        >>> s.push(3)
        >>> s.peek(), len(s)
        (3, 1)
        """
        if not self._items:
            raise IndexError("peek at an empty stack")
        return self._items[-1]

    def __len__(self):
        """The number of items.

        >>> s = Stack()
        >>> s.push(0)
        >>> len(s)
        1
        """
        return len(self._items)

    def __bool__(self):
        """True when the stack holds an item.

        >>> s = Stack()
        >>> bool(s)
        False
        >>> s.push(None)
        >>> bool(s)
        True
        """
        return bool(self._items)

    def __repr__(self):
        """``Stack([...])`` with the items from bottom to top.

        >>> s = Stack()
        >>> s.push(1)
        >>> s.push("x")
        >>> s
        Stack([1, 'x'])
        """
        return f"Stack({self._items!r})"
