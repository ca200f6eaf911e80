"""Reading a file for ``specloop run`` and writing the result back without
losing the user's text.

Decisions:

* A file is read once, as bytes; the text and its encoding (PEP 263) come
  from those bytes, which are kept.  Before writing, the file is read again:
  if its bytes differ (edited meanwhile) or it is gone (deleted meanwhile)
  nothing is written and the caller saves the results elsewhere.  A deleted
  file is never re-created.
* Writes are atomic: a temporary file next to the real file, then
  ``os.replace``.  The temporary file gets the old file's permission bits
  (and owner, where allowed), so the mode is kept.  A symlink is written
  through: the link's final target is replaced, the link stays a link.  A
  file with several hard links is rewritten in place instead, so every name
  still shows the same content.
* A file without any write permission bit is refused (``PermissionError``),
  also for root, as editors do: the user made it read-only on purpose.
* ``unified_diff`` writes what ``git apply`` accepts: paths relative to the
  current folder under ``a/`` and ``b/``, ``/dev/null`` for a new file, the
  ``\\ No newline at end of file`` marker, and lines split at ``\\n`` only
  (a CR-only file is one line to git, too).
* An attempt that is not written (its tests fail, it passed but could not be
  placed, or the file changed) is saved as
  ``.specloop/results/<file stem>.<qualname>.py``: header comments (status,
  reason, first failing test, why it was not written), then its imports and
  the function.  The language server's "Show result" uses the
  same place.
"""

from __future__ import annotations

import difflib
import errno
import io
import os
import re
import stat
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

from ..results import JobResult, tests_count

__all__ = ["SourceFile", "Undecodable", "read_source", "encode", "write_back", "display_path",
           "unified_diff", "reason_of", "safe_name", "attempt_path", "save_attempt", "WRITTEN", "CHANGED", "DELETED"]

WRITTEN, CHANGED, DELETED = "written", "changed", "deleted"


class Undecodable(ValueError):
    """The file's bytes are not text in its declared encoding."""


@dataclass
class SourceFile:
    path: Path          # as the user named it (may be a symlink)
    text: str           # decoded, newlines as in the file, without a BOM
    encoding: str       # e.g. "utf-8", "utf-8-sig", "latin-1"
    raw: bytes | None   # the bytes as read; None for a file that did not exist


def read_source(path: Path) -> SourceFile:
    """The file's text exactly and its encoding.  Raises OSError, Undecodable."""
    raw = Path(path).read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        raise Undecodable(f"cannot decode {display_path(path)}: {exc}") from None
    if encoding == "utf-8-sig":
        text = text.removeprefix("\ufeff")
    return SourceFile(Path(path), text, encoding, raw)


def encode(text: str, encoding: str) -> bytes:
    data = text.encode(encoding)
    if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
        data = b"\xef\xbb\xbf" + data
    return data


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_back(source: SourceFile, text: str) -> str:
    """Write ``text`` over ``source.path`` unless the file changed since it was
    read.  Returns WRITTEN, CHANGED or DELETED; raises OSError (a read-only
    file raises PermissionError)."""
    path = Path(source.path)
    real = Path(os.path.realpath(path))
    try:
        now = real.read_bytes()
    except FileNotFoundError:
        if source.raw is not None:
            return DELETED
        now = None
    if now != source.raw:
        return CHANGED
    data = encode(text, source.encoding)
    if now is None:                                   # a new file (kept tests)
        real.parent.mkdir(parents=True, exist_ok=True)
        _replace(real, data, 0o666 & ~_umask(), None)
        return WRITTEN
    info = real.stat()
    if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(real, os.W_OK):
        raise PermissionError(errno.EACCES, "the file is read-only", str(path))
    if info.st_nlink > 1:                             # keep every hard link pointing at the new text
        with open(real, "r+b") as fh:
            fh.write(data)
            fh.truncate()
        return WRITTEN
    _replace(real, data, stat.S_IMODE(info.st_mode), info)
    return WRITTEN


def _replace(real: Path, data: bytes, mode: int, info: os.stat_result | None) -> None:
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".specloop-tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            if info is not None and (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(fh.fileno(), info.st_uid, info.st_gid)
                except OSError:
                    pass
            os.fsync(fh.fileno())
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def display_path(path: Path | str) -> str:
    """``path`` relative to the current folder when it is below it, else as given."""
    path = Path(path)
    try:
        absolute = Path(os.path.abspath(path))
        return str(absolute.relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def _git_lines(text: str) -> list[str]:
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def unified_diff(path: Path, before: str | None, after: str) -> str:
    """A unified diff ``git apply`` accepts; ``before`` None: a new file."""
    try:
        name = os.path.relpath(os.path.abspath(path)).replace(os.sep, "/")
    except ValueError:
        name = str(path).replace(os.sep, "/")
    old = "/dev/null" if before is None else f"a/{name}"
    out = []
    for line in difflib.unified_diff(_git_lines(before or ""), _git_lines(after), fromfile=old,
                                     tofile=f"b/{name}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def reason_of(result: JobResult) -> str:
    """Why a result is not ``passed``, in one line."""
    text = result.error or (tests_count(result.status, result.passed, result.failed) if result.failed
                            else result.status)
    return _one_line(text)


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def safe_name(name: str) -> str:
    """``name`` as a part of a file name: every run of characters other than letters, digits,
    ``_``, ``.`` and ``-`` becomes one ``_`` (a module spec's ``module spec (line 5)`` becomes
    ``module_spec_line_5_``), as trace files are named."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def attempt_path(workspace: Path, source_path: Path, name: str) -> Path:
    """``<workspace>/.specloop/results/<file stem>.<qualname>.py``, made a safe file name."""
    return Path(workspace) / ".specloop" / "results" / f"{safe_name(Path(source_path).stem)}.{safe_name(name)}.py"


def save_attempt(workspace: Path, source_path: Path, result: JobResult, why: str) -> Path:
    """Save ``result``'s code under ``.specloop/results/<file stem>.<qualname>.py``
    with a header saying why it was not written; returns the path.  Raises OSError."""
    try:
        shown = Path(os.path.abspath(source_path)).relative_to(Path(workspace).resolve())
    except ValueError:
        shown = Path(source_path)
    total = result.passed + result.failed
    header = [f"# specloop: {result.name} in {shown} was not written",
              f"# status: {result.status} ({result.passed}/{total} tests passed)"]
    if result.status != "passed":
        header.append(f"# reason: {reason_of(result)}")
    if result.failures:
        first = result.failures[0]
        header.append(f"# first failing test: {_one_line(first.id)}: {_one_line(first.message or first.outcome)}")
    header.append(f"# why it was not written: {_one_line(why)}")
    imports = "\n".join(result.imports)
    body = (imports + "\n\n\n" if imports else "") + (result.function_code or "").rstrip("\n") + "\n"
    path = attempt_path(workspace, source_path, result.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace(path, ("\n".join(header) + "\n" + body).encode("utf-8"), 0o666 & ~_umask(), None)
    return path
