import pytest

from todo import Task, TodoList


def test_ids_are_sequential_and_titles_stripped():
    todo = TodoList()
    assert [todo.add(t) for t in (" a", "b ", " c ")] == [1, 2, 3]
    assert list(todo) == ["a", "b", "c"] and len(todo) == 3


def test_blank_title_rejected():
    todo = TodoList()
    with pytest.raises(ValueError):
        todo.add("   ")
    assert len(todo) == 0


def test_unknown_ids_raise_key_error():
    todo = TodoList()
    todo.add("a")
    with pytest.raises(KeyError):
        todo.complete(2)
    with pytest.raises(KeyError):
        todo.get(0)


def test_pending_and_done_partition_tasks():
    todo = TodoList()
    for t in "abcd":
        todo.add(t)
    todo.complete(2)
    todo.complete(4)
    todo.complete(2)
    assert todo.pending() == ["a", "c"] and todo.done() == ["b", "d"]
    assert todo.get(4) == Task(4, "d", True)


def test_iteration_twice():
    todo = TodoList()
    todo.add("a")
    assert list(todo) == list(todo) == ["a"]
