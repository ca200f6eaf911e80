"""bench/simulated.py on a few specs at one (p, q): the real engine, through litellm, against
the simulated model over HTTP.  The search must end ``passed`` on every spec where a correct
candidate was sampled (read from the job traces), and never pass wrong code."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_simulated():
    spec = importlib.util.spec_from_file_location("bench_simulated", ROOT / "bench" / "simulated.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_simulated", module)
    spec.loader.exec_module(module)
    return module


def test_every_wrong_body_fails_an_example_and_the_correct_one_passes_them() -> None:
    sim = load_simulated()
    specs = sim.build_specs()
    assert len(specs) == 50 and len({s.name for s in specs}) == 50
    for s in specs:
        assert [s.call(s.expr, a) for a in s.examples] == s.results
        assert len(s.wrong) == 3
        for wrong in s.wrong:
            try:
                got = [s.call(wrong, a) for a in s.examples]
            except NameError:
                continue
            assert got != s.results or [type(g) for g in got] != [type(r) for r in s.results], (s.name, wrong)


def test_the_search_finds_a_sampled_correct_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = load_simulated()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    for name in ("SPECLOOP_MODEL", "SPECLOOP_API_BASE", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    specs = sim.build_specs(8)
    base = sim.Settings(model="openai/simulated", sandbox="process", max_retries=0, request_timeout=30,
                        keep_tests=False)
    cell = asyncio.run(sim.run_cell(specs, 0.6, 0.7, base=base, jobs=4, cell_seed=1))
    s = cell["summary"]
    assert cell["unmatched_requests"] == 0
    assert s["sampled_correct"] >= 1 and s["fixable"] >= 1       # the draw exercised both paths
    assert s["found_when_sampled"] == s["sampled_correct"], s["missed"]   # (a)
    assert s["false_passes"] == []
    assert s["fix_prompts"] >= 1 and s["fix_prompts_with_expected"] == s["fix_prompts"]
    assert "| 0.6 | 0.7 |" in sim.markdown({"settings": {**base.model_dump()}, "specs": 8, "date": "2026-12-01",
                                             "cells": [cell]})
