"""Handles to objects that stay in the other process (:class:`Remote`): every operation on one
is forwarded; comparing, hashing or testing one for truth in the judge fails (``NotByValue``).

Part of the bridge (see ``bridge.py``); loaded as ``_specloop_child.remote``.
"""

from __future__ import annotations

from .wire import NotByValue

# a function's metadata, read by functools.wraps, inspect and decorators: forwarded like any attribute
_FORWARDED_DUNDERS = frozenset(["__name__", "__qualname__", "__wrapped__", "__annotations__", "__defaults__",
                                "__kwdefaults__", "__dict__", "__signature__", "__self__", "__func__",
                                "__text_signature__"])


_ABCS = ("Mapping", "MutableMapping", "Sequence", "MutableSequence", "Set", "MutableSet", "Iterable", "Iterator",
         "Collection", "Sized", "Container", "Callable", "Generator", "Reversible")
_REMOTE_CLASSES = {}


def _abcs(obj):
    """The ``collections.abc`` interfaces ``obj`` has: its handle on the other side has them too, so
    ``isinstance(handle, Mapping)`` answers as it would for the object."""
    import collections.abc as abc
    return tuple(name for name in _ABCS if isinstance(obj, getattr(abc, name)))


def _remote_class(abcs):
    """A subclass of :class:`Remote` registered with the interfaces ``abcs`` (names, checked)."""
    import collections.abc as abc
    abcs = tuple(a for a in abcs if isinstance(a, str) and a in _ABCS) if isinstance(abcs, (tuple, list)) else ()
    cls = _REMOTE_CLASSES.get(abcs)
    if cls is None:
        cls = Remote if not abcs else type("Remote", (Remote,), {"__slots__": ()})
        for name in abcs:
            getattr(abc, name).register(cls)
        _REMOTE_CLASSES[abcs] = cls
    return cls


class Remote:
    """A handle to an object that lives in the other process; operations are forwarded."""

    __slots__ = ("_peer", "_ref", "_kind", "__weakref__")

    def __init__(self, peer, ref, kind):
        object.__setattr__(self, "_peer", peer)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_kind", kind)

    def _op(self, op, *args, **kwargs):
        return self._peer.request(op, self, args, kwargs)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") and name not in _FORWARDED_DUNDERS:
            raise AttributeError(name)
        return self._op("getattr", name)

    def __setattr__(self, name, value):
        self._op("setattr", name, value)

    def __delattr__(self, name):
        self._op("delattr", name)

    def __call__(self, *args, **kwargs):
        return self._peer.request("call", self, args, kwargs)

    def __repr__(self):
        text = self._op("repr")
        return text if isinstance(text, str) else "<%s>" % self._kind

    def __str__(self):
        text = self._op("str")
        return text if isinstance(text, str) else "<%s>" % self._kind

    def __format__(self, spec):
        text = self._op("format", spec)
        return text if isinstance(text, str) else "<%s>" % self._kind

    def __len__(self):
        return self._op("len")

    def __iter__(self):
        return self._op("iter")

    def __next__(self):
        return self._op("next")

    def __reversed__(self):
        return self._op("reversed")

    def __getitem__(self, key):
        return self._op("getitem", key)

    def __setitem__(self, key, value):
        self._op("setitem", key, value)

    def __delitem__(self, key):
        self._op("delitem", key)

    def __contains__(self, item):
        return self._op("contains", item)

    def __enter__(self):
        return self._op("enter")

    def __exit__(self, *exc):
        return self._op("exit", *exc)

    def __dir__(self):
        return self._op("dir")

    def _judged(self, what):
        if self._peer.trusting:
            return None
        raise NotByValue("%s a %s object that cannot leave the sandbox by value (the code under test made it; "
                         "return a plain value -- numbers, strings, containers, your own classes' objects)"
                         % (what, self._kind))

    def __eq__(self, other):
        return self._judged("cannot compare") or self._op("eq", other)

    def __ne__(self, other):
        return self._judged("cannot compare") or self._op("ne", other)

    def __lt__(self, other):
        return self._judged("cannot compare") or self._op("lt", other)

    def __le__(self, other):
        return self._judged("cannot compare") or self._op("le", other)

    def __gt__(self, other):
        return self._judged("cannot compare") or self._op("gt", other)

    def __ge__(self, other):
        return self._judged("cannot compare") or self._op("ge", other)

    def __hash__(self):
        return self._judged("cannot hash") or self._op("hash")

    def __bool__(self):
        return self._judged("cannot take the truth value of") or self._op("bool")

    def __int__(self):
        return self._judged("cannot convert") or self._op("int")

    def __index__(self):
        return self._judged("cannot convert") or self._op("index")

    def __float__(self):
        return self._judged("cannot convert") or self._op("float")

