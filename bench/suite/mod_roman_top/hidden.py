import pytest

from roman import from_roman, to_roman, year_label


def test_round_trip_every_number():
    for n in range(1, 4000):
        assert from_roman(to_roman(n)) == n


def test_known_values():
    assert [to_roman(n) for n in (1, 4, 9, 14, 40, 90, 400, 3999)] == [
        "I", "IV", "IX", "XIV", "XL", "XC", "CD", "MMMCMXCIX"]


def test_out_of_range():
    for bad in (0, -1, 4000):
        with pytest.raises(ValueError):
            to_roman(bad)


def test_non_standard_and_garbage_rejected():
    for bad in ("", "IIII", "IC", "VX", "MMMM", "ABC", "XIIV"):
        with pytest.raises(ValueError):
            from_roman(bad)
    assert from_roman("mcmxciv") == 1994


def test_code_below_the_block_uses_it():
    assert year_label(2024) == "MMXXIV AD"
