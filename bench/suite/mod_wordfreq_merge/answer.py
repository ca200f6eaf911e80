"""Word frequencies."""

import re
from collections import Counter

WORD = re.compile(r"[a-z]+")


def tokens(text):
    """The lower-cased words of ``text``."""
    return WORD.findall(text.lower())


# spec (implemented): Frequencies of the words of a text (as tokens() reads them).
#   frequencies(text): a collections.Counter of the tokens;
#   top_words(text, n): the n most common (word, count) pairs, ties in
#   first-seen order;
#   hapaxes(text): the words that occur exactly once, sorted.
#
#   >>> top_words("b a b c b a", 2)
#   [('b', 3), ('a', 2)]


def frequencies(text):
    """How often each token of ``text`` occurs.

    >>> frequencies("A a b")
    Counter({'a': 2, 'b': 1})
    """
    return Counter(tokens(text))


def top_words(text, n):
    """The ``n`` most common (word, count) pairs.

    >>> top_words("x y y", 1)
    [('y', 2)]
    """
    return frequencies(text).most_common(n)


def hapaxes(text):
    """The words of ``text`` that occur once, sorted.

    >>> hapaxes("the cat and the hat")
    ['and', 'cat', 'hat']
    """
    return sorted(word for word, count in frequencies(text).items() if count == 1)
