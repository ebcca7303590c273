"""bioRxiv / medRxiv against a local stand-in of the details API: cursor pages to the end, versions, authors,
category, 429, a truncated page, a bad item among good ones, and `summarize run --source biorxiv` end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import invoke, read_jsonl
from fake_apis import NO_POSTS, details_page, fixture, fixture_bytes, preprint
from fake_sources import FakeSources

from pipeline.errors import InputError
from pipeline.settings import load_settings
from pipeline.sources.registry import open_remote

_PATH = re.compile(r"^/details/(?P<server>\w+)/(?P<first>[\d-]+)/(?P<last>[\d-]+)/(?P<cursor>\d+)/json$")


def _serve(items: list[dict], *, broken: dict[int, tuple[int, dict, str]] | None = None):
    """The details API over ``items``; ``broken`` answers a cursor's nth request otherwise."""

    def handler(path: str, query: dict, n: int):
        found = _PATH.match(path)
        if not found:
            return 404, {}, "not found", 0.0
        cursor = int(found["cursor"])
        if broken and (cursor, n) in broken:
            return (*broken[(cursor, n)], 0.0)
        chosen = [i for i in items if "category" not in query or i["category"].replace(" ", "_") in query["category"]]
        return 200, {"content-type": "application/json"}, details_page(chosen, cursor, len(chosen)), 0.0

    return handler


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch):
    def start(handler):
        server = FakeSources(handler)
        server.__enter__()
        monkeypatch.setenv("SUMMARIZE_BIORXIV_API", server.url)
        monkeypatch.setenv("SUMMARIZE_BIORXIV_INTERVAL_S", "0")
        started.append(server)
        return server

    started: list[FakeSources] = []
    yield start
    for server in started:
        server.__exit__(None, None, None)


def _papers(source: str = "biorxiv", **options):
    fetch, items = open_remote(source, load_settings(), **options)
    return fetch, list(items)


def test_cursor_pages_are_followed_to_the_total(api) -> None:
    server = api(_serve([preprint(i) for i in range(250)]))
    fetch, papers = _papers(date="2026-03-12")
    assert [p for p, _, _ in server.log] == [f"/details/biorxiv/2026-03-12/2026-03-12/{c}/json" for c in (0, 100, 200)]
    assert len(papers) == 250 and len({p.id for p in papers}) == 250
    assert fetch.status == "ok" and fetch.count == 250 and fetch.requests == 3


def test_a_preprint_maps_to_a_paper_with_doi_version_authors_and_full_text_link(api) -> None:
    api(lambda p, q, n: (200, {}, json.dumps(fixture("biorxiv-details.json")), 0.0))
    _, papers = _papers(date="2026-03-12")
    first = papers[0]
    assert first.id == "doi:10.1101/2026.03.10.601234" and first.version == 1
    assert first.url == "https://www.biorxiv.org/content/10.1101/2026.03.10.601234v1"
    assert first.authors == ["M. Garcia", "K. L. van der Berg", "C. Okafor"]
    assert [(link.url, link.kind) for link in first.links] == [
        ("https://www.biorxiv.org/content/early/2026/03/11/2026.03.10.601234.source.xml", "paper")
    ]
    assert first.meta["category"] == "neuroscience" and first.published == "2026-03-11"
    assert papers[2].meta["published_doi"] == "10.1038/s41586-026-00001-1"  # the journal version, once out


def test_medrxiv_asks_its_own_server_and_links_its_site(api) -> None:
    server = api(_serve([{**preprint(1), "server": "medRxiv"}]))
    _, papers = _papers("medrxiv", first="2026-03-10", last="2026-03-12")
    assert server.log[0][0] == "/details/medrxiv/2026-03-10/2026-03-12/0/json"
    assert papers[0].source == "medrxiv"
    assert papers[0].url == "https://www.medrxiv.org/content/10.1101/2026.03.10.600001v1"


def test_the_category_filter_is_asked_for_and_checked(api) -> None:
    items = [preprint(1), preprint(2, category="cell biology"), preprint(3, category="Cell Biology")]
    server = api(lambda p, q, n: (200, {}, details_page(items, 0, 3), 0.0))  # a server that ignores the filter
    _, papers = _papers(date="2026-03-12", category="cell_biology")
    assert server.log[0][1] == {"category": ["cell_biology"]}
    assert [p.title for p in papers] == ["Preprint number 2", "Preprint number 3"]


def test_no_posts_is_an_empty_day_not_an_error(api) -> None:
    api(lambda p, q, n: (200, {}, NO_POSTS, 0.0))
    fetch, papers = _papers(date="2026-03-14")
    assert papers == [] and fetch.status == "empty"


def test_a_bad_item_costs_only_itself(api) -> None:
    items = [preprint(1), {**preprint(2), "doi": "not a doi"}, {**preprint(3), "abstract": None}, preprint(4)]
    api(_serve(items))
    _, found = _papers(date="2026-03-12")
    errors = [f for f in found if isinstance(f, InputError)]
    assert [p.title for p in found if not isinstance(p, InputError)] == ["Preprint number 1", "Preprint number 4"]
    assert [e.line for e in errors] == [2, 3] and "not a DOI" in errors[0].reason and errors[1].title


def test_429_with_retry_after_is_waited_out_and_retried(api) -> None:
    server = api(_serve([preprint(i) for i in range(120)], broken={(100, 1): (429, {"retry-after": "1"}, "slow")}))
    fetch, papers = _papers(date="2026-03-12")
    assert len(papers) == 120 and server.counts["/details/biorxiv/2026-03-12/2026-03-12/100/json"] == 2


def test_wrong_dates_are_usage_errors_before_any_request(api) -> None:
    server = api(_serve([]))
    for options in ({"date": "2026-13-01"}, {"first": "2026-03-12", "last": "2026-03-01"}):
        with pytest.raises(InputError):
            _papers(**options)
    assert server.log == []


def test_run_end_to_end_keeps_the_newest_version(api, out: Path) -> None:
    items = [preprint(1), preprint(2, version=1), preprint(2, version=2), preprint(3)]
    items[2]["abstract"] = "Cells respond to signal 2. We measure 9 responses. Response 2 triples under stress."
    api(_serve(items))
    invoke("run", "--source", "biorxiv", "--date", "2026-03-12", "--out", str(out), "--workers", "1")
    records = {r["id"]: r for r in read_jsonl(out / "corpus.jsonl")}
    assert set(records) == {f"doi:10.1101/2026.03.10.{600000 + n}" for n in (1, 2, 3)}
    second = records["doi:10.1101/2026.03.10.600002"]
    assert second["source_meta"]["version"] == 2 and "triples" in second["abstract"]
    assert second["url"].endswith("v2") and second["source"] == "biorxiv"
    report = json.loads((out / "run.json").read_text())
    assert report["fetch"]["status"] == "ok" and report["fetch"]["papers"] == 4


def test_run_a_truncated_page_fails_the_fetch_and_keeps_page_one(api, out: Path) -> None:
    items = [preprint(i) for i in range(150)]
    cut = details_page(items, 100, 150)
    api(_serve(items, broken={(100, n): (200, {"content-length": str(len(cut) + 500)}, cut) for n in range(1, 9)}))
    result = invoke("run", "--source", "biorxiv", "--date", "2026-03-12", "--out", str(out), "--workers", "1", expect=3)
    assert "/details/biorxiv/2026-03-12/2026-03-12/100/json" in result.output
    assert len(read_jsonl(out / "corpus.jsonl")) == 100
    assert json.loads((out / "run.json").read_text())["fetch"]["status"] == "failed"


def test_run_a_bad_item_goes_to_failures_at_stage_input(api, out: Path) -> None:
    api(_serve([preprint(1), {**preprint(2), "title": ""}, preprint(3)]))
    invoke("run", "--source", "biorxiv", "--date", "2026-03-12", "--out", str(out), "--workers", "1", expect=1)
    failures = read_jsonl(out / "failures.jsonl")
    assert [(f["stage"], f["source"], f["line"]) for f in failures] == [("input", "biorxiv", 2)]
    assert len(read_jsonl(out / "corpus.jsonl")) == 2


def test_run_full_text_reads_the_jats_xml_for_the_papers_own_links(monkeypatch: pytest.MonkeyPatch, out: Path) -> None:
    holder: dict[str, str] = {}

    def handler(path: str, query: dict, n: int):
        if path == "/content/early/601234.source.xml":
            return 200, {"content-type": "application/xml"}, fixture_bytes("biorxiv-article.source.xml"), 0.0
        item = {**preprint(1), "jatsxml": f"{holder['url']}/content/early/601234.source.xml"}
        return 200, {}, details_page([item], 0, 1), 0.0

    with FakeSources(handler) as server:
        holder["url"] = server.url
        monkeypatch.setenv("SUMMARIZE_BIORXIV_API", server.url)
        monkeypatch.setenv("SUMMARIZE_BIORXIV_INTERVAL_S", "0")
        invoke("run", "--source", "biorxiv", "--date", "2026-03-12", "--full-text", "--out", str(out), "--workers", "1")
    (record,) = read_jsonl(out / "corpus.jsonl")
    own = {(link["url"], link["kind"]) for link in record["links"] if link["origin"] == "full_text"}
    assert own == {
        ("https://github.com/garcia-lab/cortex-st", "code"),
        ("https://zenodo.org/records/1234567", "dataset"),
    }


def test_digest_sends_a_preprint_once_and_again_as_a_new_version(api, out: Path) -> None:
    from test_deliver import Receiver  # the webhook endpoint the delivery tests use

    items = [preprint(1), preprint(2)]
    api(lambda p, q, n: (200, {}, details_page(items, 0, len(items)), 0.0))
    run = ("run", "--source", "biorxiv", "--date", "2026-03-12", "--out", str(out), "--workers", "1")
    hook = Receiver()
    try:
        for _ in range(2):  # the same preprints two days running: delivered once
            invoke(*run)
            invoke("digest", str(out), "--webhook", hook.url)
        items[0] = preprint(1, version=2)
        invoke(*run)
        invoke("digest", str(out), "--webhook", hook.url)
    finally:
        hook.close()
    sent = [[(p["id"], p["version"]) for p in post["json"]["papers"]] for post in hook.posts]
    assert sent == [
        [("doi:10.1101/2026.03.10.600001", 1), ("doi:10.1101/2026.03.10.600002", 1)],
        [("doi:10.1101/2026.03.10.600001", 2)],
    ]
