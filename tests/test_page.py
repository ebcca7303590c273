"""comparison.html in a real browser (Debian's headless Chromium): first screen, find, facets, compare, errors."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import SAMPLE, invoke

from pipeline.table import TableWriter

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")

# Acts as a user would after the page has loaded, then writes what it saw into <body data-result>.
ACT = """
window.addEventListener("load", function () {
  setTimeout(function () {
    var out = {};
    try { %s } catch (e) { out.error = String(e); }
    document.body.setAttribute("data-result", JSON.stringify(out));
  }, 200);
});
"""


def _browser(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _act(page: Path, tmp_path: Path, script: str, fragment: str = "") -> dict:
    """A copy of the page with ``script`` appended (allowed by its own CSP hash, as the page's script is)."""
    code = ACT % script
    digest = "sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    text = page.read_text().replace("script-src '", f"script-src '{digest}' '", 1)
    copy = tmp_path / "page.html"
    copy.write_text(text.replace("</body>", f"<script>{code}</script></body>"))
    uri_page = Path(str(copy))
    result = subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1400,1000",
            "--virtual-time-budget=5000",
            "--dump-dom",
            uri_page.as_uri() + fragment,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'data-result="([^"]*)"', result.stdout)
    assert found, result.stdout[-2000:]
    import html

    value = json.loads(html.unescape(found.group(1)))
    assert "error" not in value, value
    return value


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    invoke("run", str(SAMPLE), "--out", str(out))
    return out / "comparison.html"


COUNT = """
var rows = document.querySelectorAll("article.paper");
out.rows = rows.length;
out.firstScreen = Array.prototype.filter.call(rows, function (r) {
  var top = r.getBoundingClientRect().top; return top >= 0 && top < 1000; }).length;
out.shown = document.getElementById("shown").textContent;
out.width = window.innerWidth;
"""


def test_at_least_eight_papers_start_in_the_first_screen(page: Path, tmp_path: Path) -> None:
    seen = _act(page, tmp_path, COUNT)
    assert seen["shown"] == "69 papers" and seen["rows"] == 50  # the rest render as they scroll into view
    # Headless Chromium's viewport is 1400 wide (the height it reports is smaller than the window's): papers
    # whose top edge lies within the first 1000 px start inside a 1400×1000 screen.
    assert seen["width"] == 1400 and seen["firstScreen"] >= 8, seen


def test_scrolling_renders_the_rest(page: Path, tmp_path: Path) -> None:
    seen = _act(page, tmp_path, "window.scrollTo(0, document.body.scrollHeight);" + COUNT.replace("out.rows", "out.r0"))
    # Rendering on scroll is asynchronous (IntersectionObserver): the virtual time budget lets it run.
    assert seen["r0"] >= 50


def test_a_facet_chip_filters_and_the_view_lives_in_the_hash(page: Path, tmp_path: Path) -> None:
    seen = _act(
        page,
        tmp_path,
        """
        document.querySelector('button.chip[data-facet="task:image generation"]').click();
        var rows = document.querySelectorAll("article.paper");
        out.rows = rows.length;
        out.all = Array.prototype.every.call(rows, function (r) {
          return !!r.querySelector('[data-facet="task:image generation"]'); });
        out.shown = document.getElementById("shown").textContent;
        out.hash = location.hash;
        """,
    )
    assert 0 < seen["rows"] < 69 and seen["all"] is True
    assert seen["shown"] == f"{seen['rows']} of 69 papers"
    assert seen["hash"] == "#f=task%3Aimage%20generation"
    # The same hash, opened fresh, gives the same view.
    shared = _act(page, tmp_path, COUNT, fragment=seen["hash"])
    assert shared["shown"] == seen["shown"]


def test_text_filter_and_sort_by_title(page: Path, tmp_path: Path) -> None:
    seen = _act(
        page,
        tmp_path,
        """
        var box = document.getElementById("filter"); box.value = "causal"; box.dispatchEvent(new Event("input"));
        out.causal = document.querySelectorAll("article.paper").length;
        box.value = ""; box.dispatchEvent(new Event("input"));
        var sort = document.getElementById("sort"); sort.value = "title"; sort.dispatchEvent(new Event("change"));
        out.titles = Array.prototype.map.call(document.querySelectorAll("article .title"), function (t) {
          return t.textContent; });
        """,
    )
    assert 0 < seen["causal"] < 69
    titles = seen["titles"]
    assert titles == sorted(titles, key=str.casefold)


def test_compare_two_papers_side_by_side(page: Path, tmp_path: Path) -> None:
    seen = _act(
        page,
        tmp_path,
        """
        var boxes = document.querySelectorAll("input.pick");
        boxes[0].click(); boxes[1].click();
        var button = document.getElementById("compare");
        out.label = button.textContent; out.disabled = button.disabled;
        button.click();
        var panel = document.getElementById("comparison");
        out.hidden = panel.hidden;
        out.columns = panel.querySelectorAll("th[scope=col]").length;
        out.rows = Array.prototype.map.call(panel.querySelectorAll("th[scope=row]"), function (t) {
          return t.textContent; });
        out.hash = location.hash;
        """,
    )
    assert seen["label"] == "Compare (2)" and seen["disabled"] is False
    assert seen["hidden"] is False and seen["columns"] == 2
    assert {"Problem", "Method", "Tasks", "Datasets", "Metrics", "Links"} <= set(seen["rows"])
    assert "cmp=" in seen["hash"] and "open=1" in seen["hash"]


def test_claims_on_a_shared_metric_line_up(tmp_path: Path) -> None:
    records = [
        {
            "id": f"arxiv:2401.0000{i}",
            "title": f"Paper {i}",
            "abstract": f"We study {i}. It reaches FID {i}.5 on ImageNet.",
            "tldr": f"We study {i}.",
            "problem": "p",
            "method": "m",
            "results": [f"It reaches FID {i}.5 on ImageNet.", "Other claim."],
            "metrics": ["FID"],
            "datasets": ["ImageNet"],
            "links": [],
            "tasks": [],
            "evidence": {"tldr": [0], "problem": [0], "method": [0], "results": [[1]]},
        }
        for i in (1, 2)
    ]
    writer = TableWriter(tmp_path)
    for record in records:
        writer.add(record)
    writer.close()
    seen = _act(
        tmp_path / "comparison.html",
        tmp_path,
        "out.rows = Array.prototype.map.call(document.querySelectorAll('#comparison tr.same th'), "
        "function (t) { return t.textContent; });",
        fragment="#cmp=arxiv%3A2401.00001,arxiv%3A2401.00002&open=1",
    )
    assert seen["rows"] == ["on FID", "on ImageNet"]


def test_no_console_errors_and_no_csp_violations(page: Path, tmp_path: Path) -> None:
    result = _browser(page, tmp_path, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", "--dump-dom")
    log = result.stderr
    assert "Uncaught" not in log and "Content Security Policy" not in log and "Refused to" not in log, log[-3000:]
    assert "article" in result.stdout


def test_screenshot_is_produced(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    _browser(page, tmp_path, f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_a_feed_entry_link_opens_the_page_on_that_one_paper(page: Path, tmp_path: Path) -> None:
    from urllib.parse import urlsplit

    from pipeline.feed import page_anchor

    records = [json.loads(line) for line in (page.parent / "corpus.jsonl").read_text().splitlines()]
    paper = next(r for r in records if r["id"].startswith("title:"))
    fragment = "#" + urlsplit(page_anchor("https://example.org/", paper["id"])).fragment
    seen = _act(
        page,
        tmp_path,
        """
        out.titles = Array.prototype.map.call(document.querySelectorAll("article .title"), function (t) {
          return t.textContent; });
        out.chip = document.querySelector("#facets .chip").textContent;
        out.shown = document.getElementById("shown").textContent;
        """,
        fragment=fragment,
    )
    assert seen["titles"] == [paper["title"]] and seen["shown"] == "1 of 69 papers"
    assert seen["chip"] == f"paper: {paper['title']} ×"


SORTS = """
var sort = document.getElementById("sort");
out.options = Array.prototype.map.call(sort.options, function (o) { return o.textContent; });
out.chosen = sort.options[sort.selectedIndex].textContent;
out.titles = Array.prototype.map.call(document.querySelectorAll("article .title"), function (t) {
  return t.textContent; });
"""


def test_the_page_opens_in_the_listing_order_and_offers_only_sorts_the_data_has(page: Path, tmp_path: Path) -> None:
    from pipeline.sources.files import read_listing

    listed = [paper.title for paper in read_listing(SAMPLE.read_bytes(), str(SAMPLE))]
    seen = _act(page, tmp_path, SORTS)
    assert seen["options"] == ["source order", "title"]  # the listing has no dates and no upvotes
    assert seen["chosen"] == "source order" and seen["titles"] == listed[:50]
    # Papers with dates and upvotes (and no source position) are offered those sorts, newest first by default.
    writer = TableWriter(tmp_path)
    for i, day in enumerate(["2024-01-03", "2024-01-01", "2024-01-02"]):
        writer.add({"id": f"x{i}", "title": f"Paper {i}", "published": day, "source_meta": {"upvotes": i}})
    writer.close()
    dated = _act(tmp_path / "comparison.html", tmp_path, SORTS)
    assert dated["options"] == ["newest first", "most upvotes", "title"]
    assert dated["chosen"] == "newest first" and dated["titles"] == ["Paper 0", "Paper 2", "Paper 1"]
