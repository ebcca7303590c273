"""The LLM engine's HTTP: one bounded httpx client per event loop, shared by litellm and the openai SDK.

Response bodies stop at a byte cap *after* decompression (a gzip bomb never expands in memory), and each request slot
has a connection pool of its own, so that httpcore's per-request scan of its pool stays short at high concurrency.
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
    and a session has a pool per request slot."""
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
        def __init__(self, inner: Any, encoding: str, url: str, done: Any) -> None:
            self.inner, self.url, self.done = inner, url, done
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
            try:
                await self.inner.aclose()
            finally:
                if self.done is not None:  # the connection is free again once its response is closed
                    self.done()
                    self.done = None

    class _Transport(httpx.AsyncBaseTransport):
        """One connection per request slot, each in its own httpcore pool: a pool scans all its connections
        whenever a request starts or a response closes, which at 64 connections in one pool cost a third of the
        client's CPU (measured). A request goes to the least busy pool; a pool counts as busy until its response
        is closed, so each holds one connection that serves one request at a time."""

        def __init__(self) -> None:
            self.pools = [
                httpx.AsyncHTTPTransport(
                    verify=_tls(), limits=httpx.Limits(max_connections=None, max_keepalive_connections=1)
                )
                for _ in range(max(1, connections))
            ]
            self.busy = [0] * len(self.pools)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            index = self.busy.index(min(self.busy))
            self.busy[index] += 1

            def done() -> None:
                self.busy[index] -= 1

            try:
                response = await self.pools[index].handle_async_request(request)
            except BaseException:
                done()
                raise
            encoding = response.headers.get("content-encoding", "").strip().lower()
            if encoding in ("identity",):
                encoding = ""
            if encoding not in ("", "gzip", "deflate"):
                await response.aclose()
                done()
                raise httpx.ReadError(f"{request.url}: content-encoding {encoding!r} refused")
            headers = [
                (k, v) for k, v in response.headers.raw if k.lower() not in (b"content-encoding", b"content-length")
            ]
            return httpx.Response(
                response.status_code,
                headers=headers,
                stream=_Bounded(response.stream, encoding, str(request.url), done),
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
