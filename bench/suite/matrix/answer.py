class Matrix:
    """A small matrix of numbers, immutable.

    >>> m = Matrix([[1, 2], [3, 4]])
    >>> m.shape
    (2, 2)
    >>> m * Matrix.identity(2) == m
    True
    """

    def __init__(self, rows):
        """A matrix with the given ``rows`` (lists of equal length, at least one); ValueError otherwise."""
        if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
            raise ValueError("rows must be non-empty and of equal length")
        self._rows = [list(r) for r in rows]

    @classmethod
    def identity(cls, n):
        """The n×n identity matrix.

        >>> Matrix.identity(2)
        Matrix([[1, 0], [0, 1]])
        """
        return cls([[1 if i == j else 0 for j in range(n)] for i in range(n)])

    @property
    def shape(self):
        """(rows, columns).

        >>> Matrix([[1, 2, 3]]).shape
        (1, 3)
        """
        return (len(self._rows), len(self._rows[0]))

    def __getitem__(self, index):
        """The entry at ``(row, column)``.

        >>> Matrix([[1, 2], [3, 4]])[1, 0]
        3
        """
        i, j = index
        return self._rows[i][j]

    def transpose(self):
        """Rows become columns.

        >>> Matrix([[1, 2, 3]]).transpose()
        Matrix([[1], [2], [3]])
        >>> Matrix([[1, 2], [3, 4]]).transpose().shape
        (2, 2)
        """
        return Matrix([list(col) for col in zip(*self._rows)])

    def __add__(self, other):
        """The entrywise sum; ValueError when the shapes differ.

        >>> Matrix([[1, 2]]) + Matrix([[10, 20]])
        Matrix([[11, 22]])
        """
        if self.shape != other.shape:
            raise ValueError("shapes differ")
        return Matrix([[a + b for a, b in zip(r, s)] for r, s in zip(self._rows, other._rows)])

    def __mul__(self, other):
        """The matrix product; ValueError when the inner sizes differ.

        >>> Matrix([[1, 2], [3, 4]]) * Matrix([[0, 1], [1, 0]])
        Matrix([[2, 1], [4, 3]])
        """
        if self.shape[1] != other.shape[0]:
            raise ValueError("inner sizes differ")
        cols = list(zip(*other._rows))
        return Matrix([[sum(a * b for a, b in zip(row, col)) for col in cols] for row in self._rows])

    def __eq__(self, other):
        """Equal when the other is a Matrix with the same entries.

        >>> Matrix([[1]]) == Matrix([[1]]), Matrix([[1]]) == Matrix([[2]]), Matrix([[1]]) == [[1]]
        (True, False, False)
        """
        if not isinstance(other, Matrix):
            return NotImplemented
        return self._rows == other._rows

    def __repr__(self):
        """``Matrix([[...], ...])``.

        >>> Matrix([[1, 2], [3, 4]])
        Matrix([[1, 2], [3, 4]])
        """
        return f"Matrix({self._rows!r})"
