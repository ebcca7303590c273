"""The project's one exception hierarchy.

Every error a user can act on derives from :class:`SummarizeError`; the CLI turns it into a one-line
message and an exit code, and tests catch the precise subclass.
"""

from __future__ import annotations

import re


class SummarizeError(Exception):
    """Base class: something the user can fix or should know about."""

    exit_code = 1


class ConfigError(SummarizeError):
    """A setting is unknown or invalid (names the file and the key)."""

    exit_code = 2


class CacheBusyError(ConfigError):
    """Another process holds the cache's lock past the wait: the run stops, and the cache is left as it is."""

    exit_code = 4


class InputError(SummarizeError):
    """An input file (or one line of it) cannot be read as papers."""

    exit_code = 2

    def __init__(self, message: str, *, path: str = "", line: int | None = None, title: str = "") -> None:
        self.path = path
        self.line = line
        self.title = title  # the paper's title, when the line got that far
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")
        self.reason = message


class FetchError(SummarizeError):
    """A remote source could not be fetched (names the URL and the HTTP status)."""

    exit_code = 3

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(message)


class EngineError(SummarizeError):
    """An engine could not produce a valid summary for one paper."""

    def __init__(self, message: str, *, paper_id: str = "", attempts: int = 0) -> None:
        self.paper_id = paper_id
        self.attempts = attempts
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        super().__init__(message)


class BudgetExceeded(SummarizeError):
    """The run's spend reached ``--max-cost``; papers not dispatched are recorded as not done."""


class CorpusError(SummarizeError):
    """The existing corpus could not be read or written."""


class NewerCorpusError(CorpusError):
    """The existing corpus was written by a newer summarize (a higher schema version): never rewritten."""

    exit_code = 2


class OutputError(SummarizeError):
    """An output folder or file cannot be written (a file where a folder should be, no permission, disk full)."""

    exit_code = 2


class LockedError(SummarizeError):
    """Another run holds the output folder's lock."""

    exit_code = 4


class ModelFileError(SummarizeError):
    """The embedded engine's weights are missing or do not match the code."""


class Interrupted(SummarizeError):
    """The run was interrupted (Ctrl-C, SIGINT): what was summarised is in the cache, and a rerun resumes from it."""

    exit_code = 130  # 128 + SIGINT, as shells report it


class DeliveryError(SummarizeError):
    """The digest could not be sent on a channel (e-mail, webhook): names the channel and the server's answer."""

    exit_code = 7

    def __init__(self, message: str, *, channel: str = "", answer: str = "") -> None:
        self.channel = channel
        self.answer = answer
        super().__init__(message)


_SECRET_VARIABLES = ("API_KEY", "TOKEN", "SECRET", "PASSWORD")


def redact(text: str) -> str:
    """``text`` with every known secret (by value, any long run of one) and URL userinfo replaced by ***
    (`pipeline.secrets`)."""
    from pipeline.secrets import redact as _redact

    return _redact(text)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """``text`` without control characters (ANSI escapes, bidi overrides, zero-width marks): the one rule for text
    from elsewhere that may reach a terminal (`pipeline.report.terminal_safe` escapes markup on top)."""
    return _CONTROL.sub("", str(text))
