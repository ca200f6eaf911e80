import re

# spec (implemented): Text helpers.
#   words(text) lists the words of text, lower-cased: runs of letters, digits
#   and apostrophes;
#   word_count(text) is the number of those words;
#   sentences(text) splits text after each ".", "!" or "?", each sentence
#   stripped, empty ones left out (text after the last mark is a sentence too).
#
#   >>> words("It's 2 o'clock!")
#   ["it's", '2', "o'clock"]


def words(text):
    """The words of ``text``, lower-cased: runs of letters, digits and apostrophes.

    >>> words("It's 2 o'clock!")
    ["it's", '2', "o'clock"]
    """
    return re.findall(r"[a-z0-9']+", text.lower())


def word_count(text):
    """The number of words of ``text`` (as ``words`` reads them).

    >>> word_count("one, two; three")
    3
    """
    return len(words(text))


def sentences(text):
    """``text`` split after each ".", "!" or "?", stripped, empty sentences left out.

    >>> sentences("Hi. How are you?  Fine")
    ['Hi.', 'How are you?', 'Fine']
    """
    return [s.strip() for s in re.split(r"(?<=[.!?])", text) if s.strip()]


def title_case(text):
    return " ".join(w.capitalize() for w in text.split())
