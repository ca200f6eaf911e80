"""Secrets out of prompts and traces: the patterns (hostile and benign), exact
environment values, nested data, and the trace file."""

from __future__ import annotations

import json

import pytest

from specloop import redact as redact_module
from specloop.redact import REDACTED, known_secrets, redact, redact_text, register_secret
from specloop.trace import Trace

AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
OPENSSH = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
           "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
           "QyNTUxOQAAACDsRzQ1xQmZbJ3yFakeFakeFakeFakeFakeFakeFakeFakeAAAAJg=\n"
           "-----END OPENSSH PRIVATE KEY-----")
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
       ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")


@pytest.fixture(autouse=True)
def fresh_secrets(monkeypatch):
    """No registered values leak between tests; the env cache is re-read around each."""
    monkeypatch.setattr(redact_module, "_registered", set())
    known_secrets(refresh=True)
    yield
    monkeypatch.undo()
    known_secrets(refresh=True)


# -- shapes: hostile ----------------------------------------------------------

@pytest.mark.parametrize("secret", [
    OPENSSH,
    OPENSSH.replace("OPENSSH", "RSA"),
    OPENSSH.replace("OPENSSH", "EC"),
    OPENSSH.replace("OPENSSH", "DSA"),
    OPENSSH.replace("OPENSSH ", ""),
    OPENSSH.replace("OPENSSH", "ENCRYPTED"),
    "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n"
    "MIIEowIBAAKCAQEA7vbqajDw4o6gJy8UtmIbkcpnkO3Kwc4qsEnSZp/TR+fQi62F\n-----END RSA PRIVATE KEY-----",
    AWS_ID,
    "ASIAY34FZKBOKMUTVV7A",
    "ghp_" + "a1B2c3D4e5" * 4,
    "gho_" + "Z9y8X7w6V5" * 4,
    "ghs_" + "Q1w2E3r4T5" * 4,
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
    "sk-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" + "0" * 16,
    "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zT3BlbkFJ",
    "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z-AAAAAA",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "xoxp-123456789012-abcdefghij",
    "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    JWT,
])
@pytest.mark.parametrize("around", ["{}", "print: {} (done)", "actual: '{}'", "x = {}\nnext line"])
def test_shaped_secrets_are_redacted(secret, around):
    text = around.format(secret)
    out = redact_text(text)
    assert secret not in out and REDACTED in out
    assert out.split(REDACTED)[0] == around.split("{}")[0]          # what came before stays


def test_pem_in_a_repr_and_a_truncated_pem():
    in_repr = repr(OPENSSH)                                         # literal \n escapes, as pytest shows it
    assert redact_text(f"assert {in_repr} == ''") == f"assert '{REDACTED}' == ''"
    cut = OPENSSH[:150]                                              # clipped: no END line
    assert redact_text("leaked: " + cut) == "leaked: " + REDACTED
    assert redact_text("leaked: " + cut + "...") == "leaked: " + REDACTED
    assert redact_text(OPENSSH + "\nafter") == REDACTED + "\nafter"


@pytest.mark.parametrize("text, expected", [
    (f"aws_secret_access_key = {AWS_SECRET}", "aws_secret_access_key = [redacted]"),
    (f"[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key={AWS_SECRET}\n",
     "[default]\naws_access_key_id = [redacted]\naws_secret_access_key=[redacted]\n"),
    (f'{{"SecretAccessKey": "{AWS_SECRET}", "AccessKeyId": "{AWS_ID}"}}',
     '{"SecretAccessKey": "[redacted]", "AccessKeyId": "[redacted]"}'),
    ("Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer [redacted]"),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNz' https://x", "curl -H 'Authorization: Basic [redacted]' https://x"),
    ('{"authorization": "Bearer tok123"}', '{"authorization": "Bearer [redacted]"}'),
    ("sent bearer 9f8e7d6c5b4a3f2e1d0c", "sent bearer [redacted]"),
    ("machine api.github.com login octocat password s3cr3t-PW!",
     "machine api.github.com login octocat password [redacted]"),
    ("machine h password hunter2 login bob", "machine h password [redacted] login bob"),
    ("DB_PASSWORD=letmein\nDEBUG=1", "DB_PASSWORD=[redacted]\nDEBUG=1"),
    ("export GITHUB_TOKEN=abcdef", "export GITHUB_TOKEN=[redacted]"),
    ("'X=1\\nAPI_SECRET=letmein\\n'", "'X=1\\nAPI_SECRET=[redacted]\\n'"),
    ("SECRET_KEY = 'django-insecure-x1'", "SECRET_KEY = '[redacted]'"),
    ("[db]\npassword = s3cr3t!\nuser = bob", "[db]\npassword = [redacted]\nuser = bob"),
    ("password: hunter2", "password: [redacted]"),
    ("passwd=abc123def", "passwd=[redacted]"),
    ("?access_token=abc123xyz&page=2", "?access_token=[redacted]"),
    ("client_secret = \"letmein\"", "client_secret = \"[redacted]\""),
    ("credentials='user:pw'", "credentials='[redacted]'"),
    ('password = "[x(y{z"', 'password = "[redacted]"'),
    ("git clone https://bob:hunter2@github.com/o/r.git", "git clone https://bob:[redacted]@github.com/o/r.git"),
    ("postgres://app:p%40ss@db:5432/x", "postgres://app:[redacted]@db:5432/x"),
    ("url=https://u:pw@host/", "url=https://u:[redacted]@host/"),
])
def test_labelled_secrets_keep_their_label(text, expected):
    assert redact_text(text) == expected


def test_a_long_value_is_redacted_whole():
    assert redact_text("password=" + "a1" * 3000 + " tail") == "password=[redacted] tail"


# -- shapes: benign -----------------------------------------------------------

@pytest.mark.parametrize("text", [
    "def get_token():\n    return os.environ['SERVICE_TOKEN']\n\ntoken = get_token()\n",
    "def f(token: str, api_key: Optional[str] = None, password: Password = None) -> None:\n"
    "    connect(password=user_password, token=token, api_key=self.api_key)\n",
    "sorted(xs, key=len)\nsorted(xs, key=str.lower)\nmax(d, key=lambda k: d[k])\nfor key, value in d.items(): ...",
    "token = await fetch_token()\npassword = input('pw: ')\nsecret = os.environ.get('S')\napi_key = None",
    'print(f"token={token}")\nheaders = {"Authorization": f"Bearer {token}"}\nh = "Bearer " + token',
    'PASSWORD = "${DB_PASSWORD}"\nTOKEN = "<your token>"\npassword = "****"\ncfg["password"] = "%(pw)s"',
    "assert token == 'abc'\nif password != expected: ...\nn := token",
    "Send the header Authorization: Bearer {token} with each request.",
    "max_tokens=100\nMAX_TOKENS = 2048\nnum_tokens: int = 5\ntokenizer = AutoTokenizer.from_pretrained('x')",
    "PRIVATE_KEY_PATH = '/etc/key.pem'\nTOKEN_ENV = 'GITHUB_TOKEN'\npassword_field = 'pw'",
    "task-runner-with-a-really-long-name-here disk-usage-report-2024 ask-me-anything-1234567890",
    "flask-sk-learn-integration-helper-v2 risk-assessment-module-version-2",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b (HEAD -> main)",
    "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "id 123e4567-e89b-12d3-a456-426614174000 and 550E8400-E29B-41D4-A716-446655440000",
    "b64 aGVsbG8gd29ybGQ= eyJhIjoxfQ== dGVzdA== YWJjZGVmZ2hpams=",
    "http://localhost:8080/path?q=1 and https://example.com/a@b",
    "Note: the time is 10:30, a=b, x: y",
    "The Bearer token scheme and basic auth are described in RFC 6750.",
    "E   KeyError: 'OPENAI_API_KEY'\nE   assert 'AKIA' in s",
    "if line == '-----END RSA PRIVATE KEY-----': pass",
    "ValueError: the password is too short",
])
def test_ordinary_code_and_output_stay(text):
    assert redact_text(text) == text


def test_a_begin_line_in_code_keeps_the_code_around_it():
    code = "if text.startswith('-----BEGIN RSA PRIVATE KEY-----'):\n    return parse(text)\n"
    assert redact_text(code) == f"if text.startswith('{REDACTED}'):\n    return parse(text)\n"


def test_redaction_is_idempotent():
    text = f"DB_PASSWORD=x1y2z3w4 {AWS_ID} https://a:b@h {OPENSSH} password = 'x' Bearer abcdefghijk123"
    once = redact_text(text)
    assert redact_text(once) == once


# -- exact values -------------------------------------------------------------

def test_values_of_credential_environment_variables(monkeypatch):
    monkeypatch.setenv("FAKE_SERVICE_TOKEN", "plainword")
    monkeypatch.setenv("MY_API_KEY_V2", "Zq9-Xr8")
    monkeypatch.setenv("ACME_PASSWORD", "tiny")              # too short to redact everywhere
    monkeypatch.setenv("ACME_SECRET", "true")                # too short as well
    monkeypatch.setenv("HOME_DIR_NAME", "plainvalue")        # not named like a credential
    assert "plainword" not in known_secrets()                # cached until refreshed
    secrets = known_secrets(refresh=True)
    assert {"plainword", "Zq9-Xr8"} <= secrets
    assert not {"tiny", "true", "plainvalue"} & secrets
    out = redact_text("got plainword and xZq9-Xr8y; tiny plainvalue")
    assert out == f"got {REDACTED} and x{REDACTED}y; tiny plainvalue"


def test_litellm_provider_variables(monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "AZURE_API_KEY", "HUGGINGFACE_API_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, f"value-of-{name.lower()}")
    known_secrets(refresh=True)
    names = ("OPENAI_API_KEY", "AZURE_API_KEY", "AWS_SESSION_TOKEN")
    out = redact_text(" ".join(f"value-of-{n.lower()}" for n in names))
    assert out == " ".join([REDACTED] * 3)


def test_registered_secret():
    register_secret("short")
    register_secret("from-initialization-options")
    assert "from-initialization-options" in known_secrets()
    assert redact_text("k=from-initialization-options; short") == f"k={REDACTED}; short"


# -- nested data --------------------------------------------------------------

def test_redact_nested_data():
    data = {"api_key": "anything", "headers": {"Authorization": "x"}, "token": "y", "max_tokens": 5,
            "messages": [{"role": "user", "content": f"key {AWS_ID}"}], "pair": ("ok", f"t {JWT}"),
            "n": None, "flag": True, "ratio": 0.5, "tokens": {"prompt": 1}}
    assert redact(data) == {"api_key": REDACTED, "headers": {"Authorization": REDACTED}, "token": REDACTED,
                            "max_tokens": 5, "messages": [{"role": "user", "content": f"key {REDACTED}"}],
                            "pair": ["ok", f"t {REDACTED}"], "n": None, "flag": True, "ratio": 0.5,
                            "tokens": {"prompt": 1}}


def test_trace_file_holds_no_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_SERVICE_TOKEN", "tok-9f8e7d6c5b4a")
    trace = Trace(tmp_path, "area")                        # a job start re-reads the environment
    outcome = {"id": "t::a", "outcome": "failed", "message": f"leaked {OPENSSH}",
               "actual": f"{AWS_ID} aws_secret_access_key={AWS_SECRET} tok-9f8e7d6c5b4a", "expected": None}
    trace.write("tests", outcomes=[outcome], path=tmp_path / "x", note=f"aws_secret_access_key={AWS_SECRET}")
    trace.write("model", messages=[{"role": "user", "content": f"see {outcome['actual']}"}], reply=JWT)
    text = trace.path.read_text()
    for secret in ("BEGIN OPENSSH", "b3BlbnNzaC1rZXkt", AWS_ID, AWS_SECRET, "tok-9f8e7d6c5b4a", JWT):
        assert secret not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["kind"] for r in records] == ["tests", "model"] and records[0]["outcomes"][0]["id"] == "t::a"


# -- large inputs (speed is measured under bench/; a runaway is stopped by pytest-timeout) --

def test_100_kb_without_secrets_comes_back_unchanged():
    chunk = ("def area(w, h):\n    token = get_token()  # key=len\n    return w * h\n"
             "E   assert 3 == 4 where x=1, y: 2 at 10:30 https://example.com/a\n")
    text = (chunk * (100_000 // len(chunk) + 1))[:100_000]
    assert redact_text(text) == text
    assert redact_text("x=" * 50_000) == "x=" * 50_000         # 50,000 key-like prefixes, no value
