"""One end of the wall (:class:`Peer`): requests, the loop that waits for an answer while it
serves the other side's calls back, replies and exceptions.  ``judge.py`` and ``candidate.py``
are its two sides.

Part of the bridge (see ``bridge.py``); loaded as ``_specloop_child.peer``.
"""

from __future__ import annotations

import inspect
import io
import operator
import os
import sys

from .capture import _NoCapture, _log
from .remote import _abcs, _remote_class
from .wire import _HEADER, MAX_MESSAGE, CandidateGone, CrossingError, _Decoder, _Encoder, _user_file

_DUNDERS = {
    "len": len, "iter": iter, "next": next, "repr": repr, "str": str, "format": format,
    "getitem": operator.getitem, "setitem": operator.setitem, "delitem": operator.delitem,
    "contains": operator.contains, "getattr": getattr, "setattr": setattr, "delattr": delattr,
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
    "ge": operator.ge, "hash": hash, "bool": bool, "int": int, "float": float, "index": operator.index,
    "enter": lambda o: type(o).__enter__(o), "exit": lambda o, *a: type(o).__exit__(o, *a),
    "reversed": reversed, "dir": dir,
}


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



def _pop(out, which):
    if isinstance(out, dict):
        return out.get(which, "")
    return out.pop(which)



def _short(text, limit=500):
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."



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
