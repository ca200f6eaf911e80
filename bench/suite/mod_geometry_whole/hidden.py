import pytest

from geometry import angle_deg, centroid, distance, polygon_area


def test_distance_symmetric_and_zero():
    assert distance((1.5, -2), (-1.5, 2)) == pytest.approx(5.0)
    assert distance((-1.5, 2), (1.5, -2)) == pytest.approx(5.0)
    assert distance((7, 7), (7, 7)) == 0


def test_polygon_area_orientation_and_degenerate():
    square = [(0, 0), (3, 0), (3, 3), (0, 3)]
    assert polygon_area(square) == pytest.approx(9.0)
    assert polygon_area(square[::-1]) == pytest.approx(9.0)
    assert polygon_area([(0, 0), (1, 1)]) == 0.0
    assert polygon_area([(0, 0), (4, 0), (4, 1), (1, 1), (1, 4), (0, 4)]) == pytest.approx(7.0)


def test_angles_in_range():
    assert angle_deg((0, 0), (1, 0)) == pytest.approx(0.0)
    assert angle_deg((0, 0), (-1, 0)) == pytest.approx(180.0)
    assert angle_deg((1, 1), (1, 0)) == pytest.approx(270.0)
    assert 0 <= angle_deg((0, 0), (1, -1e-9)) < 360
    with pytest.raises(ValueError):
        angle_deg((2, 2), (2, 2))


def test_centroid():
    assert centroid([(5, -5)]) == (5.0, -5.0)
    with pytest.raises(ValueError):
        centroid([])


def test_import_is_on_top():
    import geometry
    lines = open(geometry.__file__, encoding="utf-8").read().splitlines()
    imports = [i for i, line in enumerate(lines) if line.startswith("import ")]
    first_def = next(i for i, line in enumerate(lines) if line.startswith("def "))
    assert imports and all(i < first_def for i in imports)
