"""The Python sources the language server tests work on, and the model's replies for them."""

GEOMETRY = '''\
"""Geometry helpers."""


def area(w: float, h: float) -> float:
    """Area of a w×h rectangle.

    >>> area(2, 3)
    6
    """


def perimeter(w: float, h: float) -> float:
    """Perimeter of a w×h rectangle.

    >>> perimeter(2, 3)
    10
    """


def existing(x):
    return x + 1
'''

AREA_BODY = '''\
    if w < 0 or h < 0:  # 📐 sides
        raise ValueError("negative side")
    return w * h
'''
AREA_CODE = '''\
def area(w: float, h: float) -> float:
    """Area of a w×h rectangle.

    >>> area(2, 3)
    6
    """
''' + AREA_BODY


PERIMETER_CODE = '''\
def perimeter(w: float, h: float) -> float:
    """Perimeter of a w×h rectangle.

    >>> perimeter(2, 3)
    10
    """
    return 2 * (w + h)
'''


def with_area_body(text: str, body: str = AREA_BODY) -> str:
    """``text`` with ``body`` under area's docstring."""
    marker = '''    >>> area(2, 3)
    6
    """
'''
    return text.replace(marker, marker + body, 1)
