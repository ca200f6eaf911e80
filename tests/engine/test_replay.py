"""Record and replay (issue 12 point 7): `specloop run --record DIR` against the scripted model
over HTTP, then `--replay DIR` with the model gone; and the recording store on its own."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from replies import critic, fenced
from specloop.model import prompts
from specloop.model.client import ModelClient, ModelError, Sample
from specloop.model.replay import Exchanges, ReplayMiss, request_hash
from specloop.results import Usage
from specloop.settings import Settings, SettingsError, load_settings
from cli_run import cli_env, specloop
from test_cli import BAD, GOOD, STUB

STABLE = ("name", "status", "iterations", "tests", "findings", "tokens", "cost_usd", "error")
MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Implement area(w, h)."}]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    return tmp_path


def stable(report: dict) -> list[dict]:
    return [{k: t[k] for k in STABLE} for t in report["targets"]]


def test_recorded_run_replays_without_a_model_and_fails_clearly_on_a_new_request(scripted_model, project):
    path = project / "geometry.py"
    path.write_text(STUB, encoding="utf-8")
    scripted_model.add("generate", fenced(BAD))
    scripted_model.add("fix", fenced(GOOD))
    scripted_model.add("critic", critic("approve"))
    env = cli_env(scripted_model.url, SPECLOOP_CRITIC="true")

    recorded = specloop("run", "geometry.py", "--json", "--record", "recordings", env=env, cwd=project)
    assert recorded.returncode == 0, recorded.stderr
    written = path.read_bytes()
    assert written == (STUB + "    return w * h\n").encode()
    report = json.loads(recorded.stdout)
    assert report["targets"][0]["iterations"] == 2 and report["targets"][0]["tokens"]["prompt"] > 0
    asked = len(scripted_model.requests)
    files = sorted((project / "recordings").glob("*.json"))
    assert len(files) == asked == 3
    exchanges = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    assert sorted(e["step"] for e in exchanges) == ["critic", "fix", "generate"]
    for f, e in zip(files, exchanges):
        assert {"format", "step", "target", "request", "model", "temperature", "seed", "messages", "reply",
                "cached", "usage"} <= set(e)
        assert e["target"] == "area" and e["model"] == "openai/scripted" and e["cached"] is False
        assert f.name == f"area.{e['step']}.{e['request'][:20]}.json"
    total = {"prompt": sum(e["usage"]["prompt"] for e in exchanges),
             "completion": sum(e["usage"]["completion"] for e in exchanges)}
    assert total == report["targets"][0]["tokens"]

    # the model is gone: its port is closed, so any request would fail
    scripted_model.stop()
    path.write_text(STUB, encoding="utf-8")
    replayed = specloop("run", "geometry.py", "--json", "--replay", "recordings", env=env, cwd=project)
    assert replayed.returncode == 0, replayed.stderr
    assert path.read_bytes() == written
    assert stable(json.loads(replayed.stdout)) == stable(report)
    assert len(scripted_model.requests) == asked

    # a spec edited since the recording asks another question: the job ends in error, nothing written
    edited = STUB.replace("Area of a w×h rectangle.", "Area of a w by h rectangle.")
    path.write_text(edited, encoding="utf-8")
    missed = specloop("run", "geometry.py", "--replay", "recordings", env=env, cwd=project)
    assert missed.returncode == 1, missed.stderr
    assert "! area   error" in missed.stdout
    assert ("reason: replay: no recorded reply for step=generate target=area (request " in missed.stderr
            and f"record again with --record {project / 'recordings'}" in missed.stderr), missed.stderr
    assert path.read_text(encoding="utf-8") == edited
    missed_json = specloop("run", "geometry.py", "--json", "--replay", "recordings", env=env, cwd=project)
    (target,) = json.loads(missed_json.stdout)["targets"]
    assert target["status"] == "error" and target["error"].startswith("replay: no recorded reply for step=generate")
    assert target["tokens"] == {"prompt": 0, "completion": 0}


def test_record_and_replay_flags_exclude_each_other(project):
    (project / "geometry.py").write_text(STUB, encoding="utf-8")
    proc = specloop("run", "geometry.py", "--record", "a", "--replay", "b", env=cli_env("http://127.0.0.1:9/v1"),
                    cwd=project)
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr


def test_flag_and_a_project_setting_of_the_other_kind_is_a_settings_error(project):
    (project / "pyproject.toml").write_text("[project]\nname = 'demo'\n[tool.specloop]\nreplay_dir = 'recorded'\n")
    (project / "geometry.py").write_text(STUB, encoding="utf-8")
    proc = specloop("run", "geometry.py", "--record", "rec", env=cli_env("http://127.0.0.1:9/v1"), cwd=project)
    assert proc.returncode == 2
    assert "record_dir and replay_dir are both set" in proc.stderr and "a run either records or replays" in proc.stderr


# -- the store and the client, in process ------------------------------------------------------

def test_store_round_trip_repeats_and_the_miss_message(tmp_path):
    store = Exchanges(tmp_path / "rec", "record", model="openai/m", target="Shape.area")
    sample = Sample(0.2)
    first = store.record("generate", MESSAGES, sample, "one", Usage(10, 2, 0.001, 1))
    again = store.record("generate", MESSAGES, sample, "two", Usage(11, 3, 0.0, 1))
    digest = request_hash("generate", "Shape.area", "openai/m", MESSAGES, sample)
    assert first.name == f"Shape.area.generate.{digest[:20]}.json"
    assert again.name == f"Shape.area.generate.{digest[:20]}.2.json"
    stored = json.loads(first.read_text(encoding="utf-8"))
    assert stored["messages"] == MESSAGES and stored["reply"] == "one" and stored["request"] == digest
    assert stored["usage"] == {"prompt": 10, "completion": 2, "cost_usd": 0.001, "calls": 1}

    replay = Exchanges(tmp_path / "rec", "replay", model="openai/m", target="Shape.area")
    assert [replay.replay("generate", MESSAGES, sample).reply for _ in range(3)] == ["one", "two", "two"]
    assert replay.replay("generate", MESSAGES, Sample(0.2)).usage == Usage(11, 3, 0.0, 1)

    other = Exchanges(tmp_path / "rec", "replay", model="openai/m", target="Shape.area")
    for step, messages, sample_, model in (("fix", MESSAGES, sample, "openai/m"),
                                           ("generate", MESSAGES[:1], sample, "openai/m"),
                                           ("generate", MESSAGES, Sample(0.2, seed=7), "openai/m"),
                                           ("generate", MESSAGES, sample, "openai/other")):
        other.model = model
        with pytest.raises(ReplayMiss) as miss:
            other.replay(step, messages, sample_)
        assert isinstance(miss.value, ModelError) and miss.value.kind == "config"
        digest = request_hash(step, "Shape.area", model, messages, sample_)
        assert str(miss.value) == (f"replay: no recorded reply for step={step} target=Shape.area "
                                   f"(request {digest[:12]}…) in {tmp_path / 'rec'}; "
                                   f"record again with --record {tmp_path / 'rec'}")


def test_a_hand_edited_recording_is_refused(tmp_path):
    store = Exchanges(tmp_path, "record", model="openai/m", target="area")
    path = store.record("generate", MESSAGES, Sample(0.2), "one", Usage(1, 1, 0.0, 1))
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "request": "0" * 64}), encoding="utf-8")
    with pytest.raises(ReplayMiss, match="does not hold this request"):
        Exchanges(tmp_path, "replay", model="openai/m", target="area").replay("generate", MESSAGES, Sample(0.2))
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ReplayMiss, match="unreadable"):
        Exchanges(tmp_path, "replay", model="openai/m", target="area").replay("generate", MESSAGES, Sample(0.2))


def test_settings_both_set_is_an_error_naming_where_each_came_from(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.specloop]\nrecord_dir = 'rec'\n", encoding="utf-8")
    with pytest.raises(SettingsError) as both:
        load_settings(tmp_path, {"replay_dir": "rep"}, env={})
    assert str(both.value) == (f"record_dir and replay_dir are both set (record_dir from {tmp_path / 'pyproject.toml'}, "
                               "replay_dir from command-line flags): a run either records or replays")
    with pytest.raises(SettingsError, match=r"record_dir from the environment \(SPECLOOP_\*\), replay_dir from the "
                                            r"environment"):
        load_settings(None, env={"SPECLOOP_RECORD_DIR": "a", "SPECLOOP_REPLAY_DIR": "b"})
    with pytest.raises(ModelError, match="both set"):   # settings made without load_settings: the client refuses
        ModelClient(Settings(model="openai/m", record_dir="a", replay_dir="b"), target="area")


def test_recording_folders_are_relative_to_the_workspace(tmp_path):
    assert load_settings(tmp_path, env={"SPECLOOP_RECORD_DIR": "rec"}).record_dir == str(tmp_path / "rec")
    assert load_settings(tmp_path, {"replay_dir": "/abs/rep"}, env={}).replay_dir == "/abs/rep"
    assert load_settings(None, {"replay_dir": "rep"}, env={}).replay_dir == "rep"
    assert load_settings(tmp_path, env={"SPECLOOP_RECORD_DIR": ""}).record_dir is None


def test_client_records_cache_hits_and_replays_the_same_usage(scripted_model, model_env, tmp_path):
    scripted_model.add("generate", fenced(GOOD))
    recording, cache = tmp_path / "rec", tmp_path / "cache"

    def parse(reply: str) -> str:
        return prompts.parse_code(reply, "area")

    async def run(**values) -> tuple[str, Usage, ModelClient]:
        client = ModelClient(Settings(**model_env, max_retries=0, **values), target="area", cache_dir=cache)
        code = await client.complete("generate", MESSAGES, parse)
        return code, client.usage, client

    code, real, _ = asyncio.run(run(record_dir=str(recording), cache=True))
    code_hit, hit, _ = asyncio.run(run(record_dir=str(tmp_path / "rec2"), cache=True))
    assert len(scripted_model.requests) == 1 and code_hit == code and hit == Usage()
    (cached,) = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "rec2").glob("*.json")]
    assert cached["cached"] is True and cached["usage"]["prompt"] == 0

    scripted_model.stop()
    again, usage, client = asyncio.run(run(replay_dir=str(recording), cache=True))
    assert again == code and usage == real and usage.calls == 1 and client.requests == 0
    assert len(scripted_model.requests) == 1
    _, usage, _ = asyncio.run(run(replay_dir=str(tmp_path / "rec2")))
    assert usage == Usage()
