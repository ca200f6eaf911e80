"""People and their records."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Person:
    name: str
    born: int
    tags: tuple = field(default=())


# spec: Working with Person records (frozen dataclasses; never mutate one).
#   to_row(person): the person as a plain dict (dataclasses.asdict);
#   renamed(person, name): a copy of the person with another name;
#   older_than(people, year): the people born before year, oldest first (stable);
#   tagged(person, tag): a copy with tag added to tags (unchanged if present).
#
#   >>> to_row(Person("Ada", 1815))
#   {'name': 'Ada', 'born': 1815, 'tags': ()}
