# spec: Roman numerals for 1 to 3999.
#   to_roman(n): n in standard form (subtractive pairs IV, IX, XL, XC, CD, CM);
#   ValueError outside 1..3999;
#   from_roman(text): the number the numeral stands for, case-insensitive;
#   ValueError for anything that is not a numeral in standard form (so that
#   to_roman(from_roman(text)) == text.upper()).
#
#   >>> to_roman(1994)
#   'MCMXCIV'

ERA = "AD"


def year_label(year):
    return f"{to_roman(year)} {ERA}"
