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

    @classmethod
    def identity(cls, n):
        """The n×n identity matrix.

        >>> Matrix.identity(2)
        Matrix([[1, 0], [0, 1]])
        """

    @property
    def shape(self):
        """(rows, columns).

        >>> Matrix([[1, 2, 3]]).shape
        (1, 3)
        """

    def __getitem__(self, index):
        """The entry at ``(row, column)``.

        >>> Matrix([[1, 2], [3, 4]])[1, 0]
        3
        """

    def transpose(self):
        """Rows become columns.

        >>> Matrix([[1, 2, 3]]).transpose()
        Matrix([[1], [2], [3]])
        >>> Matrix([[1, 2], [3, 4]]).transpose().shape
        (2, 2)
        """

    def __add__(self, other):
        """The entrywise sum; ValueError when the shapes differ.

        >>> Matrix([[1, 2]]) + Matrix([[10, 20]])
        Matrix([[11, 22]])
        """

    def __mul__(self, other):
        """The matrix product; ValueError when the inner sizes differ.

        >>> Matrix([[1, 2], [3, 4]]) * Matrix([[0, 1], [1, 0]])
        Matrix([[2, 1], [4, 3]])
        """

    def __eq__(self, other):
        """Equal when the other is a Matrix with the same entries.

        >>> Matrix([[1]]) == Matrix([[1]]), Matrix([[1]]) == Matrix([[2]]), Matrix([[1]]) == [[1]]
        (True, False, False)
        """

    def __repr__(self):
        """``Matrix([[...], ...])``.

        >>> Matrix([[1, 2], [3, 4]])
        Matrix([[1, 2], [3, 4]])
        """
