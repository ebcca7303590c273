"""The clients the LLM engine calls through, and what keeps them cheap per paper.

- `chat_poster`: the openai SDK path's ``create`` for instructor (``openai/`` models).
- `router`: litellm's Router over ``[[endpoints]]``.
- `check_validators_once`, `collect_less`: instructor's and the garbage collector's per-call costs, paid once.

Nothing here imports litellm, instructor or openai at module level: `pipeline.engines.llm` is imported only for an
LLM model, and each of these only on the path that needs it.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.settings import Settings


def check_validators_once() -> None:
    """instructor walks the response model's class tree for async validators on every call, seven times per
    paper (about a tenth of the client's CPU at high concurrency); the answer never changes for a class, so it
    is remembered per class. Only a model that passed the check is remembered."""
    try:
        from instructor.v2.validation import async_validators
    except ImportError:  # another instructor layout: its own check runs unchanged
        return
    original = async_validators.reject_async_validators
    if getattr(original, "remembered", False):
        return
    passed: set[int] = set()
    keep: list[Any] = []  # the checked classes stay alive, so their ids are never reused

    def reject_async_validators(response_model: Any) -> None:
        if id(response_model) in passed:
            return
        original(response_model)
        passed.add(id(response_model))
        keep.append(response_model)

    reject_async_validators.remembered = True  # type: ignore[attr-defined]
    async_validators.reject_async_validators = reject_async_validators  # type: ignore[attr-defined]
    patch_module = sys.modules.get("instructor.v2.core.patch")
    if patch_module is not None and hasattr(patch_module, "reject_async_validators"):
        patch_module.reject_async_validators = reject_async_validators  # type: ignore[attr-defined]  # imported by name


def router(settings: Settings) -> Any:
    """litellm's Router over ``settings.endpoints``: one model group named ``settings.model``; a failing endpoint
    is cooled down for ``endpoint_cooldown_s`` and the paper retried (by the engine's retry loop) on the others."""
    import litellm

    deployments = []
    for endpoint in settings.endpoints:
        params: dict[str, Any] = {"model": endpoint.model}
        if endpoint.api_base:
            params["api_base"] = endpoint.api_base
        if endpoint.api_key_env:
            params["api_key"] = os.environ.get(endpoint.api_key_env, "")
        elif endpoint.api_base and endpoint.model.startswith("openai/"):
            params["api_key"] = "no-key-needed"  # local OpenAI-compatible servers ignore it
        if endpoint.concurrency:
            params["max_parallel_requests"] = endpoint.concurrency
        if endpoint.rpm:
            params["rpm"] = endpoint.rpm
        deployments.append({"model_name": settings.model, "litellm_params": params})
    return litellm.Router(
        model_list=deployments,
        num_retries=0,  # retries are the engine's, with backoff that honours Retry-After
        allowed_fails=0,  # the first failure cools an endpoint down
        cooldown_time=settings.endpoint_cooldown_s,
        timeout=settings.timeout_s,
    )


_GEN0_THRESHOLD = 50_000


def collect_less() -> None:
    """Run the cyclic garbage collector's young pass every 50,000 net allocations instead of Python's 700.

    The LLM path allocates hundreds of short-lived containers per paper (request dicts, pydantic models, httpx
    objects), nearly all freed by reference counting, so the default's frequent passes find little. Measured: the
    litellm/instructor imports take 4.6 s instead of 5.4 s, and in the client-ceiling benchmark's process the
    collector ran 938 times (1.7 s) instead of 1,404 (2.1 s), most of it during the imports. The cycles that do form
    wait at most 50,000 allocations (a few MB) for a pass.
    """
    gen0, gen1, gen2 = gc.get_threshold()
    if gen0 < _GEN0_THRESHOLD:
        gc.set_threshold(_GEN0_THRESHOLD, gen1, gen2)


def chat_poster(sdk: Any) -> Any:
    """``chat.completions.create`` for instructor, leaner than the SDK's own: the request instructor built is posted
    as is (the typed ``create`` first walks every parameter, the tools' JSON schema included, through a type
    transform: a quarter of the client's CPU per paper), and the answer is parsed by pydantic in one pass (the SDK
    builds it field by field), falling back to the SDK's lenient construction for servers that stray from the
    schema (an unknown ``finish_reason``, a missing ``created``). The SDK's error mapping, headers and timeouts
    stay."""
    import httpx
    import openai
    import pydantic
    from openai.types.chat import ChatCompletion

    async def create(**kwargs: Any) -> ChatCompletion:
        timeout = kwargs.pop("timeout", None)
        response = await sdk.post(
            "/chat/completions", cast_to=httpx.Response, body=kwargs, options={"timeout": timeout}
        )
        try:
            return ChatCompletion.model_validate_json(response.content)
        except pydantic.ValidationError:
            pass
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            kind = response.headers.get("content-type", "no content-type")
            raise openai.APIResponseValidationError(
                response, None, message=f"the server's answer is not a JSON object ({kind[:80]})"
            )
        return ChatCompletion.construct(**body)

    return create


_PROBE_BYTES = 4096  # an Ollama /api/version answer is a few dozen bytes


def server_mode(api_base: str, timeout_s: float = 3.0) -> str:
    """The instructor mode an OpenAI-compatible server at ``api_base`` answers in the schema with.

    Ollama (found by its own ``GET /api/version``, beside its ``/v1``) does not force a named tool call, so it gets
    ``json_schema`` (``response_format`` with the schema, which it turns into a grammar); every other server
    (llama-cpp-python, llama.cpp's llama-server, vLLM, LM Studio, OpenAI) gets ``tools``: a forced call of the
    Summary tool, which the local ones turn into a grammar. One small bounded GET: a server that does not answer it,
    answers an error or answers something else is not Ollama.
    """
    import time

    import httpx

    root = api_base.rstrip("/")
    root = root[: -len("/v1")] if root.endswith("/v1") else root
    deadline = time.monotonic() + timeout_s
    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=False) as http,
            http.stream("GET", root + "/api/version", headers={"accept-encoding": "identity"}) as response,
        ):
            if response.status_code != 200 or response.headers.get("content-encoding", "identity") != "identity":
                return "tools"
            body = b""
            for chunk in response.iter_raw():
                body += chunk
                if len(body) > _PROBE_BYTES or time.monotonic() > deadline:
                    return "tools"
        answer = json.loads(body)
    except (httpx.HTTPError, ValueError):
        return "tools"
    return "json_schema" if isinstance(answer, dict) and isinstance(answer.get("version"), str) else "tools"
