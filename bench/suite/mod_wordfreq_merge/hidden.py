from collections import Counter

from wordfreq import frequencies, hapaxes, tokens, top_words

TEXT = "It was the best of times, it was the worst of times; it was the age of wisdom."


def test_frequencies_is_a_counter_of_tokens():
    f = frequencies(TEXT)
    assert isinstance(f, Counter) and f["it"] == 3 and f["times"] == 2 and f["wisdom"] == 1
    assert sum(f.values()) == len(tokens(TEXT))


def test_top_words_ties_first_seen():
    assert top_words(TEXT, 4) == [("it", 3), ("was", 3), ("the", 3), ("of", 3)]
    assert top_words("", 3) == []


def test_hapaxes_sorted():
    assert hapaxes(TEXT) == ["age", "best", "wisdom", "worst"]
    assert hapaxes("a a") == []


def test_top_words_more_than_distinct():
    assert top_words("b a", 10) == [("b", 1), ("a", 1)]


def test_import_block_is_one_block_at_the_top():
    import wordfreq
    lines = open(wordfreq.__file__, encoding="utf-8").read().splitlines()
    imports = [i for i, line in enumerate(lines) if line.startswith(("import ", "from "))]
    first_code = next(i for i, line in enumerate(lines) if line.startswith(("WORD", "def ")))
    assert len(imports) == 2 and all(i < first_code for i in imports)
