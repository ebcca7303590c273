"""The LLM engine: one instructor structured-output call per paper, validated and grounded.

``openai/`` models (OpenAI and OpenAI-compatible servers) go through the openai SDK directly and never import
litellm; every other provider, several endpoints (litellm's Router over ``[[endpoints]]``) and the batch API go
through litellm (`pipeline.engines.clients`). Tokens are priced from litellm's price map
(`pipeline.engines.pricing`). This module is imported only when ``--model`` names an LLM. The
response model is `Summary`: its validators drop invented links and refuse numbers the abstract does not
state, and instructor re-asks with the validator's message. Transient HTTP faults (429, 5xx, timeouts)
are retried here with backoff that honours Retry-After; at most ``concurrency`` requests are in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch of prices at import

from pipeline import links  # noqa: E402
from pipeline.engines import calls, clients  # noqa: E402
from pipeline.engines.base import EngineOutput, grounding_context  # noqa: E402
from pipeline.engines.pricing import prices  # noqa: E402
from pipeline.engines.prompting import CHARS_PER_TOKEN, load_prompt, pick_mode, truncate  # noqa: E402
from pipeline.engines.transport import bounded_session  # noqa: E402
from pipeline.errors import ConfigError, EngineError  # noqa: E402
from pipeline.schema import GROUNDING, Evidence, Paper, Provenance, Summary  # noqa: E402
from pipeline.extractive.text import align, split_sentences  # noqa: E402

if TYPE_CHECKING:
    from pipeline.settings import Settings

EXPECTED_OUTPUT_TOKENS = 350


class _Usage:
    """A batch answer's token counts, shaped as a completion's ``usage``."""

    def __init__(self, prompt_tokens: Any, completion_tokens: Any) -> None:
        self.usage = self
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens


# Requests sent for the paper being summarised (its answer and every re-ask instructor makes): one counter per
# asummarize call, shared by the tasks it starts (a context variable holds the same list in each).
_SENT: ContextVar[list[int] | None] = ContextVar("sent", default=None)


def counted(create: Any) -> Any:
    """``create`` (an async chat-completion call) counting each request into the current paper's counter."""

    async def send(*args: Any, **kwargs: Any) -> Any:
        sent = _SENT.get()
        if sent is not None:
            sent[0] += 1
        return await create(*args, **kwargs)

    return send


class LLMEngine:
    """instructor over the openai SDK (``openai/`` models) or litellm (the rest); one call (plus re-asks) per paper."""

    name = "llm"
    is_async = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = settings.model
        # openai/ models (OpenAI and every OpenAI-compatible server) go through the openai SDK itself: litellm's
        # per-call request transform, logging and cost bookkeeping cost 2.3x the client CPU of the SDK (measured:
        # 66 against 154 papers/s at concurrency 64 on this machine), and importing it 3-4 s of every run. litellm
        # stays the provider layer for every other provider, the Router over several endpoints and the batch API.
        self.direct = not settings.endpoints and self.model.startswith("openai/")
        self.uses_litellm = not self.direct or settings.batch
        clients.collect_less()
        try:
            import instructor

            if self.uses_litellm:
                import litellm
        except ImportError as exc:
            raise ConfigError(f"--model {settings.model} needs the LLM extra: pip install -e '.[llm]'") from exc

        if self.uses_litellm:
            # With [[endpoints]], --model names the Router's group (any name: "llama-8b"); each endpoint's model
            # is what litellm must route.
            for routed in [e.model for e in settings.endpoints] or [self.model]:
                try:
                    litellm.get_llm_provider(routed)
                except Exception as exc:  # litellm raises BadRequestError for a model it cannot route
                    where = " (an [[endpoints]] model)" if settings.endpoints else ""
                    raise ConfigError(
                        f"litellm cannot route the model {routed!r}{where}: name it provider/model, e.g. "
                        "openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest, ollama/llama3.1"
                    ) from exc
            litellm.suppress_debug_info = True
        self.template, self.prompt_hash = load_prompt(settings.prompt)
        self.api_base = settings.api_base
        if self.api_base is None and self.model.startswith("openai/"):
            self.api_base = os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE")
        self.mode = pick_mode(settings, self.api_base)
        modes = {
            "tools": instructor.Mode.TOOLS,
            "json_schema": instructor.Mode.JSON_SCHEMA,
            "json": instructor.Mode.JSON,
            "md_json": instructor.Mode.MD_JSON,
        }
        self.instructor_mode = modes[self.mode]
        # instructor logs every failed attempt at ERROR level with the provider's message; the run reports
        # failures itself (redacted), so keep its logger quiet.
        logging.getLogger("instructor").setLevel(logging.CRITICAL)
        self.router = clients.router(settings) if settings.endpoints else None
        self.client: Any = None  # the direct path's client is made per session, on its event loop's HTTP client
        if not self.direct:
            complete = self.router.acompletion if self.router is not None else litellm.acompletion
            self.client = instructor.from_litellm(counted(complete), mode=self.instructor_mode)
        # Endpoints with caps: never more in flight than they hold together (the Router refuses, not queues).
        caps = [e.concurrency for e in settings.endpoints]
        self.capacity = sum(c for c in caps if c is not None) if caps and None not in caps else None
        # Priced as the model the (first) endpoint serves: a list of endpoints serves one model.
        self.price_model = settings.endpoints[0].model if settings.endpoints else self.model
        self.per_token = prices(self.price_model, self.uses_litellm)
        # Wrapped once here: given a plain model, instructor builds a new wrapper class on every call
        # (several ms of CPU each, which caps throughput at high concurrency).
        self.response_model = instructor.response_schema(Summary)
        clients.check_validators_once()
        # litellm and instructor leave hundreds of thousands of long-lived objects: moved out of the collector's
        # sight once, so its passes during the run (and at exit) stop walking them.
        gc.freeze()

    def require_credentials(self) -> None:
        """Fail before the first call, not once per paper, when the provider's key is not set."""
        missing_env = [
            e.api_key_env for e in self.settings.endpoints if e.api_key_env and not os.environ.get(e.api_key_env)
        ]
        if missing_env:
            raise ConfigError(f"endpoints need {', '.join(sorted(set(missing_env)))} in the environment")  # type: ignore[arg-type]
        if self.api_base or self.settings.endpoints:
            return
        if self.uses_litellm:
            import litellm

            missing = litellm.validate_environment(self.model).get("missing_keys") or []
        else:
            missing = [] if os.environ.get("OPENAI_API_KEY") else ["OPENAI_API_KEY"]
        keys = [k for k in missing if k.endswith(("_API_KEY", "_TOKEN"))]
        if keys:
            raise ConfigError(
                f"--model {self.model} needs {', '.join(keys)} in the environment "
                "(or --api-base for an OpenAI-compatible server)"
            )

    def params(self) -> dict[str, Any]:
        s = self.settings
        return {
            "temperature": s.temperature,
            "max_output_tokens": s.max_output_tokens,
            "mode": self.mode,
            "max_input_tokens": s.max_input_tokens,
        }

    def messages(self, paper: Paper) -> tuple[list[dict[str, str]], bool]:
        """The system and user messages of the prompt template for ``paper``, and whether it was truncated."""
        abstract, truncated = truncate(paper.abstract, self.settings.max_input_tokens)
        text = self.template.safe_substitute(title=paper.title, abstract=abstract)
        head, _, user = text.partition("\n[user]\n")
        system = head.partition("[system]\n")[2]
        return [{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}], truncated

    def estimate(self, paper: Paper) -> tuple[int, int, float]:
        """Tokens of the rendered prompt (over-estimated from characters) and a typical answer, and their price."""
        messages, _ = self.messages(paper)
        tokens_in = sum(len(m["content"]) for m in messages) // CHARS_PER_TOKEN + 1
        return tokens_in, EXPECTED_OUTPUT_TOKENS, self.estimate_cost(tokens_in, EXPECTED_OUTPUT_TOKENS)

    def estimate_cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD for the tokens at the model's list prices (0 for a model litellm has no price for)."""
        per_in, per_out = self.per_token
        return input_tokens * per_in + output_tokens * per_out

    def session(self) -> Any:
        """The async context a batch of calls runs in: one bounded HTTP client for the event loop (litellm's, and
        the openai SDK's on the direct path)."""
        return self._session()

    @contextlib.asynccontextmanager
    async def _session(self) -> Any:
        async with bounded_session(self.settings.concurrency, litellm=self.uses_litellm) as http:
            if not self.direct:
                yield http
                return
            previous = self.client
            self.client = calls.direct_client(calls.openai_sdk(self.api_base, http), self.instructor_mode, counted)
            try:
                yield http
            finally:
                self.client = previous

    def summarize(self, paper: Paper) -> EngineOutput:
        """One paper synchronously (evals)."""

        async def one() -> EngineOutput:
            async with self._session():
                return await self.asummarize(paper)

        return asyncio.run(one())

    def endpoint(self) -> dict[str, Any]:
        """``api_base`` and ``api_key`` for litellm calls to the one endpoint (empty: the provider's defaults)."""
        if not self.api_base:
            return {}
        found: dict[str, Any] = {"api_base": self.api_base}
        if self.model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
            found["api_key"] = "no-key-needed"  # local OpenAI-compatible servers ignore it
        return found

    def _request_kwargs(self) -> dict[str, Any]:
        s = self.settings
        common = {"temperature": s.temperature, "max_tokens": s.max_output_tokens, "timeout": s.timeout_s}
        if self.direct:  # the openai SDK: the model's own name; base URL and key are the client's
            return {"model": self.model.split("/", 1)[1], **common}
        kwargs: dict[str, Any] = {"model": self.model, **common, "num_retries": 0}
        if self.router is not None:
            return kwargs  # each endpoint's base URL and key are the Router's
        return {**kwargs, **self.endpoint()}

    async def asummarize(self, paper: Paper) -> EngineOutput:
        messages, truncated = self.messages(paper)
        context = grounding_context(paper)
        # The validators read the grounding from a context variable: passing instructor ``context=`` would
        # render the messages as Jinja templates and change the paper's text ({{x}}, {% raw %}).
        GROUNDING.set(context)
        sent = [0]
        _SENT.set(sent)

        def restart() -> None:
            sent[0] = 0  # a transport retry starts the answer over

        try:
            summary, completion = await calls.ask(
                self.client,
                messages=messages,
                response_model=self.response_model,
                settings=self.settings,
                mode=self.mode,
                kwargs=self._request_kwargs(),
                on_attempt=restart,
            )
        except calls.CallFailed as failed:
            error = EngineError(failed.message, paper_id=paper.id, attempts=failed.attempts)
            # Failed attempts were still paid for: report their tokens and cost too (none known: none counted).
            if failed.usage is not None:
                sent_text = calls.text_of(messages) * max(1, failed.attempts)
                error.input_tokens, error.output_tokens = calls.tokens_spent(failed.usage, sent_text, "")
            error.cost_usd = self.estimate_cost(error.input_tokens, error.output_tokens)
            raise error from failed
        # attempts: the answers asked for, re-asks included (as a failure's attempts count them).
        return self._output(paper, summary, completion, truncated, max(1, sent[0]), context, messages=messages)

    # -- the batch path (pipeline.dispatch.batch): the same request as a batch line, the answer through the
    # same validators.

    def batch_body(self, paper: Paper) -> dict[str, Any]:
        """The chat request of one paper's batch line: what the direct call sends in tools mode."""
        messages, _ = self.messages(paper)
        schema = self.response_model.openai_schema  # type: ignore[attr-defined]
        return {
            "model": self.model.split("/", 1)[1] if "/" in self.model else self.model,
            "messages": messages,
            "tools": [{"type": "function", "function": schema}],
            "tool_choice": {"type": "function", "function": {"name": schema["name"]}},
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_output_tokens,
        }

    def from_batch(self, paper: Paper, body: dict[str, Any], price_factor: float) -> EngineOutput:
        """A batch answer (a chat completion) validated exactly as a direct answer; raises when it is refused."""
        _, truncated = self.messages(paper)
        context = grounding_context(paper)
        GROUNDING.set(context)
        calls_of = body["choices"][0]["message"].get("tool_calls") or []
        if not calls_of:
            raise ValueError("the batch answer has no tool call")
        summary = self.response_model.model_validate_json(calls_of[0]["function"]["arguments"])
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        messages, _ = self.messages(paper)
        tokens = calls.tokens_spent(
            _Usage(usage.get("prompt_tokens"), usage.get("completion_tokens")),
            calls.text_of(messages),
            str(calls_of[0]["function"]["arguments"]),
        )
        return self._output(paper, summary, _Usage(*tokens), truncated, 1, context, price_factor)

    def _output(
        self,
        paper: Paper,
        summary: Summary,
        completion: Any,
        truncated: bool,
        attempt: int,
        context: dict[str, Any],
        price_factor: float = 1.0,
        messages: list[dict[str, Any]] | None = None,
    ) -> EngineOutput:
        usage = getattr(summary, "_total_usage", None) or getattr(completion, "usage", None)
        if messages is None:  # a batch answer's counts, already through the budget rule
            input_tokens, output_tokens = int(usage.prompt_tokens), int(usage.completion_tokens)
        else:
            input_tokens, output_tokens = calls.tokens_spent(
                usage, calls.text_of(messages) * max(1, attempt), summary.model_dump_json()
            )
        found = links.extract_links(paper.text)
        summary = summary.model_copy(update={"links": links.merge(found, paper.links, summary.links)})
        sentences = split_sentences(paper.abstract)
        evidence = Evidence(
            tldr=align(summary.tldr, sentences),
            problem=align(summary.problem, sentences),
            method=align(summary.method, sentences),
            results=[align(r, sentences) for r in summary.results],
        )
        notes = []
        if truncated:
            notes.append(f"abstract truncated to about {self.settings.max_input_tokens} tokens")
        dropped = context.get("dropped_links") or []
        if dropped:
            notes.append(f"dropped {len(dropped)} link(s) not in the text")
        provenance = Provenance(
            engine=self.name,
            model=self.model,
            prompt_hash=self.prompt_hash,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=self.estimate_cost(input_tokens, output_tokens) * price_factor,
            attempts=attempt,
            truncated=truncated,
            notes=notes,
        )
        return EngineOutput(summary, evidence, provenance)
