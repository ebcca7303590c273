"""--resolve and --full-text against local stand-ins of the Hub and arXiv: ids, authors, links, caching."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import SAMPLE, invoke, read_jsonl
from fake_scholar import Scholar, pdf_response, tiny_pdf

from pipeline.sources.files import read_inputs
from pipeline.sources.fulltext import links_from_html, links_from_pdf

SAMPLE_TITLES = [p.title for p in read_inputs([str(SAMPLE)])]
NOT_ON_ARXIV = SAMPLE_TITLES[5]
TWO_NEAR = SAMPLE_TITLES[6]


@pytest.fixture
def scholar(monkeypatch: pytest.MonkeyPatch):
    papers = {f"2603.{20000 + i}": t for i, t in enumerate(SAMPLE_TITLES) if t not in (NOT_ON_ARXIV, TWO_NEAR)}
    server = Scholar(
        papers,
        search_misses=set(SAMPLE_TITLES[10:20]),  # the Hub's search misses these: arXiv's title search finds them
        decoys={TWO_NEAR: [TWO_NEAR + ": A Survey", "Towards " + TWO_NEAR]},
        hub_unknown={"2603.20001"},
        html_missing={"2603.20002", "2603.20003"},
        no_links={"2603.20004"},
    )
    with server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("SUMMARIZE_ARXIV_API", server.url + "/api/query")
        monkeypatch.setenv("SUMMARIZE_ARXIV_HTML", server.url + "/html")
        monkeypatch.setenv("SUMMARIZE_ARXIV_PDF", server.url + "/pdf")
        monkeypatch.setenv("SUMMARIZE_ARXIV_INTERVAL_S", "0")
        yield server


def test_resolve_links_every_title_fills_authors_and_merges_hub_links(scholar: Scholar, out: Path) -> None:
    report = json.loads(invoke("run", str(SAMPLE), "--resolve", "--out", str(out), "--json").stdout)
    enrich = report["enrich"]
    assert enrich["resolved"] == 67 and enrich["unresolved"] == 2
    assert set(enrich["unresolved_titles"]) == {NOT_ON_ARXIV, TWO_NEAR}  # never a near match's id
    records = {r["title"]: r for r in read_jsonl(out / "corpus.jsonl")}
    assert len(records) == 69
    resolved = [r for r in records.values() if r["title"] not in (NOT_ON_ARXIV, TWO_NEAR)]
    for r in resolved:
        pid = r["id"].removeprefix("arxiv:")
        assert scholar.papers[pid] == r["title"]
        assert r["url"] == f"https://arxiv.org/abs/{pid}" and r["authors"] == ["Grace Hopper"]
        assert r["source_meta"]["version"] == 2 and r["source_meta"]["categories"] == ["cs.CL"]
        assert r["published"] and r["source_meta"]["resolved_from"].startswith("title:")
    on_hub = [r for r in resolved if r["id"] != "arxiv:2603.20001"]
    assert all(any(link["origin"] == "metadata" and link["kind"] == "code" for link in r["links"]) for r in on_hub)
    assert all(r["source_meta"]["upvotes"] == 7 for r in on_hub)
    assert records[NOT_ON_ARXIV]["id"].startswith("title:")
    # Every resolved title is linked in all three tables.
    md = (out / "comparison.md").read_text()
    rows = list(csv.DictReader((out / "comparison.csv").open(encoding="utf-8")))
    page = (out / "comparison.html").read_text()
    for r in resolved:
        assert f"(https://arxiv.org/abs/{r['id'].removeprefix('arxiv:')})" in md
        assert f'"u":"https://arxiv.org/abs/{r["id"].removeprefix("arxiv:")}"' in page
    assert sum(1 for row in rows if row["url"].startswith("https://arxiv.org/abs/")) == 67
    # arXiv was asked for titles in batches, never one request per title.
    title_searches = [q for path, q, _ in scholar.log if path == "/api/query" and "search_query" in q]
    assert 1 <= len(title_searches) <= 3
    # A second run sends nothing: every lookup is cached, misses included.
    before = len(scholar.log)
    report = json.loads(invoke("run", str(SAMPLE), "--resolve", "--out", str(out), "--json").stdout)
    assert len(scholar.log) == before and report["enrich"]["requests"] == 0
    assert report["cached"] == 69


def test_resolving_replaces_the_title_record_of_an_earlier_run(scholar: Scholar, out: Path) -> None:
    invoke("run", str(SAMPLE), "--out", str(out))
    report = json.loads(invoke("run", str(SAMPLE), "--resolve", "--out", str(out), "--json").stdout)
    assert report["corpus_superseded"] == 67 and report["corpus_total"] == 69


def test_full_text_links_from_html_and_pdf(scholar: Scholar, out: Path) -> None:
    report = json.loads(invoke("run", str(SAMPLE), "--resolve", "--full-text", "--out", str(out), "--json").stdout)
    records = {r["id"]: r for r in read_jsonl(out / "corpus.jsonl")}
    html_paper = records["arxiv:2603.20000"]
    own = {(link["url"], link["kind"]) for link in html_paper["links"] if link["origin"] == "full_text"}
    assert own == {
        ("https://github.com/lab/2603-20000", "code"),
        ("https://zenodo.org/records/0000", "dataset"),
        ("https://lab.github.io/2603-20000/", "project"),
    }  # not the reference's code, not Google's homepage, not the cited paper
    pdf_paper = records["arxiv:2603.20002"]
    assert [(link["url"], link["kind"]) for link in pdf_paper["links"] if link["origin"] == "full_text"] == [
        ("https://github.com/pdf/2603-20002", "code")
    ]
    assert not [link for link in records["arxiv:2603.20004"]["links"] if link["origin"] == "full_text"]
    assert report["enrich"]["full_text_papers"] == 67
    pdf_requests = [path for path, _, _ in scholar.log if path.startswith("/pdf/")]
    assert sorted(pdf_requests) == ["/pdf/2603.20002v2", "/pdf/2603.20003v2"]  # only where HTML is missing
    before = len(scholar.log)
    invoke("run", str(SAMPLE), "--resolve", "--full-text", "--out", str(out))
    assert len(scholar.log) == before


def test_a_429_with_retry_after_is_waited_out(monkeypatch: pytest.MonkeyPatch, out: Path, tmp_path: Path) -> None:
    data = tmp_path / "one.jsonl"
    title = "Retrieval with Patience"
    data.write_text(json.dumps({"title": title, "abstract": "We study retrieval. It improves recall by 3%."}) + "\n")
    with Scholar({"2603.30000": title}, throttle_first=True) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("SUMMARIZE_ARXIV_API", server.url + "/api/query")
        monkeypatch.setenv("SUMMARIZE_ARXIV_INTERVAL_S", "0")
        report = json.loads(invoke("run", str(data), "--resolve", "--out", str(out), "--json").stdout)
        assert server.counts["/api/papers/search"] == 2
    assert report["enrich"]["resolved"] == 1 and report["enrich"]["failed"] == 0
    assert read_jsonl(out / "corpus.jsonl")[0]["id"] == "arxiv:2603.30000"


def test_a_failed_lookup_never_loses_the_paper(monkeypatch: pytest.MonkeyPatch, out: Path, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("SUMMARIZE_ARXIV_API", "http://127.0.0.1:9/api/query")
    monkeypatch.setenv("SUMMARIZE_ARXIV_INTERVAL_S", "0")
    monkeypatch.setenv("SUMMARIZE_FETCH_TIMEOUT_S", "1")
    data = tmp_path / "one.jsonl"
    data.write_text(json.dumps({"title": "Lonely", "abstract": "We study a thing. It works by 3%."}) + "\n")
    report = json.loads(invoke("run", str(data), "--resolve", "--out", str(out), "--json").stdout)
    assert report["enrich"]["failed"] >= 1 and report["new"] == 1
    assert read_jsonl(out / "corpus.jsonl")[0]["id"].startswith("title:")


def test_html_and_pdf_readers_on_their_own() -> None:
    assert links_from_html("<html><body><p>Nothing to see.</p></body></html>") == []
    page = (
        '<p>Try the demo at <a href="https://huggingface.co/spaces/a/b">the Space</a>, watch the '
        '<a href="https://youtu.be/xyz">video</a>, or read the <a href="https://doi.org/10.1/x">paper</a>.</p>'
    )
    assert links_from_html(page) == [("https://huggingface.co/spaces/a/b", "demo"), ("https://youtu.be/xyz", "video")]
    assert links_from_pdf(pdf_response("1234.5678")) == [("https://github.com/pdf/1234-5678", "code")]
    assert links_from_pdf(tiny_pdf(["No links at all."])) == []
    with pytest.raises(ValueError, match="not a readable PDF"):
        links_from_pdf(b"%PDF-1.4 garbage")
