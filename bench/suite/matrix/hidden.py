import pytest

from matrix import Matrix


def test_product_of_non_square_matrices():
    a = Matrix([[1, 2, 3]])
    b = Matrix([[1], [2], [3]])
    assert a * b == Matrix([[14]])
    assert (b * a).shape == (3, 3) and (b * a)[2, 2] == 9


def test_bad_shapes_raise():
    with pytest.raises(ValueError):
        Matrix([[1, 2], [3]])
    with pytest.raises(ValueError):
        Matrix([])
    with pytest.raises(ValueError):
        Matrix([[1, 2]]) + Matrix([[1], [2]])
    with pytest.raises(ValueError):
        Matrix([[1, 2]]) * Matrix([[1, 2]])


def test_identity_is_neutral_and_transpose_twice_is_same():
    m = Matrix([[2, -1, 0], [4, 5, 6]])
    assert Matrix.identity(2) * m == m == m * Matrix.identity(3)
    assert m.transpose().transpose() == m and m.transpose().shape == (3, 2)


def test_input_rows_are_copied():
    rows = [[1, 2], [3, 4]]
    m = Matrix(rows)
    rows[0][0] = 99
    assert m[0, 0] == 1


def test_addition_and_inequality():
    a = Matrix([[1, 1], [1, 1]])
    assert a + a == Matrix([[2, 2], [2, 2]])
    assert a != Matrix([[1, 1], [1, 2]])
    assert repr(Matrix.identity(1)) == "Matrix([[1]])"
