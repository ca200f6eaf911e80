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
