# spec (implemented): Roman numerals for 1 to 3999.
#   to_roman(n): n in standard form (subtractive pairs IV, IX, XL, XC, CD, CM);
#   ValueError outside 1..3999;
#   from_roman(text): the number the numeral stands for, case-insensitive;
#   ValueError for anything that is not a numeral in standard form (so that
#   to_roman(from_roman(text)) == text.upper()).
#
#   >>> to_roman(1994)
#   'MCMXCIV'


def to_roman(n):
    """``n`` as a Roman numeral.

    >>> to_roman(2024)
    'MMXXIV'
    """
    if not 1 <= n <= 3999:
        raise ValueError(f"out of range: {n}")
    pairs = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
             (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = []
    for value, letters in pairs:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def from_roman(text):
    """The number a Roman numeral in standard form stands for.

    >>> from_roman("xlii")
    42
    """
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    upper = text.upper()
    if not upper or any(ch not in values for ch in upper):
        raise ValueError(f"not a Roman numeral: {text!r}")
    total = 0
    for ch, nxt in zip(upper, upper[1:] + " "):
        v = values[ch]
        total += -v if nxt in values and values[nxt] > v else v
    if not 1 <= total <= 3999 or to_roman(total) != upper:
        raise ValueError(f"not a Roman numeral in standard form: {text!r}")
    return total


ERA = "AD"


def year_label(year):
    return f"{to_roman(year)} {ERA}"
