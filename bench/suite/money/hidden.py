import pytest

from money import Money


def test_parse_and_str_round_trip():
    for text in ("0.00 EUR", "12.34 USD", "-7.05 GBP", "1000.10 CHF"):
        assert str(Money.parse(text)) == text


def test_parse_one_decimal_and_lowercase():
    assert Money.parse("2.5 eur") == Money(250, "EUR")


def test_currency_mismatch_raises():
    with pytest.raises(ValueError):
        Money(1, "EUR") - Money(1, "USD")
    with pytest.raises(ValueError):
        Money(1, "EUR") + Money(1, "GBP")


def test_arithmetic_does_not_mutate():
    a = Money(100, "EUR")
    b = a + Money(50, "EUR")
    c = a * 0
    assert a == Money(100, "EUR") and b.cents == 150 and c == Money(0, "EUR")


def test_equality_with_other_types_is_false():
    assert Money(100, "EUR") == Money(100, "EUR")
    assert Money(100, "EUR") != 100
    assert Money(100, "EUR") != "1.00 EUR"
