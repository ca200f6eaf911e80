import pytest

from temperature import Temperature


def test_round_trips_between_scales():
    for c in (-40, 0, 37, 100, 1000):
        t = Temperature(c)
        assert Temperature.from_fahrenheit(t.fahrenheit) == t
        assert Temperature.from_kelvin(t.kelvin) == t


def test_minus_forty_is_the_same_in_both():
    assert Temperature(-40).fahrenheit == pytest.approx(-40)
    assert Temperature.f_to_c(-40) == pytest.approx(-40)


def test_below_absolute_zero_rejected():
    with pytest.raises(ValueError):
        Temperature(-300)
    with pytest.raises(ValueError):
        Temperature.from_kelvin(-1)
    with pytest.raises(ValueError):
        Temperature.from_fahrenheit(-500)


def test_ordering_and_sorting():
    temps = [Temperature(30), Temperature.from_fahrenheit(0), Temperature.from_kelvin(300)]
    ordered = sorted(temps)
    assert [round(t.celsius, 2) for t in ordered] == [-17.78, 26.85, 30.0]
    assert not (Temperature(10) < Temperature(10)) and not (Temperature(10) > Temperature(10))


def test_celsius_is_float_and_repr():
    t = Temperature(5)
    assert isinstance(t.celsius, float) and repr(t) == "Temperature(5.0)"
    assert Temperature(1) != 1
