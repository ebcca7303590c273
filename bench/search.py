"""Site search over a large archive (issue 35): ``python -m bench.search [--sizes 10000,100000] [--json]``.

For each N: a partitioned corpus of N generated records (titles, authors, tldr, key result, tasks, datasets,
metrics and some scores drawn from the sample listing's words; 300 first seen a day up to `TODAY`), then

* the full index build (`pipeline.archive.search.update` with no index yet: what a first run or a period-kind
  change costs) and the daily one (300 more papers on `TODAY`: only this month's segment is rebuilt);
* the index: files, bytes, the largest file;
* queries in headless Chromium (the page's own script, `pipeline/page_search.js`, driven over the DevTools
  protocol, no virtual time) against ``python -m http.server`` on 127.0.0.1: the full title of a paper first seen
  300 days before, one author, two common words. Each query runs in a fresh page with an empty cache: bytes read
  (response bodies), requests, time from the query to the results on screen, and the rank of the paper sought.

The records hold only what search reads (they are not schema-valid records): the index reads partitions without
validating them, so this is the cost of the index, not of summarising.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

from bench.generate import REPO, _sentences
from pipeline.schema import SCHEMA_VERSION

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]  # as tests/test_page.py starts it
TODAY = "2026-03-30"
PER_DAY = 300
TASKS = ["image generation", "question answering", "machine translation", "segmentation", "retrieval", "reasoning"]
DATASETS = ["ImageNet", "COCO", "MMLU", "GSM8K", "LibriSpeech", "WMT14", "HumanEval", "ADE20K", "SQuAD"]
METRICS = ["accuracy", "FID", "BLEU", "F1", "WER", "mIoU", "pass@1", "exact match"]


def generate(folder: Path, n: int, seed: int = 5) -> dict[str, dict]:
    """``n`` records in monthly partitions with ids files, ``PER_DAY`` a day up to the day before `TODAY`; returns
    the records first seen 300 days before `TODAY` (the oldest day of a smaller corpus): what the queries seek."""
    rng = random.Random(seed)
    pool = _sentences()
    vocab = [w.strip(".,;:()[]\"'").lower() for s in pool for w in s.split()]
    vocab = [w for w in vocab if w.isalpha() and len(w) > 2]
    names = sorted(
        {"".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(3)) for _ in range(30000)}
    )
    where = folder / "corpus"
    where.mkdir(parents=True)
    first = date.fromisoformat(TODAY) - timedelta(days=-(-n // PER_DAY))
    sought = max(first, date.fromisoformat(TODAY) - timedelta(days=300)).isoformat()  # or the oldest day
    handles: dict[str, tuple] = {}
    found: dict[str, dict] = {}
    for i in range(n):
        day = (first + timedelta(days=i // PER_DAY)).isoformat()
        record = _record(rng, i, vocab, pool, names)
        month = day[:7]
        if month not in handles:
            handles[month] = ((where / f"{month}.jsonl").open("w"), (where / f"{month}.ids").open("w"))
        part, ids = handles[month]
        part.write(json.dumps(record, separators=(",", ":")) + "\n")
        ids.write(f"{record['id']}\t{day}\n")
        if day == sought and len(found) < 3:
            found[record["id"]] = record
    for part, ids in handles.values():
        part.close()
        ids.close()
    return found


def _record(rng: random.Random, i: int, vocab: list[str], pool: list[str], names: list[str]) -> dict:
    record = {
        "schema_version": SCHEMA_VERSION,
        "id": f"b{i:08d}",
        "title": " ".join(rng.choice(vocab) for _ in range(rng.randint(6, 11))).capitalize(),
        "authors": [
            f"{rng.choice(names).capitalize()} {rng.choice(names).capitalize()}" for _ in range(rng.randint(2, 6))
        ],
        "tldr": rng.choice(pool),
        "results": [rng.choice(pool)],
        "tasks": rng.sample(TASKS, rng.randint(0, 2)),
        "datasets": rng.sample(DATASETS, rng.randint(0, 2)),
        "metrics": rng.sample(METRICS, rng.randint(0, 2)),
    }
    if record["datasets"] and record["metrics"] and rng.random() < 0.3:
        value = f"{rng.uniform(10, 99):.1f}"
        record["scores"] = [{"value": value, "metric": record["metrics"][0], "dataset": record["datasets"][0]}]
    return record


def _add_today(folder: Path, n: int) -> None:
    """``PER_DAY`` more papers first seen on `TODAY` (the daily run's new ones), in this month's partition."""
    rng = random.Random(9)
    pool = _sentences()
    vocab = [w.lower() for s in pool for w in s.split() if w.isalpha()]
    month = TODAY[:7]
    with (
        (folder / "corpus" / f"{month}.jsonl").open("a") as part,
        (folder / "corpus" / f"{month}.ids").open("a") as ids,
    ):
        for i in range(n, n + PER_DAY):
            record = _record(rng, i, vocab, pool, ["ann", "bob", "eve"])
            part.write(json.dumps(record, separators=(",", ":")) + "\n")
            ids.write(f"{record['id']}\t{TODAY}\n")


def build(folder: Path) -> dict:
    from pipeline.archive import publish, search

    def period(day: str) -> str:
        return publish.period_of(day, "day")

    started = time.perf_counter()
    search.update(folder, set(), kind="day", period=period, today=TODAY)
    full = time.perf_counter() - started
    sizes = search.sizes(folder)
    manifest = search.load_manifest(folder)
    n = manifest["records"]
    _add_today(folder, n)
    started = time.perf_counter()
    written = search.update(folder, {TODAY}, kind="day", period=period, today=TODAY)
    daily = time.perf_counter() - started
    index = {"period": "day", "periods": {}, "records": n}
    (folder / "archive" / "index.html").write_bytes(publish._index_page("Bench", index))
    return {
        "records": n,
        "full_build_s": full,
        "daily_build_s": daily,
        "daily_segments": written,
        **sizes,
        "segments": len(manifest["segments"]),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


QUERY = """new Promise(function (resolve) {
  var form = document.getElementById("site-search"), input = document.getElementById("site-q");
  var before = form.dataset.done || "";
  input.value = %s;
  var started = performance.now();
  form.requestSubmit();
  var timer = setInterval(function () {
    if ((form.dataset.done || "") === before) return;
    clearInterval(timer);
    var s = window.summarizeSearchStats;
    resolve(JSON.stringify({ms: performance.now() - started, bytes: s.bytes, requests: s.requests, found: s.found,
      hits: Array.from(document.querySelectorAll("#site-results li a"))
        .map(function (a) { return a.getAttribute("href"); })}));
  }, 5);
})"""


async def _cdp_query(port: int, page_url: str, query: str) -> dict:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.put(f"http://127.0.0.1:{port}/json/new?about:blank") as response:
            target = await response.json(content_type=None)
        async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=2**24) as ws:
            counter = 0

            async def call(method: str, **params: object) -> dict:
                nonlocal counter
                counter += 1
                await ws.send_json({"id": counter, "method": method, "params": params})
                while True:
                    message = await ws.receive_json()
                    if message.get("id") == counter:
                        return message

            await call("Network.enable")
            await call("Network.clearBrowserCache")  # every query starts cold
            await call("Page.navigate", url=page_url)
            await asyncio.sleep(0.2)
            for _ in range(200):  # the page loaded and its script ran
                state = await call("Runtime.evaluate", expression="document.readyState", returnByValue=True)
                if state["result"]["result"].get("value") == "complete":
                    break
                await asyncio.sleep(0.05)
            answer = await call(
                "Runtime.evaluate", expression=QUERY % json.dumps(query), awaitPromise=True, returnByValue=True
            )
        async with session.get(f"http://127.0.0.1:{port}/json/close/{target['id']}") as response:
            await response.read()
    return json.loads(answer["result"]["result"]["value"])


def queries(folder: Path, sought: dict[str, dict]) -> list[dict]:
    if CHROMIUM is None:
        return []
    port, debug = _free_port(), _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "-d", str(folder), "--bind", "127.0.0.1", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    profile = tempfile.mkdtemp(prefix="bench-search-profile-")
    browser = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--remote-debugging-port={debug}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{debug}/json/version", timeout=1).close()
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        record = next(iter(sought.values()))
        asks = [("title 300 days old", r["title"], r["id"]) for r in sought.values()]
        asks += [("one author", record["authors"][0], record["id"]), ("two common words", "diffusion models", None)]
        for kind, text, wanted in asks:
            page = f"http://127.0.0.1:{port}/archive/index.html"
            found = asyncio.run(_cdp_query(debug, page, text))
            rank = next(
                (k + 1 for k, href in enumerate(found["hits"]) if wanted and href.endswith("%3A" + wanted)), None
            )
            rows.append(
                {
                    "query": kind,
                    "text": text,
                    "ms": found["ms"],
                    "bytes": found["bytes"],
                    "requests": found["requests"],
                    "matches": found["found"],
                    "rank": rank,
                }
            )
    finally:
        browser.terminate()
        browser.wait(timeout=20)
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
    return rows


def bench(sizes: list[int], work: Path) -> list[dict]:
    results = []
    for n in sizes:
        folder = work / f"site-{n}"
        started = time.perf_counter()
        sought = generate(folder, n)
        generated = time.perf_counter() - started
        row = build(folder)
        row["generate_s"] = generated
        row["queries"] = queries(folder, sought)
        print(
            f"search: {n:,} records: full build {row['full_build_s']:.1f}s, daily {row['daily_build_s']:.1f}s, "
            f"{row['bytes'] / 2**20:.1f} MB in {row['files']} files",
            file=sys.stderr,
        )
        results.append(row)
        shutil.rmtree(folder)
    return results


def markdown(rows: list[dict]) -> list[str]:
    lines = [
        "## Search across the archive (`python -m bench.search`)",
        "",
        f"N generated records, {PER_DAY} first seen a day up to {TODAY}; headless Chromium over",
        "`python -m http.server` on 127.0.0.1, each query in a fresh page with a cold cache (bytes: response bodies",
        "the script read).",
        "",
        "| records | full build | daily build | index | files | largest file | segments |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['records']:,} | {r['full_build_s']:.1f} s | {r['daily_build_s']:.2f} s | "
            f"{r['bytes'] / 2**20:.1f} MB | "
            f"{r['files']:,} | {r['largest'] / 2**10:.0f} KB | {r['segments']} |"
        )
    lines += [
        "",
        "| records | query | time to results | bytes fetched | requests | matches | rank of the paper |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        for q in r["queries"]:
            lines.append(
                f"| {r['records']:,} | {q['query']} | {q['ms']:.0f} ms | {q['bytes'] / 2**10:.0f} KB | "
                f"{q['requests']} | "
                f"{q['matches']:,} | {q['rank'] or '–'} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="record counts, comma-separated")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="summarize-search-", dir=os.environ.get("BENCH_TMP")) as tmp:
        rows = bench([int(x) for x in args.sizes.split(",")], Path(tmp))
    print(json.dumps(rows, indent=2) if args.json else "\n".join(markdown(rows)))
    return 0


if __name__ == "__main__":
    os.chdir(REPO)
    raise SystemExit(main())
