"""The judge's side of the wall: its decoder, which rebuilds only plain values
(:meth:`JudgePeer._find_class`, one list a reviewer reads whole), the proxies that replace the
targets (:func:`install`, :class:`Names`) and what a test changed, mirrored at each call.

Part of the bridge (see ``bridge.py``); loaded as ``_specloop_child.judge``.
"""

from __future__ import annotations

import builtins
import collections
import enum
import functools
import inspect
import operator
import os
import re
import sys
import types

from .capture import _levels
from .copyback import _restore
from .peer import Peer
from .remote import Remote
from .wire import (_CONTAINERS, _MISSING, _VALUE_TYPES, CrossingError, _by_name, _by_reference, _importable,
                   _named, _roundtrips, _stdlib, _unpicklable, _user_file)

# what the judge's decoder may call while it rebuilds a value: classes of plain values and the
# few functions their pickles name; nothing else of any module
_SAFE_GLOBALS = {("builtins", t.__name__): t for t in (set, frozenset, bytearray, complex, range, slice, list,
                                                        dict, tuple, bytes, str, int, float, bool, object)}
_SAFE_GLOBALS.update({(t.__module__, t.__qualname__): t for t in _CONTAINERS | _VALUE_TYPES
                      if t not in (list, tuple, dict, set, frozenset, bytearray, range, slice)})
_SAFE_GLOBALS.update({("pathlib", t.__name__): t for t in _VALUE_TYPES if t.__module__ == "pathlib"})
# the singletons a pickle names (an ``__eq__`` that returns NotImplemented for a stranger)
_SAFE_GLOBALS.update({("builtins", "NotImplemented"): NotImplemented, ("builtins", "Ellipsis"): Ellipsis})


def _type_of(obj):
    """``type(x)`` as a pickle names it (``type(None)``); never the three-argument form that makes a class."""
    return type(obj)


_SAFE_GLOBALS.update({("collections", "OrderedDict"): collections.OrderedDict, ("types", "SimpleNamespace"):
                      types.SimpleNamespace, ("re", "_compile"): re._compile, ("builtins", "type"): _type_of})
_MACHINERY = ("_pytest", "pytest", "pluggy", "unittest", "doctest", "_specloop", "specloop", "_sandbox_")


class JudgePeer(Peer):
    """The judge's end: proxies call through it; what comes back is decoded as plain values."""

    trusting = False

    def __init__(self, sock, roots, module_name, local_classes):
        super().__init__(sock, roots, module_name, local_classes)
        self.module = None
        self.containers = {}
        self.base_globals = {}
        self.base_modules = {}
        self.sent_env = None
        self.sent_levels = None
        self.sent_path = None
        self.conservative = False   # after a send that did not pickle: keep more in the judge

    def watch(self, module):
        """The module's names and those of the modules it imports, as tests will find them;
        later changes are mirrored into the candidate's process at each call."""
        self.module = module
        self.names = _named(module)
        self.base_globals = dict(vars(module))
        self.base_modules = {name: dict(vars(value)) for name, value in vars(module).items()
                             if isinstance(value, types.ModuleType) and value.__name__ not in ("sys", "builtins")}
        # the module's own lists, dicts and sets: a test that changes their contents
        # (``mod.REGISTRY["x"] = ...``, ``mod.UNCOUNTABLES.add(...)``) changes the candidate's too
        self.containers = {name: _shallow(value) for name, value in vars(module).items()
                           if type(value) in (list, dict, set) and len(value) <= 2000 and not name.startswith("__")}

    def _context(self):
        patches = []
        if self.module is not None:
            now = vars(self.module)
            if not _same(now, self.base_globals):
                for name, value in list(now.items()):
                    if self.base_globals.get(name, _MISSING) is not value and not name.startswith("__"):
                        patches.append(("g", name, value))
                for name in self.base_globals:
                    if name not in now:
                        patches.append(("gdel", name, None))
            for name, snapshot in self.base_modules.items():
                mod = self.base_globals[name]
                if _same(vars(mod), snapshot):
                    continue
                for attr, value in list(vars(mod).items()):
                    old = snapshot.get(attr, _MISSING)   # rebound, as a patch does (not a new submodule)
                    if old is not value and old is not _MISSING and not isinstance(value, types.ModuleType):
                        patches.append(("m", mod.__name__, attr, value))
            for name, last in list(self.containers.items()):
                value = now.get(name)
                try:
                    changed = value is self.base_globals.get(name) and value != last
                except Exception:   # noqa: BLE001 - contents that do not compare
                    changed = False
                if changed:   # its contents, as a copy: the container itself would cross by name
                    self.containers[name] = _shallow(value)
                    patches.append(("c", name, _shallow(value)))
        raw = getattr(os.environ, "_data", None)
        raw = dict(raw) if isinstance(raw, dict) else dict(os.environ)   # a C-level copy where it can be
        if raw == self.sent_env:
            env = None
        else:
            self.sent_env = raw
            env = dict(os.environ)
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = None
        levels = _levels()
        if levels == self.sent_levels:
            levels = None
        else:
            self.sent_levels = levels
        path = list(sys.path)
        if path == self.sent_path:
            path = None
        else:
            self.sent_path = path
        return (patches, env, cwd, levels, path)

    def _apply(self, context):
        if context and context[0] == "out":
            self._output(context[1], context[2])

    def _keep(self, obj, kind, args):
        if issubclass(kind, Remote):
            return ("h", obj._ref)
        named = _by_name(self, obj) if self.names else None
        if named is not None:
            return named
        qualname = self.targets.get(obj) if kind is types.FunctionType else None
        if qualname is not None:
            return ("t", qualname)
        if kind in _CONTAINERS or kind in _VALUE_TYPES or isinstance(obj, (BaseException, enum.Enum)):
            return None
        if kind is types.ModuleType:
            return ("mod", obj.__name__)
        if isinstance(obj, type):
            return None if _by_reference(obj) and _importable(obj.__module__, self.roots) \
                else ("j",) + self._handle(obj)[1:]
        if kind is types.BuiltinFunctionType and isinstance(getattr(obj, "__self__", None), types.ModuleType):
            return None
        if kind is types.FunctionType and obj.__module__ != self.module_name and _by_reference(obj) and \
                _importable(obj.__module__, self.roots):
            return None   # by name: the other process has that module as it is (a __reduce__ names one)
        if callable(obj) and not (self._is_user_class(kind) and hasattr(obj, "__dict__")) or _unpicklable(obj) \
                or not _roundtrips(obj) or not _importable(kind.__module__, self.roots):
            # a callable is called back here, but the user's own objects cross by value even
            # when their class defines __call__ (a Polynomial is a value, not a callback)
            return ("j",) + self._handle(obj)[1:]
        if self.conservative and not (self._is_user_class(kind) or _by_reference(kind) and
                                      kind.__module__.split(".")[0] in _stdlib()):
            return ("j",) + self._handle(obj)[1:]
        return None

    def _resolve(self, pid, args):
        tag = pid[0]
        if tag == "h":
            return self._remote(pid[1], str(pid[2])[:100], pid[3] if len(pid) > 3 else ())
        if tag == "j":
            obj = self.objects.get(pid[1], _MISSING)
            if obj is _MISSING:
                raise CrossingError("the code under test named an object the judge never sent")
            return obj
        if tag == "n":
            found = vars(self.module).get(str(pid[1]), _MISSING) if self.module is not None else _MISSING
            if found is _MISSING:
                raise CrossingError("the code under test named a module object the judge does not have")
            return found
        if tag == "a":
            if args is None or not isinstance(pid[1], int) or not 0 <= pid[1] < len(args):
                raise CrossingError("the code under test named an argument that was not passed")
            return args[pid[1]]
        raise CrossingError("the code under test sent an unknown reference %r" % (tag,))

    def _find_class(self, module, name, default):
        """Only plain values are rebuilt: see the module docstring."""
        found = _SAFE_GLOBALS.get((module, name))
        if found is not None:
            return found
        mod = sys.modules.get(module)
        obj = mod
        for part in name.split("."):
            obj = getattr(obj, part, _MISSING) if obj is not None else _MISSING
            if obj is _MISSING:
                break
        if isinstance(obj, types.FunctionType) and obj not in self.targets and module != self.module_name and \
                _user_file(getattr(sys.modules.get(module), "__file__", None), self.roots):
            return obj   # a function of your own code as the judge has it (a ``__reduce__`` names one)
        if obj is not _MISSING and isinstance(obj, type):
            if issubclass(obj, BaseException) and obj not in (KeyboardInterrupt, GeneratorExit) and not any(
                    (getattr(c, "__module__", "") or "").startswith(_MACHINERY) for c in obj.__mro__):
                return obj   # not pytest's own outcomes (skip, xfail, exit) nor a subclass of them
            if issubclass(obj, enum.Enum) or self._is_user_class(obj):
                return obj
        raise CrossingError("the code under test sent a %s.%s object, which cannot leave the sandbox by value"
                            % (module, name))

    def _copy_back(self, flat, states):
        if not states:
            return
        for index, state in states:
            if not isinstance(index, int) or not 0 <= index < len(flat):
                continue
            _restore(flat[index], state)

    def _exception(self, described, pickled, line, flat):
        exc = None
        if pickled:
            try:
                exc = self._decode(pickled, flat)
            except Exception:   # noqa: BLE001 - a class the judge does not accept: described instead
                exc = None
        if not isinstance(exc, BaseException) or isinstance(exc, (KeyboardInterrupt, GeneratorExit)):
            try:
                name, mro, text = described[:3]
                base = next((getattr(builtins, n) for n in mro if isinstance(getattr(builtins, n, None), type)
                             and issubclass(getattr(builtins, n), Exception)), Exception)
                exc = type(str(name)[:100], (base,), {"__module__": self.module_name})(str(text))
            except Exception:   # noqa: BLE001
                exc = CrossingError("the code under test raised something that could not be read")
        try:
            if isinstance(line, int):
                exc.specloop_line = line
            if isinstance(described, tuple) and len(described) == 5:   # ``raise ... from None`` shows
                exc.__suppress_context__ = bool(described[3])
                if described[4] and exc.__cause__ is None:
                    exc.__cause__ = CrossingError("(the cause was raised in the code under test)")
        except Exception:   # noqa: BLE001
            pass
        return exc



def _same(now, before):
    """Whether mapping ``now`` holds exactly the objects ``before`` held, in order (a C-level
    identity check: the common case of a call that changed nothing costs little)."""
    return len(now) == len(before) and all(map(operator.is_, now.values(), before.values()))


def _shallow(value):
    return type(value)(value)


# -- the judge's side ---------------------------------------------------------------------------------

def install(module, targets, peer):
    """Replace each target of ``module`` by a proxy that forwards its calls to the candidate's
    process, then watch the module (see ``JudgePeer``).  ``targets``: ``[qualname, kind]`` with
    kind ``function``, ``async``, ``staticmethod``, ``classmethod`` or ``property`` (as the
    candidate defines it); a target the module as written lacks (a method or function the
    candidate adds) gets a proxy too.  Returns the qualnames that could not be placed."""
    left = []
    for qualname, kind in targets:
        parts = qualname.split(".")
        owner = module
        for part in parts[:-1]:
            owner = getattr(owner, part, None)
        name = parts[-1]
        if owner is None or (owner is not module and not isinstance(owner, type)):
            left.append(qualname)
            continue
        raw = vars(owner).get(name, _MISSING)
        if hasattr(raw, "__specloop_target__"):
            continue   # proxied already, while the module loaded (``Names``)
        if isinstance(raw, (staticmethod, classmethod)):
            raw = raw.__func__
        func = raw if isinstance(raw, types.FunctionType) else None
        if kind == "property":
            accessors = {}
            for part in ("get", "set", "del"):
                proxy = _proxy(peer, "%s#%s" % (qualname, part), None, False)
                peer.targets[proxy] = "%s#%s" % (qualname, part)
                accessors[part] = proxy
            doc = getattr(raw, "__doc__", None) if raw is not _MISSING else None
            setattr(owner, name, property(accessors["get"], accessors["set"], accessors["del"], doc))
            continue
        proxy = _proxy(peer, qualname, func, kind == "async", name)
        peer.targets[proxy] = qualname
        wrapper = {"staticmethod": staticmethod, "classmethod": classmethod}.get(kind)
        setattr(owner, name, wrapper(proxy) if wrapper else proxy)
    peer.watch(module)
    return left


class Names(dict):
    """The judge's module's top-level names while its text runs: a top-level target's ``def``
    is stored as its proxy at once, so code of the module that uses the target while the
    module loads (a decorator it defines and applies further down) calls the candidate's."""

    def __init__(self, module, targets, peer):
        super().__init__()
        self.module, self.peer = module, peer
        self.top = {q: k for q, k in targets if "." not in q and k in ("function", "async")}

    def __setitem__(self, name, value):
        kind = self.top.get(name)
        if kind is not None and isinstance(value, types.FunctionType) and \
                not hasattr(value, "__specloop_target__"):
            value = _proxy(self.peer, name, value, kind == "async")
            self.peer.targets[value] = name
        vars(self.module)[name] = value

    def __getitem__(self, name):
        return vars(self.module)[name]

    def __delitem__(self, name):
        del vars(self.module)[name]

    def __contains__(self, name):
        return name in vars(self.module)

    def get(self, name, default=None):
        return vars(self.module).get(name, default)

    def keys(self):
        return vars(self.module).keys()

    def items(self):
        return vars(self.module).items()

    def __iter__(self):
        return iter(vars(self.module))

    def __len__(self):
        return len(vars(self.module))


def _proxy(peer, qualname, func, is_async, name=None):
    if is_async or (func is not None and inspect.iscoroutinefunction(func)):
        async def proxy(*args, **kwargs):
            return peer.request("call", proxy, args, kwargs)
    else:
        def proxy(*args, **kwargs):
            return peer.request("call", proxy, args, kwargs)
    if func is not None:
        functools.update_wrapper(proxy, func)
    else:
        proxy.__name__ = name or qualname.rsplit(".", 1)[-1]
        proxy.__qualname__ = qualname
    proxy.__specloop_target__ = qualname
    return proxy
