import pytest

from graph import Graph


def test_long_chain_path():
    g = Graph()
    for i in range(50):
        g.add_edge(i, i + 1)
    assert g.has_path(0, 50) and g.has_path(50, 0) and len(g) == 51


def test_two_components():
    g = Graph()
    g.add_edge("a", "b")
    g.add_edge("c", "d")
    assert not g.has_path("a", "d") and g.has_path("d", "c")
    assert g.nodes() == ["a", "b", "c", "d"]


def test_unknown_nodes():
    g = Graph()
    g.add_edge(1, 2)
    assert not g.has_path(1, 99) and not g.has_path(99, 99)
    with pytest.raises(KeyError):
        g.neighbors(99)


def test_duplicate_edges_and_cycles():
    g = Graph()
    g.add_edge(1, 2)
    g.add_edge(2, 1)
    g.add_edge(2, 3)
    g.add_edge(3, 1)
    assert g.neighbors(1) == [2, 3] and g.neighbors(2) == [1, 3]
    assert g.has_path(1, 3)


def test_add_existing_node_keeps_edges():
    g = Graph()
    g.add_edge("a", "b")
    g.add_node("a")
    assert g.neighbors("a") == ["b"] and "b" in g
