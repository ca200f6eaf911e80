"""Calls across the wall between the judge and the code under test (stdlib only, Python 3.8+).

Bound into the sandbox beside the runner, in the package the runner registers as
``_specloop_child`` (never on ``sys.path``); like the runner it imports nothing of specloop.
The parts: ``wire.py`` (framing, the pickler, what both sides ask of a value),
``remote.py`` (:class:`Remote` handles), ``peer.py`` (one end of the wall), ``judge.py`` (the
judge's decoder and proxies), ``candidate.py`` (the candidate's process), ``copyback.py``
(mutated arguments copied back), ``capture.py`` (what the candidate prints and logs).

Two processes, each in a sandbox of its own, talk over one unix socket:

* the *judge* runs pytest, the docstring's examples, the user's tests, fixtures and
  conftest, against the user's module as written (the target a stub) in which every
  target is replaced by a proxy (:func:`judge.install`).  It never executes the candidate's code;
* the *candidate* process imports the module with the candidate's text and answers the
  proxies' calls (:func:`candidate.serve`).

Values cross by value as pickles.  The judge decodes them with its decoder
(``JudgePeer._find_class``), which builds only plain values: builtins and their containers, stdlib value types
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

from .candidate import CandidatePeer, serve
from .judge import JudgePeer, Names, install
from .peer import Peer
from .remote import Remote
from .wire import CandidateGone, CrossingError, NotByValue

__all__ = ["CandidateGone", "CandidatePeer", "CrossingError", "JudgePeer", "Names", "NotByValue", "Peer", "Remote",
           "install", "serve"]
