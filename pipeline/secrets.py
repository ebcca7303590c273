"""Secrets never leave the process: every text that goes to a file, the terminal, a report or the cache passes
`redact` first.

Two rules, both applied everywhere:

- **By value.** Every secret this process knows: environment variables whose names say they hold one (``*KEY*``,
  ``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``, ``*CREDENTIAL*``), every variable a setting names (an endpoint's
  ``api_key_env``, such as ``LAB_VLLM_KEY``), and the user/password of every configured URL. Not only the whole
  value: any run of `MIN_RUN` or more characters of one is masked, so a key echoed without its last character (or
  cut in half by a message limit) leaks nothing either.
- **By shape.** The userinfo of any URL that holds a password (``https://user:pw@host`` → ``https://***@host``),
  known or not.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

MIN_RUN = 8  # a run of this many characters of a secret is masked wherever it appears
MASK = "***"
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_NOT_SECRET_NAME = re.compile(r"KEYRING|KEYBOARD|KEYMAP|_PATH$|_FILE$|_DIR$", re.IGNORECASE)
# scheme://user:password@ — the userinfo of a URL that holds a password, whatever URL it is ("ssh://git@host" has
# none and stays as written: a paper's own link must still match its text).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,15}://)[^/\s@:\"'<>]{0,128}:[^/\s@\"'<>]{1,256}@")
# Settings that hold URLs (environment): their userinfo values are secrets too.
_URL_VARIABLES = ("HF_ENDPOINT", "OPENAI_BASE_URL", "OPENAI_API_BASE", "SUMMARIZE_API_BASE", "SUMMARIZE_ARXIV_API")

_lock = threading.Lock()
_names: set[str] = set()  # variables named by settings (api_key_env)
_values: set[str] = set()  # values registered directly (userinfo of configured URLs)
_cache: tuple[tuple[tuple[str, str], ...], frozenset[str], frozenset[str]] | None = None


def register_variables(names: Iterable[str | None]) -> None:
    """Variables whose values are secrets whatever their names (an endpoint's ``api_key_env``)."""
    with _lock:
        _names.update(name for name in names if name)


def register_urls(urls: Iterable[str | None]) -> None:
    """URLs whose user and password are secrets (``--api-base``, an endpoint's ``api_base``)."""
    found: set[str] = set()
    for url in urls:
        found.update(_userinfo_values(url))
    with _lock:
        _values.update(found)


def _userinfo_values(url: str | None) -> set[str]:
    if not url or "@" not in url:
        return set()
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return set()
    raw = parts.netloc.rpartition("@")[0]
    out = {raw, unquote(raw)} if ":" in raw else set()  # "user:password" whole
    if parts.password:  # the password alone; a user name is not a secret (and masking "alice" everywhere hurts)
        out.update({parts.password, unquote(parts.password)})
    return {value for value in out if len(value) >= 6}


def _looks_secret(value: str) -> bool:
    """A value worth masking: long enough, one word, not a path or a flag (a variable *_KEY_FILE=/home/… is not)."""
    return len(value) >= MIN_RUN and not any(c.isspace() for c in value) and not value.startswith(("/", "~", "."))


def secrets() -> frozenset[str]:
    """Every secret value known now (environment read each call: a test or a caller may change it)."""
    environ = tuple(sorted(os.environ.items()))
    global _cache
    with _lock:
        if _cache is not None and _cache[0] == environ and _cache[1] == frozenset(_names | _values):
            return _cache[2]
        found = set(_values)
        for name, value in environ:
            secret_name = _SECRET_NAME.search(name) and not _NOT_SECRET_NAME.search(name)
            if value and (name in _names or (secret_name and _looks_secret(value))):
                found.add(value)
        for name in _URL_VARIABLES:
            found.update(_userinfo_values(os.environ.get(name)))
        result = frozenset(v for v in found if v and v.lower() not in ("true", "false", "none", "null"))
        _cache = (environ, frozenset(_names | _values), result)
        return result


@functools.lru_cache(maxsize=8)
def _runs(secret_values: frozenset[str]) -> tuple[frozenset[str], int]:
    """Every run of `MIN_RUN` characters of the secrets (any longer run of one is a union of these)."""
    grams: set[str] = set()
    for value in secret_values:
        if len(value) < MIN_RUN:
            continue
        grams.update(value[i : i + MIN_RUN] for i in range(len(value) - MIN_RUN + 1))
    return frozenset(grams), MIN_RUN


def redact(text: str) -> str:
    """``text`` with URL userinfo and every run of `MIN_RUN`+ characters of a known secret replaced by ***."""
    if not text:
        return text
    text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text) if "@" in text else text
    values = secrets()
    if not values:
        return text
    for value in sorted(v for v in values if len(v) < MIN_RUN):  # short ones (a userinfo password): whole only
        text = text.replace(value, MASK)
    grams, size = _runs(values)
    if not grams or len(text) < size or not any(gram in text for gram in grams):  # C-speed searches first
        return text
    covered = bytearray(len(text))
    hit = False
    for i in range(len(text) - size + 1):
        if text[i : i + size] in grams:
            covered[i : i + size] = b"\x01" * size
            hit = True
    if not hit:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        if covered[i]:
            while i < len(text) and covered[i]:
                i += 1
            out.append(MASK)
        else:
            j = covered.find(b"\x01", i)
            j = len(text) if j < 0 else j
            out.append(text[i:j])
            i = j
    return "".join(out)


def redact_deep(value: object) -> object:
    """A JSON-like value with every string in it redacted (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k) if isinstance(k, str) else k: redact_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_deep(v) for v in value]
    return value
