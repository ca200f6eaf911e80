"""Who knows whom."""

from collections import deque


class Graph:
    """An undirected graph of hashable nodes: add_edge(a, b) joins two nodes (adding
    them), neighbors(n) lists a node's neighbours sorted, nodes() every node sorted,
    ``n in g`` says whether a node exists, len(g) counts the nodes, and
    has_path(a, b) says whether b can be reached from a.

    >>> g = Graph()
    >>> g.add_edge("a", "b")
    >>> g.add_edge("b", "c")
    >>> g.has_path("a", "c"), g.has_path("a", "z")
    (True, False)
    """

    def __init__(self):
        """An empty graph."""
        self._adj = {}

    def add_node(self, n):
        """Add the node ``n`` (nothing changes when it exists).

        >>> g = Graph()
        >>> g.add_node(1)
        >>> g.nodes()
        [1]
        """
        self._adj.setdefault(n, set())

    def add_edge(self, a, b):
        """Join ``a`` and ``b`` (both added when missing).

        >>> g = Graph()
        >>> g.add_edge(1, 2)
        >>> g.neighbors(1), g.neighbors(2)
        ([2], [1])
        """
        self.add_node(a)
        self.add_node(b)
        self._adj[a].add(b)
        self._adj[b].add(a)

    def neighbors(self, n):
        """The neighbours of ``n``, sorted; KeyError for an unknown node.

        >>> g = Graph()
        >>> g.add_edge("x", "z")
        >>> g.add_edge("x", "y")
        >>> g.neighbors("x")
        ['y', 'z']
        """
        return sorted(self._adj[n])

    def nodes(self):
        """Every node, sorted.

        >>> g = Graph()
        >>> g.add_edge(3, 1)
        >>> g.nodes()
        [1, 3]
        """
        return sorted(self._adj)

    def __contains__(self, n):
        """Whether ``n`` is a node.

        >>> g = Graph()
        >>> g.add_edge("a", "b")
        >>> "a" in g, "c" in g
        (True, False)
        """
        return n in self._adj

    def __len__(self):
        """The number of nodes.

        >>> g = Graph()
        >>> g.add_edge(1, 2)
        >>> g.add_edge(2, 3)
        >>> len(g)
        3
        """
        return len(self._adj)

    def has_path(self, a, b):
        """Whether ``b`` can be reached from ``a`` along edges (a node reaches itself);
        False when either is not a node.

        >>> g = Graph()
        >>> g.add_edge(1, 2)
        >>> g.add_node(3)
        >>> g.has_path(2, 1), g.has_path(1, 3), g.has_path(3, 3)
        (True, False, True)
        """
        if a not in self._adj or b not in self._adj:
            return False
        seen, todo = {a}, deque([a])
        while todo:
            n = todo.popleft()
            if n == b:
                return True
            for m in self._adj[n]:
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return False
