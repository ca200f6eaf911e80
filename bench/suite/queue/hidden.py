import pytest

from jobqueue import Queue


def test_fifo_order_over_many_items():
    q = Queue()
    for i in range(100):
        q.enqueue(i)
    assert [q.dequeue() for _ in range(100)] == list(range(100))
    assert q.is_empty()


def test_interleaved_enqueue_and_dequeue():
    q = Queue()
    q.enqueue("a")
    q.enqueue("b")
    assert q.dequeue() == "a"
    q.enqueue("c")
    assert q.peek() == "b"
    assert [q.dequeue(), q.dequeue()] == ["b", "c"]
    assert len(q) == 0


def test_empty_queue_raises_index_error():
    q = Queue()
    with pytest.raises(IndexError):
        q.dequeue()
    with pytest.raises(IndexError):
        q.peek()


def test_queues_do_not_share_state():
    a, b = Queue(), Queue()
    a.enqueue(1)
    assert len(a) == 1 and len(b) == 0 and b.is_empty()


def test_none_is_a_valid_item():
    q = Queue()
    q.enqueue(None)
    assert not q.is_empty() and len(q) == 1
    assert q.peek() is None and q.dequeue() is None
