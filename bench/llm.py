"""The LLM benchmarks: concurrency efficiency against a local server with a fixed delay, and the client's own
ceiling against a zero-latency server in another process (plus one paper from the command line)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import SUMMARIZE, run_child
from bench.generate import REPO


def _short_papers(n: int, tag: str) -> list:
    """``n`` one-line papers for the LLM benchmarks (the server answers whatever they say)."""
    from pipeline.schema import Paper

    return [
        Paper(
            id=f"{tag}{i}",
            title=f"Paper {tag}{i}",
            source="bench",
            abstract=f"Models fail at {i}. We propose M{i}. M{i} helps by {i}.5 points.",
        )
        for i in range(n)
    ]


def llm_concurrency(levels: list[int], delay: float, work: Path) -> list[dict]:
    sys.path.insert(0, str(REPO / "tests"))
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import instructor  # noqa: F401  (imported once here so no timed run pays litellm's import)
    import litellm  # noqa: F401
    from fake_openai import FakeOpenAI, Reply

    from pipeline.run import run
    from pipeline.settings import Settings

    with FakeOpenAI() as server:  # untimed warm-up: first-call costs (client set-up, caches) are paid here
        run(
            _short_papers(8, "w"),
            Settings(
                model="openai/fake",
                api_base=server.base_url,
                mode="tools",
                out_dir=work / "warm",
                cache_dir=work / "warm-cache",
                html=False,
            ),
        )
    rows = []
    for level in levels:
        n = max(16, 4 * level)
        papers = _short_papers(n, "p")
        times = {}
        for wait in (0.0, delay):
            with FakeOpenAI(lambda r, k, wait=wait: Reply(delay=wait)) as server:
                settings = Settings(
                    model="openai/fake",
                    api_base=server.base_url,
                    mode="tools",
                    concurrency=level,
                    out_dir=work / f"llm-{level}-{wait}",
                    cache_dir=work / f"llm-cache-{level}-{wait}",
                    html=False,
                )
                started = time.perf_counter()
                report = run(papers, settings)
                times[wait] = time.perf_counter() - started
                assert report.new == n, report
                peak = server.max_in_flight
        ideal = n * delay / level
        added = times[delay] - times[0.0]
        rows.append(
            {
                "concurrency": level,
                "papers": n,
                "delay_s": delay,
                "ideal_added_s": ideal,
                "measured_added_s": added,
                # Noise can make the zero-delay run the slower one at small sizes: efficiency is then at its cap.
                "efficiency": min(ideal / added, 9.99) if added > 0 else 9.99,
                "max_in_flight": peak,
                "overhead_s": times[0.0],
            }
        )
    return rows


def llm_ceiling(n: int, concurrency: int, work: Path) -> dict:
    """The LLM client's own ceiling: ``n`` papers at ``concurrency`` against a zero-latency OpenAI-compatible
    server in another process, timed past start-up (imports and a warm-up run untimed), with the client's CPU."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    url_file = work / "ceiling-url"
    server = subprocess.Popen([sys.executable, "-m", "bench.llm_server", str(url_file)], cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while not (url_file.exists() and url_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        url = url_file.read_text()
        # A fresh process: importing what the openai/ path loads (instructor and the openai SDK, never litellm),
        # and one paper from the command line, start to exit.
        cli = [SUMMARIZE] if SUMMARIZE else [sys.executable, "-m", "pipeline"]
        imports_s = min(run_child([sys.executable, "-c", "import instructor, openai"])["wall_s"] for _ in range(3))
        one = _short_papers(1, "one")
        one_path = work / "one-paper.jsonl"
        one_path.write_text(json.dumps(one[0].model_dump(mode="json")) + "\n")
        one_runs = [
            run_child(
                [*cli, "run", str(one_path), "--out", str(work / f"one-{i}"), "--model", "openai/fake"]
                + ["--api-base", url, "--refresh"],
                env={"SUMMARIZE_CACHE_DIR": str(work / "one-cache")},
            )
            for i in range(3)
        ]
        assert all(r["returncode"] == 0 for r in one_runs), one_runs
        one_paper = min(one_runs, key=lambda r: r["wall_s"])

        from pipeline.run import run
        from pipeline.settings import Settings

        def settings(tag: str) -> Settings:
            return Settings(
                model="openai/fake",
                api_base=url,
                mode="tools",
                concurrency=concurrency,
                out_dir=work / f"ceiling-{tag}",
                cache_dir=work / f"ceiling-cache-{tag}",
                html=False,
                feed=False,
            )

        run(_short_papers(16, "w"), settings("warm"))
        batch = _short_papers(n, "p")
        wall, cpu = time.perf_counter(), time.process_time()
        report = run(batch, settings("timed"))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert report.new == n, report
    finally:
        server.kill()
        server.wait()
    return {
        "papers": n,
        "concurrency": concurrency,
        "imports_s": imports_s,
        "one_paper_s": one_paper["wall_s"],
        "one_paper_rss_mb": one_paper["peak_rss_mb"],
        "papers_per_s": n / wall,
        "client_cpu_ms": cpu / n * 1000,
    }
