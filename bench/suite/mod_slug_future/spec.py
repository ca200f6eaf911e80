"""URL helpers."""

from __future__ import annotations

# spec: Slugs for URLs.
#   slugify(text): accents removed (NFKD, then ASCII only), lower-cased, every
#   run of characters that are not letters or digits becomes one "-", and no
#   "-" at either end;
#   unique_slug(text, taken): slugify(text), or if that is in the set taken,
#   the same with "-2", "-3", ... appended, the first one not taken.
#
#   >>> slugify("Héllo, World!")
#   'hello-world'


BASE_URL = "https://example.org"


def url_for(slug: str) -> str:
    return f"{BASE_URL}/{slug}"
