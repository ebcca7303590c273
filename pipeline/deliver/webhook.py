"""The digest posted to a Slack- or Discord-compatible webhook: one JSON POST, bounded in time and in the answer
read back. The URL is a secret (its path is the token): messages name only its host."""

from __future__ import annotations

import ipaddress
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

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


def post(url: str, body: dict[str, Any], timeout_s: float) -> None:
    """POST ``body`` as JSON; any answer but 2xx, a timeout or no connection is a DeliveryError with the answer."""
    url = _checked(url)
    where = f"webhook {host_of(url)}"
    deadline = time.monotonic() + timeout_s
    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT}) as client,
            client.stream("POST", url, json=body) as response,
        ):
            answer = b""
            for chunk in response.iter_bytes():
                answer += chunk
                if len(answer) >= MAX_ANSWER_BYTES or time.monotonic() > deadline:
                    break
    except httpx.TimeoutException:
        raise DeliveryError(f"{where}: no answer within {timeout_s:g} s", channel="webhook") from None
    except httpx.HTTPError as exc:
        reason = plain(str(exc).replace(url, host_of(url)))[:MAX_ANSWER_SHOWN]
        raise DeliveryError(f"{where}: cannot post ({reason})", channel="webhook", answer=reason) from None
    if not 200 <= response.status_code < 300:
        text = plain(answer[: MAX_ANSWER_SHOWN * 4].decode("utf-8", "replace"))[:MAX_ANSWER_SHOWN]
        shown = f"HTTP {response.status_code}" + (f": {text}" if text else "")
        raise DeliveryError(f"{where} answered {shown}", channel="webhook", answer=shown)
