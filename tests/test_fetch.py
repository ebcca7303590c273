"""Remote sources against a local server: pagination, politeness, 429/5xx/timeouts, empty, failed, stale."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import invoke, read_jsonl
from fake_sources import FakeSources, atom, hf_item, json_body, rss

from pipeline.errors import FetchError
from pipeline.sources.http import Http
from pipeline.sources.remote import arxiv_api, hf_daily


def _pages(per_page: int, total: int):
    def handler(path: str, query: dict, n: int):
        page = int(query["p"][0])
        limit = int(query["limit"][0])
        assert limit == per_page
        items = [hf_item(i) for i in range(page * limit, min(total, (page + 1) * limit))]
        return 200, {"content-type": "application/json"}, json_body(items), 0.0

    return handler


def test_hf_daily_paginates_until_exhausted_and_maps_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSources(_pages(100, 230)) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        fetch, papers = hf_daily(Http(), day="2026-03-12")
        papers = list(papers)
    assert len(papers) == 230 and [q["p"] for _, q, _ in server.log] == [["0"], ["1"], ["2"]]
    assert all(q["date"] == ["2026-03-12"] for _, q, _ in server.log)
    assert server.log[0][2].startswith("summarize/")  # a User-Agent naming the tool
    first = papers[1]
    assert first.id == "arxiv:2603.10001" and first.title == "Paper number 1"
    assert first.authors == ["Ada Lovelace", "Alan Turing"] and "\n" not in first.abstract
    assert first.meta == {"upvotes": 1, "ai_keywords": ["method", "task 1"]}
    assert [(link.url, link.kind) for link in first.links] == [("https://github.com/example/repo1", "code")]
    assert [link.kind for link in papers[3].links] == ["code", "project"]
    assert fetch.status == "ok" and fetch.count == 230


def test_429_with_retry_after_and_503_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(path: str, query: dict, n: int):
        if n == 1:
            return 429, {"retry-after": "0"}, "slow down", 0.0
        if n == 2:
            return 503, {"retry-after": "0"}, "busy", 0.0
        return 200, {}, json_body([hf_item(1)]), 0.0

    with FakeSources(handler) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        fetch, papers = hf_daily(Http(), day="2026-03-12")
        assert len(list(papers)) == 1 and len(server.log) == 3


def test_a_timeout_is_retried_then_reported_with_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSources(lambda p, q, n: (200, {}, json_body([]), 1.0)) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        _, papers = hf_daily(Http(timeout_s=0.2, retries=1, backoff_s=0.01), day="2026-03-12")
        with pytest.raises(FetchError, match=r"timed out fetching http://127\.0\.0\.1:\d+/api/daily_papers"):
            list(papers)
    assert len(server.log) == 2


def test_a_failed_fetch_is_an_error_never_zero_papers(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSources(lambda p, q, n: (404, {}, "no", 0.0)) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        result = invoke("run", "--source", "hf-daily", "--date", "2026-03-12", "--out", str(out), expect=3)
    assert "HTTP 404" in result.output and "/api/daily_papers" in result.output
    report = json.loads((out / "run.json").read_text())
    assert report["fetch"]["status"] == "failed" and report["total"] == 0


def test_a_failure_on_page_two_keeps_page_one(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(path: str, query: dict, n: int):
        if query["p"] == ["0"]:
            return 200, {}, json_body([hf_item(i) for i in range(100)]), 0.0
        return 500, {"retry-after": "0"}, "boom", 0.0

    with FakeSources(handler) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        invoke("run", "--source", "hf-daily", "--date", "2026-03-12", "--out", str(out), expect=3)
    assert len(read_jsonl(out / "corpus.jsonl")) == 100


def test_an_empty_day_is_told_apart_from_a_failure(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSources(lambda p, q, n: (200, {}, json_body([]), 0.0)) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        result = invoke("run", "--source", "hf-daily", "--date", "2026-03-12", "--out", str(out), expect=5)
    assert "no papers where some were expected" in result.output
    assert json.loads((out / "run.json").read_text())["fetch"]["status"] == "empty"


def test_end_to_end_fetch_summarise_and_corpus(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSources(_pages(100, 7)) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        report = json.loads(
            invoke("run", "--source", "hf-daily", "--date", "2026-03-12", "--out", str(out), "--json").stdout
        )
    assert report["fetch"]["status"] == "ok" and report["new"] == 7
    records = read_jsonl(out / "corpus.jsonl")
    assert [r["id"] for r in records] == [f"arxiv:2603.{10000 + i}" for i in range(7)]
    assert records[1]["source_meta"]["upvotes"] == 1
    assert {"url": "https://github.com/example/repo1", "kind": "code", "origin": "metadata"} in records[1]["links"]


def test_arxiv_pages_politely_and_strips_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(path: str, query: dict, n: int):
        start = int(query["start"][0])
        entries = [
            (f"2603.{20000 + i}v2", f"Title {i}", f"We study {i}. It works.") for i in range(start, min(start + 2, 5))
        ]
        return 200, {"content-type": "application/atom+xml"}, atom(entries, total=5), 0.0

    with FakeSources(handler) as server:
        monkeypatch.setenv("SUMMARIZE_ARXIV_API", server.url + "/api/query")
        http = Http(interval_s=0.2)
        fetch, papers = arxiv_api(http, query="all:causal", page_size=2)
        import time

        started = time.monotonic()
        papers = list(papers)
        elapsed = time.monotonic() - started
    assert [p.id for p in papers] == [f"arxiv:2603.{20000 + i}" for i in range(5)]
    assert all(p.version == 2 for p in papers) and papers[0].url == "https://arxiv.org/abs/2603.20000"
    assert [q["start"] for _, q, _ in server.log] == [["0"], ["2"], ["4"]]
    assert elapsed >= 0.4  # the interval between requests was kept
    assert papers[0].meta["primary_category"] == "cs.CL" and papers[0].links[0].kind == "paper"


def test_arxiv_category_window_on_a_weekend_may_be_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSources(lambda p, q, n: (200, {}, atom([]), 0.0)) as server:
        monkeypatch.setenv("SUMMARIZE_ARXIV_API", server.url + "/api/query")
        saturday, papers = arxiv_api(Http(), category="cs.CL", end="2026-03-14", days=1)
        assert list(papers) == [] and saturday.status == "ok"
        wednesday, papers = arxiv_api(Http(), category="cs.CL", end="2026-03-11", days=1)
        assert list(papers) == [] and wednesday.status == "empty"
    query = server.log[0][1]["search_query"][0]
    assert query == "cat:cs.CL AND submittedDate:[202603140000 TO 202603142359]"


def test_arxiv_feed_new_only_and_stale_detection(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = [
        ("2603.30001", "Fresh one", "new"),
        ("2603.30002", "Crossed", "cross"),
        ("2603.30003", "Replaced", "replace"),
    ]
    old = format_datetime(datetime.now(UTC) - timedelta(days=9))
    new = format_datetime(datetime.now(UTC))
    for pub, code, count in ((new, None, 1), (old, 6, 1)):
        with FakeSources(lambda p, q, n, pub=pub: (200, {}, rss(items, pub), 0.0)) as server:
            monkeypatch.setenv("SUMMARIZE_ARXIV_RSS", server.url + "/rss")
            result = invoke(
                "run", "--source", "arxiv", "--feed", "--category", "cs.CL", "--out", str(out), "--json", expect=code
            )
        report = json.loads(result.stdout)
        assert report["total"] == count and report["fetch"]["status"] == ("stale" if code else "ok")
        assert server.log[0][0] == "/rss/cs.CL"
    with FakeSources(lambda p, q, n: (200, {}, rss(items, new), 0.0)) as server:
        monkeypatch.setenv("SUMMARIZE_ARXIV_RSS", server.url + "/rss")
        report = json.loads(
            invoke(
                "run",
                "--source",
                "arxiv",
                "--feed",
                "--cross-lists",
                "--category",
                "cs.CL",
                "--out",
                str(out),
                "--json",
            ).stdout
        )
    assert report["total"] == 2


def test_recorded_hf_and_arxiv_interactions_replay_end_to_end(out: Path) -> None:
    import vcr
    from conftest import REPO

    replay = vcr.VCR(cassette_library_dir=str(REPO / "cassettes"), record_mode="none")
    with replay.use_cassette("hf_daily_papers_2026-03-12.yaml"):
        report = json.loads(
            invoke("run", "--source", "hf-daily", "--date", "2026-03-12", "--out", str(out), "--json").stdout
        )
    assert report["fetch"]["url"] == "https://huggingface.co/api/daily_papers" and report["new"] == 3
    with replay.use_cassette("arxiv_api_id_list.yaml"):
        report = json.loads(
            invoke("run", "--source", "arxiv", "--ids", "2401.00001,2401.00002", "--out", str(out), "--json").stdout
        )
    assert report["new"] == 2 and report["corpus_total"] == 5
    records = {r["id"]: r for r in read_jsonl(out / "corpus.jsonl")}
    assert records["arxiv:2401.00001"]["source_meta"]["version"] == 2
    assert "0.3 points" in " ".join(records["arxiv:2401.00001"]["results"])


def test_one_bad_hf_item_costs_only_itself(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    control, no_abstract, numeric_title = hf_item(2), hf_item(4), hf_item(5)
    control["paper"]["id"] = "2603.\x0110002"
    no_abstract["paper"]["summary"] = None
    numeric_title["paper"]["title"], numeric_title["title"] = 5, None
    items = [hf_item(0), hf_item(1), control, hf_item(3), no_abstract, numeric_title, hf_item(6)]
    with FakeSources(lambda p, q, n: (200, {}, json_body(items), 0.0)) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        result = invoke("run", "--source", "hf-daily", "--date", "2026-03-12", "--out", str(out), expect=1)
    assert [r["id"] for r in read_jsonl(out / "corpus.jsonl")] == [f"arxiv:2603.{10000 + i}" for i in (0, 1, 3, 6)]
    failures = read_jsonl(out / "failures.jsonl")
    assert [(f["id"], f["stage"], f["source"], f["line"]) for f in failures] == [
        ("hf-daily:3", "input", "hf-daily", 3),
        ("hf-daily:5", "input", "hf-daily", 5),
        ("hf-daily:6", "input", "hf-daily", 6),
    ]
    assert "item 2" in failures[0]["error"] and "control character U+0001" in failures[0]["error"]
    assert "id '2603.10004'" in failures[1]["error"] and "the abstract is missing" in failures[1]["error"]
    assert failures[1]["title"] == "Paper number 4"
    assert "the title is int, not text" in failures[2]["error"]
    report = json.loads((out / "run.json").read_text())
    assert report["fetch"]["status"] == "ok" and report["fetch"]["papers"] == 4 and report["input_errors"] == 3
    assert "hf-daily:3" in result.output
