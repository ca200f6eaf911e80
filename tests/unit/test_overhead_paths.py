"""The engine's fast paths of issue 10: litellm imported once with its heap frozen, targets
remembered per document version, context and user-test scans that can run off the loop."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from pathlib import Path

from specloop.context import needs
from specloop.model import client as model
from specloop.source import spec
from specloop.sandbox import testfiles
from specloop.context.gather import build_context, build_context_async, find_user_tests, find_user_tests_async
from specloop.source.spec import cached_targets, find_targets, find_targets_async, find_targets_for, forget_document

STUB = 'def area(w, h):\n    """Area.\n\n    >>> area(2, 3)\n    6\n    """\n'


def test_litellm_loads_once_frozen_and_warm() -> None:
    enabled = gc.isenabled()
    litellm = model._litellm()
    assert model.litellm_state() == {"state": "loaded", "error": None}
    assert gc.isenabled() == enabled                 # the pause is undone
    assert gc.get_freeze_count() > 0                 # litellm's heap is in the permanent generation
    assert "openai.resources" in sys.modules         # what the first request imported lazily
    assert model._litellm() is litellm
    assert model.start_loading() is None             # nothing left to load


def test_targets_are_remembered_per_document_version() -> None:
    uri = "file:///tmp/doc-cache.py"
    forget_document(uri)
    assert cached_targets(uri, 1, STUB) is None
    first = find_targets_for(uri, 1, STUB)
    assert [t.qualname for t in first.targets] == ["area"]
    again = cached_targets(uri, 1, STUB)
    assert again is not None and again.targets == first.targets and again.targets is not first.targets
    assert cached_targets(uri, 2, STUB) is None                  # another version
    assert cached_targets(uri, 1, STUB + "\n\n") is None         # same version, other text
    edited = STUB.replace("area", "volume")
    assert [t.qualname for t in find_targets_for(uri, 2, edited).targets] == ["volume"]
    assert cached_targets(uri, 1, STUB) is None                  # only the last version is kept
    forget_document(uri)
    assert cached_targets(uri, 2, edited) is None


def test_find_targets_async_runs_large_texts_in_a_thread() -> None:
    big = "\n\n".join(f"def f{i}(x):\n    return x\n" for i in range(2000)) + "\n\n" + STUB
    assert len(big) >= spec.OFFLOOP_CHARS
    result = asyncio.run(find_targets_async("file:///tmp/big.py", 7, big))
    assert [t.qualname for t in result.targets] == ["area"]
    assert result.targets == find_targets(big).targets
    forget_document("file:///tmp/big.py")


def test_context_async_wrappers_give_the_same_answers(tmp_path: Path) -> None:
    (tmp_path / "geo.py").write_text(STUB)
    (tmp_path / "test_geo.py").write_text("from geo import area\n\ndef test_area():\n    assert area(1, 1) == 1\n")
    target = find_targets(STUB).targets[0]
    path = tmp_path / "geo.py"
    sync = build_context(STUB, target, path=path, workspace=tmp_path, max_tokens=500)
    assert asyncio.run(build_context_async(STUB, target, path=path, workspace=tmp_path, max_tokens=500)) == sync
    assert asyncio.run(find_user_tests_async(target, path, tmp_path)) == find_user_tests(target, path, tmp_path)


def test_a_changed_test_file_is_read_again(tmp_path: Path) -> None:
    (tmp_path / "geo.py").write_text(STUB)
    test_file = tmp_path / "test_geo.py"
    test_file.write_text("from geo import area\n\ndef test_area():\n    assert area(1, 1) == 1\n")
    target = find_targets(STUB).targets[0]
    assert [i.rsplit("::", 1)[1] for i in find_user_tests(target, tmp_path / "geo.py", tmp_path)] == ["test_area"]
    test_file.write_text("from geo import area\n\ndef test_area_two():\n    assert area(1, 2) == 2\n")
    stamp = time.time() + 5
    os.utime(test_file, (stamp, stamp))
    assert [i.rsplit("::", 1)[1] for i in find_user_tests(target, tmp_path / "geo.py", tmp_path)] == ["test_area_two"]


def test_a_new_test_file_is_seen_once_the_scan_expires(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "geo.py").write_text(STUB)
    target = find_targets(STUB).targets[0]
    assert find_user_tests(target, tmp_path / "geo.py", tmp_path) == []
    (tmp_path / "test_geo.py").write_text("from geo import area\n\ndef test_area():\n    assert area(1, 1) == 1\n")
    monkeypatch.setattr(testfiles, "SCAN_TTL", 0.0)
    assert len(find_user_tests(target, tmp_path / "geo.py", tmp_path)) == 1


def test_parallel_jobs_on_one_text_parse_the_module_once(tmp_path: Path, monkeypatch) -> None:
    helpers = "".join(f"\ndef helper_{i}(a, b=2):\n    return a * b + {i}\n\n" for i in range(300))
    source = helpers + STUB + "\n\n" + STUB.replace("area", "volume")
    targets = find_targets(source).targets
    parses = []
    real = needs._parse
    monkeypatch.setattr(needs, "_parse", lambda text: parses.append(len(text)) or real(text))
    texts = [build_context(source, t, path=tmp_path / "m.py", workspace=tmp_path, max_tokens=400) for t in targets]
    assert len(parses) == 1
    assert all("# elsewhere in the module" in text for text in texts)
    assert "<area: the function to implement>" in texts[0] and "<volume: the function to implement>" in texts[1]
