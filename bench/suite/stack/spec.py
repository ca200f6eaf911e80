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

    def peek(self):
        """The top item, left in place; IndexError when empty.

        >>> s = Stack()
        >>> s.push(3)
        >>> s.peek(), len(s)
        (3, 1)
        """

    def __len__(self):
        """The number of items.

        >>> s = Stack()
        >>> s.push(0)
        >>> len(s)
        1
        """

    def __bool__(self):
        """True when the stack holds an item.

        >>> s = Stack()
        >>> bool(s)
        False
        >>> s.push(None)
        >>> bool(s)
        True
        """

    def __repr__(self):
        """``Stack([...])`` with the items from bottom to top.

        >>> s = Stack()
        >>> s.push(1)
        >>> s.push("x")
        >>> s
        Stack([1, 'x'])
        """
