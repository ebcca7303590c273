"""The digest posted to a Slack- or Discord-compatible webhook: one JSON POST, bounded in the answer read back
and in time: ``webhook_timeout_s`` of wall-clock time for the whole exchange (connect, status line, headers, body),
whatever a dripping receiver does. The URL is a secret (its path is the token): messages name only its host."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

import httpx

from pipeline.deliver.deadline import Deadline
from pipeline.deliver.render import plain
from pipeline.errors import DeliveryError
from pipeline.sources.http import USER_AGENT

MAX_ANSWER_BYTES = 64 * 1024
MAX_ANSWER_SHOWN = 500


def host_of(url: str) -> str:
    """What a message may say about the webhook: its host (and port), never the path holding the token."""
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or "?"


def _checked(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise DeliveryError("webhook: the URL must be https://… (a Slack or Discord webhook)", channel="webhook")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise DeliveryError("webhook: the URL holds a space or control character", channel="webhook")
    if parts.scheme == "http":
        try:
            local = parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback
        except ValueError:
            local = False
        if not local:
            raise DeliveryError(
                f"webhook: refusing plain http to {host_of(url)}; the digest goes over https only", channel="webhook"
            )
    return url


def problems(url: str) -> list[str]:
    """What stops the post before any connection (a dry run warns about it)."""
    try:
        _checked(url)
    except DeliveryError as exc:
        return [str(exc)]
    return []


def post(url: str, body: dict[str, Any], timeout_s: float) -> None:
    """POST ``body`` as JSON; any answer but 2xx, no connection, or no whole answer (status line, headers and the
    body read back) within ``timeout_s`` of wall-clock time is a DeliveryError with the answer."""
    url = _checked(url)
    where = f"webhook {host_of(url)}"
    try:
        with Deadline(timeout_s) as deadline:
            try:
                status, answer = _exchange(url, body, deadline)
            except httpx.HTTPError:
                if deadline.expired:
                    raise _late(where, timeout_s) from None
                raise
    except httpx.TimeoutException:
        raise _late(where, timeout_s) from None
    except httpx.HTTPError as exc:
        reason = plain(str(exc).replace(url, host_of(url)))[:MAX_ANSWER_SHOWN]
        raise DeliveryError(f"{where}: cannot post ({reason})", channel="webhook", answer=reason) from None
    if not 200 <= status < 300:
        text = plain(answer[: MAX_ANSWER_SHOWN * 4].decode("utf-8", "replace"))[:MAX_ANSWER_SHOWN]
        shown = f"HTTP {status}" + (f": {text}" if text else "")
        raise DeliveryError(f"{where} answered {shown}", channel="webhook", answer=shown)


def _late(where: str, limit: float) -> DeliveryError:
    return DeliveryError(
        f"{where}: gave up after {limit:g} s (webhook_timeout_s) without a whole answer",
        channel="webhook",
        answer=f"no whole answer within {limit:g} s",
    )


def _exchange(url: str, body: dict[str, Any], deadline: Deadline) -> tuple[int, bytes]:
    """The POST and at most MAX_ANSWER_BYTES of its answer, every socket it opens watched by ``deadline``."""
    timeout = httpx.Timeout(deadline.left())
    with (
        httpx.Client(timeout=timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT}) as client,
        client.stream("POST", url, json=body, extensions=deadline.watch_httpx()) as response,
    ):
        answer = b""
        try:
            for chunk in response.iter_bytes():
                answer += chunk
                if len(answer) >= MAX_ANSWER_BYTES:
                    break
        except httpx.HTTPError:
            if not (deadline.expired and 200 <= response.status_code < 300):
                raise  # a 2xx status is the receiver's yes: the rest of its answer is not needed
        return response.status_code, answer
