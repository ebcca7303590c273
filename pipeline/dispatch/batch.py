"""``--batch``: the papers not cached go to the provider's batch API at batch prices.

One JSONL file of chat requests (one line per paper, ``custom_id`` = its cache key) is uploaded (``/v1/files``) and a
batch created over it (``/v1/batches``), through litellm's batch functions. The batch id is saved in the output
folder (``batch.json``) before the first poll, so a run killed while polling resumes the same batch instead of paying
twice. Polls every ``batch_poll_s`` seconds up to ``batch_max_wait_s``. Every answer goes through the same validators
as a direct call; a refused or failed answer is re-asked directly (full price), and each record's cost is at batch
prices. What a provider does not cover is a clear error before anything is uploaded.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.engines.pricing import BATCH_PRICE_FACTOR
from pipeline.errors import ConfigError, EngineError
from pipeline.files import write_text_atomic
from pipeline.schema import Paper

if TYPE_CHECKING:
    from pipeline.dispatch.runner import Progress, Runner

STATE_NAME = "batch.json"
PROVIDERS = ("openai", "azure", "vertex_ai", "bedrock", "hosted_vllm", "litellm_proxy", "mistral", "xai")
TERMINAL = ("completed", "failed", "expired", "cancelled")
MAX_OUTPUT_BYTES = 512 * 2**20  # a batch's answers are a few KB each


def provider_of(model: str) -> str:
    provider = model.split("/", 1)[0] if "/" in model else "openai"
    if provider not in PROVIDERS:
        raise ConfigError(
            f"--batch: litellm's batch API does not cover the provider {provider!r} (covered: {', '.join(PROVIDERS)}); "
            "run without --batch"
        )
    return provider


class BatchDispatch:
    """One run's batch: submit (or resume), poll, collect; the runner caches and records every result."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.engine: Any = runner.engine
        self.settings = runner.settings
        if not hasattr(self.engine, "batch_body"):
            raise ConfigError("--batch needs an LLM model (--model provider/name); the embedded engine runs locally")
        if self.settings.endpoints:
            raise ConfigError("--batch goes to one provider's batch API; it does not combine with [[endpoints]]")
        self.provider = provider_of(self.engine.model)
        self.state_path = Path(self.settings.out_dir) / STATE_NAME
        self.report: dict[str, Any] = {"batches": [], "resumed": None, "reasked": 0, "polls": 0}

    # -- the provider's endpoints, through litellm

    def _auth(self) -> dict[str, Any]:
        return dict(self.engine.endpoint())

    async def _submit(self, todo: list[tuple[str, Paper]]) -> dict[str, Any]:
        import litellm

        lines = "".join(
            json.dumps(
                {"custom_id": key, "method": "POST", "url": "/v1/chat/completions", "body": self.engine.batch_body(p)},
                ensure_ascii=False,
            )
            + "\n"
            for key, p in todo
        ).encode("utf-8")
        upload = await litellm.acreate_file(
            file=("summarize-batch.jsonl", lines, "application/jsonl"),
            purpose="batch",
            custom_llm_provider=self.provider,
            **self._auth(),
        )
        batch = await litellm.acreate_batch(
            completion_window="24h",
            endpoint="/v1/chat/completions",
            input_file_id=upload.id,
            custom_llm_provider=self.provider,
            metadata={"tool": "summarize"},
            **self._auth(),
        )
        state = {
            "batch_id": batch.id,
            "input_file_id": upload.id,
            "model": self.engine.model,
            "prompt_hash": self.engine.prompt_hash,
            "keys": [key for key, _ in todo],
            "submitted_at": time.time(),
        }
        write_text_atomic(self.state_path, json.dumps(state, indent=1) + "\n")  # before the first poll
        self.report["batches"].append(batch.id)
        return state

    async def _poll(self, batch_id: str) -> Any:
        import litellm

        deadline = time.monotonic() + self.settings.batch_max_wait_s
        failures = 0
        while True:
            try:
                batch = await litellm.aretrieve_batch(batch_id, custom_llm_provider=self.provider, **self._auth())
                failures = 0
            except Exception:  # a poll that fails is tried again at the next interval, a few times
                failures += 1
                if failures > 5:
                    raise
                batch = None
            self.report["polls"] += 1
            if batch is not None and batch.status in TERMINAL:
                return batch
            if time.monotonic() >= deadline:
                return batch
            await asyncio.sleep(self.settings.batch_poll_s)

    async def _content(self, file_id: str) -> bytes:
        import litellm

        content = await litellm.afile_content(file_id, custom_llm_provider=self.provider, **self._auth())
        data = content.content if hasattr(content, "content") else bytes(content)
        if len(data) > MAX_OUTPUT_BYTES:
            raise EngineError(f"batch output file {file_id} is larger than {MAX_OUTPUT_BYTES // 2**20} MB; refused")
        return bytes(data)

    # -- the run

    def _load_state(self) -> dict[str, Any] | None:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict) or not isinstance(state.get("batch_id"), str):
            return None
        if state.get("model") != self.engine.model or state.get("prompt_hash") != self.engine.prompt_hash:
            return None  # another model's or prompt's batch: not ours to collect
        return state

    def run(self, papers: list[Paper], on_progress: Progress | None) -> None:
        runner = self.runner
        misses = runner.admit(runner.answer_cached(papers), price_factor=BATCH_PRICE_FACTOR)
        if on_progress:
            on_progress(runner.done, runner.report.total)
        if misses or self._load_state() is not None:
            self.engine.require_credentials()
            asyncio.run(self._run(dict(misses), on_progress))
        runner.report.executor = {"executor": "batch", **self.report}

    async def _run(self, todo: dict[str, Paper], on_progress: Progress | None) -> None:
        async with self.engine.session():
            for _ in range(2):  # a saved batch to resume first, then one new batch for the rest
                state = self._load_state()
                if state is not None:
                    self.report["resumed"] = state["batch_id"]
                else:
                    if not todo:
                        return
                    state = await self._submit(list(todo.items()))
                batch = await self._poll(state["batch_id"])
                if batch is None or batch.status not in TERMINAL:
                    for key in state["keys"]:
                        paper = todo.pop(key, None)
                        if paper is not None:
                            self.runner.fail(
                                paper,
                                "batch",
                                EngineError(
                                    f"batch {state['batch_id']} still running after "
                                    f"{self.settings.batch_max_wait_s:.0f} s; run again to collect it (its id is "
                                    "saved in batch.json)"
                                ),
                            )
                    return
                await self._collect(batch, state, todo, on_progress)
                self.state_path.unlink(missing_ok=True)

    async def _collect(
        self, batch: Any, state: dict[str, Any], todo: dict[str, Paper], on_progress: Progress | None
    ) -> None:
        runner = self.runner
        answers: dict[str, dict[str, Any]] = {}
        if batch.output_file_id:
            for raw in (await self._content(batch.output_file_id)).decode("utf-8", errors="replace").splitlines():
                try:
                    line = json.loads(raw)
                    answers[str(line["custom_id"])] = line
                except (ValueError, KeyError, TypeError):
                    continue
        reask: list[tuple[str, Paper]] = []
        with runner.cache.batch():
            for key in state["keys"]:
                paper = todo.pop(key, None)
                if paper is None:
                    continue  # cached meanwhile, or no longer among this run's papers
                line = answers.get(key)
                response = (line or {}).get("response") or {}
                if response.get("status_code") != 200 or not isinstance(response.get("body"), dict):
                    if batch.status == "completed":
                        reask.append((key, paper))
                    else:
                        runner.fail(paper, "batch", EngineError(f"batch {batch.id} {batch.status}; run again"))
                        runner.done += 1
                    continue
                body = response["body"]
                try:
                    runner.accept(key, paper, self.engine.from_batch(paper, body, BATCH_PRICE_FACTOR))
                    runner.done += 1
                except (ValueError, KeyError, IndexError, TypeError):  # refused or malformed: still paid for
                    usage = body.get("usage") or {}
                    tokens_in, tokens_out = (
                        int(usage.get("prompt_tokens") or 0),
                        int(usage.get("completion_tokens") or 0),
                    )
                    runner.report.input_tokens += tokens_in
                    runner.report.output_tokens += tokens_out
                    runner.report.cost_usd += self.engine.estimate_cost(tokens_in, tokens_out) * BATCH_PRICE_FACTOR
                    reask.append((key, paper))
        if on_progress:
            on_progress(runner.done, runner.report.total)
        self.report["reasked"] += len(reask)
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def direct(key: str, paper: Paper) -> None:
            async with gate:
                try:
                    runner.accept(key, paper, await self.engine.asummarize(paper))
                except Exception as exc:
                    runner.fail(paper, "engine", exc)
                runner.done += 1
                if on_progress:
                    on_progress(runner.done, runner.report.total)

        await asyncio.gather(*(direct(key, paper) for key, paper in reask))
