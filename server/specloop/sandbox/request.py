"""What is asked of the sandbox: a request (a candidate, the tests that judge it) and the plan of
one run made from it (:meth:`runs.Sandbox._plan`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass
class TestFile:
    __test__ = False  # not a pytest test class
    name: str            # file name written into the run folder, e.g. "test_doctests.py"
    content: str         # a pytest test module
    authoritative: bool  # True: doctests and user's tests; False: model-written (advisory)
    doctest: str | None = None  # doctest text whose outputs are checked outside the run


@dataclass
class SandboxRequest:
    module_path: Path          # the user's .py file on disk (absolute); never written
    candidate_source: str      # the whole module text with the candidate function in place
    workspace: Path            # workspace root
    tests: list[TestFile] = field(default_factory=list)
    user_tests: list[str] = field(default_factory=list)  # "ABS/test_x.py::test_name" (authoritative)
    # judged by value: the module as the judge imports it (the targets as written, stubs) and
    # the targets ("f", "Class.method") whose calls go to the candidate's process; None: the
    # candidate runs in the test process (judged in-process)
    judge_source: str | None = None
    targets: tuple[str, ...] = ()
    module_names: bool = False   # a module spec: tests may use any top-level name it adds (then only functions cross)
    # a candidate the static policy does not flag: an authoritative test that fails by value is
    # judged again in-process, and counts as passed there if it passes (``judged="in-process"``)
    in_process_fallback: bool = False


@dataclass
class Plan:
    """One run as the workers get it (``request``) and what its verdicts are decided with."""

    request: dict
    token: str
    marker: str
    files: dict[str, TestFile]      # name -> file
    user_ids: list[str]
    missing: list[str]
    left_out: list[str] = field(default_factory=list)   # user tests beyond MAX_USER_TESTS: not run (see Sandbox.run)
    optionflags: list[str] = field(default_factory=list)   # the project's doctest_optionflags
    skipped_anyway: frozenset[str] = frozenset()   # user tests skipped with the stub too: not counted
    candidate: dict | None = None   # the candidate's side of a run judged by value


def in_process(req: SandboxRequest, **changes) -> SandboxRequest:
    """``req`` judged in-process (the candidate inside pytest), with ``changes``."""
    return replace(req, judge_source=None, targets=(), in_process_fallback=False, **changes)
