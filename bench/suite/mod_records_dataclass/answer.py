"""People and their records."""

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class Person:
    name: str
    born: int
    tags: tuple = field(default=())


# spec (implemented): Working with Person records (frozen dataclasses; never mutate one).
#   to_row(person): the person as a plain dict (dataclasses.asdict);
#   renamed(person, name): a copy of the person with another name;
#   older_than(people, year): the people born before year, oldest first (stable);
#   tagged(person, tag): a copy with tag added to tags (unchanged if present).
#
#   >>> to_row(Person("Ada", 1815))
#   {'name': 'Ada', 'born': 1815, 'tags': ()}


def to_row(person):
    """The person as a plain dict.

    >>> to_row(Person("Bo", 2000, ("x",)))
    {'name': 'Bo', 'born': 2000, 'tags': ('x',)}
    """
    return asdict(person)


def renamed(person, name):
    """A copy of ``person`` named ``name``.

    >>> renamed(Person("A", 1), "B")
    Person(name='B', born=1, tags=())
    """
    return replace(person, name=name)


def older_than(people, year):
    """The people born before ``year``, oldest first.

    >>> [p.name for p in older_than([Person("y", 1990), Person("x", 1950)], 2000)]
    ['x', 'y']
    """
    return sorted((p for p in people if p.born < year), key=lambda p: p.born)


def tagged(person, tag):
    """A copy of ``person`` with ``tag`` added to its tags.

    >>> tagged(Person("A", 1), "new").tags
    ('new',)
    """
    if tag in person.tags:
        return person
    return replace(person, tags=person.tags + (tag,))
