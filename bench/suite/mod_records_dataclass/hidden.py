from people import Person, older_than, renamed, tagged, to_row


def test_renamed_is_a_copy():
    ada = Person("Ada", 1815, ("math",))
    other = renamed(ada, "Augusta")
    assert other == Person("Augusta", 1815, ("math",)) and ada.name == "Ada"


def test_older_than_stable_and_strict():
    people = [Person("c", 1900), Person("a", 1850), Person("b", 1900), Person("d", 1950)]
    assert [p.name for p in older_than(people, 1950)] == ["a", "c", "b"]
    assert older_than(people, 1850) == []


def test_tagged_adds_once():
    p = Person("x", 1)
    once = tagged(p, "t")
    assert once.tags == ("t",) and tagged(once, "t") == once and p.tags == ()
    assert tagged(once, "u").tags == ("t", "u")


def test_to_row_round_trips():
    p = Person("Grace", 1906, ("navy", "cobol"))
    row = to_row(p)
    assert type(row) is dict and Person(**row) == p


def test_person_class_untouched():
    import dataclasses
    assert [f.name for f in dataclasses.fields(Person)] == ["name", "born", "tags"]
