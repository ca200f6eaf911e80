"""What the candidate changed in an argument, copied back into the judge's object (and a test's
change to a module container, into the candidate's).

Part of the bridge (see ``bridge.py``); loaded as ``_specloop_child.copyback``.
"""

from __future__ import annotations

import collections
import types

from .wire import _MISSING


def _state(obj):
    """What to copy back of an argument the candidate may have mutated."""
    if isinstance(obj, (list, collections.deque)):
        return list(obj)
    if isinstance(obj, dict):
        return dict(obj)
    if isinstance(obj, set):
        return set(obj)
    if isinstance(obj, bytearray):
        return bytes(obj)
    if isinstance(obj, (type, types.ModuleType, types.FunctionType)):
        return _MISSING
    state = getattr(obj, "__dict__", None)
    slots = {}
    for cls in type(obj).__mro__:
        names = cls.__dict__.get("__slots__", ())
        for name in [names] if isinstance(names, str) else names:
            if name not in ("__dict__", "__weakref__") and name not in slots:
                value = getattr(obj, _mangled(cls, name), _MISSING)
                if value is not _MISSING:
                    slots[_mangled(cls, name)] = value
    if isinstance(state, dict) or slots:
        return ("__dict__", dict(state) if isinstance(state, dict) else {}, slots)
    return _MISSING


def _mangled(cls, name):
    return "_%s%s" % (cls.__name__.lstrip("_"), name) if name.startswith("__") and not name.endswith("__") else name


def _restore(obj, state):
    if obj is state:
        return
    try:
        if isinstance(obj, collections.deque) and isinstance(state, list):
            obj.clear()
            obj.extend(state)
        elif isinstance(obj, list) and isinstance(state, list):
            obj[:] = state
        elif isinstance(obj, dict) and isinstance(state, dict):
            if dict(obj) != state:
                obj.clear()
                obj.update(state)
        elif isinstance(obj, set) and isinstance(state, set):
            obj.clear()
            obj.update(state)
        elif isinstance(obj, bytearray) and isinstance(state, bytes):
            obj[:] = state
        elif isinstance(state, tuple) and len(state) == 3 and state[0] == "__dict__" and \
                isinstance(state[1], dict) and isinstance(state[2], dict):
            if isinstance(getattr(obj, "__dict__", None), dict):
                obj.__dict__.clear()
                obj.__dict__.update(state[1])
            for name, value in state[2].items():   # slots, as the candidate left them
                if isinstance(name, str):
                    object.__setattr__(obj, name, value)
    except Exception:
        pass
