"""Secrets out of prompts and traces.

Test output of a candidate is quoted to the model and traced, and a careless or
hostile candidate may print what it read from files or the environment.
:func:`redact_text` replaces secrets in a string by ``[redacted]`` in two passes:

1. exact values: those of this process's environment variables named like
   credentials (``*_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*_PASSWORD``, ``*API_KEY*``
   and the like, values of 6+ characters; :func:`known_secrets`, computed once
   and cached, refreshed at the start of every job) and values passed to
   :func:`register_secret`;
2. one combined regular expression for secrets known by their shape: PEM
   private key blocks (a block cut off before its END line is redacted up to
   the first character that cannot be part of one), AWS key ids, GitHub,
   OpenAI/Anthropic, Stripe, Slack and Google keys, JWTs, ``Bearer``/``Basic``
   credentials, passwords in URLs and in ``.netrc`` lines, and ``name=value`` /
   ``name: value`` assignments whose name says secret (``password``,
   ``api_key``, ``DB_PASSWORD``, ``"client_secret":``, ``Authorization:``...).

Only the value is replaced: names, quotes, the ``Bearer`` scheme, the user and
host of a URL stay, so redacted code still reads the same.  An assignment
whose value looks like code (``token = get_token()``, ``key=len``,
``api_key: str``, ``password=user_password``, ``f"token={token}"``) is left
alone, and so is a bare identifier value unless it holds a digit or the line
is env style (``DB_PASSWORD=letmein``): ``password = letmein`` passes, the
price of not rewriting ordinary code.  Secrets in other encodings (base64,
reversed, split) are not found.
"""

from __future__ import annotations

import os
import re
from typing import Any

__all__ = ["REDACTED", "redact", "redact_text", "known_secrets", "register_secret"]

REDACTED = "[redacted]"
MIN_SECRET = 6

# -- exact values -------------------------------------------------------------

_ENV_NAME = re.compile(r"(?:_KEY|_TOKEN|_SECRET|_PASSWORD|_PASSWD|_PAT)$|API_?KEY|SECRET_ACCESS|ACCESS_TOKEN", re.I)
_HARMLESS = {"true", "false", "enabled", "disabled", "none", "null"}
_env_secrets: frozenset[str] | None = None
_registered: set[str] = set()
_exact: tuple[frozenset[str], re.Pattern[str] | None] = (frozenset(), None)


def known_secrets(refresh: bool = False) -> frozenset[str]:
    """Secret values to redact wherever they occur: credential-named
    environment variables (cached; ``refresh=True`` re-reads the environment)
    and registered values."""
    global _env_secrets
    if _env_secrets is None or refresh:
        values = (v.strip() for k, v in os.environ.items() if _ENV_NAME.search(k))
        _env_secrets = frozenset(v for v in values if len(v) >= MIN_SECRET and v.lower() not in _HARMLESS)
    return _env_secrets | _registered if _registered else _env_secrets


def register_secret(value: str | None) -> None:
    """Redact ``value`` (an API key from settings, say) from now on."""
    if isinstance(value, str) and len(value.strip()) >= MIN_SECRET:
        _registered.add(value.strip())


def _exact_pattern() -> re.Pattern[str] | None:
    global _exact
    secrets = known_secrets()
    if secrets != _exact[0]:
        ordered = sorted(secrets, key=len, reverse=True)  # the longest first: no half-redacted overlaps
        _exact = (secrets, re.compile("|".join(map(re.escape, ordered))) if ordered else None)
    return _exact[1]


# -- shapes -------------------------------------------------------------------

_PEM_BODY = r"[A-Za-z0-9+/=\\\s:,.-]"      # base64, headers (Proc-Type: 4,ENCRYPTED), "\n" escapes
_PEM_EDGE = r"[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_CAP = 1000                                # longest value matched at once: no quadratic scans
_BARE = r"[^\s'\",;)\]}\\]"                # characters of an unquoted value
_BARE_TAIL = re.compile(_BARE + "*")
_TOKEN = "|".join([
    r"(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])",
    r"gh[pousr]_[A-Za-z0-9]{20,}", r"github_pat_\w{20,}",
    r"sk-(?=[A-Za-z_-]*[0-9])[\w-]{20,}", r"[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",
    r"xox[abposr]-[A-Za-z0-9-]{10,}", r"AIza[\w-]{35}(?![\w-])",
    r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*",     # JWT: header.payload.signature
])
_PATTERN = re.compile("|".join([
    rf"(?P<pem>-----BEGIN{_PEM_EDGE}{_PEM_BODY}*?(?:-----END{_PEM_EDGE}|(?!{_PEM_BODY})))",
    r"(?P<url_head>\b[A-Za-z][\w+.-]*://[^\s/@:'\"]*:)(?P<url_pass>[^\s/@'\"]{1,256})(?=@)",
    rf"(?<![\w-])(?P<token>{_TOKEN})",
    r"(?P<scheme>\b(?i:bearer|basic)\s+)(?P<cred>(?=[\w.~+/-]*\d)[\w.~+/-]{12,}=*)",
    r"(?P<netrc>\b(?:machine|login|account)\s+\S+\s+passw(?:or)?d\s+)(?P<netrc_pass>[^\s'\"\\]+)",
    r"(?:(?<=\\[nrt])|(?<![\w.\\-]))(?P<name>[A-Za-z_][\w.-]*)(?P<op>[\"']?\s*(?::|=(?![=>]))\s*)"
    rf"(?P<value>\"[^\"\n]{{0,{_CAP}}}\"|'[^'\n]{{0,{_CAP}}}'|(?:(?i:bearer|basic|token)\s+)?{_BARE}{{1,{_CAP}}})",
]))

_SECRET_NAME = re.compile(
    r"(?:^|_)(?:token|secret|passw(?:or)?d|passphrase|credentials?|authorization"
    r"|(?:api|access|secret|private|auth|account|master|signing|encryption|session|client)_?key)$")
_ENV_STYLE_NAME = re.compile(
    r"(?:^|_)(?:(?:API|APP|ACCESS|SECRET|PRIVATE|MASTER|SIGNING|ACCOUNT)?KEY|TOKEN|SECRET|PASSWORD|PASSWD"
    r"|CREDENTIALS?)(?:_|$)")
_NOT_VALUE = re.compile(r"[_-](?:path|file|dir|url|uri|id|name|len|length|size|count|type|header|field|env|var)$", re.I)
_CODE = re.compile(r"(?:[A-Za-z_]\w*\.)+[A-Za-z_].*|[A-Za-z_]\w*[(\[].*")  # a.b, f(..., x[...
_CODE_WORDS = {"None", "True", "False", "null", "nil", "true", "false", "lambda", "not", "await", "str", "bytes",
               "int", "bool", "float", "dict", "list", "tuple", "Any", "Optional", "len", "input", "getpass"}
_TEMPLATE = re.compile(r"\$\{?\w+\}?|\{[^{}]*\}|<[^<>]*>|%\(\w+\)s|%s|\.\.\.|[xX*]+|\[redacted\]")
_NOT_BARE_SECRET = re.compile(r"[{<(\[].*|[-+]?\d{1,5}")      # unquoted: {token, (..., [..., 42
_SCHEME = re.compile(r"(?i)(?:bearer|basic|token)\s+")


def _secret_name(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    if _NOT_VALUE.search(last):                        # PRIVATE_KEY_PATH, token_env, password_field
        return False
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", last).lower().replace("-", "_")
    return bool(_SECRET_NAME.search(snake) or (last.isupper() and _ENV_STYLE_NAME.search(last)))


def _hide(name: str, op: str, quoted: bool, schemed: bool, secret: str) -> bool:
    """Whether ``secret``, assigned to the secret-named ``name``, is a value to redact."""
    if not secret or _TEMPLATE.fullmatch(secret):     # ${TOKEN}, {token}, <your key>, %(pw)s, ***
        return False
    if quoted:
        return True
    if _NOT_BARE_SECRET.fullmatch(secret):
        return False
    if schemed:                                        # Authorization: Bearer x
        return True
    if not re.fullmatch(r"\w+", secret):
        return not _CODE.fullmatch(secret)
    if secret in _CODE_WORDS:
        return False
    if op == "=" and name.isupper():                   # env style: DB_PASSWORD=letmein
        return True
    low = secret.lower()                               # a bare word is code unless it holds a digit
    return (len(secret) >= MIN_SECRET and "_" not in secret and any(c.isdigit() for c in secret)
            and not any(w in low for w in ("key", "token", "secret", "pass", "auth")))


def _replacement(m: re.Match[str]) -> str | None:
    """What replaces match ``m``; None for an assignment that is not a secret."""
    kind = m.lastgroup
    if kind in ("pem", "token"):
        return REDACTED
    if kind == "url_pass":
        return m["url_head"] + REDACTED
    if kind == "cred":
        return m["scheme"] + REDACTED
    if kind == "netrc_pass":
        return m["netrc"] + REDACTED
    name, op, value = m["name"], m["op"], m["value"]
    quote = value[0] if value[0] in "\"'" else ""
    inner = value[1:-1] if quote else value
    scheme = _SCHEME.match(inner)
    prefix = scheme.group(0) if scheme else ""
    if _secret_name(name) and _hide(name, op, bool(quote), bool(prefix), inner[len(prefix):]):
        return f"{name}{op}{quote}{prefix}{REDACTED}{quote}"
    return None


def redact_text(text: str) -> str:
    """``text`` with every secret it holds (see the module doc) replaced by ``[redacted]``."""
    if not text:
        return text
    exact = _exact_pattern()
    if exact is not None:
        text = exact.sub(REDACTED, text)
    out: list[str] = []
    pos = 0
    while (m := _PATTERN.search(text, pos)) is not None:
        new = _replacement(m)
        if new is None:                                # not a secret: scan on from its value
            out.append(text[pos:m.start("value")])
            pos = m.start("value")
        else:
            out += (text[pos:m.start()], new)
            pos = m.end()
            if m.lastgroup == "value" and m["value"][0] not in "\"'":   # the rest of a long bare value
                pos = _BARE_TAIL.match(text, pos).end()
    out.append(text[pos:])
    return "".join(out)


# -- JSON-like data -----------------------------------------------------------

_SECRET_FIELD = re.compile(r"(api[_-]?key|secret|password|authorization|bearer|_token$|^token$)", re.I)


def redact(value: Any) -> Any:
    """A copy of JSON-like ``value`` (dicts, lists, tuples, strings) with string
    values under secret-named keys replaced and every string redacted; numbers,
    booleans and None stay, anything else becomes its redacted ``str()``."""
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and isinstance(v, str) and _SECRET_FIELD.search(k)
                    else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact_text(str(value))
