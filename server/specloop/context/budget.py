"""The context's budget: pieces chosen by priority within a number of characters, shown in a
fixed order (:class:`_Sections`), a long piece cut at a line, the lines around the target
that fit, and the estimate of tokens.

Tokens are estimated as ``ceil(len(text) / 4)``: no tokenizer is loaded (the small local
model and the remote ones count differently, and four characters a token is the usual
rule of thumb).  A budget of ``max_tokens`` is ``max_tokens * 4`` characters, and
:func:`_bounded` never returns more.
"""

from __future__ import annotations

from collections.abc import Iterable

MIN_ITEM = 8            # the shortest signature or class line: "class X:"
MIN_CUT = 160           # an item cut to fit keeps at least this many characters


def estimate_tokens(text: str) -> int:
    return (len(text) + 3) // 4


def _window(lines: list[str], center: int, budget: int) -> str:
    """As many lines around ``center`` as fit in ``budget`` characters."""
    lo = hi = center
    used = len(lines[center]) + 1 if lines else 0
    if used > budget:
        return ""
    grew = True
    while grew:
        grew = False
        for side in (-1, 1):
            i = lo - 1 if side < 0 else hi + 1
            if 0 <= i < len(lines) and used + len(lines[i]) + 1 <= budget - 12:
                used += len(lines[i]) + 1
                lo, hi = (i, hi) if side < 0 else (lo, i)
                grew = True
    text = "\n".join(lines[lo:hi + 1])
    return ("# ...\n" if lo > 0 else "") + text + ("\n# ..." if hi < len(lines) - 1 else "")


def _cut(item: str, avail: int) -> str | None:
    """The first lines of a multi-line item (its ``# where`` line kept) that fit in ``avail``
    characters, ending with ``    # ...``; None when too little would be left."""
    if avail < MIN_CUT:
        return None
    lines, size = item.split("\n"), 0
    kept: list[str] = []
    for line in lines:
        if size + len(line) + 1 + 10 > avail:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join([*kept, "    # ..."]) if len(kept) >= 3 else None


class _Sections:
    """Sections chosen by priority within a character budget, shown in a fixed order."""

    ORDER = ("head", "imports", "outline", "named", "others", "around", "project", "imported", "neighbours",
             "tests")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.chosen: dict[str, str] = {}

    def text(self) -> str:
        return "\n\n".join(self.chosen[k] for k in self.ORDER if k in self.chosen)

    def room(self) -> int:
        used = len(self.text())
        return self.budget - used - (2 if used else 0)

    def add(self, key: str, title: str, items: Iterable[str], share: float = 1.0, cap: int | None = None) -> None:
        """The items that fit (each whole, or a long one cut at a line), in order, under
        ``title``, in at most ``share`` of the room left and ``cap`` characters.  ``items`` is
        read only while one more could fit (no item is shorter than MIN_ITEM characters)."""
        avail = int(self.room() * share)
        if cap is not None:
            avail = min(avail, cap)
        chosen, size = [], len(title)
        for item in items:
            extra = len(item) + (1 if size else 0)
            if size + extra > avail and "\n" in item:
                item = _cut(item, avail - size - (1 if size else 0)) or item
                extra = len(item) + (1 if size else 0)
            if size + extra <= avail:
                chosen.append(item)
                size += extra
            if avail - size < MIN_ITEM + 1:
                break
        if chosen:
            self.chosen[key] = "\n".join([title, *chosen] if title else chosen)


def _bounded(out: _Sections) -> str:
    text = out.text()
    return text[: max(text.rfind("\n", 0, out.budget + 1), 0)] if len(text) > out.budget else text
