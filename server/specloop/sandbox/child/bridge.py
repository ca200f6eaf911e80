"""Calls across the wall between the judge and the code under test (stdlib only, Python 3.8+).

Longer than 400 lines for the runner's reason: it is bound alone into both sandboxes and run
by the project's Python, which imports nothing else of specloop; both sides of the wall share
its codec, and the judge's decoder is one list a reviewer reads whole.

Bound into the sandbox beside the runner and loaded by it from there, like the runner it
imports nothing of specloop.  Two processes, each in a sandbox of its own, talk over one
unix socket:

* the *judge* runs pytest, the docstring's examples, the user's tests, fixtures and
  conftest, against the user's module as written (the target a stub) in which every
  target is replaced by a proxy (:func:`install`).  It never executes the candidate's code;
* the *candidate* process imports the module with the candidate's text and answers the
  proxies' calls (:func:`serve`).

Values cross by value as pickles.  The judge decodes them with :class:`_JudgeUnpickler`,
which builds only plain values: builtins and their containers, stdlib value types
(datetime, Decimal, Fraction, paths, UUID ...), enum members, exceptions, and instances of
classes the user's own files define (rebuilt by that code, in the judge) -- never a class
or callable the candidate made.  Anything else the candidate returns stays in the
candidate's process as a :class:`Remote` handle: its methods, items and iteration are
forwarded, but comparing it, hashing it or asking its truth value fails the test with a
clear message (:class:`NotByValue`).  The other way, whatever the judge passes that is not
a plain value (callables, mocks, open files) is a handle into the judge: calling it calls
back into the judge, so a mock records its calls there.

Each call also carries what a test changed around the code under test: rebound names of
the target's module and attributes of the modules it imports (``monkeypatch.setattr``,
``mock.patch``), the environment and the working directory; the candidate applies them for
the call.  Arguments the candidate mutates (lists, dicts, sets, bytearrays, the user's own
objects, ``self``) are copied back; what it prints comes back and is printed in the judge
(doctests and ``capsys`` see it); an exception crosses as its type and message with the
line of the module where it was raised.
"""

from __future__ import annotations

import builtins
import collections
import datetime
import decimal
import enum
import fractions
import functools
import inspect
import io
import ipaddress
import operator
import os
import pathlib
import pickle
import re
import socket
import struct
import sys
import traceback
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
# what the judge's decoder may call while it rebuilds a value: classes of plain values and the
# few functions their pickles name; nothing else of any module
_SAFE_GLOBALS = {("builtins", t.__name__): t for t in (set, frozenset, bytearray, complex, range, slice, list,
                                                        dict, tuple, bytes, str, int, float, bool, object)}
_SAFE_GLOBALS.update({(t.__module__, t.__qualname__): t for t in _CONTAINERS | _VALUE_TYPES
                      if t not in (list, tuple, dict, set, frozenset, bytearray, range, slice)})
_SAFE_GLOBALS.update({("pathlib", t.__name__): t for t in _VALUE_TYPES if t.__module__ == "pathlib"})
def _type_of(obj):
    """``type(x)`` as a pickle names it (``type(None)``); never the three-argument form that makes a class."""
    return type(obj)


_SAFE_GLOBALS.update({("collections", "OrderedDict"): collections.OrderedDict, ("types", "SimpleNamespace"):
                      types.SimpleNamespace, ("re", "_compile"): re._compile, ("builtins", "type"): _type_of})
_MACHINERY = ("_pytest", "pytest", "pluggy", "unittest", "doctest", "_specloop", "specloop", "_sandbox_")
_MUTABLE = (list, dict, set, bytearray, collections.deque)
_DUNDERS = {
    "len": len, "iter": iter, "next": next, "repr": repr, "str": str, "format": format,
    "getitem": operator.getitem, "setitem": operator.setitem, "delitem": operator.delitem,
    "contains": operator.contains, "getattr": getattr, "setattr": setattr, "delattr": delattr,
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
    "ge": operator.ge, "hash": hash, "bool": bool, "int": int, "float": float, "index": operator.index,
    "enter": lambda o: type(o).__enter__(o), "exit": lambda o, *a: type(o).__exit__(o, *a),
    "reversed": reversed, "dir": dir,
}


# a function's metadata, read by functools.wraps, inspect and decorators: forwarded like any attribute
_FORWARDED_DUNDERS = frozenset(["__name__", "__qualname__", "__wrapped__", "__annotations__", "__defaults__",
                                "__kwdefaults__", "__dict__", "__signature__", "__self__", "__func__",
                                "__text_signature__"])


class NotByValue(TypeError):
    """A value that stayed in the candidate's process was compared, hashed or tested for truth."""


class CrossingError(RuntimeError):
    """Something could not cross the wall (a value the judge does not accept, a process gone)."""


class CandidateGone(CrossingError):
    """The candidate's process ended or broke the protocol: every later call fails."""


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


class Peer:
    """One end of the wall.  ``trusting``: the candidate's side (it decodes what the judge sends
    with plain pickle and forwards comparisons of the judge's objects); the judge's side refuses
    to compare what stayed behind and decodes only plain values."""

    trusting = False
    conservative = None   # the judge's side: False, True while a send that did not pickle is retried

    def __init__(self, sock, roots=(), module_name="", local_classes=()):
        self.sock = sock
        self.roots = [os.path.realpath(r) for r in roots if r]
        self.module_name = module_name
        self.local_classes = set(local_classes)   # classes of the target's module the judge has too
        self.objects = {}     # our objects the other side holds handles to: ref -> object
        self.refs = {}        # id(object) -> ref
        self.remotes = {}     # the other side's ref -> Remote
        self.targets = {}     # judge: proxy function -> qualname
        self.dead = None
        self.decoding = 0     # > 0 while a message is read: nothing may call across then
        self.names = {}       # id(object) -> its name in the target's module (sentinels cross by name)

    # -- framing ------------------------------------------------------------------------
    def _send(self, message, args=None):
        buf = io.BytesIO()
        _Encoder(buf, self, args).dump(message)
        data = buf.getvalue()
        self.sock.sendall(_HEADER.pack(len(data)) + data)

    def _recv_raw(self):
        head = self._read(_HEADER.size)
        (size,) = _HEADER.unpack(head)
        if size > MAX_MESSAGE:
            raise CandidateGone("a message of %d bytes on the wire" % size)
        return self._read(size)

    def _read(self, size):
        chunks, left = [], size
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise CandidateGone("the other process ended")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _decode(self, data, args=None):
        self.decoding += 1
        try:
            return _Decoder(io.BytesIO(data), self, args).load()
        finally:
            self.decoding -= 1

    # -- what stays behind --------------------------------------------------------------
    def _handle(self, obj):
        ref = self.refs.get(id(obj))
        if ref is None or self.objects.get(ref) is not obj:
            ref = len(self.objects) + 1
            self.objects[ref] = obj
            self.refs[id(obj)] = ref
        return ("h", ref, type(obj).__qualname__, _abcs(obj))

    def _remote(self, ref, kind, abcs=()):
        remote = self.remotes.get(ref)
        if remote is None:
            remote = self.remotes[ref] = _remote_class(abcs)(self, ref, kind)
        return remote

    def _is_user_class(self, cls):
        module = sys.modules.get(getattr(cls, "__module__", None) or "")
        if module is None:
            return False
        if module.__name__ == self.module_name and cls.__qualname__ not in self.local_classes:
            return False
        return _user_file(getattr(module, "__file__", None), self.roots)

    # -- requests -----------------------------------------------------------------------
    def request(self, op, obj, args=(), kwargs=None):
        """Forward one operation on ``obj`` (a Remote, or a target) and wait for its answer,
        serving the other side's calls back meanwhile."""
        if self.dead is not None:
            raise CandidateGone(self.dead)
        if self.decoding and not self.trusting:
            raise CrossingError("a value that calls across the wall while it is read")
        kwargs = kwargs or {}
        flat = [obj, *args, *kwargs.values()]
        message = ("op", op, obj, tuple(args), kwargs, self._context())
        try:
            try:
                self._send(message)
            except (OSError, CandidateGone):
                raise
            except Exception:   # noqa: BLE001 - e.g. a local class: once more keeping more behind
                if self.conservative is None:
                    raise
                self.conservative = True
                try:
                    self._send(message)
                finally:
                    self.conservative = False
        except (OSError, CandidateGone) as exc:
            self._die("the code under test is gone (%s)" % exc)
        except Exception as exc:   # noqa: BLE001
            raise CrossingError("cannot send the arguments to the code under test: %s: %s"
                                % (type(exc).__name__, exc)) from None
        return self._await(flat)

    def _await(self, flat):
        while True:
            try:
                data = self._recv_raw()
            except (OSError, CandidateGone) as exc:
                self._die("the code under test ended its process before answering (%s)" % exc)
            try:
                message = self._decode(data, flat)
            except CrossingError:
                raise
            except Exception as exc:
                raise CrossingError("the answer of the code under test could not be read: %s: %s"
                                    % (type(exc).__name__, str(exc)[:200])) from None
            kind = message[0]
            if kind == "op":
                self._serve_one(message)
                continue
            self._output(message[-2], message[-1])
            if kind == "ret":
                self._copy_back(flat, message[2])
                return message[1]
            if kind == "exc":
                self._copy_back(flat, message[4])
                raise self._exception(message[1], message[2], message[3], flat)
            self._die("a message of unknown kind %r" % (kind,))

    def _die(self, why):
        self.dead = why
        raise CandidateGone(why)

    def _serve_one(self, message):
        _, op, obj, args, kwargs, context = message
        self._apply(context)
        try:
            with self._capture() as out:
                result = self._perform(op, obj, args, kwargs)
        except BaseException as exc:   # noqa: B902 - whatever the call raised crosses back
            if isinstance(exc, (KeyboardInterrupt,)) and not self.trusting:
                raise
            self._reply_exc(exc, out, [obj, *args, *kwargs.values()])
            return
        flat = [obj, *args, *kwargs.values()]
        self._reply(("ret", result, self._states(flat), _pop(out, "out"), _pop(out, "err")), flat)

    def _perform(self, op, obj, args, kwargs):
        if op == "call":
            result = obj(*args, **kwargs)
            if inspect.iscoroutine(result):
                import asyncio
                loop = asyncio.new_event_loop()
                try:
                    result = loop.run_until_complete(result)
                finally:
                    loop.close()
            return result
        if op == "iter":
            return iter(obj)
        return _DUNDERS[op](obj, *args)

    def _reply(self, message, flat):
        try:
            self._send(message, flat)
        except (OSError, CandidateGone):
            raise
        except Exception as exc:   # noqa: BLE001
            self._send(("exc", ("CrossingError", ["RuntimeError"], "the result could not be sent: %s: %s"
                                % (type(exc).__name__, str(exc)[:200])), None, None, None, message[-2], message[-1]))

    def _reply_exc(self, exc, out, flat):
        """An exception crosses twice: described (type names, message) and pickled; the judge
        rebuilds the pickled one where its decoder accepts it, else one of the described type."""
        line = _module_line(exc, getattr(sys.modules.get(self.module_name), "__file__", None))
        described = (type(exc).__qualname__, [c.__name__ for c in type(exc).__mro__], _short(str(exc)),
                     bool(exc.__suppress_context__), exc.__cause__ is not None)
        try:
            buf = io.BytesIO()
            _Encoder(buf, self, None).dump(exc)
            pickled = buf.getvalue()
        except Exception:   # noqa: BLE001 - an exception that does not pickle is described only
            pickled = None
        self._send(("exc", described, pickled, line, self._states(flat), _pop(out, "out"), _pop(out, "err")), flat)

    # -- hooks of one side --------------------------------------------------------------
    def _context(self):
        return None

    def _apply(self, context):
        pass

    def _capture(self):
        return _NoCapture()

    def _output(self, out, err):
        if isinstance(err, tuple) and len(err) == 2:   # (text, log records) from the candidate
            err, records = err
            _log(records)
        if out:
            sys.stdout.write(out)
        if err:
            sys.stderr.write(err)

    def _states(self, flat):
        return None

    def _copy_back(self, flat, states):
        pass

    def _exception(self, described, pickled, line, flat):
        return self._decode(pickled, flat) if pickled else RuntimeError(described[2])


class _NoCapture:
    def __enter__(self):
        self.out = {"out": "", "err": ""}
        return self.out

    def __exit__(self, *exc):
        return False


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
        if callable(obj) or _unpicklable(obj) or not _roundtrips(obj) or not _importable(kind.__module__, self.roots):
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


class _Capture:
    """What the candidate prints during one operation, sent with its answer (and before each
    call back, so the judge sees output in order)."""

    def __init__(self, peer):
        self.peer = peer

    def __enter__(self):
        self.saved = sys.stdout, sys.stderr
        self.out_buf, self.err_buf = io.StringIO(), io.StringIO()
        sys.stdout, sys.stderr = self.out_buf, self.err_buf
        self.records = []
        self.handler = None
        if "logging" in sys.modules:   # log records go back too (the judge's caplog sees them)
            import logging
            self.handler = _collector(self.records)
            logging.getLogger().addHandler(self.handler)
        self.peer.captures.append(self)
        return self

    def pop(self, which):
        """``out``: printed text; ``err``: (text on stderr, log records) since the last pop."""
        buf = self.out_buf if which == "out" else self.err_buf
        text = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        if which == "out":
            return text
        records, self.records[:] = list(self.records), []
        return (text, records)

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self.saved
        if self.handler is not None:
            import logging
            logging.getLogger().removeHandler(self.handler)
        if self.peer.captures and self.peer.captures[-1] is self:
            self.peer.captures.pop()
        return False


def _collector(records):
    """A logging handler that keeps every record's (logger name, level, message) in ``records``."""
    import logging

    class Collector(logging.Handler):
        def __init__(self, records):
            logging.Handler.__init__(self, 0)
            self.records = records

        def emit(self, record):
            try:
                self.records.append((str(record.name), int(record.levelno), str(record.getMessage())))
            except Exception:   # noqa: BLE001 - a record whose message does not format
                pass
    return Collector(records)


def _levels():
    """The judge's logger levels that are set (root as ""), for the candidate to follow."""
    logging = sys.modules.get("logging")
    if logging is None:
        return None
    levels = {"": logging.getLogger().level}
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level:
            levels[name] = logger.level
    return levels


def _log(records):
    """Log records that came from the candidate, through the judge's loggers."""
    if not records or not isinstance(records, list):
        return
    import logging
    for record in records[:1000]:
        try:
            name, level, message = record
            logging.getLogger(str(name) or None).log(int(level), str(message))
        except Exception:   # noqa: BLE001 - not a record
            continue


def _refuse(exc):
    def refuse(*args, **kwargs):
        raise exc
    return refuse


def _pop(out, which):
    if isinstance(out, dict):
        return out.get(which, "")
    return out.pop(which)


def _stdlib():
    names = getattr(sys, "stdlib_module_names", None)
    return names if names is not None else frozenset(["collections", "datetime", "decimal", "fractions",
                                                      "pathlib", "uuid", "ipaddress", "enum", "re"])


def _cwd():
    try:
        return os.getcwd()
    except OSError:
        return None


def _short(text, limit=500):
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


def _same(now, before):
    """Whether mapping ``now`` holds exactly the objects ``before`` held, in order (a C-level
    identity check: the common case of a call that changed nothing costs little)."""
    return len(now) == len(before) and all(map(operator.is_, now.values(), before.values()))


def _shallow(value):
    return type(value)(value)


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


def _module_line(exc, path):
    """The innermost traceback line in the module's file, following causes and contexts."""
    if not path:
        return None
    path = os.path.realpath(path)
    seen, todo = set(), [exc]
    while todo:
        err = todo.pop(0)
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        line, walk = None, err.__traceback__
        while walk is not None:
            if os.path.realpath(walk.tb_frame.f_code.co_filename) == path:
                line = walk.tb_lineno
            walk = walk.tb_next
        if line is not None:
            return line
        if isinstance(err, SyntaxError) and err.filename and os.path.realpath(err.filename) == path:
            return err.lineno
        todo.extend([err.__cause__, err.__context__])
    return None


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
