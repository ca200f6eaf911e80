from dataclasses import dataclass


@dataclass
class Task:
    id: int
    title: str
    done: bool = False


class TodoList:
    """Tasks to do, numbered from 1 in the order they are added.

    >>> todo = TodoList()
    >>> todo.add("write spec")
    1
    >>> todo.add("run tests")
    2
    >>> todo.complete(1)
    >>> todo.pending()
    ['run tests']
    """

    def __init__(self):
        """An empty list."""

    def add(self, title):
        """Add a task titled ``title`` (stripped; ValueError when blank) and return its id.

        >>> todo = TodoList()
        >>> todo.add("  a  ")
        1
        >>> list(todo)
        ['a']
        """

    def complete(self, task_id):
        """Mark the task ``task_id`` done; KeyError for an unknown id.

        >>> todo = TodoList()
        >>> todo.add("a")
        1
        >>> todo.complete(1)
        >>> todo.done()
        ['a']
        """

    def pending(self):
        """Titles of the tasks not done, in order.

        >>> todo = TodoList()
        >>> todo.add("a"), todo.add("b")
        (1, 2)
        >>> todo.pending()
        ['a', 'b']
        """

    def done(self):
        """Titles of the tasks done, in order.

        >>> TodoList().done()
        []
        """

    def __len__(self):
        """The number of tasks, done or not.

        >>> todo = TodoList()
        >>> todo.add("a")
        1
        >>> todo.complete(1)
        >>> len(todo)
        1
        """

    def __iter__(self):
        """Iterate over every task's title in order.

        >>> todo = TodoList()
        >>> todo.add("x")
        1
        >>> todo.add("y")
        2
        >>> [t.upper() for t in todo]
        ['X', 'Y']
        """

    def get(self, task_id):
        """The ``Task`` with ``task_id``; KeyError for an unknown id.

        >>> todo = TodoList()
        >>> todo.add("x")
        1
        >>> todo.get(1)
        Task(id=1, title='x', done=False)
        """
