# spec: Plane geometry on points given as (x, y) tuples of numbers.
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
