"""Malformed ``workspace/executeCommand`` requests: each is answered with a one-line
JSON-RPC error (invalid params) that says which argument is missing or wrong, and
nothing is logged as a traceback, neither on the server's stderr nor as
``window/logMessage``."""

from __future__ import annotations

import asyncio

import pytest
from pygls.exceptions import JsonRpcException

from lsp_editor import start_editor

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")

INVALID_PARAMS = -32602

# (command, arguments as sent, what the error message says)
BAD = [
    ("specloop.generate", [{}], "specloop.generate: missing argument 'uri' (one object: {uri, target})"),
    ("specloop.generate", [42], "specloop.generate: the argument must be one object {uri, target}, not int"),
    ("specloop.generate", [{"uri": "file:///x.py"}],
     "specloop.generate: missing argument 'target' (one object: {uri, target})"),
    ("specloop.generate", [{"uri": 7, "target": "area"}],
     "specloop.generate: argument 'uri' must be a string, not int"),
    ("specloop.generateAll", [], "specloop.generateAll: missing argument 'uri' (one object: {uri})"),
    ("specloop.fix", [{"uri": "file:///x.py", "target": "area"}],
     "specloop.fix: missing argument 'id' (one object: {uri, target, id})"),
    ("specloop.dismiss", ["file:///x.py", "area", "id"],
     "specloop.dismiss: the argument must be one object {uri, id}, not 3 arguments"),
    ("specloop.generate", [{"uri": "file:///no/such/file.py", "target": "area"}],
     "specloop.generate: /no/such/file.py: No such file or directory"),
    ("specloop.applyResult", [["a", "b"]],
     "specloop.applyResult: the argument must be one object {uri, target}, not list"),
    ("specloop.recheck", [{"target": "area"}],
     "specloop.recheck: missing argument 'uri' (one object: {uri, target})"),
    ("specloop.cancel", [{"uri": 3}], "specloop.cancel: argument 'uri' must be a string, not int"),
]


@pytest.fixture
async def vscode(tmp_path):
    client = await start_editor("visual-studio-code", tmp_path)
    yield client
    await client.shutdown_session()
    await client.stop()


async def test_malformed_commands_get_a_one_line_error_and_no_traceback(vscode, capfd):
    for command, arguments, message in BAD:
        with pytest.raises(JsonRpcException) as caught:
            await vscode.command(command, *arguments)
        assert caught.value.code == INVALID_PARAMS, (command, arguments, caught.value)
        assert caught.value.message == message
        assert "\n" not in caught.value.message and not caught.value.data
    # the server still works, and positional (uri, target) arguments are still taken
    assert await vscode.command("specloop.cancel") == {"cancelled": []}
    assert await vscode.command("specloop.cancel", "file:///nothing.py", "area") == {"cancelled": []}
    await asyncio.sleep(0.5)        # let the server's stderr reach this process
    err = capfd.readouterr().err
    assert "Traceback" not in err and "KeyError" not in err, err
    assert "specloop WARNING pygls.protocol.json_rpc: specloop.generate: missing argument 'uri'" in err, err
    logged = [m.message for m in vscode.log_messages]
    assert not any("Traceback" in m or "KeyError" in m for m in logged), logged


def test_a_kept_results_file_name_is_safe(tmp_path):
    """"Show the best attempt" and "Show the diff" of a module spec ("module spec (line 5)"):
    no spaces or parentheses in the file name, the same file `specloop run` saves."""
    from specloop.lsp.apply import result_path
    from specloop.lsp.pending import Pending
    from specloop.results import JobResult
    from specloop.settings import Settings
    from specloop.source.writeback import attempt_path

    pending = Pending(uri=(tmp_path / "words.py").as_uri(), result=JobResult(name="module spec (line 5)",
                      status="failed"), settings=Settings(), workspace=tmp_path, path=tmp_path / "words.py")
    path = result_path(pending)
    assert path == tmp_path / ".specloop" / "results" / "words.module_spec_line_5_.py"
    assert path == attempt_path(tmp_path, tmp_path / "words.py", "module spec (line 5)")
    assert path.with_suffix(".diff").name == "words.module_spec_line_5_.diff"
