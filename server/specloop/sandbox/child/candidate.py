"""The candidate's side of the wall: the process that imports the module with the candidate's
text and answers the judge's calls (:func:`serve`), applying for each call what the test
changed around it.

Part of the bridge (see ``bridge.py``); loaded as ``_specloop_child.candidate``.
"""

from __future__ import annotations

import collections
import enum
import os
import sys
import types

from .capture import _Capture
from .copyback import _restore, _state
from .peer import Peer
from .remote import Remote
from .wire import (_ATOMIC, _CONTAINERS, _MISSING, _VALUE_TYPES, CandidateGone, _by_name, _by_reference, _named,
                   _roundtrips, _stdlib, _unpicklable, _user_file)

_MUTABLE = (list, dict, set, bytearray, collections.deque)


class CandidatePeer(Peer):
    """The candidate's end: answers the judge's calls with the module's candidate code."""

    trusting = True

    def __init__(self, sock, roots, module_name, local_classes, module, error=None):
        super().__init__(sock, roots, module_name, local_classes)
        self.module = module
        self.error = error
        self.names = _named(module) if module is not None else {}
        self.originals = {}
        self.captures = []

    def _context(self):
        """Before a call back into the judge: what was printed so far, so it shows in order."""
        if not self.captures:
            return None
        return ("out", self.captures[-1].pop("out"), self.captures[-1].pop("err"))

    def _keep(self, obj, kind, args):
        if args is not None and kind not in _ATOMIC:
            for index, arg in enumerate(args):
                if arg is obj and isinstance(obj, _MUTABLE + (object,)) and not isinstance(obj, (tuple, frozenset)):
                    return ("a", index)
        if issubclass(kind, Remote):
            return ("j", obj._ref)
        named = _by_name(self, obj) if self.names else None
        if named is not None:
            return named
        if kind in _CONTAINERS or kind in _VALUE_TYPES:
            return None
        if isinstance(obj, enum.Enum):
            return None if (type(obj).__module__ or "").split(".")[0] in _stdlib() \
                or self._is_user_class(type(obj)) else self._handle(obj)
        if isinstance(obj, BaseException):
            return None
        if kind in (types.FunctionType, types.BuiltinFunctionType) and obj.__module__ != self.module_name and \
                _by_reference(obj) and ((obj.__module__ or "").split(".")[0] in _stdlib() or _user_file(
                    getattr(sys.modules.get(obj.__module__), "__file__", None), self.roots)):
            return None   # by name (``re._compile`` in a pattern's pickle): the judge decides what it accepts
        if isinstance(obj, type):   # by reference, where the judge has it too
            plain = obj.__module__ == "builtins" or _by_reference(obj) and obj.__module__.split(".")[0] in _stdlib()
            return None if plain or self._is_user_class(obj) else self._handle(obj)
        if self._is_user_class(kind) and not _unpicklable(obj) and _roundtrips(obj):
            return None
        return self._handle(obj)

    def _resolve(self, pid, args):
        tag = pid[0]
        if tag == "h":
            return self.objects[pid[1]]
        if tag == "j":
            return self._remote(pid[1], str(pid[2]), pid[3] if len(pid) > 3 else ())
        if tag == "t":
            if self.error is not None:
                raise self.error
            qualname, _, accessor = pid[1].partition("#")
            parts = qualname.split(".")
            owner = self.module
            for part in parts[:-1]:
                owner = getattr(owner, part)
            obj = vars(owner).get(parts[-1], _MISSING)
            if accessor:   # a property's getter, setter or deleter
                found = getattr(obj, {"get": "fget", "set": "fset", "del": "fdel"}[accessor], None)
                if found is None and hasattr(obj, "func") and accessor == "get":
                    found = obj.func   # functools.cached_property
                if found is None:
                    return _refuse(AttributeError("property %r has no %ster" % (parts[-1], accessor)))
                return found
            if isinstance(obj, (staticmethod, classmethod)):
                return obj.__func__   # the judge's proxy passes ``cls`` itself
            return getattr(owner, parts[-1]) if obj is _MISSING or isinstance(owner, type) else obj
        if tag == "mod":
            import importlib
            return importlib.import_module(pid[1])
        if tag == "n":
            return vars(self.module)[pid[1]]
        raise CandidateGone("unknown reference %r" % (tag,))

    def _find_class(self, module, name, default):
        return default(module, name)

    def _apply(self, context):
        if context is None:
            return
        patches, env, cwd, levels, path = context
        if path is not None:   # where the judge imports from (pytest puts test folders there)
            sys.path[:0] = [p for p in path if isinstance(p, str) and p not in sys.path]
        if levels is not None and "logging" in sys.modules:
            import logging
            for name, level in levels.items():
                logging.getLogger(name or None).setLevel(level)
        wanted = {}
        for patch in patches:
            if patch[0] == "c":   # a module container's new contents (kept: the judge's is the truth)
                if self.module is not None:
                    _restore(vars(self.module).get(patch[1]), patch[2])
                continue
            if patch[0] in ("g", "gdel"):
                wanted[("g", patch[1])] = patch[2] if patch[0] == "g" else _MISSING
            else:
                wanted[("m", patch[1], patch[2])] = patch[3]
        for key in list(self.originals):
            if key not in wanted:
                self._set(key, self.originals.pop(key))
        for key, value in wanted.items():
            if key not in self.originals:
                self.originals[key] = self._get(key)
            self._set(key, value)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd and cwd != _cwd():
            try:
                os.chdir(cwd)
            except OSError:
                pass

    def _owner(self, key):
        if key[0] == "g":
            return self.module, key[1]
        return sys.modules.get(key[1]), key[2]

    def _get(self, key):
        owner, name = self._owner(key)
        return _MISSING if owner is None else vars(owner).get(name, _MISSING)

    def _set(self, key, value):
        owner, name = self._owner(key)
        if owner is None:
            return
        try:
            if value is _MISSING:
                if name in vars(owner):
                    delattr(owner, name)
            else:
                setattr(owner, name, value)
        except (AttributeError, TypeError):
            pass

    def _capture(self):
        return _Capture(self)

    def _states(self, flat):
        states = []
        for index, arg in enumerate(flat):
            if index == 0 or type(arg) in _ATOMIC or isinstance(arg, Remote):
                continue
            state = _state(arg)
            if state is not _MISSING:
                states.append((index, state))
        return states or None

    def serve(self):
        while True:
            try:
                data = self._recv_raw()
            except CandidateGone:
                return
            try:
                message = self._decode(data)
            except Exception as exc:   # noqa: BLE001 - e.g. the module did not import
                self._reply_exc(exc, {}, [])
                continue
            if message[0] != "op":
                return
            self._serve_one(message)

    def _output(self, out, err):
        pass



def _refuse(exc):
    def refuse(*args, **kwargs):
        raise exc
    return refuse


def _cwd():
    try:
        return os.getcwd()
    except OSError:
        return None


# -- the candidate's side ------------------------------------------------------------------------------

def serve(sock, module_name, roots, local_classes):
    """Import the candidate's module and answer the judge's calls until the judge is done."""
    import importlib
    import logging   # noqa: F401 - imported first, so a call's log records are collected
    module, error = None, None
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:   # noqa: B902 - reported to the judge at the first call
        error = exc
    peer = CandidatePeer(sock, roots, module_name, local_classes, module, error)
    peer.serve()
