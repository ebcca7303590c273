"""RSS 2.0, RSS 1.0 and Atom feeds from a local server: ids from DOIs and arXiv links, HTML reduced to text, a
stale feed told apart from an empty day, one failing feed among good ones, and `summarize run --source feed`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import invoke, read_jsonl
from fake_apis import fixture_bytes
from fake_sources import FakeSources

from pipeline.errors import InputError
from pipeline.settings import load_settings
from pipeline.sources.feeds import html_text
from pipeline.sources.registry import open_remote

FILES = {"/rss2": "feed-rss2.xml", "/rss1": "feed-rss1.rdf", "/atom": "feed-atom.xml"}


def _files(path: str, query: dict, n: int):
    if path in FILES:
        return 200, {"content-type": "application/xml"}, fixture_bytes(FILES[path]), 0.0
    return 404, {}, "gone", 0.0


def _rss(days_ago: list[float]) -> str:
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>Item {i}</title><link>https://j.example.org/{i}</link>"
        f"<pubDate>{format_datetime(now - timedelta(days=d))}</pubDate>"
        f"<description>Finding {i} holds. It holds twice.</description></item>"
        for i, d in enumerate(days_ago)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>J</title>{items}</channel></rss>'


def _papers(urls, **options):
    fetch, items = open_remote("feed", load_settings(), urls=urls, **options)
    return fetch, list(items)


def test_rss2_rss1_and_atom_read_with_ids_from_their_dois_and_arxiv_links() -> None:
    with FakeSources(_files) as server:
        fetch, found = _papers([f"{server.url}/rss2", f"{server.url}/rss1", f"{server.url}/atom"])
    papers = [p for p in found if not isinstance(p, InputError)]
    assert [p.id for p in papers] == [
        "doi:10.5555/jeb.2026.0142",  # prism:doi, lower-cased
        "arxiv:2603.01234",  # the link is arXiv's: its id, and its version
        "doi:10.5556/s41559-026-02001-x",  # RSS 1.0: dc:identifier / prism:doi
        "doi:10.5557/eps.2026.77",  # Atom: a doi.org id
    ]
    assert papers[1].version == 2 and papers[0].authors == ["Rosa Diaz", "Tom Kowalski"]
    assert papers[0].title == "Gut microbes & the timing of sleep"
    assert "alert" not in papers[0].abstract and "(p < 0.05)" in papers[0].abstract
    assert papers[3].title == "Quantum error correction on cheap hardware"
    (error,) = [f for f in found if isinstance(f, InputError)]  # the Atom entry without a description
    assert error.line == 2 and error.title == "An entry without a description"
    assert [f["papers"] for f in fetch.summary()["feeds"]] == [2, 1, 1]


def test_html_is_reduced_to_text() -> None:
    assert html_text("<p>One &amp; two</p><p>three<br/>four</p><style>p{}</style>") == "One & two three four"


def test_a_feed_that_stopped_updating_is_stale_not_empty() -> None:
    with FakeSources(lambda p, q, n: (200, {}, _rss([40, 41]), 0.0)) as server:
        fetch, papers = _papers([server.url + "/old"])
    assert len(papers) == 2 and fetch.status == "stale"


def test_a_quiet_day_of_a_live_feed_is_empty_and_ok() -> None:
    day = (datetime.now(UTC) - timedelta(days=0)).date().isoformat()
    with FakeSources(lambda p, q, n: (200, {}, _rss([1.5, 2.5]), 0.0)) as server:
        fetch, papers = _papers([server.url + "/live"], date=day)
    assert papers == [] and fetch.status == "ok" and fetch.summary()["feeds"][0]["entries"] == 2


def test_a_failing_feed_is_reported_and_the_others_are_read() -> None:
    with FakeSources(_files) as server:
        fetch, found = _papers([f"{server.url}/missing", f"{server.url}/rss1"])
    assert [p.id for p in found] == ["doi:10.5556/s41559-026-02001-x"]
    assert fetch.status == "failed" and "/missing" in fetch.error and "HTTP 404" in fetch.error


def test_a_page_that_is_no_feed_fails_that_feed() -> None:
    with FakeSources(lambda p, q, n: (200, {"content-type": "text/html"}, "<html><body>hi</body></html>", 0.0)) as s:
        fetch, found = _papers([s.url + "/page"])
    assert found == [] and "not an RSS or Atom feed" in fetch.error


def test_a_url_that_is_not_http_is_a_usage_error() -> None:
    with pytest.raises(InputError, match="http"):
        _papers(["file:///etc/passwd"])


def test_run_end_to_end_with_urls_and_with_feeds_in_config(out: Path, tmp_path: Path) -> None:
    with FakeSources(_files) as server:
        feeds = (f"{server.url}/rss2", f"{server.url}/atom")
        invoke("run", "--source", "feed", *feeds, "--date", "2026-03-12", "--out", str(out), expect=1)
        records = {r["id"]: r for r in read_jsonl(out / "corpus.jsonl")}
        assert set(records) == {"doi:10.5555/jeb.2026.0142", "arxiv:2603.01234", "doi:10.5557/eps.2026.77"}
        assert records["arxiv:2603.01234"]["source_meta"]["version"] == 2
        assert [f["stage"] for f in read_jsonl(out / "failures.jsonl")] == ["input"]  # the entry with no text
        config = tmp_path / "config.toml"
        config.write_text(f'[summarize]\nout_dir = "{tmp_path / "out2"}"\n\n[[feeds]]\nurl = "{server.url}/rss1"\n')
        invoke("run", "--source", "feed", "--date", "2026-03-12", "--config", str(config), "--workers", "1")
    report = json.loads((tmp_path / "out2" / "run.json").read_text())
    assert report["fetch"]["feeds"][0]["url"].endswith("/rss1") and report["corpus_total"] == 1


def test_run_a_stale_feed_exits_6(out: Path) -> None:
    with FakeSources(lambda p, q, n: (200, {}, _rss([30]), 0.0)) as server:
        result = invoke("run", "--source", "feed", server.url + "/old", "--out", str(out), "--workers", "1", expect=6)
    assert "stale" in result.output


def test_429_with_retry_after_is_retried_and_a_truncated_feed_fails_that_feed() -> None:
    whole = fixture_bytes("feed-rss1.rdf")

    def handler(path: str, query: dict, n: int):
        if path == "/busy" and n == 1:
            return 429, {"retry-after": "1"}, "slow down", 0.0
        if path == "/cut":
            return 200, {"content-length": str(len(whole) + 300)}, whole, 0.0  # the connection ends early
        return 200, {}, whole, 0.0

    with FakeSources(handler) as server:
        fetch, found = _papers([f"{server.url}/busy", f"{server.url}/cut"])
    assert [p.id for p in found] == ["doi:10.5556/s41559-026-02001-x"] and server.counts["/busy"] == 2
    assert [f["status"] for f in fetch.feeds] == ["stale", "failed"] and "/cut" in fetch.error  # March 2026: stale now
