"""python -m bench [--quick] [--write]: start-up, embedded throughput (cold and cached), LLM concurrency efficiency
against a local server with a fixed delay, and corpus merge time and memory. Prints the report; --write replaces
BENCHMARKS.md (or --out) with it."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
from datetime import date
from pathlib import Path

from bench.archive import bench as archive_daily
from bench.archive import markdown as render_archive
from bench.common import SUMMARIZE, run_child
from bench.generate import REPO, write_corpus, write_papers
from bench.leaderboard import leaderboard
from bench.leaderboard import render as render_leaderboard
from bench.llm import llm_ceiling, llm_concurrency
from bench.rank import ranking
from bench.rank import render as render_ranking
from bench.search import bench as search_archive
from bench.search import markdown as render_search

NOTES = REPO / "BENCHMARKS.notes.md"  # hand-written notes appended to the report


def startup(repeats: int) -> dict:
    cli = [SUMMARIZE] if SUMMARIZE else [sys.executable, "-m", "pipeline"]
    bare = min(run_child([sys.executable, "-c", "pass"])["wall_s"] for _ in range(repeats))
    helps = min(run_child([*cli, "--help"])["wall_s"] for _ in range(repeats))
    return {"bare_python_s": bare, "help_s": helps, "ratio": helps / bare}


def embedded(n: int, work: Path) -> dict:
    papers = write_papers(work / "papers.jsonl", n)
    cli = [SUMMARIZE] if SUMMARIZE else [sys.executable, "-m", "pipeline"]
    env = {"SUMMARIZE_CACHE_DIR": str(work / "cache")}
    result = {}
    for phase in ("cold", "cached"):
        measured = run_child([*cli, "run", str(papers), "--out", str(work / "out")], env)
        run = json.loads((work / "out" / "run.json").read_text())
        assert run["new" if phase == "cold" else "cached"] == n, run
        result[phase] = {
            "papers": n,
            "run_seconds": run["seconds"],
            "papers_per_s": n / run["seconds"],
            "wall_s": measured["wall_s"],
            "peak_rss_mb": measured["peak_rss_mb"],
        }
    return result


def merge(sizes: list[int], n_new: int, work: Path) -> list[dict]:
    rows = []
    for size in sizes:
        folder = work / f"corpus-{size}"
        folder.mkdir()
        write_corpus(folder / "corpus.jsonl", size)
        measured = run_child([sys.executable, "-m", "bench.merge_child", str(folder), str(n_new)])
        mb = (folder / "corpus.jsonl").stat().st_size / 2**20
        rows.append(
            {
                "records": size,
                "new": n_new,
                "corpus_mb": mb,
                "wall_s": measured["wall_s"],
                "peak_rss_mb": measured["peak_rss_mb"],
            }
        )
        for path in folder.iterdir():
            path.unlink()
    return rows


def shards_merge(total: int, shards: int, work: Path) -> dict:
    """``summarize merge`` of ``shards`` shard folders holding ``total`` records in all (tables and feed rendered)."""
    folders = []
    for k in range(shards):
        folder = work / f"shard-{k}"
        folder.mkdir()
        write_corpus(folder / "corpus.jsonl", total // shards, prefix=f"s{k}-")
        folders.append(str(folder))
    cli = [SUMMARIZE] if SUMMARIZE else [sys.executable, "-m", "pipeline"]
    out = work / "merged"
    measured = run_child([*cli, "merge", *folders, "--out", str(out)])
    assert measured["returncode"] == 0, measured
    lines = sum(1 for _ in (out / "corpus.jsonl").open())
    assert lines == total, lines
    return {"records": total, "shards": shards, "wall_s": measured["wall_s"], "peak_rss_mb": measured["peak_rss_mb"]}


def ray_executor(n: int, work: Path) -> dict | None:
    """``--executor ray`` on a local Ray (every CPU) against the local executor, both cold, on the same papers."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return None
    papers = write_papers(work / "ray-papers.jsonl", n)
    cli = [SUMMARIZE] if SUMMARIZE else [sys.executable, "-m", "pipeline"]
    result: dict = {"papers": n, "cpus": os.cpu_count()}
    for executor in ("local", "ray"):
        out = work / f"ray-{executor}"
        env = {"SUMMARIZE_CACHE_DIR": str(work / f"ray-cache-{executor}"), "RAY_ADDRESS": ""}
        measured = run_child([*cli, "run", str(papers), "--out", str(out), "--executor", executor], env)
        run = json.loads((out / "run.json").read_text())
        assert run["new"] == n, run
        result[executor] = {
            "run_seconds": run["seconds"],
            "papers_per_s": n / run["seconds"],
            "wall_s": measured["wall_s"],
            "peak_rss_mb": measured["peak_rss_mb"],
            "split": run.get("executor"),
        }
    return result


def render_markdown(results: dict, notes: Path = NOTES) -> str:
    """The report as Markdown, ending with the hand-written ``notes`` (BENCHMARKS.notes.md) when they exist."""
    s, e = results["startup"], results["embedded"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {results['date']} on {results['machine']} with `{results['command']}`.",
        "Regenerate with `python -m bench --write` (about 5 minutes; `--quick`: under a minute, smaller inputs;",
        "without `--write` the report is only printed). Numbers are medians or single runs on a shared 2-core",
        "machine: expect ±10 %.",
        "",
        "## Targets",
        "",
        "| what | target | measured | |",
        "|---|---|---|---|",
        f"| `summarize --help` / bare `python -c pass` | ≤ 3× | {s['ratio']:.2f}× "
        f"({s['help_s'] * 1000:.0f} ms / {s['bare_python_s'] * 1000:.0f} ms) | "
        f"{'met' if s['ratio'] <= 3 else 'missed'} |",
        f"| embedded, cold cache | ≥ 500 papers/s | {e['cold']['papers_per_s']:.0f} papers/s "
        f"({e['cold']['papers']:,} papers) | {'met' if e['cold']['papers_per_s'] >= 500 else 'missed'} |",
        f"| embedded, cached rerun | ≥ 5,000 papers/s | {e['cached']['papers_per_s']:.0f} papers/s | "
        f"{'met' if e['cached']['papers_per_s'] >= 5000 else 'missed'} |",
    ]
    for row in results["llm"]:
        if row["concurrency"] == 32:
            eff = row["efficiency"]
            lines.append(
                f"| LLM concurrency efficiency at 32 | ≥ 0.85 | {eff:.2f} | {'met' if eff >= 0.85 else 'missed'} |"
            )
    lc = results.get("llm_ceiling")
    if lc:
        rate = lc["papers_per_s"]
        lines.append(
            f"| LLM client ceiling, concurrency 64, zero-latency server | ≥ 200 papers/s | {rate:.0f} papers/s "
            f"({lc['client_cpu_ms']:.1f} ms CPU a paper) | {'met' if rate >= 200 else 'missed'} |"
        )
    lines += _leaderboard_target(results.get("leaderboard") or [])
    lines += [
        "",
        "## What each number means",
        "",
        "- **Start-up**: wall time of `summarize --help` over a bare interpreter start (same venv), best of",
        "  several runs.",
        "  The CLI imports click only; pydantic, numpy and litellm load inside commands that need them.",
        "- **Embedded throughput**: `summarize run` on generated papers (6–10 sentences each, drawn from the",
        "  sample listing), from the run's own clock (`run.json` `seconds`: reading, summarising, caching, merging",
        "  the corpus, writing the three tables). *Cold* = empty cache; *cached* = the same run again, every paper",
        "  a cache hit. Cold misses go to one worker process per CPU (about 53 MB each); peak RSS is the",
        "  largest single process (the driver).",
        "- **LLM concurrency efficiency**: a local OpenAI-compatible server answers every request after a fixed",
        "  delay. Ideal added time = papers × delay / concurrency; measured added time = the run with the delay",
        "  minus the same run with no delay (so litellm/instructor overhead is not counted twice). 1.0 is perfect",
        "  overlap. `max in flight` is what the server saw.",
        "- **Corpus merge**: upserting new records (half replacing existing ids) into an existing sorted corpus",
        "  in a fresh process. The merge streams the old file, so peak memory should not grow with the corpus.",
        "",
        "## Embedded engine",
        "",
        "| phase | papers | seconds | papers/s | peak RSS |",
        "|---|---|---|---|---|",
    ]
    for phase in ("cold", "cached"):
        r = e[phase]
        lines.append(
            f"| {phase} | {r['papers']:,} | {r['run_seconds']:.2f} | {r['papers_per_s']:.0f} | "
            f"{r['peak_rss_mb']:.0f} MB |"
        )
    lines += [
        "",
        "## LLM path concurrency",
        "",
        "| concurrency | papers | delay | ideal added | measured added | efficiency | max in flight |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["llm"]:
        lines.append(
            f"| {r['concurrency']} | {r['papers']} | {r['delay_s']:.2f} s | {r['ideal_added_s']:.2f} s | "
            f"{r['measured_added_s']:.2f} s | {r['efficiency']:.2f} | {r['max_in_flight']} |"
        )
    lc = results.get("llm_ceiling")
    if lc:
        lines += [
            "",
            "## LLM client ceiling",
            "",
            f"{lc['papers']:,} papers at concurrency {lc['concurrency']} against an OpenAI-compatible server in",
            "another process that answers at once (`bench/llm_server.py`), timed after the imports and a warm-up",
            "run; the client's own CPU per paper is what caps one process whatever the server's speed (both share",
            "the 2 cores here). *One paper*: `summarize run` of a single paper against the same server, the whole",
            "command in a fresh process (best of 3), next to importing what that path loads (instructor and the",
            "openai SDK; `openai/` models never import litellm).",
            "",
            "| papers/s | client CPU per paper | one paper, whole command | its peak RSS "
            "| imports (instructor + openai) |",
            "|---|---|---|---|---|",
            f"| {lc['papers_per_s']:.0f} | {lc['client_cpu_ms']:.1f} ms | {lc['one_paper_s']:.2f} s | "
            f"{lc['one_paper_rss_mb']:.0f} MB | {lc['imports_s']:.2f} s |",
        ]
    lines += [
        "",
        "## Corpus merge",
        "",
        "| existing records | corpus size | new records | seconds | peak RSS |",
        "|---|---|---|---|---|",
    ]
    for r in results["merge"]:
        lines.append(
            f"| {r['records']:,} | {r['corpus_mb']:.0f} MB | {r['new']:,} | {r['wall_s']:.2f} | "
            f"{r['peak_rss_mb']:.0f} MB |"
        )
    sm = results.get("shards_merge")
    if sm:
        lines += [
            "",
            "## Shards and merge",
            "",
            f"`summarize merge` of {sm['shards']} shard folders, {sm['records']:,} records in all (a streamed k-way",
            "merge; tables and feed rendered in the same pass):",
            "",
            "| records | shards | seconds | peak RSS |",
            "|---|---|---|---|",
            f"| {sm['records']:,} | {sm['shards']} | {sm['wall_s']:.1f} | {sm['peak_rss_mb']:.0f} MB |",
        ]
    rx = results.get("ray")
    if rx:
        split = rx["ray"]["split"] or {}
        lines += [
            "",
            "## Ray Data executor",
            "",
            f"`summarize run --executor ray` on {rx['papers']:,} papers, nothing cached, a local Ray started by the",
            f"run ({rx['cpus']} CPUs, one engine actor per CPU), against the local executor on the same papers. Peak",
            "RSS is the driver process only (Ray's workers are separate processes).",
            "",
            "| executor | seconds | papers/s | peak RSS (driver) |",
            "|---|---|---|---|",
        ]
        for name in ("local", "ray"):
            r = rx[name]
            lines.append(f"| {name} | {r['run_seconds']:.1f} | {r['papers_per_s']:.0f} | {r['peak_rss_mb']:.0f} MB |")
        lines += [
            "",
            f"Where the Ray run's time went: starting the local Ray {split.get('connect_s', 0):.1f} s, waiting on the",
            f"cluster (actors building engines, summarising, results shipped back) {split.get('cluster_s', 0):.1f} s,",
            f"caching and recording results on the driver {split.get('driver_s', 0):.1f} s; the rest is reading,",
            "cache lookups, the corpus merge and the tables, as in the local run.",
        ]
    if results.get("ranking"):
        lines += render_ranking(results["ranking"])
    if results.get("archive"):
        lines += ["", *render_archive(results["archive"])]
    if results.get("leaderboard"):
        lines += render_leaderboard(results["leaderboard"])
    if results.get("search"):
        lines += ["", *render_search(results["search"])]
    if notes.exists():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"


def _leaderboard_target(rows: list[dict]) -> list[str]:
    """The Targets line of the leaderboard build at 100,000 records (scores in the labelled data's shares)."""
    wanted = (100_000, "single", "labelled")
    row = next((r for r in rows if (r["records"], r["layout"], r["shares"]) == wanted), None)
    if row is None:
        return []
    met = "met" if row["build_s"] <= 2 else "missed"
    measured = f"{row['build_s']:.2f} s ({row['build_cpu_s']:.2f} s CPU, {row['boards']} boards)"
    return [f"| leaderboard build, 100,000 records | ≤ 2 s | {measured} | {met} |"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs; under a minute")
    parser.add_argument(
        "--write", action="store_true", help="replace the tracked BENCHMARKS.md (or --out) with this run's report"
    )
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="where --write writes the report")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON instead of the report")
    args = parser.parse_args(argv)
    quick = args.quick
    with tempfile.TemporaryDirectory(prefix="summarize-bench-") as tmp:
        work = Path(tmp)
        results = {
            "date": date.today().isoformat(),
            "machine": f"{os.cpu_count()} cores, {_memory_gb():.0f} GB RAM, {platform.machine()}, "
            f"Python {platform.python_version()}",
            "command": "python -m bench" + (" --quick" if quick else ""),
            "startup": startup(3 if quick else 7),
        }
        print(f"start-up: {results['startup']['ratio']:.2f}x bare python", file=sys.stderr)
        results["embedded"] = embedded(2000 if quick else 10_000, work)
        print(
            f"embedded: {results['embedded']['cold']['papers_per_s']:.0f} cold, "
            f"{results['embedded']['cached']['papers_per_s']:.0f} cached papers/s",
            file=sys.stderr,
        )
        results["llm"] = llm_concurrency([1, 8, 32] if quick else [1, 8, 32, 64], 0.1 if quick else 0.25, work)
        print(
            "llm: " + ", ".join(f"c={r['concurrency']}: {r['efficiency']:.2f}" for r in results["llm"]), file=sys.stderr
        )
        results["llm_ceiling"] = llm_ceiling(500 if quick else 2000, 64, work)
        lc = results["llm_ceiling"]
        print(f"llm ceiling: {lc['papers_per_s']:.0f}/s, {lc['client_cpu_ms']:.1f} ms CPU/paper", file=sys.stderr)
        results["merge"] = merge([20_000, 100_000] if quick else [100_000, 1_000_000], 1000, work)
        print(
            "merge: "
            + ", ".join(f"{r['records']}: {r['wall_s']:.1f}s {r['peak_rss_mb']:.0f}MB" for r in results["merge"]),
            file=sys.stderr,
        )
        results["shards_merge"] = shards_merge(10_000 if quick else 100_000, 2, work)
        sm = results["shards_merge"]
        print(f"shards+merge: {sm['records']}: {sm['wall_s']:.1f}s {sm['peak_rss_mb']:.0f}MB", file=sys.stderr)
        results["ranking"] = ranking([(300, 40), (1000, 5000)] if quick else [(300, 40), (1000, 5000), (10_000, 5000)])
        timings = (f"{r['papers']}x{r['library']}: {r['seconds']:.2f}s" for r in results["ranking"])
        print("ranking: " + ", ".join(timings), file=sys.stderr)
        (work / "archive").mkdir()  # the daily run against a large partitioned corpus (bench/archive.py)
        results["archive"] = archive_daily([0, 20_000] if quick else [0, 100_000], work / "archive")
        results["leaderboard"] = leaderboard([10_000] if quick else [100_000])
        print(
            "leaderboard: " + ", ".join(f"{r['records']} {r['layout']} {r['shares']}: {r['build_s']:.2f}s"
                                        for r in results["leaderboard"]),
            file=sys.stderr,
        )
        (work / "search").mkdir()  # site search over a large archive (bench/search.py; 1M: --sizes there)
        results["search"] = search_archive([10_000] if quick else [10_000, 100_000], work / "search")
        results["ray"] = ray_executor(2000 if quick else 10_000, work)
        if results["ray"]:
            rx = results["ray"]
            print(
                f"ray: {rx['ray']['papers_per_s']:.0f} papers/s vs local {rx['local']['papers_per_s']:.0f}",
                file=sys.stderr,
            )
    report = render_markdown(results)
    if args.write:
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
    elif not args.write:
        print(report, end="")
    return 0


def _memory_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return 0.0


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    raise SystemExit(main())
