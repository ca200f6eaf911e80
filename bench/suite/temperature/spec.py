"""Temperatures in three scales."""

ABSOLUTE_ZERO_C = -273.15


class Temperature:
    """A temperature, stored in degrees Celsius, read in any scale.

    >>> t = Temperature.from_fahrenheit(212)
    >>> t.celsius
    100.0
    >>> t > Temperature(36.6)
    True
    """

    def __init__(self, celsius):
        """``celsius`` degrees; ValueError below absolute zero (ABSOLUTE_ZERO_C)."""

    @classmethod
    def from_fahrenheit(cls, degrees):
        """The temperature of ``degrees`` Fahrenheit.

        >>> Temperature.from_fahrenheit(32).celsius
        0.0
        """

    @classmethod
    def from_kelvin(cls, kelvin):
        """The temperature of ``kelvin`` kelvins.

        >>> Temperature.from_kelvin(0).celsius
        -273.15
        """

    @staticmethod
    def f_to_c(degrees):
        """Fahrenheit to Celsius.

        >>> Temperature.f_to_c(50)
        10.0
        """

    @property
    def celsius(self):
        """Degrees Celsius, a float.

        >>> Temperature(21).celsius
        21.0
        """

    @property
    def fahrenheit(self):
        """Degrees Fahrenheit.

        >>> Temperature(100).fahrenheit
        212.0
        """

    @property
    def kelvin(self):
        """Kelvins.

        >>> round(Temperature(0).kelvin, 2)
        273.15
        """

    def __eq__(self, other):
        """Equal within a thousandth of a degree.

        >>> Temperature.from_fahrenheit(98.6) == Temperature(37)
        True
        """

    def __lt__(self, other):
        """Colder than ``other``.

        >>> Temperature(-5) < Temperature.from_kelvin(273.15)
        True
        """

    def __gt__(self, other):
        """Warmer than ``other``.

        >>> Temperature(1) > Temperature(0)
        True
        """

    def __repr__(self):
        """``Temperature(<celsius>)``, the degrees rounded to 2 decimals.

        >>> Temperature.from_fahrenheit(0)
        Temperature(-17.78)
        """
