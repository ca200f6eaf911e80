"""The spec examples several test layers use: a class spec (``Stack``: the module, the plan
the model answers, each method's code) and a module spec (the word statistics block: the
module, the plan, each function's code).  The engine, pytest-lsp and real-editor tests
import them from here so that they stay one example."""

STACK = '''\
"""A tiny module."""


class Stack:
    """A last-in, first-out stack of items.

    >>> s = Stack()
    >>> s.push(1)
    >>> s.push(2)
    >>> s.pop()
    2
    """


def after():
    return "untouched"
'''

# the plan of Stack: __init__, push and pop as stubs
STACK_PLAN = '''\
class Stack:
    """A last-in, first-out stack of items."""

    def __init__(self):
        """An empty stack: ``items`` is an empty list.

        >>> Stack().items
        []
        """

    def push(self, item):
        """Put ``item`` on top.

        >>> s = Stack()
        >>> s.push(1)
        >>> s.items
        [1]
        """

    def pop(self):
        """Take the top item off and return it.

        >>> s = Stack()
        >>> s.items.append(5)
        >>> s.pop()
        5
        """
'''

STACK_METHODS = {
    "Stack.__init__": "def __init__(self):\n    self.items = []\n",
    "Stack.push": "def push(self, item):\n    self.items.append(item)\n",
    "Stack.pop": "def pop(self):\n    return self.items.pop()\n",
}


# a module spec: a standalone '# spec:' block (line 5) describing three functions
TEXTS = '''\
"""Text helpers."""

import re

# spec: Word statistics for plain text.
#   count_words(text) is the number of words (runs of letters);
#   longest_word(text) the longest word, the first one on ties;
#   shout(text) the text upper-cased with "!" appended.
#
#   >>> count_words("a bb a")
#   3


def after():
    return "untouched"
'''

TEXTS_PLAN = '''\
def count_words(text: str) -> int:
    """The number of words (runs of letters) in ``text``.

    >>> count_words("a bb a")
    3
    """


def longest_word(text: str) -> str:
    """The longest word in ``text``, the first one on ties; "" when there is none.

    >>> longest_word("a bb cc")
    'bb'
    """


def shout(text: str) -> str:
    """``text`` upper-cased with "!" appended.

    >>> shout("hi")
    'HI!'
    """
'''

TEXTS_CODE = {
    "count_words": "def count_words(text: str) -> int:\n    return len(re.findall(r'[A-Za-z]+', text))\n",
    "longest_word": "def longest_word(text: str) -> str:\n    return max(re.findall(r'[A-Za-z]+', text), key=len, default='')\n",
    "shout": "def shout(text: str) -> str:\n    out = ''\n    for ch in text:\n        out += ch.upper()\n    return out + '!'\n",
}
