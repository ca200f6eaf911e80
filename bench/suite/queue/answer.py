"""Jobs waiting their turn."""


class Queue:
    """A first-in, first-out queue.

    >>> q = Queue()
    >>> q.enqueue("a")
    >>> q.enqueue("b")
    >>> q.dequeue()
    'a'
    >>> len(q)
    1
    """

    def __init__(self):
        """An empty queue."""
        self._items = []

    def enqueue(self, item):
        """Put ``item`` at the back of the queue.

        >>> q = Queue()
        >>> q.enqueue(1)
        >>> q.enqueue(2)
        >>> q.peek()
        1
        >>> len(q)
        2
        """
        self._items.append(item)

    def dequeue(self):
        """Remove and return the item at the front; IndexError when the queue is empty.

        >>> q = Queue()
        >>> q.enqueue(1)
        >>> q.enqueue(2)
        >>> q.dequeue(), q.dequeue()
        (1, 2)
        >>> q.dequeue()
        Traceback (most recent call last):
            ...
        IndexError: dequeue from an empty queue
        """
        if not self._items:
            raise IndexError("dequeue from an empty queue")
        return self._items.pop(0)

    def peek(self):
        """The item at the front, left in place; IndexError when the queue is empty.

        >>> q = Queue()
        >>> q.enqueue("x")
        >>> q.peek()
        'x'
        >>> len(q)
        1
        """
        if not self._items:
            raise IndexError("peek at an empty queue")
        return self._items[0]

    def is_empty(self):
        """Whether the queue holds no item.

        >>> q = Queue()
        >>> q.is_empty()
        True
        >>> q.enqueue(0)
        >>> q.is_empty()
        False
        """
        return not self._items

    def __len__(self):
        """How many items wait.

        >>> q = Queue()
        >>> q.enqueue(1)
        >>> len(q)
        1
        """
        return len(self._items)
