import pytest

from ringbuffer import RingBuffer


def test_overwrites_many_times():
    rb = RingBuffer(3)
    for x in range(100):
        rb.append(x)
    assert rb.to_list() == [97, 98, 99] and len(rb) == 3 and rb.is_full()


def test_capacity_one():
    rb = RingBuffer(1)
    rb.append("a")
    rb.append("b")
    assert list(rb) == ["b"] and rb[0] == "b" and rb[-1] == "b"


def test_bad_capacity():
    with pytest.raises(ValueError):
        RingBuffer(0)


def test_index_out_of_range():
    rb = RingBuffer(3)
    rb.append(1)
    with pytest.raises(IndexError):
        rb[1]
    with pytest.raises(IndexError):
        RingBuffer(2)[0]


def test_to_list_is_a_copy_and_not_full_before_capacity():
    rb = RingBuffer(3)
    rb.append(1)
    rb.append(2)
    rb.to_list().append(99)
    assert rb.to_list() == [1, 2] and not rb.is_full()
