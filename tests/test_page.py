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


def _act(page: Path, tmp_path: Path, script: str, fragment: str = "", window: str = "1400,1000") -> dict:
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
            f"--window-size={window}",
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


# The page in an iframe of exactly ``width``×``height`` CSS pixels: headless Chromium's window is at least 500 wide
# and its viewport is shorter than the window, so a real phone's or laptop's screen is framed instead.
FRAME = """<!doctype html><html><body style="margin:0">
<iframe id="f" src="%s" width="%d" height="%d" style="border:0;display:block"></iframe>
<script>
document.getElementById("f").addEventListener("load", function () {
  setTimeout(function () {
    var win = document.getElementById("f").contentWindow, out = {};
    try { (function (window, document, innerWidth, innerHeight) { %s })(win, win.document, win.innerWidth,
      win.innerHeight); } catch (e) { out.error = String(e); }
    document.body.setAttribute("data-result", JSON.stringify(out));
  }, 300);
});
</script></body></html>"""


def _framed(page: Path, tmp_path: Path, script: str, width: int, height: int) -> dict:
    """What ``script`` saw of ``page`` shown on a ``width``×``height`` screen (``window``, ``document`` and
    ``innerWidth``/``innerHeight`` are the framed page's)."""
    import html

    wrapper = page.parent / f"screen-{width}x{height}.html"
    wrapper.write_text(FRAME % (page.name, width, height, script))
    result = subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--allow-file-access-from-files",  # the frame's document is read from the wrapper's script
            f"--window-size={max(width, 500) + 40},{height + 200}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            wrapper.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'data-result="([^"]*)"', result.stdout)
    assert found, result.stdout[-2000:]
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


def _record(i: int, results: list[str], metrics: list[str], **extra: object) -> dict:
    return {
        "id": f"arxiv:2401.0000{i}",
        "title": f"Paper {i}",
        "abstract": " ".join(results),
        "tldr": f"We study {i}.",
        "problem": "p",
        "method": "m",
        "results": results,
        "metrics": metrics,
        "datasets": [],
        "links": [],
        "tasks": ["image generation"],
        "evidence": {"tldr": [], "problem": [], "method": [], "results": [[0]]},
        **extra,
    }


def test_shared_metric_rows_match_whole_words_with_case_and_numbers_are_marked_whole(tmp_path: Path) -> None:
    writer = TableWriter(tmp_path)
    writer.add(_record(1, ["Our 1.5B model reaches an IS of 80.4 and is 20x faster.", "This studies scaling."], ["IS"]))
    writer.add(_record(2, ["This analysis studies what is left of the 7B model, at 3.2% error."], ["FID"]))
    writer.add(_record(3, ["It lifts IS to 90.1 on ImageNet-1K."], ["IS"]))
    writer.close()
    seen = _act(
        tmp_path / "comparison.html",
        tmp_path,
        """
        out.rows = Array.prototype.map.call(document.querySelectorAll("#comparison tr.same th"), function (t) {
          return t.textContent; });
        out.marks = Array.prototype.map.call(document.querySelectorAll("#comparison mark"), function (m) {
          return m.textContent; });
        """,
        fragment="#cmp=arxiv%3A2401.00001,arxiv%3A2401.00002&open=1",
    )
    # "is" inside "This", "studies", "analysis" and the verb "is" are not the Inception Score: no "on IS" row
    # for two papers of which only one reports it.
    assert seen["rows"] == []
    assert {"1.5B", "80.4", "20x", "7B", "3.2%"} <= set(seen["marks"]) and "1" not in seen["marks"]
    both = _act(
        tmp_path / "comparison.html",
        tmp_path,
        "out.rows = Array.prototype.map.call(document.querySelectorAll('#comparison tr.same th'), "
        "function (t) { return t.textContent; });",
        fragment="#cmp=arxiv%3A2401.00001,arxiv%3A2401.00003&open=1",
    )
    assert both["rows"] == ["on IS"]


CONTRAST = """
function rgb(text) { return text.match(/[\\d.]+/g).slice(0, 3).map(Number); }
function luminance(c) {
  var v = c.map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}
function contrast(a, b) {
  var x = luminance(rgb(a)), y = luminance(rgb(b));
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}
"""


def test_the_active_chip_label_is_readable(page: Path, tmp_path: Path) -> None:
    seen = _act(
        page,
        tmp_path,
        CONTRAST
        + """
        var chip = document.querySelector('article button.chip.task.on');
        var style = getComputedStyle(chip), label = getComputedStyle(chip, "::before");
        out.label = label.content;
        out.ratio = contrast(label.color, style.backgroundColor);
        out.text = contrast(style.color, style.backgroundColor);
        """,
        fragment="#f=task%3Aimage%20generation",
    )
    assert seen["label"] == '"task "'
    assert seen["ratio"] >= 4.5 and seen["text"] >= 4.5, seen  # WCAG AA for small text


def test_compare_opens_below_the_sticky_header_and_keeps_its_titles_in_view(page: Path, tmp_path: Path) -> None:
    seen = _act(
        page,
        tmp_path,
        """
        window.scrollTo(0, 2500);
        var boxes = document.querySelectorAll("input.pick");
        for (var k = 0; k < 4; k++) boxes[k].click();
        document.getElementById("compare").click();
        var header = document.getElementById("top").getBoundingClientRect().bottom;
        function visible(el) {
          var r = el.getBoundingClientRect(); return r.top >= header - 1 && r.bottom <= innerHeight; }
        var panel = document.getElementById("comparison");
        var close = Array.prototype.filter.call(panel.querySelectorAll("button"), function (b) {
          return /close/i.test(b.getAttribute("aria-label") || b.textContent); })[0];
        var titles = panel.querySelectorAll("th[scope=col]");
        out.opened = visible(close) && Array.prototype.every.call(titles, visible);
        panel.scrollTop = panel.scrollHeight;  // read down to the links
        out.scrolled = panel.scrollTop > 0;
        out.after = visible(close) && Array.prototype.every.call(titles, visible);
        """,
    )
    assert seen == {"opened": True, "scrolled": True, "after": True}


def test_compare_on_a_phone_shows_two_papers_side_by_side(page: Path, tmp_path: Path) -> None:
    seen = _act(
        page,
        tmp_path,
        """
        var boxes = document.querySelectorAll("input.pick");
        boxes[0].click(); boxes[1].click();
        document.getElementById("compare").click();
        out.width = innerWidth;
        out.rights = Array.prototype.map.call(document.querySelectorAll("#comparison th[scope=col]"), function (t) {
          return t.getBoundingClientRect().right; });
        """,
        window="390,844",  # headless Chromium's window is at least 500 wide: still the phone layout (< 40rem)
    )
    assert seen["width"] <= 640 and len(seen["rights"]) == 2
    assert max(seen["rights"]) <= seen["width"], seen


def test_the_filter_reads_the_abstract_too(page: Path, tmp_path: Path) -> None:
    records = [json.loads(line) for line in (page.parent / "corpus.jsonl").read_text().splitlines()]

    def elsewhere(r: dict) -> str:
        fields = [r["id"], r["title"], r["tldr"], r["problem"], r["method"], *r["results"]]
        return " ".join(fields + r["tasks"] + r["datasets"] + r["metrics"]).lower()

    word, owner = next(
        (w, r)
        for r in records
        for w in re.findall(r"[a-z]{9,}", r["abstract"].lower())
        if not any(w in elsewhere(x) for x in records) and sum(w in x["abstract"].lower() for x in records) == 1
    )
    seen = _act(
        page,
        tmp_path,
        f"""
        var box = document.getElementById("filter"); box.value = {json.dumps(word)};
        box.dispatchEvent(new Event("input"));
        out.titles = Array.prototype.map.call(document.querySelectorAll("article .title"), function (t) {{
          return t.textContent; }});
        """,
    )
    assert seen["titles"] == [owner["title"]], word


SCREEN = """
var rows = document.querySelectorAll("article.paper"), H = innerHeight;
out.size = [innerWidth, innerHeight];
out.whole = Array.prototype.filter.call(rows, function (r) { return r.getBoundingClientRect().bottom <= H; }).length;
function lines(sel) {  // for each clamped cell: the lines it shows
  return Array.prototype.filter.call(document.querySelectorAll(sel), function (e) {
    return e.scrollHeight > e.clientHeight + 1; }).map(function (e) {
    return Math.round(e.clientHeight / parseFloat(getComputedStyle(e).lineHeight)); });
}
out.key = lines("article .key"); out.tldr = lines("article .tldr");
out.scores = Array.prototype.map.call(document.querySelectorAll("article .score"), function (e) {
  return e.textContent; });
out.votes = Array.prototype.map.call(rows, function (r) {  // the vote marks sit left of the row's text
  var body = r.querySelector(".body").getBoundingClientRect().left;
  return Array.prototype.every.call(r.querySelectorAll("[data-vote]"), function (b) {
    return b.getBoundingClientRect().right <= body && b.textContent.length <= 1 && /like this/.test(b.title); });
});
"""


@pytest.fixture(scope="module")
def ranked_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ranked")
    library = Path(__file__).parent / "fixtures" / "library" / "zotero.bib"
    invoke("run", str(SAMPLE), "--out", str(out), "--library", str(library), "--keywords", "diffusion")
    return out / "comparison.html"


def test_rows_read_at_a_glance_on_a_laptop_screen(page: Path, ranked_page: Path, tmp_path: Path) -> None:
    plain = _framed(page, tmp_path, SCREEN, 1366, 900)
    assert plain["size"] == [1366, 900]
    assert plain["whole"] >= 8, plain  # eight papers whole in the first screen, the header above them
    assert all(n >= 2 for n in plain["key"] + plain["tldr"]), plain  # a clamp never cuts below two lines
    assert all(plain["votes"]) and plain["scores"] == []
    ranked = _framed(ranked_page, tmp_path, SCREEN, 1366, 900)
    assert ranked["whole"] >= 6 and all(n >= 2 for n in ranked["key"]), ranked  # with a "Why" line each
    assert ranked["scores"] and all(re.fullmatch(r"\d{1,3}/100", s) for s in ranked["scores"]), ranked["scores"]


def test_rows_read_on_a_phone(page: Path, ranked_page: Path, tmp_path: Path) -> None:
    for shown in (page, ranked_page):
        phone = _framed(shown, tmp_path, SCREEN, 390, 844)
        assert phone["size"][1] == 844 and phone["size"][0] <= 390
        assert all(n >= 3 for n in phone["key"] + phone["tldr"]), phone  # three lines of each before a clamp
        assert phone["whole"] >= 3 and all(phone["votes"]), phone


def test_the_fold_opens_problem_method_results_abstract_and_the_reasons(ranked_page: Path, tmp_path: Path) -> None:
    seen = _act(
        ranked_page,
        tmp_path,
        """
        var row = document.querySelector("article.paper"), fold = row.querySelector("button.fold");
        out.before = row.querySelector(".fold-out").hidden;
        fold.click();
        out.after = row.querySelector(".fold-out").hidden;
        out.expanded = fold.getAttribute("aria-expanded");
        out.names = Array.prototype.map.call(row.querySelectorAll(".fold-out dt"), function (d) {
          return d.textContent; });
        out.why = row.querySelector(".fold-out dd").textContent;
        fold.click();
        out.closed = row.querySelector(".fold-out").hidden;
        """,
    )
    assert seen["before"] is True and seen["after"] is False and seen["expanded"] == "true" and seen["closed"]
    assert seen["names"] == ["Why", "Problem", "Method", "Results", "Abstract"]
    assert "keywords: diffusion" in seen["why"]


def test_numbers_are_marked_never_a_fragment_of_a_name_or_an_enumeration(tmp_path: Path) -> None:
    claim = (
        "(1) VAR-d30-2B and GPT-2 beat ResNet-50 by 3.2% with 1.5B parameters; (2) it is 20x faster, "
        "reaching 80.4 FID in 10-20 steps (Table 3)."
    )
    writer = TableWriter(tmp_path)
    writer.add(_record(1, [claim], ["FID"]))
    writer.close()
    seen = _act(
        tmp_path / "comparison.html",
        tmp_path,
        'out.marks = Array.prototype.map.call(document.querySelectorAll("article .key mark"), function (m) {'
        " return m.textContent; });",
    )
    assert seen["marks"] == ["3.2%", "1.5B", "20x", "80.4", "10", "20"]
