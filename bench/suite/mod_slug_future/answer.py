"""URL helpers."""

from __future__ import annotations

import re
import unicodedata

# spec (implemented): Slugs for URLs.
#   slugify(text): accents removed (NFKD, then ASCII only), lower-cased, every
#   run of characters that are not letters or digits becomes one "-", and no
#   "-" at either end;
#   unique_slug(text, taken): slugify(text), or if that is in the set taken,
#   the same with "-2", "-3", ... appended, the first one not taken.
#
#   >>> slugify("Héllo, World!")
#   'hello-world'


def slugify(text: str) -> str:
    """``text`` as a URL slug: ASCII, lower-case, words joined by "-".

    >>> slugify("  Crème Brûlée -- 2 ")
    'creme-brulee-2'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def unique_slug(text: str, taken: set[str]) -> str:
    """``slugify(text)``, numbered from 2 when it is taken already.

    >>> unique_slug("A b", {"a-b", "a-b-2"})
    'a-b-3'
    """
    base = slugify(text)
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug


BASE_URL = "https://example.org"


def url_for(slug: str) -> str:
    return f"{BASE_URL}/{slug}"
