"""comparison.html in a real browser (Debian's headless Chromium): one row per paper, filtering, sorting."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import SAMPLE, invoke

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

# Appended to a copy of the page: acts as a user would (types a filter, clicks a header) after load.
ACT = """
<script>
window.addEventListener("load", function () {
  var box = document.getElementById("filter");
  box.value = "%s";
  box.dispatchEvent(new Event("input"));
  %s
});
</script>
"""

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


def _dom(page: Path, tmp_path: Path) -> str:
    result = subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    invoke("run", str(SAMPLE), "--out", str(out))
    return out / "comparison.html"


def _with(page: Path, tmp_path: Path, query: str, then: str = "") -> Path:
    copy = tmp_path / "page.html"
    copy.write_text(page.read_text().replace("</body>", ACT % (query, then) + "</body>"))
    return copy


def test_page_renders_one_row_per_paper(page: Path, tmp_path: Path) -> None:
    dom = _dom(page, tmp_path)
    assert len(re.findall(r"<tr data-id=", dom)) == 69
    assert '<span id="shown">69 papers</span>' in dom
    assert "https://github.com/deel-ai/Craft" in dom


def test_filter_hides_rows_that_do_not_match(page: Path, tmp_path: Path) -> None:
    dom = _dom(_with(page, tmp_path, "causal"), tmp_path)
    rows = re.findall(r'<tr data-id="[^"]+"( class="hidden")?>(.*?)</tr>', dom, re.S)
    visible = [body for hidden, body in rows if not hidden]
    assert 0 < len(visible) < 69
    assert all("causal" in re.sub(r"<[^>]+>", "", body).lower() for body in visible)
    assert f'<span id="shown">{len(visible)} of 69 papers</span>' in dom


def test_clicking_a_header_sorts_by_that_column(page: Path, tmp_path: Path) -> None:
    dom = _dom(_with(page, tmp_path, "", 'document.querySelector("th").click();'), tmp_path)
    cells = re.findall(r"<tr data-id=[^>]*><td>(.*?)</td>", dom, re.S)
    titles = [html.unescape(re.sub(r"<[^>]+>", "", t)) for t in cells]
    assert len(titles) == 69
    assert titles == sorted(titles, key=str.casefold)
    assert titles != [
        html.unescape(re.sub(r"<[^>]+>", "", t))
        for t in re.findall(r"<tr data-id=[^>]*><td>(.*?)</td>", _dom(page, tmp_path), re.S)
    ]  # the order really changed
    assert 'aria-sort="ascending"' in dom


def test_screenshot_is_produced(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1400,900",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
