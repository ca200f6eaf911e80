from urls import slugify, unique_slug, url_for


def test_slugify_accents_and_symbols():
    assert slugify("Ça va? Très bien!") == "ca-va-tres-bien"
    assert slugify("C++ & Python 3.12") == "c-python-3-12"


def test_slugify_edges():
    assert slugify("---") == "" and slugify("") == ""
    assert slugify("already-a-slug") == "already-a-slug"


def test_unique_slug_free_and_taken():
    assert unique_slug("Hello", set()) == "hello"
    assert unique_slug("Hello", {"hello"}) == "hello-2"
    taken = {"x"} | {f"x-{i}" for i in range(2, 10)}
    assert unique_slug("X", taken) == "x-10"


def test_existing_code_still_works():
    assert url_for(slugify("My Post")) == "https://example.org/my-post"


def test_future_import_still_first():
    import ast
    import urls
    tree = ast.parse(open(urls.__file__, encoding="utf-8").read())
    first = tree.body[1]
    assert isinstance(first, ast.ImportFrom) and first.module == "__future__"
