"""OpenReview against a local stand-in of API v2 /notes: offset pages to the count, content.*.value, decisions,
forum and PDF links, 429, a truncated page, a bad note, and `summarize run --source openreview` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import invoke, read_jsonl
from fake_apis import fixture, notes_page, review_note
from fake_sources import FakeSources

from pipeline.errors import InputError
from pipeline.settings import load_settings
from pipeline.sources.registry import open_remote


def _serve(notes: list[dict], *, broken: dict | None = None):
    def handler(path: str, query: dict, n: int):
        if path != "/notes":
            return 404, {}, "{}", 0.0
        offset, limit = int(query.get("offset", ["0"])[0]), int(query["limit"][0])
        if broken and (offset, n) in broken:
            return (*broken[(offset, n)], 0.0)
        return 200, {"content-type": "application/json"}, notes_page(notes, offset, limit), 0.0

    return handler


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch):
    started: list[FakeSources] = []

    def start(handler):
        server = FakeSources(handler)
        server.__enter__()
        started.append(server)
        monkeypatch.setenv("SUMMARIZE_OPENREVIEW_API", server.url)
        monkeypatch.setenv("SUMMARIZE_OPENREVIEW_INTERVAL_S", "0")
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


def _papers(**options):
    fetch, items = open_remote("openreview", load_settings(), **options)
    return fetch, list(items)


def test_offset_pages_are_followed_to_the_count(api) -> None:
    server = api(_serve([review_note(i) for i in range(2300)]))
    fetch, papers = _papers(venue="ICLR.cc/2026/Conference")
    assert [q["offset"] for _, q, _ in server.log] == [["0"], ["1000"], ["2000"]]
    assert all(q["content.venueid"] == ["ICLR.cc/2026/Conference"] for _, q, _ in server.log)
    assert len(papers) == 2300 and fetch.status == "ok" and fetch.requests == 3


def test_a_note_maps_its_value_fields_decision_forum_and_pdf(api) -> None:
    api(lambda p, q, n: (200, {}, json.dumps(fixture("openreview-notes.json")), 0.0))
    _, (paper,) = _papers(venue="ICLR.cc/2026/Conference")
    assert paper.id == "openreview:aB3dE5fG7h" and paper.title == "Sparse Mixtures of Linear Experts Learn Faster"
    assert paper.url == "https://openreview.net/forum?id=aB3dE5fG7h" and paper.authors == ["Ana Souza", "Wei Zhang"]
    assert [(link.url, link.kind) for link in paper.links] == [
        ("https://openreview.net/pdf/0a1b2c3d4e5f60718293a4b5c6d7e8f901234567.pdf", "paper")
    ]
    assert paper.meta["decision"] == "ICLR 2026 Oral" and paper.meta["accepted"] is True
    assert paper.meta["keywords"] == ["mixture of experts", "sparsity"] and paper.published.startswith("2026-02-01")


def test_an_invitation_reads_submissions_with_their_decision_replies(api) -> None:
    rejected = review_note(2, venue="Submitted to ICLR 2026", venueid="ICLR.cc/2026/Conference/Rejected_Submission")
    accepted = review_note(1, venue="Submitted to ICLR 2026", venueid="ICLR.cc/2026/Conference/Submission")
    accepted["details"] = {
        "directReplies": [
            {"invitations": ["ICLR.cc/2026/Conference/Submission1/-/Official_Review"], "content": {}},
            {
                "invitations": ["ICLR.cc/2026/Conference/Submission1/-/Decision"],
                "content": {"decision": {"value": "Accept (Spotlight)"}},
            },
        ]
    }
    server = api(_serve([accepted, rejected]))
    _, papers = _papers(invitation="ICLR.cc/2026/Conference/-/Submission")
    assert server.log[0][1]["invitation"] == ["ICLR.cc/2026/Conference/-/Submission"]
    assert server.log[0][1]["details"] == ["directReplies"]
    assert [(p.meta["decision"], p.meta["accepted"]) for p in papers] == [
        ("Accept (Spotlight)", True),
        ("Submitted to ICLR 2026", False),
    ]


def test_a_bad_note_costs_only_itself(api) -> None:
    broken = review_note(2)
    broken["content"]["abstract"] = {"value": ["not", "text"]}
    api(_serve([review_note(1), broken, review_note(3), {"id": "x", "content": "no"}]))
    _, found = _papers(venue="ICLR.cc/2026/Conference")
    assert [p.title for p in found if not isinstance(p, InputError)] == ["Conference paper 1", "Conference paper 3"]
    errors = [f for f in found if isinstance(f, InputError)]
    assert [e.line for e in errors] == [2, 4] and errors[0].title == "Conference paper 2"


def test_neither_venue_nor_invitation_is_a_usage_error() -> None:
    with pytest.raises(InputError, match="--venue"):
        _papers()


def test_429_with_retry_after_is_retried(api) -> None:
    server = api(_serve([review_note(1)], broken={(0, 1): (429, {"retry-after": "1"}, "{}")}))
    _, papers = _papers(venue="ICLR.cc/2026/Conference")
    assert len(papers) == 1 and server.counts["/notes"] == 2


def test_run_end_to_end(api, out: Path) -> None:
    api(_serve([review_note(i) for i in range(1, 4)]))
    invoke("run", "--source", "openreview", "--venue", "ICLR.cc/2026/Conference", "--out", str(out), "--workers", "1")
    records = read_jsonl(out / "corpus.jsonl")
    assert sorted(r["id"] for r in records) == [
        "openreview:note000001",
        "openreview:note000002",
        "openreview:note000003",
    ]
    assert all(r["url"].startswith("https://openreview.net/forum?id=") for r in records)
    assert all(r["source_meta"]["decision"] == "ICLR 2026 Poster" for r in records)
    assert "Conference paper 1" in (out / "comparison.html").read_text()


def test_run_a_truncated_page_is_a_failed_fetch(api, out: Path) -> None:
    notes = [review_note(i) for i in range(1, 4)]
    body = notes_page(notes, 0, 1000)[:-40]  # the JSON ends half-way
    api(_serve(notes, broken={(0, n): (200, {}, body) for n in range(1, 9)}))
    result = invoke("run", "--source", "openreview", "--venue", "V", "--out", str(out), "--workers", "1", expect=3)
    assert "not JSON" in result.output and "/notes" in result.output


def test_run_a_403_is_a_failed_fetch_naming_the_url(api, out: Path) -> None:
    api(lambda p, q, n: (403, {}, '{"name": "ForbiddenError"}', 0.0))
    result = invoke("run", "--source", "openreview", "--venue", "V", "--out", str(out), expect=3)
    assert "HTTP 403" in result.output and "/notes" in result.output
