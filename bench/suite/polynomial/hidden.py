from polynomial import Polynomial


def test_evaluation_matches_direct_sum():
    p = Polynomial([3, -2, 0, 1])
    for x in range(-5, 6):
        assert p(x) == 3 - 2 * x + x ** 3


def test_addition_can_cancel_to_lower_degree():
    p = Polynomial([1, 2, 3]) + Polynomial([0, 0, -3])
    assert p == Polynomial([1, 2]) and p.degree == 1
    assert (Polynomial([1]) + Polynomial([-1])).coefficients == [0]


def test_product_rule_for_derivative():
    a, b = Polynomial([1, 2]), Polynomial([0, 1, 1])
    assert (a * b).derivative() == a.derivative() * b + a * b.derivative()


def test_str_forms():
    assert str(Polynomial([0])) == "0"
    assert str(Polynomial([-1, 0, -1])) == "-x^2 - 1"
    assert str(Polynomial([5, 1])) == "x + 5"


def test_zero_polynomial_and_inequality():
    z = Polynomial([])
    assert z.coefficients == [0] and z.degree == 0 and z(10) == 0
    assert Polynomial([1, 2]) != Polynomial([2, 1]) and Polynomial([1]) != 1
