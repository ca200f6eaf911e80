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
        coeffs = list(coefficients)
        while len(coeffs) > 1 and coeffs[-1] == 0:
            coeffs.pop()
        self.coefficients = coeffs or [0]

    @property
    def degree(self):
        """The highest power with a non-zero coefficient (0 for constants, also for zero).

        >>> Polynomial([1, 2, 0, 0]).degree
        1
        """
        return len(self.coefficients) - 1

    def __call__(self, x):
        """The value at ``x``.

        >>> Polynomial([2, 1])(5)
        7
        """
        total = 0
        for c in reversed(self.coefficients):
            total = total * x + c
        return total

    def __add__(self, other):
        """The sum.

        >>> Polynomial([1, 2]) + Polynomial([0, -2, 5])
        Polynomial([1, 0, 5])
        """
        n = max(len(self.coefficients), len(other.coefficients))
        a = self.coefficients + [0] * (n - len(self.coefficients))
        b = other.coefficients + [0] * (n - len(other.coefficients))
        return Polynomial([x + y for x, y in zip(a, b)])

    def __mul__(self, other):
        """The product.

        >>> Polynomial([1, 1]) * Polynomial([1, 1])
        Polynomial([1, 2, 1])
        """
        out = [0] * (len(self.coefficients) + len(other.coefficients) - 1)
        for i, a in enumerate(self.coefficients):
            for j, b in enumerate(other.coefficients):
                out[i + j] += a * b
        return Polynomial(out)

    def derivative(self):
        """The derivative.

        >>> Polynomial([5, 3, 1]).derivative()
        Polynomial([3, 2])
        >>> Polynomial([7]).derivative()
        Polynomial([0])
        """
        return Polynomial([i * c for i, c in enumerate(self.coefficients)][1:])

    def __eq__(self, other):
        """Same coefficients.

        >>> Polynomial([1, 0]) == Polynomial([1])
        True
        """
        if not isinstance(other, Polynomial):
            return NotImplemented
        return self.coefficients == other.coefficients

    def __repr__(self):
        """``Polynomial([...])``.

        >>> Polynomial([0, 0])
        Polynomial([0])
        """
        return f"Polynomial({self.coefficients!r})"

    def __str__(self):
        """Readable form, highest power first, zero terms left out.

        >>> str(Polynomial([1, 0, -3, 2]))
        '2x^3 - 3x^2 + 1'
        >>> str(Polynomial([0, 1]))
        'x'
        """
        terms = []
        for power in range(self.degree, -1, -1):
            c = self.coefficients[power]
            if c == 0 and self.degree > 0:
                continue
            size = abs(c)
            body = ("" if size == 1 and power else str(size)) + ("x" if power else "") + \
                (f"^{power}" if power > 1 else "")
            sign = "-" if c < 0 else "+"
            terms.append((sign, body))
        text = ("-" if terms[0][0] == "-" else "") + terms[0][1]
        for sign, body in terms[1:]:
            text += f" {sign} {body}"
        return text
