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

    def peek(self):
        """The item at the front, left in place; IndexError when the queue is empty.

        >>> q = Queue()
        >>> q.enqueue("x")
        >>> q.peek()
        'x'
        >>> len(q)
        1
        """

    def is_empty(self):
        """Whether the queue holds no item.

        >>> q = Queue()
        >>> q.is_empty()
        True
        >>> q.enqueue(0)
        >>> q.is_empty()
        False
        """

    def __len__(self):
        """How many items wait.

        >>> q = Queue()
        >>> q.enqueue(1)
        >>> len(q)
        1
        """
