class Version:
    """A semantic version MAJOR.MINOR.PATCH, ordered numerically.

    >>> Version.parse("1.10.0") > Version.parse("1.9.3")
    True
    >>> str(Version.parse("1.2.3").bump("minor"))
    '1.3.0'
    """

    def __init__(self, major, minor=0, patch=0):
        """The version ``major.minor.patch`` (non-negative ints; ValueError otherwise)."""

    @classmethod
    def parse(cls, text):
        """Read ``"1.2.3"``, ``"1.2"`` or ``"1"`` (missing parts are 0), with an optional
        leading ``v``; ValueError for anything else.

        >>> Version.parse("v2.1")
        Version(2, 1, 0)
        """

    def _key(self):
        """The (major, minor, patch) tuple.

        >>> Version(1, 2, 3)._key()
        (1, 2, 3)
        """

    def bump(self, part):
        """The next version: ``part`` is "major", "minor" or "patch"; the parts after it
        become 0 (ValueError for another part).

        >>> Version(1, 4, 2).bump("major")
        Version(2, 0, 0)
        >>> Version(1, 4, 2).bump("patch")
        Version(1, 4, 3)
        """

    def __eq__(self, other):
        """Same numbers.

        >>> Version.parse("1.0") == Version(1, 0, 0)
        True
        """

    def __lt__(self, other):
        """Numeric order, major first.

        >>> Version(0, 9, 9) < Version(1), Version(1, 2) < Version(1, 1, 9)
        (True, False)
        """

    def __le__(self, other):
        """``<`` or ``==``.

        >>> Version(1) <= Version(1, 0, 0), Version(2) <= Version(1, 99)
        (True, False)
        """

    def __gt__(self, other):
        """The reverse of ``<``.

        >>> Version(1, 0, 1) > Version(1)
        True
        """

    def __hash__(self):
        """Equal versions hash alike.

        >>> len({Version(1), Version.parse("1.0.0"), Version(1, 0, 1)})
        2
        """

    def __str__(self):
        """``"major.minor.patch"``.

        >>> str(Version(3))
        '3.0.0'
        """

    def __repr__(self):
        """``Version(major, minor, patch)``.

        >>> Version(1, 2)
        Version(1, 2, 0)
        """
