"""How a failed request is read: a transient fault to retry (after its Retry-After), every endpoint slot in use
(wait for one), or a failure to report, with its innermost cause and the advice for an answer outside the schema."""

from __future__ import annotations

import asyncio
import sys


def outside_schema(mode: str, cause: BaseException) -> str:
    """What to do when the server's answers never took the schema's shape (empty when they did, or when it is
    something else): the advice the failure's message ends with."""
    text = str(cause)
    if mode == "tools" and "No tool calls or function call found" in text:
        return (
            "; the server answered without calling the Summary tool (it does not force a named tool call): "
            'set mode = "json_schema" (config.toml) or SUMMARIZE_MODE=json_schema'
        )
    if mode == "json_schema" and "response_format" in text and getattr(cause, "status_code", None) in (400, 422):
        return (
            '; the server refused response_format json_schema: set mode = "tools" (config.toml) or SUMMARIZE_MODE=tools'
        )
    if mode != "tools" and ("Invalid JSON" in text or "json_invalid" in text):
        return (
            '; the server\'s answer is not JSON in the schema (it ignored response_format): try mode = "tools" '
            'or mode = "md_json"'
        )
    return ""


def retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def transient(exc: BaseException) -> bool:
    import openai

    kinds: tuple[type[BaseException], ...] = (openai.APIConnectionError, asyncio.TimeoutError)  # + APITimeoutError
    litellm = sys.modules.get("litellm")  # loaded only on the paths that call through it
    if litellm is not None:
        kinds += (
            litellm.RateLimitError,
            litellm.InternalServerError,
            litellm.ServiceUnavailableError,
            litellm.BadGatewayError,
            litellm.Timeout,
            litellm.APIConnectionError,
        )
    if isinstance(exc, kinds):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status == 429 or status >= 500)


def slots_full(exc: BaseException) -> bool:
    """The Router's refusal when every endpoint it may pick has all its ``concurrency`` slots in use."""
    return "max_parallel_requests" in str(exc)


def root_cause(exc: BaseException) -> str:
    """The innermost cause's message when the SDK wrapped it into a vaguer one ("Connection error.")."""
    inner, seen = exc, 0
    while (inner.__cause__ or inner.__context__) is not None and seen < 20:
        inner = inner.__cause__ or inner.__context__  # type: ignore[assignment]
        seen += 1
    text = str(inner)
    return f" ({text})" if inner is not exc and text and text not in str(exc) else ""
