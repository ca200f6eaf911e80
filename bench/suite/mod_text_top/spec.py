# spec: Text helpers.
#   words(text) lists the words of text, lower-cased: runs of letters, digits
#   and apostrophes;
#   word_count(text) is the number of those words;
#   sentences(text) splits text after each ".", "!" or "?", each sentence
#   stripped, empty ones left out (text after the last mark is a sentence too).
#
#   >>> words("It's 2 o'clock!")
#   ["it's", '2', "o'clock"]


def title_case(text):
    return " ".join(w.capitalize() for w in text.split())
