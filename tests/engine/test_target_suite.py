"""The suite of class and module specs (``bench/suite/``) end to end: ``specloop run`` in a
subprocess on each case's file, the scripted model over HTTP answering every step correctly
(plan, each component, critic approve: ``bench/target_suite.py``), then the case's hidden
tests, never shown to the model, run with plain pytest on the file as specloop left it.

Each case must land whole (exit 0, status passed, written) and pass every hidden test.
``test_the_suites_answers_pass_its_hidden_tests`` checks the suite itself: the answers the
scripted model gives pass the hidden tests and their own doctests, so a failure of the
first test is specloop's, not the data's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import target_suite  # noqa: E402

CASES = target_suite.load_cases()


def test_the_suite_has_its_cases():
    kinds = [c.kind for c in CASES]
    assert kinds.count("class") >= 15 and kinds.count("module") >= 10
    assert all(c.hidden_count >= 4 for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_suites_answers_pass_its_hidden_tests(case, tmp_path: Path):
    result = target_suite.check_answers(case, tmp_path)
    assert result["passed"] == result["total"] and result["doctests"], result["failures"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_correctly_answered_spec_lands_and_passes_its_hidden_tests(case, tmp_path: Path):
    row = target_suite.run_case(case, tmp_path, timeout=150)
    cli = "\n".join(row.get("cli") or [])
    assert not row.get("unanswered"), f"steps the scripted model could not answer: {row['unanswered']}\n{cli}"
    assert (row.get("exit"), row.get("status"), row.get("written")) == (0, "passed", True), \
        f"{row.get('error')}\n{cli}"
    hidden = row["hidden"]
    assert hidden["passed"] == hidden["total"], "\n".join(hidden["failures"])
