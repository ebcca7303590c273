"""What every model call shares, the summarising engine's and the LLM judge's (`pipeline.rank.judge`):

- `bounded_client`: instructor over the engine's bounded HTTP client (`transport`: 8 MB an answer, after
  decompression), on the openai SDK path (``openai/`` models) or litellm's;
- `ask`: one paper's structured answer within a wall-clock deadline a dripping server cannot extend, its transient
  faults retried with backoff that honours Retry-After;
- `tokens_spent`: the one budget rule for the tokens an answer reports (whole counts, never below 0, estimated
  from the text when absent or absurd), so no answer can make a spend smaller or stop ``--max-cost`` stopping;
- `failure_text`: the one text of a failed call (redacted, control characters removed, bounded), which is all of
  the server's words that ever reach a report or a terminal.

Nothing here imports litellm, instructor or openai at module level.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from typing import Any

from pipeline.engines.failures import outside_schema, retry_after, root_cause, slots_full, transient
from pipeline.engines.prompting import CHARS_PER_TOKEN
from pipeline.errors import printable, redact

MAX_REPORTED_TOKENS = 10_000_000  # more than any model's context: a count past it is not believed
MAX_FAILURE_CHARS = 1500
_MAX_BACKOFF_S = 60.0
_MAX_SLOT_WAITS = 6000  # 20-50 ms each: a paper waits at most a few minutes for a free endpoint slot


def _count(value: Any) -> int | None:
    """A token count as reported, when it is one: a whole number from 0 to `MAX_REPORTED_TOKENS`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < 0 or value > MAX_REPORTED_TOKENS or value != int(value):
        return None
    return int(value)


def estimate_tokens(text: str) -> int:
    """Tokens of ``text``, over-estimated from its characters (0 for no text)."""
    return len(text) // CHARS_PER_TOKEN + 1 if text else 0


def tokens_spent(usage: Any, sent: str, answer: str) -> tuple[int, int]:
    """Input and output tokens of an exchange, for its price and the budget: the server's counts where they are
    counts; where one is absent, negative, fractional, not a number or past belief, the estimate from the text
    sent (``sent``) or answered (``answer``)."""
    prompt = _count(getattr(usage, "prompt_tokens", None))
    completion = _count(getattr(usage, "completion_tokens", None))
    return (
        estimate_tokens(sent) if prompt is None else prompt,
        estimate_tokens(answer) if completion is None else completion,
    )


def text_of(messages: list[dict[str, Any]]) -> str:
    """The text of chat messages, for `tokens_spent`'s estimate."""
    return "\n".join(str(m.get("content") or "") for m in messages)


def failure_text(cause: BaseException, mode: str = "", limit: int = MAX_FAILURE_CHARS) -> str:
    """What a failed call says, wherever it is shown: the error's type and message with its innermost cause,
    secrets redacted, control characters (terminal escapes, bidi overrides) removed, at most ``limit``
    characters, then the advice for an answer outside the schema."""
    advice = outside_schema(mode, cause) if mode else ""
    text = printable(redact(f"{type(cause).__name__}: {cause}{root_cause(cause)}"))
    return text[: max(0, limit - len(advice))] + advice


def paper_deadline(settings: Any) -> float:
    """Seconds one paper's answer and its re-asks may take in all, however the server sends them."""
    return float(settings.timeout_s) * (settings.max_retries + 1) + 5


class CallFailed(Exception):
    """A paper's call gave no usable answer: `failure_text`, the attempts made, what they reported spending, and
    whether the paper's deadline passed (a server that drips would only drip again: not retried)."""

    def __init__(self, message: str, *, attempts: int, usage: Any, deadline: bool = False) -> None:
        super().__init__(message)
        self.message, self.attempts, self.usage, self.deadline = message, attempts, usage, deadline


async def ask(
    client: Any,
    *,
    messages: list[dict[str, Any]],
    response_model: Any,
    settings: Any,
    mode: str,
    kwargs: dict[str, Any],
    on_attempt: Callable[[], None] | None = None,
) -> tuple[Any, Any]:
    """The validated answer and its completion for one paper, or `CallFailed`. Each attempt must finish within
    `paper_deadline` of wall-clock time (an answer sent a byte at a time is cut there, and that paper is given
    up); a 429, 5xx or timeout is retried ``request_retries`` times with backoff that honours Retry-After; every
    endpoint slot in use waits without spending a retry."""
    from instructor.core import InstructorRetryException

    attempt = full = 0
    deadline = paper_deadline(settings)
    while True:
        attempt += 1
        if on_attempt is not None:
            on_attempt()
        try:
            return await asyncio.wait_for(
                client.chat.completions.create_with_completion(
                    messages=messages, response_model=response_model, max_retries=settings.max_retries, **kwargs
                ),
                timeout=deadline,
            )
        except TimeoutError as exc:  # the wall-clock deadline, not a request's own timeout (retried below)
            raise CallFailed(
                f"no answer within the paper's deadline of {deadline:g} s (timeout_s x (max_retries + 1) + 5)",
                attempts=attempt,
                usage=None,
                deadline=True,
            ) from exc
        except Exception as exc:
            cause = exc.__cause__ if isinstance(exc, InstructorRetryException) else exc
            cause = cause or exc
            if slots_full(cause) and full < _MAX_SLOT_WAITS:
                full += 1
                attempt -= 1
                await asyncio.sleep(0.02 + 0.03 * random.random())
                continue
            if transient(cause) and attempt <= settings.request_retries:
                wait = retry_after(cause)
                if wait is None:
                    wait = min(_MAX_BACKOFF_S, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random())
                await asyncio.sleep(min(wait, _MAX_BACKOFF_S))
                continue
            raise CallFailed(
                failure_text(cause, mode),
                attempts=getattr(exc, "n_attempts", attempt),
                usage=getattr(exc, "total_usage", None),
            ) from exc


def direct_client(sdk: Any, mode: Any, wrap: Callable[[Any], Any] | None = None) -> Any:
    """instructor over the openai SDK ``sdk`` (made on the bounded HTTP client), posting through
    `clients.chat_poster`; ``wrap`` wraps the poster (the engine counts requests)."""
    import instructor

    from pipeline.engines.clients import chat_poster

    create = chat_poster(sdk)
    return instructor.AsyncInstructor(
        client=sdk, create=instructor.patch(create=wrap(create) if wrap else create, mode=mode), mode=mode
    )


def openai_sdk(api_base: str | None, http: Any) -> Any:
    """The openai SDK's async client on the bounded HTTP client ``http``; retries are `ask`'s."""
    import os

    import openai

    return openai.AsyncOpenAI(
        base_url=api_base or None,
        api_key=os.environ.get("OPENAI_API_KEY") or ("no-key-needed" if api_base else None),
        max_retries=0,
        http_client=http,
    )
