from collections import OrderedDict


class LRUCache:
    """A mapping that keeps at most ``capacity`` keys, forgetting the least recently used.

    >>> c = LRUCache(2)
    >>> c.put("a", 1)
    >>> c.put("b", 2)
    >>> c.get("a")
    1
    >>> c.put("c", 3)
    >>> "b" in c
    False
    """

    def __init__(self, capacity):
        """An empty cache for ``capacity`` keys (at least 1; ValueError otherwise)."""

    @property
    def capacity(self):
        """The most keys the cache keeps.

        >>> LRUCache(3).capacity
        3
        """

    def get(self, key, default=None):
        """The value of ``key`` (which becomes the most recently used), else ``default``.

        >>> c = LRUCache(2)
        >>> c.put("x", 10)
        >>> c.get("x"), c.get("y"), c.get("y", 0)
        (10, None, 0)
        """

    def put(self, key, value):
        """Set ``key`` to ``value`` (the most recently used); drop the least recently used
        key when the cache is over capacity.

        >>> c = LRUCache(1)
        >>> c.put("a", 1)
        >>> c.put("b", 2)
        >>> c.get("a"), c.get("b")
        (None, 2)
        """

    def __contains__(self, key):
        """Whether ``key`` is cached (does not count as a use).

        >>> c = LRUCache(2)
        >>> c.put(1, "one")
        >>> 1 in c, 2 in c
        (True, False)
        """

    def __len__(self):
        """The number of keys cached.

        >>> c = LRUCache(5)
        >>> c.put("a", 1)
        >>> c.put("a", 2)
        >>> len(c)
        1
        """

    def keys(self):
        """The keys from the least to the most recently used.

        >>> c = LRUCache(3)
        >>> c.put("a", 1)
        >>> c.put("b", 2)
        >>> _ = c.get("a")
        >>> c.keys()
        ['b', 'a']
        """
