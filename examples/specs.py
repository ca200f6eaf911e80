"""Small specs to try specloop on: each function below is only a docstring.

Run ``specloop run examples/specs.py`` (add ``--diff`` to see the changes
without writing them) and specloop writes each body, checked against the
examples in its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass


def add(a: int, b: int) -> int:
    """Return the sum of a and b.

    >>> add(2, 3)
    5
    >>> add(-1, 1)
    0
    """


def is_palindrome(text: str) -> bool:
    """Whether text reads the same forwards and backwards, ignoring case,
    spaces and punctuation.

    >>> is_palindrome("racecar")
    True
    >>> is_palindrome("A man, a plan, a canal: Panama")
    True
    >>> is_palindrome("hello")
    False
    >>> is_palindrome("")
    True
    """


def slugify(title: str) -> str:
    """Turn a title into a URL slug: lowercase ASCII letters and digits, with
    single hyphens between words and none at either end.

    >>> slugify("Hello, World!")
    'hello-world'
    >>> slugify("  Python 3.12 -- what's new  ")
    'python-3-12-what-s-new'
    >>> slugify("???")
    ''
    """


def fizzbuzz(n: int) -> list[str]:
    """The FizzBuzz sequence from 1 to n: multiples of 3 are "Fizz", of 5
    "Buzz", of both "FizzBuzz", and every other number is written out.

    >>> fizzbuzz(5)
    ['1', '2', 'Fizz', '4', 'Buzz']
    >>> fizzbuzz(15)[-1]
    'FizzBuzz'
    >>> fizzbuzz(0)
    []
    """


@dataclass
class Rectangle:
    width: float
    height: float

    def area(self) -> float:
        """The area of the rectangle; a negative side raises ValueError.

        >>> Rectangle(2, 3).area()
        6
        >>> Rectangle(0, 5).area()
        0
        >>> Rectangle(-1, 2).area()
        Traceback (most recent call last):
            ...
        ValueError: sides must not be negative
        """
