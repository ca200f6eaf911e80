class Money:
    """An amount of money in cents, in one currency.

    >>> price = Money.parse("12.50 EUR")
    >>> price + Money(150, "EUR")
    Money(1400, 'EUR')
    >>> str(price * 2)
    '25.00 EUR'
    """

    def __init__(self, cents, currency):
        """``cents`` an int, ``currency`` a three-letter code (upper-cased)."""

    @classmethod
    def parse(cls, text):
        """Read ``"12.50 EUR"`` (amount with up to two decimals, a space, the currency).

        >>> Money.parse("3 usd")
        Money(300, 'USD')
        >>> Money.parse("-0.05 EUR")
        Money(-5, 'EUR')
        """

    def __add__(self, other):
        """The sum; ValueError when the currencies differ.

        >>> Money(100, "EUR") + Money(5, "EUR")
        Money(105, 'EUR')
        >>> Money(1, "EUR") + Money(1, "USD")
        Traceback (most recent call last):
            ...
        ValueError: cannot add EUR and USD
        """

    def __sub__(self, other):
        """The difference; ValueError when the currencies differ.

        >>> Money.parse("5 EUR") - Money.parse("7.25 EUR")
        Money(-225, 'EUR')
        """

    def __mul__(self, factor):
        """The amount times an int ``factor``.

        >>> Money(250, "USD") * 3
        Money(750, 'USD')
        """

    def __eq__(self, other):
        """Same amount and currency.

        >>> Money(100, "eur") == Money.parse("1.00 EUR")
        True
        >>> Money(100, "EUR") == Money(100, "USD")
        False
        """

    def __repr__(self):
        """``Money(cents, 'CUR')``.

        >>> Money(7, "gbp")
        Money(7, 'GBP')
        """

    def __str__(self):
        """The amount with two decimals and the currency.

        >>> str(Money(1234, "EUR")), str(Money(-5, "EUR"))
        ('12.34 EUR', '-0.05 EUR')
        """
