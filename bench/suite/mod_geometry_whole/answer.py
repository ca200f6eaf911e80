import math

# spec (implemented): Plane geometry on points given as (x, y) tuples of numbers.
#   distance(p, q): the Euclidean distance between p and q;
#   polygon_area(points): the area of the simple polygon with these corners in
#   order (shoelace formula), positive whatever the orientation, 0.0 for fewer
#   than three points;
#   angle_deg(p, q): the direction from p to q in degrees, counter-clockwise from
#   the positive x axis, in [0, 360); ValueError when p == q;
#   centroid(points): the mean of the points as an (x, y) tuple of floats;
#   ValueError for no points.
#
#   >>> distance((0, 0), (3, 4))
#   5.0
#   >>> polygon_area([(0, 0), (2, 0), (2, 2), (0, 2)])
#   4.0


def distance(p, q):
    """The Euclidean distance between ``p`` and ``q``.

    >>> distance((1, 1), (4, 5))
    5.0
    """
    return math.hypot(q[0] - p[0], q[1] - p[1])


def polygon_area(points):
    """The area of the polygon with corners ``points`` (shoelace formula).

    >>> polygon_area([(0, 0), (0, 3), (4, 0)])
    6.0
    """
    if len(points) < 3:
        return 0.0
    twice = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]):
        twice += x1 * y2 - x2 * y1
    return abs(twice) / 2


def angle_deg(p, q):
    """The direction from ``p`` to ``q`` in degrees, in [0, 360).

    >>> angle_deg((0, 0), (0, 5))
    90.0
    """
    if p == q:
        raise ValueError("no direction between equal points")
    return math.degrees(math.atan2(q[1] - p[1], q[0] - p[0])) % 360


def centroid(points):
    """The mean point of ``points``.

    >>> centroid([(0, 0), (2, 0), (1, 3)])
    (1.0, 1.0)
    """
    if not points:
        raise ValueError("no points")
    n = len(points)
    return (sum(p[0] for p in points) / n, sum(p[1] for p in points) / n)
