import itertools

import pytest

from iterhelp import chunked, first, flatten, windows


def test_chunked_is_lazy_on_endless_input():
    assert list(itertools.islice(chunked(itertools.count(), 3), 2)) == [[0, 1, 2], [3, 4, 5]]
    assert list(chunked([], 4)) == []


def test_chunked_rejects_bad_n_at_the_call():
    with pytest.raises(ValueError):
        chunked([1, 2], 0)


def test_windows_short_input_and_endless_input():
    assert list(windows([1, 2], 3)) == []
    assert list(windows("ab", 2)) == [("a", "b")]
    assert list(itertools.islice(windows(itertools.count(), 2), 3)) == [(0, 1), (1, 2), (2, 3)]


def test_flatten_generators_and_strings():
    assert flatten((range(i) for i in range(4))) == [0, 0, 1, 0, 1, 2]
    assert flatten(["ab", "c"]) == ["a", "b", "c"]


def test_first_still_works():
    assert first(chunked(range(3), 2)) == [0, 1] and first([], "none") == "none"
