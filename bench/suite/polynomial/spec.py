class Polynomial:
    """A polynomial with integer coefficients, lowest power first.

    >>> p = Polynomial([1, 0, 2])
    >>> p(3)
    19
    >>> p.derivative()
    Polynomial([0, 4])
    """

    def __init__(self, coefficients):
        """``coefficients[i]`` is the coefficient of x**i; trailing zeros are dropped
        (the zero polynomial keeps one 0)."""

    @property
    def degree(self):
        """The highest power with a non-zero coefficient (0 for constants, also for zero).

        >>> Polynomial([1, 2, 0, 0]).degree
        1
        """

    def __call__(self, x):
        """The value at ``x``.

        >>> Polynomial([2, 1])(5)
        7
        """

    def __add__(self, other):
        """The sum.

        >>> Polynomial([1, 2]) + Polynomial([0, -2, 5])
        Polynomial([1, 0, 5])
        """

    def __mul__(self, other):
        """The product.

        >>> Polynomial([1, 1]) * Polynomial([1, 1])
        Polynomial([1, 2, 1])
        """

    def derivative(self):
        """The derivative.

        >>> Polynomial([5, 3, 1]).derivative()
        Polynomial([3, 2])
        >>> Polynomial([7]).derivative()
        Polynomial([0])
        """

    def __eq__(self, other):
        """Same coefficients.

        >>> Polynomial([1, 0]) == Polynomial([1])
        True
        """

    def __repr__(self):
        """``Polynomial([...])``.

        >>> Polynomial([0, 0])
        Polynomial([0])
        """

    def __str__(self):
        """Readable form, highest power first, zero terms left out.

        >>> str(Polynomial([1, 0, -3, 2]))
        '2x^3 - 3x^2 + 1'
        >>> str(Polynomial([0, 1]))
        'x'
        """
