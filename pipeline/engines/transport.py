"""The LLM engine's HTTP: one bounded httpx client per event loop, shared by litellm and the openai SDK.

Response bodies stop at a byte cap *after* decompression (a gzip bomb never expands in memory), and requests are
spread over small connection pools so that httpcore's per-request scan of its pool stays short at high concurrency.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
from typing import Any

MAX_LLM_RESPONSE_BYTES = 8 * 2**20  # a structured summary is a few KB; an endless body stops here


@functools.cache
def _tls() -> Any:
    """One TLS context for every pool of the process: loading the system's CA bundle costs ~50 ms per context,
    which eight pools per session paid on every run (and on every Ray worker)."""
    import httpx

    return httpx.create_ssl_context()


def _bounded_transport(max_bytes: int, connections: int) -> Any:
    """An httpx transport whose response bodies stop at ``max_bytes`` *decoded* bytes.

    gzip and deflate bodies are decompressed here, incrementally and bounded, so a compression bomb never
    expands in memory; other encodings are refused.
    """
    import zlib

    import httpx

    class _Bounded(httpx.AsyncByteStream):
        def __init__(self, inner: Any, encoding: str, url: str) -> None:
            self.inner, self.url = inner, url
            self.inflate = zlib.decompressobj(47 if encoding == "gzip" else 15) if encoding else None

        async def __aiter__(self) -> Any:
            size = 0
            async for chunk in self.inner:
                if self.inflate is not None:
                    chunk = self.inflate.decompress(chunk, max_bytes + 1 - size)
                size += len(chunk)
                if size > max_bytes:
                    raise httpx.ReadError(f"{self.url}: response larger than {max_bytes // 2**20} MB; refused")
                yield chunk

        async def aclose(self) -> None:
            await self.inner.aclose()

    class _Transport(httpx.AsyncBaseTransport):
        """Requests spread over small connection pools: httpcore scans every connection of its pool for each
        request, which at 64 in flight cost a third of the client's CPU; pools of 8 keep that scan short."""

        def __init__(self) -> None:
            size = 8
            self.pools = [
                httpx.AsyncHTTPTransport(
                    verify=_tls(), limits=httpx.Limits(max_connections=None, max_keepalive_connections=size)
                )
                for _ in range(max(1, -(-connections // size)))
            ]
            self.busy = [0] * len(self.pools)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            index = self.busy.index(min(self.busy))
            self.busy[index] += 1
            try:
                response = await self.pools[index].handle_async_request(request)
            finally:
                self.busy[index] -= 1
            encoding = response.headers.get("content-encoding", "").strip().lower()
            if encoding in ("identity",):
                encoding = ""
            if encoding not in ("", "gzip", "deflate"):
                await response.aclose()
                raise httpx.ReadError(f"{request.url}: content-encoding {encoding!r} refused")
            headers = [
                (k, v) for k, v in response.headers.raw if k.lower() not in (b"content-encoding", b"content-length")
            ]
            return httpx.Response(
                response.status_code,
                headers=headers,
                stream=_Bounded(response.stream, encoding, str(request.url)),
                extensions=response.extensions,
            )

        async def aclose(self) -> None:
            for pool in self.pools:
                await pool.aclose()

    return _Transport()


@contextlib.asynccontextmanager
async def bounded_session(connections: int = 8, litellm: bool = True) -> Any:
    """One bounded httpx client for the running event loop, closed when the loop's work is done (a client never
    outlives its loop). With ``litellm``, litellm's OpenAI-compatible calls go through it too
    (``litellm.aclient_session``); the openai SDK path is handed the client and never imports litellm."""
    import httpx

    client = httpx.AsyncClient(
        transport=_bounded_transport(MAX_LLM_RESPONSE_BYTES, connections),
        headers={"accept-encoding": "gzip, deflate"},
    )
    module: Any = importlib.import_module("litellm") if litellm else None
    previous = getattr(module, "aclient_session", None)
    if module is not None:
        module.aclient_session = client
    try:
        yield client
    finally:
        if module is not None:
            module.aclient_session = previous
        await client.aclose()
