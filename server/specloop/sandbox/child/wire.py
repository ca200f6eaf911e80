"""The wire between the judge and the candidate's process: framing, the pickler that keeps
behind what must stay (persistent ids), and what both sides ask of a value (stdlib only).

Part of the bridge (see ``bridge.py``); loaded as ``_specloop_child.wire``.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import io
import ipaddress
import os
import pathlib
import pickle
import re
import socket
import struct
import sys
import types
import uuid

MAX_MESSAGE = 64 * 1024 * 1024
_HEADER = struct.Struct("!I")
_MISSING = object()
_ATOMIC = frozenset([type(None), bool, int, float, complex, str, bytes, type(Ellipsis), type(NotImplemented)])
_CONTAINERS = frozenset([list, tuple, dict, set, frozenset, bytearray, range, slice, collections.OrderedDict,
                         collections.deque, collections.Counter, collections.defaultdict, types.SimpleNamespace])
_VALUE_TYPES = frozenset([datetime.date, datetime.datetime, datetime.time, datetime.timedelta, datetime.timezone,
                          decimal.Decimal, fractions.Fraction, uuid.UUID, pathlib.PurePosixPath,
                          pathlib.PureWindowsPath, pathlib.PosixPath, pathlib.WindowsPath, pathlib.Path,
                          ipaddress.IPv4Address, ipaddress.IPv6Address, ipaddress.IPv4Network,
                          ipaddress.IPv6Network, ipaddress.IPv4Interface, ipaddress.IPv6Interface, re.Pattern])


class NotByValue(TypeError):
    """A value that stayed in the candidate's process was compared, hashed or tested for truth."""


class CrossingError(RuntimeError):
    """Something could not cross the wall (a value the judge does not accept, a process gone)."""


class CandidateGone(CrossingError):
    """The candidate's process ended or broke the protocol: every later call fails."""


def _named(module):
    """``{id(value): name}`` of the module's own objects that are neither plain values nor code: a
    sentinel (``_marker = object()``) keeps its identity across the wall, by its name."""
    names = {}
    for name, value in vars(module).items():
        if type(value) not in _ATOMIC and not isinstance(value, (type, types.ModuleType, types.FunctionType)) \
                and not name.startswith("__") and not callable(value):
            names.setdefault(id(value), name)
    return names


def _by_name(peer, obj):
    name = peer.names.get(id(obj))
    module = peer.module
    if name is not None and module is not None and vars(module).get(name, _MISSING) is obj:
        return ("n", name)
    return None


def _importable(name, roots):
    """Whether the other process imports module ``name`` as this one did: the standard library,
    an installed package, or a file under a root by its dotted name (not a test module pytest
    imported by its bare name from the test's folder)."""
    module = sys.modules.get(name or "")
    path = getattr(module, "__file__", None)
    if module is None or (name or "").split(".")[0] in _stdlib() or not path:
        return module is not None
    if not _user_file(path, roots):
        return True
    rel = name.replace(".", os.sep)
    real = os.path.realpath(path)
    return any(real in (os.path.join(r, rel + ".py"), os.path.join(r, rel, "__init__.py")) for r in roots) or \
        any(real in (os.path.join(r, "src", rel + ".py"), os.path.join(r, "src", rel, "__init__.py")) for r in roots)


def _user_file(path, roots):
    if not path:
        return False
    path = os.path.realpath(path)
    if "site-packages" in path.split(os.sep) or "dist-packages" in path.split(os.sep):
        return False
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


class _Encoder(pickle.Pickler):
    """Pickles a message; what must stay behind becomes a persistent id (see ``Peer._keep``)."""

    def __init__(self, file, peer, args):
        super().__init__(file, protocol=4)
        self.peer, self.args = peer, args

    def persistent_id(self, obj):
        kind = type(obj)
        if kind in _ATOMIC:
            return None
        return self.peer._keep(obj, kind, self.args)


class _Decoder(pickle.Unpickler):
    def __init__(self, file, peer, args):
        super().__init__(file)
        self.peer, self.args = peer, args

    def persistent_load(self, pid):
        return self.peer._resolve(pid, self.args)

    def find_class(self, module, name):
        return self.peer._find_class(module, name, super().find_class)


def _stdlib():
    names = getattr(sys, "stdlib_module_names", None)
    return names if names is not None else frozenset(["collections", "datetime", "decimal", "fractions",
                                                      "pathlib", "uuid", "ipaddress", "enum", "re"])


def _by_reference(cls):
    module = sys.modules.get(getattr(cls, "__module__", "") or "")
    obj = module
    for part in getattr(cls, "__qualname__", "").split("."):
        obj = getattr(obj, part, None) if obj is not None else None
    return obj is cls


_UNPICKLABLE = (types.GeneratorType, types.CoroutineType, types.FrameType, types.TracebackType, io.IOBase,
                socket.socket, types.CodeType)


def _unpicklable(obj):
    if isinstance(obj, _UNPICKLABLE):
        return True
    kind = type(obj)
    return kind.__module__ in ("_thread", "threading", "_io", "select", "mmap", "sqlite3")


_ROUNDTRIPS = {}   # class -> whether its objects come back from a pickle


class _Probe(pickle.Pickler):
    def persistent_id(self, obj):   # what would stay behind anyway is not the question
        named = isinstance(obj, (type, types.BuiltinFunctionType)) or \
            (isinstance(obj, types.FunctionType) and _by_reference(obj))   # e.g. the function a __reduce__ names
        return id(obj) if (callable(obj) and not named) or _unpicklable(obj) else None


class _ProbeBack(pickle.Unpickler):
    def persistent_load(self, pid):
        return None


def _roundtrips(obj):
    """Whether objects of ``obj``'s class survive a pickle (asked once per class): a frozen
    dataclass with its own ``__slots__``, a class whose ``__getattr__`` loops on a bare instance,
    do not -- they stay behind as handles."""
    kind = type(obj)
    known = _ROUNDTRIPS.get(kind)
    if known is None:
        try:
            buf = io.BytesIO()
            _Probe(buf, protocol=4).dump(obj)
            _ProbeBack(io.BytesIO(buf.getvalue())).load()
            known = True
        except Exception:   # noqa: BLE001 - RecursionError, FrozenInstanceError, PicklingError...
            known = False
        _ROUNDTRIPS[kind] = known
    return known
