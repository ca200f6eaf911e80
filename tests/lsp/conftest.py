"""The ``editor`` fixture: one server per client persona for a test module
(see ``lsp_editor`` for the client)."""

from __future__ import annotations

from typing import Any

import pytest_asyncio

from lsp_editor import CLIENTS, start_editor


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=CLIENTS)
async def editor(request: Any, tmp_path_factory: Any):
    client = await start_editor(request.param, tmp_path_factory.mktemp("ws"))
    yield client
    await client.shutdown_session()
    await client.stop()
