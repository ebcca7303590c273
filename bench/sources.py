"""python -m bench.sources: fetch-and-parse time of the bioRxiv, OpenReview and feed readers against local stand-ins
(tests/fake_apis.py; no engine, no network): 10,000 preprints, 10,000 notes, one feed of 5,000 entries."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "tests")]

from fake_apis import details_page, notes_page, preprint, review_note  # noqa: E402
from fake_sources import FakeSources  # noqa: E402

from pipeline.settings import load_settings  # noqa: E402
from pipeline.sources.registry import open_remote  # noqa: E402


def _timed(source: str, **options: Any) -> tuple[int, int, float]:
    started = time.perf_counter()
    fetch, items = open_remote(source, load_settings(), **options)
    count = sum(1 for _ in items)
    return count, fetch.requests, time.perf_counter() - started


def biorxiv(n: int = 10_000) -> str:
    items = [preprint(i) for i in range(n)]
    with FakeSources(lambda p, q, k: (200, {}, details_page(items, int(p.split("/")[-2]), n), 0.0)) as server:
        os.environ.update(SUMMARIZE_BIORXIV_API=server.url, SUMMARIZE_BIORXIV_INTERVAL_S="0")
        count, requests, seconds = _timed("biorxiv", date="2026-03-12")
    return f"biorxiv: {count:,} preprints, {requests} requests, {seconds:.2f} s"


def openreview(n: int = 10_000) -> str:
    notes = [review_note(i) for i in range(n)]
    with FakeSources(lambda p, q, k: (200, {}, notes_page(notes, int(q["offset"][0]), int(q["limit"][0])), 0.0)) as s:
        os.environ.update(SUMMARIZE_OPENREVIEW_API=s.url, SUMMARIZE_OPENREVIEW_INTERVAL_S="0")
        count, requests, seconds = _timed("openreview", venue="V")
    return f"openreview: {count:,} notes, {requests} requests, {seconds:.2f} s"


def feed(n: int = 5_000) -> str:
    now = format_datetime(datetime.now(UTC))
    body = "".join(
        f"<item><title>Item {i}</title><link>https://j.example.org/10.5555/x.{i}</link><pubDate>{now}</pubDate>"
        f"<description>&lt;p&gt;Finding {i} holds. It holds &lt;b&gt;twice&lt;/b&gt;.&lt;/p&gt;</description></item>"
        for i in range(n)
    )
    rss = f"<?xml version='1.0'?><rss version='2.0'><channel><title>J</title>{body}</channel></rss>"
    with FakeSources(lambda p, q, k: (200, {}, rss, 0.0)) as server:
        count, requests, seconds = _timed("feed", urls=[server.url + "/rss"])
    return f"feed: {count:,} entries ({len(rss) // 1024:,} KB), {requests} request, {seconds:.2f} s"


if __name__ == "__main__":
    for line in (biorxiv(), openreview(), feed()):
        print(line)
