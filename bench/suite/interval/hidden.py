import pytest

from interval import Interval


def test_empty_interval_rejected_but_point_allowed():
    with pytest.raises(ValueError):
        Interval(3, 2)
    p = Interval(2, 2)
    assert p.length == 0 and 2 in p


def test_intersection_is_symmetric():
    a, b = Interval(-5, 3), Interval(0, 10)
    assert a.intersection(b) == b.intersection(a) == Interval(0, 3)
    assert Interval(0, 1).intersection(Interval(1, 2)) == Interval(1, 1)


def test_disjoint_intervals():
    a, b = Interval(0, 1), Interval(1.5, 2)
    assert not a.overlaps(b) and not b.overlaps(a)
    assert a.intersection(b) is None
    assert a.hull(b) == Interval(0, 2)


def test_contains_with_floats_and_ends():
    i = Interval(-1.5, 2.5)
    assert -1.5 in i and 2.5 in i and 0 in i
    assert -1.51 not in i and 3 not in i


def test_eq_with_other_types_and_repr():
    assert Interval(1, 2) != (1, 2)
    assert repr(Interval(-1, 4)) == "Interval(-1, 4)"
