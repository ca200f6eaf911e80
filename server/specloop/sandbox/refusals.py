"""What the static policy (:mod:`policy`) refuses in a candidate, and the reason it names to
the model for each: one list, kept apart from the checker so that a reviewer reads it whole
to see what can get through.

Dotted names flagged when imported or used (:data:`_DOTTED`), attributes flagged on any object
(:data:`_ATTRS`), built-ins flagged when the code does not bind the name itself
(:data:`_BUILTINS`), module attributes that may not be rebound or written into
(:data:`_STORES`), strings that name the harness's files and settings (:data:`_STRINGS`), and
the names the checker treats specially (metadata dunders, mutating methods, raw descriptor
calls, stdlib names that are also common variable names).
"""

from __future__ import annotations

import re
import sys

_FIX = "compute the result from the arguments instead"
_TEST = "the test framework is off limits: behaviour must not depend on being tested"
_FRAME = "frame introspection can read or rewrite the test harness"
_IMPORT = "loads or swaps modules behind the harness's back"
_HOOK = "installs an interpreter-wide hook that runs inside the harness"
_EXIT = "ends the test process before the verdict; return a value or raise an ordinary exception"
_PROC = "leaves or forks the process tree the sandbox supervises"
_FD = "writes to descriptors the harness reports through; use print() or sys.stdout.write()"
_SIGNAL = "signal handlers can interrupt or hijack the test run"
_BUILTIN = "rewriting built-ins changes what the tests call"
_DYN = "hides what it reaches from this check"
_LITERAL = _DYN + "; use obj.attribute with a literal name"
_PATCH = "patching another module changes what the tests and the harness call; leave other modules as they are"

# Dotted names (a module, or a name in one) flagged when imported or used; ``*`` as in fnmatch.
# The longest matching prefix decides; ``None`` allows a part of a flagged module.
_DOTTED: dict[str, str | None] = {
    **dict.fromkeys(["pytest", "_pytest", "pluggy", "doctest"], _TEST),
    **dict.fromkeys(["unittest.mock", "mock"], "patching replaces what the tests call"),
    "__main__": "the running harness's namespace", "builtins": _BUILTIN, "__builtin__": _BUILTIN,
    **dict.fromkeys(["importlib", "imp", "_imp", "zipimport", "sys.meta_path", "sys.path_hooks",
                     "sys.path_importer_cache"], _IMPORT),
    "importlib.metadata": None, "importlib.resources": None, "runpy": "runs modules (the tests too) by name",
    **dict.fromkeys(["ctypes", "_ctypes", "cffi"], "raw memory access can rewrite the interpreter"),
    "gc": "the garbage collector hands out live harness objects",
    **dict.fromkeys(["inspect", "sys._getframe", "sys._current_frames", "sys._current_exceptions",
                     "traceback.walk_*", "traceback.*_stack", "traceback.StackSummary"], _FRAME),
    "signal": _SIGNAL, "_signal": _SIGNAL, "atexit": "runs code after the tests, while the verdict is written",
    **dict.fromkeys(["faulthandler", "sys.settrace", "sys.setprofile", "sys.call_tracing", "sys.monitoring",
                     "sys.addaudithook", "threading.settrace*", "threading.setprofile*",
                     "os.register_at_fork"], _HOOK),
    **dict.fromkeys(["sys.gettrace", "sys.getprofile"], "detects the test run's tracer"),
    "resource": "changes the limits the sandbox set", "marshal": "builds code objects from bytes",
    **dict.fromkeys(["pickle.load*", "pickle.Unpickler", "_pickle.*", "shelve", "dill", "cloudpickle"],
                    "deserializing objects can name and call anything, out of this check's sight"),
    "threading.enumerate": "lists the harness's threads, whose frames hold it",
    "site": "site-packages startup files run code in every interpreter",
    **dict.fromkeys(["pdb", "bdb"], "a debugger traces the harness"),
    **dict.fromkeys(["code", "codeop"], "an embedded interpreter runs source this check cannot see"),
    "_thread": "low-level threads can interrupt the main thread; use threading",
    **dict.fromkeys(["posix", "nt"], "the raw OS module bypasses this check; use os"),
    "sys.modules": "reaches every loaded module, including the test harness",
    "sys.remote_exec": "runs code in another Python process",
    **dict.fromkeys(["sys.exc_info", "sys.exception", "sys.last_*"], "traceback frames expose the harness"),
    **dict.fromkeys(["sys.exit", "os._exit", "os.abort"], _EXIT),
    **dict.fromkeys(["os.kill", "os.killpg", "os.pidfd_send_signal"], "signals the harness or other processes"),
    "os.getppid": "looks up the harness process", "os.exec*": "replaces the test process",
    **dict.fromkeys(["os.fork", "os.forkpty", "pty.fork", "os.setsid", "os.setpgid", "os.setpgrp",
                     "os.spawn*", "os.posix_spawn*"], _PROC),
    "os.dup2": _FD, "os.closerange": _FD, "*.__dict__": "a module's namespace by name " + _DYN,
}
_EXACT = {k: v for k, v in _DOTTED.items() if "*" not in k}
_PATTERNS = [(k, v) for k, v in _DOTTED.items() if "*" in k]
_ATTRS: dict[str, str] = {   # flagged on any object
    **dict.fromkeys(["f_back", "f_locals", "f_globals", "f_builtins", "f_code", "f_trace", "tb_frame",
                     "tb_next", "gi_frame", "cr_frame", "ag_frame", "_getframe", "_current_frames"], _FRAME),
    **dict.fromkeys(["__code__", "__globals__", "__closure__", "gi_code", "cr_code", "ag_code"],
                    "code objects and function globals reach the harness's modules"),
    **dict.fromkeys(["__subclasses__", "__bases__", "__base__", "__mro__"],
                    "walking the class hierarchy reaches every object in the interpreter, the harness's too"),
    "__self__": "a built-in's __self__ is the builtins module", "add_signal_handler": _SIGNAL,
    **dict.fromkeys(["__builtins__", "__import__", "__loader__", "__spec__"], _IMPORT),
}
_BUILTINS: dict[str, str] = {   # flagged when the code refers to them without binding the name itself
    **dict.fromkeys(["eval", "exec", "compile"], "runs source this check cannot see; write the code directly"),
    "globals": "the module namespace lets the function rewrite what the tests call",
    "breakpoint": "starts a debugger inside the harness", "__builtins__": _BUILTIN,
    **dict.fromkeys(["__import__", "__loader__", "__spec__"], _IMPORT), "exit": _EXIT, "quit": _EXIT,
}
_STORES = {   # why rebinding or writing into these module attributes is refused (default: _PATCH)
    **dict.fromkeys(["sys.stdout", "sys.stderr", "sys.stdin", "sys.__stdout__", "sys.__stderr__"],
                    "replacing a std stream hides or forges the output the tests capture; write to it instead"),
    "sys.path": "changes where the tests import from",
    **dict.fromkeys(["sys.excepthook", "sys.displayhook", "sys.breakpointhook", "sys.unraisablehook",
                     "threading.excepthook"], _HOOK),
}
_STRINGS = [(re.compile(p, re.IGNORECASE), label, why) for p, label, why in [
    ("conftest", "conftest", "pytest's conftest files configure the test run"),
    ("pytest", "pytest", "names the test framework (PYTEST_CURRENT_TEST, pytest.ini)"),
    (r"\.pth\b", ".pth", "a .pth file in site-packages runs code at interpreter start"),
    ("(site|user)customize", "sitecustomize", "startup hooks run in every interpreter"),
    ("_specloop|specloop_", "specloop", "names specloop's sandbox files or settings"),
    (r"results\.jsonl", "results.jsonl", "names the sandbox's verdict file"),
    ("/proc/self", "/proc/self", "the process's own memory and descriptors"),
    (r"\bppid\b", "ppid", "names the harness process"),
    ("start_new_session|preexec_fn|process_group", "start_new_session", _PROC),
    (r"\{[^{}]*\.__\w+", "{0.__...}", "a format string that walks attributes " + _DYN),
]]
_LAST_NAMES = {*_ATTRS, *(k.rsplit(".", 1)[-1].rstrip("*") for k in _DOTTED)}
_SAFE_DUNDERS = {f"__{n}__" for n in (
    "name qualname doc module annotations version wrapped dict class slots dataclass_fields len iter next "
    "getitem contains call enter exit aenter aexit aiter anext await fspath index int float str repr hash "
    "eq lt le gt ge bool").split()}
_ALWAYS = {"__eq__": True, "__ne__": False, "__instancecheck__": True, "__subclasscheck__": True}
_GETATTRS = {"getattr", "hasattr", "setattr", "delattr"}
_MUTATORS = {"append", "extend", "insert", "remove", "pop", "clear", "update", "setdefault", "popitem",
             "add", "discard", "__setitem__", "__delitem__"}
_RAW_FD_CALLS = {"os.write", "os.close", "os.dup", "os.fdopen", "io.open", "open"}
# Stdlib names that are also common variable names: a free (unimported) one is not taken for the module.
_AMBIGUOUS = {"code", "site", "resource", "queue", "array", "token", "types", "string", "select", "test",
              "this", "numbers", "keyword"}
_KNOWN = set(sys.stdlib_module_names) | {"pytest", "_pytest", "pluggy", "mock", "cffi"}
