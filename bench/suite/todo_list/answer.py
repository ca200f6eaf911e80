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
        self._tasks = []

    def add(self, title):
        """Add a task titled ``title`` (stripped; ValueError when blank) and return its id.

        >>> todo = TodoList()
        >>> todo.add("  a  ")
        1
        >>> list(todo)
        ['a']
        """
        title = title.strip()
        if not title:
            raise ValueError("a task needs a title")
        task = Task(len(self._tasks) + 1, title)
        self._tasks.append(task)
        return task.id

    def complete(self, task_id):
        """Mark the task ``task_id`` done; KeyError for an unknown id.

        >>> todo = TodoList()
        >>> todo.add("a")
        1
        >>> todo.complete(1)
        >>> todo.done()
        ['a']
        """
        for task in self._tasks:
            if task.id == task_id:
                task.done = True
                return
        raise KeyError(task_id)

    def pending(self):
        """Titles of the tasks not done, in order.

        >>> todo = TodoList()
        >>> todo.add("a"), todo.add("b")
        (1, 2)
        >>> todo.pending()
        ['a', 'b']
        """
        return [t.title for t in self._tasks if not t.done]

    def done(self):
        """Titles of the tasks done, in order.

        >>> TodoList().done()
        []
        """
        return [t.title for t in self._tasks if t.done]

    def __len__(self):
        """The number of tasks, done or not.

        >>> todo = TodoList()
        >>> todo.add("a")
        1
        >>> todo.complete(1)
        >>> len(todo)
        1
        """
        return len(self._tasks)

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
        return iter([t.title for t in self._tasks])

    def get(self, task_id):
        """The ``Task`` with ``task_id``; KeyError for an unknown id.

        >>> todo = TodoList()
        >>> todo.add("x")
        1
        >>> todo.get(1)
        Task(id=1, title='x', done=False)
        """
        for task in self._tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)
