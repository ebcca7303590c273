"""Search across the archive, "new since your last visit" and the walk day by day (issue 35), in Debian's headless
Chromium against `python -m http.server` over a generated partitioned site, as a reader would open it."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SAMPLE, invoke
from test_page import CHROMIUM, FLAGS

from pipeline import archive
from pipeline.sources.files import read_inputs

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")

# Runs after the page has loaded; ``done`` says when what it waits for is there (checked every 50 ms), then what
# it saw goes into <body data-result>.
ACT = """
window.addEventListener("load", function () {
  var tries = 0;
  var timer = setInterval(function () {
    var out = {};
    try {
      if (!(%s) && ++tries < 100) return;
      %s
    } catch (e) { out.error = String(e); }
    clearInterval(timer);
    document.body.setAttribute("data-result", JSON.stringify(out));
  }, 50);
});
"""


def _papers(path: Path, start: int, stop: int) -> Path:
    with path.open("w") as fh:
        for paper in list(read_inputs([str(SAMPLE)]))[start:stop]:
            fh.write(json.dumps({"title": paper.title, "abstract": paper.abstract}) + "\n")
    return path


def _run_on(monkeypatch: pytest.MonkeyPatch, day: str, papers: Path, site: Path) -> None:
    monkeypatch.setattr(archive, "today", lambda: day)
    invoke("run", str(papers), "--out", str(site))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """An empty site folder served by ``python -m http.server`` (the command docs/archive.md gives)."""
    site = tmp_path / "site"
    site.mkdir()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "-d", str(site), "--bind", "127.0.0.1", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield site, url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _act(page: Path, url: str, tmp_path: Path, done: str, collect: str) -> dict:
    """A copy of ``page`` beside it with the acting script (allowed by its own CSP hash, as the page's scripts
    are), opened at ``url`` (the copy's address, with a query or fragment), in one browser profile per test."""
    code = ACT % (done, collect)
    digest = "sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    copy = page.with_name("_act_" + page.name)
    text = page.read_text().replace("script-src '", f"script-src '{digest}' '", 1)
    copy.write_text(text.replace("</body>", f"<script>{code}</script></body>"))
    command = [
        CHROMIUM,
        *FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=8000",
        "--dump-dom",
        url,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:  # a headless Chromium that hangs on a loaded machine (seen once): once more
        result = subprocess.run(command, capture_output=True, text=True, timeout=90)
    copy.unlink()
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'data-result="([^"]*)"', result.stdout)
    assert found, result.stdout[-2000:]
    return json.loads(html.unescape(found.group(1)))


RESULTS = """
out.note = document.getElementById("site-note").textContent;
out.hits = Array.from(document.querySelectorAll("#site-results li a")).map(function (a) {
  return [a.textContent, a.getAttribute("href")]; });
out.stats = window.summarizeSearchStats;
"""
ROWS = """
function ids(css) { return Array.from(document.querySelectorAll(css)).map(function (a) { return a.dataset.id; }); }
function hrefs(css) {
  return Array.from(document.querySelectorAll(css)).map(function (a) { return a.getAttribute("href"); });
}
out.ids = ids("#papers article");
out.new = ids("#papers article.new");
out.newOnly = document.getElementById("new-only") ? document.getElementById("new-only").textContent : null;
out.prev = hrefs("#archive a[rel=prev]");
out.next = hrefs("#archive a[rel=next]");
"""


def _ids(site: Path, period: str) -> list[str]:
    return [row["i"] for row in json.loads((site / "archive" / f"{period}.json").read_text())]


def test_a_title_first_seen_on_an_old_day_is_found_and_its_link_opens_its_row(
    served: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.archive import search

    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "partitioned")
    monkeypatch.setattr(search, "COMMON", 2)  # most words "common": their own files, fetched rarest first
    site, url = served
    _run_on(monkeypatch, "2025-05-14", _papers(tmp_path / "old.jsonl", 0, 30), site)  # last year: a year segment
    _run_on(monkeypatch, "2026-03-11", _papers(tmp_path / "a.jsonl", 30, 50), site)
    _run_on(monkeypatch, "2026-03-12", _papers(tmp_path / "b.jsonl", 50, 69), site)
    old = json.loads((site / "archive" / "2025-05-14.json").read_text())
    target = next(row for row in old if len(row["t"].split()) >= 4)
    manifest = json.loads((site / "archive" / "search" / "search.json").read_text())
    assert [s["name"] for s in manifest["segments"]] == ["2025", "2026-03"] and manifest["records"] == 69
    assert list((site / "archive" / "search").glob("*/w*.json"))  # common terms in their own files

    query = "?search=" + urllib.request.quote(target["t"].lower())
    seen = _act(
        site / "comparison.html",
        f"{url}/_act_comparison.html{query}",
        tmp_path,
        "document.getElementById('site-search').dataset.done",
        RESULTS,
    )
    assert seen["hits"], seen
    title, href = seen["hits"][0]
    assert title == target["t"]
    assert href == "archive/2025-05-14.html#f=" + urllib.request.quote("id:" + target["i"], safe="")
    assert seen["stats"]["bytes"] < 200_000

    page, fragment = href.split("#")
    opened = _act(
        site / page,
        f"{url}/archive/_act_2025-05-14.html#{fragment}",
        tmp_path,
        "document.querySelector('#papers article')",
        ROWS,
    )
    assert opened["ids"] == [target["i"]]

    # the archive index searches the same index; a word in no paper says so
    index = _act(
        site / "archive" / "index.html",
        f"{url}/archive/_act_index.html?search=zzqxnotaword",
        tmp_path,
        "document.getElementById('site-search').dataset.done",
        RESULTS,
    )
    assert index["hits"] == [] and "No paper" in index["note"]


def test_from_a_file_the_box_says_the_site_must_be_served_and_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "partitioned")
    site = tmp_path / "site"
    _run_on(monkeypatch, "2026-03-12", _papers(tmp_path / "a.jsonl", 0, 10), site)
    for page in (site / "comparison.html", site / "archive" / "index.html"):
        seen = _act(
            page,
            page.with_name("_act_" + page.name).as_uri(),
            tmp_path,
            "true",
            """
          out.note = document.getElementById("site-note").textContent;
          out.disabled = document.getElementById("site-q").disabled;""",
        )
        assert seen["disabled"] is True
        assert "python -m http.server -d SITE" in seen["note"] and "http://localhost:8000/" in seen["note"]


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_the_csp_allows_the_index_fetch_from_this_site_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "partitioned")
    site = tmp_path / "site"
    _run_on(monkeypatch, "2026-03-12", _papers(tmp_path / "a.jsonl", 0, 10), site)
    script = (Path(archive.__file__).parent.parent / "page_search.js").read_text()
    for page in (site / "comparison.html", site / "archive" / "2026-03-12.html", site / "archive" / "index.html"):
        text = page.read_text()
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text).group(1)
        scripts = re.findall(r"<script>(.*?)</script>", text, re.S)
        styles = re.findall(r"<style>(.*?)</style>", text, re.S)
        expected = ["default-src 'none'"]
        if styles:
            expected.append("style-src " + " ".join(f"'{_hash(s)}'" for s in styles))
        expected.append("script-src " + " ".join(f"'{_hash(s)}'" for s in reversed(scripts)))
        if styles:
            expected.append("img-src data:")
        expected += ["connect-src 'self'", "base-uri 'none'", "form-action 'none'"]
        assert csp == "; ".join(expected), page
        assert script in scripts and "wasm-unsafe-eval" not in csp and "unsafe-inline" not in csp
    # a page outside an archive (the single layout) fetches nothing: no connect-src, no search script
    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "single")
    invoke("run", str(tmp_path / "a.jsonl"), "--out", str(tmp_path / "single"))
    single = (tmp_path / "single" / "comparison.html").read_text()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', single).group(1)
    assert "connect-src" not in csp and 'id="site-search"' not in single and len(re.findall("<script>", single)) == 1


def test_new_since_the_last_visit_and_the_walk_day_by_day_across_two_runs(
    served: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "partitioned")
    site, url = served
    _run_on(monkeypatch, "2026-03-11", _papers(tmp_path / "a.jsonl", 0, 40), site)
    first = _act(
        site / "comparison.html",
        f"{url}/_act_comparison.html",
        tmp_path,
        "document.querySelector('#papers article')",
        ROWS,
    )
    assert first["new"] == [] and first["newOnly"] is None and first["prev"] == []  # a first visit: nothing new

    _run_on(monkeypatch, "2026-03-12", _papers(tmp_path / "b.jsonl", 40, 69), site)
    day2 = set(_ids(site, "2026-03-12"))
    second = _act(
        site / "comparison.html",
        f"{url}/_act_comparison.html",
        tmp_path,
        "document.querySelector('#papers article')",
        ROWS
        + """
      document.getElementById("new-only").click();
      out.onlyIds = ids("#papers article");""",
    )
    assert set(second["new"]) == day2 & set(second["ids"]) and second["new"]
    assert second["newOnly"] == f"new since your last visit ({len(day2)})"
    assert set(second["onlyIds"]) <= day2 and len(second["onlyIds"]) == min(len(day2), 50)
    assert second["prev"] == ["archive/2026-03-11.html"]  # the digest links to yesterday's page

    index = _act(
        site / "archive" / "index.html",
        f"{url}/archive/_act_index.html",
        tmp_path,
        "true",
        """
      out.marked = Array.from(document.querySelectorAll("#periods li.new a:first-of-type"))
        .map(function (a) { return a.textContent; });
      out.note = document.getElementById("new-periods").textContent;""",
    )
    assert index["marked"] == ["2026-03-12"] and index["note"].startswith("1 period added since your last visit")

    older = _act(
        site / "archive" / "2026-03-11.html",
        f"{url}/archive/_act_2026-03-11.html",
        tmp_path,
        "document.querySelector('#papers article')",
        ROWS,
    )
    newer = _act(
        site / "archive" / "2026-03-12.html",
        f"{url}/archive/_act_2026-03-12.html",
        tmp_path,
        "document.querySelector('#papers article')",
        ROWS,
    )
    assert older["prev"] == [] and older["new"] == [] and newer["prev"] == ["2026-03-11.html"]
    assert set(newer["new"]) == set(newer["ids"])
    # "next" goes through the index (the day before's page is not written again) and lands on the next day
    assert older["next"] == ["index.html#after=2026-03-11"] and newer["next"] == ["index.html#after=2026-03-12"]
    assert _landed(f"{url}/archive/index.html#after=2026-03-11", tmp_path) == "Paper comparison — 2026-03-12"
    # the week view: each day links its ISO week, whose page holds both days' papers
    assert 'href="2026-W11.html">Week 2026-W11</a>' in (site / "archive" / "2026-03-11.html").read_text()
    week = _act(
        site / "archive" / "2026-W11.html",
        f"{url}/archive/_act_2026-W11.html",
        tmp_path,
        "document.querySelector('#papers article')",
        ROWS + "out.shown = document.getElementById('shown').textContent; out.days = hrefs('#archive a');",
    )
    assert week["shown"] == "69 papers" and {"2026-03-11.html", "2026-03-12.html"} <= set(week["days"])
    last = _act(
        site / "archive" / "index.html",
        f"{url}/archive/_act_index.html#after=2026-03-12",
        tmp_path,
        "true",
        "out.end = document.getElementById('walk-end').textContent;",
    )
    assert last["end"] == "2026-03-12 is the newest period: no later one yet."


def _landed(url: str, tmp_path: Path) -> str:
    """The title of the page a browser shows after opening ``url`` (and following where its script sends it)."""
    command = [
        CHROMIUM,
        *FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=90)
    return html.unescape(re.search(r"<title>(.*?)</title>", result.stdout).group(1))


def _lookup(site: Path, term: str) -> list[str]:
    """The ids the index lists for ``term`` (the lookup the page's script makes), over every segment."""
    from pipeline.archive import search

    folder = site / "archive" / "search"
    found = []
    for seg in json.loads((folder / search.MANIFEST).read_text())["segments"]:
        shard = json.loads((folder / seg["dir"] / f"t{search.fnv1a(term) % seg['shards']}.json").read_text())
        code = shard.get(term, "")
        if code.startswith("#"):  # a common term: in its own file
            code = json.loads((folder / seg["dir"] / f"w{search.fnv1a(term):08x}.json").read_text())[term]
        doc = -1
        for step in code.split(","):
            if step:
                doc += int(step, 16) // 2
                chunk = json.loads((folder / seg["dir"] / f"d{doc // seg['chunk']}.json").read_text())
                found.append(chunk[doc % seg["chunk"]]["i"])
    return found


def test_scores_authors_and_tasks_are_searchable_and_a_daily_run_rewrites_only_its_month(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.archive import search

    record = {
        "id": "2401.00001",
        "title": "A paper",
        "authors": ["Zoë Ångström"],
        "tldr": "",
        "results": [],
        "tasks": ["image classification"],
        "scores": [{"value": 91.3, "metric": "top-1 accuracy", "dataset": "ImageNet"}],
    }
    title, rest = search.fields_of(record)
    assert {"zoe", "angstrom", "classification", "imagenet", "91", "top"} <= set(search.words(rest))
    assert search.fields_of({"id": "x", "title": "t"}) == ("t", "")  # a v2 record: no scores, no authors

    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "partitioned")
    monkeypatch.setattr(search, "COMMON", 3)
    site = tmp_path / "site"
    _run_on(monkeypatch, "2025-12-30", _papers(tmp_path / "a.jsonl", 0, 20), site)
    _run_on(monkeypatch, "2026-02-27", _papers(tmp_path / "b.jsonl", 20, 40), site)  # a new year: 2025 folded
    before = {s["name"]: s["dir"] for s in search.load_manifest(site)["segments"]}
    assert set(before) == {"2025", "2026-02"}
    built: list[str] = []
    real = search._write_segment
    monkeypatch.setattr(search, "_write_segment", lambda folder, name, *a: built.append(name) or real(folder, name, *a))
    _run_on(monkeypatch, "2026-03-02", _papers(tmp_path / "c.jsonl", 40, 69), site)
    assert built == ["2026-03"]  # the daily run indexed only its own month's papers
    after = {s["name"]: s["dir"] for s in search.load_manifest(site)["segments"]}
    assert after["2025"] == before["2025"] and after["2026-02"] == before["2026-02"]
    # every paper is found by a word of its title, in the segment of the day it was first seen
    for period in ("2025-12-30", "2026-02-27", "2026-03-02"):
        for row in json.loads((site / "archive" / f"{period}.json").read_text()):
            rare = max(search.words(row["t"]), key=len)
            assert row["i"] in _lookup(site, rare), (row["t"], rare)
    assert sorted(p.name for p in (site / "archive" / "search").iterdir()) == sorted([*after.values(), "search.json"])
    # a backfill of a day of the folded year rebuilds that year: no month segment beside it, the paper found once
    late = tmp_path / "late.jsonl"
    abstract = "We study zebrafish locomotion with a new tracking method. It improves accuracy by 12%."
    late.write_text(json.dumps({"title": "Tracking zebrafish quickly", "abstract": abstract}) + "\n")
    _run_on(monkeypatch, "2025-12-31", late, site)
    assert [s["name"] for s in search.load_manifest(site)["segments"]] == ["2025", "2026-02", "2026-03"]
    assert len(_lookup(site, "zebrafish")) == 1
