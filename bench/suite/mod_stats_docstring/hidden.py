import statistics

import pytest

from describe import mean, median, pstdev, zscores

DATA = [4.5, -1, 9, 0, 3.25, 3.25, 100]


def test_against_statistics_module():
    assert mean(DATA) == pytest.approx(statistics.mean(DATA))
    assert median(DATA) == statistics.median(DATA)
    assert pstdev(DATA) == pytest.approx(statistics.pstdev(DATA))


def test_empty_lists_raise():
    for fn in (mean, median, pstdev, zscores):
        with pytest.raises(ValueError):
            fn([])


def test_zscores_constant_and_mean_zero():
    assert zscores([5, 5, 5]) == [0.0, 0.0, 0.0]
    z = zscores(DATA)
    assert sum(z) == pytest.approx(0.0, abs=1e-9) and pstdev(z) == pytest.approx(1.0)


def test_median_even_and_input_unchanged():
    xs = [4, 1, 3, 2]
    assert median(xs) == 2.5 and xs == [4, 1, 3, 2]


def test_mean_is_float():
    assert isinstance(mean([1, 2]), float) and mean([7]) == 7.0
