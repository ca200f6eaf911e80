"""Word frequencies."""

import re

WORD = re.compile(r"[a-z]+")


def tokens(text):
    """The lower-cased words of ``text``."""
    return WORD.findall(text.lower())


# spec: Frequencies of the words of a text (as tokens() reads them).
#   frequencies(text): a collections.Counter of the tokens;
#   top_words(text, n): the n most common (word, count) pairs, ties in
#   first-seen order;
#   hapaxes(text): the words that occur exactly once, sorted.
#
#   >>> top_words("b a b c b a", 2)
#   [('b', 3), ('a', 2)]
